"""K8S002: container securityContext hardened to the Pod Security Standards."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from fixer.documents import yaml as y
from fixer.documents.yaml import Node, YamlFile, kube
from fixer.documents.yaml.edit import Value, render_flow, value_span
from fixer.documents.yaml.kube import Container, PodSpec
from fixer.documents.yaml.patch import Patch
from fixer.model import Finding, Fix, Safety, Span
from fixer.rule import Context, Rule, Severity
from fixer.settings import Profile
from rules import security_judgement as judge
from rules import workload as wl
from rules.security_judgement import Verdict

#: Capabilities the baseline profile allows a container to add.
BASELINE_CAPS = frozenset(
    [
        "AUDIT_WRITE",
        "CHOWN",
        "DAC_OVERRIDE",
        "FOWNER",
        "FSETID",
        "KILL",
        "MKNOD",
        "NET_BIND_SERVICE",
        "SETFCAP",
        "SETGID",
        "SETPCAP",
        "SETUID",
        "SYS_CHROOT",
    ]
)
RESTRICTED_CAPS = frozenset({"NET_BIND_SERVICE"})
_SECCOMP_OK = ("RuntimeDefault", "Localhost")


@dataclass
class _Group:
    """The changes of one safety level for one pod: one fix."""

    patch: Patch
    needs: list[str] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)


@dataclass
class _Plan:
    """What one pod needs, gathered container by container, then turned into one fix per
    safety level: the safe parts apply even when the behaviour-changing ones are withheld."""

    pod: PodSpec
    ctx: Context[YamlFile]
    groups: dict[Safety, _Group] = field(default_factory=dict)
    problems: dict[tuple[int, Safety | None], list[str]] = field(default_factory=dict)
    reasons: dict[int, list[str]] = field(default_factory=dict)
    notes: dict[tuple[int, Safety], list[str]] = field(default_factory=dict)

    def at(self, c: Container | None, problem: str, verdict: Verdict | Safety) -> Patch:
        """Record ``problem`` (for ``c``, or every container when None) under the verdict's
        safety level and return the patch its edits go to."""
        # A bare Safety (most calls) carries no text: no Verdict is built for it.
        safety = verdict if isinstance(verdict, Safety) else verdict.safety
        group = self.groups.get(safety)
        if group is None:
            # Not ``self``: a plan that held itself would be freed only by the gc.
            ctx, node = self.ctx, self.pod.node
            group = self.groups[safety] = _Group(Patch(ctx.doc, lambda: ctx.style_at(node)))
        if not isinstance(verdict, Safety):
            for text, into in ((verdict.needs, group.needs), (verdict.evidence, group.evidence)):
                if text and text not in into:
                    into.append(text)
        problems = self.problems
        if c is not None:
            problems.setdefault((id(c.node), safety), []).append(problem)
        else:
            for each in kube.containers(self.pod):
                problems.setdefault((id(each.node), safety), []).append(problem)
        return group.patch

    def report(self, c: Container, problem: str, reason: str) -> None:
        """A problem with no fix: the author's explicit decision, or an invalid object."""
        self.problems.setdefault((id(c.node), None), []).append(problem)
        self.reasons.setdefault(id(c.node), []).append(reason)

    def note(self, c: Container, text: str, safety: Safety) -> None:
        """Said in the finding that carries the ``safety`` fix of ``c``."""
        self.notes.setdefault((id(c.node), safety), []).append(text)


class SecurityContext(Rule[YamlFile]):
    """Container securityContext not hardened.

    ## What it does
    Checks every container, init container and ephemeral container of every workload
    against the Pod Security Standards. With the default `--profile restricted` each one
    must have `allowPrivilegeEscalation: false`, `capabilities.drop: [ALL]` (only
    `NET_BIND_SERVICE` may be added back), `runAsNonRoot: true` (not `runAsUser: 0`) and a
    `seccompProfile` of type `RuntimeDefault` or `Localhost`, set on the container or
    inherited from the pod. `--profile baseline` only removes what the baseline profile
    forbids (added capabilities outside its list, `Unconfined` seccomp, `Unmasked`
    procMount); `--profile strict` also sets `readOnlyRootFilesystem: true` and mounts an
    `emptyDir` at `/tmp` so common programs keep a writable scratch folder.

    ## Why is this bad?
    Each missing field widens what a compromised process can do: gain root through setuid
    binaries, use raw sockets or other kernel capabilities, make any system call, or write
    anywhere in its image. Clusters that enforce the *restricted* profile reject such pods.

    ## Example
    ```yaml
    apiVersion: v1
    kind: Pod
    metadata:
      name: web
    spec:
      securityContext:
        runAsUser: 10001
      containers:
        - name: web
          image: registry.example/web:1.4
    ```
    Use instead:
    ```yaml
    apiVersion: v1
    kind: Pod
    metadata:
      name: web
    spec:
      securityContext:
        runAsUser: 10001
        seccompProfile:
          type: RuntimeDefault
        runAsNonRoot: true
      containers:
        - name: web
          image: registry.example/web:1.4
          securityContext:
            allowPrivilegeEscalation: false
            capabilities:
              drop:
                - ALL
    ```
    (Without the `runAsUser`, `runAsNonRoot` and `drop: [ALL]` wait for evidence of the
    image's numeric non-root user; the rest is applied.)

    ## Fix safety
    Split by safety. Safe (always applied): `allowPrivilegeEscalation: false` where the
    author did not set it, `seccompProfile: RuntimeDefault` where none is set, `drop: [all]`
    rewritten to `ALL`. Proven (applied when the evidence holds) or unproven (offered; applied
    with `--unsafe-fixes`, the finding says what is needed): `runAsNonRoot` only for a numeric
    non-root user (explicit `runAsUser`, the image config, or a named user resolved to its
    uid, which is then written as `runAsUser`); `drop: [ALL]` only for a process that needs
    no capability (not for images that start as root and step down, binaries with file
    capabilities, `chown` init containers, `killall` in a shared process namespace, `sudo`,
    root on a port below 1024, node agents). Capabilities the author added, an explicit
    `allowPrivilegeEscalation: true`, `runAsUser: 0`, `Unconfined` and `Unmasked` are the
    author's decisions: reported, their change offered only. Root init containers that
    `chown`/`sysctl` are reported and never bound by a pod-level `runAsNonRoot`. A Kustomize
    patch that sets the workload's securityContext is named in the finding.
    A read-only root filesystem (`--profile strict`, which asks for it) breaks programs
    that write outside `/tmp`.
    Settings the author already made compliant are kept; non-compliant values are changed
    in place; `{name: c, image: x}` flow mappings get flow syntax.
    """

    id = "K8S002"
    name = "security-context"
    target = "kubernetes"
    summary = "restricted securityContext: no privilege escalation, drop ALL, non-root, seccomp"
    safety = Safety.PROVEN
    #: Kustomizations rendering the manifest are read from the repository model.
    needs_repository = True
    #: Overlay patches are judged on the rendered output (``rules.kustomize_rendered``).
    judges_renders = True
    aliases = (
        "privilege-escalation-container",
        "run-as-non-root",
        "drop-net-raw-capability",
        "no-read-only-root-fs",
        "CKV_K8S_20",
        "CKV_K8S_22",
        "CKV_K8S_23",
        "CKV_K8S_28",
        "CKV_K8S_31",
        "CKV_K8S_37",
        "CKV_K8S_39",
    )
    severity = Severity.WARNING
    security_severity = 5.5
    risk = (
        "Containers now run with `runAsNonRoot`, no privilege escalation, all capabilities "
        "dropped and the runtime's default seccomp profile: images without a numeric non-root"
        " `USER` will not start, and programs that need a capability must get it back "
        "(`capabilities.add`). With `--profile strict` the root filesystem is also read-only:"
        " applications that write outside mounted volumes need an `emptyDir`."
    )

    def check(self, ctx: Context[YamlFile]) -> Iterator[Finding]:
        if ctx.evidence.rendered is not None:  # a Kustomize patch, judged on the render
            from rules.kustomize_rendered import findings

            yield from findings(self, ctx)
            return
        profile = ctx.settings.kubernetes.profile
        for pod in kube.pod_specs(ctx.doc):
            if _windows(pod):
                continue  # the Linux-only fields do not apply to Windows pods
            plan = _Plan(pod, ctx)
            containers = list(kube.pod_containers(ctx.doc, pod))
            if not containers:
                continue
            agent = wl.node_agent(pod)
            # Who each container runs as: judged once, read by the capability and the
            # runAsNonRoot decisions (it looks up the image's user).
            whos = {id(c.node): judge.who(c, ctx) for c in containers}
            replaced = _replaced(ctx, pod)
            for c in containers:
                w = whos[id(c.node)]
                # A Kustomize patch that sets this container's whole securityContext in
                # every deployed render makes edits to it here dead: said, not written.
                note = replaced.get((c.key, c.index)) if replaced else None
                into = _Plan(pod, ctx) if note else plan
                if profile != "baseline":
                    _no_escalation(into, c)
                _capabilities(into, c, profile, w, agent)
                _baseline_fields(into, c)
                if profile is Profile.STRICT:
                    _read_only(into, c)
                if note:
                    for problems in into.problems.values():
                        for problem in problems:
                            plan.report(c, problem, note)
            if profile != "baseline":
                _pod_level(plan, containers, ctx, agent, whos)
            else:
                _pod_baseline(plan, containers)
            yield from _findings(self, ctx, plan, containers)

    def image_users(self, ctx: Context[YamlFile]) -> Iterator[str]:
        """Images whose config.User decides whether runAsUser must be set: those of
        containers that would get runAsNonRoot without a runAsUser of their own."""
        if ctx.settings.kubernetes.profile is Profile.BASELINE:
            return
        for pod in kube.pod_specs(ctx.doc):
            if y.get_path(pod.node, "securityContext", "runAsUser") is not None:
                continue
            for c in kube.containers(pod):
                image = y.scalar(y.get(c.node, "image"))
                if image and y.get(_sc(c), "runAsUser") is None:
                    yield image


#: A seccomp profile kept commented out for the reader to switch on (Security Profiles
#: Operator's ``examples/pod.yaml``: ``# seccompProfile:`` / ``#   type: Localhost`` /
#: ``#   localhostProfile: operator/nginx-1.23.2.json``): the example's point.
_COMMENTED_PROFILE = re.compile(
    r"(?m)^[ \t]*#[ \t]*(?:type:[ \t]*[\"']?(Localhost|Unconfined)\b|(localhostProfile):)"
)


def _commented_setting(doc: YamlFile, pod: kube.PodSpec) -> str:
    """What the fixes of ``pod`` need when its text keeps another seccomp profile commented
    out: the author left that profile to the reader, and a ``RuntimeDefault`` written
    beside it decides for them (and becomes a duplicate key the day it is uncommented).
    "" when there is none. (A commented block that is exactly what the fix writes is
    uncommented instead: ``documents.yaml.edit``.)"""
    text = doc.text
    start, end = pod.node.start_mark.index, pod.node.end_mark.index
    if "#" not in text[start:end]:
        return ""
    m = _COMMENTED_PROFILE.search(text, start, end)
    if m is None:
        return ""
    line = text.count("\n", 0, m.start()) + 1
    what = f"type: {m.group(1)}" if m.group(1) else "localhostProfile"
    return (
        f"a choice between line {line}'s commented-out seccomp profile ({what}, left for "
        "the reader to switch on) and RuntimeDefault: written beside it, one would be a "
        "duplicate key once it is uncommented; remove one, then apply with --unsafe-fixes"
    )


def _withheld(fix: Fix | None, needs: str) -> Fix | None:
    if fix is None or (fix.safety is Safety.UNPROVEN and fix.needs):
        return fix
    return replace(fix, safety=Safety.UNPROVEN, needs=needs)


def _joined(needs: list[str]) -> str:
    """The needs of one fix, each said once: a need another one already says in full (the
    same root-start reason, once with and once without what it requires) is left out."""
    return "; ".join(n for n in needs if not any(n != other and n in other for other in needs))


def _findings(
    rule: Rule[Any], ctx: Context[YamlFile], plan: _Plan, containers: list[Container]
) -> Iterator[Finding]:
    if not plan.problems:
        return
    name = f"{plan.pod.obj.kind}/{plan.pod.obj.name or plan.pod.obj.kind}"
    fixes: dict[Safety | None, Fix | None] = {None: None}
    for safety, group in plan.groups.items():
        # Deferred: a ``check`` that prints no edit never renders them (a third of this
        # rule's time); ``fix`` and SARIF build them (``Fix.built``).
        fixes[safety] = (
            Fix.deferred(
                _TITLES[safety].format(name),
                group.patch.edits,
                safety,
                needs=_joined(group.needs),
                evidence=tuple(group.evidence),
            )
            if not group.patch.empty
            else None
        )
    commented = _commented_setting(ctx.doc, plan.pod)
    if commented:
        fixes = {k: _withheld(f, commented) for k, f in fixes.items()}
    overlay = _overlay_note(ctx, plan.pod)
    for c in containers:
        span = Span(c.node.start_mark.index, c.node.start_mark.index)
        label = ""  # read once per container with a finding, not once per finding
        for level in _ORDER:
            problems = plan.problems.get((id(c.node), level))
            if not problems:
                continue
            label = label or c.label
            message = f"{label}: {', '.join(dict.fromkeys(problems))}"
            own = plan.notes.get((id(c.node), level), []) if level is not None else []
            notes = [*own, *([overlay] if overlay else [])]
            if notes:
                message += f" ({'; '.join(notes)})"
            reasons = plan.reasons.get(id(c.node), ()) if level is None else ()
            reason = "; ".join(dict.fromkeys(reasons))
            yield ctx.finding(rule, span, message, fix=fixes.get(level), reason=reason)


#: Findings of one container in this order: what is applied first reads first.
_ORDER: tuple[Safety | None, ...] = (Safety.SAFE, Safety.PROVEN, Safety.UNPROVEN, None)
_TITLES = {
    Safety.SAFE: "harden the securityContext of {}",
    Safety.PROVEN: "harden the securityContext of {} (proven)",
    Safety.UNPROVEN: "harden the securityContext of {} (unproven)",
}


def _replaced(ctx: Context[YamlFile], pod: PodSpec) -> dict[tuple[str, int], str]:
    if ctx.evidence.repository is None:
        return {}
    from rules.kustomize_note import replaced_container_contexts

    return replaced_container_contexts(ctx, pod)


def _overlay_note(ctx: Context[YamlFile], pod: PodSpec) -> str:
    """A Kustomize patch that replaces this workload's securityContext, said in the finding
    (the rendered output is what reaches the cluster)."""
    from rules.kustomize_note import overlay_replacing_security_context

    return overlay_replacing_security_context(ctx, pod)


_OS_LABELS = ("kubernetes.io/os", "beta.kubernetes.io/os")


def _windows(pod: PodSpec) -> bool:
    """A pod that only runs on Windows nodes: ``os.name: windows``, or a node selector or
    required node affinity that allows no other OS (secrets-store-csi-driver's Windows
    DaemonSet). The kubelet there ignores allowPrivilegeEscalation, capabilities,
    seccompProfile and runAsNonRoot: edits to them would change nothing. A HostProcess pod
    (``windowsOptions.hostProcess: true``) only runs on Windows."""
    node = pod.node
    if y.scalar(y.get_path(node, "os", "name")) == "windows" or wl.host_process(pod):
        return True
    selector = y.get(node, "nodeSelector")
    if any(y.scalar(y.get(selector, label)) == "windows" for label in _OS_LABELS):
        return True
    terms = y.get_path(
        node,
        "affinity",
        "nodeAffinity",
        "requiredDuringSchedulingIgnoredDuringExecution",
        "nodeSelectorTerms",
    )
    if not y.is_sequence(terms) or not terms.value:
        return False
    return all(_windows_term(term) for term in terms.value)  # the terms are ORed


def _windows_term(term: Node) -> bool:
    expressions = y.get(term, "matchExpressions")
    for item in expressions.value if y.is_sequence(expressions) else ():
        if y.scalar(y.get(item, "key")) in _OS_LABELS and y.scalar(y.get(item, "operator")) == "In":
            values = y.get(item, "values")
            listed = [y.scalar(v) for v in values.value] if y.is_sequence(values) else []
            if listed == ["windows"]:
                return True
    return False


def _sc(c: Container) -> Node | None:
    return y.get(c.node, "securityContext")


def _ensure_sc(patch: Patch, c: Container, desired: dict[str, Value]) -> None:
    """Ensure keys in the container's securityContext, creating it when missing."""
    sc = _sc(c)
    if sc is None or y.is_null(sc):
        if y.key_node(c.node, "securityContext") is not None:
            patch.ensure(c.node, {"securityContext": desired})
        else:
            patch.insert(c.node, {"securityContext": desired}, "securityContext")
    elif y.is_mapping(sc):
        patch.ensure(sc, desired, "securityContext.")


def _no_escalation(plan: _Plan, c: Container) -> None:
    value = y.get(_sc(c), "allowPrivilegeEscalation")
    if not (value is None or y.truthy(value) or not y.is_scalar(value)):
        return
    problem = "allowPrivilegeEscalation is not false"
    rejected = judge.rejects_no_escalation(c)
    if rejected:
        plan.report(
            c,
            problem,
            f"the API server rejects allowPrivilegeEscalation: false with {rejected}; "
            "remove that first",
        )
        return
    switch = judge.privileged_switch(plan.ctx.doc.source.text, c) if value is None else 0
    if switch:
        plan.report(
            c,
            problem,
            f"its commented-out privileged: true (line {switch}) is left for users to switch "
            "on, and the API server rejects allowPrivilegeEscalation: false with it; set it "
            "yourself if nobody will, and say in that comment to remove it when they do",
        )
        return
    explicit = value is not None and y.is_scalar(value) and y.truthy(value)
    if explicit:
        problem = "allowPrivilegeEscalation is true"
    verdict = judge.escalation(c, explicit)
    _ensure_sc(plan.at(c, problem, verdict), c, {"allowPrivilegeEscalation": False})


def _capabilities(plan: _Plan, c: Container, profile: str, w: judge.Who, agent: str | None) -> None:
    sc = _sc(c)
    caps = y.get(sc, "capabilities")
    drop = y.get(caps, "drop")
    items = drop.value if y.is_sequence(drop) else []
    lower = [i for i in items if (y.scalar(i) or "").upper() == "ALL" and y.scalar(i) != "ALL"]
    if lower and profile != "baseline":
        # `all` is what the author meant; admission compares the exact string `ALL`.
        patch = plan.at(c, "capabilities.drop has all, not ALL", Safety.SAFE)
        for item in lower:
            quote = item.style if item.style in ('"', "'") else ""
            span = Span(item.start_mark.index, item.end_mark.index)
            patch.replace(span, f"{quote}ALL{quote}", "drop")
    has_all = any((y.scalar(i) or "").upper() == "ALL" for i in items)
    needs_drop = profile != "baseline" and not has_all
    verdict = judge.drop_all(c, w, agent) if needs_drop else None
    if _remove_added(plan, c, caps, profile, verdict) or verdict is None:
        return
    patch = plan.at(c, "capabilities are not dropped", verdict)
    if y.is_sequence(drop):  # `drop: [NET_RAW]` or `drop: []`
        patch.append(drop, "ALL", "capabilities.drop")
    elif y.is_mapping(caps) and drop is None:
        patch.insert(caps, {"drop": ["ALL"]}, "capabilities.drop")
    elif y.is_mapping(caps):  # `drop:` with no value: write it anew
        patch.remove_key(caps, "drop", "capabilities.drop")
        patch.insert(caps, {"drop": ["ALL"]}, "capabilities.drop")
    else:
        _ensure_sc(patch, c, {"capabilities": {"drop": ["ALL"]}})


def _remove_added(
    plan: _Plan, c: Container, caps: Node | None, profile: str, drop: Verdict | None
) -> bool:
    """Added capabilities the profile forbids are the author's choice: reported, and their
    removal is offered (UNPROVEN) rather than applied. True when that also wrote the drop
    (``{add: [X]}`` -> ``{drop: [ALL]}`` in one replacement, both in the unproven fix)."""
    add = y.get(caps, "add")
    if not y.is_sequence(add):
        return False
    allowed = BASELINE_CAPS if profile is Profile.BASELINE else RESTRICTED_CAPS
    bad = [i for i in add.value if (y.scalar(i) or "").upper().removeprefix("CAP_") not in allowed]
    if not bad:
        return False
    names = ", ".join(y.scalar(i) or "?" for i in bad)
    verdict = Verdict.unproven(
        f"confirmation the container does not use {names} (the author added it); "
        "then remove it from capabilities.add"
    )
    patch = plan.at(c, f"adds capabilities {names}", verdict)
    if len(bad) < len(add.value):
        patch.remove_items(add, lambda i: i in bad, "capabilities.add")
    elif y.is_mapping(caps) and len(caps.value) == 1 and caps is not None:
        if caps.flow_style:  # `{add: [X]}` -> `{}`: one replacement, no dangling comma
            span = value_span(caps, plan.ctx.text)
            together = drop is not None and drop.safety is Safety.UNPROVEN
            if together and drop is not None:
                plan.at(c, "capabilities are not dropped", drop)
            rendered = render_flow({"drop": ["ALL"]}, plan.ctx.style.quote) if together else "{}"
            patch.replace(span, rendered, "capabilities")
            return together
        elif drop is None:  # nothing is left in it and nothing goes in
            patch.remove_key(_sc(c), "capabilities", "capabilities")
        else:
            patch.remove_key(caps, "add", "capabilities.add")
    else:
        patch.remove_key(caps, "add", "capabilities.add")
    return False


def _baseline_fields(plan: _Plan, c: Container) -> None:
    """Explicit Unconfined seccomp and Unmasked procMount are the author's choice: offered."""
    sc = _sc(c)
    seccomp = y.scalar(y.get_path(sc, "seccompProfile", "type"))
    if seccomp == "Unconfined":
        verdict = Verdict.unproven(
            "evidence the program makes no system call RuntimeDefault blocks (the author "
            "set seccompProfile Unconfined)"
        )
        patch = plan.at(c, "seccompProfile is Unconfined", verdict)
        _ensure_sc(patch, c, {"seccompProfile": {"type": "RuntimeDefault"}})
    if y.scalar(y.get(sc, "procMount")) == "Unmasked":
        verdict = Verdict.unproven(
            "evidence the container does not need an unmasked /proc (the author set "
            "procMount Unmasked, used to run containers inside it)"
        )
        _ensure_sc(plan.at(c, "procMount is Unmasked", verdict), c, {"procMount": "Default"})


def _read_only(plan: _Plan, c: Container) -> None:
    value = y.get(_sc(c), "readOnlyRootFilesystem")
    if value is not None and y.truthy(value):
        return
    # --profile strict is the user's request for it; /tmp stays writable.
    verdict = Verdict.proven("--profile strict asks for it; /tmp gets an emptyDir")
    patch = plan.at(c, "root filesystem is writable", verdict)
    _ensure_sc(patch, c, {"readOnlyRootFilesystem": True})
    mounts = y.get(c.node, "volumeMounts")
    paths = {
        y.scalar(y.get(m, "mountPath")) for m in (mounts.value if y.is_sequence(mounts) else [])
    }
    if "/tmp" in paths or "/tmp/" in paths:
        return
    volume = _tmp_volume(plan, patch)
    mount: dict[str, Value] = {"name": volume, "mountPath": "/tmp"}
    if y.is_sequence(mounts):
        patch.append(mounts, mount, "volumeMounts")
    elif mounts is None:
        patch.insert(c.node, {"volumeMounts": [mount]}, "volumeMounts")
    plan.note(c, "mounted an emptyDir at /tmp", Safety.PROVEN)


def _tmp_volume(plan: _Plan, patch: Patch) -> str:
    """The pod's emptyDir volume for /tmp: an existing `tmp` emptyDir, else one added once."""
    volumes = y.get(plan.pod.node, "volumes")
    by_name = {
        y.scalar(y.get(v, "name")): v for v in (volumes.value if y.is_sequence(volumes) else [])
    }
    tmp = by_name.get("tmp")
    if tmp is not None and y.get(tmp, "emptyDir") is not None:
        return "tmp"
    name = "tmp" if tmp is None else "tighten-tmp"
    if name in by_name:
        return name
    entry: dict[str, Value] = {"name": name, "emptyDir": {}}
    if y.is_sequence(volumes):
        patch.append(volumes, entry, "volumes")
    elif volumes is None:
        patch.insert(plan.pod.node, {"volumes": [entry]}, "volumes")
    return name


def _pod_level(
    plan: _Plan,
    containers: list[Container],
    ctx: Context[YamlFile],
    agent: str | None,
    whos: dict[int, judge.Who],
) -> None:
    """seccompProfile (safe) and runAsNonRoot (judged per container): on the pod when every
    container needs the same (one place to read), else on the containers that do."""
    _seccomp(plan, containers)
    _run_as_non_root(plan, containers, ctx, agent, whos)


def _seccomp(plan: _Plan, containers: list[Container]) -> None:
    key, want = "seccompProfile", {"type": "RuntimeDefault"}

    def compliant(n: Node | None) -> bool:
        return y.scalar(y.get(n, "type")) in _SECCOMP_OK

    pod_value = y.get(y.get(plan.pod.node, "securityContext"), key)
    level: Verdict | Safety = Safety.SAFE
    problem = "no seccompProfile"
    if y.scalar(y.get(pod_value, "type")) == "Unconfined":
        problem = "pod seccompProfile is Unconfined"
        level = Verdict.unproven(
            "evidence the program makes no system call RuntimeDefault blocks (the author "
            "set seccompProfile Unconfined on the pod)"
        )
    inheriting: list[Container] = []
    confined = 0  # containers a profile applies to: not privileged
    for c in containers:
        own = y.get(_sc(c), key)
        if _privileged(c):
            if (own is None and not compliant(pod_value)) or (
                own is not None and not compliant(own)
            ):
                plan.report(c, "no seccompProfile", _PRIVILEGED_UNCONFINED)
            continue
        confined += 1
        if own is None and not compliant(pod_value):
            inheriting.append(c)
        elif own is not None and not compliant(own):
            if y.scalar(y.get(own, "type")) == "Unconfined":
                continue  # the author's choice: offered by the baseline check
            _ensure_sc(plan.at(c, "no seccompProfile", Safety.SAFE), c, {key: want})
    if not inheriting:
        return
    for c in inheriting:
        patch = plan.at(c, problem, _ebpf_seccomp(c) or level)
    if pod_value is not None or len(inheriting) == confined:
        _ensure_pod_sc(patch, plan.pod, {key: want})
    else:
        for c in inheriting:
            _ensure_sc(patch, c, {key: want})


#: Capabilities for eBPF and perf events: the container calls bpf() and perf_event_open().
_EBPF_CAPABILITIES = ("BPF", "PERFMON")


def _ebpf_seccomp(c: Container) -> Verdict | None:
    """Unproven for a container that adds CAP_BPF or CAP_PERFMON (Beyla's unprivileged
    DaemonSet): the runtimes' default seccomp profiles let bpf() and perf_event_open()
    through for those capabilities only in their recent versions (before, only with
    CAP_SYS_ADMIN), so RuntimeDefault may stop it loading its programs."""
    caps = wl.added_capabilities(c)
    added = [cap for cap in caps if cap in _EBPF_CAPABILITIES]
    if not added or "SYS_ADMIN" in caps:
        return None  # with CAP_SYS_ADMIN every version of the profiles allows both
    return Verdict.unproven(
        f"evidence the runtime's default seccomp profile lets its eBPF system calls through: "
        f"it adds {', '.join(added)} for bpf() and perf_event_open(), which older profiles "
        "block without CAP_SYS_ADMIN; set seccompProfile RuntimeDefault where the nodes' "
        "runtime allows them"
    )


#: Kubernetes: "It is not possible to apply a seccomp profile to a container running with
#: privileged: true ... Privileged containers always run as Unconfined."
#: (https://kubernetes.io/docs/tutorials/security/seccomp/)
_PRIVILEGED_UNCONFINED = (
    "a privileged container runs Unconfined whatever seccompProfile says (Kubernetes "
    "applies no profile to it): a profile would change nothing; drop privileged first"
)


def _privileged(c: Container) -> bool:
    return y.truthy(y.get(_sc(c), "privileged"))


def _ensure_pod_sc(patch: Patch, pod: PodSpec, desired: dict[str, Value]) -> None:
    pod_sc = y.get(pod.node, "securityContext")
    if y.is_mapping(pod_sc):
        patch.ensure(pod_sc, desired, "securityContext.")
    elif y.key_node(pod.node, "securityContext") is not None:
        patch.ensure(pod.node, {"securityContext": desired})
    else:
        patch.insert(pod.node, {"securityContext": desired}, "pod securityContext")


@dataclass(frozen=True)
class _NonRoot:
    """One container's runAsNonRoot decision: the verdict, and container-level keys."""

    c: Container
    verdict: Verdict
    problem: str
    extra: dict[str, Value]
    own: bool  # the container sets runAsNonRoot (false) itself


def _run_as_non_root(
    plan: _Plan,
    containers: list[Container],
    ctx: Context[YamlFile],
    agent: str | None,
    whos: dict[int, judge.Who],
) -> None:
    pod_sc = y.get(plan.pod.node, "securityContext")
    pod_value = y.get(pod_sc, "runAsNonRoot")
    pod_ok = pod_value is not None and y.truthy(pod_value)
    decisions: list[_NonRoot] = []
    blocked = False  # a container keeps root on purpose: nothing goes on the pod
    for c in containers:
        own = y.get(_sc(c), "runAsNonRoot")
        if (own is not None and y.truthy(own)) or (own is None and pod_ok):
            continue
        decision = _decide(plan, c, ctx, whos[id(c.node)], agent, own is not None)
        if decision is None:
            blocked = True
        else:
            decisions.append(decision)
    if not decisions:
        return
    kinds = {d.verdict.safety for d in decisions}
    on_pod = (
        not blocked
        and len(kinds) == 1
        and (pod_value is not None or len(decisions) == len(containers))
        and not any(d.own for d in decisions)
    )
    for d in decisions:
        patch = plan.at(d.c, d.problem, d.verdict)
        if d.extra:
            _ensure_sc(patch, d.c, d.extra)
        if on_pod:
            _ensure_pod_sc(patch, plan.pod, {"runAsNonRoot": True})
        else:
            _ensure_sc(patch, d.c, {"runAsNonRoot": True})


def _decide(
    plan: _Plan, c: Container, ctx: Context[YamlFile], w: judge.Who, agent: str | None, own: bool
) -> _NonRoot | None:
    """The runAsNonRoot decision for ``c`` (who it runs as: ``w``); None when its explicit
    root is only reported."""
    uid, gid = ctx.settings.user.uid, ctx.settings.user.gid
    container_user = judge.numeric(y.get(_sc(c), "runAsUser"))
    problem = "runAsNonRoot is not true"
    if w.uid == 0 and w.evidence.startswith("runAsUser"):
        tool = wl.root_init_job(c)
        if tool:
            plan.report(
                c,
                "runs as UID 0",
                f"an init container that runs {tool} as root is the author's decision; "
                "app containers get their settings on their own",
            )
            return None
        where = "the container" if container_user == 0 else "the pod"
        verdict = Verdict.unproven(
            f"evidence it works as a non-root user: the author set runAsUser: 0 on {where}; "
            f"set runAsUser to a user that can read its files, or build the image with "
            f"`USER {uid}`"
        )
        extra: dict[str, Value] = {"runAsUser": uid}
        if container_user != 0:
            plan.at(None, "pod runs as UID 0", verdict)
            _ensure_pod_sc(plan.groups[verdict.safety].patch, plan.pod, {"runAsUser": uid})
            extra = {}
        return _NonRoot(c, verdict, "runs as UID 0" if extra else problem, extra, own)
    verdict = judge.non_root(c, w, agent, uid)
    extra = {}
    if w.resolved is not None and verdict.safety is Safety.PROVEN:
        extra = {"runAsUser": w.resolved[0], "runAsGroup": w.resolved[1]}
        plan.note(c, f"set runAsUser {w.resolved[0]}, the uid of the {w.evidence}", verdict.safety)
    elif w.image is not None and w.uid in (None, 0):
        ships = w.image.ships
        offered = (ships.uid, ships.gid) if ships is not None else (uid, gid)
        extra = {"runAsUser": offered[0], "runAsGroup": offered[1]}
        problem = f"image user is {w.image.shown}"
        shown = w.image.shown
        plan.note(
            c, f"offers runAsUser {offered[0]} because the image runs as {shown}", verdict.safety
        )
    return _NonRoot(c, verdict, problem, extra, own)


def _pod_baseline(plan: _Plan, containers: list[Container]) -> None:
    """Baseline forbids an Unconfined seccomp profile on the pod too (the author's choice:
    offered)."""
    pod_type = y.scalar(y.get_path(plan.pod.node, "securityContext", "seccompProfile", "type"))
    if pod_type == "Unconfined":
        verdict = Verdict.unproven(
            "evidence the program makes no system call RuntimeDefault blocks (the author "
            "set seccompProfile Unconfined on the pod)"
        )
        patch = plan.at(None, "pod seccompProfile is Unconfined", verdict)
        _ensure_pod_sc(patch, plan.pod, {"seccompProfile": {"type": "RuntimeDefault"}})
