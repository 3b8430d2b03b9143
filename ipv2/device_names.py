"""The device names a user may give: those of `ipv2.contract.DEVICES`, or cuda:N for one GPU.

Torch-free, so that the command line's parser and the options' checks can use it without
importing torch; `ipv2.device` turns a name into a torch device.
"""

from ipv2.contract import DEVICES


def is_device_name(name: str) -> bool:
    name = str(name).strip().lower()
    return name in DEVICES or (name.startswith("cuda:") and name[5:].isdigit())
