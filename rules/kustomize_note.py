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

from fixer.documents.yaml import YamlFile
from fixer.documents.yaml.kube import PodSpec
from fixer.repository.render import patch_uses
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
            kustomizations = ctx.doc.cache[_KEY] = tuple(model.kustomizations_of(ctx.path))
        except Exception:  # evidence is optional: a broken model says nothing
            return ""
    if not kustomizations:
        return ""
    root = Path(model.root)
    for kustomization in kustomizations:
        for use in patch_uses(Path(kustomization)):
            patch = f"{use.target_kind} {use.target_name}\n{use.text}"
            if "securityContext" in patch and re.search(rf"\b{re.escape(name)}\b", patch):
                shown = os.path.relpath(kustomization, root)
                return (
                    f"a Kustomize patch listed in {shown} sets the securityContext of "
                    f"{pod.obj.kind}/{name}: the rendered output (`kubectl kustomize`) is what "
                    "reaches the cluster; put the fix where it survives"
                )
    return ""
