"""Reading and writing CT volumes and the authors' PNG folder datasets.

The volume functions load SimpleITK when first used, so that importing the package (the
command line's parser does) stays cheap.
"""

from typing import TYPE_CHECKING, Any

from ipv2.io.atomic import atomic_output_dir, atomic_output_path, require_new_outputs
from ipv2.io.outputs import require_writable_output

if TYPE_CHECKING:  # what __getattr__ below hands out, for the type checker
    from ipv2.io.volumes import read_volume, write_labelmap, write_volume

__all__ = [
    "atomic_output_path",
    "atomic_output_dir",
    "require_new_outputs",
    "require_writable_output",
    "read_volume",
    "write_labelmap",
    "write_volume",
]
_VOLUME_FUNCTIONS = ("read_volume", "write_labelmap", "write_volume")


def __getattr__(name: str) -> Any:
    if name in _VOLUME_FUNCTIONS:
        from ipv2.io import volumes

        return getattr(volumes, name)
    raise AttributeError(f"module 'ipv2.io' has no attribute '{name}'")
