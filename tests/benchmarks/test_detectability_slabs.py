"""The low-contrast benchmark gives a 2.5D model each realisation inside its own slab of
independently noisy neighbours, and keeps only the slab's centre."""

import numpy as np
import pytest

from ipv2.denoise.inference import denoise_volume
from ipv2.models.checkpoint import model_record, save_checkpoint
from ipv2.volume import Volume
from tests.support.benchmarks import load_benchmark
from tests.support.tiny_models import TINY_UNET_ARGS, tiny_unet

PIXEL_MM = 0.7


@pytest.fixture(scope="module")
def bench():
    yield from load_benchmark("bench_detectability")


def _realisations(count, seed):
    # Water in air, as the phantom's slice: a CT image the denoiser accepts.
    images = np.random.default_rng(seed).normal(0.0, 40.0, (count, 32, 32)).astype(np.float32)
    images[:, :, :6] = -1000.0
    return images


def test_slabs_put_each_realisation_between_its_own_neighbours(bench):
    stack = np.arange(3, dtype=np.float32)[:, None, None] * np.ones((3, 2, 2), np.float32)
    far_before, before, after, far_after = (stack + offset for offset in (-20, -10, 10, 20))
    slabs = bench.as_slabs(stack, [far_before, before, after, far_after], context=1)
    np.testing.assert_array_equal(slabs[:, 0, 0], [-10, 0, 10, -9, 1, 11, -8, 2, 12])
    np.testing.assert_array_equal(bench.as_slabs(stack, [], context=0), stack)
    with pytest.raises(ValueError, match="1 neighbouring realisations"):
        bench.as_slabs(stack, [before], context=1)


def test_a_context_model_reads_the_slab_and_a_flat_model_the_slice(bench, tmp_path):
    loaded = tiny_unet(context_slices=1)
    record = model_record("unet", TINY_UNET_ARGS, loaded.normalization, 1)
    checkpoint = str(save_checkpoint(tmp_path / "context.safetensors", loaded.model.state_dict(), record))
    stack, before, after = (_realisations(3, seed) for seed in (1, 2, 3))
    result = bench._denoise_stack(stack, f"{checkpoint}@medium", PIXEL_MM, [before, after])
    spacing = (PIXEL_MM, PIXEL_MM, 1.0)
    for index in range(3):
        slab = Volume(np.stack([before[index], stack[index], after[index]]), spacing=spacing)
        expected = denoise_volume(slab, model=checkpoint, device="cpu", strength="medium").array[1]
        np.testing.assert_allclose(result[index], expected, atol=1e-3)
    other = bench._denoise_stack(stack, f"{checkpoint}@medium", PIXEL_MM, [after, before])
    assert not np.allclose(other, result, atol=1e-3)  # the neighbours are read, in their order
    assert bench.widest_context([f"{checkpoint}@low", "bm3d"]) == 1
