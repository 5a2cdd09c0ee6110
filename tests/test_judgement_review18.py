"""Merge review of the eighteenth session (``fixtures/repos/j18-review``, whose README names
each shape's source): a pod bound to its node's own configuration is a node agent; a pod
on the host network that adds NET_ADMIN administers the node's network; an image named
per architecture is the same program's; a build environment is known by its name or by
DKMS; a downloaded release of another project is vendored; DF001 reuses the user a copied
``/etc/passwd`` holds, and keeps root where the Dockerfile chose it after its last RUN or
copies a generated private key in for root."""

from __future__ import annotations

from pathlib import Path

from tests.fixture_repos import copy_repo, findings, needs, one, tighten

ROOT = "final stage runs as root"


def test_a_pod_mounting_the_nodes_own_configuration_is_a_node_agent(tmp_path: Path) -> None:
    """KubeEdge's cloudcore: privileged on the host network, its certificates in the
    node's /etc/kubeedge. Neither flip is proven; a pod sharing only /etc/localtime is no
    node agent."""
    repo = copy_repo(tmp_path, "j18-review")
    found = findings(repo)
    why = needs(found, "cloud/cloudcore.yaml", "is privileged")
    assert "a node agent (it mounts the node's /etc/kubeedge)" in why
    why = needs(found, "cloud/cloudcore.yaml", "uses hostNetwork")
    assert "this node agent does not need hostNetwork" in why
    clock = one(found, "cloud/clock.yaml", "uses hostNetwork")
    assert clock["fix"]["safety"] == "proven"

    from rules.workload import is_node_config

    assert is_node_config("/etc/kubeedge/certs") and is_node_config("/etc")
    assert not is_node_config("/etc/localtime") and not is_node_config("/etc/ssl/certs")
    assert not is_node_config("/var/lib/app") and not is_node_config("/etcd-data")


def test_host_network_with_net_admin_administers_the_node(tmp_path: Path) -> None:
    repo = copy_repo(tmp_path, "j18-review")
    why = needs(findings(repo, "K8S005"), "iptables/ds.yaml", "uses hostNetwork")
    assert 'container "iptables-manager" adds NET_ADMIN' in why
    assert "administers the node's own network" in why


def test_an_image_named_per_architecture_is_matched_by_its_program(tmp_path: Path) -> None:
    """``example/edgesite-agent-amd64`` runs the ``/edgesite-agent`` program of
    ``site/agent.Dockerfile``: its manifest mounts node files at /root/ca, which root
    wrote."""
    repo = copy_repo(tmp_path, "j18-review")
    why = needs(findings(repo, "DF001"), "site/agent.Dockerfile", ROOT)
    assert "site/agent.yaml:20 mounts hostPath volume ca at /root/ca" in why
    assert "example/edgesite-agent-amd64:v1.0 is named like this one" in why

    from fixer.repository.repository import RepositoryModel

    model = RepositoryModel.scan(repo.resolve())
    assert [r.container for r in model.runs_named({"edgesite-agent"})] == ["edgesite-agent"]
    assert model.runs_named({"edgesite"}) == []


def test_a_build_environment_is_known_by_its_name_or_dkms(tmp_path: Path) -> None:
    repo = copy_repo(tmp_path, "j18-review")
    found = findings(repo, "DF003")
    why = needs(found, "build-tools/build-tools.dockerfile", "wget is installed")
    assert "its name says it is a build environment (build-tools.dockerfile)" in why
    why = needs(found, "loader/Dockerfile", "curl is installed")
    assert "line 2 installs dkms: a build environment" in why

    from rules.tools.judge import _build_env_name

    assert _build_env_name(Path("a/builder/Dockerfile")) == "builder/Dockerfile"
    assert _build_env_name(Path("Dockerfile.build-image")) == "Dockerfile.build-image"
    assert _build_env_name(Path("a/build/Dockerfile")) == ""
    assert _build_env_name(Path("a/web/Dockerfile.builder")) == "Dockerfile.builder"


def test_a_downloaded_release_of_another_project_is_vendored(tmp_path: Path) -> None:
    """KubeArmor keeps cert-manager's v1.8.0 release manifest, which names its download in
    a comment: skipped, with where it came from. A file "based on" one, and a release of
    the repository itself, are checked."""
    repo = copy_repo(tmp_path, "j18-review")
    out = tighten("check", "--select", "K8S002", ".", cwd=repo)
    assert "skipped 1 file under deploy/cert-manager.yaml (a copy of another project's" in (
        out.stderr
    )
    assert "line 5 names https://github.com/cert-manager/cert-manager/releases/" in out.stderr
    assert "deploy/cert-manager.yaml:" not in out.stdout
    assert "deploy/patterned.yaml:" in out.stdout
    assert "deploy/own-release.yaml:" in out.stdout
    named = tighten("check", "--select", "K8S002", "deploy/cert-manager.yaml", cwd=repo)
    assert "deploy/cert-manager.yaml:" in named.stdout  # named by the user: checked

    from fixer.repository.sources import own_names, upstream_copy

    text = "# https://github.com/acme/tool/releases/download/v1/tool.yaml\nkind: Pod\n"
    assert upstream_copy(text, frozenset()) is not None
    assert upstream_copy(text, frozenset({"tool"})) is None
    assert upstream_copy("# Adapted from\n" + text, frozenset()) is None
    assert upstream_copy("a: 1\n" * 40 + text, frozenset()) is None  # past the head
    (repo / "go.mod").write_text("module github.com/acme/widget\n")
    assert {"j18-review", "acme", "widget"} <= own_names(repo)


def test_a_user_in_a_copied_passwd_is_reused(tmp_path: Path) -> None:
    """Emissary creates ``ambassador`` (8888, group root) in its factory stage and copies
    ``/etc/passwd`` into the distroless final stage: USER 8888:0, not distroless' 65532."""
    repo = copy_repo(tmp_path, "j18-review")
    tighten("fix", "--offline", "--select", "DF001", "passwd/Dockerfile", cwd=repo)
    text = (repo / "passwd/Dockerfile").read_text()
    assert text.endswith('COPY app /app\nUSER 8888:0\nENTRYPOINT ["/app"]\n')


def test_root_chosen_after_the_last_run_is_kept(tmp_path: Path) -> None:
    """``USER 0:0`` after the last RUN is for the command; ``USER root`` before a RUN that
    installs is left on, and still fixed."""
    repo = copy_repo(tmp_path, "j18-review")
    found = findings(repo, "DF001")
    why = needs(found, "katclient/Dockerfile", ROOT)
    assert "line 4 sets `USER 0:0` after the last RUN" in why
    assert one(found, "rootrun/Dockerfile", ROOT)["fix"]["safety"] == "proven"


def test_a_generated_private_key_copied_for_root_keeps_root(tmp_path: Path) -> None:
    repo = copy_repo(tmp_path, "j18-review")
    why = needs(findings(repo, "DF001"), "katserver/Dockerfile", ROOT)
    assert "line 8 copies /certs/server.key out of stage step-cli without --chown" in why
