"""Monorepo scale: ``tighten check`` over the corpus copied many times, cold and cached.

    python bench/scale_bench.py [--corpus tests/data/corpus] [--copies 1 3 10] [--checkov]
                                [--source-files 27000] [--services 100 300 1000]

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
same run, for the ratio. ``--services N...`` also checks and fixes (``--dry-run``)
generated monorepos of N services each (``services``: a shared base image, Kustomize
overlays, generator scripts, root files naming every service), where evidence that
crosses files grows with the repository (``--copies`` given no count skips the copies).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench import (
    CHECKOV,
    CHECKOV_ENV,
    CORPUS,
    Row,
    checkout,
    measure,
    print_table,
    ratio,
    tighten_cmd,
)


def build(root: Path, corpus: Path, copies: int) -> int:
    """``copies`` copies of the corpus under ``root``; the number of files."""
    for n in range(copies):
        shutil.copytree(corpus, root / f"team{n:02d}", symlinks=True)
    return checkout(root)  # a git work tree, dated a minute back (``bench.checkout``)


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


def services(root: Path, count: int) -> int:
    """A monorepo of ``count`` services built on one base image, each with the evidence
    files real ones have (a Dockerfile and the script it copies in, a Kustomize base with
    two overlays patching it, a Makefile that builds and applies, a script that renders a
    chart and ytt files into the service's folders, a chart's values), and the files that
    name every service at the root (a compose file, a Makefile, a README that applies each
    overlay, a workflow that builds every tenth): what makes cross-file evidence grow with
    the repository, where a comparison of every file with every other shows as
    super-linear time. Made a checkout (``bench.checkout``); the number of files."""
    base = root / "base"
    base.mkdir(parents=True)
    (base / "Dockerfile").write_text(
        "FROM debian:12\nRUN apt-get update && apt-get install -y curl ca-certificates\n"
        'COPY entrypoint.sh /entrypoint.sh\nENTRYPOINT ["/entrypoint.sh"]\n'
    )
    (base / "entrypoint.sh").write_text('#!/bin/sh\nexec "$@"\n')
    compose, make, readme = ["services:"], ["build-all:"], ["# Services", ""]
    for n in range(count):
        name, folder = f"svc{n}", root / "services" / f"svc{n:05d}"
        image = f"ghcr.io/acme/{name}"
        for sub in ("k8s/base", "k8s/overlays/prod", "k8s/overlays/dev", "scripts", "chart"):
            (folder / sub).mkdir(parents=True)
        files = {
            "Dockerfile": "FROM ghcr.io/acme/base:1.0\nWORKDIR /srv\nCOPY run.sh /srv/run.sh\n"
            'RUN apt-get install -y wget\nCMD ["/srv/run.sh"]\n',
            "run.sh": f"#!/bin/sh\nwget -q http://svc{(n + 1) % count}/health\nexec /srv/app\n",
            "k8s/base/deployment.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n"
            f"  name: {name}\nspec:\n  template:\n    spec:\n      containers:\n"
            f"        - name: app\n          image: {image}:latest\n          env:\n"
            f"            - name: DB_PASSWORD\n              value: hunter2-{n}\n",
            "k8s/base/kustomization.yaml": "resources:\n  - deployment.yaml\n",
            "Makefile": f"IMG ?= {image}:1.0\nbuild:\n\tdocker build -t $(IMG) .\n"
            "deploy:\n\tkubectl apply -k k8s/overlays/prod\n",
            "scripts/render.sh": "#!/bin/sh\nhelm template ./chart > deploy/rendered.yaml\n"
            "ytt -f in > out/gen-${ENV}.yaml\n",
            "chart/values.yaml": f"image:\n  repository: {image}\n  tag: '1.0'\n",
        }
        for env in ("prod", "dev"):
            files[f"k8s/overlays/{env}/kustomization.yaml"] = (
                f"resources:\n  - ../../base\nimages:\n  - name: {image}\n"
                f"    newTag: {env}\npatches:\n  - path: patch.yaml\n"
            )
            files[f"k8s/overlays/{env}/patch.yaml"] = (
                f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\nspec:\n"
                "  template:\n    spec:\n      containers:\n        - name: app\n"
                f'          args: ["--env", "{env}"]\n'
            )
        for rel, text in files.items():
            (folder / rel).write_text(text)
        compose += [f"  {name}:", f"    build: services/svc{n:05d}", f"    image: {image}:latest"]
        make.append(f"\tdocker build -t {image}:latest services/svc{n:05d}")
        readme.append(f"- `kubectl apply -k services/svc{n:05d}/k8s/overlays/prod`")
    make += ["base:", "\tdocker build -t ghcr.io/acme/base:1.0 base"]
    workflow = root / ".github" / "workflows"
    workflow.mkdir(parents=True)
    steps = "".join(
        f"      - run: docker build -t ghcr.io/acme/svc{n}:1.0 services/svc{n:05d}\n"
        for n in range(0, count, 10)
    )
    (workflow / "build.yml").write_text(
        f"on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n{steps}"
    )
    (root / "docker-compose.yml").write_text("\n".join(compose) + "\n")
    (root / "Makefile").write_text("\n".join(make) + "\n")
    (root / "README.md").write_text("\n".join(readme) + "\n")
    return checkout(root)


def monorepo(args: argparse.Namespace, rows: list[Row]) -> None:
    """``check`` and ``fix --dry-run --offline`` over generated monorepos of
    ``--services`` services: seconds per service should not grow with their number."""
    tighten = tighten_cmd()
    base: dict[str, float] = {}
    for count in args.services:
        with tempfile.TemporaryDirectory(prefix="tighten-services-") as tmp:
            root = Path(tmp)
            files = services(root, count)
            runs = {
                "check": measure([*tighten, "check", "-q", "--no-cache", "."], cwd=root),
                "fix --dry-run": measure(
                    [*tighten, "fix", "--dry-run", "--offline", "-q", "."], cwd=root
                ),
            }
        for what, run in runs.items():
            per = run["wall"] / count
            base.setdefault(what, per)
            rows.append(
                Row(
                    f"{what}, {count} services ({files} files)",
                    f"{run['wall']:.2f}s",
                    "",
                    f"{per / base[what]:.2f} of the first count's s/service",
                )
            )
            rows.append(Row(f"peak RSS {what}, {count} services", f"{run['rss_mb']:.0f} MB"))


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
    parser.add_argument("--copies", type=int, nargs="*", default=[1, 3, 10])
    parser.add_argument("--checkov", action="store_true")
    parser.add_argument(
        "--source-files",
        type=int,
        default=0,
        help="also check one copy of the corpus inside a tree of this many more files",
    )
    parser.add_argument(
        "--services",
        type=int,
        nargs="*",
        default=[],
        help="also check and fix generated monorepos of these many services (100 300 1000)",
    )
    args = parser.parse_args()
    rows: list[Row] = []
    if args.copies:
        scale(args, rows)
    if args.source_files:
        source_tree(args, rows)
    if args.services:
        monorepo(args, rows)
    print_table(rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
