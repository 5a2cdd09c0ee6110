"""Which Dockerfiles of the repository build FROM an image another Dockerfile builds.

An image the repository builds as a base for its other images (``make base`` then ``FROM
acme/base``) passes its ``USER`` on: every RUN of a derived stage before that stage's own
``USER`` runs as it. A non-root ``USER`` added to the base would make those RUNs (``apk
add``, ``apt-get install``, writing under ``/usr``) fail, so the derived builds would no
longer finish. The Dockerfiles are read by lines (``FROM``, ``ARG`` defaults before the
first ``FROM``, and the first ``RUN`` or ``USER`` of each stage), once, on the first
question.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from fixer.documents.dockerfile.images import expand
from fixer.repository import walk
from fixer.repository.names import image_key

_FROM = re.compile(r"(?i)^[ \t]*FROM[ \t]+(?:--\S+[ \t]+)*([^\s#]+)")
_ARG = re.compile(r"(?i)^[ \t]*ARG[ \t]+(\w+)=(\S+)")
_STEP = re.compile(r"(?i)^[ \t]*(RUN|USER)\b")


@dataclass(frozen=True)
class Derived:
    """A stage of ``dockerfile`` built FROM an image (line ``line``); ``run_line``: its
    first RUN before any ``USER`` of its own (it runs as the image's user), or 0."""

    dockerfile: Path
    line: int
    run_line: int
    #: The tag the FROM names (``latest`` when it names none); None for a digest.
    tag: str | None = "latest"


def tag_of(image: str) -> str | None:
    """The tag of an image reference as written (``latest`` when there is none), or None
    when it is pinned by digest (any tag may have that digest)."""
    if "@" in image:
        return None
    last = image.rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else "latest"


def stages(text: str) -> Iterator[tuple[str, int, int]]:
    """(image as written, with ``ARG`` defaults expanded; FROM line; first RUN line before
    the stage's own USER, or 0) for each stage of a Dockerfile's text."""
    args: dict[str, str] = {}
    current: list[object] | None = None  # [image, line, run line, user seen]
    continued = False
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if continued:
            continued = stripped.endswith("\\")
            continue
        if not stripped or stripped.startswith("#"):
            continue
        continued = stripped.endswith("\\")
        found = _FROM.match(line)
        if found:
            if current is not None:
                yield str(current[0]), int(str(current[1])), int(str(current[2]))
            current = [expand(found.group(1), args) or "", number, 0, False]
            continue
        if current is None:
            arg = _ARG.match(line)
            if arg:
                args[arg.group(1)] = arg.group(2).strip("\"'")
            continue
        step = _STEP.match(line)
        if step is not None and not current[2] and not current[3]:
            if step.group(1).upper() == "RUN":
                current[2] = number
            else:
                current[3] = True
    if current is not None:
        yield str(current[0]), int(str(current[1])), int(str(current[2]))


def index(dockerfiles: Iterable[Path]) -> dict[str, list[Derived]]:
    """Image key (``image_key``) -> the stages built FROM it, over ``dockerfiles``."""
    found: dict[str, list[Derived]] = {}
    for path in sorted(dockerfiles):
        text = walk.read_text(path)
        if text is None:
            continue
        for image, line, run_line in stages(text):
            key = image_key(image) if "$" not in image else None
            if key:
                found.setdefault(key, []).append(Derived(path, line, run_line, tag_of(image)))
    return found
