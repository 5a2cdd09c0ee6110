"""K8S001: privileged containers."""

from __future__ import annotations

from collections.abc import Iterator

from fixer.documents import yaml as y
from fixer.documents.yaml import YamlFile, kube
from fixer.documents.yaml.edit import replace_scalar
from fixer.model import Finding, Safety
from fixer.rule import Context, Rule


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
    Needs review: a container that really manages the node (a CNI or storage driver) stops
    working; grant the capabilities it needs instead. The value is changed in place, in
    block or flow style, keeping comments.
    """

    id = "K8S001"
    name = "privileged-container"
    target = "kubernetes"
    summary = "privileged: true -> false"
    safety = Safety.PROVEN
    aliases = ("privileged-container", "CKV_K8S_16")

    def check(self, ctx: Context[YamlFile]) -> Iterator[Finding]:
        for container in kube.all_containers(ctx.doc):
            value = y.get_path(container.node, "securityContext", "privileged")
            if value is None or not y.truthy(value):
                continue
            span = y.span(value)
            yield ctx.finding(
                self,
                span,
                f"{container.label} is privileged",
                edits=[replace_scalar(value, False, ctx.style, ctx.text)],
                title="set privileged: false",
            )
