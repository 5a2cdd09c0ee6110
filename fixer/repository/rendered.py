"""Copies of an object in other YAML files: generated bundles (``install.yaml`` built by
``kustomize build`` and marked ``DO NOT EDIT``) and concatenations of sources.

A fix to a source manifest whose object is also in such a bundle leaves the bundle stale:
the project's "generated files are up to date" check (``make codegen`` then ``git diff
--exit-code``) fails on the pull request, and tighten cannot run the generator. The bundles
are skipped as generated, so they are only scanned here, with the repository's other YAML
files, by lines (kind and ``metadata.name`` of each document, no YAML parse: bundles of
CRDs run to megabytes), and only when a fix asks.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

from fixer.documents.yaml import kube
from fixer.documents.yaml import nodes as y
from fixer.documents.yaml.nodes import Node, YamlFile
from fixer.repository import walk

_SEPARATOR = re.compile(r"(?m)^---[ \t]*(?:#.*)?$")
#: The first key of each item of a container list: ``kubectl kustomize`` (and ``kubectl
#: get -o yaml``) write every mapping's keys sorted, so a container starts with ``args``,
#: ``command``, ``env`` or ``image``, never with the ``name`` a person writes first.
_FIRST_CONTAINER_KEY = re.compile(r"ontainers:[ \t]*\r?\n[ \t]*- ([\w-]+):")
_KIND = re.compile(r"(?m)^kind:[ \t]*[\"']?([A-Za-z][\w.-]*)")
_NAME = re.compile(r"^([ \t]+)name:[ \t]*[\"']?([\w.:-]+)")


def looks_rendered(text: str) -> bool:
    """Whether ``text`` reads as a tool's rendering of several objects (``kubectl kustomize
    config/default > dist/install.yaml``): more than one document, and containers whose
    keys are sorted. Read by lines; a person's manifest names each container first."""
    if "ontainers:" not in text or "---" not in text:
        return False
    found = False
    for m in _FIRST_CONTAINER_KEY.finditer(text):
        if m.group(1) == "name":
            return False  # written by a person (most files: the first list says so)
        found = True
    return found and _SEPARATOR.search(text) is not None


def identities(text: str) -> Iterator[tuple[str, str]]:
    """(kind, metadata.name) of each top-level object of a YAML text, by lines."""
    for document in _SEPARATOR.split(text):
        kind = _KIND.search(document)
        name = _metadata_name(document)
        if kind and name:
            yield kind.group(1), name


def _metadata_name(document: str) -> str | None:
    lines = iter(document.splitlines())
    for line in lines:
        if line.rstrip() == "metadata:":
            break
    else:
        return None
    depth: int | None = None
    for line in lines:
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        indent = len(line) - len(line.lstrip(" \t"))
        if indent == 0:
            return None
        if depth is None:
            depth = indent
        if indent == depth:
            m = _NAME.match(line)
            if m:
                return m.group(2)
    return None


class Holders:
    """Which YAML files hold an object of a given kind and name, and which objects each
    file holds: every file is read once, by lines, on the first question."""

    def __init__(self, files: Iterable[Path]) -> None:
        self._files = [p for p in files if p.suffix.lower() in (".yaml", ".yml")]
        self._holding: dict[tuple[str, str], list[Path]] = {}
        self._objects: dict[Path, list[tuple[str, str]]] | None = None

    def _read(self) -> dict[Path, list[tuple[str, str]]]:
        if self._objects is None:
            objects: dict[Path, list[tuple[str, str]]] = {}
            for path in self._files:
                found = objects[path] = list(dict.fromkeys(identities(walk.read_text(path) or "")))
                for identity in found:
                    self._holding.setdefault(identity, []).append(path)
            self._objects = objects
        return self._objects

    def holding(self, kind: str, name: str) -> list[Path]:
        self._read()
        return list(self._holding.get((kind, name), ()))

    def objects_of(self, path: Path) -> list[tuple[str, str]] | None:
        """The objects of ``path``; None when it is not one of the files read."""
        return self._read().get(path)


#: What tighten's fixes of a workload change: the pod's security settings and each
#: container's ``securityContext`` (a fix edits nothing else of a rendered copy).
_POD_FIELDS = (
    "securityContext",
    "hostNetwork",
    "hostPID",
    "hostIPC",
    "automountServiceAccountToken",
)


def _plain(node: Node | None) -> object:
    """A node as a comparable value (keys sorted, scalars as written)."""
    if node is None:
        return None
    if y.is_mapping(node):
        return tuple(sorted((y.scalar(k) or "", _plain(v)) for k, v in y.pairs(node)))
    if y.is_sequence(node):
        return tuple(_plain(item) for item in node.value)
    return node.value


def security_view(pod: kube.PodSpec) -> object:
    """The parts of a workload tighten's fixes edit, comparable between two files: two
    copies with the same view get the same edits."""
    fields = tuple(_plain(y.get(pod.node, key)) for key in _POD_FIELDS)
    containers = tuple(
        sorted(
            (c.key, c.name, _plain(y.get(c.node, "securityContext"))) for c in kube.containers(pod)
        )
    )
    return fields, containers


def views(doc: YamlFile) -> dict[tuple[str, str], object]:
    """``security_view`` of each named workload of ``doc``, by (kind, name)."""
    return {
        (pod.obj.kind, pod.obj.name): security_view(pod)
        for pod in kube.pod_specs(doc)
        if pod.obj.name
    }


Judged = dict[Path, dict[tuple[str, str], str]]
#: A rendering is read whole, however large (Harbor Operator's is 3.9 MB).
RENDERING_BYTES = 64 * 1024 * 1024


def out_of_step(
    candidates: Sequence[Path],
    sources: Sequence[Path],
    parse: Callable[[Path], YamlFile | None],
    root: Path,
    derived: Callable[[Path], str] = lambda path: "",
) -> Judged:
    """For each file, the workloads whose fixes a rendering cannot keep in step, with what
    the fixes need. ``candidates`` read as a tool's rendering (``looks_rendered``);
    ``sources`` are the files the repository's Kustomizations list.

    A candidate that no Kustomization lists and that holds objects of two source files or
    more is a rendering of the Kustomize tree (MetalLB's ``config/manifests/*.yaml``,
    ``kubectl kustomize config/native`` each). It is edited with its sources, the same edit
    each, so it still renders the same: but where the copies of a workload differ in what
    a fix edits (a Kustomize patch adds an init container to the rendered one), the edits
    differ, and where a rendering holds a workload no source holds (a remote base), no edit
    of the repository renders it that way. The next render undoes such an edit, and a
    project that checks its renderings are up to date fails: every copy keeps its fixes
    offered, withheld. So does every copy of a source whose own fixes wait for a script
    that renders it through another command (``derived``, what that script writes).
    Judged when the scan reads the tree, before any file is written."""
    source_set = set(sources)
    objects: dict[Path, list[tuple[str, str]]] = {}
    holding: dict[tuple[str, str], list[Path]] = {}
    for path in [*sources, *(c for c in candidates if c not in source_set)]:
        limit = walk.MAX_BYTES if path in source_set else RENDERING_BYTES
        text = walk.read_text(path, limit)
        found = objects[path] = list(dict.fromkeys(identities(text or "")))
        for identity in found:
            holding.setdefault(identity, []).append(path)
    renderings = {
        c: None
        for c in candidates
        if c not in source_set
        and len({p for o in objects[c] for p in holding[o] if p in source_set}) >= 2
    }  # in walk order, looked up by path
    if not renderings:
        return {}
    seen: dict[Path, dict[tuple[str, str], object]] = {}

    def views_of(path: Path) -> dict[tuple[str, str], object]:
        known = seen.get(path)
        if known is None:
            doc = parse(path)
            known = seen[path] = views(doc) if doc is not None else {}
        return known

    judged: Judged = {}
    done: set[tuple[str, str]] = set()
    for rendering in renderings:
        for identity in views_of(rendering):
            if identity in done:
                continue
            done.add(identity)
            kind, name = identity
            copies = [p for p in holding[identity] if p in source_set or p in renderings]
            held = next(((p, why) for p in copies if p in source_set and (why := derived(p))), None)
            if held is not None:  # the source's own fixes wait for that script's run
                needs = (
                    f"{_shown(held[0], root)} changed first (the file {held[1]} writes from it "
                    "regenerated with it): apply with --unsafe-fixes, then run that line"
                )
                for path in copies:
                    judged.setdefault(path, {})[identity] = needs
                continue
            if not any(p in source_set for p in copies):
                needs = (
                    f"{kind}/{name} changed where the rendering takes it from (no source file "
                    "of the repository holds it: a remote base, a generator), then rendered "
                    "again; or apply with --unsafe-fixes"
                )
                for path in copies:
                    judged.setdefault(path, {})[identity] = needs
                continue
            seen_views = {p: views_of(p).get(identity) for p in copies}
            distinct = {v for v in seen_views.values() if v is not None}
            if len(distinct) < 2:
                continue
            for path in copies:
                other = next(
                    p for p, v in seen_views.items() if v is not None and v != seen_views[path]
                )
                judged.setdefault(path, {})[identity] = (
                    f"every copy of {kind}/{name} changed alike ({_shown(other, root)} holds it "
                    "with other security settings): change what makes the copies differ and "
                    "render again, or apply with --unsafe-fixes"
                )
    return judged


def _shown(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)
