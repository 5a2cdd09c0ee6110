"""The eighteenth session's second merge review (``fixtures/repos/j19-review``, whose
README names each shape's source): builds a workflow matrix states through a local
action, containers nested in a runtime's ``replicatedJobs`` and the claims its
``volumeClaimPolicies`` make, unit-test inputs under ``test_files/``, GitHub Docker
actions, ONBUILD images, scratch images nothing runs, and FROM lines whose tag names an
argument with no default."""

from __future__ import annotations

from pathlib import Path

from tests.fixture_repos import copy_repo, findings, needs, tighten

ROOT = "final stage runs as root"


def test_a_matrix_build_through_a_local_action_links_the_dockerfile(tmp_path: Path) -> None:
    repo = copy_repo(tmp_path, "j19-review")
    from fixer.repository.repository import RepositoryModel

    model = RepositoryModel.scan(repo.resolve())
    [build] = model.build_of(repo.resolve() / "cmd/initializer/Dockerfile")
    assert build.images == ("ghcr.io/example/initializer",)
    assert (build.origin.path.name, build.origin.line) == ("images.yaml", 15)
    [onbuild] = model.build_of(repo.resolve() / "onbuild/Dockerfile")
    assert onbuild.images == ("ghcr.io/example/onbuild",)


def test_a_matrix_expands_include_entries_and_combinations() -> None:
    from fixer.documents import yaml as y
    from fixer.repository.links import _matrix

    [doc] = y.compose_all("include:\n  - a: x\n    b: y\n  - a: z\n")
    assert _matrix(doc) == [{"a": "x", "b": "y"}, {"a": "z"}]
    [doc] = y.compose_all("os: [linux, darwin]\narch: [amd64, arm64]\nexclude: []\n")
    assert len(_matrix(doc)) == 4
    assert _matrix(None) == [{}]


def test_a_runtime_nested_container_on_a_claim_keeps_root(tmp_path: Path) -> None:
    """Kubeflow Trainer's initializers download into the runtime's claim as root."""
    repo = copy_repo(tmp_path, "j19-review")
    why = needs(findings(repo, "DF001"), "cmd/initializer/Dockerfile", ROOT)
    assert "manifests/runtime.yaml:27 mounts volumeClaimTemplate (no fsGroup) volume" in why
    assert 'ClusterTrainingRuntime/example-runtime container "dataset-initializer"' in why


def test_nested_containers_are_evidence_only(tmp_path: Path) -> None:
    """No K8S rule rewrites a runtime's nested pod template: only the evidence sees it."""
    repo = copy_repo(tmp_path, "j19-review")
    assert not [f for f in findings(repo, "K8S002") if f["path"] == "manifests/runtime.yaml"]

    from fixer.documents.text import SourceText
    from fixer.documents.yaml import kube
    from fixer.documents.yaml.nodes import parse

    doc = parse(SourceText((repo / "manifests/runtime.yaml").read_text()))
    assert list(kube.all_containers(doc)) == []
    [nested] = kube.evidence_containers(doc)
    assert nested.name == "dataset-initializer"
    assert nested.pod.path[-4:] == ("template", "spec", "template", "spec")


def test_unit_test_inputs_under_test_files_are_test_data(tmp_path: Path) -> None:
    repo = copy_repo(tmp_path, "j19-review")
    out = tighten("check", "--select", "K8S002", ".", cwd=repo)
    assert "pkg/kube/test_files/" in out.stderr and "(test data)" in out.stderr
    assert "test_files/test_1/deployment.yaml:" not in out.stdout


def test_a_github_docker_action_keeps_root(tmp_path: Path) -> None:
    repo = copy_repo(tmp_path, "j19-review")
    why = needs(findings(repo, "DF001"), ".github/actions/setup/Dockerfile", ROOT)
    assert "action.yaml:6 runs it as a GitHub Docker action" in why


def test_an_onbuild_image_keeps_root_and_its_tools(tmp_path: Path) -> None:
    repo = copy_repo(tmp_path, "j19-review")
    why = needs(findings(repo, "DF001"), "onbuild/Dockerfile", ROOT)
    assert "line 5 ONBUILD RUN runs in every build FROM this image" in why
    why = needs(findings(repo, "DF003"), "onbuild/Dockerfile", "curl is installed")
    assert "line 4 ONBUILD COPY: a base for builds FROM it" in why


def test_a_scratch_image_nothing_runs_is_not_given_a_user(tmp_path: Path) -> None:
    repo = copy_repo(tmp_path, "j19-review")
    why = needs(findings(repo, "DF001"), "holder/Dockerfile", ROOT)
    assert "FROM scratch with no ENTRYPOINT or CMD and nothing in the repository runs it" in why


def test_a_from_whose_tag_argument_has_no_default_still_links(tmp_path: Path) -> None:
    repo = copy_repo(tmp_path, "j19-review")
    why = needs(findings(repo, "DF001"), "processor/Dockerfile", ROOT)
    assert "the repository only copies files out of it (consumer/Dockerfile:4" in why

    from fixer.repository.froms import _expanded

    assert _expanded("${R}/p:${T}", {"R": "quay.io/x"}) == "quay.io/x/p@"
    assert _expanded("${R}/p:${T}", {}) == ""
    assert _expanded("${R}/p", {}) == ""
    assert _expanded("a/p:${T}", {"T": "1"}) == "a/p:1"


def test_github_repository_in_a_workflow_tag_names_the_image(tmp_path: Path) -> None:
    """Multus: ``ghcr.io/${{ github.repository }}:stable-thick``, the repository named by
    its Go module here (by its ``origin`` remote in a clone)."""
    repo = copy_repo(tmp_path, "j19-review")
    from fixer.repository.repository import RepositoryModel
    from fixer.repository.sources import github_slug

    model = RepositoryModel.scan(repo.resolve())
    [build] = model.build_of(repo.resolve() / "daemon/Dockerfile")
    assert build.images == ("ghcr.io/example/j19-review",)
    (repo / ".git").mkdir()
    (repo / ".git/config").write_text('[remote "origin"]\n\turl = git@github.com:acme/widget.git\n')
    github_slug.cache_clear()
    assert github_slug(repo.resolve()) == "acme/widget"
    github_slug.cache_clear()


def test_files_copied_into_roots_home_keep_root(tmp_path: Path) -> None:
    repo = copy_repo(tmp_path, "j19-review")
    why = needs(findings(repo, "DF001"), "cluster/Dockerfile", ROOT)
    assert "line 6 copies files into /root/.kwok/cache, in root's home" in why


def test_an_image_set_up_for_sessions_keeps_its_tools(tmp_path: Path) -> None:
    repo = copy_repo(tmp_path, "j19-review")
    why = needs(findings(repo, "DF003"), "router/Dockerfile", "curl is installed")
    assert "line 4 copies .bashrc: the image is set up for people who work in it" in why


def test_a_compose_service_running_the_image_privileged_keeps_root(tmp_path: Path) -> None:
    repo = copy_repo(tmp_path, "j19-review")
    why = needs(findings(repo, "DF001"), "exporter/Dockerfile", ROOT)
    assert "exporter/compose.yaml:6 runs it privileged" in why
    assert 'compose service "exporter"' in why


def test_a_tag_with_an_unknown_registry_keeps_its_last_name(tmp_path: Path) -> None:
    repo = copy_repo(tmp_path, "j19-review")
    why = needs(findings(repo, "DF003"), "e2e-tests/Dockerfile", "netcat-openbsd is installed")
    assert "builds it as a test image (example-e2e)" in why

    from fixer.repository.builds import _last_name

    assert _last_name("${IMAGE_ORG}/lvm-localpv-e2e:ci") == "lvm-localpv-e2e"
    assert _last_name("$(REGISTRY)/App@sha256:abc") == "app"
    assert _last_name("${{ env.NAME }}") == ""
    assert _last_name("${ORG}/${NAME}:1") == ""


def test_a_folder_deleted_and_downloaded_again_is_skipped(tmp_path: Path) -> None:
    repo = copy_repo(tmp_path, "j19-review")
    out = tighten("check", "--select", "K8S002", ".", cwd=repo)
    assert "written by hack/update-cluster-up.sh:6 (deleted and downloaded again)" in out.stderr
    assert "cluster-up/manifests/ds.yaml:" not in out.stdout

    from fixer.repository.generators import outputs

    text = "D=build\nrm -rf $D/gen\ncp -r other gen\n"
    assert outputs(text) == []  # a copy of other files, not a download


def test_a_kustomize_build_with_helm_is_generated(tmp_path: Path) -> None:
    repo = copy_repo(tmp_path, "j19-review")
    out = tighten("check", "--select", "K8S002", ".", cwd=repo)
    assert "written by devbox/Makefile:4 (kustomize build): devbox/manifests/complete.yaml" in (
        out.stderr
    )
    assert "devbox/manifests/complete.yaml:" not in out.stdout


def test_a_folder_compared_with_a_fresh_generation_is_generated(tmp_path: Path) -> None:
    repo = copy_repo(tmp_path, "j19-review")
    out = tighten("check", "--select", "K8S002", ".", cwd=repo)
    assert "written by operator/Makefile:12 (compared with a fresh generation)" in out.stderr
    assert "operator/rendered/operator.yaml:" not in out.stdout
    assert "operator/examples/sample.yaml:" in out.stdout  # versions set in a copy only

    from fixer.repository.generators import verified

    lines = [
        (1, "\tmkdir -p $(tmp)"),
        (2, '\t./hack/build-csi.sh "$(tmp)/common/csi"'),
        (3, "\t$(diff) -r '$(tmp)'/ ./examples"),
    ]
    assert [o.pattern for o in verified(lines)] == ["examples/common/csi/*"]
