import numpy as np
import pytest
from scipy import ndimage
from skimage.metrics import structural_similarity

from ipv2.errors import InputError
from ipv2.evaluate import windowed_ssim


def _slices(seed=0, shape=(3, 48, 48)):
    """Lung-like texture (-850 HU) with a bone-bright square and soft tissue on the right."""
    rng = np.random.default_rng(seed)
    image = -850.0 + 80.0 * ndimage.gaussian_filter(rng.normal(0, 1, shape), sigma=(0, 1, 1))
    image[:, :, 30:] = 40.0 + 15.0 * ndimage.gaussian_filter(rng.normal(0, 1, (shape[0], shape[1], 18)), (0, 1, 1))
    image[:, 5:15, 35:45] = 700.0
    return image


def test_identical_images_score_one_and_a_blurred_one_less():
    image = _slices()
    lung = np.zeros(image.shape, dtype=bool)
    lung[:, :, :28] = True
    assert windowed_ssim(image, image, lung, "lung") == pytest.approx(1.0)
    assert windowed_ssim(image, image, ~lung, "soft") == pytest.approx(1.0)
    blurred = ndimage.gaussian_filter(image, sigma=(0, 1.5, 1.5))
    assert windowed_ssim(blurred, image, lung, "lung") < 0.9
    assert windowed_ssim(blurred, image, ~lung, "soft") < 0.9


def test_it_is_the_ssim_of_the_displayed_images_with_the_window_width_as_range():
    image = _slices()
    other = image + np.random.default_rng(1).normal(0, 30, image.shape)
    expected = []
    for z in range(image.shape[0]):
        # Grey levels as shown: 0 at the window's black end (-1350 HU), 1500 at its white end.
        _, full = structural_similarity(
            np.clip(other[z], -1350, 150) + 1350,
            np.clip(image[z], -1350, 150) + 1350,
            data_range=1500.0,
            full=True,
            gaussian_weights=True,
            sigma=1.5,
            use_sample_covariance=False,
        )
        expected.append(full)
    assert windowed_ssim(other, image, None, "lung") == pytest.approx(np.mean(expected), abs=1e-5)


def test_differences_outside_the_window_do_not_count():
    image = _slices()
    changed = image.copy()
    changed[:, 5:15, 35:45] = 1500.0  # bone brighter still: white in both windows
    assert windowed_ssim(changed, image, None, "lung") == pytest.approx(1.0)
    assert windowed_ssim(changed, image, None, "soft") == pytest.approx(1.0)
    # A 20 HU change of soft tissue shows in its window and hardly in the lung window.
    shifted = image.copy()
    shifted[:, 20:40, 30:] += 20.0 * np.random.default_rng(2).normal(0, 1, (3, 20, 18))
    assert windowed_ssim(shifted, image, None, "soft") < windowed_ssim(shifted, image, None, "lung")


def test_empty_region_gives_none_and_bad_arguments_are_refused():
    image = _slices()
    assert windowed_ssim(image, image, np.zeros(image.shape, dtype=bool), "lung") is None
    with pytest.raises(InputError, match="window"):
        windowed_ssim(image, image, None, "bone")
    with pytest.raises(InputError, match="shapes"):
        windowed_ssim(image[:, :-1], image, None, "lung")
    with pytest.raises(InputError, match="region"):
        windowed_ssim(image, image, np.ones((3, 48, 40), dtype=bool), "lung")
    with pytest.raises(InputError, match="NaN"):
        windowed_ssim(np.full(image.shape, np.nan), image, None, "lung")
    with pytest.raises(InputError, match="11x11"):
        windowed_ssim(image[:, :8, :8], image[:, :8, :8], None, "soft")
