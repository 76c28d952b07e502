"""Presets ship in the package and load by name where a config path goes."""

from __future__ import annotations

import pytest

from antlm.config import ConfigError, load_config
from antlm.presets import find_preset, list_presets, preset_root
from antlm.sweep.spec import load_sweep
from tests.conftest import CONFIGS


def test_the_checkout_configs_are_the_packaged_presets() -> None:
    assert CONFIGS.resolve() == preset_root().resolve()
    assert set(list_presets()["runs"]) >= {"demo", "babyllama-antlm", "ltgbert-antlm"}


def test_a_run_preset_loads_by_name() -> None:
    by_name = load_config("demo", ["train.lr=1e-3"])
    by_path = load_config(CONFIGS / "runs" / "demo.yaml", ["train.lr=1e-3"])
    assert by_name == by_path
    assert find_preset("runs/demo.yaml") == find_preset("demo")


def test_a_sweep_preset_loads_by_name() -> None:
    assert load_sweep("smoke").name == load_sweep(CONFIGS / "sweeps" / "smoke.yaml").name


def test_an_unknown_name_says_where_to_look() -> None:
    with pytest.raises(ConfigError, match="antlm presets"):
        load_config("no-such-run")
