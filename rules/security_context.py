"""K8S002: container securityContext hardened to the Pod Security Standards."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from fixer.documents import yaml as y
from fixer.documents.yaml import Node, YamlFile, kube
from fixer.documents.yaml.edit import Value, render_flow, value_span
from fixer.documents.yaml.kube import Container, PodSpec
from fixer.documents.yaml.patch import Patch
from fixer.model import Finding, Fix, Safety, Span
from fixer.rule import Context, Rule

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
class _Plan:
    """What one pod needs, gathered container by container, then turned into one fix."""

    pod: PodSpec
    patch: Patch
    problems: dict[int, list[str]] = field(default_factory=dict)
    notes: dict[int, list[str]] = field(default_factory=dict)

    def problem(self, c: Container, text: str) -> None:
        self.problems.setdefault(id(c.node), []).append(text)

    def note(self, c: Container, text: str) -> None:
        self.notes.setdefault(id(c.node), []).append(text)


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
      containers:
        - name: web
          image: nginx:1.27
    ```
    Use instead:
    ```yaml
    apiVersion: v1
    kind: Pod
    metadata:
      name: web
    spec:
      containers:
        - name: web
          image: nginx:1.27
          securityContext:
            allowPrivilegeEscalation: false
            capabilities:
              drop:
                - ALL
      securityContext:
        runAsNonRoot: true
        seccompProfile:
          type: RuntimeDefault
    ```

    ## Fix safety
    Needs review. `runAsNonRoot: true` makes the kubelet refuse an image whose user is
    root or a name: when the registry can be read, tighten looks at the image's
    `config.User` and, for a name or no user, also sets `runAsUser`/`runAsGroup` to the
    configured non-root UID/GID; otherwise the finding says the image must run as a numeric
    non-root user. Dropping capabilities breaks programs that need them (add the one they
    need back); a read-only root filesystem breaks programs that write outside `/tmp`.
    Settings the author already made compliant are kept; non-compliant values are changed
    in place; `{name: c, image: x}` flow mappings get flow syntax.
    """

    id = "K8S002"
    name = "security-context"
    target = "kubernetes"
    summary = "restricted securityContext: no privilege escalation, drop ALL, non-root, seccomp"
    safety = Safety.PROVEN
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

    def check(self, ctx: Context[YamlFile]) -> Iterator[Finding]:
        profile = ctx.settings.profile
        for pod in kube.pod_specs(ctx.doc):
            if y.scalar(y.get_path(pod.node, "os", "name")) == "windows":
                continue  # the Linux-only fields do not apply to Windows pods
            plan = _Plan(pod, Patch(ctx.doc, ctx.style))
            containers = list(kube.containers(pod))
            if not containers:
                continue
            for c in containers:
                if profile != "baseline":
                    _no_escalation(plan, c)
                _capabilities(plan, c, profile)
                _baseline_fields(plan, c)
                if profile == "strict":
                    _read_only(plan, c)
            if profile != "baseline":
                _pod_level(plan, containers, ctx)
            else:
                _pod_baseline(plan, containers)
            yield from _findings(self, ctx, plan, containers)

    def image_users(self, ctx: Context[YamlFile]) -> Iterator[str]:
        """Images whose config.User decides whether runAsUser must be set: those of
        containers that would get runAsNonRoot without a runAsUser of their own."""
        if ctx.settings.profile == "baseline":
            return
        for pod in kube.pod_specs(ctx.doc):
            if y.get_path(pod.node, "securityContext", "runAsUser") is not None:
                continue
            for c in kube.containers(pod):
                image = y.scalar(y.get(c.node, "image"))
                if image and y.get(_sc(c), "runAsUser") is None:
                    yield image


def _findings(
    rule: Rule[Any], ctx: Context[YamlFile], plan: _Plan, containers: list[Container]
) -> Iterator[Finding]:
    if not plan.problems:
        return
    edits = plan.patch.edits()
    name = plan.pod.obj.name or plan.pod.obj.kind
    fix = (
        Fix(f"harden the securityContext of {plan.pod.obj.kind}/{name}", tuple(edits), rule.safety)
        if edits
        else None
    )
    for c in containers:
        problems = plan.problems.get(id(c.node))
        if not problems:
            continue
        message = f"{c.label}: {', '.join(problems)}"
        notes = plan.notes.get(id(c.node))
        if notes:
            message += f" ({'; '.join(notes)})"
        span = Span(c.node.start_mark.index, c.node.start_mark.index)
        yield ctx.finding(rule, span, message, fix=fix)


def _sc(c: Container) -> Node | None:
    return y.get(c.node, "securityContext")


def _ensure_sc(plan: _Plan, c: Container, desired: dict[str, Value]) -> None:
    """Ensure keys in the container's securityContext, creating it when missing."""
    sc = _sc(c)
    if sc is None or y.is_null(sc):
        if y.key_node(c.node, "securityContext") is not None:
            plan.patch.ensure(c.node, {"securityContext": desired})
        else:
            plan.patch.insert(c.node, {"securityContext": desired}, "securityContext")
    elif y.is_mapping(sc):
        plan.patch.ensure(sc, desired, "securityContext.")


def _no_escalation(plan: _Plan, c: Container) -> None:
    value = y.get(_sc(c), "allowPrivilegeEscalation")
    if value is None or y.truthy(value) or not y.is_scalar(value):
        plan.problem(c, "allowPrivilegeEscalation is not false")
        _ensure_sc(plan, c, {"allowPrivilegeEscalation": False})


def _capabilities(plan: _Plan, c: Container, profile: str) -> None:
    sc = _sc(c)
    caps = y.get(sc, "capabilities")
    drop = y.get(caps, "drop")
    has_all = y.is_sequence(drop) and any((y.scalar(i) or "").upper() == "ALL" for i in drop.value)
    needs_drop = profile != "baseline" and not has_all
    if needs_drop:
        plan.problem(c, "capabilities are not dropped")
    if _remove_added(plan, c, caps, profile, needs_drop):
        return
    if not needs_drop:
        return
    if y.is_sequence(drop):  # `drop: [NET_RAW]` or `drop: []`
        plan.patch.append(drop, "ALL", "capabilities.drop")
    elif y.is_mapping(caps) and drop is None:
        plan.patch.insert(caps, {"drop": ["ALL"]}, "capabilities.drop")
    elif y.is_mapping(caps):  # `drop:` with no value: write it anew
        plan.patch.remove_key(caps, "drop", "capabilities.drop")
        plan.patch.insert(caps, {"drop": ["ALL"]}, "capabilities.drop")
    else:
        _ensure_sc(plan, c, {"capabilities": {"drop": ["ALL"]}})


def _remove_added(
    plan: _Plan, c: Container, caps: Node | None, profile: str, needs_drop: bool
) -> bool:
    """Take out added capabilities the profile forbids. True when that already wrote the
    whole ``capabilities`` value (so nothing is left to add)."""
    add = y.get(caps, "add")
    if not y.is_sequence(add):
        return False
    allowed = BASELINE_CAPS if profile == "baseline" else RESTRICTED_CAPS
    bad = [i for i in add.value if (y.scalar(i) or "").upper().removeprefix("CAP_") not in allowed]
    if not bad:
        return False
    plan.problem(c, f"adds capabilities {', '.join(y.scalar(i) or '?' for i in bad)}")
    if len(bad) < len(add.value):
        plan.patch.remove_items(add, lambda i: i in bad, "capabilities.add")
        return False
    only_add = y.is_mapping(caps) and len(caps.value) == 1
    if only_add and caps is not None and caps.flow_style and needs_drop:
        # `{add: [SYS_ADMIN]}` -> `{drop: [ALL]}`: one replacement, no dangling comma.
        span = value_span(caps, plan.patch.doc.text)
        plan.patch.replace(
            span, render_flow({"drop": ["ALL"]}, plan.patch.style.quote), "capabilities"
        )
        return True
    if only_add and not needs_drop:
        plan.patch.remove_key(_sc(c), "capabilities", "capabilities")  # nothing left in it
        return True
    plan.patch.remove_key(caps, "add", "capabilities.add")
    return False


def _baseline_fields(plan: _Plan, c: Container) -> None:
    sc = _sc(c)
    seccomp = y.scalar(y.get_path(sc, "seccompProfile", "type"))
    if seccomp == "Unconfined":
        plan.problem(c, "seccompProfile is Unconfined")
        _ensure_sc(plan, c, {"seccompProfile": {"type": "RuntimeDefault"}})
    if y.scalar(y.get(sc, "procMount")) == "Unmasked":
        plan.problem(c, "procMount is Unmasked")
        _ensure_sc(plan, c, {"procMount": "Default"})


def _read_only(plan: _Plan, c: Container) -> None:
    value = y.get(_sc(c), "readOnlyRootFilesystem")
    if value is not None and y.truthy(value):
        return
    plan.problem(c, "root filesystem is writable")
    _ensure_sc(plan, c, {"readOnlyRootFilesystem": True})
    mounts = y.get(c.node, "volumeMounts")
    paths = {
        y.scalar(y.get(m, "mountPath")) for m in (mounts.value if y.is_sequence(mounts) else [])
    }
    if "/tmp" in paths or "/tmp/" in paths:
        return
    volume = _tmp_volume(plan)
    mount: dict[str, Value] = {"name": volume, "mountPath": "/tmp"}
    if y.is_sequence(mounts):
        plan.patch.append(mounts, mount, "volumeMounts")
    elif mounts is None:
        plan.patch.insert(c.node, {"volumeMounts": [mount]}, "volumeMounts")
    plan.note(c, "mounted an emptyDir at /tmp")


def _tmp_volume(plan: _Plan) -> str:
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
        plan.patch.append(volumes, entry, "volumes")
    elif volumes is None:
        plan.patch.insert(plan.pod.node, {"volumes": [entry]}, "volumes")
    return name


def _pod_level(plan: _Plan, containers: list[Container], ctx: Context[YamlFile]) -> None:
    """runAsNonRoot and seccompProfile: on the pod when every container needs them (one
    place to read), else on the containers that do; runAsUser 0 is replaced."""
    _inherited(
        plan,
        containers,
        "runAsNonRoot",
        lambda n: n is not None and y.truthy(n),
        True,
        "runAsNonRoot is not true",
    )
    _inherited(
        plan,
        containers,
        "seccompProfile",
        lambda n: y.scalar(y.get(n, "type")) in _SECCOMP_OK,
        {"type": "RuntimeDefault"},
        "no seccompProfile",
    )
    _run_as_user(plan, containers, ctx)


def _inherited(
    plan: _Plan,
    containers: list[Container],
    key: str,
    compliant: Any,
    want: Value,
    problem: str,
) -> None:
    pod_sc = y.get(plan.pod.node, "securityContext")
    pod_value = y.get(pod_sc, key)
    inheriting: list[Container] = []
    for c in containers:
        own = y.get(_sc(c), key)
        if own is None and not compliant(pod_value):
            inheriting.append(c)
        elif own is not None and not compliant(own):
            if key == "seccompProfile" and y.scalar(y.get(own, "type")) == "Unconfined":
                continue  # reported by the baseline check already
            plan.problem(c, problem)
            _ensure_sc(plan, c, {key: want})
    if not inheriting:
        return
    for c in inheriting:
        plan.problem(c, problem)
    if pod_value is not None or len(inheriting) == len(containers):
        _ensure_pod_sc(plan, {key: want})
    else:
        for c in inheriting:
            _ensure_sc(plan, c, {key: want})


def _ensure_pod_sc(plan: _Plan, desired: dict[str, Value]) -> None:
    pod_sc = y.get(plan.pod.node, "securityContext")
    if y.is_mapping(pod_sc):
        plan.patch.ensure(pod_sc, desired, "securityContext.")
    elif y.key_node(plan.pod.node, "securityContext") is not None:
        plan.patch.ensure(plan.pod.node, {"securityContext": desired})
    else:
        plan.patch.insert(plan.pod.node, {"securityContext": desired}, "pod securityContext")


def _run_as_user(plan: _Plan, containers: list[Container], ctx: Context[YamlFile]) -> None:
    """No root UID; and an image whose user is a name or root gets a numeric one."""
    uid, gid = ctx.settings.uid, ctx.settings.gid
    pod_user = y.get(y.get(plan.pod.node, "securityContext"), "runAsUser")
    if pod_user is not None and y.scalar(pod_user) == "0":
        for c in containers:
            plan.problem(c, "pod runs as UID 0")
        _ensure_pod_sc(plan, {"runAsUser": uid})
        return
    for c in containers:
        own = y.get(_sc(c), "runAsUser")
        if own is not None:
            if y.scalar(own) == "0":
                plan.problem(c, "runs as UID 0")
                _ensure_sc(plan, c, {"runAsUser": uid})
            continue
        if pod_user is not None:
            continue
        _image_user(plan, c, ctx, uid, gid)


def _image_user(plan: _Plan, c: Container, ctx: Context[YamlFile], uid: int, gid: int) -> None:
    image = y.scalar(y.get(c.node, "image")) or ""
    resolution = ctx.resolutions.get(image)
    user = resolution.user if resolution is not None else None
    if user is None:
        plan.note(c, "the image must run as a numeric non-root user; its config was not read")
        return
    name = user.split(":", 1)[0]
    if name.isdigit() and name != "0":
        return
    shown = name or "root (no USER)"
    plan.problem(c, f"image user is {shown}")
    plan.note(c, f"set runAsUser {uid} because the image runs as {shown}")
    _ensure_sc(plan, c, {"runAsUser": uid, "runAsGroup": gid})


def _pod_baseline(plan: _Plan, containers: list[Container]) -> None:
    """Baseline forbids an Unconfined seccomp profile on the pod too."""
    pod_type = y.scalar(y.get_path(plan.pod.node, "securityContext", "seccompProfile", "type"))
    if pod_type == "Unconfined":
        for c in containers:
            plan.problem(c, "pod seccompProfile is Unconfined")
        _ensure_pod_sc(plan, {"seccompProfile": {"type": "RuntimeDefault"}})
