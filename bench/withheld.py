"""Which fixes `tighten fix` applies and which it withholds, by rule and by what they need.

    python bench/withheld.py [--corpus PATH] [--raw] [-- EXTRA TIGHTEN ARGS...]

Runs `tighten fix --dry-run --offline --format json CORPUS` once (nothing is written) and
prints two Markdown tables: per rule, the findings, the fixes applied, the fixes withheld
(UNPROVEN: they change behaviour and the evidence is missing) and the findings with no fix;
then the withheld fixes grouped by their `needs` text. Image names, numbers and quoted
values in `needs` are folded (`<image>`, `N`, `...`) so that one reason is one row; `--raw`
keeps each text as it is; `--checkout PATH` runs the tighten of another checkout (its
folder is where `python -m fixer` is started, so its package is the one imported), to compare
before and after. Offline: the registry is never asked, so every fix that needs an
image's config is judged on the lockfile and the known-images table alone, the way a first
run in CI without network judges it.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = ROOT / "tests" / "data" / "corpus"

_QUOTED = re.compile(r"`[^`]*`|\"[^\"]*\"|'[^']*'")
_IMAGE = re.compile(
    r"\b[\w.-]+(?:/[\w.-]+)*(?::[\w.-]+)?@sha256:[0-9a-f]+|\b[\w.-]+/[\w./-]+(?::[\w.-]+)?|\b[\w.-]+:[\w.-]+\b"
)
_NUMBER = re.compile(r"\b\d+\b")


def fold(needs: str) -> str:
    """One row per reason: the specifics of one file (images, ids, quoted text) folded."""
    text = _QUOTED.sub("...", needs)
    text = _IMAGE.sub("<image>", text)
    return _NUMBER.sub("N", text)


def run(
    corpus: Path, extra: list[str], checkout: Path = ROOT
) -> tuple[list[dict[str, Any]], float, str]:
    args = [sys.executable, "-m", "fixer", "fix", "--dry-run", "--offline", "--format", "json"]
    started = time.perf_counter()
    done = subprocess.run(
        [*args, *extra, str(corpus)], capture_output=True, text=True, check=False, cwd=checkout
    )
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 1, 2) or not done.stdout.strip():
        sys.exit(f"tighten failed ({done.returncode}): {done.stderr[-2000:]}")
    summary = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else ""
    data = json.loads(done.stdout)
    # JSON output is a versioned object since version 2 (a bare list before, for --checkout).
    items = data["findings"] if isinstance(data, dict) else data
    return items, elapsed, summary


def tables(items: list[dict[str, Any]], *, raw: bool) -> str:
    found: Counter[str] = Counter()
    applied: Counter[str] = Counter()
    held: Counter[str] = Counter()
    unfixable: Counter[str] = Counter()
    reasons: Counter[tuple[str, str]] = Counter()
    for item in items:
        rule, fix = item["rule"], item.get("fix")
        found[rule] += 1
        if item.get("fixed"):
            applied[rule] += 1
        elif fix is not None and fix.get("safety") == "unproven":
            held[rule] += 1
            needs = fix.get("needs") or "(no needs text)"
            reasons[(rule, needs if raw else fold(needs))] += 1
        elif not item.get("fixable"):
            unfixable[rule] += 1
    lines = [
        "| rule | findings | fixes applied | fixes withheld | not fixable |",
        "|---|---|---|---|---|",
    ]
    for rule in sorted(found):
        lines.append(
            f"| {rule} | {found[rule]} | {applied[rule]} | {held[rule]} | {unfixable[rule]} |"
        )
    total = (
        sum(found.values()),
        sum(applied.values()),
        sum(held.values()),
        sum(unfixable.values()),
    )
    lines.append("| **all** | " + " | ".join(str(n) for n in total) + " |")
    lines += ["", "| rule | withheld | needs |", "|---|---|---|"]
    for (rule, needs), count in sorted(
        reasons.items(), key=lambda kv: (kv[0][0], -kv[1], kv[0][1])
    ):
        lines.append(f"| {rule} | {count} | {needs.replace('|', '/')} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--raw", action="store_true", help="keep each needs text as written")
    parser.add_argument("--checkout", type=Path, default=ROOT, help="tighten checkout to run")
    parser.add_argument("extra", nargs="*", help="more tighten arguments (after --)")
    options = parser.parse_args()
    items, elapsed, summary = run(options.corpus.resolve(), options.extra, options.checkout)
    print(f"`tighten fix --dry-run --offline` over {options.corpus} in {elapsed:.2f}s")
    print(f"summary: {summary}\n")
    print(tables(items, raw=options.raw), end="")


if __name__ == "__main__":
    main()
