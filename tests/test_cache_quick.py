"""A ``check`` of an unchanged tree answered before the rules load (``fixer.replay.quick``),
and the stat walk that decides it split over two cores."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from fixer.cache import run_key, tree_stamp
from fixer.ruleset import installed
from fixer.settings import Settings
from tests.realparts import tighten
from tests.test_cache import DEPLOYMENT, _age

ROOT = Path(__file__).resolve().parent.parent

#: Runs the CLI and says on stderr's last line whether a rule module was loaded.
PROBE = (
    "import atexit, sys\n"
    "atexit.register(lambda: print('rules loaded:', 'rules.nonroot' in sys.modules,"
    " file=sys.stderr))\n"
    "from fixer.cli import main\n"
    "main()\n"
)


def _probe(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


def test_unchanged_tree_is_answered_without_loading_the_rules(tmp_path: Path) -> None:
    (tmp_path / "deploy.yaml").write_text(DEPLOYMENT)
    _age(tmp_path)
    first = _probe("check", ".", cwd=tmp_path)
    assert first.returncode == 1
    assert first.stderr.rstrip().endswith("rules loaded: True")
    second = _probe("check", ".", cwd=tmp_path)
    assert second.returncode == 1 and second.stdout == first.stdout
    assert second.stderr.rstrip().endswith("rules loaded: False")
    # The same run in another format is not answered by this one's output: it loads them.
    sarif = _probe("check", "--format", "sarif", ".", cwd=tmp_path)
    assert sarif.stderr.rstrip().endswith("rules loaded: True")
    # A changed file: the rules run again, and the answer is the new one.
    (tmp_path / "deploy.yaml").write_text(DEPLOYMENT.replace("privileged: true", "runAsUser: 1"))
    _age(tmp_path)
    changed = _probe("check", ".", cwd=tmp_path)
    assert changed.stderr.rstrip().endswith("rules loaded: True")
    assert "K8S001" in first.stdout and "K8S001" not in changed.stdout
    again = tighten("check", ".", cwd=tmp_path)
    assert (again.returncode, again.stdout) == (changed.returncode, changed.stdout)


def test_the_installed_rules_have_one_key_loaded_or_not() -> None:
    settings = Settings.of(offline=True)
    assert run_key(settings, None) == run_key(settings, installed())
    assert run_key(settings, None, edits=False) != run_key(settings, None)


def _tree(root: Path, folders: int, teams: int) -> list[Path]:
    files = []
    for n in range(folders):
        folder = root / f"team{n % teams}" / f"svc{n:04d}"
        folder.mkdir(parents=True)
        files.append(folder / "deploy.yaml")
        files[-1].write_text(f"# {n}\n")
    return files


@pytest.mark.parametrize(
    ("workers", "folders", "teams", "split"),
    [
        ("0", 900, 300, False),  # one core: listed here, however many
        ("2", 900, 300, True),  # hundreds left after the first folders: half on a second core
        ("2", 300, 1, False),  # a few left: listed here
    ],
)
def test_the_stat_walk_is_the_same_on_one_core_or_two(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    workers: str,
    folders: int,
    teams: int,
    split: bool,
) -> None:
    import fixer.parallel

    files = _tree(tmp_path, folders, teams)
    monkeypatch.setenv("TIGHTEN_WORKERS", "0")
    alone = tree_stamp([tmp_path])
    monkeypatch.setenv("TIGHTEN_WORKERS", workers)
    forks: list[int] = []
    original = fixer.parallel.Beside._start

    def start(self: fixer.parallel.Beside[object]) -> None:
        original(self)
        forks.append(1)

    monkeypatch.setattr(fixer.parallel.Beside, "_start", start)
    assert tree_stamp([tmp_path]) == alone
    assert bool(forks) is split
    # A change in any folder, whichever core lists it, changes the stamp.
    for file in (files[0], files[len(files) // 2], files[-1]):
        text = file.read_text()
        file.write_text("# changed, and longer\n")
        assert tree_stamp([tmp_path]).digest != alone.digest
        file.write_text(text)
        os.utime(file, ns=(0, 0))
        alone = tree_stamp([tmp_path])
        monkeypatch.setenv("TIGHTEN_WORKERS", "0")
        assert tree_stamp([tmp_path]) == alone
        monkeypatch.setenv("TIGHTEN_WORKERS", workers)
