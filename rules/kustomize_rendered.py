"""Judge what a Kustomize overlay renders, and report (or fix) it at the patch.

The session renders each top-level Kustomization whose patches touch a workload's
``securityContext``, host namespaces or ``privileged`` (``fixer.repository.render``), after
the base files were fixed, and processes each such patch file once more with
``ctx.evidence.rendered`` set: a mapping from the patch file to its uses and renders.
K8S002 then hands the patch to ``findings`` below instead of reading it as a workload.

What the render shows is compared with what the patch says, so only what the patch causes
is reported there (the base's own findings are the base's):

- an explicit root or privileged setting (``runAsUser: 0``, ``privileged: true``,
  ``hostNetwork: true``, ...) is the author's decision (issue 13, class 10): a finding with
  no fix, under the rule that flags it in the render (K8S002, K8S001, K8S005);
- a JSON6902 ``add``/``replace`` of a whole ``securityContext`` with a mapping that merely
  lacks the hardening: the keys K8S002 would add to the rendered object (its safe and
  proven fixes, so the same judgement as in a manifest) are added to the patch's ``value``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fixer.apply import apply_fixes
from fixer.documents import yaml as y
from fixer.documents.text import SourceText
from fixer.documents.yaml import YamlFile, kube
from fixer.documents.yaml.edit import insert_into_mapping
from fixer.evidence.images import Evidence
from fixer.model import Finding, Fix, Safety, Span
from fixer.repository.render import PatchUse, Render
from fixer.rule import Context, Rule

#: Explicit settings that are the author's decision, with the rule that flags them.
_EXPLICIT: dict[tuple[str, str], tuple[str, str]] = {
    ("sc", "runAsUser"): ("0", "K8S002"),
    ("sc", "runAsNonRoot"): ("false", "K8S002"),
    ("sc", "allowPrivilegeEscalation"): ("true", "K8S002"),
    ("sc", "privileged"): ("true", "K8S001"),
    ("pod", "hostNetwork"): ("true", "K8S005"),
    ("pod", "hostPID"): ("true", "K8S005"),
    ("pod", "hostIPC"): ("true", "K8S005"),
}


@dataclass(frozen=True)
class _Setting:
    """A place the patch writes: pod level or one container, as a path under the pod spec."""

    where: tuple[str, ...]  # () pod spec; ("containers", "0") a container
    key: str  # "securityContext", "hostNetwork", ...
    node: y.Node  # the value the patch gives it
    anchor: y.Node  # what the finding points at (the key, or the op's ``value:``)
    whole: bool  # a JSON6902 add/replace of the whole mapping
    single: str = ""  # a JSON6902 op on one key of the securityContext (``.../runAsUser``)


def findings(rule: Rule[YamlFile], ctx: Context[YamlFile]) -> Iterator[Finding]:
    """The findings of one patch file, from every render it takes part in."""
    rendered: Mapping[Path, Any] = ctx.evidence.rendered or {}
    for use, render in rendered.get(Path(os.path.abspath(ctx.path)), ()):
        if render.text:
            yield from _judge(rule, ctx, use, render)


def _judge(
    rule: Rule[YamlFile], ctx: Context[YamlFile], use: PatchUse, render: Render
) -> Iterator[Finding]:
    try:
        out = y.parse(SourceText(render.text or ""))
    except y.YamlError:
        return
    for patch in ctx.doc.documents:
        kind, name, settings = _settings(patch, use)
        obj = _rendered_object(out, kind, name)
        pod = kube.pod_spec(obj) if obj is not None else None
        if obj is None or pod is None:
            continue
        flagged = _flagged(ctx, out, obj)
        for setting in settings:
            target = _locate(pod.node, setting.where)
            if not y.is_mapping(target):
                continue
            explicit = list(_explicit(ctx, render, obj, target, setting, flagged))
            yield from explicit
            # Root or privileged on purpose: hardening it would be rewriting that decision.
            if setting.whole and setting.key == "securityContext" and not explicit:
                yield from _missing(rule, ctx, render, out, obj, setting)


def _settings(patch: y.Node, use: PatchUse) -> tuple[str | None, str | None, list[_Setting]]:
    """The target and the judged settings of one patch document (JSON6902 or strategic)."""
    if y.is_sequence(patch):  # JSON6902: a list of operations
        found = [s for op in patch.value if (s := _operation(op, use.target_kind)) is not None]
        return use.target_kind, use.target_name, found
    if not y.is_mapping(patch):
        return None, None, []
    kind = y.scalar(y.get(patch, "kind")) or use.target_kind
    name = y.scalar(y.get_path(patch, "metadata", "name")) or use.target_name
    spec = y.get_path(patch, *kube.POD_SPEC_PATHS.get(kind or "", ("spec", "template", "spec")))
    return kind, name, list(_merged(spec)) if y.is_mapping(spec) else []


def _operation(op: y.Node, kind: str | None) -> _Setting | None:
    if not y.is_mapping(op) or y.scalar(y.get(op, "op")) not in ("add", "replace"):
        return None
    path = (y.scalar(y.get(op, "path")) or "").strip("/").split("/")
    prefix = list(kube.POD_SPEC_PATHS.get(kind or "", ("spec", "template", "spec")))
    value, anchor = y.get(op, "value"), y.key_node(op, "value")
    if path[: len(prefix)] != prefix or value is None or anchor is None:
        return None
    rest = path[len(prefix) :]
    if len(rest) == 1:
        return _Setting((), rest[0], value, anchor, rest[0] == "securityContext")
    if len(rest) == 2 and rest[0] == "securityContext":
        return _Setting((), "securityContext", value, anchor, False, rest[1])
    if len(rest) in (3, 4) and rest[0] in kube.CONTAINER_KEYS and rest[2] == "securityContext":
        single = rest[3] if len(rest) == 4 else ""
        return _Setting(tuple(rest[:2]), "securityContext", value, anchor, not single, single)
    return None


def _merged(spec: y.Node) -> Iterator[_Setting]:
    """A strategic-merge patch's pod-level and container-level settings (merged, not whole:
    keys the base has and the patch does not survive)."""
    for key in ("securityContext", "hostNetwork", "hostPID", "hostIPC"):
        node, anchor = y.get(spec, key), y.key_node(spec, key)
        if node is not None and anchor is not None:
            yield _Setting((), key, node, anchor, False)
    for key in kube.CONTAINER_KEYS:
        seq = y.get(spec, key)
        for item in seq.value if y.is_sequence(seq) else []:
            sc, anchor = y.get(item, "securityContext"), y.key_node(item, "securityContext")
            name = y.scalar(y.get(item, "name"))
            if sc is not None and anchor is not None and name:
                yield _Setting((key, f"name={name}"), "securityContext", sc, anchor, False)


def _locate(spec: y.Node, where: tuple[str, ...]) -> y.Node | None:
    """The pod spec itself, or the container ``where`` names (by index or ``name=``)."""
    if not where:
        return spec
    seq = y.get(spec, where[0])
    items = [i for i in seq.value if y.is_mapping(i)] if y.is_sequence(seq) else []
    step = where[1]
    if step.startswith("name="):
        return next((i for i in items if y.scalar(y.get(i, "name")) == step[5:]), None)
    return items[int(step)] if step.isdigit() and int(step) < len(items) else None


def _rendered_object(out: YamlFile, kind: str | None, name: str | None) -> Any:
    """The rendered object the patch targets (a ``namePrefix`` may have renamed it)."""
    candidates = [o for o in kube.objects(out) if o.kind == kind]
    exact = [o for o in candidates if o.name == name]
    loose = [o for o in candidates if name and o.name and name in o.name]
    found = exact or loose
    return found[0] if len(found) == 1 else None


def _flagged(ctx: Context[YamlFile], out: YamlFile, obj: Any) -> set[str]:
    """The K8S rules that report the rendered object (checked, never fixed)."""
    from rules.host import HostNamespaces
    from rules.privileged import PrivilegedContainer

    span = y.span(obj.node)
    sub = _context(ctx, out)
    flagged: set[str] = set()
    for judge in (PrivilegedContainer(), HostNamespaces(), _security_context()):
        for finding in judge.check(sub):
            if span.start <= finding.span.start <= span.end:
                flagged.add(finding.rule)
    return flagged


def _security_context() -> Rule[YamlFile]:
    from rules.security_context import SecurityContext

    return SecurityContext()


def _context(ctx: Context[YamlFile], doc: YamlFile) -> Context[YamlFile]:
    """A context on the rendered stream: the run's settings and evidence, no renders (so
    K8S002 judges it as a manifest)."""
    evidence = Evidence(ctx.evidence.resolutions, ctx.evidence.repository)
    return Context(doc, ctx.path, ctx.settings, ctx.resolutions, [], evidence=evidence)


def _explicit(
    ctx: Context[YamlFile],
    render: Render,
    obj: Any,
    target: y.Node,
    setting: _Setting,
    flagged: set[str],
) -> Iterator[Finding]:
    """Root or privileged settings the patch writes and the render carries: reported."""
    from rules.host import HostNamespaces
    from rules.privileged import PrivilegedContainer

    rules: dict[str, Rule[YamlFile]] = {
        "K8S001": PrivilegedContainer(),
        "K8S002": _security_context(),
        "K8S005": HostNamespaces(),
    }
    if setting.single:
        pairs = [(setting.anchor, setting.node)]
        rendered = y.get(target, "securityContext")
        scope = "sc"
    elif setting.key == "securityContext":
        pairs = list(y.pairs(setting.node)) if y.is_mapping(setting.node) else []
        rendered = y.get(target, "securityContext")
        scope = "sc"
    else:
        pairs = [(setting.anchor, setting.node)]
        rendered = target
        scope = "pod"
    for key_node, value in pairs:
        key = setting.key if scope == "pod" else setting.single or y.scalar(key_node) or ""
        bad = _EXPLICIT.get((scope, key))
        shown = y.scalar(value)
        if bad is None or shown is None or shown.lower() != bad[0] or bad[1] not in flagged:
            continue
        if (y.scalar(y.get(rendered, key)) or "").lower() != bad[0]:
            continue  # a later patch or the base had the last word
        at = key_node  # the key in the patch's mapping, or the op's ``value:``
        message = (
            f"{_shown(ctx, render.kustomization.parent)} renders {obj.kind}/{obj.name} with "
            f"{key}: {shown}: the patch in {_shown(ctx, ctx.path)} {_verb(setting)} "
            "(an explicit setting is the author's decision: reported, not rewritten)"
        )
        span = Span(at.start_mark.index, at.start_mark.index)
        yield ctx.finding(rules[bad[1]], span, message)


def _verb(setting: _Setting) -> str:
    level = "pod" if not setting.where else "container"
    if setting.key != "securityContext":
        return f"sets {setting.key}"
    if setting.single:
        return f"sets {setting.single} in the {level} securityContext"
    how = "replaces" if setting.whole else "sets"
    return f"{how} the {level} securityContext"


def _missing(
    rule: Rule[YamlFile],
    ctx: Context[YamlFile],
    render: Render,
    out: YamlFile,
    obj: Any,
    setting: _Setting,
) -> Iterator[Finding]:
    """Keys K8S002 would add to the replaced securityContext in the render: added to the
    patch's value, so the fix survives the overlay."""
    if not y.is_mapping(setting.node):
        return  # a null or scalar value: nothing to add keys to
    wanted, safety = _hardened(rule, ctx, out, obj, setting)
    present = {y.scalar(k) for k, _ in y.pairs(setting.node)}
    missing = {k: v for k, v in wanted.items() if k not in present}
    if not missing:
        return
    edit = insert_into_mapping(ctx.doc, setting.node, missing, ctx.style)
    where = "pod" if not setting.where else "container"
    message = (
        f"{_shown(ctx, render.kustomization.parent)} renders {obj.kind}/{obj.name} without "
        f"{', '.join(missing)} in the {where} securityContext: the patch in "
        f"{_shown(ctx, ctx.path)} replaces the {where} securityContext hardened in the base"
    )
    span = Span(setting.anchor.start_mark.index, setting.anchor.start_mark.index)
    title = f"add {', '.join(missing)} to the securityContext the patch writes"
    yield ctx.finding(rule, span, message, edits=[edit], title=title, safety=safety)


def _hardened(
    rule: Rule[YamlFile], ctx: Context[YamlFile], out: YamlFile, obj: Any, setting: _Setting
) -> tuple[dict[str, Any], Safety]:
    """What K8S002's safe and proven fixes add to that securityContext of the render, and
    the weakest safety among them."""
    import yaml

    judge = _security_context()
    doc, used = out, list[Fix]()
    for _ in range(_PASSES):  # overlapping fixes wait for the next pass, as in the engine
        fixes = [
            f.fix
            for f in judge.check(_context(ctx, doc))
            if f.fix is not None and f.fix.safety is not Safety.UNPROVEN and not f.fix.side_files
        ]
        applied = apply_fixes(doc.text, fixes) if fixes else None
        if applied is None or applied.text == doc.text:
            break
        used += applied.applied
        try:
            doc = y.parse(SourceText(applied.text))
        except y.YamlError:
            return {}, Safety.SAFE
    before = _sc_of(yaml.safe_load_all(out.text), obj, setting)
    after = _sc_of(yaml.safe_load_all(doc.text), obj, setting)
    added = {k: v for k, v in after.items() if k not in before}
    safety = Safety.PROVEN if any(f.safety is Safety.PROVEN for f in used) else Safety.SAFE
    return added, safety


_PASSES = 5


def _sc_of(docs: Any, obj: Any, setting: _Setting) -> dict[str, Any]:
    for doc in docs:
        if not isinstance(doc, dict) or doc.get("kind") != obj.kind:
            continue
        if (doc.get("metadata") or {}).get("name") != obj.name:
            continue
        node: Any = doc
        for key in kube.POD_SPEC_PATHS.get(obj.kind, ("spec", "template", "spec")):
            node = node.get(key) if isinstance(node, dict) else None
        if setting.where and isinstance(node, dict):
            items = [i for i in node.get(setting.where[0]) or [] if isinstance(i, dict)]
            step = setting.where[1]
            if step.startswith("name="):
                node = next((i for i in items if i.get("name") == step[5:]), None)
            else:
                node = items[int(step)] if step.isdigit() and int(step) < len(items) else None
        sc = node.get("securityContext") if isinstance(node, dict) else None
        return sc if isinstance(sc, dict) else {}
    return {}


def _shown(ctx: Context[YamlFile], path: Path) -> str:
    """``path`` as the user named the repository (relative to the model's root)."""
    model = ctx.evidence.repository
    root = getattr(model, "root", None)
    if root is None:
        return str(path)
    rel = os.path.relpath(os.path.abspath(path), root)
    return str(path) if rel.startswith("..") else rel
