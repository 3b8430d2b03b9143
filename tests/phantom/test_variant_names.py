"""Every acquisition `ipv2 phantom --variant` offers (the contract's PHANTOM_VARIANTS) has its
settings, in the same order, and resolves to an acquisition and options."""

from ipv2.contract import PHANTOM_VARIANTS
from ipv2.phantom import ACQUISITION_VARIANTS, phantom_variant


def test_each_variant_the_contract_names_has_settings_that_resolve():
    assert tuple(ACQUISITION_VARIANTS) == PHANTOM_VARIANTS
    for name in PHANTOM_VARIANTS:
        acquisition, options = phantom_variant(name, seed=3)
        assert options.seed == 3, name
