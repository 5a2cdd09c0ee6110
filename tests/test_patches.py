"""Patches that apply: masked dry-run diffs say so, ``--unmasked-diff`` prints the real
patch (never onto a terminal), and every printed diff is parsed back with unidiff."""

from __future__ import annotations

import io
import os
import pty
import select
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from fixer.mode import Mode
from fixer.output import diff as diffs
from fixer.output.diff import MASKED_HEADER, PatchError, checked_diff, patched
from fixer.session import Session
from fixer.settings import Settings
from tests.helpers import RULES

# Fake values, shaped like real ones so the detectors find them.
TOKEN = "ghp_abcdefghijklmnopqrstuvwxyz0123456789"
PASSWORD = "s3cr3t-Value-42xyz"
DIGEST = "sha256:" + "a" * 64
DOCKERFILE = f"FROM alpine:3.19@{DIGEST}\nENV API_TOKEN={TOKEN}\nRUN echo hi\nUSER 10001\n"
POD = f"""apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
    - name: web
      image: nginx:1.25@{DIGEST}
      env:
        - name: DB_PASSWORD
          value: "{PASSWORD}"
"""


def tighten(*args: str, cwd: Path, stdout: int | None = None) -> tuple[int, str, str]:
    """Run the CLI; (exit code, stdout, stderr). ``stdout`` may be a file descriptor."""
    out = subprocess.run(
        [sys.executable, "-m", "fixer", *args],
        cwd=cwd,
        stdout=stdout if stdout is not None else subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
        check=False,
        timeout=120,
    )
    return out.returncode, out.stdout or "", out.stderr


def git(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    """A git repository with a secret in a Dockerfile and in a manifest, committed."""
    root = tmp_path / "repo"
    root.mkdir()
    (root / "Dockerfile").write_text(DOCKERFILE)
    (root / "pod.yaml").write_text(POD)
    assert git("init", "-q", cwd=root).returncode == 0
    git("add", "-A", cwd=root)
    committed = git("-c", "user.email=t@e", "-c", "user.name=t", "commit", "-qm", "init", cwd=root)
    assert committed.returncode == 0, committed.stderr
    return root


def tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(root).parts and p.suffix != ".patch"
    }


@pytest.mark.slow
def test_masked_patch_says_it_will_not_apply(repo: Path) -> None:
    # --unsafe-fixes: no manifest runs the Dockerfile's image, so its ENV move is withheld.
    code, out, err = tighten("fix", "--dry-run", "--offline", "--unsafe-fixes", ".", cwd=repo)
    assert code == 1, err
    assert TOKEN not in out + err and PASSWORD not in out + err
    # Each masked diff (the two sources and the two generated Secrets) comes after the header.
    assert out.count(MASKED_HEADER) == 4
    assert f"{MASKED_HEADER}diff --git a/Dockerfile b/Dockerfile\n" in out
    assert "\ndiff --git a/.gitignore b/.gitignore\n" in out  # no value in it: no header
    assert "--unmasked-diff" in MASKED_HEADER
    (repo / "p.patch").write_text(out)
    check = git("apply", "--check", "p.patch", cwd=repo)
    assert check.returncode != 0
    assert "patch does not apply" in check.stderr


@pytest.mark.slow
def test_unmasked_patch_applies_and_gives_the_fix(repo: Path, tmp_path: Path) -> None:
    fixed = tmp_path / "copy" / repo.name  # the same folder name: the same Secret names
    shutil.copytree(repo, fixed)
    code, _, err = tighten("fix", "--offline", "--unsafe-fixes", ".", cwd=fixed)
    assert code in (0, 1), err

    with (repo / "p.patch").open("w") as patch:  # `> p.patch`
        code, _, err = tighten(
            "fix",
            "--dry-run",
            "--unmasked-diff",
            "--offline",
            "--unsafe-fixes",
            ".",
            cwd=repo,
            stdout=patch.fileno(),
        )
    assert code == 1, err
    text = (repo / "p.patch").read_text()
    assert TOKEN in text and PASSWORD in text  # the real patch: that is what it is for
    assert "# tighten:" not in text and "***" not in text
    assert TOKEN not in err and PASSWORD not in err
    applied = git("apply", "p.patch", cwd=repo)
    assert applied.returncode == 0, applied.stderr
    assert tree(repo) == tree(fixed)
    assert tree(repo)["Dockerfile"] != DOCKERFILE.encode()


@pytest.mark.slow
def test_unmasked_diff_is_refused_on_a_terminal(repo: Path) -> None:
    master, slave = pty.openpty()
    try:
        code, _, err = tighten(
            "fix", "--dry-run", "--unmasked-diff", "--offline", ".", cwd=repo, stdout=slave
        )
        os.close(slave)
        shown = b""
        while select.select([master], [], [], 0.2)[0]:  # bounded: the child has exited
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the slave side is closed and drained
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(master)
    assert code == 2
    assert shown == b""  # nothing at all on the terminal, secret or not
    assert err.count("\n") == 1 and "--unmasked-diff" in err and "redirect" in err
    assert TOKEN not in err and PASSWORD not in err
    assert (repo / "Dockerfile").read_text() == DOCKERFILE


@pytest.mark.slow
def test_unmasked_diff_needs_dry_run(repo: Path) -> None:
    code, out, err = tighten("fix", "--unmasked-diff", "--offline", ".", cwd=repo)
    assert (code, out) == (2, "")
    assert "--dry-run" in err and err.count("\n") == 1
    assert (repo / "Dockerfile").read_text() == DOCKERFILE
    code, _, err = tighten(
        "fix", "--dry-run", "--unmasked-diff", "--format", "json", "--offline", ".", cwd=repo
    )
    assert code == 2 and "--format json" in err


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("a\nb\nc\n", "a\nB\nc\n"),
        ("a\nb", "a\nb\nc"),  # no final newline, before and after
        ("a\nb\nc", "a\nb\nc\n"),
        ("x\r\ny\r\n", "x\r\nz\r\n"),  # CRLF kept in the lines
        (None, "a new\nfile"),
        ("-- a\n++ b\n@@ x\ndiff --git a b\n", "++ b\n"),  # lines that look like headers
        ("a\rb\n", "a\rc\n"),  # a lone CR is not a line break for git
        ("".join(f"{i}\n" for i in range(50)), "".join(f"{i}\n" for i in range(50) if i % 7)),
    ],
)
def test_checked_diff_reproduces_the_fixed_text(old: str | None, new: str) -> None:
    text = checked_diff('we"ird name/Dockerfile', old, new)
    assert text.startswith("diff --git ")
    assert patched(text, old or "") == new


def test_a_diff_that_does_not_match_is_refused() -> None:
    good = checked_diff("Dockerfile", "a\nb\nc\n", "a\nB\nc\n")
    with pytest.raises(PatchError, match="does not match"):
        patched(good.replace("-b\n", "-x\n"), "a\nb\nc\n")
    with pytest.raises(PatchError, match="unidiff cannot read"):
        patched(good.replace("+B\n", ""), "a\nb\nc\n")  # a hunk shorter than its header
    assert not diffs.same_shape(good.replace("+B\n", "+B\n+C\n"), good)


def test_a_diff_that_does_not_reproduce_the_fix_is_an_error_and_not_printed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug in the diff writer (injected here: it writes another USER than the fix) is caught by
    the unidiff check: exit 2, one error line for the file, none of its diff printed."""
    (tmp_path / "Dockerfile").write_text(DOCKERFILE)
    (tmp_path / "other.Dockerfile").write_text('FROM alpine:3.19\nRUN true\nCMD ["true"]\n')
    real = diffs.unified_diff

    def broken(path: str, old: str | None, new: str, *, context: int = 3) -> str:
        text = real(path, old, new, context=context)
        return (
            text.replace("+USER 10001:10001", "+USER 0:0")
            if path.endswith("other.Dockerfile")
            else text
        )

    monkeypatch.setattr(diffs, "unified_diff", broken)
    out, err = io.StringIO(), io.StringIO()
    settings = Settings.of(select=["DF001"], offline=True)
    code = Session(settings, Mode.DRY_RUN, out=out, err=err, rules=RULES).execute([str(tmp_path)])
    assert code == 2
    errors = [line for line in err.getvalue().splitlines() if "internal error" in line]
    assert len(errors) == 1 and "other.Dockerfile" in errors[0], err.getvalue()
    assert "other.Dockerfile" not in out.getvalue()
    assert (
        tmp_path / "other.Dockerfile"
    ).read_text() == 'FROM alpine:3.19\nRUN true\nCMD ["true"]\n'


def test_a_masked_diff_keeps_its_shape_and_gets_the_header() -> None:
    from fixer.output.held import masked_diffs

    text = checked_diff("pod.yaml", f"a: {PASSWORD}\nb: 1\n", "a: ref\nb: 1\n")
    [shown] = masked_diffs([text], {PASSWORD})
    assert isinstance(shown, str) and shown.startswith(MASKED_HEADER)
    assert PASSWORD not in shown and diffs.same_shape(shown.removeprefix(MASKED_HEADER), text)
    [plain] = masked_diffs([text], {PASSWORD}, unmasked=True)
    assert plain == text
