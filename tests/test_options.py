"""The options table: the flags, the config keys and the Settings fields come from it."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

from fixer.config import ConfigError, load_config
from fixer.options import OPTIONS, config_keys, for_command


@pytest.mark.parametrize("command", ["check", "fix", "pr"])
def test_help_lists_every_option_of_the_command(command: str) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "fixer", command, "-h"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for option in for_command(command):
        for flag in option.flags:
            assert flag in out, (command, flag)
        if option.metavar:
            assert f"{option.flags[0]} {option.metavar}" in out
    assert "<list" not in out and "<str>" not in out and "<path>" not in out.lower()


@pytest.mark.parametrize("key", sorted(config_keys()))
def test_every_config_key_rejects_a_bad_value_by_name(tmp_path: Path, key: str) -> None:
    config = tmp_path / ".tighten.toml"
    config.write_text(f"{key} = {{ x = 1 }}\n")
    with pytest.raises(ConfigError, match=f"bad value for '{key}'"):
        load_config(config)


def test_config_keys_are_kebab_case_and_fill_a_setting() -> None:
    for key, option in config_keys().items():
        assert key == key.lower() and "_" not in key
        assert option.setting is not None


def test_every_setting_is_filled_by_an_option() -> None:
    """Settings and the table stay in step: each setting an option fills exists, and each
    Settings field a user can set has an option (the rest are derived by the run)."""
    from fixer.settings import Settings

    derived = {"config_root", "side_files"}
    filled = {o.setting for o in OPTIONS if o.setting is not None}
    fields = {f.name for f in dataclasses.fields(Settings)} - derived
    assert filled == fields


def test_unknown_config_key_suggests_from_the_table(tmp_path: Path) -> None:
    config = tmp_path / ".tighten.toml"
    config.write_text("inspect_layers = true\n")
    with pytest.raises(ConfigError, match="did you mean 'inspect-layers'"):
        load_config(config)
