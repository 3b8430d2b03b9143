"""The authors' dataset layout: `lq/` and `gt/` folders of same-named 8-bit PNG slices."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Union

import numpy as np
from skimage import io as skio

from ipv2.errors import InputError
from ipv2.io.atomic import atomic_output_path

PathLike = Union[str, os.PathLike[str]]
PNG_SUFFIX = ".png"


@dataclass(frozen=True)
class PngPairDataset:
    root: Path
    names: list[str]

    @property
    def lq_dir(self) -> Path:
        return self.root / "lq"

    @property
    def gt_dir(self) -> Path:
        return self.root / "gt"

    def read_pair(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        return read_png_slice(self.lq_dir / name), read_png_slice(self.gt_dir / name)


def _png_names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.suffix.lower() == PNG_SUFFIX)


def _listing(names: Sequence[str], limit: int = 10) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def open_png_dataset(root: PathLike) -> PngPairDataset:
    """Checks the layout; every slice must exist under the same name in both folders."""
    root = Path(root)
    if not root.is_dir():
        raise InputError(f"{root}: no such dataset folder")
    missing = [sub for sub in ("lq", "gt") if not (root / sub).is_dir()]
    if missing:
        raise InputError(
            f"{root}: a PNG dataset needs folders lq/ and gt/; missing {', '.join(m + '/' for m in missing)}"
        )
    lq_names, gt_names = _png_names(root / "lq"), _png_names(root / "gt")
    only_lq = sorted(set(lq_names) - set(gt_names))
    only_gt = sorted(set(gt_names) - set(lq_names))
    if only_lq or only_gt:
        parts = []
        if only_lq:
            parts.append(f"in lq/ but not gt/: {_listing(only_lq)}")
        if only_gt:
            parts.append(f"in gt/ but not lq/: {_listing(only_gt)}")
        raise InputError(f"{root}: unmatched slice names, " + "; ".join(parts))
    if not lq_names:
        raise InputError(f"{root}: lq/ and gt/ hold no .png slices")
    return PngPairDataset(root=root, names=lq_names)


def _reason(error: Exception) -> str:
    """The last line of a reader's error, without the source path of the ITK build that
    SimpleITK puts before it."""
    lines = [line.strip() for line in str(error).strip().splitlines() if line.strip()]
    reason = lines[-1] if lines else type(error).__name__
    return reason.removeprefix("sitk::ERROR:").strip()


def read_png_slice(path: PathLike) -> np.ndarray:
    """An 8-bit grayscale slice; colour PNGs of gray content are reduced to one channel."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such PNG slice")
    try:
        image: np.ndarray = skio.imread(str(path))
    except Exception as error:  # imageio raises several types for broken files
        raise InputError(f"{path}: cannot be read as PNG ({_reason(error)})") from None
    if image.ndim == 3:
        if image.shape[2] == 4:
            image = image[..., :3]
        if not (np.array_equal(image[..., 0], image[..., 1]) and np.array_equal(image[..., 0], image[..., 2])):
            raise InputError(f"{path}: a colour image; CT slices are grayscale")
        image = image[..., 0]
    if image.ndim != 2:
        raise InputError(f"{path}: expected a 2D grayscale slice, got shape {image.shape}")
    if image.dtype != np.uint8:
        raise InputError(f"{path}: expected 8-bit pixels, got {image.dtype}")
    return image


def write_png_slice(image: np.ndarray, path: PathLike) -> Path:
    if image.dtype != np.uint8 or image.ndim != 2:
        raise ValueError(f"a PNG slice must be 2D uint8, got {image.dtype} {image.shape}")
    path = Path(path)
    with atomic_output_path(path) as tmp:
        skio.imsave(str(tmp), image, check_contrast=False)
    return path
