"""Files a run skipped because they are not the user's source, as a few notice lines.

A Go repository can hold hundreds of manifests under ``testdata/``: one line per file would
bury the findings, so the notices are grouped by folder (test data, vendored), by the
Kustomization listing the patches, and all generated files together.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from fixer.discover import GENERATED, PATCH, TEST_DATA, VENDORED
from fixer.engine import FileResult
from fixer.output.text import shown_path

__all__ = ["NOT_SOURCE", "NotSourceNotices"]

NOT_SOURCE = frozenset({TEST_DATA, VENDORED, GENERATED, PATCH})
#: Generated files are listed by name up to this many; the rest are counted.
_NAMED = 3
_OPT_IN = "--include-generated checks them"


@dataclass
class NotSourceNotices:
    """Collects the skipped results (``add``) and words them once at the end (``lines``)."""

    places: Counter[tuple[str, str]] = field(default_factory=Counter)
    generated: list[str] = field(default_factory=list)
    #: The files of each place that generates them, named in its line.
    written: dict[str, list[str]] = field(default_factory=dict)

    def add(self, result: FileResult) -> bool:
        """Take ``result`` when it is a not-source skip (True), else leave it (False)."""
        if result.skipped not in NOT_SOURCE:
            return False
        if result.skipped == GENERATED and (result.notice or "").startswith(
            ("written by ", "under ", "rendered from ")
        ):
            self.places[(GENERATED, result.notice or "")] += 1  # grouped by the script line
            self.written.setdefault(result.notice or "", []).append(shown_path(result.path))
        elif result.skipped == GENERATED:
            self.generated.append(shown_path(result.path))
        else:
            self.places[(result.skipped, result.notice or "")] += 1
        return True

    def lines(self) -> list[str]:
        out = []
        places = sorted(self.places.items(), key=lambda item: item[0][1])
        families: dict[tuple[str, str], list[tuple[str, int]]] = {}
        for (kind, where), count in places:
            if kind in (TEST_DATA, VENDORED):
                families.setdefault((kind, _family(where)), []).append((where, count))
        grouped = {key for key, members in families.items() if len(members) > _NAMED}
        for key in sorted(grouped):
            out.append(_grouped_line(key, families[key]))
        for (kind, where), count in places:
            if kind in (TEST_DATA, VENDORED) and (kind, _family(where)) in grouped:
                continue
            files = f"{count} file{'s' * (count != 1)}"
            if kind == PATCH:
                out.append(
                    f"skipped {files} listed as patches in {where} (partial objects merged onto "
                    "a base, not workloads); name a file to check it"
                )
            elif kind == GENERATED:
                out.append(
                    f"skipped {files} {where}: {_named(self.written.get(where, []))}; "
                    f"generated, so the change belongs in what it is generated from; {_OPT_IN}"
                )
            else:
                out.append(f"skipped {files} under {where} ({kind}); {_OPT_IN}")
        if self.generated:
            count = len(self.generated)
            files = f"{count} generated file{'s' * (count != 1)}"
            named = _named(self.generated)
            out.append(f"skipped {files} (marked DO NOT EDIT or similar: {named}); {_OPT_IN}")
        return out


def _named(paths: list[str]) -> str:
    """The first few of ``paths``, and how many more."""
    more = f" and {len(paths) - _NAMED} more" if len(paths) > _NAMED else ""
    return ", ".join(paths[:_NAMED]) + more


def _family(where: str) -> str:
    """What makes places alike: the kind of reason in parentheses (``policy test cases``,
    ``release copies``), else the folder's own name (``.chainsaw-test/``, ``testdata/``)."""
    if " (" in where:
        return where.split(" (", 1)[1].split(":", 1)[0].rstrip(")")
    return where.rstrip("/").rsplit("/", 1)[-1] + "/"


def _grouped_line(key: tuple[str, str], members: list[tuple[str, int]]) -> str:
    """One line for many folders of one family (Kyverno's policies each keep their tests in
    a ``.chainsaw-test/``): counted, the first few named."""
    kind, family = key
    count = sum(n for _, n in members)
    files = f"{count} file{'s' * (count != 1)}"
    label = f"named {family}" if family.endswith("/") else f"of {family}"
    named = ", ".join(where.split(" (", 1)[0] for where, _ in members[:_NAMED])
    more = len(members) - _NAMED
    return (
        f"skipped {files} in {len(members)} folders {label} ({kind}): {named} and {more} more; "
        f"{_OPT_IN}"
    )
