"""Inputs for `ipv2 purify`: a volume pair or a PNG dataset of chest-like slices, and the command itself."""

import numpy as np

from ipv2.cli.main import main
from ipv2.io import write_volume
from ipv2.io.png_dataset import write_png_slice
from ipv2.testing import chest_like
from ipv2.volume import Volume

SPACING = (0.7, 0.7, 2.5)


def write_pair(folder, lq_array=None, gt_array=None, lq_spacing=SPACING, gt_spacing=SPACING):
    shape = (4, 64, 64)
    if lq_array is None:
        lq_array = chest_like(shape, seed=1) + np.random.default_rng(2).normal(0, 60, shape).astype(np.float32)
    if gt_array is None:
        gt_array = chest_like(shape, seed=3)
    lq_path, gt_path = folder / "uldct.nrrd", folder / "ndct.nrrd"
    write_volume(Volume(np.asarray(lq_array, np.float32), spacing=lq_spacing), lq_path)
    write_volume(Volume(np.asarray(gt_array, np.float32), spacing=gt_spacing), gt_path)
    return lq_path, gt_path


def purify(*args):
    return main(["purify", *map(str, args), "--progress", "none"])


def to_u8(hu):
    return np.clip((hu + 1200.0) / 1400.0 * 255.0, 0, 255).astype(np.uint8)


def write_png_dataset(root, names=("a.png", "b.png", "c.png"), gt_names=None):
    lq = to_u8(chest_like((len(names), 64, 64), seed=1) + np.random.default_rng(4).normal(0, 60, (len(names), 64, 64)))
    gt = to_u8(chest_like((len(names), 64, 64), seed=3))
    for index, name in enumerate(names):
        write_png_slice(lq[index], root / "lq" / name)
    for index, name in enumerate(gt_names or names):
        write_png_slice(gt[index], root / "gt" / name)
    return lq, gt
