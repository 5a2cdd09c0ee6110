"""K8S001: privileged containers."""

from __future__ import annotations

from collections.abc import Iterator

from fixer.documents import yaml as y
from fixer.documents.yaml import YamlFile, kube
from fixer.documents.yaml.edit import replace_scalar
from fixer.model import Finding, Fix, Safety, Span
from fixer.rule import Context, Rule, Severity
from rules import workload as wl


class PrivilegedContainer(Rule[YamlFile]):
    """Privileged container.

    ## What it does
    Finds containers, init containers and ephemeral containers of every workload kind
    (Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job,
    CronJob, PodTemplate, Argo Rollout, items of a `List`) with
    `securityContext.privileged: true`.

    ## Why is this bad?
    A privileged container has every capability and every device of the node: it can load
    kernel modules, mount the host's disks and leave the container at will. Pod Security
    Standards forbid it even in the *baseline* profile.

    ## Example
    ```yaml
    apiVersion: v1
    kind: Pod
    metadata:
      name: app
    spec:
      containers:
        - name: app
          image: nginx:1.27
          securityContext:
            privileged: true
    ```
    Use instead:
    ```yaml
    apiVersion: v1
    kind: Pod
    metadata:
      name: app
    spec:
      containers:
        - name: app
          image: nginx:1.27
          securityContext:
            privileged: false
    ```

    ## Fix safety
    Proven when nothing says the container needs the node; unproven (offered, with what is
    needed) for node agents (hostPath of `/`, `/proc`, `/sys`, `/dev`, kubelet or runtime
    paths), device mounts, images that only work privileged (`docker:dind`) and commands
    that tune the kernel. Never rewritten (reported with the reason) while a volume mount
    keeps `mountPropagation: Bidirectional` (the API server rejects the object) or on an
    init container that runs `chown`/`sysctl`. Grant the capabilities a container needs
    instead of privileged. The value is changed in place, in block or flow style, keeping
    comments.
    """

    id = "K8S001"
    name = "privileged-container"
    target = "kubernetes"
    summary = "privileged: true -> false"
    safety = Safety.PROVEN
    aliases = ("privileged-container", "CKV_K8S_16")
    severity = Severity.ERROR
    security_severity = 8.8
    risk = (
        "Containers are no longer privileged. Workloads that manage the node (CNI plugins, "
        "storage drivers, node agents) need specific capabilities instead."
    )

    def check(self, ctx: Context[YamlFile]) -> Iterator[Finding]:
        for container in kube.all_containers(ctx.doc):
            value = y.get_path(container.node, "securityContext", "privileged")
            if value is None or not y.truthy(value):
                continue
            span = Span(value.start_mark.index, value.end_mark.index)
            message = f"{container.label} is privileged"
            reason = _no_fix(container)
            if reason:
                yield ctx.finding(self, span, message, reason=reason)
                continue
            image = y.scalar(y.get(container.node, "image"))
            need = wl.needs_privileged(container, wl.image_needs_privileged(image))
            edit = replace_scalar(value, False, ctx.style, ctx.text)
            title = "set privileged: false"
            fix = (
                Fix(title, (edit,), Safety.UNPROVEN, needs=_needs(need))
                if need
                else Fix(title, (edit,), Safety.PROVEN, evidence=_EVIDENCE)
            )
            yield ctx.finding(self, span, message, fix=fix)


#: What proves ``privileged: false`` for a container nothing marks as needing the node.
_EVIDENCE = (
    "no node-agent mount, device mount, Bidirectional propagation or privileged-only image",
)


def _no_fix(c: kube.Container) -> str:
    """Why ``privileged: true`` is reported and never rewritten (empty when it may be)."""
    bidirectional = wl.bidirectional_mounts(c)
    if bidirectional:
        return (
            "the API server rejects privileged: false while a volume mount keeps "
            f"mountPropagation: Bidirectional ({', '.join(bidirectional)}); change both "
            "together if the container does not need to share mounts with the node"
        )
    tool = wl.root_init_job(c)
    if tool:
        return (
            f"an init container that runs {tool} as privileged is the author's decision; "
            "grant only the capability it needs if that is enough"
        )
    return ""


def _needs(why: str) -> str:
    return (
        f"evidence the container does not need the node: {why}; grant the capabilities it "
        "needs instead of privileged, then set privileged: false"
    )
