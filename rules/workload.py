"""What a pod's own manifest says about the host access it needs.

Shared by K8S001, K8S002 and K8S005 so the three rules judge one workload the same way: a
node agent (a pod that mounts the node's system folders: metrics exporters, log shippers,
device and CSI plugins, problem detectors) needs the host, so flipping its host settings is
never proven; a volume with ``mountPropagation: Bidirectional`` only validates on a
privileged container, so ``privileged: false`` there makes the API server reject the object.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from fixer.documents import yaml as y
from fixer.documents.yaml.kube import Container, PodSpec, containers

#: Node paths whose hostPath mount makes a pod a node agent: the node's root, its kernel
#: interfaces and devices, and the kubelet's and container runtimes' state and sockets.
NODE_PATHS = (
    "/proc",
    "/sys",
    "/dev",
    "/boot",
    "/lib/modules",
    "/etc/kubernetes",
    "/etc/cni",
    "/opt/cni",
    "/var/lib/kubelet",
    "/var/lib/cni",
    "/var/lib/docker",
    "/var/lib/containerd",
    "/var/log",
    "/run/containerd",
    "/var/run/containerd",
    "/run/crio",
    "/var/run/crio",
    "/run/docker.sock",
    "/var/run/docker.sock",
    "/run/netns",
    "/var/run/netns",
    "/run/udev",
    "/run/systemd",
    "/var/run/dbus",
    "/run/dbus",
)


def _clean(path: str) -> str:
    path = re.sub(r"/+", "/", path.strip())
    return path.rstrip("/") or "/"


def is_node_path(path: str) -> bool:
    """``/``, or a node system folder or socket (or a path inside one)."""
    path = _clean(path)
    return path == "/" or _under(path, NODE_PATHS)


def _under(path: str, folders: tuple[str, ...]) -> bool:
    """``path`` (clean) is one of ``folders`` or inside one."""
    return any(path == p or path.startswith(p + "/") for p in folders)


#: Files under the node's ``/etc`` that pods share without being bound to the node: its
#: time zone, CA bundles, name resolution.
_SHARED_ETC = (
    "/etc/localtime",
    "/etc/timezone",
    "/etc/zoneinfo",
    "/etc/ssl",
    "/etc/pki",
    "/etc/ca-certificates",
    "/etc/hosts",
    "/etc/resolv.conf",
)


def is_node_config(path: str) -> bool:
    """A folder or file of the node's own configuration under ``/etc`` (its identity,
    certificates and settings: KubeEdge's cloudcore keeps its certificates in the node's
    ``/etc/kubeedge``), not one of the files pods share (``_SHARED_ETC``)."""
    path = _clean(path)
    if path == "/etc" or not path.startswith("/etc/"):
        return path == "/etc"
    return not _under(path, _SHARED_ETC)


def host_paths(pod: PodSpec) -> Iterator[tuple[str, str]]:
    """``(volume name, node path)`` of each hostPath volume."""
    volumes = y.get(pod.node, "volumes")
    for volume in volumes.value if y.is_sequence(volumes) else []:
        path = y.scalar(y.get_path(volume, "hostPath", "path"))
        if path:
            yield y.scalar(y.get(volume, "name")) or "?", path


def node_agent(pod: PodSpec) -> str | None:
    """Why the pod is a node agent ("it mounts the node's /proc", "its init container
    "install" runs nsenter"), or None. Kept on the pod spec's node: K8S001, K8S002 and
    K8S005 ask for every container (nodes never change; a fix pass composes new ones)."""
    node = pod.node
    try:
        return node.tighten_agent  # type: ignore[no-any-return]
    except AttributeError:
        answer = node.tighten_agent = _node_agent(pod)
        return answer


def _node_agent(pod: PodSpec) -> str | None:
    paths = [path for _, path in host_paths(pod)]
    system = [p for p in paths if is_node_path(p) or is_node_config(p)]
    if system:
        return f"it mounts the node's {', '.join(dict.fromkeys(system))}"
    if pod.obj.kind == "DaemonSet" and paths:
        return f"a DaemonSet mounting the node's {', '.join(dict.fromkeys(paths))}"
    for c in containers(pod):
        if runs_any(c, _HOST_ENTRY):
            return f"its {c.label.split(' ', 1)[1]} runs nsenter into the node's namespaces"
        image = _image_name(c)
        if image in _HOST_SCRIPT_IMAGES:
            return (
                f"its {c.label.split(' ', 1)[1]} runs {image}, which runs its STARTUP_SCRIPT "
                "on the node (nsenter into PID 1's namespaces)"
            )
    return None


#: Images that run a script on the node itself (Kubernetes' ``startup-script``: the
#: GKE local SSD RAID example mounts disks on the node with it, hostPID and privileged).
_HOST_SCRIPT_IMAGES = frozenset({"startup-script"})


#: ``nsenter --mount=/proc/1/ns/mnt -- ...`` runs a command in the node's namespaces (a
#: DaemonSet installing packages on the node): it needs hostPID and privileged.
_HOST_ENTRY = ("nsenter",)


def bidirectional_mounts(c: Container) -> list[str]:
    """Mount paths of the container's volumes with ``mountPropagation: Bidirectional``."""
    mounts = y.get(c.node, "volumeMounts")
    return [
        y.scalar(y.get(m, "mountPath")) or "?"
        for m in (mounts.value if y.is_sequence(mounts) else [])
        if y.scalar(y.get(m, "mountPropagation")) == "Bidirectional"
    ]


def device_mounts(c: Container) -> list[str]:
    """Node paths under ``/dev`` that the container mounts (devices need privilege)."""
    by_name = dict(host_paths(c.pod))
    mounts = y.get(c.node, "volumeMounts")
    found = []
    for m in mounts.value if y.is_sequence(mounts) else []:
        path = by_name.get(y.scalar(y.get(m, "name")) or "")
        if path and (_clean(path) == "/dev" or _clean(path).startswith("/dev/")):
            found.append(path)
    return found


_WORD_BREAK = re.compile(r"[\s;&|()`$'\"]+")


def command_words(c: Container) -> list[str]:
    """The words of the container's command and args (shell strings split on spaces)."""
    return _program_words(command_texts(c))


def command_texts(c: Container) -> list[str]:
    """The container's command and args items, as written."""
    texts: list[str] = []
    for key in ("command", "args"):
        seq = y.get(c.node, key)
        texts += (y.scalar(i) or "" for i in (seq.value if y.is_sequence(seq) else ()))
    return texts


def _program_words(texts: list[str]) -> list[str]:
    """The words of shell strings, split on spaces and shell punctuation, each without its
    folder (``/sbin/fsfreeze`` is ``fsfreeze``)."""
    words = (w for t in texts for w in _WORD_BREAK.split(t))
    return [w.rsplit("/", 1)[-1] for w in words if w]


def runs_any(c: Container, programs: tuple[str, ...]) -> str | None:
    """The first of ``programs`` the container's command runs, or None."""
    words = _words(c)
    if not words:
        return None
    for program in programs:
        if program in words:
            return program
    return None


def _words(c: Container) -> frozenset[str]:
    """The programs the container runs: ``command_words``, and the commands run in it by
    its probes and lifecycle handlers and by Velero's backup/restore hooks
    (``exec_words``), as a set kept on the container's node: K8S001 and K8S002 ask up to
    five times per container. Nodes never change (a fix pass composes new ones), and the
    set holds only strings, so nothing stale or cyclic is kept."""
    node = c.node
    try:
        return node.tighten_words  # type: ignore[no-any-return]
    except AttributeError:
        words = node.tighten_words = frozenset(command_words(c) + exec_words(c))
        return words


#: Handlers whose ``exec.command`` the kubelet runs in the container.
_HANDLERS = (
    ("livenessProbe",),
    ("readinessProbe",),
    ("startupProbe",),
    ("lifecycle", "postStart"),
    ("lifecycle", "preStop"),
)
#: Velero's hook annotations on the pod template: ``<pre|post>.hook.<backup|restore>
#: .velero.io/command`` is run in the container its ``.../container`` names, else in the
#: first container (https://velero.io/docs/main/backup-hooks/).
_VELERO_HOOK = re.compile(r"^((?:pre|post)\.hook\.(?:backup|restore)\.velero\.io)/command$")


def exec_words(c: Container) -> list[str]:
    """The words of the commands other parties run inside the container: probes and
    lifecycle handlers (``exec``), and Velero's backup/restore hooks (a ``fsfreeze`` the
    backup needs, which only a privileged container may run)."""
    texts: list[str] = []
    for path in _HANDLERS:
        seq = y.get_path(c.node, *path, "exec", "command")
        texts += (y.scalar(i) or "" for i in (seq.value if y.is_sequence(seq) else ()))
    annotations = y.get_path(c.pod.obj.node, *c.pod.path[:-1], "metadata", "annotations")
    if y.is_mapping(annotations) and c.key == "containers":
        for key, value in annotations.value:
            hook = _VELERO_HOOK.match(y.scalar(key) or "")
            if hook is None:
                continue
            target = y.scalar(y.get(annotations, f"{hook.group(1)}/container"))
            if target == c.name or (target is None and c.index == 0):
                texts.append(y.scalar(value) or "")
    return _program_words(texts)


def shares_processes(pod: PodSpec) -> bool:
    value = y.get(pod.node, "shareProcessNamespace")
    return value is not None and y.truthy(value)


#: Programs that need the node's kernel (CAP_SYS_ADMIN, CAP_NET_ADMIN, module loading):
#: ``fsfreeze`` freezes a filesystem for a consistent backup.
_KERNEL_TOOLS = ("sysctl", "modprobe", "insmod", "mount", "iptables", "ip", "fsfreeze")


#: What an annotation says of a setting it justifies: its name, then that it is needed.
_SETTING_WORDS = {
    setting: re.compile(words, re.IGNORECASE)
    for setting, words in (
        ("privileged", r"\bprivileged\b"),
        ("hostPID", r"\bhost\s*PID\b"),
        ("hostIPC", r"\bhost\s*IPC\b"),
        ("hostNetwork", r"\bhost\s*network(?:ing)?\b"),
    )
}
_NEEDED = re.compile(r"\b(?:required|requires|needed|needs?|necessary|must)\b", re.IGNORECASE)


def justified(pod: PodSpec, setting: str) -> str | None:
    """The annotation of the object or its pod template that says why ``setting`` is on
    (Kubescape's ICS/OT example: ``kubescape.io/control-C-0057: "privileged mode required
    by vendor COM bridge"`` beside ``privileged: true  # C-0057``): the author's recorded
    decision, which a fix would silently undo. None when no annotation names it as
    needed."""
    words = _SETTING_WORDS[setting]
    places: list[tuple[str, ...]] = [("metadata", "annotations")]
    if len(pod.path) > 1:  # the pod template's own annotations
        places.append((*pod.path[:-1], "metadata", "annotations"))
    for place in places:
        annotations = y.get_path(pod.obj.node, *place)
        for key, value in annotations.value if y.is_mapping(annotations) else ():
            text = y.scalar(value) or ""
            if words.search(text) and _NEEDED.search(text):
                return f'the annotation {y.scalar(key)}: "{text[:100]}" says it is needed'
    return None


def needs_privileged(c: Container, image_needs: bool) -> str | None:
    """Why the container may really need ``privileged: true`` (beyond Bidirectional
    mounts, which make ``false`` invalid): a node agent, a device mount, an image known to
    need it (Docker-in-Docker), an init container tuning the kernel. None when nothing says so."""
    agent = node_agent(c.pod)
    if agent:
        return f"a node agent ({agent})"
    devices = device_mounts(c)
    if devices:
        return f"it mounts the node's devices ({', '.join(devices)})"
    if image_needs:
        return (
            "its image only works privileged (the known image table: Docker-in-Docker, eBPF agents)"
        )
    vpn = _vpn_image(c)
    if vpn:
        return (
            f"its image is {vpn}, a VPN that makes its own network interface (/dev/net/tun) "
            "and routes, which needs privileged or NET_ADMIN with the device"
        )
    daemon = runs_any(c, ("dockerd", "dockerd-entrypoint.sh"))
    if daemon:
        return f"it runs a Docker daemon ({daemon}: Docker-in-Docker), which only works privileged"
    tool = runs_any(c, _KERNEL_TOOLS)
    if tool:
        return f"its command runs {tool}, which needs the node's kernel"
    admin = _added_admin(c)
    if admin:
        return (
            f"it adds {admin}, for mounts or namespaces, which the runtime's AppArmor and "
            "seccomp profiles still block unless it is privileged"
        )
    nfs = _nfs_server(c)
    if nfs:
        return nfs
    csi = _csi_plugin(c)
    if csi:
        return csi
    packet = _net_admin_without_raw(c)
    if packet:
        return packet
    if c.pod.obj.kind == "DaemonSet" and c.key == "containers":
        # One pod per node, made privileged by its author: the per-node work is the node's
        # (piraeus' ha-controller watches DRBD's kernel events on each node).
        return "a DaemonSet's container, privileged on each node for that node's work"
    return justified(c.pod, "privileged")


#: A CSI driver's node service: the node it serves (``--nodeid``) and the socket it serves
#: CSI on (``--endpoint``).
_CSI_NODE = re.compile(r"^--?node[-_]?id(?:=|$)", re.IGNORECASE)
_CSI_ENDPOINT = re.compile(r"^--?(?:csi-)?endpoint(?:=|$)")


def _csi_plugin(c: Container) -> str | None:
    """Why the container is a CSI driver's plugin: a node plugin, which mounts the volumes
    it publishes (external-snapshotter's test StatefulSet runs the hostpath plugin with
    ``--endpoint=$(CSI_ENDPOINT)`` and ``--nodeid=$(KUBE_NODE_NAME)``, privileged), or
    another plugin serving a CSI socket that its author made privileged (csi-driver-smb's
    controller mounts the share to make each volume's folder)."""
    args = command_texts(c)
    endpoints = [a for a in args if _CSI_ENDPOINT.match(a)]
    if not endpoints:
        return None
    if any(_CSI_NODE.match(a) for a in args):
        return "it is a CSI driver's node plugin (--nodeid, --endpoint): it mounts the volumes it serves"
    if any("csi" in a.lower() or "unix:" in a for a in endpoints):
        return (
            "it is a CSI driver's plugin (it serves CSI on --endpoint): a file-share "
            "driver's controller mounts the share to make each volume's folder"
        )
    return None


def _net_admin_without_raw(c: Container) -> str | None:
    """Why a privileged container that drops every capability and adds ``NET_ADMIN`` alone
    may need privileged: without it, it keeps only ``NET_ADMIN``, and iptables (the legacy
    backend) also opens a raw socket, which needs ``NET_RAW`` (Azure Workload Identity's
    ``proxy-init`` redirects the pod's traffic with iptables)."""
    added = added_capabilities(c)
    if "NET_ADMIN" not in added or "NET_RAW" in added:
        return None
    dropped = y.get_path(c.node, "securityContext", "capabilities", "drop")
    items = dropped.value if y.is_sequence(dropped) else ()
    names = {(y.scalar(i) or "").strip().upper() for i in items}
    if "ALL" not in names:
        return None
    return (
        "it drops every capability and adds NET_ADMIN alone: unprivileged, it would keep "
        "only NET_ADMIN, and iptables also needs NET_RAW (add it, then set privileged: false)"
    )


#: VPN and tunnel software whose kernel mode creates a TUN interface (tailscale's documented
#: manifests run it privileged with ``TS_USERSPACE: "false"``).
_VPN = re.compile(
    r"(?:^|[-_])(tailscale|wireguard|openvpn|zerotier(?:-one)?|netbird|nebula|gluetun)(?:$|[-_])"
)


def _nfs_server(c: Container) -> str | None:
    """Why the container is an NFS server, which mounts the kernel's ``nfsd`` and exports
    folders (csi-driver-nfs' example runs ``itsthenetwork/nfs-server-alpine`` privileged,
    as its documentation says it must): its image's name, or NFS's port 2049."""
    name = _image_name(c)
    if _NFS_IMAGE.search(name):
        return f"its image is {name}, an NFS server, which mounts and exports folders"
    ports = y.get(c.node, "ports")
    for port in ports.value if y.is_sequence(ports) else ():
        if y.number(y.get(port, "containerPort")) == 2049:
            return "it serves NFS (port 2049): an NFS server mounts and exports folders"
    return None


_NFS_IMAGE = re.compile(r"(?:^|[-_])(?:nfs-server|nfs-kernel-server|nfsd|nfs-ganesha)(?:$|[-_])")


def _image_name(c: Container) -> str:
    """The last name part of the container's image, lower case, without tag or digest
    (``startup-script`` for ``registry.k8s.io/startup-script:v2``)."""
    image = y.scalar(y.get(c.node, "image")) or ""
    return image.split("@", 1)[0].rsplit("/", 1)[-1].split(":", 1)[0].lower()


def _vpn_image(c: Container) -> str | None:
    name = _image_name(c)
    m = _VPN.search(name)
    return m.group(1) if m else None


def _added_admin(c: Container) -> str | None:
    """``SYS_ADMIN`` (or ``ALL``) when the container's ``capabilities.add`` lists it."""
    return next((n for n in added_capabilities(c) if n in ("SYS_ADMIN", "ALL")), None)


def host_process(pod: PodSpec) -> bool:
    """The pod, or one of its containers, is a Windows HostProcess container
    (``windowsOptions.hostProcess: true``, csi-driver-smb's csi-proxy): it runs as a process
    of a Windows node, and the API server requires hostNetwork with it."""
    path = ("securityContext", "windowsOptions", "hostProcess")
    if y.truthy(y.get_path(pod.node, *path)):
        return True
    return any(y.truthy(y.get_path(c.node, *path)) for c in containers(pod))


def security_setting(c: Container, key: str) -> y.Node | None:
    """A container's security setting, else the pod's (``runAsUser``, ``runAsGroup``)."""
    own = y.get_path(c.node, "securityContext", key)
    return own if own is not None else y.get_path(c.pod.node, "securityContext", key)


def added_capabilities(c: Container) -> list[str]:
    """The capabilities the container's ``securityContext.capabilities.add`` lists, upper
    case, without ``CAP_`` (kube-vip adds NET_ADMIN and NET_RAW)."""
    added = y.get_path(c.node, "securityContext", "capabilities", "add")
    names = (
        (y.scalar(item) or "").strip().upper().removeprefix("CAP_")
        for item in (added.value if y.is_sequence(added) else ())
    )
    return [name for name in names if name]


def is_init(c: Container) -> bool:
    return c.key == "initContainers"


def image_needs_privileged(reference: str | None) -> bool:
    """The curated table says the image only works privileged (``docker:dind``)."""
    from fixer.evidence.known_images import known_image
    from fixer.registry.reference import InvalidReference, Reference

    if not reference:
        return False
    try:
        ref = Reference.parse(reference)
    except InvalidReference:
        return False
    entry = known_image(ref.name)
    return entry is not None and entry.needs_privileged and entry.user_for(ref.tag) == ""


#: Programs an init container runs as root on purpose (volume ownership, kernel settings).
ROOT_INIT_TOOLS = ("chown", "chmod", "sysctl", "setfacl", "chgrp")


def root_init_job(c: Container) -> str | None:
    """The root tool an init container runs (``chown``), or None."""
    return runs_any(c, ROOT_INIT_TOOLS) if is_init(c) else None
