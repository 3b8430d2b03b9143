"""IPv2: image purification for real-world ultra-low-dose lung CT.

The backend of the IPv2 Slicer extension. It imports nothing from Slicer or Qt, so the same
code runs inside Slicer, in Slicer's batch mode and from a plain command line.
"""

__version__ = "0.1.0"

from ipv2.errors import Cancelled, CheckpointError, InputError, IPv2Error
from ipv2.volume import Volume

__all__ = ["__version__", "Cancelled", "CheckpointError", "InputError", "IPv2Error", "Volume"]
