"""One check and one message for every choice a user makes among names."""

import pytest

from ipv2.errors import InputError, require_choice


def test_a_valid_choice_comes_back():
    assert require_choice("nlm", ("nlm", "tv"), "weak denoiser") == "nlm"


def test_an_unknown_choice_names_what_was_given_and_the_choices():
    with pytest.raises(InputError, match=r"^weak denoiser 'NLX' is unknown; choose one of nlm, tv$"):
        require_choice("nlx", ("nlm", "tv"), "weak denoiser", shown="NLX")


def test_what_else_the_caller_accepts_is_named_after_the_choices():
    with pytest.raises(InputError, match=r"^device 'gpu' is unknown; choose one of auto, cpu, cuda or cuda:N$"):
        require_choice("gpu", ("auto", "cpu", "cuda"), "device", besides="cuda:N")


@pytest.mark.parametrize(
    "call, message",
    [
        ("ipv2.models.registry:model_spec:'resnet'", "model 'resnet' is unknown; choose one of unet"),
        ("ipv2.simulate.kernels:require_kernel:'bone'", "reconstruction kernel 'bone' is unknown"),
        ("ipv2.weak.denoisers:require_weak_denoiser:'Median'", "weak denoiser 'Median' is unknown"),
        ("ipv2.denoise.classical:require_classical_denoiser:'Wiener'", "classical denoiser 'Wiener' is unknown"),
        ("ipv2.phantom.variants:acquisition_variant:'huge'", "acquisition variant 'huge' is unknown"),
        (
            "ipv2.device_names:require_device_name:'gpu'",
            "device 'gpu' is unknown; choose one of auto, cpu, cuda or cuda:N",
        ),
        (
            "ipv2.denoise.strength:dose_multiple:'strong'",
            "strength 'strong' is unknown; choose one of low, medium, high or",
        ),
    ],
)
def test_the_backend_checks_use_it(call, message):
    import importlib

    module, function, argument = call.split(":")
    with pytest.raises(InputError, match=message):
        getattr(importlib.import_module(module), function)(argument.strip("'"))
