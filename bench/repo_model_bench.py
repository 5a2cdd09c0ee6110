"""Repository model benchmark: scan time and peak memory over synthetic trees.

    python bench/repo_model_bench.py [--sizes 100 1000 3000] [--keep]

Each size N builds a tree of N application folders (Dockerfile, compose, skaffold,
Makefile, kustomization, Deployment + CronJob, two scripts, plus Go source, a README and a
vendor/ copy that the walk must skip: 13 files per folder), then, in a fresh child process
(so peak RSS is this size's alone), scans it and asks every question once per app.
Linear means seconds per 1,000 files stays flat as N grows; flat-ish memory means the peak
grows with the index (a few small values per link), not with the bytes read.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

APP_FILES = {
    "Dockerfile": (
        "FROM golang:1.22 AS build\nWORKDIR /src\nCOPY . .\nRUN go build -o /out/app .\n"
        "FROM alpine:3.19\nRUN apk add --no-cache curl\nCOPY --from=build /out/app /app\n"
        "COPY scripts/entrypoint.sh /entrypoint.sh\nCOPY scripts/health.sh /usr/local/bin/\n"
        'ENTRYPOINT ["/entrypoint.sh"]\n'
    ),
    "docker-compose.yml": (
        "services:\n  app:\n    build: .\n    image: ghcr.io/acme/{name}:dev\n"
        '    command: ["serve"]\n'
    ),
    "skaffold.yaml": (
        "apiVersion: skaffold/v4beta11\nkind: Config\nbuild:\n  artifacts:\n"
        "    - image: ghcr.io/acme/{name}\n      context: .\n"
    ),
    "Makefile": (
        "IMG ?= ghcr.io/acme/{name}\nTAG ?= $(shell git rev-parse HEAD)\n"
        "image:\n\tdocker build -f Dockerfile -t $(IMG):$(TAG) .\n"
    ),
    "deploy/kustomization.yaml": (
        "resources:\n  - app.yaml\nimages:\n  - name: {name}\n    newName: ghcr.io/acme/{name}\n"
    ),
    "deploy/app.yaml": (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\nspec:\n"
        "  template:\n    spec:\n      containers:\n        - name: app\n          image: {name}\n"
        "---\napiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: {name}-sync\nspec:\n"
        "  jobTemplate:\n    spec:\n      template:\n        spec:\n          containers:\n"
        '            - name: sync\n              image: {name}\n              command: ["sh", "-c", '
        '"curl -fsS http://{name}/sync"]\n'
    ),
    "scripts/entrypoint.sh": '#!/bin/sh\nexec /app "$@"\n',
    "scripts/health.sh": "#!/bin/sh\nwget -q -O- http://127.0.0.1:8080/healthz\n",
    "main.go": 'package main\n\nfunc main() { println("{name}") }\n',
    "README.md": "# {name}\n",
    "vendor/lib/Dockerfile": "FROM scratch\n",
    "vendor/lib/docker-compose.yml": "services:\n  x:\n    build: .\n    image: ghcr.io/acme/{name}\n",
    "vendor/lib/lib.go": "package lib\n",
}


def build_tree(root: Path, size: int) -> int:
    count = 0
    for index in range(size):
        name = f"app{index:05d}"
        folder = root / f"services/{name}"
        for rel, text in APP_FILES.items():
            path = folder / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text.replace("{name}", name))
            count += 1
    return count


def measure(root: Path, size: int) -> dict[str, float]:
    """Runs in the child: scan, then one round of questions per app."""
    from fixer.repository import RepositoryModel

    start, cpu = time.perf_counter(), time.process_time()
    model = RepositoryModel.scan(root)
    scanned, scanned_cpu = time.perf_counter(), time.process_time()
    evidence = 0
    for index in range(size):
        name = f"ghcr.io/acme/app{index:05d}"
        for build in model.builds_for(name)[:1]:
            evidence += len(model.uses_tool(build, "curl"))
        evidence += len(model.runs_of(name))
    asked, asked_cpu = time.perf_counter(), time.process_time()
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "files": model.files_seen,
        "scan_s": scanned - start,
        "queries_s": asked - scanned,
        "scan_cpu_s": scanned_cpu - cpu,
        "queries_cpu_s": asked_cpu - scanned_cpu,
        "evidence": evidence,
        "peak_mb": peak_kb / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 3000])
    parser.add_argument("--child", nargs=2, metavar=("ROOT", "SIZE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(Path(args.child[0]), int(args.child[1]))))
        return
    # CPU seconds are the stable figure on a shared machine; wall seconds include waiting.
    print(
        "| apps | files on disk | files walked | scan CPU (wall) | CPU per 1k walked "
        "| queries CPU (wall) | peak RSS |"
    )
    print("|---|---|---|---|---|---|---|")
    for size in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            on_disk = build_tree(Path(tmp), size)
            child = [sys.executable, __file__, "--child", tmp, str(size)]
            result = json.loads(subprocess.run(child, capture_output=True, check=True).stdout)
        per_k = result["scan_cpu_s"] / result["files"] * 1000
        print(
            f"| {size} | {on_disk} | {result['files']} | {result['scan_cpu_s']:.2f}s "
            f"({result['scan_s']:.2f}s) | {per_k:.3f}s | {result['queries_cpu_s']:.2f}s "
            f"({result['queries_s']:.2f}s) | {result['peak_mb']:.0f} MB |"
        )


if __name__ == "__main__":
    main()
