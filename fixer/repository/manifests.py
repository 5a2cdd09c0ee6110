"""Who runs which image: Kubernetes containers, compose services, and Kustomizations.

A Kustomization is read for what it includes (``resources``/``bases``/``components``), how
it renames images (``images:`` ``name`` -> ``newName``) and which files are patches: a patch
file is a merged view onto a base object, not a workload of its own.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from fixer.documents import yaml as y
from fixer.documents.yaml import Node, YamlFile, kube
from fixer.model import Span
from fixer.repository.builds import norm
from fixer.repository.links import compose_build, compose_services, line_of
from fixer.repository.model import Run

_REMOTE = ("://", "github.com/", "gitlab.com/", "bitbucket.org/", "?ref=", "git@")


def _strings(node: Node | None) -> tuple[str, ...] | None:
    """A command/args value as a list of strings (a scalar is shell text: split it)."""
    if y.is_sequence(node):
        return tuple(item.value for item in node.value if y.is_scalar(item))
    if y.is_scalar(node) and not y.is_null(node):
        try:
            return tuple(shlex.split(node.value))
        except ValueError:
            return tuple(node.value.split())
    return None


def _span(node: Node) -> Span:
    return Span(
        int(node.start_mark.index), max(int(node.end_mark.index), int(node.start_mark.index))
    )


def kube_runs(path: Path, doc: YamlFile) -> list[Run]:
    """Every container of every workload in one manifest file."""
    found: list[Run] = []
    for container in kube.evidence_containers(doc):
        node = container.node
        command, args = y.get(node, "command"), y.get(node, "args")
        where = command if command is not None else args if args is not None else node
        obj = container.pod.obj
        found.append(
            Run(
                path=path,
                kind=obj.kind,
                name=obj.name,
                namespace=obj.namespace,
                container=container.name,
                init=container.key == "initContainers",
                image=y.scalar(y.get(node, "image")) or "",
                command=_strings(command),
                args=_strings(args),
                span=_span(node),
                line=line_of(where),
            )
        )
    return found


def compose_runs(path: Path, docs: list[Node]) -> list[Run]:
    """Each compose service as a run of its image (or of the image its ``build:`` makes)."""
    found: list[Run] = []
    for name, service in compose_services(docs):
        build = compose_build(path, service)
        command, entrypoint = y.get(service, "command"), y.get(service, "entrypoint")
        where = entrypoint if entrypoint is not None else command
        test = y.get_path(service, "healthcheck", "test")
        found.append(
            Run(
                path=path,
                kind="compose",
                name=name,
                namespace=None,
                container=name,
                init=False,
                image=y.scalar(y.get(service, "image")) or "",
                command=_strings(entrypoint),
                args=_strings(command),
                span=_span(service),
                line=line_of(where if where is not None else service),
                dockerfile=build.dockerfile if build else None,
                check=_strings(test) or (),
                check_line=line_of(test) if test is not None else 0,
                sockets=tuple(_sockets(service)),
                privileged_line=_privileged_line(service),
            )
        )
    return found


def _privileged_line(service: Node) -> int:
    """The line of a compose service's ``privileged: true``, or 0."""
    value = y.get(service, "privileged")
    return line_of(value) if value is not None and y.truthy(value) else 0


#: A container runtime's socket: whoever opens it commands the host's containers, and
#: only root (or the ``docker`` group) may (``srw-rw---- root docker``).
RUNTIME_SOCKET = re.compile(r"(?:^|/)(?:docker|containerd|podman|crio|cri-dockerd)\.sock$")


def _sockets(service: Node) -> Iterator[tuple[int, str]]:
    """The runtime sockets a compose service binds: ``/var/run/docker.sock:/var/run/
    docker.sock`` (short syntax) or ``source:`` of a long-syntax bind."""
    volumes = y.get(service, "volumes")
    for item in volumes.value if y.is_sequence(volumes) else ():
        if y.is_scalar(item):
            source = str(item.value).split(":", 1)[0]
        else:
            source = y.scalar(y.get(item, "source")) or ""
        if RUNTIME_SOCKET.search(source.strip().rstrip("/")):
            yield line_of(item), source.strip()


@dataclass(frozen=True)
class ImageRename:
    """A Kustomize ``images:`` entry: manifests saying ``name`` render ``new_name``."""

    name: str
    new_name: str
    line: int
    #: Where the rename is stated when not in the Kustomization itself: the Makefile or
    #: script that runs ``kustomize edit set image`` on it (``line`` is that file's).
    stated_in: Path | None = None


@dataclass(frozen=True)
class Kustomization:
    path: Path
    resources: tuple[Path, ...]  # files and folders it includes (remote ones dropped)
    images: tuple[ImageRename, ...]
    patches: tuple[Path, ...]
    #: ``kind: Component``: a part other Kustomizations list under ``components``, never
    #: built alone (``kubectl kustomize`` refuses it).
    component: bool = False


def is_kustomization(doc: Node) -> bool:
    kind = y.scalar(y.get(doc, "kind"))
    keys = ("resources", "bases", "images", "patches", "patchesStrategicMerge", "components")
    return kind in ("Kustomization", "Component") or (
        kind is None and any(y.get(doc, k) is not None for k in keys)
    )


def parse_kustomization(path: Path, docs: list[Node]) -> Kustomization | None:
    doc = docs[0] if docs else None
    if doc is None or not y.is_mapping(doc):
        return None
    folder = path.parent
    resources = [
        norm(folder / entry)
        for key in ("resources", "bases", "components")
        for entry in _scalars(y.get(doc, key))
        if not any(marker in entry for marker in _REMOTE)
    ]
    images = []
    for item in _items(y.get(doc, "images")):
        name, new_name = y.scalar(y.get(item, "name")), y.scalar(y.get(item, "newName"))
        if name and new_name:
            images.append(ImageRename(name, new_name, line_of(item)))
    component = y.scalar(y.get(doc, "kind")) == "Component"
    patches = tuple(_patches(folder, doc))
    return Kustomization(path, tuple(resources), tuple(images), patches, component)


def _patches(folder: Path, doc: Node) -> Iterator[Path]:
    for item in _items(y.get(doc, "patches")):
        entry = y.scalar(item) if y.is_scalar(item) else y.scalar(y.get(item, "path"))
        if entry and "\n" not in entry:
            yield norm(folder / entry)
    for entry in _scalars(y.get(doc, "patchesStrategicMerge")):
        if "\n" not in entry and ":" not in entry:  # else an inline patch
            yield norm(folder / entry)
    for item in _items(y.get(doc, "patchesJson6902")):
        entry = y.scalar(y.get(item, "path"))
        if entry:
            yield norm(folder / entry)


def _items(node: Node | None) -> Iterator[Node]:
    yield from node.value if y.is_sequence(node) else ()


def _scalars(node: Node | None) -> Iterator[str]:
    for item in _items(node):
        if y.is_scalar(item) and item.value:
            yield item.value
