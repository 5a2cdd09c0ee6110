"""Monorepo scale: ``tighten check`` over the corpus copied many times, cold and cached.

    python bench/scale_bench.py [--corpus tests/data/corpus] [--copies 1 3 10] [--checkov]
                                [--source-files 27000]

For each count N in ``--copies`` it builds, in a temporary folder (nothing is committed),
a tree holding N copies of the corpus under different folders (10 copies of the corpus
are about 30,000 files), makes it a git work tree (so the cache goes to its root, as in a
real repository), then measures in a fresh child each (``bench.py``'s ``measure``: wall
time and the child's peak RSS from ``getrusage(RUSAGE_CHILDREN)``):

* cold: ``check --no-cache`` (every file parsed, the repository model built);
* first: ``check`` with an empty cache (the run that writes it);
* warm: ``check`` again, nothing changed, best of 3 (target: under 1 s at 30,000 files);
* touched: ``check`` after one manifest changed (the repository model's digest changes,
  so every result that asked the model is computed again).

Linear means seconds per 1,000 files stays flat as N grows; flat memory means peak RSS
does not grow with N. ``--source-files M`` also checks one copy inside a tree of M more
files that are neither Dockerfiles nor manifests (a monorepo's code): the cost of the files
tighten only walks. ``--checkov`` also times checkov over one copy (the corpus) in the
same run, for the ratio.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench import CHECKOV, CHECKOV_ENV, CORPUS, Row, measure, print_table, ratio, tighten_cmd


def build(root: Path, corpus: Path, copies: int) -> int:
    """``copies`` copies of the corpus under ``root``; the number of files."""
    for n in range(copies):
        shutil.copytree(corpus, root / f"team{n:02d}", symlinks=True)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    # Files written in the last seconds are "racy" (a change within the same timestamp tick
    # would keep their stamp), and a run that sees one keeps no output for the next: a real
    # tree was not all written a moment ago, so the copies are dated a minute back.
    past = time.time() - 60
    count = 0
    for path in root.rglob("*"):
        if ".git" not in path.parts:
            os.utime(path, (past, past), follow_symlinks=False)
            count += path.is_file()
    return count


def add_source(root: Path, count: int) -> int:
    """``count`` small Go files in folders of ten under ``root/src``: the code of a real
    monorepo, which tighten walks but never reads. The number of files added."""
    past = time.time() - 60  # not racy, as in ``build``
    for n in range(count):
        folder = root / "src" / f"pkg{n // 10:05d}"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"file{n % 10}.go"
        path.write_text("package main\n\nfunc main() {}\n")
        os.utime(path, (past, past))
    return count


def source_tree(args: argparse.Namespace, rows: list[Row]) -> None:
    """One copy of the corpus inside a tree of ``--source-files`` other files: time and
    memory follow the Dockerfiles and manifests, not the size of the tree."""
    tighten = tighten_cmd()
    with tempfile.TemporaryDirectory(prefix="tighten-scale-") as tmp:
        root = Path(tmp)
        files = build(root, args.corpus, 1)
        check = [*tighten, "check", "-q", "--no-cache", "."]
        alone = measure(check, cwd=root)
        files += add_source(root, args.source_files)
        mixed = measure(check, cwd=root)
    rows += [
        Row("check cold, the corpus alone", f"{alone['wall']:.2f}s", "", ""),
        Row(
            f"check cold, the corpus in a tree of {files} files",
            f"{mixed['wall']:.2f}s",
            "",
            f"{mixed['wall'] / alone['wall']:.2f} of the corpus alone",
        ),
        Row("peak RSS cold, the corpus alone", f"{alone['rss_mb']:.0f} MB"),
        Row(f"peak RSS cold, the corpus in a tree of {files} files", f"{mixed['rss_mb']:.0f} MB"),
    ]


def scale(args: argparse.Namespace, rows: list[Row]) -> None:
    tighten = tighten_cmd()
    base: tuple[float, int] | None = None
    for copies in args.copies:
        with tempfile.TemporaryDirectory(prefix="tighten-scale-") as tmp:
            root = Path(tmp)
            files = build(root, args.corpus, copies)
            check = [*tighten, "check", "-q", "."]
            cold = measure([*check, "--no-cache"], cwd=root)
            first = measure(check, cwd=root)
            warm = min((measure(check, cwd=root) for _ in range(3)), key=lambda m: m["wall"])
            manifest = next(root.rglob("*.yaml"))
            manifest.write_text(manifest.read_text() + "\n# touched\n")
            touched = measure(check, cwd=root)
        per_k = cold["wall"] / files * 1000
        base = base or (per_k, files)
        linear = f"{per_k / base[0]:.2f} of {base[1]} files' s/1k"
        rows += [
            Row(f"check cold, {files} files", f"{cold['wall']:.2f}s", "", linear),
            Row(f"peak RSS cold, {files} files", f"{cold['rss_mb']:.0f} MB"),
            Row(f"check writing the cache, {files} files", f"{first['wall']:.2f}s"),
            Row(f"peak RSS writing the cache, {files} files", f"{first['rss_mb']:.0f} MB"),
            Row(
                f"check cached, {files} files",
                f"{warm['wall']:.2f}s",
                "",
                ratio(cold["wall"], warm["wall"]),
                "< 1s" if files >= 20000 else "",
                ("yes" if warm["wall"] < 1 else "no") if files >= 20000 else "",
            ),
            Row(f"peak RSS cached, {files} files", f"{warm['rss_mb']:.0f} MB"),
            Row(f"check after one manifest changed, {files} files", f"{touched['wall']:.2f}s"),
        ]
    if args.checkov:
        ours = measure([*tighten, "check", "-q", "--no-cache", str(args.corpus)])
        theirs = measure([*CHECKOV, "-d", str(args.corpus)], env=CHECKOV_ENV)
        rows.append(
            Row(
                "check, corpus vs checkov (same run)",
                f"{ours['wall']:.2f}s",
                f"{theirs['wall']:.1f}s",
                ratio(theirs["wall"], ours["wall"]),
                ">= 20x",
                "yes" if theirs["wall"] >= 20 * ours["wall"] else "no",
            )
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--copies", type=int, nargs="+", default=[1, 3, 10])
    parser.add_argument("--checkov", action="store_true")
    parser.add_argument(
        "--source-files",
        type=int,
        default=0,
        help="also check one copy of the corpus inside a tree of this many more files",
    )
    args = parser.parse_args()
    rows: list[Row] = []
    scale(args, rows)
    if args.source_files:
        source_tree(args, rows)
    print_table(rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
