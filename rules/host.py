"""K8S005: host namespaces and host access."""

from __future__ import annotations

from collections.abc import Iterator

from fixer.documents import yaml as y
from fixer.documents.yaml import YamlFile, kube
from fixer.documents.yaml.edit import replace_scalar
from fixer.model import Finding, Fix, Safety
from fixer.rule import Context, Rule, Severity
from rules import workload as wl

_NAMESPACES = {
    "hostPID": "the node's processes (and can signal or trace them)",
    "hostIPC": "the node's shared memory and IPC objects",
    "hostNetwork": "the node's network interfaces (and every port on localhost)",
}


#: What proves a host namespace flip for a pod that is not a node agent.
_EVIDENCE = ("no hostPath mount of the node's system folders (not a node agent)",)


def _declared(ctx: Context[YamlFile], pod: kube.PodSpec, key: str) -> str | None:
    """A sibling setting that only means something with the host namespace: the author
    chose the namespace on purpose (``dnsPolicy: ClusterFirstWithHostNet`` is how a pod on
    the host network keeps cluster DNS), so flipping it would break what they built; or an
    annotation says why the namespace is needed."""
    said = wl.justified(pod, key) or _commented(ctx.text, y.get(pod.node, key))
    if said:
        return f"evidence this pod does not need {key}: {said}; if it does not, set {key}: false"
    if key != "hostNetwork":
        return None
    admin = _network_admin(pod)
    if admin:
        return (
            f"evidence this pod works off the host network: {admin} adds NET_ADMIN, which "
            "on the host network administers the node's own network (its iptables rules, "
            "routes and interfaces); if it only changes the pod's, set hostNetwork: false"
        )
    pinned = _control_plane(pod)
    if pinned:
        return (
            f"evidence this pod works off the host network: it runs only on control-plane "
            f"nodes ({pinned}), where components on the host network serve the API server "
            "on the node's own address, also while the pod network is not there; if it "
            "does, set hostNetwork: false"
        )
    plugin = _network_plugin(ctx)
    if plugin:
        return (
            f"evidence this pod works off the host network: the repository ships a network "
            f"plugin ({plugin} uses the node's /etc/cni/net.d), whose own pods run on the "
            "host network to work while the pod network is down or being replaced; if it "
            "does, set hostNetwork: false"
        )
    served = _served_on_node(pod)
    if served:
        return (
            f"evidence nothing reaches the pod on the node's own address: {served}; expose "
            "it with a Service first, then set hostNetwork: false"
        )
    policy = y.get(pod.node, "dnsPolicy")
    if y.scalar(policy) != "ClusterFirstWithHostNet":
        return None
    assert policy is not None
    line = policy.start_mark.line + 1
    return (
        f"evidence this pod does not need the host network: it sets dnsPolicy: "
        f"ClusterFirstWithHostNet (line {line}), which only applies to pods on the host "
        "network; if it does not, set hostNetwork: false and drop that dnsPolicy"
    )


#: Node labels of the control plane (kubeadm's, and the one before it).
_CONTROL_PLANE = ("node-role.kubernetes.io/control-plane", "node-role.kubernetes.io/master")


def _control_plane(pod: kube.PodSpec) -> str:
    """How the pod is pinned to control-plane nodes: a node selector or a required node
    affinity on their role label (vSphere CSI's Supervisor webhook: ``nodeSelector:
    node-role.kubernetes.io/control-plane: ""`` beside ``hostNetwork: true``); ""."""
    selector = y.get(pod.node, "nodeSelector")
    for label in _CONTROL_PLANE:
        if y.get(selector, label) is not None:
            return f"nodeSelector {label}"
    terms = y.get_path(
        pod.node,
        "affinity",
        "nodeAffinity",
        "requiredDuringSchedulingIgnoredDuringExecution",
        "nodeSelectorTerms",
    )
    found = ""
    for term in terms.value if y.is_sequence(terms) else ():
        expressions = y.get(term, "matchExpressions")
        keys = {
            y.scalar(y.get(e, "key"))
            for e in (expressions.value if y.is_sequence(expressions) else ())
            if y.scalar(y.get(e, "operator")) in ("Exists", "In")
        }
        role = next((k for k in _CONTROL_PLANE if k in keys), None)
        if role is None:
            return ""  # a term (they are ORed) that lets the pod run elsewhere
        found = f"a required node affinity on {role}"
    return found


def _commented(text: str, value: y.Node | None) -> str:
    """``line N says why: "..."`` when a comment on the setting's line, or the comment
    line just above it, explains it (kube-network-policies' ``hostNetwork: true # do not
    depend on the network of the cluster``); "" otherwise."""
    if value is None:
        return ""
    start = text.rfind("\n", 0, value.start_mark.index) + 1
    end = text.find("\n", value.end_mark.index)
    end = len(text) if end < 0 else end
    line = value.start_mark.line + 1
    trailing = text[value.end_mark.index : end]
    hash_at = trailing.find("#")
    if hash_at >= 0 and not trailing[:hash_at].strip():
        said = trailing[hash_at + 1 :].strip()
    else:
        above_end = start - 1
        above_start = text.rfind("\n", 0, max(above_end, 0)) + 1
        above = text[above_start:above_end].strip() if above_end > 0 else ""
        if not above.startswith("#"):
            return ""
        said, line = above.lstrip("#").strip(), line - 1
    if len(said) < 8:  # a bare marker (``# x``), not a reason
        return ""
    return f'line {line} says why it is set: "{said[:80]}"'


def _network_admin(pod: kube.PodSpec) -> str:
    """The first container that adds ``NET_ADMIN`` (KubeEdge's iptables-manager DaemonSet
    writes the node's iptables rules from the host network), or ""."""
    for c in kube.containers(pod):
        if "NET_ADMIN" in wl.added_capabilities(c):
            return c.label
    return ""


def _network_plugin(ctx: Context[YamlFile]) -> str:
    repository = ctx.evidence.repository
    if repository is None:
        return ""
    try:
        return repository.network_plugin()  # type: ignore[no-any-return]
    except Exception:  # evidence is optional: a broken model says nothing
        return ""


def _served_on_node(pod: kube.PodSpec) -> str:
    """How a pod on the host network serves the node's own address: a ``hostPort``, or a
    DaemonSet's container port (one per node, reached at each node's IP: skipper's ingress
    DaemonSet listens on 9999 with ``hostPort: 9999`` for the load balancer). ""
    otherwise."""
    daemon = pod.obj.kind == "DaemonSet"
    for c in kube.containers(pod):
        ports = y.get(c.node, "ports")
        for port in ports.value if y.is_sequence(ports) else []:
            number = y.scalar(y.get(port, "containerPort")) or "?"
            host = _host_port(port)
            if host is not None:
                return f"{c.label} serves port {number} with hostPort {y.scalar(host)}"
            if daemon and number != "?":
                return f"{c.label} serves port {number} on every node's network"
    return ""


def _host_port(port: y.Node) -> y.Node | None:
    """The ``hostPort`` node binding a container port to the node's port; None when the
    key is missing, not a scalar, or 0."""
    host = y.get(port, "hostPort")
    return None if y.scalar(host) in (None, "0") else host


def _agent_needs(key: str, agent: str) -> str:
    """Withheld for a node agent: the same judgement as the hostPath finding below."""
    return (
        f"evidence this node agent does not need {key} ({agent}: it may depend on the "
        f"node); if it does not, set {key}: false"
    )


class HostNamespaces(Rule[YamlFile]):
    """Pod shares the node's namespaces or files.

    ## What it does
    Finds pods (of every workload kind) with `hostPID`, `hostIPC` or `hostNetwork` set to
    `true`, and sets them to `false`. It also reports `hostPath` volumes and container
    `hostPort`s, which it cannot fix for you.

    ## Why is this bad?
    A pod in the node's PID namespace sees and can signal every process on the node; in its
    IPC namespace it reads other workloads' shared memory; in its network namespace it
    binds the node's ports and reaches services listening on the node's localhost. A
    `hostPath` volume exposes the node's filesystem (mount `/` and the node is yours) and a
    `hostPort` ties the pod to one node and bypasses network policy. The Pod Security
    Standards *baseline* profile forbids all of them.

    ## Example
    ```yaml
    apiVersion: v1
    kind: Pod
    metadata:
      name: debug
    spec:
      hostPID: true
      containers:
        - name: shell
          image: busybox:1.36
    ```
    Use instead:
    ```yaml
    apiVersion: v1
    kind: Pod
    metadata:
      name: debug
    spec:
      hostPID: false
      containers:
        - name: shell
          image: busybox:1.36
    ```

    ## Fix safety
    Proven unless the pod is a node agent (it mounts the node's system folders, which this
    rule reports as hostPath), or declares that it lives on the host network
    (`dnsPolicy: ClusterFirstWithHostNet`); then the flips are offered with what is needed. Suppress the
    findings of a node agent that needs the host with the annotation
    `ignore-check.tighten.dev/K8S005`. `hostPath` volumes and `hostPort`s are reported
    only: replacing them needs knowledge of the workload (a PersistentVolumeClaim, a
    ConfigMap, an `emptyDir`, or a Service).
    """

    id = "K8S005"
    name = "host-namespaces"
    target = "kubernetes"
    summary = "hostPID/hostIPC/hostNetwork -> false; hostPath and hostPort reported"
    safety = Safety.PROVEN
    #: A network plugin's repository keeps its pods on the host network (``_declared``).
    needs_repository = True
    aliases = (
        "host-pid",
        "host-ipc",
        "host-network",
        "CKV_K8S_17",
        "CKV_K8S_18",
        "CKV_K8S_19",
    )
    severity = Severity.ERROR
    security_severity = 8.0
    risk = (
        "`hostPID`/`hostIPC`/`hostNetwork` are off: workloads that inspect the node's "
        "processes or bind to the node's ports need another design."
    )

    def check(self, ctx: Context[YamlFile]) -> Iterator[Finding]:
        for pod in kube.pod_specs(ctx.doc):
            label = f"{pod.obj.kind}/{pod.obj.name or '?'}"
            agent = wl.node_agent(pod)
            for key, what in _NAMESPACES.items():
                value = y.get(pod.node, key)
                if value is None or not y.truthy(value):
                    continue
                message = f"{label} uses {key}: it shares {what}"
                if key == "hostNetwork" and wl.host_process(pod):
                    reason = (
                        "the API server rejects hostNetwork: false on a pod with Windows "
                        "HostProcess containers (windowsOptions.hostProcess: true), which "
                        "run as processes on the node; change both together if the pod "
                        "does not need to run on the host"
                    )
                    yield ctx.finding(self, y.span(value), message, reason=reason)
                    continue
                edit = replace_scalar(value, False, ctx.style, ctx.text)
                title = f"set {key}: false"
                needs = _agent_needs(key, agent) if agent else _declared(ctx, pod, key)
                fix = (
                    Fix(title, (edit,), Safety.UNPROVEN, needs=needs)
                    if needs
                    else Fix(title, (edit,), Safety.PROVEN, evidence=_EVIDENCE)
                )
                yield ctx.finding(self, y.span(value), message, fix=fix)
            yield from _host_paths(self, ctx, pod, label)
            for c in kube.pod_containers(ctx.doc, pod):
                yield from _host_ports(self, ctx, c)


def _host_paths(
    rule: Rule[YamlFile], ctx: Context[YamlFile], pod: kube.PodSpec, label: str
) -> Iterator[Finding]:
    volumes = y.get(pod.node, "volumes")
    for volume in volumes.value if y.is_sequence(volumes) else []:
        host_path = y.get(volume, "hostPath")
        if host_path is None:
            continue
        path = y.scalar(y.get(host_path, "path")) or "?"
        name = y.scalar(y.get(volume, "name")) or "?"
        yield ctx.finding(
            rule,
            y.span(host_path),
            f'{label} mounts the node\'s {path} (hostPath volume "{name}")',
            reason="the workload may depend on the node's files; use a PersistentVolumeClaim, "
            "ConfigMap, Secret or emptyDir if it does not",
        )


def _host_ports(
    rule: Rule[YamlFile], ctx: Context[YamlFile], c: kube.Container
) -> Iterator[Finding]:
    ports = y.get(c.node, "ports")
    for port in ports.value if y.is_sequence(ports) else []:
        host = _host_port(port)
        if host is None:
            continue
        yield ctx.finding(
            rule,
            y.span(host),
            f"{c.label} binds hostPort {y.scalar(host)}",
            reason="clients may reach the pod through the node's port; expose it with a "
            "Service (NodePort or LoadBalancer) instead",
        )
