"""Both projectors against scikit-image's radon and iradon (Hann) on small images."""

import warnings

import numpy as np
import pytest
import torch
from skimage.transform import iradon, radon
from skimage.transform.radon_transform import _get_fourier_filter

from ipv2.simulate.direct_projector import DirectProjector
from ipv2.simulate.filtering import filter_projections
from ipv2.simulate.geometry import ParallelBeamGeometry, hann_ramp_filter, next_fast_length
from ipv2.simulate.nufft_projector import NufftProjector


def phantom(size: int, seed: int = 0, fill_corners: bool = False) -> np.ndarray:
    """Ellipses with sharp edges plus texture, zero outside the inscribed circle unless asked."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size] - size // 2
    image = (((yy / (0.32 * size)) ** 2 + (xx / (0.42 * size)) ** 2) <= 1) * 1.0
    image += (((yy - 0.1 * size) ** 2 + (xx + 0.12 * size) ** 2) < (0.08 * size) ** 2) * 0.6
    image -= (((yy + 0.05 * size) ** 2 + (xx - 0.15 * size) ** 2) < (0.1 * size) ** 2) * 0.7
    image += rng.random((size, size)) * 0.2 * (image > 0)
    if not fill_corners:
        image[yy**2 + xx**2 > (size // 2) ** 2] = 0.0
    return image


def relative_l2(ours, reference, mask=None):
    if mask is not None:
        ours, reference = ours[mask], reference[mask]
    return float(np.linalg.norm(ours - reference) / np.linalg.norm(reference))


def degrees(geometry):
    return np.rad2deg(geometry.angles_rad)


def as_batch(image):
    return torch.tensor(np.asarray(image)[None], dtype=torch.float32)


@pytest.mark.parametrize("size", [64, 63])
@pytest.mark.parametrize("circle", [True, False])
def test_direct_projector_is_skimage(size, circle):
    image = phantom(size)
    geometry = ParallelBeamGeometry.like_authors(size, circle=circle)
    reference = radon(image, degrees(geometry), circle=circle)
    projector = DirectProjector(geometry)
    sinogram = projector.forward(as_batch(image))[0].numpy().T
    assert sinogram.shape == reference.shape
    assert relative_l2(sinogram, reference) < 1e-5

    reconstruction = iradon(reference, degrees(geometry), output_size=size, filter_name="hann", circle=circle)
    ours = projector.fbp(as_batch(reference.T))[0].numpy()
    assert relative_l2(ours, reference=reconstruction) < 1e-5


@pytest.mark.parametrize("size", [64, 63])
@pytest.mark.parametrize("circle", [True, False])
def test_nufft_projector_matches_skimage(size, circle):
    image = phantom(size, seed=1)
    geometry = ParallelBeamGeometry.like_authors(size, circle=circle)
    projector = NufftProjector(geometry)
    reference = radon(image, degrees(geometry), circle=circle)
    sinogram = projector.forward(as_batch(image))[0].numpy().T
    assert relative_l2(sinogram, reference) < 0.01
    # The image is zero outside the inscribed circle: the shorter sampling gives the same.
    short = projector.forward(as_batch(image), zero_outside_circle=True)[0].numpy().T
    assert relative_l2(short, sinogram) < 1e-3

    reconstruction = iradon(reference, degrees(geometry), output_size=size, filter_name="hann", circle=circle)
    ours = projector.fbp(as_batch(reference.T))[0].numpy()
    assert relative_l2(ours, reconstruction, ~geometry.outside_circle if circle else None) < 0.01
    if circle:
        assert not ours[geometry.outside_circle].any()


def test_more_frequency_bands_bring_the_nufft_closer_to_skimage():
    geometry = ParallelBeamGeometry.like_authors(64)
    image = phantom(64, seed=2)
    sinogram = radon(image, degrees(geometry), circle=True)
    reconstruction = iradon(sinogram, degrees(geometry), filter_name="hann", circle=True)
    errors = {}
    for bands in (1, 3):
        ours = NufftProjector(geometry, bands=bands).fbp(as_batch(sinogram.T))[0].numpy()
        errors[bands] = relative_l2(ours, reconstruction, ~geometry.outside_circle)
    assert errors[3] < 0.5 * errors[1]
    assert errors[3] < 2e-3


def test_nufft_projector_handles_a_batch_like_single_slices():
    geometry = ParallelBeamGeometry.like_authors(48)
    images = np.stack([phantom(48, seed=s) for s in range(3)])
    projector = NufftProjector(geometry)
    together = projector.forward(torch.tensor(images, dtype=torch.float32)).numpy()
    alone = np.stack([projector.forward(as_batch(image))[0].numpy() for image in images])
    np.testing.assert_allclose(together, alone, atol=1e-4 * np.abs(alone).max())
    back_together = projector.fbp(torch.tensor(together)).numpy()
    back_alone = np.stack([projector.fbp(torch.tensor(s[None]))[0].numpy() for s in together])
    np.testing.assert_allclose(back_together, back_alone, atol=1e-4 * np.abs(back_alone).max())


def test_image_outside_the_circle_changes_only_projections_through_the_corners():
    """scikit-image drops corner pixels at some angles; ours keeps them: documented difference."""
    size = 64
    geometry = ParallelBeamGeometry.like_authors(size)
    image = phantom(size, fill_corners=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        reference = radon(image, degrees(geometry), circle=True)
    ours = NufftProjector(geometry).forward(as_batch(image))[0].numpy().T
    central = slice(size // 2 - 8, size // 2 + 8)
    assert relative_l2(ours[central], reference[central]) < 0.01


def test_hann_ramp_filter_is_skimage_filter():
    for length in (64, 256, 2048):
        full = _get_fourier_filter(length, "hann")[:, 0]
        projections = np.random.default_rng(length).random((length, 3))
        expected = np.real(np.fft.ifft(np.fft.fft(projections, axis=0) * full[:, None], axis=0))
        ours = np.fft.irfft(np.fft.rfft(projections, axis=0) * hann_ramp_filter(length)[:, None], n=length, axis=0)
        np.testing.assert_allclose(ours, expected, atol=1e-12)


@pytest.mark.parametrize("size, circle", [(40, True), (41, True), (64, False)])
def test_filtered_window_is_skimage_padding_and_filter(size, circle):
    geometry = ParallelBeamGeometry.like_authors(size, circle=circle)
    sinogram = np.random.default_rng(3).random((geometry.n_angles, geometry.detector_count))
    window = filter_projections(torch.tensor(sinogram[None], dtype=torch.float64), geometry)[0].numpy()
    assert window.shape == (geometry.n_angles, 2 * geometry.window_radius + 1)
    # iradon's steps: pad centred to the diagonal, then with zeros to the filter length, filter.
    padded = np.zeros((geometry.filter_length, geometry.n_angles))
    before = geometry.filter_input_centre - geometry.detector_centre
    padded[before : before + geometry.detector_count] = sinogram.T
    full = _get_fourier_filter(geometry.filter_length, "hann")
    expected = np.real(np.fft.ifft(np.fft.fft(padded, axis=0) * full, axis=0))[: geometry.filter_input_count].T
    first, last = geometry.readable_range
    ours = window[:, first + geometry.window_radius : last + geometry.window_radius + 1]
    theirs = expected[:, first + geometry.filter_input_centre : last + geometry.filter_input_centre + 1]
    np.testing.assert_allclose(ours, theirs, atol=1e-10)
    assert not window[:, : first + geometry.window_radius].any()
    assert not window[:, last + geometry.window_radius + 1 :].any()


def test_fast_lengths_have_small_factors_only():
    for n in (1, 7, 97, 513, 1093):
        m = next_fast_length(n)
        assert m >= n
        k = m
        for p in (2, 3, 5):
            while k % p == 0:
                k //= p
        assert k == 1
