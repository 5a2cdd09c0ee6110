"""Merge review of the seventeenth session (``fixtures/repos/j17-review``, whose README
names each shape's source): what the repository shows about how an image runs withholds
DF001 (a kubebuilder ``kustomize edit set image`` rename, a runtime socket bound in by a
compose file, a node folder read by a DaemonSet, a chart's ``runAsUser: 0``, a commented
``USER``, an ENV into ``/root``, a language image with no command of its own), and a
commented-out block that holds more than tighten inserts is left whole."""

from __future__ import annotations

from pathlib import Path

from tests.fixture_repos import copy_repo, findings, needs, one, tighten

ROOT = "final stage runs as root"


def test_a_commented_block_holding_more_is_not_half_uncommented(tmp_path: Path) -> None:
    repo = copy_repo(tmp_path, "j17-review")
    args = ("fix", "--offline", "--select", "K8S002", "demo/templates/frontend.yaml")
    tighten(*args, cwd=repo)
    text = (repo / "demo/templates/frontend.yaml").read_text()
    assert text.endswith(
        "            - containerPort: 3000\n"
        "          securityContext:\n"
        "            allowPrivilegeEscalation: false\n"
        "          # Added for debugging purposes - NOT RECOMMENDED\n"
        "          # securityContext:\n"
        "          #   allowPrivilegeEscalation: false\n"
        "          #   runAsUser: 0\n"
        "      securityContext:\n"
        "        seccompProfile:\n"
        "          type: RuntimeDefault\n"
    )


def test_a_commented_block_that_is_exactly_the_new_lines_is_uncommented() -> None:
    from fixer.documents.yaml.edit import _commented_out

    text = "a: 1\n# seccompProfile:\n#   type: RuntimeDefault\nb: 2\n"
    lines = ["seccompProfile:", "  type: RuntimeDefault"]
    edit = _commented_out(text, 5, lines, 0)
    assert edit is not None
    longer = "a: 1\n# seccompProfile:\n#   type: RuntimeDefault\n#   extra: 1\nb: 2\n"
    assert _commented_out(longer, 5, lines, 0) is None
    # A sibling commented below (same depth as the block's key) is not part of it.
    sibling = "a: 1\n# seccompProfile:\n#   type: RuntimeDefault\n# other: 1\nb: 2\n"
    assert _commented_out(sibling, 5, lines, 0) is not None


def test_a_language_image_with_no_command_of_its_own_is_run_with_another(
    tmp_path: Path,
) -> None:
    repo = copy_repo(tmp_path, "j17-review")
    found = findings(repo, "DF001")
    why = needs(found, "tester/Dockerfile", ROOT)
    assert "it defines no ENTRYPOINT or CMD, so it keeps python:3.13's own" in why


def test_a_kustomize_edit_set_image_links_the_placeholder_to_the_build(tmp_path: Path) -> None:
    """The DaemonSet running the same image as root (host network, the node's /var/run)
    withholds the USER the manager's ``runAsUser: 65534`` would have given."""
    repo = copy_repo(tmp_path, "j17-review")
    found = findings(repo, "DF001")
    why = needs(found, "operator/Dockerfile", ROOT)
    assert "operator/config/manager/manager.yaml:39 runs it with hostNetwork as a node" in why
    assert 'DaemonSet/daemon container "daemon"' in why

    from fixer.repository.repository import RepositoryModel

    model = RepositoryModel.scan(repo.resolve())
    runs = model.runs_of("example/kruise-manager:test")
    assert sorted(r.container for r in runs) == ["daemon", "manager"]
    assert {(r.via.path.name, r.via.line) for r in runs if r.via} == {("Makefile", 8)}
    build = model.builds_for("controller:latest")
    assert [b.dockerfile.name for b in build] == ["Dockerfile"]


def test_image_sets_are_read_from_make_recipes_and_scripts() -> None:
    from fixer.repository.commands import image_sets_in_makefile, image_sets_in_script

    make = (
        "IMG ?= org/manager:v1\n"
        "deploy:\n"
        "\tcd config/manager && $(KUSTOMIZE) edit set image controller=${IMG}\n"
    )
    [found] = image_sets_in_makefile(make)
    assert (found.line, found.folder, found.name, found.new_name) == (
        3,
        "config/manager",
        "controller",
        "org/manager:v1",
    )
    script = "kustomize edit set image a=org/a:1 b=org/b:2\n"
    assert [(s.name, s.new_name) for s in image_sets_in_script(script)] == [
        ("a", "org/a:1"),
        ("b", "org/b:2"),
    ]
    # ``kubectl set image`` changes a live Deployment, not a Kustomization.
    assert image_sets_in_script("kubectl set image deploy/x x=org/x:2\n") == []


def test_a_runtime_socket_bound_in_by_compose_withholds(tmp_path: Path) -> None:
    """The development guide's ``username/repo`` names nothing: the agent is matched by
    its program's name, as an image nothing names is."""
    repo = copy_repo(tmp_path, "j17-review")
    found = findings(repo, "DF001")
    why = needs(found, "ci/docker/Dockerfile.agent", ROOT)
    assert (
        "ci/docker-compose.example.yaml:5 binds /var/run/docker.sock into it, the container "
        "runtime's socket, which only root (or the docker group) may use"
    ) in why
    assert 'compose service "ci-agent"' in why


def test_placeholder_image_names_say_nothing() -> None:
    from fixer.repository.model import Build, LinkKind, Origin
    from fixer.repository.usage import likely_names

    dockerfile = Path("/r/docker/Dockerfile.agent")
    origin = Origin(Path("/r/GUIDE.md"), 4, LinkKind.SCRIPT)
    placeholder = Build(dockerfile, Path("/r"), ("username/repo",), origin)
    assert likely_names(placeholder, "/bin/ci-agent", Path("/r")) == ("ci-agent", "agent")
    named = Build(dockerfile, Path("/r"), ("example/ci-agent",), origin)
    assert likely_names(named, "/bin/other", Path("/r")) == ("ci-agent",)


def test_a_commented_user_and_an_env_into_root_withhold(tmp_path: Path) -> None:
    repo = copy_repo(tmp_path, "j17-review")
    found = findings(repo, "DF001")
    why = needs(found, "runtime/Dockerfile", ROOT)
    assert "line 7 comments out `USER nonroot`: its authors turned a non-root user off" in why
    why = needs(found, "runtime/cli/Dockerfile", ROOT)
    assert why.startswith(
        "the setting pointed out of /root (ENV KUBECONFIG=/root/.kube/config at line 3 "
        "points into root's home"
    )
    # An optional step of a template ("Uncomment the next lines ...") is no decision.
    optional = one(found, "runtime/optional/Dockerfile", ROOT)["fix"]
    assert optional["safety"] == "proven", optional


def test_a_charts_run_as_root_and_a_node_folder_read_withhold(tmp_path: Path) -> None:
    repo = copy_repo(tmp_path, "j17-review")
    found = findings(repo, "DF001")
    why = needs(found, "control/Dockerfile", ROOT)
    assert (
        "the Helm chart's control/chart/values.yaml:11 (controlPlane.statefulSet.security."
        "containerSecurityContext.runAsUser) runs it as root"
    ) in why
    why = needs(found, "audit/Dockerfile", ROOT)
    assert (
        "audit/daemonset.yaml:20 mounts the node's /var/log/kubernetes to read it: the "
        "node's files, which root owns"
    ) in why


def test_the_env_pattern_reads_both_env_forms() -> None:
    from rules.nonroot_judge import _ROOT_ENV

    def found(text: str) -> tuple[str, str] | None:
        m = _ROOT_ENV.search(text)
        return (m.group(1), m.group(2)) if m else None

    assert found("KUBECONFIG=/root/.kube/config") == ("KUBECONFIG", "/root/.kube/config")
    assert found("A=1 HOME=/root") == ("HOME", "/root")
    assert found("KUBECONFIG /root/.kube/config") == ("KUBECONFIG", "/root/.kube/config")
    assert found('GOPATH="/root/go"') == ("GOPATH", "/root/go")
    assert found("X=/rootfs/a") is None
    assert found("PATH=/usr/bin:/root/bin") is None


def test_an_image_whose_entrypoint_runs_make_keeps_its_network_tools(tmp_path: Path) -> None:
    repo = copy_repo(tmp_path, "j17-review")
    found = findings(repo, "DF003")
    why = needs(found, "builder/Dockerfile", "curl is installed")
    assert "its entrypoint builder/build.sh runs make: a build environment" in why


def test_a_manifest_its_comment_calls_a_development_setup_keeps_its_secret(
    tmp_path: Path,
) -> None:
    repo = copy_repo(tmp_path, "j17-review")
    found = findings(repo, "K8S004")
    why = needs(found, "resources/minio.yaml", "MINIO_IDENTITY_OPENID_CLIENT_SECRET")
    assert 'its comment at line 1 says it is "applied locally", a development setup' in why
    diff = tighten("fix", "--dry-run", "--offline", "resources/minio.yaml", cwd=repo).stdout
    assert "secretKeyRef" not in diff


def test_an_image_whose_command_only_prints_is_run_with_another(tmp_path: Path) -> None:
    repo = copy_repo(tmp_path, "j17-review")
    found = findings(repo, "DF001")
    why = needs(found, "carrier/Dockerfile", ROOT)
    assert "its command only prints (cat Just delivering the Opentelemetry" in why


def test_a_folder_holding_another_projects_root_is_vendored(tmp_path: Path) -> None:
    repo = copy_repo(tmp_path, "j17-review")
    out = tighten("fix", "--dry-run", "--offline", ".", cwd=repo)
    assert (
        "skipped 2 files under lib/cmetrics/ (a copy of another project: its own LICENSE and "
        ".github/) (vendored)"
    ) in out.stderr
    assert "lib/cmetrics" not in out.stdout
    # Named on the command line with --include-generated, it is checked.
    named = tighten("check", "--include-generated", "lib/cmetrics/dockerfiles/", cwd=repo)
    assert "DF003" in named.stdout


def test_privileged_with_net_admin_alone_keeps_privileged(tmp_path: Path) -> None:
    repo = copy_repo(tmp_path, "j17-review")
    found = findings(repo, "K8S001")
    why = needs(found, "netinit/pod.yaml", "is privileged")
    assert "adds NET_ADMIN alone" in why and "iptables also needs NET_RAW" in why


def test_an_nfs_server_keeps_privileged(tmp_path: Path) -> None:
    repo = copy_repo(tmp_path, "j17-review")
    found = findings(repo, "K8S001")
    why = needs(found, "nfs/nfs-server.yaml", "is privileged")
    assert "its image is nfs-server-alpine, an NFS server" in why


def test_a_network_plugins_repository_keeps_its_pods_on_the_host_network(
    tmp_path: Path,
) -> None:
    repo = copy_repo(tmp_path, "j17-cni")
    found = findings(repo, "K8S005")
    why = needs(found, "manifests/calicoctl.yaml", "uses hostNetwork")
    assert (
        "the repository ships a network plugin (manifests/calico-node.yaml:22 uses the "
        "node's /etc/cni/net.d)"
    ) in why


def test_a_stage_copied_whole_into_scratch_ships_what_it_installs(tmp_path: Path) -> None:
    repo = copy_repo(tmp_path, "j17-cni")
    found = findings(repo, "DF001")
    why = needs(found, "felix/Dockerfile", ROOT)
    assert "line 2 installs iptables, which administers the node's" in why
    why = needs(found, "node/Dockerfile", ROOT)
    assert "runs start_runit, an init system" in why


def test_release_copies_versioned_with_underscores_are_skipped(tmp_path: Path) -> None:
    repo = copy_repo(tmp_path, "j17-review")
    out = tighten("fix", "--dry-run", "--offline", ".", cwd=repo)
    assert (
        "skipped 2 files under docs/install/ (release copies: files named after their versions)"
    ) in out.stderr
    from fixer.discover import _release_copies

    assert _release_copies(["install_v2_0_0_rc0.yaml", "install_v2_0_0_rc1.yaml"]) == {
        "install_v2_0_0_rc0.yaml",
        "install_v2_0_0_rc1.yaml",
    }
    assert _release_copies(["pod_1_2.yaml", "pod_1_3.yaml"]) == set()


def test_copies_found_only_from_the_root_make_the_root_the_context(tmp_path: Path) -> None:
    repo = copy_repo(tmp_path, "j17-review")
    found = findings(repo, "DF003")
    curl = one(found, "backend/src/cache/deployer/Dockerfile", "curl is installed")
    assert not curl["fixable"], curl
    assert curl["reason"] == (
        "backend/src/cache/deployer/deploy-cache-service.sh:3: the entrypoint script calls curl"
    )


def test_a_dockerfiles_own_name_names_its_image(tmp_path: Path) -> None:
    """And a deeper ``integration/`` folder holds test resources, still read as evidence."""
    repo = copy_repo(tmp_path, "j17-review")
    found = findings(repo, "DF001")
    why = needs(found, "mesh/Dockerfile-cni-plugin", ROOT)
    assert "mesh/integration/manifests/linkerd-cni.yaml" in why
    assert "its image test.l5d.io/linkerd/cni-plugin:test is named like this one" in why
    out = tighten("check", ".", cwd=repo)
    assert "skipped 1 file under mesh/integration/ (test data)" in out.stderr


def test_a_documentation_excerpt_is_skipped_with_a_notice(tmp_path: Path) -> None:
    repo = copy_repo(tmp_path, "j17-review")
    out = tighten("check", "docs/snippets/connect-deployment.yaml", cwd=repo)
    assert out.returncode == 0, out.stderr
    assert (
        "notice: docs/snippets/connect-deployment.yaml: skipped: looks like an excerpt (its "
        "'...' lines stand for text left out), not a manifest"
    ) in out.stderr
