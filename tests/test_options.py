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
    """Settings and the table stay in step: each ``group.field`` an option fills exists,
    and each field a user can set has an option (the rest are derived by the run)."""
    from fixer.settings import Settings

    defaults = Settings()
    fields = {
        f"{group.name}.{f.name}"
        for group in dataclasses.fields(Settings)
        for f in dataclasses.fields(getattr(defaults, group.name))
    }
    derived = {"selection.config_root", "fixes.side_files"}
    filled = {o.setting for o in OPTIONS if o.setting is not None}
    assert filled == fields - derived


def test_settings_groups_and_closed_sets() -> None:
    from fixer.settings import PinPolicy, Profile, Settings

    settings = Settings.of({"pinning.offline": True}, profile="strict", pin="all", uid=2000)
    assert settings.kubernetes.profile is Profile.STRICT
    assert settings.pinning.pin is PinPolicy.ALL and settings.pinning.offline
    assert settings.user.uid == 2000 and settings.user.gid == 10001
    assert settings.value("secrets.secrets_dir") is None
    with pytest.raises(TypeError, match="no field"):
        Settings.of(nope=1)


def test_config_values_become_the_settings_enums(tmp_path: Path) -> None:
    from fixer.settings import PinPolicy, Profile

    config = tmp_path / ".tighten.toml"
    config.write_text('profile = "baseline"\npin = "all"\nlock-file = "x.lock"\n')
    loaded = load_config(config)
    assert loaded["kubernetes.profile"] is Profile.BASELINE
    assert loaded["pinning.pin"] is PinPolicy.ALL
    assert loaded["pinning.lock_file"] == tmp_path / "x.lock"


def test_a_typed_flag_wins_over_the_file_and_a_default_does_not(tmp_path: Path) -> None:
    (tmp_path / ".tighten.toml").write_text('profile = "baseline"\n')
    manifest = tmp_path / "pod.yaml"
    manifest.write_text(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n"
        "  - name: c\n    image: nginx@sha256:" + "a" * 64 + "\n"
    )

    def findings(*flags: str) -> str:
        return subprocess.run(
            [sys.executable, "-m", "fixer", "check", "--select", "K8S002", *flags, "pod.yaml"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
        ).stdout

    baseline, restricted = findings(), findings("--profile", "restricted")
    assert "allowPrivilegeEscalation" not in baseline
    assert "allowPrivilegeEscalation" in restricted


def test_unknown_config_key_suggests_from_the_table(tmp_path: Path) -> None:
    config = tmp_path / ".tighten.toml"
    config.write_text("inspect_layers = true\n")
    with pytest.raises(ConfigError, match="did you mean 'inspect-layers'"):
        load_config(config)
