"""Reading and writing CT volumes and the authors' PNG folder datasets."""

from ipv2.io.atomic import atomic_output_dir, atomic_output_path, require_new_outputs
from ipv2.io.outputs import require_writable_output
from ipv2.io.volumes import read_volume, write_labelmap, write_volume

__all__ = ["atomic_output_path", "atomic_output_dir", "require_new_outputs", "require_writable_output", "read_volume", "write_labelmap", "write_volume"]
