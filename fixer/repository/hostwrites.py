"""Containers that write the host's folders: ``docker run -v`` in scripts and Makefiles,
compose services with bind-mounted volumes.

A code generator or test runner image is typically run with the working tree mounted
(``docker run --rm -v $(pwd):/build tool protoc ...``) and writes files there. It does so
as the image's user: give the image a non-root ``USER`` and it can no longer write a tree
owned by the developer (or by root in CI). These runs are evidence against DF001's fix.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Sequence
from pathlib import Path

from fixer.documents import yaml as y
from fixer.documents.yaml import Node
from fixer.repository.builds import norm
from fixer.repository.commands import BuildCommand, RunCommand
from fixer.repository.links import compose_build, compose_services, line_of
from fixer.repository.model import HostWrite, LinkKind, Origin, ScriptRun
from fixer.repository.names import UNKNOWN, image_name

#: A shell function's or script's positional parameters, which no assignment sets.
_POSITIONAL = re.compile(r"\$\{?[0-9@*#?]\}?")


def from_commands(
    builds: Sequence[BuildCommand],
    runs: Iterable[RunCommand],
    path: Path,
    kind: LinkKind,
    folders: Sequence[Path],
    dockerfiles: Collection[Path],
) -> tuple[list[HostWrite], list[ScriptRun]]:
    """The runs with host mounts and no ``--user``, each with the Dockerfiles that the same
    file builds its image from (matched on the tag text as written, even when it holds a
    variable: ``-t "$1-tool"`` then ``docker run "$1-tool"``); and every run of an image
    the same file builds, with what it runs in it (skaffold's ``hack/generate-proto.sh``:
    ``docker build -t gen-proto -f hack/proto/Dockerfile``, then ``docker run --rm
    gen-proto cat /proto/...``)."""
    writes: list[HostWrite] = []
    ran: list[ScriptRun] = []
    for run in runs:
        paths = _built(run, builds, folders, dockerfiles)
        origin = Origin(path, run.line, kind)
        if run.mounts and run.user is None:
            writes.append(HostWrite(paths, image_name(run.image), origin, run.mounts))
        if paths:
            ran.append(ScriptRun(paths, origin, run.program))
    return writes, ran


def _built(
    run: RunCommand,
    builds: Sequence[BuildCommand],
    folders: Sequence[Path],
    dockerfiles: Collection[Path],
) -> tuple[Path, ...]:
    """The Dockerfiles of the builds (of the same file) that tag the image ``run`` runs."""
    built = [b for b in builds if run.image in b.tags]
    return tuple(sorted({p for b in built for p in _dockerfiles(b, folders, dockerfiles)}))


def _dockerfiles(
    build: BuildCommand, folders: Sequence[Path], dockerfiles: Collection[Path]
) -> list[Path]:
    """The Dockerfiles a build command may name: a computed part (``src/$1/Dockerfile``)
    stands for one path segment."""
    written = build.dockerfile or f"{build.context or '.'}/Dockerfile"
    written = _POSITIONAL.sub(UNKNOWN, written)  # `src/$1/Dockerfile` in a shell function
    for folder in folders:
        if UNKNOWN not in written:
            candidate = norm(folder / written)
            if candidate in dockerfiles:
                return [candidate]
            continue
        pattern = re.compile(
            re.escape(str(norm(folder / written))).replace(re.escape(UNKNOWN), "[^/]+") + "$"
        )
        matches = [d for d in dockerfiles if pattern.match(str(d))]
        if matches:
            return matches
    return []


def from_compose(path: Path, docs: list[Node]) -> list[HostWrite]:
    """Compose services built here (``build:``) that bind-mount host folders and set no
    ``user:``."""
    found: list[HostWrite] = []
    for _, service in compose_services(docs):
        build = compose_build(path, service)
        if build is None or y.get(service, "user") is not None:
            continue
        mounts = [m for v in _items(y.get(service, "volumes")) if (m := _host_mount(v))]
        if mounts:
            origin = Origin(path, line_of(y.get(service, "volumes") or service), LinkKind.COMPOSE)
            found.append(HostWrite((build.dockerfile,), None, origin, tuple(mounts)))
    return found


def _items(node: Node | None) -> Iterable[Node]:
    return node.value if y.is_sequence(node) else ()


def _host_mount(volume: Node) -> str | None:
    """The host path of a bind mount (short ``./out:/out[:ro]`` or long ``type: bind``);
    None for a named volume, a tmpfs or a read-only mount (nothing is written through it)."""
    if y.is_scalar(volume):
        parts = str(volume.value).split(":")
        if len(parts) < 2 or (len(parts) > 2 and "ro" in parts[2].split(",")):
            return None
        host = parts[0]
        return host if host.startswith((".", "/", "~", "$")) and not _file_like(host) else None
    if y.is_mapping(volume) and y.scalar(y.get(volume, "type")) == "bind":
        if y.truthy(y.get(volume, "read_only")):
            return None
        source = y.scalar(y.get(volume, "source")) or "?"
        return None if _file_like(source) else source
    return None


def _file_like(path: str) -> bool:
    """A single configuration file mounted in (``./otel-config.yml``): read, not written."""
    last = path.rstrip("/").rsplit("/", 1)[-1]
    stem, dot, suffix = last.rpartition(".")
    return bool(dot and stem and suffix.isalnum() and not suffix.isdigit())
