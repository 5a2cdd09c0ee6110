"""The twentieth session's merge review (``fixtures/repos/j21-review``, whose README names
each shape's source): CSI controllers and sidecars, Windows HostProcess pods, an operator
bundle made from the Kustomize tree, test data below a Rust crate's tests, and programs
that listen on port 80 where only a Service or the script says so."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.fixture_repos import Found, copy_repo, findings, needs, one, shared_copy, tighten

reviewed, checked, found = shared_copy("j21-review")


def test_a_privileged_csi_controller_keeps_privileged(found: Found) -> None:
    """csi-driver-smb's controller mounts the share: ``privileged: false`` is offered,
    withheld, and no ``allowPrivilegeEscalation: false`` is written beside ``true``."""
    path = "csi/deploy/csi-smb-controller.yaml"
    why = needs(found("K8S001"), path, 'container "smb" is privileged')
    assert "it is a CSI driver's plugin (it serves CSI on --endpoint)" in why
    hit = one(found("K8S002"), path, '"smb": allowPrivilegeEscalation is not false')
    assert "fix" not in hit and hit["reason"]


def test_a_host_process_pod_keeps_the_host_network(found: Found) -> None:
    """A Windows HostProcess pod: hostNetwork cannot be false, and the Linux-only fields
    K8S002 writes do not apply."""
    hit = one(found("K8S005"), "csi/deploy/csi-proxy.yaml", "uses hostNetwork")
    assert "fix" not in hit and hit["reason"]
    assert "rejects hostNetwork: false on a pod with Windows HostProcess" in hit["reason"]
    assert not [f for f in found("K8S002") if f["path"] == "csi/deploy/csi-proxy.yaml"]


def test_a_socket_client_keeps_root(found: Found) -> None:
    """The provisioner connects to the socket the driver (not set to a non-root user)
    serves on a shared emptyDir: USER would lock it out of the socket."""
    why = needs(found("DF001"), "sidecar/Dockerfile", "runs as root")
    assert "runs it connecting to /var/lib/csi/sockets/pluginproxy/mock.socket" in why
    assert 'that container "mock-driver" serves and is not set to a non-root user' in why


def test_a_socket_client_whose_server_runs_non_root_is_fixed(tmp_path: Path) -> None:
    repo = copy_repo(tmp_path, "j21-review")
    for path in ("csi/deploy/csi-smb-controller.yaml",):
        (repo / path).unlink()
    deploy = repo / "sidecar/deploy/deployment.yaml"
    deploy.write_text(
        deploy.read_text().replace(
            "      volumes:\n", "      securityContext:\n        runAsUser: 1000\n      volumes:\n"
        )
    )
    hit = one(findings(repo, "DF001"), "sidecar/Dockerfile", "runs as root")
    assert "connecting to" not in str(hit["fix"].get("needs")), hit


def test_an_operator_bundle_keeps_the_sources_as_they_are(found: Found) -> None:
    why = needs(found("K8S002"), "operator/config/manager/manager.yaml", "no seccompProfile")
    assert "operator/Makefile:6 (kustomize build config/manifests | ...)" in why


def test_an_operator_bundle_made_at_release_leaves_the_sources_fixed(tmp_path: Path) -> None:
    """Piraeus' Makefile makes the bundle the same way, but the repository keeps none: the
    sources are fixed."""
    repo = copy_repo(tmp_path, "j21-review")
    shutil.rmtree(repo / "operator/bundle")
    out = tighten("fix", "--offline", "operator", cwd=repo)
    assert out.returncode in (0, 1), out.stderr
    assert "RuntimeDefault" in (repo / "operator/config/manager/manager.yaml").read_text()


def test_data_below_a_crates_tests_is_test_data(checked: subprocess.CompletedProcess[str]) -> None:
    assert "crates/kwctl/tests/data" not in checked.stdout
    assert "under crates/kwctl/tests/data/" in checked.stderr


def test_a_service_port_below_1024_keeps_net_bind_service(found: Found) -> None:
    why = needs(
        found("K8S002"), "hooks/clusteredparent/cluster-parent.yaml", "capabilities are not dropped"
    )
    assert "NET_BIND_SERVICE to listen on port 80 (a Service of the file sends there)" in why


def test_a_script_listening_on_80_keeps_root(found: Found) -> None:
    why = needs(found("DF001"), "hooks/nodejs/Dockerfile", "runs as root")
    assert "server.js:6 listens on port 80, which only root may bind" in why


def test_served_port_reads_the_selector_and_the_declared_ports() -> None:
    from fixer.documents import yaml as y
    from fixer.documents.text import SourceText
    from fixer.documents.yaml import kube
    from rules.security_judgement import served_port

    def parse_yaml(text: str) -> y.YamlFile:
        return y.parse(SourceText(text))

    text = (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\nspec:\n  template:\n    metadata:\n"
        "      labels: {app: a}\n    spec:\n      containers:\n      - name: a\n"
        "        image: x\n        ports: [{containerPort: 8080}]\n---\n"
        "apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec:\n  selector: {app: a}\n"
        "  ports: [{port: 80, targetPort: 8080}]\n"
    )
    doc = parse_yaml(text)
    [c] = kube.all_containers(doc)
    assert served_port(doc, c) is None  # the Service sends to 8080
    doc = parse_yaml(text.replace("targetPort: 8080", "targetPort: 443").replace("8080}", "443}"))
    [c] = kube.all_containers(doc)
    assert served_port(doc, c) == 443
    doc = parse_yaml(text.replace("{app: a}\n  ports", "{app: b}\n  ports"))
    [c] = kube.all_containers(doc)
    assert served_port(doc, c) is None  # selects another pod


def test_a_python_program_that_installs_packages_keeps_root(found: Found) -> None:
    """robusta's runner runs ``pip install`` while it runs; the apt signing key it copies
    out of the builder is public (no "private key" sign)."""
    why = needs(found("DF001"), "runner/Dockerfile", "runs as root")
    assert "its program runner.core.main (src/runner/core/) runs pip install while it runs" in why
    assert "private key" not in why


def test_an_image_with_a_go_toolchain_keeps_root(found: Found) -> None:
    why = needs(found("DF001"), "sdk/Dockerfile", "runs as root")
    assert "COPY at line 8 brings in a Go toolchain for the command to build with" in why


def test_a_network_plugins_installer_script_keeps_the_host_network(found: Found) -> None:
    why = needs(found("K8S005"), "cni/yamls/webhook.yaml", "uses hostNetwork")
    assert "the repository ships a network plugin (cni/scripts/install.sh:3 uses" in why


def test_a_privileged_daemonset_keeps_privileged(found: Found) -> None:
    """Piraeus' ha-controller: one pod per node, privileged for the node's DRBD events,
    with no host mount that says so."""
    why = needs(found("K8S001"), "drbd/ha-controller.yaml", "is privileged")
    assert "a DaemonSet's container, privileged on each node for that node's work" in why


def test_a_backup_tool_keeps_the_ssh_client(tmp_path: Path) -> None:
    """k8up copies restic in, whose SFTP repositories run ssh: openssh-client stays."""
    repo = tmp_path / "k8up"
    repo.mkdir()
    (repo / "Dockerfile").write_text(
        "FROM alpine:3.24 AS restic\nRUN wget -O /usr/local/bin/restic https://x/restic\n\n"
        'FROM alpine:3.24\nENTRYPOINT ["k8up"]\n'
        "RUN apk add --update --no-cache bash curl openssh-client\n"
        "COPY --from=restic /usr/local/bin/restic $RESTIC_BINARY\nUSER 65532\n"
    )
    hits = [f for f in findings(repo, "DF003") if "openssh-client" in f["message"]]
    assert hits and "fix" not in hits[0]
    assert "line 7 copies in restic, which runs ssh" in hits[0]["reason"]


def test_an_ebpf_agent_keeps_privileged(found: Found) -> None:
    """Beyla's sidecar: the known image table says eBPF agents only work privileged."""
    why = needs(found("K8S001"), "ebpf/instrumented-app.yml", "is privileged")
    assert "its image only works privileged (the known image table" in why


def test_ebpf_capabilities_keep_seccomp_withheld(found: Found) -> None:
    """CAP_BPF and CAP_PERFMON without CAP_SYS_ADMIN: older default seccomp profiles block
    bpf() and perf_event_open()."""
    hits = [f for f in found("K8S002") if f["path"] == "ebpf/unprivileged.yaml"]
    [hit] = [f for f in hits if "no seccompProfile" in f["message"]]
    assert "it adds BPF, PERFMON for bpf() and perf_event_open()" in hit["fix"]["needs"]


def test_folders_vendir_syncs_are_vendored(checked: subprocess.CompletedProcess[str]) -> None:
    assert "vendored/upstream" not in checked.stdout
    assert (
        "skipped 1 file under vendored/upstream/ (vendir.yml syncs it from "
        "Dynatrace/dynatrace-operator) (vendored)"
    ) in checked.stderr


def test_an_image_that_fills_a_mounted_folder_keeps_root(found: Found) -> None:
    why = needs(found("DF001"), "injector/Dockerfile", "runs as root")
    assert "copy-to-volume.sh:9 writes into $MOUNT_PATH, a folder whoever runs it mounts" in why


def test_vendir_folders_read_each_directory() -> None:
    from fixer.discover import _vendir_folders

    root = Path(__file__).parent.parent / "fixtures/repos/j21-review/vendored"
    assert _vendir_folders(str(root), ["upstream"]) == [
        (str(root / "upstream"), "Dynatrace/dynatrace-operator")
    ]


def test_dockerfiles_rendered_from_a_template_are_generated(
    checked: subprocess.CompletedProcess[str],
) -> None:
    """caddy-docker's Makefile renders Dockerfile.tmpl into each version's variants: those
    are skipped, naming the template; an example's own Dockerfile elsewhere is checked."""
    assert "dockerlib/2.11/alpine/Dockerfile:" not in checked.stdout
    assert (
        "skipped 1 file rendered from dockerlib/Dockerfile.tmpl by Makefile: "
        "dockerlib/2.11/alpine/Dockerfile; generated"
    ) in checked.stderr
    assert "dockerlib/examples/app/Dockerfile:3: DF003" in checked.stdout or (
        "dockerlib/examples/app/Dockerfile:2: DF003" in checked.stdout
    )


def test_a_repositorys_own_rules_folder_does_not_shadow_tightens(tmp_path: Path) -> None:
    """Prometheus keeps a Go package ``rules/`` at its root: ``python -m fixer`` run there
    put it first on the path, and the run failed loading tighten's rules."""
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "alerting.go").write_text("package rules\n")
    (tmp_path / "Dockerfile").write_text('FROM alpine:3.20\nCMD ["sleep", "1"]\n')
    out = tighten("check", ".", cwd=tmp_path)
    assert out.returncode == 1, out.stderr
    assert "cannot load rules" not in out.stderr
    assert "Dockerfile:1: DF001" in out.stdout


def test_a_pod_pinned_to_the_control_plane_keeps_the_host_network(found: Found) -> None:
    """vSphere CSI's Supervisor webhook and controller run on control-plane nodes on the
    host network: the flip is offered, withheld."""
    why = needs(found("K8S005"), "controlplane/webhook.yaml", "uses hostNetwork")
    assert "it runs only on control-plane nodes (nodeSelector node-role.kubernetes.io/" in why


def test_a_deeper_tests_folder_with_a_suite_is_test_data(
    checked: subprocess.CompletedProcess[str],
) -> None:
    """HAProxy's ingress controller keeps its e2e suite and the manifests it applies in
    deploy/tests/."""
    assert "suite/deploy/tests/config" not in checked.stdout
    assert "skipped 1 file under suite/deploy/tests/ (a test suite: its e2e/)" in checked.stderr


def test_test_data_still_counts_as_evidence(found: Found) -> None:
    """NGINX's test image copies tests/ in, whose tests/data/ scripts call curl: skipped as
    test data, they still keep curl in the image."""
    hits = [f for f in found("DF003") if f["path"] == "kic/tests/Dockerfile"]
    assert hits and "fix" not in hits[0]
    assert (
        "kic/tests/data/dos/good_clients.sh:3: a script copied into the image" in hits[0]["reason"]
    )


def test_a_script_writing_certificates_in_a_root_workdir_keeps_root(found: Found) -> None:
    """HAProxy's http-echo test server runs generate-cert.sh from its WORKDIR /app:
    ``openssl ... -keyout server.key`` writes there, and the build leaves /app to root."""
    hits = [f for f in found("DF001") if f["path"] == "echo-server/Dockerfile"]
    assert (
        hits
        and "generate-cert.sh:10 (-keyout server.key) writes in its working folder"
        in (hits[0]["fix"]["needs"])
    )


def test_a_launcher_template_keeps_its_tools(found: Found) -> None:
    """Discourse's launcher runs its pups templates' ``exec:`` steps in the base image:
    ``socat`` checks the Postgres socket there, so it stays."""
    hits = [f for f in found("DF003") if f["path"] == "pups/image/base/Dockerfile"]
    assert hits and "fix" not in hits[0]
    assert "pups/templates/postgres.template.yml:5: a launcher template" in hits[0]["reason"]
