"""Judgement in K8S001, K8S002 and K8S005 (issue 13): what is withheld, with which needs,
and what is still applied, so nothing is over-refused."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from fixer.documents.text import SourceText
from fixer.engine import FileResult, process_text
from fixer.model import Safety
from fixer.registry import ImageConfig
from fixer.registry.imagefacts import ImageFacts, LayerFacts
from fixer.rule import Resolution
from fixer.settings import Settings
from tests.helpers import RULES as RULE_SET

RULES = frozenset({"K8S001", "K8S002", "K8S005"})


def _run(text: str, answers: dict[str, Resolution] | None = None, **settings: Any) -> FileResult:
    result = process_text(
        Path("w.yaml"),
        "kubernetes",
        SourceText(text),
        Settings.of(select=settings.pop("select", RULES), **settings),
        rules=RULE_SET,
        fix=True,
        resolutions=answers or {},
    )
    assert result.error is None, result.error
    return result


def _pod(text: str) -> dict[str, Any]:
    docs = [d for d in yaml.safe_load_all(text) if d]
    spec: dict[str, Any] = docs[0]["spec"]
    return spec["template"]["spec"] if "template" in spec else spec


def _withheld(result: FileResult) -> list[str]:
    """Needs of the fixes left open (UNPROVEN, not applied)."""
    return [
        f.fix.needs
        for f in result.remaining
        if f.fix is not None and f.fix.safety is Safety.UNPROVEN
    ]


def _containers(image: str, extra: str = "", pod: str = "") -> str:
    return f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
{pod}      containers:
      - name: app
        image: {image}
{extra}"""


# --- class 1: runAsNonRoot only for a user the kubelet can verify ---------------------


def test_unknown_image_user_withholds_run_as_non_root_but_applies_the_safe_parts() -> None:
    result = _run(_containers("registry.example/app:1"))
    pod = _pod(result.text)
    sc = pod["containers"][0]["securityContext"]
    assert sc == {"allowPrivilegeEscalation": False}
    assert pod["securityContext"] == {"seccompProfile": {"type": "RuntimeDefault"}}
    needs = " ".join(_withheld(result))
    assert "the image's numeric user (its config was not read)" in needs
    assert "`USER 10001`" in needs


def test_numeric_image_user_gets_the_full_restricted_context() -> None:
    answers = {"registry.example/app:1": Resolution(user="10001")}
    result = _run(_containers("registry.example/app:1"), answers)
    pod = _pod(result.text)
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["containers"][0]["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert _withheld(result) == []
    proven = [f.fix for f in result.fixed if f.fix and f.fix.safety is Safety.PROVEN]
    assert any("image user 10001 (registry)" in e for p in proven for e in p.evidence)


def test_explicit_numeric_run_as_user_gets_the_full_restricted_context() -> None:
    extra = "        securityContext:\n          runAsUser: 1000\n"
    result = _run(_containers("registry.example/app:1", extra))
    sc = _pod(result.text)["containers"][0]["securityContext"]
    assert sc["capabilities"] == {"drop": ["ALL"]} and sc["runAsUser"] == 1000
    assert _pod(result.text)["securityContext"]["runAsNonRoot"] is True
    assert _withheld(result) == []


def test_named_user_resolved_through_passwd_also_writes_run_as_user() -> None:
    facts = ImageFacts(
        "sha256:" + "a" * 64,
        "linux/amd64",
        ImageConfig(user="app"),
        LayerFacts(users=(("app", 1654, 1654),)),
    )
    answers = {"registry.example/app:1": Resolution(user="app", image=facts)}
    result = _run(_containers("registry.example/app:1"), answers)
    sc = _pod(result.text)["containers"][0]["securityContext"]
    assert sc["runAsUser"] == 1654 and sc["runAsGroup"] == 1654
    assert _pod(result.text)["securityContext"]["runAsNonRoot"] is True


def test_unresolved_named_user_is_withheld_with_its_name() -> None:
    answers = {"registry.example/app:1": Resolution(user="app")}
    result = _run(_containers("registry.example/app:1"), answers)
    assert "runAsNonRoot" not in result.text
    assert any("the numeric uid of the image user app (registry)" in n for n in _withheld(result))


# --- class 2: root-start images --------------------------------------------------------


def test_postgres_keeps_root_start_and_capabilities() -> None:
    result = _run(_containers("postgres:16"))
    sc = _pod(result.text)["containers"][0]["securityContext"]
    assert sc == {"allowPrivilegeEscalation": False}
    assert "runAsNonRoot" not in result.text
    needs = " ".join(_withheld(result))
    assert (
        "evidence the image does not start as root: postgres:16 starts as root and steps "
        "down with gosu" in needs
    )


# --- class 3: what the author added -----------------------------------------------------


def test_added_capabilities_and_explicit_escalation_are_kept_and_offered() -> None:
    extra = """        securityContext:
          runAsUser: 1000
          allowPrivilegeEscalation: true
          capabilities:
            add: [CHOWN, SETUID]
"""
    text = _containers("registry.example/app:1", extra)
    result = _run(text)
    sc = _pod(result.text)["containers"][0]["securityContext"]
    assert sc["allowPrivilegeEscalation"] is True
    assert sc["capabilities"]["add"] == ["CHOWN", "SETUID"]
    assert sc["capabilities"]["drop"] == ["ALL"]  # non-root: nothing to lose
    needs = " ".join(_withheld(result))
    assert "the author added it" in needs and "allowPrivilegeEscalation: true" in needs
    forced = _run(text, unsafe_fixes=True)
    sc = _pod(forced.text)["containers"][0]["securityContext"]
    assert sc["allowPrivilegeEscalation"] is False and "add" not in sc["capabilities"]


# --- class 4: node agents -----------------------------------------------------------------

AGENT = """apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: exporter
spec:
  template:
    spec:
      hostNetwork: true
      hostPID: true
      containers:
      - name: exporter
        image: registry.example/exporter:1
        securityContext:
          privileged: true
          runAsUser: 65534
        volumeMounts:
        - name: proc
          mountPath: /host/proc
      volumes:
      - name: proc
        hostPath:
          path: /proc
"""


def test_node_agent_flips_are_withheld_and_no_seccomp_is_written_for_privileged() -> None:
    """Kubernetes applies no seccomp profile to a privileged container ("Privileged
    containers always run as Unconfined"): a RuntimeDefault written for it changes nothing,
    so it is reported with the reason, not written."""
    result = _run(AGENT)
    pod = _pod(result.text)
    assert pod["hostNetwork"] is True and pod["hostPID"] is True
    assert pod["containers"][0]["securityContext"]["privileged"] is True
    assert "securityContext" not in pod and "seccomp" not in result.text
    seccomp = [f for f in result.remaining if "no seccompProfile" in f.message]
    assert seccomp and all(f.fix is None for f in seccomp)
    assert "runs Unconfined whatever seccompProfile says" in seccomp[0].reason
    needs = _withheld(result)
    assert any("node agent" in n and "/proc" in n for n in needs)
    by_rule = {f.rule for f in result.remaining if f.fix and f.fix.safety is Safety.UNPROVEN}
    assert by_rule == {"K8S001", "K8S002", "K8S005"}


def test_a_profile_goes_to_the_pod_when_every_unprivileged_container_needs_it() -> None:
    """A privileged sidecar ignores the pod's seccompProfile: the other container's
    RuntimeDefault still goes on the pod (one place to read), and applies to it alone."""
    text = _containers(
        "registry.example/web:1",
        "        securityContext:\n          runAsUser: 1000\n"
        "      - name: agent\n        image: registry.example/agent:1\n"
        "        securityContext:\n          privileged: true\n",
    )
    result = _run(text, select=frozenset({"K8S002"}))
    pod = _pod(result.text)
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    agent = pod["containers"][1]["securityContext"]
    assert "seccompProfile" not in agent and agent["privileged"] is True
    # Before the fix, the privileged container's finding said why it gets nothing itself.
    found = [f for f in result.found if "no seccompProfile" in f.message and f.fix is None]
    assert len(found) == 1 and '"agent"' in found[0].message
    assert "runs Unconfined whatever seccompProfile says" in found[0].reason


def test_privileged_web_deployment_still_gets_privileged_false() -> None:
    extra = "        securityContext:\n          privileged: true\n"
    result = _run(_containers("registry.example/web:1", extra), select=frozenset({"K8S001"}))
    assert _pod(result.text)["containers"][0]["securityContext"]["privileged"] is False
    assert result.fixed and result.fixed[0].fix is not None
    assert result.fixed[0].fix.safety is Safety.PROVEN


def test_docker_in_docker_privileged_is_withheld() -> None:
    extra = "        securityContext:\n          privileged: true\n"
    result = _run(_containers("docker:27-dind", extra), select=frozenset({"K8S001"}))
    assert "privileged: true" in result.text
    assert any("Docker-in-Docker" in n for n in _withheld(result))


# --- class 8: lower-case drop -------------------------------------------------------------


def test_lower_case_drop_all_is_found_and_rewritten_safely() -> None:
    extra = """        securityContext:
          runAsUser: 1000
          allowPrivilegeEscalation: false
          capabilities:
            drop: [all]
"""
    result = _run(
        _containers(
            "registry.example/app:1",
            extra,
            "      securityContext:\n        runAsNonRoot: true\n        seccompProfile: {type: RuntimeDefault}\n",
        )
    )
    assert any("all, not ALL" in f.message for f in result.found)
    assert "drop: [ALL]" in result.text
    assert result.fixed[0].fix is not None and result.fixed[0].fix.safety is Safety.SAFE


# --- class 9: privileges a process uses without declaring them ---------------------------


def test_file_capabilities_withhold_drop_all() -> None:
    facts = ImageFacts(
        "sha256:" + "b" * 64,
        "linux/amd64",
        ImageConfig(user="1000"),
        LayerFacts(capabilities=("/usr/bin/ping",)),
    )
    answers = {"registry.example/app:1": Resolution(user="1000", image=facts)}
    result = _run(_containers("registry.example/app:1"), answers)
    assert "drop" not in result.text
    assert _pod(result.text)["securityContext"]["runAsNonRoot"] is True  # still proven
    assert any("file capabilities (/usr/bin/ping)" in n for n in _withheld(result))


def test_killall_in_a_shared_process_namespace_keeps_cap_kill() -> None:
    extra = '        command: ["sh", "-c", "run-tests; killall envoy"]\n'
    text = _containers("registry.example/app:1", extra, "      shareProcessNamespace: true\n")
    result = _run(text)
    assert "drop" not in result.text
    assert any("CAP_KILL for killall" in n for n in _withheld(result))


def test_sudo_withholds_no_escalation() -> None:
    extra = '        command: ["sudo", "/app/start"]\n'
    result = _run(_containers("registry.example/app:1", extra))
    assert "allowPrivilegeEscalation" not in result.text
    assert any("without sudo" in n for n in _withheld(result))


def test_root_container_on_port_80_keeps_its_capabilities() -> None:
    answers = {"registry.example/app:1": Resolution(user="")}
    extra = "        ports:\n        - containerPort: 80\n"
    result = _run(_containers("registry.example/app:1", extra), answers)
    assert "drop" not in result.text
    assert any("NET_BIND_SERVICE to listen on port 80" in n for n in _withheld(result))


# --- class 10: init containers that run as root on purpose ------------------------------

INIT = """apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
spec:
  template:
    spec:
      initContainers:
      - name: fix-perms
        image: busybox:1.36
        command: ["chown", "-R", "1000:1000", "/data"]
        securityContext:
          runAsUser: 0
          privileged: true
      containers:
      - name: app
        image: registry.example/app:1
        securityContext:
          runAsUser: 1000
"""


def test_root_init_container_is_reported_never_rewritten() -> None:
    result = _run(INIT, unsafe_fixes=True)
    pod = _pod(result.text)
    init = pod["initContainers"][0]["securityContext"]
    assert init["runAsUser"] == 0 and init["privileged"] is True
    assert "runAsNonRoot" not in init
    assert pod["containers"][0]["securityContext"]["runAsNonRoot"] is True  # container level
    assert "runAsNonRoot" not in pod.get("securityContext", {})
    reasons = [f.reason for f in result.remaining if f.fix is None]
    assert any("runs chown as privileged is the author's decision" in r for r in reasons)
    assert any("runs chown as root is the author's decision" in r for r in reasons)


# --- class 11: Bidirectional mount propagation -------------------------------------------


def test_bidirectional_mount_keeps_privileged_with_the_reason() -> None:
    extra = """        securityContext:
          privileged: true
        volumeMounts:
        - name: plugins
          mountPath: /var/lib/kubelet/plugins
          mountPropagation: Bidirectional
"""
    result = _run(_containers("registry.example/csi:1", extra), unsafe_fixes=True)
    assert _pod(result.text)["containers"][0]["securityContext"]["privileged"] is True
    k8s001 = [f for f in result.remaining if f.rule == "K8S001"]
    assert k8s001 and k8s001[0].fix is None
    assert "API server rejects privileged: false" in k8s001[0].reason


# --- class 12: Kustomize overlays ----------------------------------------------------------


def test_kustomize_patch_setting_the_security_context_is_said() -> None:
    from fixer.documents.yaml import kube, parse
    from fixer.evidence.images import Evidence
    from fixer.repository import RepositoryModel
    from fixer.rule import Context
    from rules.kustomize_note import overlay_replacing_security_context

    root = Path(__file__).resolve().parent.parent / "fixtures" / "repos" / "kustomize_overlay"
    manifest = root / "base" / "deploy.yaml"
    model = RepositoryModel.scan(root)
    doc = parse(SourceText(manifest.read_text()))
    pod = next(kube.pod_specs(doc))
    ctx = Context(doc, manifest, Settings(), evidence=Evidence({}, model))
    note = overlay_replacing_security_context(ctx, pod)
    assert "overlays/prod/kustomization.yaml sets the securityContext of Deployment/web" in note
    assert "`kubectl kustomize`" in note
    assert overlay_replacing_security_context(Context(doc, manifest, Settings()), pod) == ""
    # The note rides on the K8S002 finding when the run has the repository model.
    from rules.security_context import SecurityContext

    ctx = Context(doc, manifest, Settings(), evidence=Evidence({}, model))
    messages = [f.message for f in SecurityContext().check(ctx)]
    assert messages and all("Kustomize patch" in m for m in messages)


# --- the CLI: exit code and idempotence -----------------------------------------------------


def test_cli_fix_applies_safe_parts_and_leaves_the_withheld_open(tmp_path: Path) -> None:
    (tmp_path / "pg.yaml").write_text(_containers("postgres:16"))
    args = [sys.executable, "-m", "fixer", "fix", "--select", "K8S002", "pg.yaml"]
    first = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert first.returncode == 1, first.stderr  # the withheld finding stays open
    fixed = (tmp_path / "pg.yaml").read_text()
    assert "allowPrivilegeEscalation: false" in fixed and "RuntimeDefault" in fixed
    again = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert again.returncode == 1
    assert (tmp_path / "pg.yaml").read_text() == fixed  # idempotent


def test_block_capabilities_with_only_an_added_one_keep_a_valid_file_when_forced() -> None:
    extra = """        securityContext:
          capabilities:
            add:
              - IPC_LOCK
        ports:
        - containerPort: 9042
"""
    result = _run(_containers("registry.example/db:1", extra), unsafe_fixes=True)
    sc = _pod(result.text)["containers"][0]["securityContext"]
    assert sc["capabilities"] == {"drop": ["ALL"]}
    assert _run(result.text, unsafe_fixes=True).text == result.text


def test_a_root_base_image_under_a_non_root_vendor_prefix_keeps_its_root_start() -> None:
    """bitnami/minideb runs as root although the rest of bitnami/* runs as 1001: like
    debian, it gets no runAsNonRoot (the kubelet would refuse the pod)."""
    result = _run(_containers("bitnami/minideb:bookworm"))
    pod = _pod(result.text)
    assert "runAsNonRoot" not in (pod.get("securityContext") or {})
    assert pod["containers"][0]["securityContext"]["allowPrivilegeEscalation"] is False
    assert any("image user root" in needs for needs in _withheld(result))


HOST_DNS = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: coredns
spec:
  template:
    spec:
      hostNetwork: true
      hostPID: true
      dnsPolicy: ClusterFirstWithHostNet
      containers:
      - name: coredns
        image: registry.example/coredns:1
"""


def test_a_pod_that_declares_the_host_network_keeps_it() -> None:
    """Found in a merge review (external-dns e2e CoreDNS): dnsPolicy ClusterFirstWithHostNet
    only applies on the host network, so hostNetwork is the author's choice; hostPID of the
    same pod, with no such sign, is still flipped."""
    result = _run(HOST_DNS, select=frozenset({"K8S005"}))
    pod = _pod(result.text)
    assert pod["hostNetwork"] is True and pod["hostPID"] is False
    needs = _withheld(result)
    assert any("dnsPolicy: ClusterFirstWithHostNet (line 10)" in n for n in needs)
    forced = _run(HOST_DNS, select=frozenset({"K8S005"}), unsafe_fixes=True)
    assert _pod(forced.text)["hostNetwork"] is False


def test_a_need_said_in_full_by_another_is_said_once() -> None:
    # The bundled example printed the root-start need twice: once for dropping
    # capabilities (with what starting as root needs) and once for runAsNonRoot.
    from rules.security_context import _joined

    start = "evidence the image does not start as root: nginx starts as root to listen on port 80"
    full = f"{start} (that needs SETUID, SETGID and CHOWN)"
    assert _joined([full, start]) == full
    assert _joined([start, full]) == full
    other = "the image's numeric user (its config was not read)"
    assert _joined([full, other, start]) == f"{full}; {other}"


_VELERO = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: nginx-deployment
spec:
  template:
    metadata:
      annotations:
        pre.hook.backup.velero.io/container: {target}
        pre.hook.backup.velero.io/command: '["/sbin/fsfreeze", "--freeze", "/var/log/nginx"]'
    spec:
      containers:
      - image: nginx:1.17.6
        name: nginx
      - image: ubuntu:bionic
        name: fsfreeze
        securityContext:
          privileged: true
        command: ["/bin/bash", "-c", "sleep infinity"]
"""


def test_a_privileged_sidecar_a_velero_hook_runs_fsfreeze_in_keeps_privileged() -> None:
    """velero's nginx example: the backup hook execs fsfreeze in the sidecar, which only a
    privileged container may run; `privileged: false` would fail every backup."""
    result = _run(_VELERO.format(target="fsfreeze"), select=frozenset({"K8S001"}))
    assert "privileged: true" in result.text
    assert any("its command runs fsfreeze" in n for n in _withheld(result))


def test_a_velero_hook_aimed_at_another_container_does_not_hold_this_one() -> None:
    result = _run(_VELERO.format(target="nginx"), select=frozenset({"K8S001"}))
    assert _pod(result.text)["containers"][1]["securityContext"]["privileged"] is False


@pytest.mark.parametrize(
    ("command", "need"),
    [
        # A probe's exec is a command of the container too.
        (
            "        livenessProbe:\n          exec:\n"
            "            command: [sh, -c, 'sysctl net.ipv4.ip_forward']\n",
            "its command runs sysctl",
        ),
        # deploy-sourcegraph's executor: a `sourcegraph/dind` sidecar runs dockerd, which
        # the curated image table does not know; its command says Docker-in-Docker.
        (
            "        command: ['dockerd', '--tls=false', '--mtu=1200']\n",
            "it runs a Docker daemon (dockerd",
        ),
    ],
)
def test_what_the_container_runs_keeps_privileged(command: str, need: str) -> None:
    extra = "        securityContext:\n          privileged: true\n" + command
    result = _run(_containers("registry.example/tool:1", extra), select=frozenset({"K8S001"}))
    assert "privileged: true" in result.text
    assert any(need in n for n in _withheld(result))
