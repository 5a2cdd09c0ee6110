"""Configuration files: discovery, validation, precedence of flags, per-file ignores."""

from __future__ import annotations

from pathlib import Path

import pytest

from fixer.config import ConfigError, find_config, load_config
from tests.test_cli import ROOT_DOCKERFILE, tighten


def test_pyproject_table_and_dotfile(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.tighten]\nprofile = "strict"\nuid = 2000\n'
    )
    sub = tmp_path / "svc" / "k8s"
    sub.mkdir(parents=True)
    assert find_config(sub) == tmp_path / "pyproject.toml"
    assert load_config(tmp_path / "pyproject.toml") == {
        "kubernetes.profile": "strict",
        "user.uid": 2000,
    }
    (tmp_path / "svc" / ".tighten.toml").write_text('select = ["DF"]\nsecrets-dir = "secrets"\n')
    assert find_config(sub) == tmp_path / "svc" / ".tighten.toml"
    loaded = load_config(tmp_path / "svc" / ".tighten.toml")
    assert loaded == {
        "selection.select": frozenset({"DF"}),
        "secrets.secrets_dir": tmp_path / "svc" / "secrets",
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("selct = ['DF001']\n", "unknown key 'selct' (did you mean 'select'?)"),
        (
            "profile = 'paranoid'\n",
            "bad value for 'profile': expected one of baseline, restricted, strict",
        ),
        ("uid = 0\n", "bad value for 'uid'"),
        ("secret-patterns = ['(']\n", "invalid regular expression"),
        (
            "[registry-mirrors]\n'docker.io' = 'mirror.local'\n",
            "must start with http:// or https://",
        ),
        ("select = [\n", "invalid TOML"),
    ],
)
def test_bad_config_is_a_clear_error(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / ".tighten.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=r"tighten\.toml") as info:
        load_config(path)
    assert message in str(info.value)


def test_bad_config_exits_2_naming_file_and_key(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(ROOT_DOCKERFILE)
    (tmp_path / "pyproject.toml").write_text("[tool.tighten]\nignor = ['DF001']\n")
    out = tighten("check", ".", cwd=tmp_path)
    assert out.returncode == 2
    assert "pyproject.toml: unknown key 'tool.tighten.ignor' (did you mean 'ignore'?)" in out.stderr
    assert "Traceback" not in out.stderr


def test_flags_win_over_the_file(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(ROOT_DOCKERFILE)
    (tmp_path / ".tighten.toml").write_text("ignore = ['DF001']\nuid = 4242\ngid = 4343\n")
    assert tighten("check", ".", cwd=tmp_path).returncode == 0
    out = tighten("fix", "--dry-run", "--select", "DF001", ".", cwd=tmp_path)
    assert "+USER 4242:4343" in out.stdout
    out = tighten("fix", "--dry-run", "--select", "DF001", "--uid", "5000", ".", cwd=tmp_path)
    assert "+USER 5000:4343" in out.stdout


def test_per_file_ignores_and_explicit_config(tmp_path: Path) -> None:
    for name in ("Dockerfile", "legacy/Dockerfile"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(ROOT_DOCKERFILE)
    conf = tmp_path / "conf.toml"
    conf.write_text('[per-file-ignores]\n"legacy/*" = ["DF001"]\n')
    out = tighten("check", "--config", str(conf), ".", cwd=tmp_path)
    assert out.stdout.splitlines() == [
        "Dockerfile:1: DF001 final stage runs as root (no USER instruction)"
    ]


def test_exclude_from_config(tmp_path: Path) -> None:
    (tmp_path / "fixtures").mkdir()
    (tmp_path / "fixtures" / "Dockerfile").write_text(ROOT_DOCKERFILE)
    (tmp_path / ".tighten.toml").write_text("exclude = ['fixtures']\n")
    assert tighten("check", ".", cwd=tmp_path).returncode == 0
