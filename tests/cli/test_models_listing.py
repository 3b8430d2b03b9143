"""`ipv2 models` lists what `ipv2 denoise --model` takes: each name of the contract, with the
implementation its table holds for it (a network's registry entry, a classical method's spec)."""

import json

from ipv2.cli.main import main
from ipv2.contract import CLASSICAL_DENOISERS, DEFAULT_MODEL, DENOISERS, NETWORKS
from ipv2.models.registry import MODEL_REGISTRY


def test_every_denoiser_the_contract_names_is_listed_in_its_order(capsys):
    assert main(["models", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["models"]
    assert [row["name"] for row in rows] == list(DENOISERS)
    assert [row["name"] for row in rows if row["kind"] == "network"] == list(NETWORKS)
    assert [row["name"] for row in rows if row["kind"] == "classical"] == list(CLASSICAL_DENOISERS)
    assert [row["name"] for row in rows if row["default"]] == [DEFAULT_MODEL]


def test_the_registry_builds_the_contracts_networks_and_no_other():
    assert tuple(MODEL_REGISTRY) == NETWORKS
    assert NETWORKS[0] == DEFAULT_MODEL  # the panels list the default first
