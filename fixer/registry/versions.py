"""Which tags look like versions, and in what order to try them (newest first).

`latest` (or no tag) is matched against plain versions (`1.27.3`, `v2.1`); a variant tag
such as `alpine` or `stable-alpine` against versions with that suffix (`1.27.3-alpine`).
Pre-releases (`3.13.0rc1`) and date-like numbers are not candidates.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

_VERSION = re.compile(r"v?(\d{1,4}(?:\.\d+){0,3})(?:-([0-9A-Za-z][0-9A-Za-z._-]*))?", re.ASCII)
_CHANNELS = frozenset({"latest", "stable", "mainline", "lts", "current", "release"})


@dataclass(frozen=True, order=True)
class VersionTag:
    numbers: tuple[int, ...]
    suffix: str
    tag: str

    @classmethod
    def parse(cls, tag: str) -> VersionTag | None:
        match = _VERSION.fullmatch(tag)
        if not match:
            return None
        numbers = tuple(int(part) for part in match.group(1).split("."))
        return cls(numbers, match.group(2) or "", tag)


def variant_of(tag: str | None) -> str:
    """The suffix a version tag must carry to stand for `tag`: `lts-alpine` -> `alpine`."""
    if tag is None:
        return ""
    version = VersionTag.parse(tag)
    if version is not None:
        return version.suffix
    head, _, rest = tag.partition("-")
    if head in _CHANNELS:
        return rest
    return tag


def version_candidates(tags: Iterable[str], variant: str) -> list[str]:
    """Version tags with suffix `variant`, newest first; among equal numbers, the more
    specific tag (`1.27.3` before `1.27`) comes first by tuple order."""
    found = [v for t in tags if (v := VersionTag.parse(t)) and v.suffix == variant]
    found.sort(key=lambda v: (v.numbers, not v.tag.startswith("v")), reverse=True)
    return [v.tag for v in found]
