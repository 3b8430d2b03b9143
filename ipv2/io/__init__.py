"""Reading and writing CT volumes and the authors' PNG folder datasets."""

from ipv2.io.atomic import atomic_output_path, atomic_output_dir
from ipv2.io.volumes import read_volume, write_labelmap, write_volume

__all__ = ["atomic_output_path", "atomic_output_dir", "read_volume", "write_labelmap", "write_volume"]
