"""What a person at a terminal sees, what editors and pipes get (stdin mode)."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_cli import PRIVILEGED_POD, ROOT_DOCKERFILE

pytestmark = pytest.mark.slow  # a CLI process per case: deselected by `-m "not slow"`


def run(
    *args: str, cwd: Path, stdin: bytes | None = None, **env: str
) -> subprocess.CompletedProcess[bytes]:
    clean = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    return subprocess.run(
        [sys.executable, "-m", "fixer", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        env={**clean, **env},
        check=False,
    )


def test_stdin_fix_writes_the_fixed_text_to_stdout(tmp_path: Path) -> None:
    out = run(
        "fix",
        "-",
        "--stdin-filename",
        "k8s/deploy.yaml",
        "--select",
        "K8S001",
        cwd=tmp_path,
        stdin=PRIVILEGED_POD.encode(),
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.decode() == PRIVILEGED_POD.replace("privileged: true", "privileged: false")
    assert b"k8s/deploy.yaml:10: K8S001" in out.stderr
    assert not (tmp_path / "k8s").exists()


def test_stdin_keeps_bytes_and_reports_with_the_given_name(tmp_path: Path) -> None:
    data = b'\xef\xbb\xbfFROM alpine:3.20\r\nCMD ["/app/server"]'
    out = run(
        "fix", "-", "--stdin-filename", "Dockerfile", "--select", "DF001", cwd=tmp_path, stdin=data
    )
    assert out.stdout.startswith(b"\xef\xbb\xbfFROM alpine:3.20\r\nRUN addgroup")
    assert out.stdout.endswith(b'USER 10001:10001\r\nCMD ["/app/server"]')
    check = run(
        "check",
        "-",
        "--stdin-filename",
        "Dockerfile",
        "--select",
        "DF001",
        cwd=tmp_path,
        stdin=data,
    )
    assert check.returncode == 1
    assert check.stdout.decode().startswith("Dockerfile:1: DF001")
    diff = run(
        "fix",
        "--dry-run",
        "-",
        "--stdin-filename",
        "app/Dockerfile",
        "--select",
        "DF001",
        cwd=tmp_path,
        stdin=data,
    )
    assert diff.stdout.startswith(b"diff --git a/app/Dockerfile b/app/Dockerfile")


def test_stdin_never_moves_secrets_it_cannot_store(tmp_path: Path) -> None:
    text = b"FROM scratch\nENV DB_PASSWORD=correct-horse-battery\nUSER 1000\n"
    out = run(
        "fix", "-", "--stdin-filename", "Dockerfile", "--select", "DF004", cwd=tmp_path, stdin=text
    )
    assert out.stdout == text
    assert b"correct-horse-battery" not in out.stderr
    assert b"not applied from stdin" in out.stderr
    assert list(tmp_path.iterdir()) == []


def test_stdin_bad_bytes_is_an_error(tmp_path: Path) -> None:
    out = run("check", "-", "--stdin-filename", "Dockerfile", cwd=tmp_path, stdin=b"FROM \xff\n")
    assert out.returncode == 2
    assert b"error: Dockerfile: not UTF-8" in out.stderr


def test_piped_output_is_plain_and_terminal_output_is_grouped_in_colour(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(ROOT_DOCKERFILE)
    plain = run("check", "--select", "DF001", ".", cwd=tmp_path)
    assert b"\033[" not in plain.stdout + plain.stderr
    assert plain.stdout.startswith(b"Dockerfile:1: DF001")
    colour = run("check", "--select", "DF001", ".", cwd=tmp_path, FORCE_COLOR="1")
    assert colour.stdout.startswith(b"\033[1;4mDockerfile\033[0m\n")
    assert b"DF001" in colour.stdout and b"[fixable]" in colour.stdout
    off = run("check", "--select", "DF001", ".", cwd=tmp_path, FORCE_COLOR="1", NO_COLOR="1")
    assert b"\033[" not in off.stdout


def test_diff_is_coloured_only_for_a_terminal(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(ROOT_DOCKERFILE)
    colour = run("fix", "--dry-run", "--select", "DF001", ".", cwd=tmp_path, FORCE_COLOR="1")
    assert b"\033[32m+USER 10001:10001\033[0m" in colour.stdout
    plain = run("fix", "--dry-run", "--select", "DF001", ".", cwd=tmp_path)
    assert b"\n+USER 10001:10001\n" in plain.stdout


def test_progress_bar_on_a_terminal_only(tmp_path: Path) -> None:
    for i in range(60):
        (tmp_path / f"Dockerfile.{i}").write_text(ROOT_DOCKERFILE)
    primary, secondary = pty.openpty()
    proc = subprocess.run(
        [sys.executable, "-m", "fixer", "check", "--select", "DF001", "."],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=secondary,
        check=False,
    )
    os.close(secondary)
    seen = b""
    while True:
        try:
            chunk = os.read(primary, 65536)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    os.close(primary)
    assert proc.returncode == 1
    assert b"] 60/60 files" in seen
    piped = run("check", "--select", "DF001", ".", cwd=tmp_path)
    assert b"files\r" not in piped.stderr and b"/60 files" not in piped.stderr
    quiet = run("check", "-q", "--select", "DF001", ".", cwd=tmp_path)
    assert quiet.stderr == b""
