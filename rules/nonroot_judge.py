"""DF001's judgement: who an image is meant to run as, and whether it can start as non-root.

Two questions decide the fix. *Who*: a user the files were ``chown``ed to, the user the base
image runs as or ships for reuse (``node``, ``www-data``, .NET's ``app``), before a new one.
*Whether*: an image that starts as root on purpose (its entrypoint steps down with ``gosu``,
it runs ``sshd`` or ``supervisord``, it serves a port below 1024, it writes a ``VOLUME`` only
root owns) breaks when ``USER`` makes it non-root. Each sign found is a reason the fix is
withheld (UNPROVEN); with none, adding ``USER`` is PROVEN by the Dockerfile itself.
"""

from __future__ import annotations

import json
import operator
import os
import posixpath
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from fixer.documents import yaml as y
from fixer.documents.dockerfile import (
    Dockerfile,
    Instruction,
    Stage,
    key_values,
    parent_stages,
    parse,
)
from fixer.documents.dockerfile.images import expand, stage_variables
from fixer.documents.dockerfile.words import unquote
from fixer.documents.text import SourceText
from fixer.documents.yaml.kube import Container, containers
from fixer.evidence.images import ImageUser
from fixer.filenames import is_dockerfile_name
from fixer.repository import usage
from fixer.repository.copies import arguments
from fixer.repository.manifests import RUNTIME_SOCKET
from fixer.repository.names import image_key
from fixer.repository.tools import code_lines
from fixer.repository.walk import read_text
from fixer.rule import Context
from rules.security_judgement import low_port
from rules.workload import (
    added_capabilities,
    bidirectional_mounts,
    command_texts,
    host_paths,
    is_node_path,
    needs_privileged,
    node_agent,
    security_setting,
)

#: Programs an entrypoint uses to drop root after doing root's work (chown, sysctl, bind).
STEP_DOWN = re.compile(
    r"(?<![\w./-])(gosu|su-exec|setpriv|runuser|chroot|s6-setuidgid|s6-applyuidgid|"
    r"s6-svscan|supervisord|chpst|setuidgid|su)(?![\w-])"
)
_SSHD = re.compile(r"(?<![\w.-])(sshd|openssh-server|dropbear)(?![\w-])")
_INSTALLS_STEP_DOWN = re.compile(r"\b(gosu|su-exec)\b")
#: Packages of the Docker client: an image that ships one talks to a daemon through the
#: socket it is given (CI builders, image build tools), which only root (or the host's
#: docker group, unknown here) may use.
DOCKER_CLIENTS = r"docker\.io|docker-ce-cli|docker-cli|moby-cli"
_DOCKER_CLI = re.compile(rf"(?<![\w.-])({DOCKER_CLIENTS}|docker-ce)(?![\w.-])")
#: The Docker client put in place by hand (``curl .../docker-latest.tgz | tar xz`` then
#: ``mv /tmp/docker/docker /usr/bin/docker``), or by the convenience script.
_DOCKER_BINARY = re.compile(
    r"\b(?:mv|cp|install)\b[^;&|\n]*\s(/usr/(?:local/)?bin/docker)(?![\w.-])"
    r"|(?<![\w.-])(get\.docker\.com)(?![\w-])"
)
#: A text none of these is in cannot match ``STEP_DOWN`` (every name it lists holds one):
#: the regex, with its look-behind tried at every offset, costs more than these scans.
_STEP_DOWN_HINTS = ("su", "setpriv", "runuser", "chroot", "s6-", "chpst", "setuidgid")
_SSHD_HINTS = ("sshd", "openssh-server", "dropbear")
#: Packages that administer the node's disks, filesystems, kernel modules or packet
#: filters: an image that installs one runs them (a storage or network helper), and they
#: need root (``xfs_quota -x``, ``iptables``, ``mkfs``, ``iscsiadm``).
_NODE_ADMIN = re.compile(
    r"(?<![\w.+-])(xfsprogs|btrfs-progs|e2fsprogs|dosfstools|lvm2|mdadm|cryptsetup|parted|"
    r"gdisk|quota(?:-tools)?|iptables|nftables|ipset|ipvsadm|conntrack(?:-tools)?|ebtables|"
    r"kmod|nfs-utils|nfs-common|open-iscsi|iscsi-initiator-utils|multipath-tools|"
    r"device-mapper-multipath|ethtool|wireguard-tools|dkms)(?![\w.+-])"
)
_NODE_ADMIN_HINTS: tuple[str, ...] = ("progs", "lvm2", "mdadm", "crypt", "parted", "gdisk")
_NODE_ADMIN_HINTS += ("quota", "tables", "ipset", "ipvsadm", "conntrack", "kmod", "nfs-")
_NODE_ADMIN_HINTS += ("iscsi", "multipath", "ethtool", "wireguard", "dkms")
#: Programs that drive a Docker daemon through its socket (buildpacks' ``pack``, kind,
#: dive, earthly, compose), run as the image's command: the socket is root's (or the
#: host's docker group, unknown here).
_DAEMON_TOOLS = ("docker", "docker-compose", "pack", "kind", "dive", "earthly")
_DAEMON_TOOL = re.compile(
    r"(?m)^[ \t]*(?:exec[ \t]+|set[ \t]+--[ \t]+)?(?:[\w./-]*/)?("
    + "|".join(map(re.escape, _DAEMON_TOOLS))
    + r")(?=[ \t]|$)"
)
#: Site generators that write into the folder they build or serve (hugo's resources/,
#: public/ and .hugo_build.lock; jekyll's _site/ and .jekyll-cache/), shipped in the final
#: image: a previewer run on a source tree the build copied in as root.
_SITE_GENERATOR = re.compile(r"(?<![\w.-])(hugo|jekyll)(?![\w.-])")
#: Shells an exec-form ENTRYPOINT names before the script it runs.
_SHELLS = frozenset({"sh", "bash", "ash", "dash", "zsh"})
_CAPABLE = re.compile(r"\bsetcap\b|cap_net_bind_service|NET_BIND_SERVICE", re.IGNORECASE)


def _capable(text: str) -> bool:
    """``_CAPABLE`` anywhere in the file. For ASCII text a plain search of the lower-cased
    text says first whether it can match (a case-insensitive regex over a whole file costs
    more than the rest of the instruction checks); other text may hold a character that
    case-folds onto an ASCII letter (the long s), so the regex decides."""
    if text.isascii():
        low = text.lower()
        if "setcap" not in low and "net_bind_service" not in low:
            return False
    return bool(_CAPABLE.search(text))


_SPLIT = re.compile(r"&&|\|\||;|\||\n")
#: Well-known account names whose number is the same on Debian, Alpine and RHEL images.
_WELL_KNOWN = {"nobody": (65534, 65534)}
_MAX_SCRIPT = 256 * 1024
#: Manifests cited in one needs text.
_MAX_SIGNS = 2


@dataclass(frozen=True)
class Owner:
    """A user the build gives files to (``chown -R app /srv``, ``COPY --chown=app``)."""

    user: str
    group: str | None
    line: int


def base_runs_non_root(base: ImageUser | None) -> bool:
    """The base image's own user is not root (numeric or a name such as ``nobody``)."""
    if base is None:
        return False
    if base.uid is not None:
        return base.uid != 0
    return bool(base.user) and base.user not in ("root", "0")


#: The last ``owners`` answer, with the document and stages it was for (held, so their
#: identities cannot be reused): ``_choose`` and ``_owner_conflicts`` both ask.
_last_owners: list[tuple[object, list[Stage], list[Owner]]] = []


def owners(chain: list[Stage], doc: Dockerfile) -> list[Owner]:
    """Non-root users files are given to, in build order (root owners are not listed)."""
    for known, stages, answer in _last_owners:
        if known is doc and _same(stages, chain):
            return list(answer)
    found = _owners(chain, doc)
    _last_owners[:] = [(doc, list(chain), found)]
    return list(found)


def _same(stages: list[Stage], chain: list[Stage]) -> bool:
    return len(stages) == len(chain) and all(map(operator.is_, stages, chain))


def _owners(chain: list[Stage], doc: Dockerfile) -> list[Owner]:
    found: list[Owner] = []
    for stage in reversed(chain):
        variables: dict[str, str] | None = None  # worked out for the first owner found
        for ins in stage.body:
            for text in _owner_texts(ins):
                if variables is None:
                    variables = stage_variables(doc, stage)
                value = expand(text, variables)
                if value is None:
                    continue
                user, _, group = value.partition(":")
                if user and user not in ("root", "0"):
                    found.append(Owner(user, group or None, ins.line))
    return found


def _owner_texts(ins: Instruction) -> Iterator[str]:
    if ins.keyword in ("COPY", "ADD") and "chown" in ins.flags:
        yield ins.flags["chown"]
    elif ins.keyword == "RUN" and "chown" in ins.value:  # a command starting chown has it
        for command in _SPLIT.split(ins.value):
            words = [w for w in command.split() if not w.startswith("-")]
            if len(words) >= 3 and words[0].rsplit("/", 1)[-1] == "chown":
                yield words[1]


def owner_ids(owner: Owner, base: ImageUser | None) -> tuple[str, str | None] | None:
    """The numeric user (and group) of ``owner`` when the evidence gives it."""
    group = owner.group if owner.group and owner.group.isdigit() else None
    if owner.user.isdigit():
        return owner.user, group
    if base is not None and base.ships is not None and base.ships.name == owner.user:
        return str(base.ships.uid), group or str(base.ships.gid)
    if owner.user in _WELL_KNOWN:
        uid, gid = _WELL_KNOWN[owner.user]
        return str(uid), group or str(gid)
    return None


def root_start_signs(
    ctx: Context[Dockerfile], chain: list[Stage], base: ImageUser | None
) -> list[str]:
    """Why the image may need to start as root; empty when nothing says so."""
    signs: list[str] = []
    if base is not None and base.steps_down:
        signs.append(f"the base image starts as root and steps down with {base.steps_down[0]}")
    if base is not None and base.privileged_ports:
        ports = ", ".join(map(str, base.privileged_ports))
        signs.append(f"the base image listens on port {ports} as root")
    signs += _instruction_signs(ctx.doc, chain + whole_copies(ctx.doc, chain))
    commented = (
        commented_user_sign(ctx.doc) or root_comment_sign(ctx.doc) or chosen_root_sign(ctx.doc)
    )
    if commented:
        signs.append(commented)
    signs += _switching_server(ctx, chain)
    installs_client = any(_CLIENT in sign for sign in signs)
    # An image that installs the Docker client says so once, not again for its command.
    signs += [s for s in _entrypoint_signs(ctx, chain) if not installs_client or _DAEMON not in s]
    signs += _volume_signs(chain)
    signs += _data_folder_signs(chain)
    signs += _workdir_script_signs(ctx, chain)
    signs += _arg_program_signs(chain)
    signs += _config_folder_signs(ctx, chain)
    signs += _program_default_signs(ctx, chain)
    signs += _program_path_signs(ctx, chain)
    signs += _python_write_signs(ctx, chain)
    signs += _script_port_signs(ctx, chain)
    signs += _runtime_install_signs(ctx, chain)
    signs += _chart_signs(ctx, chain)
    signs += sibling_volumes(ctx, chain)
    signs += manifest_signs(ctx, chain)
    signs += _socket_signs(ctx, chain)
    signs += _sudo_signs(ctx, chain)
    signs += _generated_key_signs(chain)
    signs += onbuild_steps(chain)[:1]
    return list(dict.fromkeys(signs))


def onbuild_steps(chain: list[Stage]) -> list[str]:
    """The shipped stages' ``ONBUILD RUN`` steps (Nuclio's ``dotnetcore/docker/onbuild``:
    ``ONBUILD RUN dotnet restore && dotnet publish``): they run in every build FROM this
    image, as the user its last USER sets."""
    return [
        f"line {ins.line} ONBUILD RUN runs in every build FROM this image, as the user a "
        "USER here would set"
        for stage in chain
        for ins in stage.body
        if ins.keyword == "ONBUILD" and ins.value.lstrip().upper().startswith("RUN")
    ]


#: A private key's file name: ``server.key``, ``tls.key``, ``id_rsa``, ``key.pem``.
_KEY_FILE = re.compile(r"(?i)(?:\.key|[-_.]key\.pem|^key\.pem|^id_(?:rsa|ecdsa|ed25519))$")


#: A public key copied where a package manager reads signing keys, or named as one.
_PUBLIC_KEY = re.compile(r"(?i)keyrings?/|trusted\.gpg|\.(?:asc|gpg|pub)\b|release\.key|public")


def _generated_key_signs(chain: list[Stage]) -> list[str]:
    """A private key copied out of a build stage without ``--chown`` (Emissary's
    kat-server: ``step certificate create ... /certs/server.key`` in one stage, ``COPY
    --from=step-cli /certs/server.crt /certs/server.key /work/`` in the final one): tools
    write keys with mode 600, COPY keeps the mode and gives the file to root, so only root
    could read it."""
    found: list[str] = []
    for stage in chain:
        for ins in stage.body:
            if ins.keyword != "COPY" or "from" not in ins.flags or "chown" in ins.flags:
                continue
            words = [w for w in ins.value.split() if not w.startswith("--")]
            keys = [w for w in words[:-1] if _KEY_FILE.search(w.rsplit("/", 1)[-1])]
            if keys and _PUBLIC_KEY.search(" ".join((*keys, words[-1]))):
                continue  # an apt keyring's signing key (robusta: Release.key to keyrings/)
            if keys:
                found.append(
                    f"line {ins.line} copies {keys[0]} out of stage {ins.flags['from']} "
                    "without --chown: a private key, written with mode 600 and given to "
                    "root by COPY, which a non-root user could not read"
                )
    return found


_SOCKET = "the container runtime's socket, which only root (or the docker group) may use"


def _sudo_signs(ctx: Context[Dockerfile], chain: list[Stage]) -> list[str]:
    """The repository's own scripts, Makefiles or docs run the image's program with sudo
    (Inspektor Gadget: ``sudo ig run trace_exec``; its container-hook example's Makefile:
    ``sudo ./container-hook -output ...``): the program needs root."""
    repository = ctx.evidence.repository
    program = entry_program(chain)
    if repository is None or program is None:
        return []
    found = repository.run_with_sudo(os.path.basename(program))
    if found is None:
        return []
    where = f"{os.path.relpath(found[0], repository.root)}:{found[1]}"
    return [f"{where} runs {os.path.basename(program)} with sudo: the program needs root"]


def _socket_signs(ctx: Context[Dockerfile], chain: list[Stage]) -> list[str]:
    """Compose services running the image with a runtime socket bound in (woodpecker's
    agent runs pipelines through ``/var/run/docker.sock``): a non-root user could not
    open it. Matched by a likely name too: enough to withhold."""
    repository = ctx.evidence.repository
    if repository is None:
        return []
    program = entry_program(chain)
    signs: list[str] = []
    for build in repository.build_of(_dockerfile(ctx)):
        for run, line, source, exact in usage.socket_mounts(repository, build, program):
            where = f"{os.path.relpath(run.path, repository.root)}:{line}"
            named = "" if exact else f"; its image {run.image} is named like this one"
            signs.append(f"{where} binds {source} into it, {_SOCKET} ({run.label}{named})")
        for run in usage.runs_of_build(repository, build, program):
            if run.kind == "compose" and run.privileged_line:
                where = f"{os.path.relpath(run.path, repository.root)}:{run.privileged_line}"
                keys = {image_key(i) for i in build.images}
                exact = not run.image or image_key(run.image) in keys
                named = "" if exact else f"; its image {run.image} is named like this one"
                signs.append(
                    f"{where} runs it privileged, which gives a root process every "
                    f"capability and a non-root one none ({run.label}{named})"
                )
    return list(dict.fromkeys(signs))[:_MAX_SIGNS]


@dataclass(frozen=True)
class RunAs:
    """The numeric user the repository's manifests run the image as."""

    uid: int
    gid: int
    evidence: str
    note: str = " (the uid its manifests run it as)"


#: The last ``_running`` answer, with the document and stages it was for (held, so
#: their identities cannot be reused): root_start_signs and manifest_user both ask.
_last_running: list[tuple[object, list[Stage], list[usage.Running]]] = []


#: The last ``_dockerfile`` answer, with the context it was for (held, so its identity
#: cannot be reused).
_last_path: list[tuple[object, Path]] = []


def _dockerfile(ctx: Context[Dockerfile]) -> Path:
    """The Dockerfile's absolute path: one ``Path`` per file, so the model's path look-ups
    hash it once instead of once per question."""
    for known, path in _last_path:
        if known is ctx:
            return path
    path = Path(os.path.abspath(ctx.path))
    _last_path[:] = [(ctx, path)]
    return path


def manifest_runs(ctx: Context[Dockerfile], chain: list[Stage]) -> bool:
    """Whether a manifest, compose file or script of the repository runs the image (by
    name, or by a likely one)."""
    repository = ctx.evidence.repository
    if repository is None:
        return False
    dockerfile = _dockerfile(ctx)
    if repository.script_runs_of(dockerfile):
        return True
    program = entry_program(chain)
    builds = repository.build_of(dockerfile)
    return any(usage.runs_of_build(repository, b, program) for b in builds)


def _running(ctx: Context[Dockerfile], chain: list[Stage]) -> list[usage.Running]:
    repository = ctx.evidence.repository
    if repository is None:
        return []
    for doc, stages, answer in _last_running:
        if doc is ctx.doc and _same(stages, chain):
            return answer
    repository.reading(ctx.path, ctx.doc)
    program = entry_program(chain)
    found: list[usage.Running] = []
    for build in repository.build_of(_dockerfile(ctx)):
        found += usage.running(repository, build, program)
    answer = list({(r.run.path, r.run.span): r for r in found}.values())
    _last_running[:] = [(ctx.doc, list(chain), answer)]
    return answer


def _shown(ctx: Context[Dockerfile], item: usage.Running, node: y.Node | None = None) -> str:
    """``path:line`` of the setting ``node`` (else of the container's command)."""
    repository = ctx.evidence.repository
    root = repository.root if repository is not None else Path(".")
    line = node.start_mark.line + 1 if node is not None else item.run.line
    return f"{os.path.relpath(item.run.path, root)}:{line}"


def manifest_signs(ctx: Context[Dockerfile], chain: list[Stage]) -> list[str]:
    """Manifests of the repository that run the image as root on purpose: privileged where
    the workload needs it, an explicit ``runAsUser: 0``, or the host's process/network namespace with the node's
    system folders mounted (a node agent)."""
    signs: list[str] = []
    for item in _running(ctx, chain):
        c, where = item.container, _shown(ctx, item)
        named = "" if item.exact else f"; its image {item.run.image} is named like this one"
        privileged = y.get_path(c.node, "securityContext", "privileged")
        user = security_setting(c, "runAsUser")
        # Privileged only counts where K8S001 keeps it (a node agent, devices, shared
        # mounts): a privileged web server gets `privileged: false` in the same run.
        need = needs_privileged(c, False) or (
            "it shares mounts with the node" if bidirectional_mounts(c) else None
        )
        if y.truthy(privileged) and need:
            where = _shown(ctx, item, privileged)
            signs.append(f"{where} runs it privileged, {need} ({c.label}{named})")
        elif not item.run.init and y.number(user) == 0:
            where = _shown(ctx, item, user)
            signs.append(f"{where} runs it as root with runAsUser: 0 ({c.label}{named})")
        else:
            host = [k for k in ("hostPID", "hostNetwork") if y.truthy(y.get(c.pod.node, k))]
            agent = node_agent(c.pod)
            if host and agent:
                signs.append(
                    f"{where} runs it with {' and '.join(host)} as a node agent, {agent} "
                    f"({c.label}{named})"
                )
            elif not item.run.init and user is None:
                signs += [f"{w} ({c.label}{named})" for w in _kept_data(ctx, item)]
                signs += [f"{w} ({c.label}{named})" for w in _socket_mounts(ctx, item)]
                signs += [f"{w} ({c.label}{named})" for w in _socket_clients(ctx, item)]
                signs += [f"{w} ({c.label}{named})" for w in _node_reads(ctx, item)]
                signs += [f"{w} ({c.label}{named})" for w in _root_home_mounts(ctx, item)]
                port = low_port(c)
                if port is not None:
                    signs.append(
                        f"{where} runs it listening on port {port}, which only root may bind "
                        f"({c.label}{named})"
                    )
                added = added_capabilities(c)
                if added:
                    signs.append(
                        f"{where} adds {', '.join(added)}: capabilities only a root process "
                        f"holds (a non-root user gets none of them) ({c.label}{named})"
                    )
    if len(signs) > _MAX_SIGNS:  # enough to convince; the rest would bury the message
        signs = [*signs[:_MAX_SIGNS], f"{len(signs) - _MAX_SIGNS} more manifests like these"]
    return signs


#: Volume kinds whose files keep the owner that wrote them, whatever ``fsGroup`` says
#: (the kubelet changes ownership only of the volume types that support it).
_OWNED_AS_WRITTEN = ("nfs", "hostPath", "cephfs", "glusterfs")


def _kept_data(ctx: Context[Dockerfile], item: usage.Running) -> Iterator[str]:
    """Writable mounts of persistent data the container (run as root until now) wrote: an
    NFS or host folder, or a claim without the pod ``fsGroup`` that would hand its files to
    a new user. A new non-root ``USER`` cannot write them: the provisioner whose share
    root owns, the app whose uploads on a claim are root's."""
    c = item.container
    pod = c.pod.node
    volumes = y.get(pod, "volumes")
    claims = claim_templates(c.pod.obj.node)
    grouped = y.number(y.get_path(pod, "securityContext", "fsGroup")) is not None
    for mount in _items(y.get(c.node, "volumeMounts")):
        if y.truthy(y.get(mount, "readOnly")):
            continue
        name = y.scalar(y.get(mount, "name"))
        path = y.scalar(y.get(mount, "mountPath")) or "?"
        volume = next((v for v in _items(volumes) if y.scalar(y.get(v, "name")) == name), None)
        kind = next((k for k in _OWNED_AS_WRITTEN if y.get(volume, k) is not None), None)
        if kind is None and not grouped:
            if volume is not None and y.get(volume, "persistentVolumeClaim") is not None:
                kind = "persistentVolumeClaim (no fsGroup)"
            elif volume is None and name in claims:
                kind = "volumeClaimTemplate (no fsGroup)"
        if kind is not None:
            where = _shown(ctx, item, mount)
            yield (
                f"{where} mounts {kind} volume {name} at {path}, whose files root wrote until now"
            )


def claim_templates(obj: y.Node) -> set[str | None]:
    """Names of the claims an object's controller makes for its pods: a StatefulSet's
    ``spec.volumeClaimTemplates``, and Kubeflow Trainer's ``volumeClaimPolicies[].
    templates`` (its runtimes' initializers download into that claim)."""
    names = {
        y.scalar(y.get_path(t, "metadata", "name"))
        for t in _items(y.get_path(obj, "spec", "volumeClaimTemplates"))
    }
    for path in (("spec", "template", "spec"), ("spec",)):
        for policy in _items(y.get_path(obj, *path, "volumeClaimPolicies")):
            names |= {
                y.scalar(y.get_path(t, "metadata", "name"))
                for t in _items(y.get(policy, "templates"))
            }
    return names


def _socket_mounts(ctx: Context[Dockerfile], item: usage.Running) -> Iterator[str]:
    """A node's runtime socket (a hostPath volume) mounted into the container."""
    sockets = {name: path for name, path in host_paths(item.container.pod)}
    for mount in _items(y.get(item.container.node, "volumeMounts")):
        path = sockets.get(y.scalar(y.get(mount, "name")) or "")
        if path and RUNTIME_SOCKET.search(path.rstrip("/")):
            yield f"{_shown(ctx, item, mount)} mounts the node's {path}, {_SOCKET}"
            return


#: An option that names a Unix socket the program connects to (``--csi-address``, a CSI
#: sidecar's), not one it serves (``--endpoint``, ``--listen``).
_CLIENT_OPTION = re.compile(r"^--?[\w-]*(?:address|addr|connect|socket)[\w-]*=(.+)$", re.I)
_SERVER_OPTION = re.compile(r"endpoint|listen|bind|serve", re.I)
_SOCKET_PATH = re.compile(r"(?:unix://)?(/[\w./-]+\.sock(?:et)?)$")
_ENV_REFERENCE = re.compile(r"\$\((\w+)\)")


def _socket_clients(ctx: Context[Dockerfile], item: usage.Running) -> Iterator[str]:
    """The container connects to a Unix socket on a volume another container of the pod
    mounts, and that one is not set to a non-root user (external-provisioner's
    ``--csi-address=$(ADDRESS)`` on the emptyDir the CSI driver serves its socket on):
    the server creates the socket as its own user, with write permission for no one else,
    and connecting to it needs that permission."""
    c = item.container
    env = {
        y.scalar(y.get(e, "name")) or "": y.scalar(y.get(e, "value")) or ""
        for e in _items(y.get(c.node, "env"))
    }
    mounts = {
        (y.scalar(y.get(m, "mountPath")) or "").rstrip("/"): y.scalar(y.get(m, "name")) or ""
        for m in _items(y.get(c.node, "volumeMounts"))
    }
    for text in command_texts(c):
        m = _CLIENT_OPTION.match(text)
        if m is None or _SERVER_OPTION.search(text.split("=", 1)[0]):
            continue
        value = _ENV_REFERENCE.sub(lambda r: env.get(r.group(1), r.group(0)), m.group(1))
        socket = _SOCKET_PATH.match(value.strip())
        if socket is None:
            continue
        path = socket.group(1)
        volume = next((n for p, n in mounts.items() if p and path.startswith(p + "/")), "")
        if not volume:
            continue  # not on a volume: no other container reaches it
        for other in containers(c.pod):
            if other.node is c.node or other.key == "initContainers":
                continue
            names = {y.scalar(y.get(m, "name")) for m in _items(y.get(other.node, "volumeMounts"))}
            if volume not in names or _set_non_root(other):
                continue
            yield (
                f"{_shown(ctx, item)} runs it connecting to {path} ({text}), a socket on "
                f'volume {volume} that container "{other.name}" serves and is not set to a '
                "non-root user: the server's socket is writable by its own user only, and "
                "connecting needs write permission"
            )
            return


def _set_non_root(c: Container) -> bool:
    user = y.number(security_setting(c, "runAsUser"))
    if user is not None:
        return user != 0
    return y.truthy(security_setting(c, "runAsNonRoot"))


def _node_reads(ctx: Context[Dockerfile], item: usage.Running) -> Iterator[str]:
    """A node system folder (``/var/log``, ``/var/lib/kubelet``, ``/proc``) mounted
    read-only into the container: the node's files, which root owns and may keep from
    other users (volcano's audit exporter tails ``/var/log/kubernetes/
    kube-apiserver-audit.log``, which the API server writes with mode 600). Writable
    mounts are ``_kept_data``'s."""
    paths = dict(host_paths(item.container.pod))
    for mount in _items(y.get(item.container.node, "volumeMounts")):
        path = paths.get(y.scalar(y.get(mount, "name")) or "")
        if path and y.truthy(y.get(mount, "readOnly")) and is_node_path(path):
            yield (
                f"{_shown(ctx, item, mount)} mounts the node's {path} to read it: the node's "
                "files, which root owns and may keep from other users"
            )
            return


def _root_home_mounts(ctx: Context[Dockerfile], item: usage.Running) -> Iterator[str]:
    """A volume mounted under ``/root/`` (kwok reads ``/root/.kwok/kwok.yaml``): ``/root`` is
    mode 700, and a new user's home is elsewhere, so the program would not find it."""
    for mount in _items(y.get(item.container.node, "volumeMounts")):
        path = y.scalar(y.get(mount, "mountPath")) or ""
        if path == "/root" or path.startswith("/root/"):
            name = y.scalar(y.get(mount, "name")) or "?"
            where = _shown(ctx, item, mount)
            yield (
                f"{where} mounts {name} at {path}, in root's home, which another user can "
                "neither enter nor has as its home"
            )
            return


def _items(node: y.Node | None) -> list[y.Node]:
    return node.value if y.is_sequence(node) else []


def manifest_user(ctx: Context[Dockerfile], chain: list[Stage]) -> RunAs | None:
    """The one numeric non-root ``runAsUser`` every container running the image (matched
    by name, not guessed) is given, so ``USER`` agrees with what is deployed."""
    found: set[tuple[int, int]] = set()
    first = ""
    running = [i for i in _running(ctx, chain) if i.exact and not i.run.init]
    if not running:
        return _chart_user(ctx, chain)
    for item in running:
        setting = security_setting(item.container, "runAsUser")
        uid = y.number(setting)
        if uid is None or uid == 0:
            return None  # one container takes the image's own user: no single answer
        gid = y.number(security_setting(item.container, "runAsGroup"))
        found.add((uid, gid if gid is not None else uid))
        where = _shown(ctx, item, setting)
        first = first or f"{where} runs it as uid {uid} ({item.container.label})"
    if len(found) != 1:
        return None
    uid, gid = found.pop()
    return RunAs(uid, gid, first)


def workstation_signs(ctx: Context[Dockerfile]) -> list[str]:
    """Why a non-root USER would break how the repository itself uses the image: it is run
    with host folders mounted and writes them (a code generator, a test runner), or it is
    only ever built with ``--output`` (its files are exported; nothing runs it)."""
    repository = ctx.evidence.repository
    if repository is None:
        return []
    path = _dockerfile(ctx)
    signs: list[str] = []
    for write in repository.host_writes_of(path)[:_MAX_SIGNS]:
        where = f"{os.path.relpath(write.origin.path, repository.root)}:{write.origin.line}"
        signs.append(
            f"{where} runs it with {write.shown_mounts} mounted and no "
            "--user: what it writes there would belong to the new user, which cannot write "
            "a tree owned by you or by root"
        )
    builds = [b for b in repository.build_of(path) if b.origin.path != path]
    for build in [b for b in builds if b.synced][:1]:
        where = f"{os.path.relpath(build.origin.path, repository.root)}:{build.origin.line}"
        signs.append(
            f"{where} syncs changed files into its running container (Skaffold sync, Tilt "
            "live_update): they land in folders the build made as root, which a non-root "
            "user cannot write"
        )
    if builds and all(b.exported for b in builds):
        origin = builds[0].origin
        where = f"{os.path.relpath(origin.path, repository.root)}:{origin.line}"
        signs.append(f"{where} builds it with --output: its files are exported, it is never run")
    return signs


def test_image(ctx: Context[Dockerfile]) -> str:
    """Why the Dockerfile builds only a test's image (see ``usage.test_only``), or ""."""
    repository = ctx.evidence.repository
    if repository is None:
        return ""
    return usage.test_only(repository, _dockerfile(ctx)) or ""


#: A Go toolchain copied into the image (``COPY --from=builder /usr/local/go /usr/local/go``).
_GO_TOOLCHAIN = re.compile(r"(?:^|\s)/usr/local/go/?(?:\s|$)")


def _instruction_signs(doc: Dockerfile, chain: list[Stage]) -> Iterator[str]:
    capable: bool | None = None  # searched on the first EXPOSE: most files have none
    generator = _site_generator(chain)
    if generator is not None:
        ins, name = generator
        yield (
            f"line {ins.line} ships {name}, a site generator that writes into the site folder "
            "it builds or serves (its cache, output and lock files): folders the build made "
            "as root, which a non-root user cannot write"
        )
    for stage in reversed(chain):
        for ins in stage.body:
            if ins.keyword in ("ENTRYPOINT", "CMD"):
                m = _step_down(ins.value)
                if m:
                    yield f"{ins.keyword} at line {ins.line} runs {m.group(1)}"
                attach = _attaches(ins.value)
                if attach:
                    yield (
                        f"{ins.keyword} at line {ins.line} runs {attach}: a debugger attaching "
                        "to a process it did not start (ptrace), which needs root or "
                        "CAP_SYS_PTRACE"
                    )
                init = _init_system(ins.value)
                if init:
                    yield (
                        f"{ins.keyword} at line {ins.line} runs {init}, an init system that "
                        "starts as root (PID 1 mounts, starts and supervises the services)"
                    )
                made = _command_mkdir(ins.value, chain)
                if made:
                    yield (
                        f"{ins.keyword} at line {ins.line} makes {made}, a folder the build "
                        "does not create: only root may create folders in /"
                    )
                cron = _cron_daemon(ins.value)
                if cron:
                    yield (
                        f"{ins.keyword} at line {ins.line} runs {cron}, a cron daemon: it "
                        "starts as root to run each crontab's jobs as the crontab's owner"
                    )
            elif ins.keyword in ("COPY", "ADD") and _GO_TOOLCHAIN.search(ins.value):
                yield (
                    f"{ins.keyword} at line {ins.line} brings in a Go toolchain for the "
                    "command to build with: as a user with no home, go cannot make its "
                    "module and build caches"
                )
            elif ins.keyword == "LABEL" and " run" in ins.value:
                yield from _label_runs(ins)
            elif ins.keyword == "STOPSIGNAL" and ins.value.strip().upper() == "SIGRTMIN+3":
                yield (
                    f"STOPSIGNAL SIGRTMIN+3 at line {ins.line} is systemd's: the image boots "
                    "systemd as PID 1, which starts as root"
                )
            elif ins.keyword == "RUN":
                value = ins.value
                m = _SSHD.search(value) if _has(value, _SSHD_HINTS) else None
                if m is None and ("gosu" in value or "su-exec" in value):
                    m = _INSTALLS_STEP_DOWN.search(value)
                if m is None and _has(value, _NODE_ADMIN_HINTS):
                    n = _NODE_ADMIN.search(value)
                    if n:
                        yield (
                            f"line {ins.line} installs {n.group(1)}, which administers the "
                            "node's disks, kernel or network, as root"
                        )
                        continue
                if m:
                    yield f"line {ins.line} installs {m.group(1)}"
                elif "docker" in value or "moby" in value:
                    d = _DOCKER_CLI.search(value)
                    client = d.group(1) if d else _docker_binary(value)
                    if client:
                        yield (
                            f"line {ins.line} installs {client}, {_CLIENT}: it talks to "
                            "the daemon through a socket only root may use"
                        )
            elif ins.keyword == "EXPOSE":
                if capable is None:
                    capable = _capable(doc.text)
                if capable:
                    continue
                variables = stage_variables(doc, stage)  # a copy: for EXPOSE only
                low = [p for p in _ports(ins.value, variables) if p < 1024]
                if low:
                    yield (
                        f"EXPOSE {low[0]} at line {ins.line}: a port below 1024 needs root "
                        "or NET_BIND_SERVICE"
                    )


#: ``uid = 1`` / ``gid: app`` lines of a uWSGI ini (or YAML) file.
_UWSGI_SWITCH = re.compile(r"(?m)^[ \t]*(uid|gid)[ \t]*[=:][ \t]*(\S+)")
#: Command-line options with which a server switches users itself (only root may).
_SWITCH_FLAGS = {
    "uwsgi": ("--uid", "--gid"),
    "gunicorn": ("--user", "-u", "--group", "-g"),
}


def _switching_server(ctx: Context[Dockerfile], chain: list[Stage]) -> list[str]:
    """A server the image's command tells to switch users itself (uWSGI's ``uid``/``gid``,
    on its command line or in the ini file the build copies in; gunicorn's ``--user``):
    it calls setuid, which a non-root process may not, and exits at start."""
    for keyword in ("CMD", "ENTRYPOINT"):
        for stage in reversed(chain):
            last = next((i for i in reversed(stage.body) if i.keyword == keyword), None)
            if last is None or not ("uwsgi" in last.value or "gunicorn" in last.value):
                continue
            words = _exec_words(last.value)
            server = next(
                (w.rsplit("/", 1)[-1] for w in words if w.rsplit("/", 1)[-1] in _SWITCH_FLAGS),
                None,
            )
            if server is None:
                return []
            where = f"{keyword} at line {last.line} runs {server}"
            for word in words:
                if word.split("=", 1)[0] in _SWITCH_FLAGS[server]:
                    return [
                        f"{where} with {word.split('=', 1)[0]}: it switches users itself, "
                        "which only root may"
                    ]
            if server == "uwsgi":
                for ini in _uwsgi_files(words):
                    text = next(
                        (
                            t
                            for src in _copied_sources(chain, ini.rsplit("/", 1)[-1])
                            if (t := ctx.context_text(src, limit=_MAX_SCRIPT)) is not None
                        ),
                        None,
                    )
                    m = _UWSGI_SWITCH.search(text) if text else None
                    if m:
                        return [
                            f"{where}, whose {ini} sets {m.group(1)} = {m.group(2)}: it switches "
                            "users itself, which only root may"
                        ]
            return []
    return []


def _uwsgi_files(words: list[str]) -> list[str]:
    """The configuration files a uWSGI command line loads."""
    found: list[str] = []
    for n, word in enumerate(words):
        name, eq, value = word.partition("=")
        if name in ("--ini", "--yaml", "--yml", "--json") and eq:
            found.append(value)
        elif name in ("--ini", "--yaml", "--yml", "--json") and n + 1 < len(words):
            found.append(words[n + 1])
        elif word.endswith((".ini", ".yaml", ".yml")) and not word.startswith("-"):
            found.append(word)
    return list(dict.fromkeys(found))


def _site_generator(chain: list[Stage]) -> tuple[Instruction, str] | None:
    """The first instruction of the shipped stages that installs, copies in or runs a site
    generator (``_SITE_GENERATOR``), and its name; None when there is none, or when the
    build gives files away with ``chown`` (the previewer may write those)."""
    found: tuple[Instruction, str] | None = None
    for stage in chain:
        for ins in stage.body:
            if ins.keyword not in ("RUN", "COPY", "ADD", "ENTRYPOINT", "CMD"):
                continue
            value = ins.value  # flags included: ``COPY --chown=...`` counts
            if "chown" in value:
                return None
            if found is None and ("hugo" in value or "jekyll" in value):
                m = _SITE_GENERATOR.search(value)
                if m:
                    found = (ins, m.group(1))
    return found


def _docker_binary(value: str) -> str | None:
    """The Docker client a RUN puts in place by hand: ``/usr/bin/docker`` (moved there
    from a release archive) before ``Docker (get.docker.com)``; None without one."""
    found = [m.group(1) or f"Docker ({m.group(2)})" for m in _DOCKER_BINARY.finditer(value)]
    return min(found, key=lambda name: not name.startswith("/")) if found else None


def _has(text: str, hints: tuple[str, ...]) -> bool:
    return any(hint in text for hint in hints)


def _step_down(text: str) -> re.Match[str] | None:
    """``STEP_DOWN``'s match in ``text``, else ``_SSHD``'s (the same answer as searching
    both, without the searches a text lacking their names cannot need)."""
    m = STEP_DOWN.search(text) if _has(text, _STEP_DOWN_HINTS) else None
    if m is None and _has(text, _SSHD_HINTS):
        m = _SSHD.search(text)
    return m


def _label_runs(ins: Instruction) -> Iterator[str]:
    """A LABEL that documents how to run the image (falco's driver loader: ``usage="docker
    run --privileged -v /proc:/host/proc:ro ..."``; Project Atomic's ``RUN`` label) as a
    privileged container or with the node's system folders: a node agent, which needs
    root."""
    for kv in key_values(ins):
        value = kv.value or ""
        if not re.search(r"\b(?:docker|podman)\s+(?:container\s+)?run\b", value):
            continue
        m = _NODE_RUN.search(value)
        if m:
            yield (
                f"LABEL {kv.key} at line {ins.line} runs it with {m.group(0).strip()}: a "
                "node agent, which needs root"
            )
            return


#: ``docker run`` options that hand a container the node: privileged, its namespaces, or
#: its system folders mounted.
_NODE_RUN = re.compile(
    r"--privileged\b|--(?:pid|net|network)[= ]host\b|"
    r"(?:-v|--volume)[= ]\s*/(?:proc|sys|dev|boot|lib/modules|var/run/docker\.sock)\b"
)
#: An init system run as the container's PID 1: systemd (``/sbin/init`` is its link in
#: systemd images: kind's node image, systemd test images), s6-overlay's ``/init``, runit,
#: OpenRC. Each starts as root and starts the services itself (tini and dumb-init only
#: forward signals: they are not here).
_INIT_SYSTEM = re.compile(
    r"(?<![\w.-])((?:/usr)?/s?bin/init|/init|(?:/usr)?/lib/systemd/systemd|systemd|"
    r"runsvdir|runit|start_runit|openrc-init)(?![\w.-])"
)


def _chart_signs(ctx: Context[Dockerfile], chain: list[Stage]) -> list[str]:
    """A Helm chart of the repository gives the image a persistent volume (its values name
    the image: by a tag a build gives it, or by the same last name part as the Dockerfile's
    folder or the program it runs): a new non-root user could not write it; or it runs
    the image with ``runAsUser: 0``, on purpose."""
    repository = ctx.evidence.repository
    if repository is None:
        return []
    names = _chart_names(ctx, chain)
    signs: list[str] = repository.chart_volumes(names)
    signs += [
        f"the Helm chart's {where} runs it as root"
        for uid, _, where in repository.chart_users(names)
        if uid == 0
    ]
    return signs


def _chart_names(ctx: Context[Dockerfile], chain: list[Stage]) -> list[str]:
    """The last name parts a chart's values may call the image by: a tag a build gives
    it, the Dockerfile's folder, the program it runs."""
    repository = ctx.evidence.repository
    dockerfile = _dockerfile(ctx)
    names = [dockerfile.parent.name]
    program = entry_program(chain)
    if program and "$" not in program:
        names.append(posixpath.basename(program))
    for build in repository.build_of(dockerfile) if repository is not None else ():
        names += [i.split("@", 1)[0].rsplit(":", 1)[0].rsplit("/", 1)[-1] for i in build.images]
    return [n for n in names if n]


def _chart_user(ctx: Context[Dockerfile], chain: list[Stage]) -> RunAs | None:
    """The one non-root ``runAsUser`` the repository's Helm charts give the image, when
    no manifest runs it: the chart is how it is deployed (Tetragon's operator image,
    which its chart runs as 65532)."""
    repository = ctx.evidence.repository
    if repository is None:
        return None
    users = repository.chart_users(_chart_names(ctx, chain))
    ids = {(uid, gid if gid is not None else uid) for uid, gid, _ in users}
    if len(ids) != 1:
        return None
    uid, gid = ids.pop()
    if uid == 0:
        return None
    note = " (the uid its Helm chart runs it as)"
    return RunAs(uid, gid, f"the Helm chart's {users[0][2]} runs it as uid {uid}", note)


def _program_default_signs(ctx: Context[Dockerfile], chain: list[Stage]) -> list[str]:
    """The program the image runs is a Go program of this repository whose flags default
    to a place it writes relative to the working folder (``fixer.repository.goprograms``:
    syncthing's crash receiver stores reports in ``.``): the image's working folder (``/``,
    or a WORKDIR the build makes) is root's, so a non-root user cannot write there."""
    repository = ctx.evidence.repository
    program = entry_program(chain)
    if repository is None or not program or "$" in program:
        return []
    found = repository.go_relative_write(posixpath.basename(program))
    if found is None:
        return []
    workdir = next(
        (i.value.strip() for s in chain for i in reversed(s.body) if i.keyword == "WORKDIR"), "/"
    )
    return [
        f'{found.where} makes {found.setting} default to "{found.value}", a path relative '
        f"to the working folder ({workdir}), which the build leaves to root"
    ]


def _program_path_signs(ctx: Context[Dockerfile], chain: list[Stage]) -> list[str]:
    """The program the image runs is a Go program of this repository that creates, removes
    or chowns the path a flag names (``fixer.repository.goprograms.path_change``:
    local-path-provisioner's helper makes and deletes each volume's folder on the node):
    it works where it is told, on folders that belong to root there."""
    repository = ctx.evidence.repository
    program = entry_program(chain)
    if repository is None or not program or "$" in program:
        return []
    name = posixpath.basename(program)
    found = repository.go_path_change(name, _built_main(ctx, name))
    if found is None:
        return []
    return [
        f"{found.where} runs {found.call} on the path its -{found.flag} flag names: the "
        "program works on folders it is told, which belong to root where it runs"
    ]


#: ``go build ... -o /manager ...``: the output a RUN builds with ``go build``.
_GO_BUILD = re.compile(r"\bgo\s+build\b([^;&|]*)")
_GO_OUTPUT = re.compile(r"(?:^|\s)-o[=\s]+(\S+)")


def _built_main(ctx: Context[Dockerfile], name: str) -> Path | None:
    """The ``main.go`` a stage of this Dockerfile builds the binary ``name`` from, copied
    from the Dockerfile's folder (its default build context): ``COPY main.go /main.go`` then
    ``RUN go build -o /manager`` in that folder, or ``COPY . .`` then ``go build -o bin/x
    ./cmd/x``. None when no stage does (a stage that clones the sources builds something
    else than the files beside it), or the file is not there."""
    folder = ctx.path.parent
    for stage in ctx.doc.stages:
        copied = [
            posixpath.normpath(src.lstrip("/") or ".")
            for sources, _ in _context_copies([stage])
            for src in sources
        ]
        if not copied:
            continue
        for ins in stage.body:
            if ins.keyword != "RUN" or "go" not in ins.value:
                continue
            for build in _GO_BUILD.finditer(ins.value):
                main = _go_build_main(build.group(1), name)
                if main is None:
                    continue
                if any(c in (".", "*.go", main) or main.startswith(c + "/") for c in copied):
                    candidate = folder / main
                    if candidate.is_file():
                        return candidate
    return None


def _go_build_main(args: str, name: str) -> str | None:
    """The ``main.go`` (relative to the folder built in) of a ``go build`` whose output is
    ``name``; None when it builds something else."""
    out = _GO_OUTPUT.search(args)
    if out is None or posixpath.basename(out.group(1).strip("\"'")) != name:
        return None
    rest = [w for w in args.split() if not w.startswith("-") and w != out.group(1)]
    target = next((w for w in rest if w.endswith(".go") or w.startswith(".")), ".")
    main = target if target.endswith(".go") else posixpath.join(target, "main.go")
    return posixpath.normpath(main)


#: ``python3 /app/main.py``, ``python -u app.py``: the interpreter and the script it runs.
_PYTHON = re.compile(r"^python(?:\d(?:\.\d+)?)?$")
#: ``open(path, "ab")``, ``open(path, mode="w")``: a file opened to be written (the path as
#: written, one level of call in it: ``open(certifi.where(), "a")``).
_PY_WRITE = re.compile(
    r"\bopen\(\s*([^,()\n]*(?:\([^()\n]*\))?[^,()\n]*?)\s*,\s*(?:mode\s*=\s*)?[rbu]?['\"]"
    r"([rbt]*[wax+][rwabxt+]*)['\"]"
)
#: Paths every user may write: the temporary folders, devices, the standard streams.
_PY_WRITABLE = re.compile(r"/tmp\b|/dev/|tempfile|gettempdir|mkstemp|\bTMP|\btmp|stdout|stderr")


#: Interpreters whose command names the script it runs (``node /node/server.js``).
_INTERPRETER = re.compile(r"^(?:node|nodejs|python(?:\d(?:\.\d+)?)?|ruby|php|perl|deno|bun)$")
#: A script listening on a literal port: Node's ``.listen(80)``, Python's
#: ``HTTPServer(('', 80), ...)``, ``app.run(..., port=80)``.
_SCRIPT_LISTEN = re.compile(
    r"\.listen\(\s*(\d+)\s*[,)]"
    r"|(?:HTTPServer|TCPServer|UDPServer)\(\s*\(\s*['\"][^'\"]*['\"]\s*,\s*(\d+)\s*\)"
    r"|\.run\([^)\n]*\bport\s*=\s*(\d+)"
)


def _script_port_signs(ctx: Context[Dockerfile], chain: list[Stage]) -> list[str]:
    """The image's command runs a script of the build context that listens on a port below
    1024 (metacontroller's Node.js example: ``node /node/server.js``, which ends with
    ``.listen(80)``): only root may bind it."""
    words = entry_words(chain)
    if len(words) < 2 or not _INTERPRETER.match(words[0].rsplit("/", 1)[-1]):
        return []
    script = next((w for w in words[1:] if not w.startswith("-")), "")
    if not script or "$" in script:
        return []
    base = script.rsplit("/", 1)[-1]
    for source in _copied_sources(chain, base):
        text = ctx.context_text(source, limit=_MAX_SCRIPT)
        if text is None or ("listen" not in text and "Server" not in text and "run(" not in text):
            continue
        for m in _SCRIPT_LISTEN.finditer(text):
            port = int(next(g for g in m.groups() if g is not None))
            line_start = text.rfind("\n", 0, m.start()) + 1
            if not 0 < port < 1024 or text[line_start : m.start()].lstrip().startswith(("#", "//")):
                continue
            number = text.count("\n", 0, m.start()) + 1
            return [f"{source}:{number} listens on port {port}, which only root may bind"]
    return []


#: Python code that runs pip to install packages (``subprocess.check_call([sys.executable,
#: "-m", "pip", "install", ...])``, ``pip.main(["install", ...])``).
_PIP_AT_RUN = re.compile(r"""["']pip["']\s*,\s*["']install["']|pip\.main\(\s*\[\s*["']install""")


def _runtime_install_signs(ctx: Context[Dockerfile], chain: list[Stage]) -> list[str]:
    """The image runs a Python module (``python3 -m robusta.runner.main``) whose package,
    in the build context, runs pip to install packages while it runs (robusta's runner
    installs the playbook packages it is configured with): into the site-packages the
    build installed as root, which a non-root user cannot write."""
    words = entry_words(chain)
    if len(words) < 3 or not _PYTHON.match(words[0].rsplit("/", 1)[-1]) or "-m" not in words:
        return []
    at = words.index("-m") + 1
    parts = words[at].split(".") if at < len(words) else []
    if len(parts) < 2 or not all(p.isidentifier() for p in parts):
        return []
    package = "/".join(parts[:-1])
    for folder in (package, f"src/{package}"):
        text = ctx.context_text(folder, limit=4 * _MAX_SCRIPT)
        if text is None:
            continue
        if _PIP_AT_RUN.search(text):
            return [
                f"its program {words[at]} ({folder}/) runs pip install while it runs: into "
                "the site-packages the build installed as root"
            ]
        return []
    return []


def _python_write_signs(ctx: Context[Dockerfile], chain: list[Stage]) -> list[str]:
    """The image runs a Python script of the build context that opens a file for writing
    outside the temporary folders (MinIO's STS example client appends the cluster's CA
    to ``certifi.where()``, a file pip installed as root): as a non-root user that write
    fails (the example swallowed the error and then failed TLS)."""
    words = entry_words(chain)
    if len(words) < 2 or not _PYTHON.match(words[0].rsplit("/", 1)[-1]):
        return []
    script = next((w for w in words[1:] if not w.startswith("-")), "")
    if not script.endswith(".py") or "$" in script:
        return []
    base = script.rsplit("/", 1)[-1]
    for source in _copied_sources(chain, base):
        text = ctx.context_text(source, limit=_MAX_SCRIPT)
        if text is None or "open(" not in text:
            continue
        for m in _PY_WRITE.finditer(text):
            line_start = text.rfind("\n", 0, m.start()) + 1
            if text[line_start : m.start()].lstrip().startswith("#"):
                continue
            target = m.group(1).strip()
            if not target or _PY_WRITABLE.search(target):
                continue
            if target.isidentifier():  # ``ca_file = certifi.where()`` above: say what it is
                assigned = re.findall(
                    rf"(?m)^[ \t]*{target}[ \t]*=[ \t]*([^\n#]+)", text[:line_start]
                )
                if assigned:
                    value = assigned[-1].strip()
                    if _PY_WRITABLE.search(value):
                        continue
                    target = f"{target} ({value})"
            number = text.count("\n", 0, m.start()) + 1
            return [
                f"{source}:{number} opens {target} for writing ({m.group(2)!r}): the image's "
                "files belong to root, so a non-root user cannot write them"
            ]
    return []


#: Tracers and debuggers: an image that installs one is for people to work in (tetragon's
#: ``Dockerfile.dev``: strace, vim, netcat, less; the Kubernetes dashboard's development
#: container: ``go install github.com/go-delve/delve/cmd/dlv``), never a service's runtime.
_DEBUGGERS = re.compile(r"(?<![\w.-])(strace|ltrace|gdb|valgrind|delve|tcpdump|tshark)(?![\w.-])")
_DEBUGGER_HINTS = ("strace", "gdb", "valgrind", "delve", "tcpdump", "tshark")
#: Dockerfile names that say development or debugging image: ``Dockerfile.dev``,
#: ``Dockerfile-devel``, ``dev.Dockerfile``, ``Dockerfile.development``, linkerd's
#: ``Dockerfile-debug`` (tcpdump, tshark, curl for debugging the mesh).
DEV_NAME = re.compile(
    r"(?i)^(?:dockerfile(?:[-_.][\w]+)*?[-_.](?:dev(?:el(?:op(?:ment)?)?)?|debug)"
    r"(?:[-_.][\w-]+)*|(?:dev(?:el)?|debug)\.dockerfile)$"
)
#: Debuggers an image's ENTRYPOINT (or CMD) starts the program under (Parca's Tilt image:
#: ``ENTRYPOINT ["/dlv", "--headless=true", ..., "exec", "--continue", "--"]``).
DEBUGGERS = frozenset({"dlv", "gdb", "gdbserver", "debugpy", "lldb-server"})


#: An editor server or IDE installed for people to work in the container: VS Code from
#: Microsoft's apt repository (Sentry's Cloud Workstations images: ``apt-get install -y
#: code`` and ``gh``), code-server, OpenVSCode Server.
_EDITORS = re.compile(
    r"(?<![\w.-])(code-server|openvscode-server)(?![\w-])"
    r"|packages\.microsoft\.com/repos/(?:code|vscode)\b"
)
_EDITOR_HINTS = ("code-server", "openvscode-server", "packages.microsoft.com/repos/")
#: Base images made for people to work in: Google Cloud Workstations' predefined images,
#: the Dev Containers images.
_WORKSTATION_BASE = re.compile(
    r"(?i)(?:^|/)(?:cloud-workstations-images|devcontainers|vscode/devcontainers)/"
)


def debugger_install(stages: Iterable[Stage]) -> tuple[int, str] | None:
    """(line, program) of the first instruction of ``stages`` that makes the image one
    people work in: a RUN installing a tracer, a debugger or an editor server (VS Code), or
    a workstation base image (``FROM .../cloud-workstations-images/...``)."""
    for stage in stages:
        if "/" in stage.image and _WORKSTATION_BASE.search(stage.image):
            return stage.from_.line, f"builds on a workstation base image ({stage.image})"
        for ins in stage.body:
            if ins.keyword != "RUN":
                continue
            if any(d in ins.value for d in _DEBUGGER_HINTS):
                m = _DEBUGGERS.search(ins.value)
                if m:
                    return ins.line, f"installs {m.group(1)}"
            if any(e in ins.value for e in _EDITOR_HINTS):
                e = _EDITORS.search(ins.value)
                if e:
                    return ins.line, f"installs {e.group(1) or 'VS Code'}"
    return None


#: A debugger or tracer attaching to a process it did not start (``dlv attach $(pidof app)``,
#: ``gdb -p``, ``strace -p``, ``py-spy dump --pid``): ptrace of another process, which needs
#: root (or CAP_SYS_PTRACE, which a non-root process does not get from the runtime).
_ATTACH = re.compile(
    r"(?<![\w.-])(dlv|gdb|strace|ltrace|py-spy)(?![\w.-])[^;&|\n]*?\s(attach|-p|--pid)(?![\w-])"
)


def _attaches(text: str) -> str | None:
    if not any(tool in text for tool in ("dlv", "gdb", "strace", "ltrace", "py-spy")):
        return None
    m = _ATTACH.search(text)
    return f"{m.group(1)} {m.group(2)}" if m else None


#: A cron daemon as the command: it reads every user's crontab and runs each job as its
#: owner (docker-elk's curator image writes ``/var/spool/cron/crontabs/nobody`` and runs
#: ``crond -f``), which needs root. supercronic, made for containers, runs as anyone.
_CRON_DAEMON = re.compile(r"(?<![\w./-])((?:(?:/usr)?/s?bin/)?(?:crond|cron|cronie))(?![\w.-])")


def _cron_daemon(text: str) -> str | None:
    if "cron" not in text:
        return None
    m = _CRON_DAEMON.search(text)
    return m.group(1) if m else None


_COMMAND_MKDIR = re.compile(r"(?<![\w-])mkdir\s+(?:-p\s+)?(/[\w.-]+)(/[\w./-]*)?")


def _command_mkdir(text: str, chain: list[Stage]) -> str | None:
    """The folder an ENTRYPOINT/CMD makes at the top of the filesystem when nothing in the
    build made its top folder (Headlamp's plugins image: ``mkdir -p /build/plugins && cp
    -r /plugins/* /build/plugins/``): as a non-root user it fails, unless a volume is
    mounted there."""
    if "mkdir" not in text:
        return None
    m = _COMMAND_MKDIR.search(text)
    if m is None or m.group(1) in ("/tmp", "/var", "/run", "/dev"):
        return None
    top = m.group(1)
    for stage in chain:
        for ins in stage.body:
            if ins.keyword in ("WORKDIR", "COPY", "ADD", "RUN", "VOLUME") and re.search(
                rf"(?<![\w.-]){re.escape(top)}(?![\w.-])", ins.value
            ):
                return None
    return top + (m.group(2) or "")


def _init_system(text: str) -> str | None:
    if (
        "init" not in text
        and "systemd" not in text
        and "runsvdir" not in text
        and ("runit" not in text)
    ):
        return None
    m = _INIT_SYSTEM.search(text)
    return m.group(1) if m else None


def _ports(value: str, variables: dict[str, str]) -> list[int]:
    ports: list[int] = []
    for word in value.split():
        text = expand(word, variables) or ""
        number = text.split("/", 1)[0].split("-", 1)[0]
        if number.isdigit():
            ports.append(int(number))
    return ports


#: Changing root's home to be readable by others (``chmod 755 /root``) or giving it away.
_OPENS_ROOT_HOME = re.compile(r"\b(?:chmod|chown)\b[^;&|\n]*[\s=\"']/root/?(?=[\s\"';&|]|$)")


def root_home_sign(doc: Dockerfile, chain: list[Stage], image: str) -> str:
    """Why a non-root user could not start the image: its command runs in, or from, root's
    home. ``/root`` is mode 700 in every distribution's base image (Debian, Ubuntu,
    Alpine, Red Hat, BusyBox, distroless), so the runtime's ``chdir`` into a ``WORKDIR``
    under it fails for any other user ("permission denied") before the program starts;
    Docker's own multi-stage Go example ships its binary there. Empty when nothing says
    so, for ``FROM scratch`` (whose ``/root`` the build creates, readable) and when a RUN
    opens or gives away ``/root``."""
    if image.lower() == "scratch":
        return ""
    workdir, where = "/", None
    for stage in reversed(chain):
        variables: dict[str, str] | None = None
        for ins in stage.body:
            if ins.keyword == "WORKDIR":
                if variables is None:
                    variables = stage_variables(doc, stage)
                value = ins.value.strip()
                value = expand(value, variables) or value
                workdir = posixpath.normpath(posixpath.join(workdir, unquote(value)))
                where = ins
            elif (
                ins.keyword == "RUN" and "/root" in ins.value and _OPENS_ROOT_HOME.search(ins.value)
            ):
                return ""
    if where is not None and (workdir == "/root" or workdir.startswith("/root/")):
        return (
            f"WORKDIR {where.value.strip()} at line {where.line} is in root's home, which "
            "only root may enter (mode 700 in the base image): a non-root user cannot start "
            "there"
        )
    program = entry_script(chain)
    if program is not None and program.startswith("/root/"):
        return (
            f"the command runs {program}, in root's home, which only root may enter (mode "
            "700 in the base image)"
        )
    setting = _root_home_env(chain)
    if setting is not None:
        ins, name, value = setting
        return (
            f"ENV {name}={value} at line {ins.line} points into root's home, which only "
            "root may enter (mode 700 in the base image): a non-root user could not read "
            "what is put there"
        )
    for stage in chain:  # kwok's cluster image: ``COPY --from=cache /root/.kwok/cache ...``
        for ins in stage.body:
            if ins.keyword not in ("COPY", "ADD") or "/root" not in ins.value:
                continue
            words = arguments(ins)
            target = unquote(words[-1]) if len(words) > 1 else ""
            if target == "/root" or target.startswith("/root/"):
                return (
                    f"line {ins.line} copies files into {target}, in root's home, which only "
                    "root may enter (mode 700 in the base image)"
                )
    return ""


#: ``KEY=/root/...`` (or the old ``ENV KEY /root/...``) in an ENV instruction.
_ROOT_ENV = re.compile(r"(?:^|\s)(\w+)(?:=|\s+(?=/))[\"']?(/root(?:/[^\s\"']*)?)(?=[\"'\s]|$)")


def _root_home_env(chain: list[Stage]) -> tuple[Instruction, str, str] | None:
    """An ENV of the shipped stages that points into ``/root`` (vcluster's CLI image:
    ``ENV KUBECONFIG=/root/.kube/config``, where users mount their kubeconfig)."""
    for stage in chain:
        for ins in stage.body:
            if ins.keyword == "ENV":
                m = _ROOT_ENV.search(ins.value)
                if m is not None:
                    return ins, m.group(1), m.group(2)
    return None


#: Words of a comment offering optional steps rather than recording a decision.
_INVITATION = re.compile(r"(?i)\buncomment|\boptional|\bif you\b|\bexample\b")


def whole_copies(doc: Dockerfile, chain: list[Stage]) -> list[Stage]:
    """Earlier stages whose whole filesystem the shipped stages copy (``FROM scratch`` then
    ``COPY --from=source / /``: Calico's Felix and node images), with the stages they are
    built FROM: what they install ships."""
    by_name = {s.name.lower(): s for s in doc.stages if s.name}
    found: list[Stage] = []
    for stage in chain:
        for ins in stage.body:
            if ins.keyword != "COPY":
                continue
            source = ins.flags.get("from", "").lower()
            words = [w for w in ins.value.split() if not w.startswith("--")]
            if source in by_name and words in (["/", "/"], ["/", "/."], ["/.", "/"]):
                for parent in parent_stages(doc, by_name[source]):
                    if parent not in chain and parent not in found:
                        found.append(parent)
    return found


def chosen_root_sign(doc: Dockerfile) -> str:
    """The final stage's last ``USER`` names root and no ``RUN`` follows it (Emissary's
    ``kat-client``: ``COPY kat-client kat_client``, ``USER 0:0``, then its ENTRYPOINT):
    nothing the build does needs root after it, so it is for the command the image runs.
    A ``USER root`` followed by RUN steps, left on after installing, is not this."""
    stage = doc.final_stage
    if stage is None:
        return ""
    last = next((i for i in reversed(stage.body) if i.keyword == "USER"), None)
    if last is None:
        return ""
    user = last.value.strip().split(":", 1)[0].strip().lower()
    if user not in ("root", "0"):
        return ""
    after = stage.body[stage.body.index(last) + 1 :]
    if any(i.keyword == "RUN" for i in after):
        return ""
    return (
        f"line {last.line} sets `USER {last.value.strip()}` after the last RUN, where no "
        "build step needs it: the command is meant to run as root"
    )


#: A ``USER`` instruction commented out: ``# USER nonroot``.
_COMMENTED_USER = re.compile(r"^\s*USER\s+([^\s#]+)\s*$")


#: A comment saying the image needs root: "Need root user for UDS" (Envoy Gateway's
#: examples, above the final FROM), "requires root to bind", "must run as root".
_ROOT_NEEDED = re.compile(
    r"(?i)\b(?:needs?|requires?|must\s+(?:run|be))\s+(?:to\s+(?:run|be)\s+)?(?:as\s+)?"
    r"(?:the\s+)?root\b(?![-\w])"
)
_DENIED = re.compile(r"(?i)\b(?:not|never|no|no\s+longer|without)\s*$|n't\s*$")


def root_comment_sign(doc: Dockerfile) -> str:
    """A comment in the final stage, or in the comment block just above its FROM, that
    says the image needs root ("# Need root user for UDS" above Envoy Gateway's example
    servers, which create a Unix socket on a volume the proxy shares): the authors decided."""
    stage = doc.final_stage
    if stage is None:
        return ""
    comments = doc.comments
    above = stage.from_.line - 1
    while above in comments:
        above -= 1
    for line in sorted(comments):
        if line <= above:
            continue
        m = _ROOT_NEEDED.search(comments[line])
        if m is not None and not _DENIED.search(comments[line][: m.start()]):
            text = comments[line].strip().lstrip("#").strip()
            return f'line {line} says root is needed: "{text[:80]}"'
    return ""


def commented_user_sign(doc: Dockerfile) -> str:
    """A non-root ``USER`` commented out in the final stage (vcluster: ``# RUN useradd -u
    12345 nonroot`` then ``# USER nonroot`` above ``ENTRYPOINT ["/vcluster", "start"]``,
    whose chart runs it as root): its authors tried a non-root user and turned it off."""
    stage = doc.final_stage
    if stage is None:
        return ""
    comments = doc.comments
    for line in sorted(comments):
        if line <= stage.from_.line:
            continue
        m = _COMMENTED_USER.match(comments[line])
        if m is None or m.group(1).split(":", 1)[0] in ("root", "0"):
            continue
        # A template's optional steps invite users to switch on (dev containers: "#
        # [Optional] Uncomment this section ..." above ``# USER root`` ... ``# USER
        # vscode``): the block names no decision.
        first = line
        while first - 1 in comments:
            first -= 1
        last = line
        while last + 1 in comments:
            last += 1
        if not any(_INVITATION.search(comments[n]) for n in range(first, last + 1)):
            return (
                f"line {line} comments out `USER {m.group(1)}`: its authors turned a non-root "
                "user off"
            )
    return ""


def derived_runs(ctx: Context[Dockerfile]) -> list[str]:
    """``path:line`` of each RUN that another Dockerfile of the repository runs as this
    image's user: a stage built FROM the image (by the name the repository builds it as)
    that RUNs before its own USER. A non-root USER here would make those steps (package
    installs, writes under /usr) fail, and the derived builds with them."""
    repository = ctx.evidence.repository
    if repository is None:
        return []
    root = repository.root
    return [
        f"{os.path.relpath(d.dockerfile, root)}:{d.run_line}"
        for d in repository.derived_from(_dockerfile(ctx))
        if d.run_line
    ]


def only_copied_from(ctx: Context[Dockerfile], chain: list[Stage]) -> str:
    """Where the repository uses this Dockerfile's image, when every use only copies files
    out of it (uptime-kuma's ``builder-go`` image: ``FROM louislam/uptime-kuma:builder-go AS
    build_healthcheck``, then ``COPY --from=build_healthcheck``) and nothing runs it; ""
    otherwise. Its user is nobody's: a USER changes nothing anyone runs."""
    repository = ctx.evidence.repository
    if repository is None:
        return ""
    derived = repository.derived_from(_dockerfile(ctx))
    if not derived or not all(d.copied_only for d in derived):
        return ""
    if any(item.exact for item in _running(ctx, chain)):
        return ""
    root = repository.root
    first = derived[0]
    more = f" and {len(derived) - 1} more" if len(derived) > 1 else ""
    return f"{os.path.relpath(first.dockerfile, root)}:{first.line}{more}"


#: Programs that only read: a run of one prints or compares the image's files.
_READ_ONLY = frozenset(
    {"cat", "cmp", "diff", "ls", "head", "tail", "sha256sum", "sha1sum", "md5sum", "wc"}
)


def only_printed_from(ctx: Context[Dockerfile], chain: list[Stage]) -> str:
    """Where the repository runs this Dockerfile's image, when it builds it under local
    names only (no registry or namespace: never pushed) and every run only prints or
    compares its files (skaffold's ``hack/generate-proto.sh``: ``docker build -t gen-proto
    -f hack/proto/Dockerfile``, then ``docker run --rm gen-proto cat /proto/...``), and no
    manifest or compose file runs it; "" otherwise. A USER changes nothing for ``cat``."""
    repository = ctx.evidence.repository
    if repository is None:
        return ""
    dockerfile = _dockerfile(ctx)
    runs = repository.script_runs_of(dockerfile)
    if not runs or _last_words(chain, "ENTRYPOINT") is not None:
        return ""  # with an ENTRYPOINT, a run's words are its arguments
    builds = repository.build_of(dockerfile)
    names = [n for b in builds for n in b.images]
    if not names or any("/" in n for n in names):
        return ""
    own = (entry_program(chain) or "").rsplit("/", 1)[-1]
    if any((run.program or own) not in _READ_ONLY for run in runs):
        return ""
    if any(item.exact for item in _running(ctx, chain)):
        return ""
    first = runs[0]
    more = f" and {len(runs) - 1} more" if len(runs) > 1 else ""
    where = os.path.relpath(first.origin.path, repository.root)
    return f"{where}:{first.origin.line} runs {first.program or own} in it{more}"


def desktop_extension(chain: list[Stage]) -> str:
    """``line N`` when a LABEL of the shipped stages makes the image a Docker Desktop
    extension (``com.docker.desktop.extension.api.version``: Headlamp's
    ``docker-extension/Dockerfile``, ``FROM scratch`` with its metadata and UI files):
    Docker Desktop reads its files; its containers come from its compose file. ""
    otherwise."""
    for stage in chain:
        for ins in stage.body:
            if ins.keyword == "LABEL" and "com.docker.desktop.extension.api.version" in ins.value:
                return f"line {ins.line}"
    return ""


def github_docker_action(dockerfile: Path) -> str:
    """``action.yaml:11`` when the GitHub Action beside the Dockerfile runs it as a Docker
    container action (``runs: using: docker``, ``image: ./Dockerfile``: Polaris'
    ``.github/actions/setup-polaris``). GitHub runs those as root and says not to set
    USER: the action could not write ``GITHUB_WORKSPACE``. "" otherwise."""
    for name in ("action.yml", "action.yaml"):
        path = dockerfile.parent / name
        if not os.path.isfile(path):  # most folders: no action, nothing to read
            continue
        text = read_text(path) or ""
        if "docker" not in text:
            continue
        using = re.search(r"(?m)^[ \t]*using:[ \t]*['\"]?docker['\"]?[ \t]*(?:#.*)?$", text)
        image = re.search(r"(?m)^[ \t]*image:[ \t]*['\"]?(?:\./)?([^\s'\"#]+)", text)
        if using and image and image.group(1) == dockerfile.name:
            return f"{name}:{text.count(chr(10), 0, using.start()) + 1}"
    return ""


#: Operating system images, whose command is a shell (redis-operator's restore image:
#: ``FROM ubuntu:20.04``, scripts copied in, its ``ENTRYPOINT`` commented out: the
#: operator's init container gives the command).
_OS_IMAGE = re.compile(
    r"(?i)^(?:docker\.io/)?(?:library/)?(?:ubuntu|debian|alpine|busybox|centos|fedora|"
    r"rockylinux|almalinux|amazonlinux|oraclelinux|archlinux|opensuse/[\w.-]+)(?:[:@]|$)"
)


#: Language images whose command is an interactive interpreter (``python3``, ``node``,
#: ``irb``, ``jshell``) or, for a compiler's image, a shell: an image built FROM one with
#: no command of its own is run with a command its runner gives (JobSet's Python SDK test
#: image: ``docker run python-unit pytest test``).
_INTERPRETER_IMAGE = re.compile(
    r"(?i)^(?:docker\.io/)?(?:library/)?(?:python|pypy|node|ruby|perl|julia|elixir|erlang|"
    r"haskell|golang|rust|gcc|openjdk|eclipse-temurin|amazoncorretto)(?:[:@]|$)"
)


#: Commands that only print: the OpenTelemetry operator's auto-instrumentation images say
#: ``CMD ["cat", "Just delivering the Opentelemetry Apache/Nginx agent"]``; the operator
#: injects them as init containers with its own commands.
_PRINTERS = frozenset({"echo", "cat", "printf"})


def shell_command(chain: list[Stage], image: str) -> str:
    """Why the image's command is only a shell, or "": its ENTRYPOINT/CMD is one
    (tempo-operator's test utilities: ``CMD ["bash"]``), or it has none and starts from an
    operating system's image, which runs one (redis-operator's restore image)."""
    entrypoint = _last_words(chain, "ENTRYPOINT")
    cmd = _last_words(chain, "CMD")
    # ``ENTRYPOINT ["/bin/bash"]`` with a CMD runs the CMD's script (tor-browser's start
    # script): only a shell with nothing after it is a toolbox.
    words = entrypoint + (cmd or []) if entrypoint is not None else (cmd or [])
    if len(words) == 1 and words[0].rsplit("/", 1)[-1] in _SHELLS:
        return f"its command is only a shell ({words[0]}), for whoever runs it to give commands"
    if words and words[0].rsplit("/", 1)[-1] in _PRINTERS:
        shown = " ".join(words)
        shown = shown if len(shown) <= 60 else shown[:57] + "..."
        return (
            f"its command only prints ({shown}): the image carries files for whoever runs it "
            "with a command of their own"
        )
    if not words and _OS_IMAGE.match(image):
        return f"it defines no ENTRYPOINT or CMD, so it keeps {image}'s shell"
    if not words and _INTERPRETER_IMAGE.match(image):
        return f"it defines no ENTRYPOINT or CMD, so it keeps {image}'s own (an interpreter's prompt or a shell)"
    return ""


def has_derived(ctx: Context[Dockerfile]) -> bool:
    """Another Dockerfile of the repository builds FROM this one's image."""
    repository = ctx.evidence.repository
    return repository is not None and bool(repository.derived_from(_dockerfile(ctx)))


def copies_context(chain: list[Stage]) -> bool:
    """A COPY/ADD brings files of the build context (not another stage's) into the image."""
    return any("://" not in s for sources, _ in _context_copies(chain) for s in sources)


#: Words of a command that are not the program: shells, ``exec``, options.
_NOT_PROGRAMS = frozenset({"sh", "bash", "ash", "dash", "exec", "tini", "dumb-init", "env"})


def sibling_volumes(ctx: Context[Dockerfile], chain: list[Stage]) -> list[str]:
    """Another Dockerfile beside this one (``Dockerfile.release`` next to
    ``Dockerfile.scratch``) that ships the same program and declares a VOLUME for it: a
    data folder the program writes at run time, which this variant's new user could not
    write (a ``scratch`` image has no writable folder at all). Empty when this Dockerfile
    declares a VOLUME itself (``_volume_signs`` judges it) or no sibling says so."""
    if any(ins.keyword == "VOLUME" for stage in chain for ins in stage.body):
        return []
    mine = _programs(entry_words(chain))
    if not mine:
        return []
    for name, programs, volume in _volume_siblings(ctx.path.parent):
        if name == ctx.path.name:
            continue
        shared = mine & programs
        if shared:
            return [
                f"{name} ships the same program ({sorted(shared)[0]}) with VOLUME "
                f"{volume}, a folder it writes at run time, which a new non-root user "
                "here could not write"
            ]
    return []


#: Per folder: the Dockerfiles in it that declare a VOLUME, with the programs they run
#: (read once per folder: a folder of 6,000 Dockerfiles would otherwise be read 6,000
#: times). The most recent folders only, so memory stays flat.
_SIBLINGS: dict[Path, list[tuple[str, set[str], str]]] = {}
_MAX_FOLDERS = 64


def _volume_siblings(here: Path) -> list[tuple[str, set[str], str]]:
    found = _SIBLINGS.get(here)
    if found is not None:
        return found
    found = []
    try:
        names = sorted(os.listdir(here))
    except OSError:
        names = []
    for name in names:
        if not is_dockerfile_name(name):
            continue
        text = read_text(here / name, limit=256 * 1024)  # not context_text: .dockerignore
        if not text or "VOLUME" not in text.upper():
            continue
        sibling = parse(SourceText(text))
        final = sibling.final_stage
        if final is None:
            continue
        theirs = parent_stages(sibling, final)
        words = [w for k in ("ENTRYPOINT", "CMD") for w in _last_words(theirs, k) or ()]
        volumes = [i.value.strip() for st in theirs for i in st.body if i.keyword == "VOLUME"]
        programs = _programs(words)
        if programs and volumes:
            found.append((name, programs, volumes[-1]))
    if len(_SIBLINGS) >= _MAX_FOLDERS:
        _SIBLINGS.pop(next(iter(_SIBLINGS)))
    _SIBLINGS[here] = found
    return found


def _programs(words: list[str]) -> set[str]:
    names = {w.rsplit("/", 1)[-1] for w in words if w and not w.startswith(("-", "$"))}
    return {n for n in names if n not in _NOT_PROGRAMS and "=" not in n}


def _volume_signs(chain: list[Stage]) -> Iterator[str]:
    """A VOLUME no ``chown`` gives away: the container writes it, and root owns it."""
    if not any(ins.keyword == "VOLUME" for stage in chain for ins in stage.body):
        return  # most images declare none: no need to gather what is chowned
    owned = _given_away(chain, chmod=False)
    for stage in chain:
        for ins in stage.body:
            if ins.keyword != "VOLUME":
                continue
            for path in _volume_paths(ins.value):
                if not re.search(rf"(?<![\w/.-]){re.escape(path)}", owned):
                    yield f"VOLUME {path} at line {ins.line} is written at run time and owned by root"
                    break


#: Folders named for what a program writes at run time: a build that makes one (``mkdir
#: /data``, ``WORKDIR /data``) as root, and gives it to nobody, leaves it unwritable to
#: a new user (vaultwarden's test image keeps its database in ``/data``).
_DATA_FOLDER = re.compile(
    r"(?<![\w.$/-])(/(?:[\w.-]+/)*(?:data|storage|uploads|database|db|logs?)|"
    r"/var/(?:lib|log)/[\w.-]+)(?![\w.-])"
)
#: The same, named relative to the WORKDIR (apisix-dashboard's ``RUN mkdir logs`` under
#: ``WORKDIR /usr/local/apisix-dashboard``: its manager-api writes ``logs/error.log``).
_RELATIVE_DATA_FOLDER = re.compile(
    r"(?<![\w.$/-])((?:\./)?(?:data|storage|uploads|database|db|logs?|tmp|cache))(?![\w./-])"
)
_SYSTEM_STATE = ("/var/lib/apt", "/var/lib/dpkg", "/var/lib/apk", "/var/lib/rpm", "/var/lib/yum")


def _data_folder_signs(chain: list[Stage]) -> Iterator[str]:
    """A data folder the build makes as root (``mkdir``, ``WORKDIR``) that no ``chown`` or
    ``chmod`` gives away."""
    made: list[tuple[str, Instruction]] = []
    for stage in chain:
        for ins in stage.body:
            if ins.keyword == "RUN" and "mkdir" in ins.value:
                for command in re.split(r"&&|;|\|\|", ins.value):
                    m = re.search(r"(?<![\w-])mkdir\b", command)
                    if m:
                        made += [(d.group(1), ins) for d in _DATA_FOLDER.finditer(command)]
                        made += [
                            (d.group(1), ins)
                            for d in _RELATIVE_DATA_FOLDER.finditer(command, m.end())
                        ]
            elif ins.keyword == "WORKDIR":
                m = _DATA_FOLDER.fullmatch(ins.value.strip())
                if m:
                    made.append((m.group(1), ins))
    if not made:
        return
    given = _given_away(chain, chmod=True)
    for path, ins in made:
        if path.startswith(_SYSTEM_STATE) or re.search(rf"(?<![\w/.-]){re.escape(path)}", given):
            continue
        keyword = "WORKDIR" if ins.keyword == "WORKDIR" else "mkdir"
        yield (
            f"{keyword} {path} at line {ins.line} makes a folder owned by root, which the "
            "program writes at run time"
        )
        return


#: A shell line that creates files in the current folder: ``mkdir tmpplugins``, ``git init
#: repo``, ``git clone URL dir``, ``openssl ... -keyout server.key``, ``> ./versions.txt``
#: (not an absolute path, a variable, a descriptor or /dev/null).
_RELATIVE_WRITE = re.compile(
    r"(?<![\w-])(mkdir(?:\s+-p)?\s+(?![/$~-])[\w.][\w./-]*|[\w-]+\s+init\s+(?![/$~-])[\w.][\w./-]*"
    r"|git\s+clone\b[^;&|\n]*"
    # openssl's -out/-keyout and an --output option given a relative file (HAProxy's
    # http-echo test server runs generate-cert.sh: ``-keyout server.key``)
    r"|(?:-keyout|-out|--output)(?:=|\s+)(?![/$~-])[\w.][\w./-]*)"
    r"|(?<![\d&>])>>?\s*(\./[\w.-]+|(?![/$&~-])[\w-]+\.(?:txt|json|ya?ml|log|out|csv|tar\.gz|tgz))"
)


def _workdir(chain: list[Stage]) -> str | None:
    """The final WORKDIR, a relative one joined to the one before it (KServe's feast
    initializer: ``WORKDIR feature_store_initializer`` is ``/feature_store_initializer``);
    None when there is none or a variable decides it."""
    found: str | None = None
    known = True  # False after a variable, until an absolute WORKDIR
    for stage in reversed(chain):  # build order
        for ins in stage.body:
            value = ins.value.strip().strip("\"'") if ins.keyword == "WORKDIR" else ""
            if value:
                known = "$" not in value and (known or value.startswith("/"))
                found = posixpath.normpath(posixpath.join(found or "/", value))
    return found if known else None


#: ``cd`` to an absolute path or a variable: the lines after it write elsewhere.
_CD_AWAY = re.compile(r"(?<![\w-])cd\s+[\"']?[/$~]")


def _workdir_script_signs(ctx: Context[Dockerfile], chain: list[Stage]) -> Iterator[str]:
    """A shell script the build copies into the WORKDIR (root's, given to nobody) that
    writes there (sonobuoy's ``gathere2e``: ``WORKDIR /gathere2e``, ``COPY run.sh
    /gathere2e/run.sh``; run.sh starts with ``git init repo``): run from its folder as
    a new user, it cannot create anything."""
    workdir = _workdir(chain)
    if not workdir or workdir == "/" or workdir.startswith("/tmp"):
        return
    folder = workdir.rstrip("/") + "/"
    scripts = [
        (source, dest)
        for source, dest in _copied_files(chain)
        if source.endswith((".sh", ".bash"))
        and (dest.startswith(folder) or not dest.startswith("/"))
    ]
    if not scripts or re.search(
        rf"(?<![\w/.-]){re.escape(workdir.rstrip('/'))}", _given_away(chain, chmod=True)
    ):
        return
    for source, _ in scripts:
        shown, text = _context_file(ctx, source)
        if not text:
            continue
        for number, code in code_lines(text):
            if _CD_AWAY.search(code):
                break
            m = _RELATIVE_WRITE.search(code)
            if m:
                what = " ".join((m.group(1) or f"> {m.group(2)}").split()[:3])
                yield (
                    f"{shown}:{number} ({what}) writes in its working folder {workdir}, which "
                    "the build copies it into and leaves to root"
                )
                return


#: A folder programs are installed in: a COPY there names the program the image runs.
_BIN_FOLDER = re.compile(r"^/(?:usr/(?:local/)?)?s?bin/|^/[\w.-]*$")


def _arg_program_signs(chain: list[Stage]) -> Iterator[str]:
    """The final stage installs a program named by a build argument (NATS' nack:
    ``ARG GO_APP`` then ``COPY /go/bin/${GO_APP} /usr/local/bin/${GO_APP}``): one
    Dockerfile ships several programs (the controller, the config reloader that signals
    the server, the boot-config init container), and this one USER would be every one's."""
    if not chain:
        return
    final = chain[0]
    names = {
        word.split("=", 1)[0]
        for ins in final.body
        if ins.keyword == "ARG"
        for word in ins.value.split()
    }
    if not names:
        return
    for ins in final.body:
        if ins.keyword not in ("COPY", "ADD"):
            continue
        words = arguments(ins)
        if len(words) < 2 or not _BIN_FOLDER.match(words[-1]):
            continue
        for name in sorted(names):
            if re.search(rf"\$\{{?{re.escape(name)}\b", words[-1]):
                yield (
                    f"line {ins.line} installs the program the build argument {name} names: "
                    "one Dockerfile for several programs, and this USER would run each"
                )
                return


def _config_folder_signs(ctx: Context[Dockerfile], chain: list[Stage]) -> Iterator[str]:
    """A configuration file the command reads (``-config.file=/etc/loki/config.yaml``,
    copied from the build context) that names a folder the program writes (``path_prefix:
    /loki``, ``data_dir: /var/lib/app``), which nothing in the build gives away: the
    program creates it at start, and only root may create folders in ``/``."""
    words = _last_words(chain, "CMD") or []
    words = (_last_words(chain, "ENTRYPOINT") or []) + words
    if not words:
        return
    given: str | None = None
    for source, dest in _copied_files(chain):
        if not any(dest in word for word in words):
            continue
        shown, text = _context_file(ctx, source)
        if not text:
            continue
        for number, line in enumerate(text.splitlines(), 1):
            m = _CONFIG_FOLDER.match(line)
            if m is None or m.group(2).startswith(_NOT_DATA_FOLDERS):
                continue
            if given is None:
                given = _given_away(chain, chmod=True)
            folder = m.group(2).rstrip("/")
            if re.search(rf"(?<![\w/.-]){re.escape(folder)}", given):
                continue
            yield (
                f"the command reads {dest}, whose {m.group(1)} at {shown}:{number} is "
                f"{folder}, a folder the program writes and the build leaves to root"
            )
            return


#: A configuration key naming a folder to write (YAML, TOML, INI, ``key = value``), with an
#: absolute path as its value.
_CONFIG_FOLDER = re.compile(
    r"(?i)^[ \t]*-?[ \t]*[\"']?([\w.-]*(?:dir|directory|prefix|data|storage|wal)[\w.-]*)"
    r"[\"']?[ \t]*[:=][ \t]*[\"']?(/[^\s\"'#,]+)"
)
#: Folders a program reads, or that every user may write.
_NOT_DATA_FOLDERS = ("/tmp", "/dev", "/proc", "/sys", "/etc", "/usr", "/run", "/var/run", "/bin")


def _context_copies(chain: list[Stage]) -> Iterator[tuple[list[str], str]]:
    """(sources, destination) of each COPY/ADD from the build context (not ``--from``)."""
    for stage in chain:
        for ins in stage.body:
            if ins.keyword not in ("COPY", "ADD") or "from" in ins.flags:
                continue
            words = arguments(ins)
            if len(words) >= 2:
                yield words[:-1], words[-1]


def _copied_files(chain: list[Stage]) -> Iterator[tuple[str, str]]:
    """(build-context source, path in the image) of each file a COPY/ADD brings in."""
    for sources, dest in _context_copies(chain):
        for source in sources:
            if "://" in source or any(c in source for c in "*?[$") or source.endswith("/"):
                continue
            name = source.rstrip("/").rsplit("/", 1)[-1]
            yield source, (dest + name if dest.endswith("/") else dest)


def _context_file(ctx: Context[Dockerfile], source: str) -> tuple[str, str | None]:
    """A build-context file's text (from the contexts the repository builds the
    Dockerfile with, else the Dockerfile's folder) and the path it is cited by."""
    repository = ctx.evidence.repository
    if repository is not None:
        for build in repository.build_of(_dockerfile(ctx)):
            path = build.context / source.lstrip("/")
            if path.is_file():
                return os.path.relpath(path, repository.root), _read(path)
        # Built from the root (``docker build -f cmd/app/Dockerfile .``) by a command the
        # scan could not read: the path as written from the root.
        path = repository.root / source.lstrip("/")
        if "/" in source.strip("/") and path.is_file():
            return os.path.relpath(path, repository.root), _read(path)
    return source, ctx.context_text(source, limit=_MAX_SCRIPT)


def _given_away(chain: list[Stage], *, chmod: bool) -> str:
    """The text of every step that gives files away: RUNs that ``chown`` (or, with
    ``chmod``, change modes) and ``COPY --chown``; a path in it is not left to root."""
    verbs = ("chown", "chmod") if chmod else ("chown",)
    return " ".join(
        ins.value
        for stage in chain
        for ins in stage.body
        if (ins.keyword == "RUN" and any(v in ins.value for v in verbs)) or "chown" in ins.flags
    )


def _volume_paths(value: str) -> list[str]:
    text = value.strip()
    if text.startswith("["):
        try:
            return [str(p) for p in json.loads(text)]
        except ValueError:
            return []
    return text.split()


def _entrypoint_signs(ctx: Context[Dockerfile], chain: list[Stage]) -> Iterator[str]:
    """The script ENTRYPOINT (or CMD) runs, read from the repository model or the build
    context next to the Dockerfile; a script that cannot be read is a sign too."""
    program = entry_script(chain)
    if program is None:
        return
    base = program.rsplit("/", 1)[-1]
    if base in _DAEMON_TOOLS:
        yield _daemon_sign(f"its command {program}", base)
        return
    name, text = _script_text(ctx, chain, program)
    if text is None:
        # Copied in from a build context that is not here (``docker build -f x/Dockerfile .``):
        # the script exists, and nothing says what it does. A script the build writes itself
        # or the base image ships is judged by the base image's facts instead.
        name = program.rsplit("/", 1)[-1]
        scriptish = name.endswith((".sh", ".bash")) or "entrypoint" in name
        if scriptish and any(_copied_sources(chain, name)):
            yield f"the entrypoint script {program} is not in the build context read"
        return
    if _has(text, _STEP_DOWN_HINTS) or _has(text, _SSHD_HINTS):
        for number, line in enumerate(text.splitlines(), 1):
            if line.lstrip().startswith("#"):
                continue
            m = _step_down(line)
            if m:
                yield f"the entrypoint {name}:{number} runs {m.group(1)}"
                return
    if _has(text, _DAEMON_TOOLS):
        d = _DAEMON_TOOL.search(text)
        if d:
            number = text.count("\n", 0, d.start(1)) + 1
            yield _daemon_sign(f"the entrypoint {name}:{number}", d.group(1))
    mounted = _mounted_write(text) if "$" in text else None
    if mounted is not None:
        number, variable = mounted
        yield (
            f"the entrypoint {name}:{number} writes into ${variable}, a folder whoever runs "
            "it mounts (a host folder, or a volume root made): a non-root user may not "
            "write there"
        )
    if _has(text, _ROOT_WORK_HINTS) and not _ROOT_CHECK.search(text):
        for number, line in enumerate(text.splitlines(), 1):
            w = _ROOT_WORK.search(line) if not line.lstrip().startswith("#") else None
            if w:
                yield (
                    f"the entrypoint {name}:{number} runs {w.group(1)}, which changes the "
                    "system's files (certificates, packages, users, kernel settings): only "
                    "root may"
                )
                return


#: A command that writes its last word: copies, folders, archives unpacked.
_WRITER = re.compile(r"^\s*(?:cp|mkdir|mv|rsync|install)\s")
#: A variable that names where the runner mounts a folder to fill (Beyla's SDK image:
#: ``MOUNT_PATH``, where copy-to-volume.sh copies its agents).
_MOUNT_VARIABLE = re.compile(
    r"^(?:[A-Z0-9]+_)*(?:MOUNT|VOLUME|TARGET|DEST|DESTINATION)(?:_[A-Z0-9]+)*$"
)
_LAST_VARIABLE = re.compile(r"^[\"']?\$\{?([A-Za-z_][A-Za-z0-9_]*)")


def _mounted_write(text: str) -> tuple[int, str] | None:
    """(line, variable) of the entrypoint's first copy or ``mkdir`` into a folder a
    variable names for a mount (``cp -r /dist/* "${MOUNT_PATH}/dist/"``)."""
    for number, line in enumerate(text.splitlines(), 1):
        if not _WRITER.match(line):
            continue
        command = re.split(r"&&|\|\||;|\|", line, maxsplit=1)[0].split()
        m = _LAST_VARIABLE.match(command[-1]) if len(command) > 1 else None
        if m is not None and _MOUNT_VARIABLE.match(m.group(1)):
            return number, m.group(1)
    return None


#: Work an entrypoint does at every start that only root may do: trust a mounted CA
#: certificate (harbor's chart migrator runs update-ca-certificates), install packages (the
#: system's, or Python's into the site-packages root installed: robusta's docs image runs
#: ``poetry install`` at start), add users, tune the kernel or the packet filter.
_ROOT_WORK = re.compile(
    r"(?<![\w.-])(update-ca-certificates|update-ca-trust|useradd|groupadd|adduser|addgroup|"
    r"apt-get install|apt install|apk add|yum install|dnf install|sysctl -w|modprobe|"
    r"iptables|pip3? install|poetry install)(?![\w-])(?!.*\s--(?:user|target|prefix)\b)"
)
_ROOT_WORK_HINTS = ("update-ca", "add", "install", "sysctl", "modprobe", "iptables")
#: A script that asks whether it runs as root (``id -u``, ``$EUID``) handles both.
_ROOT_CHECK = re.compile(r"\bid -u\b|\$\{?EUID\b|\$\{?UID\b|geteuid|getuid")


_DAEMON = "a client of the Docker daemon"
_CLIENT = "a Docker client"


def _daemon_sign(where: str, tool: str) -> str:
    return (
        f"{where} runs {tool}, {_DAEMON}: it talks to the daemon through a socket only root "
        "(or the host's docker group) may use"
    )


def entry_script(chain: list[Stage]) -> str | None:
    """``entry_program``, or the script it runs when that is a shell
    (``ENTRYPOINT ["/bin/sh", "/entrypoint.sh"]``); None for ``sh -c``."""
    words = entry_words(chain)
    if words and words[0].rsplit("/", 1)[-1] in _SHELLS and len(words) > 1:
        return None if words[1].startswith("-") else words[1]
    return words[0] if words else None


def entry_program(chain: list[Stage]) -> str | None:
    """The first word of the last ENTRYPOINT (else CMD) of the shipped stages."""
    words = entry_words(chain)
    return words[0] if words else None


def entry_words(chain: list[Stage]) -> list[str]:
    """The words of the last ENTRYPOINT (else CMD) of the shipped stages; empty without."""
    for keyword in ("ENTRYPOINT", "CMD"):
        words = _last_words(chain, keyword)
        if words is not None:
            return words
    return []


def _last_words(chain: list[Stage], keyword: str) -> list[str] | None:
    """The words of the last ``keyword`` instruction of the stages (nearest first); None
    when none has one."""
    for stage in chain:
        last = next((i for i in reversed(stage.body) if i.keyword == keyword), None)
        if last is not None:
            return _exec_words(last.value)
    return None


def _exec_words(value: str) -> list[str]:
    text = value.strip()
    if text.startswith("["):
        try:
            return [str(w) for w in json.loads(text)]
        except ValueError:
            return []
    return text.split()


def entry_script_text(ctx: Context[Dockerfile], chain: list[Stage]) -> tuple[str, str | None]:
    """The script the image's command runs, as it is shown and its text (None when the
    command is no script or its text is not found)."""
    program = entry_script(chain)
    if program is None:
        return "", None
    return _script_text(ctx, chain, program)


def _script_text(
    ctx: Context[Dockerfile], chain: list[Stage], program: str
) -> tuple[str, str | None]:
    repository = ctx.evidence.repository
    if repository is not None:
        repository.reading(ctx.path, ctx.doc)
        for build in repository.build_of(_dockerfile(ctx)):
            script = repository.entrypoint_script(build)
            if script is not None:
                shown = os.path.relpath(script, repository.root)
                return shown, _read(script)
    base = program.rsplit("/", 1)[-1]
    for source in _copied_sources(chain, base):
        text = ctx.context_text(source, limit=_MAX_SCRIPT)
        if text is not None:
            return source, text
    return program, None


def _copied_sources(chain: list[Stage], program: str) -> Iterator[str]:
    """Build-context sources a COPY/ADD puts where ``program`` is (by either name)."""
    for sources, dest in _context_copies(chain):
        name = dest.rstrip("/").rsplit("/", 1)[-1]
        for source in sources:
            if "://" in source or source in (".", "./", "*", "/"):
                continue
            if source.rstrip("/").rsplit("/", 1)[-1] == program or name == program:
                yield source


def _read(path: Path) -> str | None:
    try:
        with open(path, "rb") as handle:
            return handle.read(_MAX_SCRIPT).decode("utf-8", "replace")
    except OSError:
        return None
