"""Durability: a secret value is never lost, whatever stops a run, and never shown.

``tighten fix`` moves literal secrets into generated Secret manifests. These tests stop a
run of 2,000 files at random points (SIGKILL, SIGINT, SIGTERM), close its stdout, fill its
disk and fail its Secret writes, and check after each: every value is still in some file of
the tree (the source it came from or a Secret), every file is whole (old or new), nothing
outside the tree changed, and the summary and exit code claim only what happened. Then
what ``--dry-run`` shows: no value any file of the run reveals, whatever the file order.
"""

from __future__ import annotations

import contextlib
import io
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from fixer.discover import discover
from fixer.mode import Mode
from fixer.runner import run
from fixer.session import Session
from fixer.settings import Settings
from fixer.sidefiles import SideFiles, mask_stored_values
from tests.helpers import RULES as RULE_SET
from tests.helpers import terminal_job

TIGHTEN = [sys.executable, "-m", "fixer"]
# --unsafe-fixes: no manifest runs the Dockerfiles' images, so their ENV moves are withheld
# by default; durability is about the moves that are made.
RULES = (
    "--select",
    "DF004,K8S001,K8S004,K8S005",
    "--offline",
    "--secrets-dir",
    "secrets",
    "--unsafe-fixes",
)
FILES = 2000
#: One file in ``SECRET_EVERY`` holds a secret (rendering a Secret is the costly part).
SECRET_EVERY = 10
#: Manifests that feed one shared Secret file (same name, in --secrets-dir).
GROUP = 4
SEED = 20240611

DOCKERFILE = "FROM alpine:3.19\nENV LANG=C.UTF-8 DB_PASSWORD={value}\nUSER 1000\n"
MANIFEST = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: web{n}
spec:
  template:
    spec:
      containers:
      - name: app
        image: example/app:1.0
        env:
        - name: API_TOKEN
          value: "{value}"
      volumes:
      - name: logs
        hostPath: {{path: /var/log}}
"""
PRIVILEGED = """apiVersion: v1
kind: Pod
metadata:
  name: p{n}
spec:
  containers:
  - name: a
    image: example/app:1.0
    securityContext:
      privileged: true
  volumes:
  - name: data
    hostPath: {{path: /srv/p{n}}}
"""
ALPHABET = "abcdefghkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


@dataclass(frozen=True)
class Tree:
    """``root/repo`` (a git work tree of sources) and ``root/sentinel`` beside it."""

    root: Path
    values: dict[str, str]  # source (relative to repo) -> the secret value it holds
    before: dict[str, bytes]  # source -> its bytes before any run

    @property
    def repo(self) -> Path:
        return self.root / "repo"


def build_tree(root: Path, files: int = FILES, seed: int = SEED) -> Tree:
    rng = random.Random(seed)
    repo = root / "repo"
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    values: dict[str, str] = {}
    before: dict[str, bytes] = {}
    for n in range(files):
        token = "".join(rng.choices(ALPHABET, k=16))
        m = n // SECRET_EVERY
        if n % SECRET_EVERY == 0 and m % 2 == 0:
            rel, value = f"svc/s{n:04d}/Dockerfile", f"pw-{token}"
            text = DOCKERFILE.format(value=value)
        elif n % SECRET_EVERY == 0:  # manifests named alike share one Secret file
            rel, value = f"k8s/team{m % GROUP}/deploy{m // GROUP:03d}.yaml", f"tok-{token}"
            text = MANIFEST.format(n=n, value=value)
        else:
            rel, value, text = f"pods/p{n:04d}.yaml", "", PRIVILEGED.format(n=n)
        path = repo / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        before[rel] = text.encode()
        if value:
            values[rel] = value
    sentinel = root / "sentinel"
    sentinel.mkdir()
    (sentinel / "Dockerfile").write_text(DOCKERFILE.format(value="pw-outside-the-tree"))
    (sentinel / "notes.txt").write_text("left alone\n")
    return Tree(root, values, before)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(folder).parts
    }


def tighten(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*TIGHTEN, *args], cwd=cwd, capture_output=True, text=True, timeout=300, check=False
    )


@dataclass(frozen=True)
class Pristine:
    tree: Tree
    after: dict[str, bytes]  # every file of the repo after a complete run
    seconds: float  # how long that run took


@pytest.fixture(scope="module")
def pristine() -> Iterator[Pristine]:
    """The 2,000-file tree, built once, and what one complete run makes of it. On tmpfs
    when there is one: killing a process does not drop the page cache, so the disk's
    fsync (6 ms here) would only slow the suite down, not test more."""
    base = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
    with tempfile.TemporaryDirectory(prefix="tighten-durable-", dir=base) as folder:
        tree = build_tree(Path(folder) / "pristine")
        done = Path(folder) / "done"
        shutil.copytree(tree.root, done, symlinks=True)
        start = time.monotonic()
        out = tighten("fix", "-q", *RULES, ".", cwd=done / "repo")
        seconds = time.monotonic() - start
        assert out.returncode == 1, out.stderr  # the hostPath volumes are not fixable
        after = snapshot(done / "repo")
        for rel, value in tree.values.items():
            assert value not in after[rel].decode(), rel
        shutil.rmtree(done)
        yield Pristine(tree, after, seconds)


@pytest.fixture
def fresh(pristine: Pristine) -> Iterator[Tree]:
    """A copy of the pristine tree to break."""
    base = pristine.tree.root.parent
    with tempfile.TemporaryDirectory(prefix="run-", dir=base) as folder:
        root = Path(folder) / "root"
        shutil.copytree(pristine.tree.root, root, symlinks=True)
        yield Tree(root, pristine.tree.values, pristine.tree.before)


def check_invariants(tree: Tree, pristine: Pristine, *, temp_files: bool = False) -> int:
    """Every value in some file of the tree, every file whole, nothing outside changed;
    returns how many sources were rewritten."""
    assert sorted(os.listdir(tree.root)) == ["repo", "sentinel"], "a file outside the tree"
    assert snapshot(tree.root / "sentinel") == snapshot(pristine.tree.root / "sentinel")
    now = snapshot(tree.repo)
    stray = [p for p in now if p not in pristine.after and p not in tree.before]
    # SIGKILL can leave a hidden temp file, named for its file: killed between writing it
    # and moving it over the file, which is then as it was (the checks below say so).
    left = {p for p in stray if temp_files and re.fullmatch(r"(.*/)?\.[^/]+\.[^/]+\.tighten", p)}
    stray = [p for p in stray if p not in left]
    assert stray == [], f"unexpected files: {stray[:5]}"
    torn = [p for p in tree.before if now[p] not in (tree.before[p], pristine.after[p])]
    assert torn == [], f"sources neither old nor new: {torn[:5]}"
    texts = {p: data.decode() for p, data in now.items()}
    for path, text in texts.items():
        if path.startswith("secrets/") and path not in left:  # a temp file may be cut short
            assert list(yaml.safe_load_all(text)), f"{path} is not whole"
    everything = "\n".join(texts.values())
    lost = [rel for rel, value in tree.values.items() if value not in everything]
    assert lost == [], f"{len(lost)} secret values lost, first from {lost[:3]}"
    return sum(now[p] != tree.before[p] for p in tree.before)


def fixed_files(stderr: str) -> int:
    match = re.search(r"fixed in (\d+) files?", stderr)
    assert match, stderr
    return int(match.group(1))


# --- interruptions at random points --------------------------------------------------------

#: Two kill points per signal, as fractions of a complete run's duration (seeded).
POINTS = random.Random(SEED).sample([i / 20 for i in range(4, 12)], 6)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("signum", "fraction"),
    [
        (signal.SIGKILL, POINTS[0]),
        (signal.SIGKILL, POINTS[1]),
        (signal.SIGINT, POINTS[2]),
        (signal.SIGINT, POINTS[3]),
        (signal.SIGTERM, POINTS[4]),
        (signal.SIGTERM, POINTS[5]),
    ],
    ids=lambda v: signal.Signals(v).name if isinstance(v, int) else f"at{v:.2f}",
)
def test_interrupted_run_keeps_every_value(
    fresh: Tree, pristine: Pristine, signum: int, fraction: float
) -> None:
    proc = subprocess.Popen(
        [*TIGHTEN, "fix", *RULES, "."],
        cwd=fresh.repo,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=terminal_job,
    )
    time.sleep(pristine.seconds * fraction)
    assert proc.poll() is None, "the run finished before it could be stopped"
    proc.send_signal(signum)
    try:
        _, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    changed = check_invariants(fresh, pristine, temp_files=signum == signal.SIGKILL)
    assert changed < len(fresh.before), "the run was not stopped midway"
    if signum == signal.SIGKILL:
        assert proc.returncode == -signal.SIGKILL
        return
    assert "Traceback" not in err, err
    if "interrupted by" not in err and proc.returncode in (-signum, 128 + signum):
        assert changed == 0, "stopped before the file loop, yet files changed"
        return  # the signal came while Python was starting, before any file was read
    assert proc.returncode == 128 + signum, err
    assert f"interrupted by {signal.Signals(signum).name}: stopped between two files" in err
    assert fixed_files(err) == changed, "the summary must count only the files written"


# --- a closed stdout, a full disk, a failing Secret write ----------------------------------


@pytest.mark.slow
def test_closed_stdout_drops_the_output_not_the_values(fresh: Tree, pristine: Pristine) -> None:
    """``tighten fix . | head -1``: every file's unfixable hostPath finding goes to stdout,
    so the pipe breaks early in the run; the run goes on without output and says so."""
    proc = subprocess.Popen(
        [*TIGHTEN, "fix", *RULES, "."],
        cwd=fresh.repo,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.readline()  # what head -1 reads, then it exits
    proc.stdout.close()
    err = proc.stderr.read().decode()
    proc.wait(timeout=120)
    assert "Traceback" not in err and "Exception ignored" not in err, err
    changed = check_invariants(fresh, pristine)
    assert proc.returncode == 1, err  # the hostPath findings remain
    assert "stdout was closed: the rest of the output was dropped" in err
    assert snapshot(fresh.repo) == pristine.after
    assert fixed_files(err) == changed


def small_repo(root: Path, files: int = 6) -> dict[Path, str]:
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    values = {}
    for n in range(files):
        path = root / f"svc{n}" / "Dockerfile"
        path.parent.mkdir()
        values[path] = f"pw-{n}-Vx93kq8Lm2"
        path.write_text(DOCKERFILE.format(value=values[path]))
    return values


@contextlib.contextmanager
def full_disk(folder: Path) -> Iterator[bool]:
    """``folder`` on a tiny tmpfs that is full; False when mounting is not permitted."""
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=8k", "tmpfs", str(folder)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        yield False
        return
    try:
        with contextlib.suppress(OSError), (folder / "filler").open("wb") as handle:
            while True:
                handle.write(b"x" * 1024)
                handle.flush()
                os.fsync(handle.fileno())
        yield True
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def test_full_disk_keeps_the_sources(tmp_path: Path) -> None:
    values = small_repo(tmp_path)
    with full_disk(tmp_path / "secrets") as mounted:
        if not mounted:  # the same failure, from a folder that refuses new files
            (tmp_path / "secrets").chmod(0o555)
        out = tighten("fix", *RULES, ".", cwd=tmp_path)
        leftovers = sorted(os.listdir(tmp_path / "secrets"))
    assert out.returncode == 2, out.stderr
    assert "fixed" not in out.stderr.replace("0 fixed", "")
    for path, value in values.items():
        assert path.read_text() == DOCKERFILE.format(value=value), "a value was lost"
        assert f"{path.parent.name}/Dockerfile: not modified: cannot write" in out.stderr
    assert [n for n in leftovers if n != "filler"] == []


def test_failed_secret_write_keeps_the_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    values = small_repo(tmp_path, files=3)
    real = os.replace
    secrets = tmp_path / "secrets"

    def failing(src: str, dst: str, **kwargs: object) -> None:
        if Path(dst).name == "svc1-secrets.secret.yaml":
            raise OSError(5, "Input/output error")
        real(src, dst, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "replace", failing)
    out, err = io.StringIO(), io.StringIO()
    settings = Settings.of(
        select=frozenset({"DF004"}), offline=True, secrets_dir=secrets, unsafe_fixes=True
    )
    code = Session(settings, Mode.FIX, out=out, err=err, rules=RULE_SET).execute([str(tmp_path)])
    assert code == 2
    failed = tmp_path / "svc1" / "Dockerfile"
    assert failed.read_text() == DOCKERFILE.format(value=values[failed])
    assert re.search(r"svc1/Dockerfile: not modified: cannot write .*Input/output", err.getvalue())
    for path, value in values.items():
        if path != failed:  # the others were moved
            assert value not in path.read_text()
            assert value in (secrets / f"{path.parent.name}-secrets.secret.yaml").read_text()
    assert "2 fixed in 2 files" in err.getvalue()
    assert not (secrets / "svc1-secrets.secret.yaml").exists()


# --- several sources, one Secret file ------------------------------------------------------


def test_shared_secret_file_is_the_end_of_run_merge(tmp_path: Path) -> None:
    """Merging after each file gives the bytes one merge at the end gave; one "wrote" line
    per file however many sources feed it (Dockerfiles of one folder share its Secret)."""
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    app = tmp_path / "app"
    app.mkdir()
    for n, name in enumerate(["Dockerfile", "Containerfile"]):
        text = DOCKERFILE.format(value=f"tok-{n}-Lq82mZ0p").replace(
            "DB_PASSWORD", f"DB_PASSWORD_{n}"
        )
        (app / name).write_text(text)
    settings = Settings.of(select=frozenset({"DF004"}), offline=True)
    expected = SideFiles()
    for result in run(list(discover([str(tmp_path)])), settings, rules=RULE_SET, fix=True):
        expected.add(result)
    [target] = expected.pending
    wanted = expected.render(target, None, masked=False)
    out = tighten("fix", "--unsafe-fixes", "--select", "DF004", ".", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert (app / "app-secrets.secret.yaml").read_text() == wanted
    assert out.stderr.count("wrote app/app-secrets.secret.yaml") == 1
    assert out.stderr.count("wrote .gitignore") == 1
    assert (tmp_path / ".gitignore").read_text() == "/app/app-secrets.secret.yaml\n"


# --- what is shown -------------------------------------------------------------------------

LATER = "Zk4-pass-w0rd-9QxL"


def test_dry_run_masks_a_value_revealed_by_a_later_file(tmp_path: Path) -> None:
    """The first file quotes the value innocently; only the last file says it is a secret."""
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "pod.yaml").write_text(
        PRIVILEGED.format(n=1).replace("  - name: a\n", f"  - name: a\n    # was {LATER}\n")
    )
    (tmp_path / "z").mkdir()
    (tmp_path / "z" / "Dockerfile").write_text(DOCKERFILE.format(value=LATER))
    settings = Settings.of(offline=True)
    for fmt in ("text", "github", "sarif", "json"):
        out, err = io.StringIO(), io.StringIO()
        code = Session(settings, Mode.DRY_RUN, fmt=fmt, out=out, err=err, rules=RULE_SET).execute(
            [str(tmp_path)]
        )
        assert code == 1, err.getvalue()
        assert LATER not in out.getvalue() + err.getvalue(), fmt
        if fmt == "text":
            assert "-      privileged: true" in out.getvalue()
            assert "+    # was ***" not in out.getvalue() and "     # was ***" in out.getvalue()


def test_dry_run_masks_values_of_a_secret_inside_a_list(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "web").mkdir()
    (tmp_path / "web" / "Dockerfile").write_text(DOCKERFILE.format(value="pw-new-Lx93kq"))
    stored = (
        "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Secret\n"
        "  metadata: {name: old}\n  stringData:\n    A: list-s3cret-Value9\n"
        "    B: |\n      block-s3cret-Value9\n"
    )
    (tmp_path / "web" / "web-secrets.secret.yaml").write_text(stored)
    out = tighten("fix", "--unsafe-fixes", "--dry-run", "--select", "DF004", ".", cwd=tmp_path)
    assert out.returncode == 1, out.stderr
    assert "web-secrets.secret.yaml" in out.stdout
    for value in ("list-s3cret-Value9", "block-s3cret-Value9", "pw-new-Lx93kq"):
        assert value not in out.stdout + out.stderr


def test_mask_stored_values_in_nested_lists() -> None:
    text = (
        "kind: List\nitems:\n- kind: SecretList\n  items:\n  - kind: Secret\n"
        "    data: {K: c2VjcmV0}\n    stringData: &v {S: nested-one}\n"
        "  - {kind: Secret, stringData: *v}\n- kind: ConfigMap\n  data: {C: plain}\n"
    )
    masked = mask_stored_values(text)
    assert "c2VjcmV0" not in masked and "nested-one" not in masked
    assert "C: plain" in masked
    assert yaml.safe_load(masked)["items"][0]["items"][0]["stringData"] == {"S": "***"}
