"""Former name of `ipv2.input_checks`, still imported by `ipv2.phantom.pair`; import that instead."""

from ipv2.input_checks import require_dose  # noqa: F401
