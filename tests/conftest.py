import pytest

from ipv2.testing import chest_like
from ipv2.volume import Volume


@pytest.fixture
def ct_volume() -> Volume:
    return Volume(chest_like(), spacing=(0.7, 0.7, 2.5), origin=(-20.0, 10.0, 5.0),
                  direction=(1, 0, 0, 0, -1, 0, 0, 0, 1))
