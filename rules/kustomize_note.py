"""Kustomize overlays that set a workload's securityContext after tighten hardened the base.

A JSON6902 ``add``/``replace`` (or a strategic-merge patch) in an overlay decides what the
rendered object carries, so a finding on the base must say that the overlay has the last
word. The Kustomizations that render a manifest come from the repository model
(``Evidence.repository``); without one (no repository evidence) nothing is said. When
kubectl or kustomize is at hand the overlay is also rendered and judged at the patch
(``rules.kustomize_rendered``); this note keeps the base's finding honest without it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from fixer.documents.yaml import YamlFile
from fixer.documents.yaml.kube import PodSpec
from fixer.repository.render import PatchUse, patch_uses
from fixer.rule import Context

_KEY = "kustomize_note.kustomizations"


def overlay_replacing_security_context(ctx: Context[YamlFile], pod: PodSpec) -> str:
    """ "a Kustomize patch in overlays/prod/kustomization.yaml sets ..." or ""."""
    model = getattr(ctx.evidence, "repository", None)
    name = pod.obj.name
    if model is None or not name:
        return ""
    # Asked once per file, not once per workload: most manifests have no Kustomization.
    kustomizations = ctx.doc.cache.get(_KEY)
    if kustomizations is None:
        try:
            kustomizations = ctx.doc.cache[_KEY] = tuple(
                model.kustomizations_of(_absolute(ctx.path))
            )
        except Exception:  # evidence is optional: a broken model says nothing
            return ""
    if not kustomizations:
        return ""
    root = Path(model.root)
    for kustomization in kustomizations:
        for use in _uses(Path(kustomization)):
            patch = f"{use.target_kind} {use.target_name}\n{use.text}"
            if "securityContext" in patch and re.search(rf"\b{re.escape(name)}\b", patch):
                shown = os.path.relpath(kustomization, root)
                return (
                    f"a Kustomize patch listed in {shown} sets the securityContext of "
                    f"{pod.obj.kind}/{name}: the rendered output (`kubectl kustomize`) is what "
                    "reaches the cluster; put the fix where it survives"
                )
    return ""


_REPLACED_KEY = "kustomize_note.replaced"
#: A JSON6902 operation path that sets a whole container securityContext.
_SC_PATH = re.compile(
    r"^/spec(?:/jobTemplate/spec)?(?:/template/spec)?/(containers|initContainers)/(\d+)"
    r"/securityContext/?$"
)


def replaced_container_contexts(ctx: Context[YamlFile], pod: PodSpec) -> dict[tuple[str, int], str]:
    """Containers (key, index) whose whole securityContext a JSON6902 ``add``/``replace``
    sets in every deployed render of this manifest (each top-level Kustomization that
    renders it, through its own patches or a Component it lists), with what to say:
    node-feature-discovery's ``components/common/securitycontext.yaml`` sets every nfd
    container's securityContext, so fields written into the base's are dead in every render.
    Empty when any top-level render keeps the base's (or there is no repository model)."""
    model = getattr(ctx.evidence, "repository", None)
    name = pod.obj.name
    if model is None or not name:
        return {}
    # The Kustomizations of the file, asked once per file (shared with the overlay note):
    # most manifests have none, and then nothing else is looked at.
    rendering = ctx.doc.cache.get(_KEY)
    if rendering is None:
        try:
            rendering = ctx.doc.cache[_KEY] = tuple(model.kustomizations_of(_absolute(ctx.path)))
        except Exception:  # evidence is optional: a broken model says nothing
            return {}
    if not rendering:
        return {}
    cache = ctx.doc.cache.setdefault(_REPLACED_KEY, {})
    key = (pod.obj.kind, name)
    if key not in cache:
        try:
            cache[key] = _replaced(model, [Path(k) for k in rendering], pod.obj.kind, name)
        except Exception:  # evidence is optional: a broken model says nothing
            cache[key] = {}
    return cache[key]  # type: ignore[no-any-return]


#: The last model's Kustomizations by path and by folder, and those another one includes
#: (built once per run, not once per workload; the model is held so its id is not reused).
_maps: list[tuple[Any, dict[Path, Any], dict[Path, Path], set[Path]]] = []


def _model_maps(model: Any) -> tuple[dict[Path, Any], dict[Path, Path], set[Path]]:
    if _maps and _maps[0][0] is model:
        return _maps[0][1], _maps[0][2], _maps[0][3]
    every = {k.path: k for k in model.kustomizations}
    by_folder = {p.parent: p for p in every}
    included = {by_folder[r] for k in every.values() for r in k.resources if r in by_folder}
    _maps[:] = [(model, every, by_folder, included)]
    return every, by_folder, included


def _replaced(
    model: Any, rendering: list[Path], kind: str, name: str
) -> dict[tuple[str, int], str]:
    every, by_folder, included = _model_maps(model)
    top = [k for k in rendering if k not in included]
    if not top:
        return {}
    root = Path(model.root)
    found: dict[tuple[str, int], str] | None = None
    for kustomization in top:
        sources = _chain_sources(kustomization, set(rendering), every, by_folder)
        mine: dict[tuple[str, int], str] = {}
        for source in sources:
            for use in _uses(source):
                if not _targets(use, kind, name):
                    continue
                for container in _set_contexts(use.text):
                    shown = os.path.relpath(use.file or source, root)
                    mine.setdefault(
                        container,
                        f"a Kustomize patch ({shown}, listed in "
                        f"{os.path.relpath(source, root)}) sets this container's whole "
                        "securityContext in every render that deploys it: fix it there",
                    )
        found = mine if found is None else {k: v for k, v in found.items() if k in mine}
        if not found:
            return {}
    return found or {}


def _chain_sources(
    top: Path, rendering: set[Path], every: dict[Path, Any], by_folder: dict[Path, Path]
) -> list[Path]:
    """The Kustomizations whose patches reach the manifest in ``top``'s render: ``top`` and
    those it includes on the way down to the manifest (``rendering``), with the Components
    each of them lists (``samples/custom-rules`` includes ``default``, which lists the
    Component that patches)."""
    out: list[Path] = []
    todo = [top]
    while todo:
        current = todo.pop()
        if current in out:
            continue
        out.append(current)
        kustomization = every.get(current)
        for folder in kustomization.resources if kustomization is not None else ():
            listed = by_folder.get(folder)
            if listed is not None and (listed in rendering or every[listed].component):
                todo.append(listed)
    return out


#: Patch entries of Kustomization files, by path, size and mtime: every workload of a
#: manifest a Kustomization renders asks about the same few files.
_USES: dict[tuple[Path, int, int], list[PatchUse]] = {}


def _uses(kustomization: Path) -> list[PatchUse]:
    try:
        st = kustomization.stat()
    except OSError:
        return []
    key = (kustomization, st.st_size, st.st_mtime_ns)
    found = _USES.get(key)
    if found is None:
        if len(_USES) >= 256:
            _USES.clear()
        found = _USES[key] = patch_uses(kustomization)
    return found


def _targets(use: PatchUse, kind: str, name: str) -> bool:
    """The patch's target selects the object: kind equal when given, name as Kustomize
    reads it (a regular expression matched whole: ``nfd.*``)."""
    if use.target_name is None or (use.target_kind and use.target_kind != kind):
        return False
    try:
        return re.fullmatch(use.target_name, name) is not None
    except re.error:
        return use.target_name == name


def _set_contexts(text: str) -> list[tuple[str, int]]:
    """(containers key, index) of each JSON6902 ``add``/``replace`` of a whole
    securityContext in ``text``."""
    from fixer.documents import yaml as y
    from fixer.documents.text import SourceText

    if "securityContext" not in text:
        return []
    try:
        doc = y.parse(SourceText(text))
    except Exception:
        return []
    root = doc.documents[0] if doc.documents else None
    out = []
    for op in root.value if y.is_sequence(root) else []:
        if y.scalar(y.get(op, "op")) not in ("add", "replace"):
            continue
        m = _SC_PATH.match(y.scalar(y.get(op, "path")) or "")
        if m:
            out.append((m.group(1), int(m.group(2))))
    return out


def _absolute(path: Path) -> Path:
    """The file's absolute path: the model reads a relative path from its own root, which
    is not the working folder when the run names a subfolder (``tighten fix kustomize``)."""
    return Path(os.path.abspath(path))
