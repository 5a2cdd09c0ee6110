"""K8S002's judgement: which restrictive securityContext changes the evidence proves.

``runAsNonRoot: true`` only works when the kubelet can verify a numeric non-root user, and
``drop: [ALL]`` only when the process needs no capability (an image that starts as root
and steps down needs SETUID/SETGID/CHOWN; a binary with file capabilities fails to exec).
Each answer is a ``Verdict``: PROVEN with what proved it, or UNPROVEN with what is missing,
phrased as what a person can do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from fixer.documents import yaml as y
from fixer.documents.yaml import YamlFile, kube
from fixer.documents.yaml.kube import Container
from fixer.evidence.images import ImageUser
from fixer.evidence.known_images import ShippedUser
from fixer.model import Safety
from fixer.rule import Context
from rules import workload as wl

#: Programs that signal other processes: in a shared process namespace they need CAP_KILL.
_KILLERS = ("kill", "killall", "pkill")
#: Programs that gain privileges through setuid: they need privilege escalation.
_SETUID_TOOLS = ("sudo", "su", "doas")


@dataclass(frozen=True)
class Verdict:
    safety: Safety
    needs: str = ""
    evidence: str = ""

    @classmethod
    def proven(cls, evidence: str) -> Verdict:
        return cls(Safety.PROVEN, evidence=evidence)

    @classmethod
    def unproven(cls, needs: str) -> Verdict:
        return cls(Safety.UNPROVEN, needs=needs)


@dataclass(frozen=True)
class Who:
    """Who the container's process runs as, and how that is known."""

    uid: int | None
    evidence: str
    image: ImageUser | None = None
    #: A named image user resolved to its uid: write it as ``runAsUser`` (same user).
    resolved: tuple[int, int] | None = None
    #: ``runAsNonRoot: true`` is already set (the kubelet guarantees a non-root user).
    non_root_set: bool = False
    #: A port below 1024 a Service of the same file sends to the container (``served_port``).
    served: int | None = None


numeric = y.number  # the name the K8S002 judges use


def who(c: Container, ctx: Context[YamlFile]) -> Who:
    found = _who(c, ctx)
    port = served_port(ctx.doc, c)
    return replace(found, served=port) if port is not None else found


def served_port(doc: YamlFile, c: Container) -> int | None:
    """A port below 1024 that a Service of the same file sends the container's pod to
    (metacontroller's example hooks: ``python /hooks/sync.py`` serves on 80, which only
    the Service beside it says): the container listens there. A container that declares
    its ports must declare that one; one that declares none must be the pod's only one."""
    if c.key != "containers" or "Service" not in doc.text:
        return None  # an init container serves nothing
    labels = y.get_path(c.pod.obj.node, *c.pod.path[:-1], "metadata", "labels")
    if not y.is_mapping(labels):
        return None
    have = {y.scalar(k): y.scalar(v) for k, v in y.pairs(labels)}
    declared = {numeric(y.get(p, "containerPort")) for p in _items(y.get(c.node, "ports"))} - {None}
    if not declared and sum(1 for o in kube.containers(c.pod) if o.key == "containers") > 1:
        return None
    for obj in kube.objects(doc):
        selector = y.get_path(obj.node, "spec", "selector")
        if obj.kind != "Service" or not y.is_mapping(selector) or not selector.value:
            continue
        if any(have.get(y.scalar(k)) != y.scalar(v) for k, v in y.pairs(selector)):
            continue
        for port in _items(y.get_path(obj.node, "spec", "ports")):
            target = y.get(port, "targetPort")
            number = numeric(target if target is not None else y.get(port, "port"))
            if number is not None and 0 < number < 1024 and (not declared or number in declared):
                return number
    return None


def _items(node: y.Node | None) -> list[y.Node]:
    return node.value if y.is_sequence(node) else []


def _who(c: Container, ctx: Context[YamlFile]) -> Who:
    pod_sc = y.get(c.pod.node, "securityContext")
    sc = y.get(c.node, "securityContext")
    flag = y.get(sc, "runAsNonRoot") or y.get(pod_sc, "runAsNonRoot")
    non_root_set = flag is not None and y.truthy(flag)
    for node, where in ((y.get(sc, "runAsUser"), "container"), (y.get(pod_sc, "runAsUser"), "pod")):
        uid = numeric(node)
        if uid is not None:
            return Who(uid, f"runAsUser {uid} on the {where}", non_root_set=non_root_set)
    image = y.scalar(y.get(c.node, "image")) or ""
    user = ctx.evidence.image_user(image) if image else None
    if user is None:
        return Who(None, "", non_root_set=non_root_set)
    shown = f"image user {user.shown} ({user.source})"
    name = (user.user or "").split(":", 1)[0]
    named = bool(name) and not name.isdigit()
    if user.uid is not None and named and user.uid != 0:
        # Resolved through the image's /etc/passwd: the kubelet only verifies a number.
        gid = user.gid if user.gid is not None else user.uid
        return Who(user.uid, f"{shown} is uid {user.uid}", user, (user.uid, gid), non_root_set)
    if user.uid is not None:
        return Who(user.uid, shown, user, non_root_set=non_root_set)
    ships = user.ships or _shipped(image)
    if ships is not None and ships.name == name:
        evidence = f"{shown} is uid {ships.uid} (known image table)"
        return Who(ships.uid, evidence, user, (ships.uid, ships.gid), non_root_set)
    return Who(None, shown, user, non_root_set=non_root_set)


def _shipped(reference: str) -> ShippedUser | None:
    """The account the curated table says the image ships (``node`` is 1000 in ``node``)."""
    from fixer.evidence.known_images import known_image
    from fixer.registry.reference import InvalidReference, Reference

    try:
        ref = Reference.parse(reference)
    except InvalidReference:
        return None
    entry = known_image(ref.name)
    return entry.ships_for(ref.tag) if entry is not None else None


def _root_start(c: Container, user: ImageUser | None) -> str:
    """Why the image must start as root ("" when nothing says so)."""
    if user is None or not user.starts_as_root or user.uid != 0:
        return ""  # an image configured to run as non-root does not start as root
    image = y.scalar(y.get(c.node, "image")) or "the image"
    if user.steps_down:
        return f"{image} starts as root and steps down with {', '.join(user.steps_down)}"
    ports = ", ".join(map(str, user.privileged_ports))
    return f"{image} starts as root to listen on port {ports}"


def non_root(c: Container, w: Who, agent: str | None, uid: int) -> Verdict:
    """Verdict on ``runAsNonRoot: true`` for a container that lacks it."""
    if agent:
        return Verdict.unproven(f"evidence this node agent runs as non-root ({agent})")
    start = _root_start(c, w.image)
    if start and not w.evidence.startswith("runAsUser"):
        return Verdict.unproven(f"evidence the image does not start as root: {start}")
    tool = wl.root_init_job(c)
    if tool and (w.uid is None or w.uid == 0):
        return Verdict.unproven(
            f"evidence the init container's {tool} works as non-root (it runs as root to "
            "change what the app containers use); set its runAsUser if it does"
        )
    if w.uid is not None and w.uid != 0:
        return Verdict.proven(w.evidence)
    if w.uid == 0:
        return Verdict.unproven(
            f"evidence the program works as a non-root user: {w.evidence} is root; build the "
            f"image with `USER {uid}`, or set runAsUser to a user that can read its files"
        )
    if w.image is not None:
        return Verdict.unproven(
            f"the numeric uid of the {w.evidence}; set runAsUser to it, or build the image "
            f"with `USER {uid}`"
        )
    return Verdict.unproven(
        "the image's numeric user (its config was not read); set runAsUser to the image's "
        f"non-root UID, or build it with `USER {uid}`"
    )


def drop_all(c: Container, w: Who, agent: str | None) -> Verdict:
    """Verdict on ``capabilities.drop: [ALL]`` for a container that lacks it."""
    blocker = _capability_need(c, w, agent)
    if blocker:
        return Verdict.unproven(blocker)
    if w.uid is not None and w.uid != 0:
        return Verdict.proven(f"{w.evidence}: a non-root process has no capability to lose")
    if w.non_root_set:
        return Verdict.proven("runAsNonRoot: true: a non-root process has no capability to lose")
    if w.uid == 0 and w.image is None:
        return Verdict.unproven(
            f"evidence the root process needs no capability ({w.evidence}); add back what "
            "it needs under capabilities.add"
        )
    if w.image is not None and w.uid == 0:
        return Verdict.proven(
            f"{w.evidence}: no step-down program, port below 1024 or file capability"
        )
    return Verdict.unproven(
        "the image's user (its config was not read): dropping every capability is proven "
        "for a non-root process or an image known to need none; set runAsUser, or add back "
        "what it needs under capabilities.add"
    )


def _capability_need(c: Container, w: Who, agent: str | None) -> str:
    """What says the process uses a capability (empty when nothing does)."""
    if agent:
        return f"evidence this node agent needs no capability ({agent})"
    if rejects_no_escalation(c) == "privileged: true":
        return "a decision on privileged: true first (K8S001): a privileged container keeps every capability"
    image = w.image
    if image is not None and image.capabilities:
        files = ", ".join(image.capabilities[:3])
        return (
            f"evidence the program does not rely on its file capabilities ({files}); "
            "add them back under capabilities.add, then drop ALL"
        )
    start = _root_start(c, image)
    if start and not (w.evidence.startswith("runAsUser") and w.uid):
        return (
            f"evidence the image does not start as root: {start} (that needs SETUID, "
            "SETGID and CHOWN)"
        )
    tool = wl.root_init_job(c)
    if tool in ("chown", "chgrp") and not w.uid:
        return f"CAP_CHOWN for the init container's {tool}; add CHOWN back under capabilities.add"
    killer = wl.runs_any(c, _KILLERS)
    if killer and wl.shares_processes(c.pod):
        return (
            f"CAP_KILL for {killer} in the shared process namespace; add KILL back under "
            "capabilities.add"
        )
    raiser = _raises_priority(c)
    if raiser:
        return f"CAP_SYS_NICE for {raiser}; add SYS_NICE back under capabilities.add"
    sudo = wl.runs_any(c, _SETUID_TOOLS)
    if sudo:
        return f"the capabilities {sudo} in the command gains; run it without {sudo}"
    port = low_port(c)
    told = ""
    if port is None and w.served is not None:
        port, told = w.served, " (a Service of the file sends there)"
    if port is not None and not w.uid:
        return (
            f"NET_BIND_SERVICE to listen on port {port}{told} as root; add it back under "
            "capabilities.add, or listen on a port above 1023"
        )
    if not w.uid and interactive(c):
        return (
            "evidence the commands typed in it need no capability: stdin and tty make it "
            "an interactive shell, and root without capabilities cannot read or write other "
            "users' files (a volume being inspected)"
        )
    return ""


#: Programs that raise a process's priority: a negative niceness, a real-time policy.
_PRIORITY_TOOLS = ("nice", "renice", "chrt")
_NEGATIVE = re.compile(r"^-\d+$")


def _raises_priority(c: Container) -> str:
    """``nice -n -20`` / ``renice -n -5``, or ``chrt`` (a real-time policy): what raises a
    priority, which needs CAP_SYS_NICE; "" when the command does neither."""
    tool = wl.runs_any(c, _PRIORITY_TOOLS)
    if tool is None:
        return ""
    words = wl.command_words(c) + wl.exec_words(c)
    if tool == "chrt" or any(_NEGATIVE.match(w) for w in words):
        return f"{tool} raising a priority"
    return ""


def interactive(c: Container) -> bool:
    """``stdin: true`` and ``tty: true``: a shell someone attaches to (``kubectl attach``)."""
    return y.truthy(y.get(c.node, "stdin")) and y.truthy(y.get(c.node, "tty"))


def low_port(c: Container) -> int | None:
    """A port below 1024 the container listens on: a ``containerPort``, one its command
    names, or its own listening port set in its environment (argo-events' webhook:
    ``PORT: "443"``)."""
    ports = y.get(c.node, "ports")
    for port in ports.value if y.is_sequence(ports) else []:
        number = numeric(y.get(port, "containerPort"))
        if number is not None and 0 < number < 1024:
            return number
    return _listen_port(wl.command_words(c)) or _env_port(c)


#: Environment variables that set the program's own listening port (``DB_PORT`` or
#: ``SMTP_PORT`` name a port it connects to: not these).
_OWN_PORT = re.compile(r"(?i)^(?:PORT|LISTEN_PORT|SERVER_PORT|HTTPS?_PORT|BIND_PORT|APP_PORT)$")


def _env_port(c: Container) -> int | None:
    env = y.get(c.node, "env")
    for item in env.value if y.is_sequence(env) else []:
        if _OWN_PORT.match(y.scalar(y.get(item, "name")) or ""):
            number = numeric(y.get(item, "value"))
            if number is not None and 0 < number < 1024:
                return number
    return None


#: A port the command listens on, in the forms that name one for sure: socat's
#: ``TCP-LISTEN:80``, ``--port=80``/``--listen :80``-style options (value in the word or
#: the next one), ``nc -l -p 80``, ``httpd -p 80``, ``python -m http.server 80``.
_LISTEN_WORD = re.compile(r"(?i)(?:tcp|udp)[46]?-listen:(\d+)")
_PORT_OPTION = re.compile(
    r"--(?:port|listen|http-port|https-port|bind|bind-address|listen-address|"
    r"addr|address|web\.listen-address)"
)
_PORT_VALUE = re.compile(r"(?:[\w.\[\]-]*:)?(\d{1,5})")


def _listen_port(words: list[str]) -> int | None:
    found: list[str] = []
    for n, word in enumerate(words):
        nxt = words[n + 1] if n + 1 < len(words) else ""
        m = _LISTEN_WORD.match(word)
        if m:
            found.append(m.group(1))
            continue
        name, eq, value = word.partition("=")
        if _PORT_OPTION.fullmatch(name):
            v = _PORT_VALUE.fullmatch(value if eq else nxt)
            if v:
                found.append(v.group(1))
        elif word == "-p" and any(w in ("nc", "netcat", "ncat", "httpd") for w in words[:n]):
            if nxt.isdigit():
                found.append(nxt)
        elif word == "http.server" and nxt.isdigit():
            found.append(nxt)
    for text in found:
        number = int(text)
        if 0 < number < 1024:
            return number
    return None


def escalation(c: Container, explicit: bool) -> Verdict:
    """Verdict on ``allowPrivilegeEscalation: false``: safe unless something gains privilege."""
    sudo = wl.runs_any(c, _SETUID_TOOLS)
    if sudo:
        return Verdict.unproven(f"a command without {sudo} ({sudo} needs privilege escalation)")
    if explicit:
        return Verdict.unproven(
            "evidence no setuid program (sudo, su, ping) is needed: the author set "
            "allowPrivilegeEscalation: true"
        )
    added = wl.added_capabilities(c)
    if added and not _runs_as_root(c):
        return Verdict.unproven(
            f"evidence the program gets the capabilities the author added ({', '.join(added)}) "
            "without privilege escalation: a process that is not root from the start (an "
            "image that steps down with su-exec or gosu, a non-root USER) gets them only "
            "through its binary's file capabilities (setcap), which "
            "allowPrivilegeEscalation: false ignores"
        )
    return Verdict(Safety.SAFE)


def _runs_as_root(c: Container) -> bool:
    """The container says it runs as root (``runAsUser: 0``, on it or its pod): its process
    holds the added capabilities from the start, whatever allowPrivilegeEscalation says."""
    return y.scalar(wl.security_setting(c, "runAsUser")) == "0"


#: A ``privileged: true`` left commented out in a securityContext, for users to switch on
#: (Elastic's agent recipe: "privileged is only required when running in an
#: SELinux-enabled/OpenShift environment. # privileged: true").
_PRIVILEGED_SWITCH = re.compile(r"(?m)^([ \t]*)#[ \t]*privileged:[ \t]*[\"']?true\b")


def privileged_switch(text: str, c: Container) -> int:
    """The 1-based line of a commented-out ``privileged: true`` inside the container's
    securityContext (indented at least as deep as its keys), or 0. Switched on, it makes
    the API server reject ``allowPrivilegeEscalation: false``."""
    key = y.key_node(c.node, "securityContext")
    sc = y.get(c.node, "securityContext")
    if key is None or sc is None or not y.is_mapping(sc):
        return 0
    start, end = key.end_mark.index, sc.end_mark.index
    if "#" not in text[start:end]:
        return 0
    for found in _PRIVILEGED_SWITCH.finditer(text, start, end):
        if len(found.group(1).expandtabs()) >= sc.start_mark.column:
            return text.count("\n", 0, found.start()) + 1
    return 0


def rejects_no_escalation(c: Container) -> str:
    """Why the API server would reject ``allowPrivilegeEscalation: false`` here ("" if not)."""
    sc = y.get(c.node, "securityContext")
    if sc is None:  # most containers: asked twice for each of them
        return ""
    privileged = y.get(sc, "privileged")
    if privileged is not None and y.truthy(privileged):
        return "privileged: true"
    add = y.get_path(sc, "capabilities", "add")
    for item in add.value if y.is_sequence(add) else ():
        if (y.scalar(item) or "").upper().removeprefix("CAP_") == "SYS_ADMIN":
            return "capabilities.add SYS_ADMIN"
    return ""
