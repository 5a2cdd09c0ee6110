"""K8S006: pods that mount their service account's API token without needing it."""

from __future__ import annotations

from collections.abc import Iterator

from fixer.documents import yaml as y
from fixer.documents.yaml import YamlFile, kube
from fixer.documents.yaml.edit import insert_into_mapping
from fixer.model import Finding, Safety, Span
from fixer.rule import Context, Rule, Severity

_KEY = "automountServiceAccountToken"


class AutomountServiceAccountToken(Rule[YamlFile]):
    """Pod mounts its service account token.

    ## What it does
    Finds pods (of every workload kind) that do not set `automountServiceAccountToken`, and
    whose service account (in the same file) does not turn it off either, and sets
    `automountServiceAccountToken: false` in the pod spec. An explicit `true` is the
    author's decision and is left alone. Opt-in: it runs only when `--select` names it
    (`--select K8S006`, or `select = ["K8S006", ...]` in the config).

    ## Why is this bad?
    Kubernetes mounts a token for the pod's service account into every container by
    default. Most applications never call the Kubernetes API, but anyone who gets code
    execution in the container can read the token and act with the service account's
    permissions: list secrets, create pods, move sideways in the cluster.

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
      automountServiceAccountToken: false
    ```

    ## Fix safety
    Needs review: a pod that calls the Kubernetes API with its token (operators,
    controllers, CI runners, Vault's Kubernetes auth, anything using in-cluster
    configuration) fails once the token is gone. Only pods that run as the namespace's
    `default` service account get a fix; a pod that names its own service account most
    likely uses it, so it is reported without one. The key is added as the last key of the
    pod spec, in block or flow style, like its neighbours.
    """

    id = "K8S006"
    name = "automount-service-account-token"
    target = "kubernetes"
    summary = "pods mount the API token -> automountServiceAccountToken: false (opt-in)"
    safety = Safety.PROVEN
    aliases = ("CKV_K8S_38",)
    severity = Severity.WARNING
    security_severity = 4.0
    opt_in = True

    def check(self, ctx: Context[YamlFile]) -> Iterator[Finding]:
        switched_off = _accounts_without_token(ctx.doc)
        for pod in kube.pod_specs(ctx.doc):
            if y.get(pod.node, _KEY) is not None:
                continue  # false already, or the author's explicit choice
            account = _account(pod)
            if account in switched_off:
                continue
            anchor = _anchor(pod)
            message = f"{pod.obj.kind}/{pod.obj.name or '?'} mounts its service account token"
            if account != "default":
                yield ctx.finding(
                    self,
                    anchor,
                    message,
                    reason=f"it runs as service account {account!r}, which it may use to "
                    f"call the API; set {_KEY} yourself",
                )
                continue
            yield ctx.finding(
                self,
                anchor,
                message,
                edits=[insert_into_mapping(ctx.doc, pod.node, {_KEY: False}, ctx.style)],
                title=f"set {_KEY}: false",
            )


def _account(pod: kube.PodSpec) -> str:
    for key in ("serviceAccountName", "serviceAccount"):  # the second is deprecated
        name = y.scalar(y.get(pod.node, key))
        if name:
            return name
    return "default"


def _accounts_without_token(doc: YamlFile) -> set[str]:
    """ServiceAccounts in this file that turn the token off for every pod using them."""
    return {
        obj.name
        for obj in kube.objects(doc)
        if obj.kind == "ServiceAccount"
        and obj.name
        and y.scalar(y.get(obj.node, _KEY)) in ("false", "False", "FALSE")
    }


def _anchor(pod: kube.PodSpec) -> Span:
    """The pod spec's key (``spec:``), so a comment above it suppresses the finding."""
    parent = y.get_path(pod.obj.node, *pod.path[:-1])
    key = y.key_node(parent, pod.path[-1]) if y.is_mapping(parent) else None
    node = key if key is not None else pod.node
    return Span(node.start_mark.index, node.end_mark.index)
