"""Turning what a link states (paths as written, tags) into ``Build`` values."""

from __future__ import annotations

import os
import re
from collections.abc import Collection, Iterable, Sequence
from pathlib import Path

from fixer.repository.commands import BuildCommand
from fixer.repository.model import Build, LinkKind, Origin
from fixer.repository.names import UNKNOWN, image_name


def norm(path: Path | str) -> Path:
    """A lexically normalised path (no ``..``, no symlink resolution: cheap and stable)."""
    return Path(os.path.normpath(path))


def make_build(
    dockerfile: Path,
    context: Path,
    tags: Iterable[str],
    origin: Origin,
    target: str | None = None,
    exported: bool = False,
) -> Build:
    """A build from resolved paths and raw tags: names kept, unknown ones counted."""
    images: list[str] = []
    written: list[str] = []
    partial: list[str] = []
    unknown = 0
    for tag in tags:
        name = image_name(tag) if tag.strip() else None
        if name is None:
            unknown += 1 if tag.strip() else 0
            last = _last_name(tag)
            if last and last not in partial:
                partial.append(last)
            continue
        if name not in images:
            images.append(name)
        written.append(tag.strip())
    known = not unknown and all(is_known(t) for t in written)
    return Build(
        norm(dockerfile),
        norm(context),
        tuple(images),
        origin,
        target,
        unknown,
        exported=exported,
        tags=tuple(written) if known else (),
        partial_names=tuple(partial),
    )


def _last_name(tag: str) -> str:
    """The literal last path part of a tag whose start is computed (``${IMAGE_ORG}/
    lvm-localpv-e2e:ci`` -> ``lvm-localpv-e2e``), or ""."""
    text = tag.strip()
    if "/" not in text:
        return ""
    last = text.rsplit("/", 1)[-1].split("@", 1)[0].split(":", 1)[0]
    if not last or not is_known(last) or "{" in last or "}" in last or "(" in last:
        return ""
    return last.lower() if re.fullmatch(r"[A-Za-z0-9][\w.-]*", last) else ""


def is_known(text: str | None) -> bool:
    return text is not None and UNKNOWN not in text and "$" not in text


def from_commands(
    commands: Iterable[BuildCommand],
    path: Path,
    kind: LinkKind,
    folders: Sequence[Path],
    dockerfiles: Collection[Path],
) -> list[Build]:
    """Builds for ``docker build`` commands whose working folder is one of ``folders``
    (tried in order: the first where the named Dockerfile exists wins; a script may be run
    from its own folder or from the repository root). Unknown paths drop the link."""
    found: list[Build] = []
    for command in commands:
        context_text = command.context or "."
        if not is_known(context_text) or "://" in context_text or context_text == "-":
            continue
        if command.dockerfile is not None and (
            not is_known(command.dockerfile) or command.dockerfile == "-"
        ):
            continue
        chosen: tuple[Path, Path] | None = None
        for folder in folders:
            context = norm(folder / context_text)
            dockerfile = norm(
                folder / command.dockerfile if command.dockerfile else context / "Dockerfile"
            )
            if chosen is None or dockerfile in dockerfiles:
                chosen = (dockerfile, context)
            if dockerfile in dockerfiles:
                break
        if chosen is None:
            continue
        target = command.target if is_known(command.target) else None
        origin = Origin(path, command.line, kind)
        found.append(
            make_build(chosen[0], chosen[1], command.tags, origin, target, command.exported)
        )
    return found
