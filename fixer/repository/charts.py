"""What a Helm chart's ``values.yaml`` says about the images it deploys.

Templates are not read (they are Go templates, not YAML), but a chart's values name each
component's image and its options, and one option changes what a Dockerfile's ``USER``
would do: a persistent volume the chart mounts for the component. A volume the cluster
provisions is owned by root unless the pod sets ``fsGroup``, so an image that starts as a
new non-root user can no longer write the data it wrote as root (chaos-mesh's dashboard
keeps its SQLite database on ``dashboard.persistentVolume`` at ``/data``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from fixer.documents import yaml as y
from fixer.documents.yaml import Node

#: Option names of a component's persistent volume (Bitnami-style ``persistence``, and the
#: spellings charts use for the same thing).
_VOLUME_KEYS = ("persistence", "persistentVolume", "persistentVolumeClaim", "pvc", "storage")
_MAX_DEPTH = 6


@dataclass(frozen=True)
class ChartVolume:
    """A persistent volume a chart's values give a component that runs ``image``."""

    image: str  # the repository, as the values name it (``chaos-mesh/chaos-dashboard``)
    values: Path
    line: int  # 1-based line of the volume option
    option: str  # ``dashboard.persistentVolume``
    mount: str  # its mount path, or ""

    def sign(self, root: Path) -> str:
        try:
            shown = self.values.relative_to(root).as_posix()
        except ValueError:
            shown = str(self.values)
        at = f" at {self.mount}" if self.mount else ""
        return (
            f"the Helm chart's {shown}:{self.line} gives it a persistent volume "
            f"({self.option}{at}), owned by root unless the pod sets fsGroup"
        )


def chart_volumes(values: Path, documents: list[Node]) -> list[ChartVolume]:
    """The persistent volumes of every component block (a mapping with an ``image``) of the
    values, unless the block sets ``fsGroup`` somewhere (the chart hands the volume over)."""
    root = documents[0] if documents else None
    return list(_blocks(values, root, (), 0)) if y.is_mapping(root) else []


def _blocks(values: Path, node: Node, path: tuple[str, ...], depth: int) -> Iterator[ChartVolume]:
    if depth > _MAX_DEPTH or not y.is_mapping(node):
        return
    image = _image(y.get(node, "image"))
    if image and not _sets_fs_group(node):
        for key in _VOLUME_KEYS:
            option = y.get(node, key)
            if not y.is_mapping(option):
                continue
            mount = y.scalar(y.get(option, "mountPath")) or ""
            enabled = y.get(option, "enabled")
            if mount or enabled is not None:
                line = (y.key_node(node, key) or option).start_mark.line + 1
                yield ChartVolume(image, values, line, ".".join((*path, key)), mount)
                break
    for key, value in node.value:
        name = y.scalar(key)
        if name and y.is_mapping(value):
            yield from _blocks(values, value, (*path, name), depth + 1)


def _image(node: Node | None) -> str:
    """``repository`` of an ``image:`` mapping, or the name of an ``image: repo:tag``."""
    if y.is_mapping(node):
        return y.scalar(y.get(node, "repository")) or ""
    text = y.scalar(node) or ""
    return text.split("@", 1)[0].rsplit(":", 1)[0] if "/" in text or ":" in text else text


def _sets_fs_group(node: Node) -> bool:
    stack = [node]
    while stack:
        current = stack.pop()
        if y.is_mapping(current):
            for key, value in current.value:
                if y.scalar(key) == "fsGroup":
                    return True
                stack.append(value)
        elif y.is_sequence(current):
            stack.extend(current.value)
    return False
