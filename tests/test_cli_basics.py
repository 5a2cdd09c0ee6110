"""Command-line basics: -h, value names in help, --uid/--gid 0, stdin without a name."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.realparts import tighten

pytestmark = pytest.mark.slow  # a CLI process (or git, or a registry) per case

ROOT = Path(__file__).resolve().parent.parent
ROOT_DOCKERFILE = 'FROM debian:bookworm-slim\nCOPY app /app\nCMD ["/app"]\n'
PRIVILEGED_POD = """\
# a pod that wants the node
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
    - name: web
      image: nginx:1.27@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
      securityContext:
        privileged: true
"""


@pytest.mark.parametrize("command", [[], ["check"], ["fix"], ["pr"], ["rules"], ["explain"]])
def test_dash_h_is_help(tmp_path: Path, command: list[str]) -> None:
    short = tighten(*command, "-h", cwd=tmp_path)
    assert short.returncode == 0, short.stderr
    assert short.stdout.startswith("Usage:")
    assert short.stdout == tighten(*command, "--help", cwd=tmp_path).stdout
    assert "-h, --help" in short.stdout


@pytest.mark.parametrize("command", ["check", "fix", "pr"])
def test_help_shows_value_names_not_types(tmp_path: Path, command: str) -> None:
    out = tighten(command, "-h", cwd=tmp_path).stdout
    for typed in ("<list[", "<str>", "<int", "<path>", "<dir>", "<file>"):
        assert typed not in out, typed
    assert "--select RULES" in out and "--exclude GLOB" in out and "[PATH]..." in out
    assert "PATH: files or folders" in out
    if command != "check":
        assert "--uid UID" in out and "--registry-mirror SRC=URL" in out and "--jobs N" in out
    if command == "pr":
        assert "--label LABEL" in out and "--branch BRANCH" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["fix", "--uid", "0"], "'--uid': 0 is root"),
        (["fix", "--gid", "0"], "'--gid': 0 is the root group"),
        (["fix", "--dry-run", "--uid", "0"], "'--uid': 0 is root"),
        (["pr", "--dry-run", "--uid", "0"], "'--uid': 0 is root"),
        (["fix", "--uid", "-1"], "'--uid': -1 is out of range"),
    ],
)
def test_uid_or_gid_zero_is_rejected_at_once(tmp_path: Path, args: list[str], message: str) -> None:
    (tmp_path / "Dockerfile").write_text(ROOT_DOCKERFILE)
    out = tighten(*args, "--offline", "Dockerfile", cwd=tmp_path)
    assert out.returncode == 2
    assert message in out.stderr
    assert "non-root id from 1" in out.stderr
    assert "did not settle" not in out.stderr and out.stdout == ""
    assert (tmp_path / "Dockerfile").read_text() == ROOT_DOCKERFILE


def test_stdin_yaml_without_a_name_is_read_as_yaml(tmp_path: Path) -> None:
    out = tighten("check", "--select", "K8S001", "-", cwd=tmp_path, stdin=PRIVILEGED_POD)
    assert out.returncode == 1, out.stderr
    assert "stdin:11: K8S001" in out.stdout
    fixed = tighten("fix", "--select", "K8S001", "-", cwd=tmp_path, stdin=PRIVILEGED_POD)
    assert fixed.returncode == 0, fixed.stderr
    assert fixed.stdout == PRIVILEGED_POD.replace("privileged: true", "privileged: false")


def test_stdin_dockerfile_without_a_name_is_still_a_dockerfile(tmp_path: Path) -> None:
    text = "# syntax=docker/dockerfile:1\n\n" + ROOT_DOCKERFILE
    out = tighten("check", "--select", "DF001", "-", cwd=tmp_path, stdin=text)
    assert out.returncode == 1, out.stderr
    assert "stdin:3: DF001" in out.stdout


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("FROM alpine:3.20\n", "dockerfile"),
        ("# escape=`\n\narg VERSION=1\nFROM x:${VERSION}\n", "dockerfile"),
        ("RUN echo: hi\n", "dockerfile"),
        ("apiVersion: v1\nkind: Pod\n", "kubernetes"),
        ("# comment\n---\napiVersion: v1\n", "kubernetes"),
        ("%YAML 1.2\n---\nkind: Pod\n", "kubernetes"),
        ('{"apiVersion": "v1", "kind": "Pod"}\n', "kubernetes"),
        ("- apiVersion: v1\n", "kubernetes"),
        ("kind: Deployment\n", "kubernetes"),
        ("FROM: not a dockerfile\n", "kubernetes"),
        ("hello world\n", "dockerfile"),
        ("", "dockerfile"),
    ],
)
def test_kind_of_text(text: str, kind: str) -> None:
    from fixer.sniff import kind_of_text

    assert kind_of_text(text) == kind


def test_a_check_imports_no_validation_framework(tmp_path: Path) -> None:
    """typer 0.29 coerces every parameter through pydantic: about 0.1 s of every run's
    start-up. tighten stays on a typer that does not (pyproject.toml); a check that
    imports pydantic again fails here, whatever is installed."""
    import subprocess
    import sys

    (tmp_path / "Dockerfile").write_text(ROOT_DOCKERFILE)
    code = (
        "import sys\n"
        "sys.argv = ['tighten', 'check', '-q', '--no-cache', '--config', 'none.toml', '.']\n"
        "from fixer.entry import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pydantic', 'pydantic_core')))\n"
    )
    (tmp_path / "none.toml").write_text("")
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stdout + out.stderr
