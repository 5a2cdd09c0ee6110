"""The nineteenth session's merge review (``fixtures/repos/j20-review``, whose README names
each shape's source): renderings of a Kustomize tree checked in beside it (MetalLB's
``config/manifests/``), where a fix is kept only when every copy of the workload takes the
same edit; design proposals' manifests (Velero's ``design/``); workload variants that share
a name (Velero's ``examples/nginx-app``), each fixed on its own."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.fixture_repos import Found, copy_repo, findings, needs, shared_copy, tighten
from tests.realparts import kustomize

CONTROLLER_NATIVE = "config/manifests/metallb-native.yaml"
FRR = "config/manifests/metallb-frr.yaml"


reviewed, checked, found = shared_copy("j20-review")


def _fixed(tmp_path: Path) -> Path:
    repo = copy_repo(tmp_path, "j20-review")
    out = tighten("fix", "--offline", ".", cwd=repo)
    assert out.returncode in (0, 1), out.stderr
    return repo


def test_a_rendering_keeps_in_step_with_its_sources(tmp_path: Path) -> None:
    """The controller is the same in the source and both renderings: each takes the same
    edit, and rendering the fixed sources again gives the fixed renderings byte for byte
    (the project's "manifests are up to date" check passes)."""
    repo = _fixed(tmp_path)
    source = (repo / "config/controllers/controller.yaml").read_text()
    assert "- ALL" in source and "RuntimeDefault" in source
    for name, folder in ((CONTROLLER_NATIVE, "config/native"), (FRR, "config/frr")):
        rendered = (repo / name).read_text()
        assert "- all" not in rendered
        again = kustomize(repo, folder)
        if name == FRR:  # the remote base's object, appended as the remote render adds it
            rendered = rendered[
                : rendered.index(
                    "---\napiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: frr-k8s-daemon"
                )
            ]
        assert again == rendered


def test_a_copy_a_patch_changes_is_withheld_everywhere(found: Found) -> None:
    """The speaker's frr rendering has an init container from a Kustomize patch: an edit of
    the rendering cannot come from the sources, and one of the source alone leaves the
    renderings stale."""
    hits = found("K8S002")
    why = needs(hits, "config/controllers/speaker.yaml", "no seccompProfile")
    assert f"every copy of DaemonSet/speaker changed alike ({FRR} holds it" in why
    why = needs(hits, FRR, '"cp-frr-files": allowPrivilegeEscalation')
    assert "config/controllers/speaker.yaml holds it with other security settings" in why
    why = needs(hits, CONTROLLER_NATIVE, 'DaemonSet/speaker container "speaker": no seccomp')
    assert "every copy of DaemonSet/speaker changed alike" in why


def test_a_rendered_workload_no_source_holds_is_withheld(found: Found) -> None:
    why = needs(found("K8S002"), FRR, 'frr-k8s-daemon container "controller": no seccomp')
    assert "no source file of the repository holds it: a remote base" in why


def test_design_proposals_are_records(checked: subprocess.CompletedProcess[str]) -> None:
    out = checked
    assert "skipped 1 file under design/ (design proposals: records)" in out.stderr
    assert "design/CLI/PoC" not in out.stdout
    # A design system's application folder is source.
    assert "web/design/Dockerfile:1: DF001" in out.stdout


def test_variants_that_share_a_name_are_fixed_each_on_its_own(tmp_path: Path) -> None:
    """Both files read as a tool's output (sorted keys) but no Kustomization lists either:
    they are two examples, not a source and its rendering."""
    repo = _fixed(tmp_path)
    for name in ("base.yaml", "with-pv.yaml"):
        assert "RuntimeDefault" in (repo / "examples/nginx-app" / name).read_text()


def test_looks_rendered_reads_sorted_containers() -> None:
    from fixer.repository.rendered import looks_rendered

    rendered = "kind: A\n---\nkind: B\nspec:\n  containers:\n  - image: x\n    name: a\n"
    assert looks_rendered(rendered)
    written = "kind: A\n---\nkind: B\nspec:\n  containers:\n  - name: a\n    image: x\n"
    assert not looks_rendered(written)
    assert not looks_rendered("kind: B\nspec:\n  containers:\n  - image: x\n")  # one document


def test_fixtures_beside_unit_tests_are_test_data(
    checked: subprocess.CompletedProcess[str],
) -> None:
    """ingress2gateway's expected outputs begin with the warnings the tool prints: not YAML,
    and not the project's manifests. The run neither fails on them nor fixes the inputs."""
    out = checked
    assert out.returncode == 1, out.stderr
    assert "error" not in out.stderr
    assert (
        "skipped 2 files under pkg/convert/fixtures/ (inputs of the tests beside it: "
        "converter_test.go) (test data)"
    ) in out.stderr
    assert "pkg/convert/fixtures/input" not in out.stdout


def test_debug_images_keep_root(found: Found) -> None:
    """Parca's Tilt image: a development name with another part before ``dev``, and an
    image whose ENTRYPOINT starts the program under Delve."""
    hits = found("DF001")
    why = needs(hits, "tilt/Dockerfile.go.dev", "final stage runs as root")
    assert "its name says it is a development or debugging image (Dockerfile.go.dev)" in why
    why = needs(hits, "debug/Dockerfile", "final stage runs as root")
    assert "it starts its program under the debugger dlv" in why


def test_a_chart_rendering_is_generated_without_a_generator_script(
    checked: subprocess.CompletedProcess[str],
) -> None:
    out = checked
    assert "written by helm template from the chart install/helm/agones/" in out.stderr
    assert "install/yaml/install.yaml:" not in out.stdout


def test_a_large_rendering_a_makefile_writes_is_judged_too(tmp_path: Path) -> None:
    """Harbor Operator's renderings hold 3.9 MB of CRDs before the workloads: too large for
    the line scan, but its Makefile writes them with ``kustomize build``."""
    repo = copy_repo(tmp_path, "j20-review")
    bundle = repo / FRR
    schema = "".join(f"            field{n}:\n              type: string\n" for n in range(60_000))
    crd = (
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n"
        "  name: bgppeers.metallb.io\nspec:\n  versions:\n  - name: v1\n    schema:\n"
        "      openAPIV3Schema:\n        properties:\n" + schema + "---\n"
    )
    bundle.write_text(crd + bundle.read_text())
    assert bundle.stat().st_size > 2 * 1024 * 1024
    (repo / "Makefile").write_text(
        "manifests:\n\t$(KUSTOMIZE) build config/frr > config/manifests/metallb-frr.yaml\n"
    )
    why = needs(findings(repo, "K8S002"), FRR, '"cp-frr-files": allowPrivilegeEscalation')
    assert "config/controllers/speaker.yaml holds it with other security settings" in why


MANAGER = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: harbor-operator
spec:
  selector:
    matchLabels:
      app: harbor-operator
  template:
    metadata:
      labels:
        app: harbor-operator
    spec:
      securityContext:
        runAsUser: 65532
      containers:
      - name: manager
        image: goharbor/harbor-operator:dev
        securityContext:
          allowPrivilegeEscalation: false
"""


def test_a_source_a_makefile_renders_through_sed_into_a_chart_waits(tmp_path: Path) -> None:
    """Harbor Operator's ``make helm-generate``: ``kustomize build config/helm/deployment |
    kustomize cfg grep ... | sed ... >> charts/harbor-operator/templates/deployment.yaml``,
    checked by CI (``make generate`` then ``git diff --exit-code``). An edit of
    ``config/manager/manager.yaml`` changes that template on the next run; tighten cannot
    produce it, so the fix waits."""
    (tmp_path / "config/manager").mkdir(parents=True)
    (tmp_path / "config/helm/deployment").mkdir(parents=True)
    (tmp_path / "config/manager/manager.yaml").write_text(MANAGER)
    (tmp_path / "config/manager/kustomization.yaml").write_text("resources:\n- manager.yaml\n")
    (tmp_path / "config/helm/deployment/kustomization.yaml").write_text(
        "namePrefix: '{{ include \"chart.fullname\" . }}-'\nbases:\n- ../../manager\n"
    )
    (tmp_path / "Makefile").write_text(
        "CHART_TEMPLATE_PATH := charts/harbor-operator/templates\n\n"
        "$(CHART_TEMPLATE_PATH)/deployment.yaml:\n"
        "\t$(KUSTOMIZE) build --reorder legacy config/helm/deployment | \\\n"
        "\tsed \"s/'\\({{[^}}]*}}\\)'/\\1/g\" \\\n"
        "\t\t>> $(CHART_TEMPLATE_PATH)/deployment.yaml\n"
    )
    why = needs(findings(tmp_path, "K8S002"), "config/manager/manager.yaml", "seccomp")
    assert "the file Makefile:4 (kustomize build config/helm/deployment | ...) writes" in why


def test_derived_builds_are_the_rewritten_ones() -> None:
    from fixer.repository.generators import derived_builds

    text = (
        "a:\n\t$(KUSTOMIZE) build config/default | kubectl apply -f -\n"
        "\tkustomize build deploy/x > out.yaml\n"
        "\tkubectl kustomize config/a | sed s/a/b/ > dist/all.yaml\n"
    )
    assert derived_builds(text) == [("config/a", 4)]


def test_a_comment_saying_root_is_needed_keeps_root(found: Found) -> None:
    why = needs(found("DF001"), "examples/static-file-server/Dockerfile", "as root")
    assert 'line 6 says root is needed: "Need root user for UDS"' in why


def test_root_comments_read_their_negations() -> None:
    from rules.nonroot_judge import _DENIED, _ROOT_NEEDED

    def says(comment: str) -> bool:
        m = _ROOT_NEEDED.search(comment)
        return m is not None and not _DENIED.search(comment[: m.start()])

    assert says("Need root user for UDS") and says("must run as root")
    assert not says("Does not need root") and not says("no need to run as root")
    assert not says("needs root-owned files") and not says("we run as non-root")


def test_a_workload_with_no_containers_is_a_patch_left_alone(tmp_path: Path) -> None:
    """kube-green's optional patch exists to turn hostNetwork on: flipping it is absurd."""
    repo = copy_repo(tmp_path, "j20-review")
    patch = repo / "optional/host_network_patch.yaml"
    before = patch.read_text()
    out = tighten("fix", "--offline", ".", cwd=repo)
    assert "Deployment/controller-manager: it has no containers, so this is a part" in out.stderr
    assert patch.read_text() == before


def test_a_commented_out_security_context_is_the_readers_choice(found: Found) -> None:
    why = needs(found("K8S002"), "examples/spo/pod.yaml", "allowPrivilegeEscalation")
    assert "line 11's commented-out seccomp profile (type: Localhost, left for the" in why
    assert "duplicate key once it is uncommented" in why


def test_a_program_the_repository_runs_with_sudo_keeps_root(found: Found) -> None:
    hits = found("DF001")
    why = needs(hits, "gadget/ig.Dockerfile", "as root")
    assert "README.md:36 runs ig with sudo: the program needs root" in why
    why = needs(hits, "gadget/ig-tests.Dockerfile", "as root")
    assert "a test image: its ENTRYPOINT runs a compiled Go test suite" in why


def test_raising_a_priority_keeps_sys_nice(found: Found) -> None:
    path = "examples/priority/app-set-priority.yaml"
    why = needs(found("K8S002"), path, "capabilities are not dropped")
    assert "CAP_SYS_NICE for nice raising a priority" in why


def test_a_rendering_led_by_a_dependencys_object_is_generated(
    checked: subprocess.CompletedProcess[str],
) -> None:
    out = checked
    assert "install/yaml/with-redis.yaml:" not in out.stdout
    assert "skipped 2 files written by helm template from the chart install/helm/agones/" in (
        out.stderr
    )


def test_a_charts_tests_and_a_test_plans_folder_are_test_data(
    checked: subprocess.CompletedProcess[str],
) -> None:
    out = checked
    assert "install/helm/agones/tests/ (the chart's tests) (test data)" in out.stderr
    assert "examples/plan/test/ (resources test-plan.yaml applies) (test data)" in out.stderr
    assert "load-generator" not in out.stdout and "example-workload" not in out.stdout


def test_a_host_namespace_a_comment_explains_is_kept(found: Found) -> None:
    hits = found("K8S005")
    why = needs(hits, "network/iptracker.yaml", "kube-ip-tracker uses hostNetwork")
    assert 'line 14 says why it is set: "do not depend on the network of the cluster"' in why
    why = needs(hits, "network/iptracker.yaml", "probe uses hostNetwork")
    assert "line 32 says why it is set: \"the probe measures the node's own network" in why


def test_a_csi_node_plugin_keeps_privileged(found: Found) -> None:
    why = needs(found("K8S001"), "csi/setup-csi-snapshotter.yaml", "privileged")
    assert "it is a CSI driver's node plugin (--nodeid, --endpoint)" in why


def test_the_startup_script_image_is_a_node_agent(found: Found) -> None:
    path = "examples/raid/gke-daemonset-raid-disks.yaml"
    why = needs(found("K8S001"), path, "privileged")
    assert "runs startup-script, which runs its STARTUP_SCRIPT on the node" in why
    assert "node agent" in needs(found("K8S005"), path, "hostPID")


def test_a_manifest_beside_the_dockerfile_naming_its_image_shorter_is_evidence(
    found: Found,
) -> None:
    why = needs(found("DF001"), "examples/collection/Dockerfile", "as root")
    assert "examples/collection/deploy.yaml" in why
    assert "gadget-kube-container-collection:latest is named like" in why
