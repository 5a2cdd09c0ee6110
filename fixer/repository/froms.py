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

#: ``FROM [--flags] image [AS name]``: the image as written, and the stage's name.
_FROM = re.compile(r"(?i)^[ \t]*FROM[ \t]+(?:--\S+[ \t]+)*([^\s#]+)(?:[ \t]+AS[ \t]+([^\s#]+))?")
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
    #: The stage adds nothing and is only copied from (``FROM image AS name`` with no
    #: instruction of its own, then ``COPY --from=name``, never built FROM or shipped):
    #: nothing runs the image there, whatever its user.
    copied_only: bool = False


def tag_of(image: str) -> str | None:
    """The tag of an image reference as written (``latest`` when there is none), or None
    when it is pinned by digest (any tag may have that digest)."""
    if "@" in image:
        return None
    last = image.rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else "latest"


def _instruction_lines(text: str) -> Iterator[tuple[int, str]]:
    """(line number, line) of each line that begins an instruction: no blank or comment
    line, no continuation of the instruction before it."""
    continued = False
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if continued:
            continued = stripped.endswith("\\")
            continue
        if not stripped or stripped.startswith("#"):
            continue
        continued = stripped.endswith("\\")
        yield number, line


def stages(text: str) -> Iterator[tuple[str, int, int]]:
    """(image as written, with ``ARG`` defaults expanded; FROM line; first RUN line before
    the stage's own USER, or 0) for each stage of a Dockerfile's text."""
    args: dict[str, str] = {}
    current: list[object] | None = None  # [image, line, run line, user seen]
    for number, line in _instruction_lines(text):
        found = _FROM.match(line)
        if found:
            if current is not None:
                yield str(current[0]), int(str(current[1])), int(str(current[2]))
            current = [_expanded(found.group(1), args), number, 0, False]
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


def _expanded(image: str, args: dict[str, str]) -> str:
    """``image`` with the ``ARG`` defaults expanded; when only its tag names an argument
    without a default (Nuclio's ``FROM ${NUCLIO_DOCKER_REPO}/processor:
    ${NUCLIO_DOCKER_IMAGE_TAG}``), the name with an unknown tag (``name@``: any tag, as
    for a digest); "" when the name itself is unknown."""
    full = expand(image, args)
    if full is not None:
        return full
    slash = image.rfind("/")
    colon = image.find(":", slash + 1)
    if colon < 0 or "$" not in image[colon:]:
        return ""
    name = expand(image[:colon], args)
    return f"{name}@" if name and "$" not in name else ""


_INSTRUCTION = re.compile(r"^[ \t]*[A-Za-z]+\b")


def copied_only(text: str) -> set[int]:
    """FROM lines of the stages that only serve as a source of files: no instruction of
    their own, a name (``AS build_healthcheck``) that a ``COPY --from=`` uses and no
    ``FROM`` builds on, and not the last stage (which is the image built)."""
    lower = text.lower()
    if "--from" not in lower:
        return set()
    found: list[tuple[int, str, bool]] = []  # (FROM line, alias, has an instruction)
    built_on: set[str] = set()  # the images (and stages) the FROMs name
    for number, line in _instruction_lines(text):
        stage = _FROM.match(line)
        if stage is not None:
            built_on.add(stage.group(1).lower())
            found.append((number, (stage.group(2) or "").lower(), False))
        elif found and _INSTRUCTION.match(line):
            found[-1] = (found[-1][0], found[-1][1], True)
    return {
        line
        for line, alias, busy in found[:-1]
        if alias and not busy and f"--from={alias}" in lower and alias not in built_on
    }


def index(dockerfiles: Iterable[Path]) -> dict[str, list[Derived]]:
    """Image key (``image_key``) -> the stages built FROM it, over ``dockerfiles``."""
    found: dict[str, list[Derived]] = {}
    for path in sorted(dockerfiles):
        text = walk.read_text(path)
        if text is None:
            continue
        sources = copied_only(text)
        for image, line, run_line in stages(text):
            key = image_key(image) if "$" not in image else None
            if key:
                derived = Derived(path, line, run_line, tag_of(image), line in sources)
                found.setdefault(key, []).append(derived)
    return found
