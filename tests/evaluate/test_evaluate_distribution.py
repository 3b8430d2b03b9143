import numpy as np
import pytest
import torch

from ipv2.evaluate.distribution import fid_available, window_slices

needs_extra = pytest.mark.skipif(not fid_available(), reason="optional extra 'fid' not installed")


def test_slices_are_windowed_into_three_grey_channels():
    volume = np.array([[[-1350.0, -600.0], [150.0, 1000.0]]] * 2)
    images = window_slices(volume)
    assert images.shape == (2, 3, 2, 2)
    np.testing.assert_allclose(images[0, 1].numpy(), [[0.0, 0.5], [1.0, 1.0]])


@needs_extra
def test_inception_features_load_offline_from_the_wheel():
    from ipv2.evaluate.distribution import InceptionFeatures

    with torch.inference_mode():
        features = InceptionFeatures()(torch.rand(2, 3, 64, 64))
    assert features.shape == (2, 2048) and torch.isfinite(features).all()


def _frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    # Exact for fewer samples than features: the nonzero eigenvalues of S_a S_b are the
    # squared singular values of the small matrix A B^T built from centred samples.
    ca, cb = a - a.mean(0), b - b.mean(0)
    cross = ca @ cb.T / np.sqrt((len(a) - 1) * (len(b) - 1))
    trace_sqrt = np.linalg.svd(cross, compute_uv=False).sum()
    return float(
        ((a.mean(0) - b.mean(0)) ** 2).sum()
        + (ca**2).sum() / (len(a) - 1)
        + (cb**2).sum() / (len(b) - 1)
        - 2 * trace_sqrt
    )


@needs_extra
@pytest.mark.slow
def test_fid_matches_the_frechet_formula_and_kid_separates_noisy_from_clean():
    from ipv2.evaluate.distribution import InceptionFeatures, distribution_metrics, distribution_report

    rng = np.random.default_rng(0)
    clean = np.full((4, 48, 48), -850.0) + rng.normal(0, 5, (4, 48, 48))
    clean[:, 10:38, 20:28] = 40.0
    noisy = clean + rng.normal(0, 300, clean.shape)
    report = distribution_report(noisy, {"clean": clean, "itself": noisy}, device="cpu")
    network = InceptionFeatures()
    with torch.inference_mode():
        a = network(window_slices(clean)).double().numpy()
        b = network(window_slices(noisy)).double().numpy()
    assert report["clean"]["fid"] == pytest.approx(_frechet_distance(b, a), rel=1e-3)
    assert report["clean"]["fid"] > 1.0
    assert abs(report["itself"]["fid"]) < 1e-2 * report["clean"]["fid"]
    assert report["clean"]["kid_mean"] > report["itself"]["kid_mean"]
    # Seeded KID subsets: the same call gives the same figure.
    assert distribution_metrics(noisy, clean, device="cpu")["kid_mean"] == report["clean"]["kid_mean"]
