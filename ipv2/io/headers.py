"""A volume file's header checked against its data before any voxel is allocated.

A header is a claim: `sizes: 2048 2048 512` in 136 bytes would have the reader allocate
gigabytes before finding the data missing. Here the claimed payload,

    needed = voxels * components * bytes per component,

is compared with what the file can hold:

- uncompressed data (NRRD `encoding: raw`, MHA/MHD `CompressedData = False`, `.nii`): the
  bytes after the header (or in the detached data file) must be at least `needed`;
- text encodings (NRRD ascii, hex): at least one byte per value, two for hex;
- gzip (NRRD gzip, `.nii.gz`, compressed MHA, all deflate streams): deflate compresses at most
  DEFLATE_MAX_RATIO to 1, so `needed` may not exceed that many times the stored bytes;
- and compressed data, or a layout this check does not parse, may claim at most
  MAX_COMPRESSED_VOXELS voxels.

The check only refuses a file that provably cannot hold its claim (or exceeds the cap); the
reader still finds subtler damage.
"""

from __future__ import annotations

import math
import os
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import SimpleITK as sitk

from ipv2.errors import InputError
from ipv2.io.special_files import require_regular_file

# 2^30 voxels: four 1000-slice 512x512 scans, 4 GiB as float32. Larger compressed volumes
# are refused rather than trusted.
MAX_COMPRESSED_VOXELS = 1 << 30
# The best case of deflate: a run of one byte value stored at about 1032 bytes per byte.
DEFLATE_MAX_RATIO = 1032
HEADER_READ_LIMIT = 1 << 16


@dataclass(frozen=True)
class Payload:
    """How a file stores its voxels: `encoding` "raw", "text", "hex", "gzip" or "other", and
    the bytes available to it (None when unknown)."""

    encoding: str
    available: int | None


def _header_text(path: Path) -> tuple[str, int]:
    """The header lines up to the first empty line, and the header's length in bytes."""
    with open(path, "rb") as handle:
        head = handle.read(HEADER_READ_LIMIT)
    end = head.find(b"\n\n")
    if end < 0:
        return head.decode("latin-1"), len(head)
    return head[:end].decode("latin-1"), end + 2


def _fields(text: str, separator: str) -> dict[str, str]:
    fields = {}
    for line in text.splitlines():
        key, sep, value = line.partition(separator)
        if sep and not line.startswith("#"):
            fields[key.strip().lower()] = value.strip()
    return fields


def _size_of(path: Path) -> int | None:
    try:
        return os.path.getsize(path)
    except OSError:
        return None


def _detached(path: Path, name: str) -> int | None:
    """The size of a single detached data file, or None for a list or a file name pattern."""
    if not name or " " in name or "%" in name or name.upper() in ("LIST", "LOCAL"):
        return None
    data = Path(name) if os.path.isabs(name) else path.parent / name
    if data.exists():
        require_regular_file(data, what=f"{path}: its data file ")
    return _size_of(data)


def _nrrd_payload(path: Path) -> Payload:
    text, header_bytes = _header_text(path)
    fields = _fields(text, ":")
    encoding = fields.get("encoding", "raw").lower()
    kind = {
        "raw": "raw",
        "txt": "text",
        "text": "text",
        "ascii": "text",
        "hex": "hex",
        "gz": "gzip",
        "gzip": "gzip",
    }.get(encoding, "other")
    data_file = fields.get("data file", fields.get("datafile"))
    if data_file is not None:
        return Payload(kind, _detached(path, data_file))
    return Payload(kind, os.path.getsize(path) - header_bytes)


def _meta_payload(path: Path) -> Payload:
    with open(path, "rb") as handle:
        head = handle.read(HEADER_READ_LIMIT)
    # ElementDataFile is the header's last field; LOCAL data starts on the next line.
    field = head.find(b"ElementDataFile")
    line_end = head.find(b"\n", field) if field >= 0 else -1
    fields = _fields(head[: line_end if line_end >= 0 else len(head)].decode("latin-1"), "=")
    kind = "gzip" if fields.get("compresseddata", "false").lower() == "true" else "raw"
    data_file = fields.get("elementdatafile", "")
    if data_file.upper() == "LOCAL":
        return Payload(kind, os.path.getsize(path) - (line_end + 1) if line_end >= 0 else None)
    return Payload(kind, _detached(path, data_file))


def _nifti_payload(path: Path) -> Payload:
    """Raw NIfTI: the voxels start at vox_offset (float32 at byte 108 in NIfTI-1, int64 at 168 in NIfTI-2)."""
    with open(path, "rb") as handle:
        head = handle.read(176)
    for order in "<>":
        if len(head) >= 4 and struct.unpack(order + "i", head[:4])[0] == 348 and len(head) >= 112:
            offset = struct.unpack(order + "f", head[108:112])[0]
            break
        if len(head) >= 176 and struct.unpack(order + "i", head[:4])[0] == 540:
            offset = struct.unpack(order + "q", head[168:176])[0]
            break
    else:
        return Payload("raw", None)
    if not (math.isfinite(offset) and offset >= 0):
        return Payload("raw", None)
    return Payload("raw", max(0, os.path.getsize(path) - int(offset)))


def payload_of(path: Path) -> Payload:
    name = path.name.lower()
    if name.endswith((".nrrd", ".nhdr")):
        return _nrrd_payload(path)
    if name.endswith((".mha", ".mhd")):
        return _meta_payload(path)
    if name.endswith(".nii"):
        return _nifti_payload(path)
    if name.endswith(".nii.gz"):
        return Payload("gzip", os.path.getsize(path))
    return Payload("other", None)


def require_regular_files(path: Path) -> None:
    """Refuses, before any reader opens them, a volume file, or the detached data file its
    header names, that is not a regular file: the reader would block on a named pipe for good."""
    require_regular_file(path)
    payload_of(path)  # parses the header alone; `_detached` refuses a data file of another kind


def _bytes_per_voxel(reader: sitk.ImageFileReader) -> int:
    probe = sitk.Image([1] * reader.GetDimension(), reader.GetPixelID(), reader.GetNumberOfComponents())
    return int(probe.GetSizeOfPixelComponent() * reader.GetNumberOfComponents())


def _describe(size: Sequence[int]) -> str:
    return "x".join(str(s) for s in size)


def require_plausible_header(path: Path, reader: sitk.ImageFileReader) -> None:
    """Refuses a file whose header (already read by `reader.ReadImageInformation()`) claims
    more voxels than the file can hold; see the module docstring."""
    size = reader.GetSize()
    voxels = math.prod(size)
    needed = voxels * _bytes_per_voxel(reader)
    payload = payload_of(path)
    claim = f"its header claims {_describe(size)} voxels ({needed:,} bytes)"
    if payload.available is not None:
        least = {"raw": needed, "text": voxels, "hex": 2 * needed}.get(payload.encoding)
        if least is not None and payload.available < least:
            raise InputError(
                f"{path}: {claim} but the file holds {payload.available:,} bytes of data; "
                "it is truncated or its header is wrong"
            )
        if payload.encoding == "gzip" and needed > payload.available * DEFLATE_MAX_RATIO:
            raise InputError(
                f"{path}: {claim}, more than {payload.available:,} compressed bytes can hold; "
                "it is truncated or its header is wrong"
            )
    checked = payload.encoding in ("raw", "text", "hex") and payload.available is not None
    if not checked and voxels > MAX_COMPRESSED_VOXELS:
        raise InputError(
            f"{path}: {claim}; compressed volumes of more than {MAX_COMPRESSED_VOXELS:,} voxels "
            "are refused; store it uncompressed"
        )
