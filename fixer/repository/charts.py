"""What a Helm chart's ``values.yaml`` says about the images it deploys.

Templates are not read (they are Go templates, not YAML), but a chart's values name each
component's image and its options, and two options change what a Dockerfile's ``USER``
should be:

* a persistent volume the chart mounts for the component. A volume the cluster provisions
  is owned by root unless the pod sets ``fsGroup``, so an image that starts as a new
  non-root user can no longer write the data it wrote as root (chaos-mesh's dashboard
  keeps its SQLite database on ``dashboard.persistentVolume`` at ``/data``);
* the ``runAsUser`` the chart gives the component (``securityContext``,
  ``containerSecurityContext`` or ``podSecurityContext``): the user it is deployed as,
  which the image's ``USER`` should agree with (Tetragon's operator runs as 65532).
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


@dataclass(frozen=True)
class ChartUser:
    """The numeric user a chart's values run the component that runs ``image`` as."""

    image: str  # the repository, as the values name it (``quay.io/cilium/tetragon-operator``)
    values: Path
    line: int  # 1-based line of ``runAsUser``
    option: str  # ``tetragonOperator.containerSecurityContext.runAsUser``
    uid: int
    gid: int | None


#: The component options that hold a security context, container's first.
_CONTEXT_KEYS = ("containerSecurityContext", "securityContext", "podSecurityContext")


def chart_users(values: Path, documents: list[Node]) -> list[ChartUser]:
    """The ``runAsUser`` of every component block (a mapping with an ``image``) of the
    values that sets a number: the container's context before the pod's."""
    found: list[ChartUser] = []
    for path, node, image in _components(documents):
        for where, key in _contexts(node):
            context = y.get(where, key)
            setting = y.get(context, "runAsUser") if y.is_mapping(context) else None
            uid = y.number(setting)
            if setting is None or uid is None:
                continue
            gid = y.number(y.get(context, "runAsGroup"))
            inner = () if where is node else (_key_of(node, where),)
            option = ".".join((*path, *inner, key, "runAsUser"))
            found.append(ChartUser(image, values, setting.start_mark.line + 1, option, uid, gid))
            break
    return found


#: A component's block that groups its security contexts (vcluster's
#: ``controlPlane.statefulSet.security.containerSecurityContext``).
_GROUPS = ("security",)


def _contexts(node: Node) -> Iterator[tuple[Node, str]]:
    """(mapping, key) of each place a component's security context may be, the
    container's first: in the component's block or in a ``security:`` block of it."""
    places = [node] + [g for g in (y.get(node, k) for k in _GROUPS) if y.is_mapping(g)]
    for key in _CONTEXT_KEYS:
        for place in places:
            yield place, key


def _key_of(parent: Node, child: Node) -> str:
    return next((y.scalar(k) or "" for k, v in parent.value if v is child), "")


def chart_volumes(values: Path, documents: list[Node]) -> list[ChartVolume]:
    """The persistent volumes of every component block (a mapping with an ``image``) of the
    values, unless the block sets ``fsGroup`` somewhere (the chart hands the volume over)."""
    found: list[ChartVolume] = []
    for path, node, image in _components(documents):
        if _sets_fs_group(node):
            continue
        for key in _VOLUME_KEYS:
            option = y.get(node, key)
            if not y.is_mapping(option):
                continue
            mount = y.scalar(y.get(option, "mountPath")) or ""
            enabled = y.get(option, "enabled")
            if mount or enabled is not None:
                line = (y.key_node(node, key) or option).start_mark.line + 1
                found.append(ChartVolume(image, values, line, ".".join((*path, key)), mount))
                break
    return found


def _components(documents: list[Node]) -> Iterator[tuple[tuple[str, ...], Node, str]]:
    """(key path, block, image) of every mapping of the values that names an ``image``."""
    stack: list[tuple[tuple[str, ...], Node]] = [((), documents[0])] if documents else []
    while stack:
        path, node = stack.pop()
        if len(path) > _MAX_DEPTH or not y.is_mapping(node):
            continue
        image = _image(y.get(node, "image"))
        if image:
            yield path, node, image
        children = [(y.scalar(k), v) for k, v in node.value]
        stack += [((*path, n), v) for n, v in reversed(children) if n and y.is_mapping(v)]


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
