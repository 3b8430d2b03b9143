"""The device names a user may give: those of `ipv2.contract.DEVICES`, or cuda:N for one GPU.

Torch-free, so that the command line's parser and the options' checks can use it without
importing torch; `ipv2.device` turns a name into a torch device.
"""

from ipv2.contract import DEVICES
from ipv2.errors import require_choice

ONE_GPU = "cuda:N"  # what DEVICES does not list: one GPU of several, by its index


def is_device_name(name: str) -> bool:
    name = str(name).strip().lower()
    return name in DEVICES or (name.startswith("cuda:") and name[5:].isdigit())


def require_device_name(name: str, what: str = "device") -> str:
    """`name` in lower case when it is a device name; otherwise the one refusal of a choice."""
    text = str(name).strip().lower()
    if is_device_name(text):
        return text
    return require_choice(text, DEVICES, what, shown=name, besides=ONE_GPU)
