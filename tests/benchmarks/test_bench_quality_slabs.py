"""bench_quality's slabs: each picked slice between its own neighbours, and a model that
reads neighbours denoises each slab as its own volume."""

import numpy as np
import pytest

from ipv2.denoise.classical import denoise_volume_classical
from ipv2.denoise.inference import denoise_volume
from ipv2.io import write_volume
from ipv2.models.checkpoint import model_record, save_checkpoint
from ipv2.volume import Volume
from tests.support.benchmarks import load_benchmark
from tests.support.tiny_models import TINY_UNET_ARGS, tiny_unet

GRID = (0.7, 0.7, 1.25)


@pytest.fixture(scope="module")
def bench():
    yield from load_benchmark("bench_quality")


def test_slabs_hold_each_picked_slice_between_its_neighbours(bench):
    indices = bench.slab_indices(np.array([0, 5, 9]), 1, 10)
    np.testing.assert_array_equal(indices, [0, 0, 1, 4, 5, 6, 8, 9, 9])
    np.testing.assert_array_equal(indices[1::3], [0, 5, 9])  # the centres, every third from the first
    np.testing.assert_array_equal(bench.slab_indices(np.array([2, 7]), 0, 10), [2, 7])


def test_the_context_is_the_widest_any_model_reads(bench):
    assert bench.widest_context(["bm3d", "nlm"]) == 0


def _context_checkpoint(folder):
    loaded = tiny_unet(context_slices=1)
    record = model_record("unet", TINY_UNET_ARGS, loaded.normalization, 1)
    return str(save_checkpoint(folder / "context.safetensors", loaded.model.state_dict(), record))


def _slabs(count, depth, seed):
    # Water in air: a CT image the denoisers accept.
    images = np.random.default_rng(seed).normal(0.0, 40.0, (count * depth, 32, 32)).astype(np.float32)
    images[:, :, :6] = -1000.0
    return images


def test_a_model_reading_neighbours_denoises_each_slab_as_its_own_volume(bench, tmp_path):
    checkpoint = _context_checkpoint(tmp_path)
    assert bench.widest_context([f"{checkpoint}@low", "bm3d"]) == 1
    slabs = _slabs(2, 3, seed=1)
    result, seconds = bench.run_method(f"{checkpoint}@medium", slabs, GRID, slab_depth=3)
    assert seconds > 0
    for start in (0, 3):
        alone = denoise_volume(Volume(slabs[start : start + 3], spacing=GRID), model=checkpoint, device="cpu")
        np.testing.assert_allclose(result[start : start + 3], alone.array, atol=1e-3)
    # As one volume, the first slab's last slice would read the second slab's first.
    together, _ = bench.run_method(f"{checkpoint}@medium", slabs, GRID)
    assert not np.allclose(together[2], result[2], atol=1e-3)


def test_a_method_reading_no_neighbours_denoises_all_slabs_at_once(bench):
    # Non-local means measures one noise level over its input: over all the slabs, as before.
    slabs = _slabs(2, 3, seed=2)
    slabs[3:, :, 6:] *= 3.0
    result, _ = bench.run_method("nlm", slabs, GRID, slab_depth=3)
    whole = denoise_volume_classical(Volume(slabs, spacing=GRID), "nlm").array
    np.testing.assert_array_equal(result, whole)


def test_chest_cases_score_the_centres_of_slabs_with_their_own_neighbours(bench, tmp_path):
    array = np.full((12, 24, 24), 40.0, dtype=np.float32)
    array[[0, 11], 4:20, 4:20] = -850.0  # lungs in the first and last slices only
    array[:, 0, 0] = np.arange(12)
    write_volume(Volume(array, spacing=GRID), tmp_path / f"{bench.VALIDATION_VOLUME}.nrrd")
    *_, full_dose = bench.chest_cases(tmp_path, 2, context=1)
    assert full_dose.name == "chest_full_dose" and full_dose.slab_depth == 3
    np.testing.assert_array_equal(full_dose.reference[:, 0, 0], [0, 0, 1, 10, 11, 11])
    np.testing.assert_array_equal(full_dose.reference[full_dose.centres, 0, 0], [0, 11])
