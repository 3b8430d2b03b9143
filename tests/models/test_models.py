import pytest
import torch

from ipv2.errors import InputError
from ipv2.models import DEFAULT_MODEL, MODEL_REGISTRY, build_model, count_parameters, gflops_per_slice

# Narrow versions keep the forward passes fast; the structure is the registered one.
SMALL_ARGS = {
    "unet": {"widths": [4, 8, 16]},
    "redcnn": {"width": 8},
    "dncnn": {"depth": 5, "width": 8},
    "restormer": {"width": 8, "blocks": [1, 1, 1], "heads": [1, 2, 4], "refinement_blocks": 1},
}


def test_every_registered_model_has_small_test_arguments():
    assert set(SMALL_ARGS) == set(MODEL_REGISTRY)


@pytest.mark.parametrize("name", sorted(MODEL_REGISTRY))
@pytest.mark.parametrize("height,width", [(32, 32), (37, 45)])
def test_forward_keeps_the_slice_shape(name, height, width):
    model = build_model(name, **SMALL_ARGS[name]).eval()
    with torch.no_grad():
        out = model(torch.rand(2, 1, height, width))
    assert out.shape == (2, 1, height, width)
    assert torch.isfinite(out).all()


@pytest.mark.parametrize("name", sorted(MODEL_REGISTRY))
def test_context_slices_give_one_output_channel(name):
    model = build_model(name, in_channels=3, **SMALL_ARGS[name]).eval()
    with torch.no_grad():
        out = model(torch.rand(1, 3, 40, 40))
    assert out.shape == (1, 1, 40, 40)


@pytest.mark.parametrize("name", sorted(MODEL_REGISTRY))
def test_output_is_the_input_plus_a_learned_correction(name):
    model = build_model(name, in_channels=3, **SMALL_ARGS[name]).eval()
    for parameter in model.parameters():
        torch.nn.init.zeros_(parameter)
    x = torch.rand(1, 3, 32, 32)
    with torch.no_grad():
        out = model(x)
    # With every weight zero only the shortcut remains: the centre slice itself.
    torch.testing.assert_close(out, x[:, 1:2])


def test_unknown_model_names_the_choices():
    with pytest.raises(InputError, match="unknown.*unet"):
        build_model("resnet9000")


def test_bad_architecture_arguments_are_an_input_error():
    with pytest.raises(InputError, match="bad arguments"):
        build_model("unet", depth_of_field=3)


def test_default_model_is_cheap_enough_for_a_cpu():
    default = build_model(DEFAULT_MODEL)
    # The CPU target (0.2 s per 512x512 slice on two cores) needs roughly 10 GFLOPs per slice.
    assert gflops_per_slice(default) < 15
    assert all(
        gflops_per_slice(default) < gflops_per_slice(build_model(name))
        for name in MODEL_REGISTRY
        if name != DEFAULT_MODEL
    )


def test_gflops_scale_with_slice_area():
    model = build_model("dncnn", **SMALL_ARGS["dncnn"])
    assert gflops_per_slice(model, size=256) * 4 == pytest.approx(gflops_per_slice(model, size=512), rel=1e-6)


def test_parameter_counts_grow_with_width():
    assert count_parameters(build_model("redcnn", width=16)) > count_parameters(build_model("redcnn", width=8))


def test_redcnn_features_reach_its_last_layer_at_the_input_scale():
    # Ten plain ReLU layers: with PyTorch's default initialisation the features entering the
    # zero-initialised last layer shrink to a few percent of the input's spread and training
    # stalls at the identity; He initialisation keeps them near the input's scale.
    from ipv2.models.redcnn import REDCNN

    torch.manual_seed(0)
    net = REDCNN(width=24)
    patches = torch.rand(2, 1, 48, 48)
    seen = {}

    def keep_input(module, inputs, output):
        seen["features"] = inputs[0].detach()

    handle = net.decoder[4].register_forward_hook(keep_input)
    with torch.no_grad():
        net(patches)
    handle.remove()
    spread = seen["features"].std(dim=(2, 3)).mean() / patches.std()
    assert float(spread) > 0.3
