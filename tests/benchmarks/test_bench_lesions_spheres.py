"""bench_lesions draws lesions as spheres through a slab: its centre slice is the disc a
one-slice drawing gives, its neighbours the sphere's smaller sections. Its slabs are the
picked slices' own neighbours, and a model that reads neighbours denoises each slab alone."""

import numpy as np
import pytest

from ipv2.denoise.inference import denoise_volume
from ipv2.io import write_volume
from ipv2.models.checkpoint import model_record, save_checkpoint
from ipv2.volume import Volume
from tests.support.benchmarks import load_benchmark
from tests.support.tiny_models import TINY_UNET_ARGS, tiny_unet

PIXEL_MM = 0.7


@pytest.fixture(scope="module")
def bench():
    yield from load_benchmark("bench_lesions")


def test_a_sphere_through_the_slab_keeps_the_centre_disc_and_shrinks_away_from_it(bench):
    nodule = next(lesion for lesion in bench.LESIONS if lesion.name == "ggo_8mm")
    flat = bench.lesion_image((1, 40, 40), [(nodule, 0, 20, 20)], PIXEL_MM)
    slab = bench.lesion_image((5, 40, 40), [(nodule, 2, 20, 20)], PIXEL_MM, slice_mm=1.25, context=2)
    np.testing.assert_allclose(slab[2], flat[0], atol=1e-4)
    sums = slab.sum(axis=(1, 2))
    assert sums[0] == pytest.approx(sums[4]) and sums[1] == pytest.approx(sums[3])
    assert sums[2] > sums[1] > sums[0] > 0
    # 4 mm radius, 2.5 mm away: a section of radius sqrt(16 - 6.25) mm, area ratio 9.75 / 16.
    assert sums[0] / sums[2] == pytest.approx(9.75 / 16, rel=0.05)
    # A 3 mm nodule does not reach a slice 2.5 mm away.
    solid = next(lesion for lesion in bench.LESIONS if lesion.name == "solid_3mm")
    small = bench.lesion_image((5, 40, 40), [(solid, 2, 20, 20)], PIXEL_MM, slice_mm=1.25, context=2)
    assert small[0].sum() == 0 and small[1].sum() > 0


def test_sites_are_drawn_in_the_given_slices_only(bench):
    hu = np.full((6, 120, 120), 40.0, dtype=np.float32)  # soft tissue everywhere
    sites = bench.lesion_sites(hu, PIXEL_MM, np.random.default_rng(0), slices=np.array([1, 4]))
    assert sites and {z for _, z, _, _ in sites} <= {1, 4}


def test_a_flat_lesion_holds_its_disc_area_times_its_contrast(bench):
    # The blur moves the lesion's HU but keeps their sum: contrast x the disc's area in pixels.
    nodule = next(lesion for lesion in bench.LESIONS if lesion.name == "soft_10mm")
    flat = bench.lesion_image((1, 60, 60), [(nodule, 0, 30, 30)], PIXEL_MM)
    disc_px = np.pi * (nodule.diameter_mm / 2 / PIXEL_MM) ** 2
    assert flat.sum() == pytest.approx(nodule.contrast_hu * disc_px, rel=0.01)


def _marked_chest(folder, name, depth=12, lung_slices=(0, 11)):
    """A volume whose slice z holds z HU in one corner, and lungs only in `lung_slices`."""
    array = np.full((depth, 24, 24), 40.0, dtype=np.float32)
    array[list(lung_slices), 4:20, 4:20] = -850.0
    array[:, 0, 0] = np.arange(depth)
    write_volume(Volume(array, spacing=(PIXEL_MM, PIXEL_MM, 1.25)), folder / f"{name}.nrrd")
    return folder


def test_chest_slices_come_in_slabs_clipped_at_the_volume_ends(bench, tmp_path):
    realct = _marked_chest(tmp_path, bench.VALIDATION_VOLUME)
    hu, pixel_mm, slice_mm, centres = bench.chest_slices(realct, 2, context=1)
    np.testing.assert_array_equal(hu[:, 0, 0], [0, 0, 1, 10, 11, 11])
    np.testing.assert_array_equal(hu[centres, 0, 0], [0, 11])
    assert pixel_mm == pytest.approx(PIXEL_MM) and slice_mm == pytest.approx(1.25)
    flat, *_, flat_centres = bench.chest_slices(realct, 2)
    np.testing.assert_array_equal(flat[:, 0, 0], [0, 11])
    np.testing.assert_array_equal(flat_centres, [0, 1])


def _slabs(count, depth, seed):
    # Water in air: a CT image the denoiser accepts.
    images = np.random.default_rng(seed).normal(0.0, 40.0, (count * depth, 32, 32)).astype(np.float32)
    images[:, :, :6] = -1000.0
    return images


def test_a_model_reading_neighbours_denoises_each_slab_alone(bench, tmp_path):
    loaded = tiny_unet(context_slices=1)
    record = model_record("unet", TINY_UNET_ARGS, loaded.normalization, 1)
    checkpoint = str(save_checkpoint(tmp_path / "context.safetensors", loaded.model.state_dict(), record))
    grid = (PIXEL_MM, PIXEL_MM, 1.25)
    slabs = _slabs(2, 3, seed=1)
    result = bench._denoise(f"{checkpoint}@medium", slabs, grid, slab_depth=3)
    for start in (0, 3):
        alone = denoise_volume(Volume(slabs[start : start + 3], spacing=grid), model=checkpoint, device="cpu")
        np.testing.assert_allclose(result[start : start + 3], alone.array, atol=1e-3)
    # Together, the first slab's last slice would read the second slab's first.
    together = bench._denoise(f"{checkpoint}@medium", slabs, grid)
    assert not np.allclose(together[2], result[2], atol=1e-3)
    np.testing.assert_array_equal(bench._denoise("input", slabs, grid, slab_depth=3), slabs)
