"""Kustomize overlays that set a workload's securityContext after tighten hardened the base.

A JSON6902 ``add``/``replace`` (or a strategic-merge patch) in an overlay decides what the
rendered object carries, so a finding on the base must say that the overlay has the last
word. The Kustomizations that render a manifest come from the repository model
(``Evidence.repository``); without one (no repository evidence) nothing is said.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fixer.documents.yaml import YamlFile
from fixer.documents.yaml.kube import PodSpec
from fixer.rule import Context

_LIMIT = 256 * 1024  # a Kustomization or patch larger than this is not read


def overlay_replacing_security_context(ctx: Context[YamlFile], pod: PodSpec) -> str:
    """ "a Kustomize patch in overlays/prod/kustomization.yaml sets ..." or ""."""
    model = getattr(ctx.evidence, "repository", None)
    name = pod.obj.name
    if model is None or not name:
        return ""
    try:
        kustomizations = list(model.kustomizations_of(ctx.path))
        root = Path(model.root)
    except Exception:  # evidence is optional: a broken model says nothing
        return ""
    for kustomization in kustomizations:
        for patch in _patches(Path(kustomization)):
            if "securityContext" in patch and re.search(rf"\b{re.escape(name)}\b", patch):
                shown = os.path.relpath(kustomization, root)
                return (
                    f"a Kustomize patch listed in {shown} sets the securityContext of "
                    f"{pod.obj.kind}/{name}: the rendered output (`kubectl kustomize`) is what "
                    "reaches the cluster; put the fix where it survives"
                )
    return ""


def _read(path: Path) -> str:
    try:
        with open(path, "rb") as handle:
            return handle.read(_LIMIT).decode("utf-8", "replace")
    except OSError:
        return ""


def _patches(kustomization: Path) -> Iterator[str]:
    """The text of each patch the Kustomization lists, inline or in a file, with its target."""
    import yaml

    try:
        doc: Any = yaml.load(_read(kustomization), Loader=yaml.CSafeLoader)
    except yaml.YAMLError:
        return
    if not isinstance(doc, dict):
        return
    folder = kustomization.parent
    for key in ("patches", "patchesStrategicMerge", "patchesJson6902"):
        entries = doc.get(key)
        for entry in entries if isinstance(entries, list) else []:
            yield _patch_text(folder, entry)


def _patch_text(folder: Path, entry: Any) -> str:
    if isinstance(entry, str):
        return entry if "\n" in entry else _read(folder / entry)
    if not isinstance(entry, dict):
        return ""
    target = str(entry.get("target", ""))
    body = entry.get("patch")
    if isinstance(body, str):
        return f"{target}\n{body}"
    path = entry.get("path")
    return f"{target}\n{_read(folder / path)}" if isinstance(path, str) else ""
