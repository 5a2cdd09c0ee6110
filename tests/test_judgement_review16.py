"""Merge review of the sixteenth session: a manifest ``helm template`` rendered from a chart
of the same repository is generated, whatever script assembled it (trivy-operator's
``deploy/static/trivy-operator.yaml``); a rendering of a chart the repository does not hold
is still checked and fixed."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixture_repos import copy_repo, findings, needs, one, tighten

RENDERED = "operator/deploy/static/demo-operator.yaml"


def test_a_rendering_of_the_repositorys_own_chart_is_generated(tmp_path: Path) -> None:
    repo = copy_repo(tmp_path, "j16-review")
    out = tighten("check", ".", cwd=repo)
    assert (
        "skipped 1 file written by helm template from the chart operator/deploy/helm/ "
        f"(its # Source: comments name the chart's templates): {RENDERED}; generated"
    ) in out.stderr
    found = findings(repo, "K8S002")
    assert not [f for f in found if f["path"] == RENDERED]
    diff = tighten("fix", "--dry-run", "--offline", ".", cwd=repo).stdout
    assert RENDERED not in diff
    opted = tighten("check", "--include-generated", "--format", "json", ".", cwd=repo)
    assert RENDERED in opted.stdout


def test_renderings_the_repository_cannot_regenerate_are_checked(tmp_path: Path) -> None:
    """An upstream chart's rendering, and one naming a template the chart no longer has."""
    repo = copy_repo(tmp_path, "j16-review")
    found = findings(repo, "K8S002")
    paths = {f["path"] for f in found}
    assert {"upstream/ingress.yaml", "operator/deploy/static/stale.yaml"} <= paths
    diff = tighten("fix", "--dry-run", "--offline", ".", cwd=repo).stdout
    assert "+++ b/upstream/ingress.yaml" in diff


def test_the_notice_names_the_generated_files() -> None:
    from fixer.output.skipped import _named

    assert _named(["a.yaml"]) == "a.yaml"
    assert _named([f"{n}.yaml" for n in "abcde"]) == "a.yaml, b.yaml, c.yaml and 2 more"


def test_a_subcharts_source_comment_names_its_template_inside_the_chart() -> None:
    from fixer.repository.index import _HELM_SOURCE

    found = _HELM_SOURCE.search("---\n# Source: app/charts/redis/templates/master.yaml\nkind: X")
    assert found is not None
    assert found.groups() == ("app", "charts/redis/templates/master.yaml")
    assert _HELM_SOURCE.search("# Source: https://example.com/app.yaml\n") is None


def test_the_user_an_image_gets_is_the_one_its_helm_chart_runs_it_as(tmp_path: Path) -> None:
    repo = copy_repo(tmp_path, "j16-review")
    found = findings(repo, "DF001")
    fix = one(found, "agent/image/Dockerfile", "runs as root")["fix"]
    assert fix["title"] == "run the final stage as 65532:65532 (the uid its Helm chart runs it as)"
    assert (
        "the Helm chart's agent/chart/values.yaml:7 "
        "(agent.containerSecurityContext.runAsUser) runs it as uid 65532"
    ) in fix["evidence"]
    diff = tighten("fix", "--dry-run", "--offline", ".", cwd=repo).stdout
    assert "/usr/bin/demo-agent\n+USER 65532:65532\n ENTRYPOINT" in diff


def test_charts_that_disagree_on_the_user_give_no_answer(tmp_path: Path) -> None:
    repo = copy_repo(tmp_path, "j16-review")
    other = repo / "agent" / "chart2"
    other.mkdir()
    (other / "Chart.yaml").write_text("apiVersion: v2\nname: other\nversion: 1.0.0\n")
    (other / "values.yaml").write_text(
        "image:\n  repository: example/demo-agent\nsecurityContext:\n  runAsUser: 1000\n"
    )
    fix = one(findings(repo, "DF001"), "agent/image/Dockerfile", "runs as root")["fix"]
    assert fix["title"] == "run the final stage as 10001:10001"


def test_a_kustomize_run_through_a_make_variable_renders_the_manifest(tmp_path: Path) -> None:
    """KubeRay's ``make install-secure``: ``$(KUSTOMIZE) build deploy/local/secure | kubectl
    create -f -`` from ``apiserver/Makefile`` renders the overlay over ``base/secure``,
    whose Deployment held ``SECURITY_TOKEN``: a git-ignored Secret would be missing there."""
    from rules import secret_published

    root = tmp_path / "repo"
    (root / "apiserver").mkdir(parents=True)
    (root / "apiserver" / "Makefile").write_text(
        "KUSTOMIZE ?= $(LOCALBIN)/kustomize\n"
        "install-secure:\n"
        "\t$(KUSTOMIZE) build deploy/local/secure | kubectl create -f -\n"
        "other:\n\t${KUBECTL} apply -k deploy/other\n"
    )
    secret_published._sources.cache_clear()
    secret_published._kustomize_index.cache_clear()
    secret_published._kustomize_targets.cache_clear()
    secure = root / "apiserver" / "deploy" / "local" / "secure"
    other = root / "apiserver" / "deploy" / "other"
    assert secret_published.kustomize_applied(root, [secure]) == "apiserver/Makefile:3"
    assert secret_published.kustomize_applied(root, [other]) == "apiserver/Makefile:5"


def test_files_given_to_group_zero_keep_the_new_user_in_group_zero(tmp_path: Path) -> None:
    repo = copy_repo(tmp_path, "j16-review")
    found = findings(repo, "DF001")
    debian = one(found, "groupzero/debian/Dockerfile", "runs as root")["fix"]
    assert (
        debian["title"] == "run the final stage as 10001:0 (group 0, which line 7 gives the files)"
    )
    assert (
        "line 7 gives files to group 0 with group write (any uid in group 0 may write)"
        in debian["evidence"]
    )
    alpine = one(found, "groupzero/alpine/Dockerfile", "runs as root")["fix"]
    assert alpine["title"].startswith("run the final stage as 10001:0")
    readonly = one(found, "groupzero/readonly/Dockerfile", "runs as root")["fix"]
    assert readonly["title"] == "run the final stage as 10001:10001"
    diff = tighten("fix", "--dry-run", "--offline", "groupzero", cwd=repo).stdout
    assert (
        "+RUN useradd --no-log-init --create-home --uid 10001 --gid 0 --shell /usr/sbin/nologin"
        " appuser\n+USER 10001:0\n"
    ) in diff
    assert "+RUN adduser -S -D -u 10001 -G root -s /sbin/nologin appuser\n+USER 10001:0\n" in diff


@pytest.mark.parametrize(
    ("run", "given"),
    [
        ("chgrp -R 0 /app && chmod -R g+rwX /app", True),
        ("chgrp root /app; chmod g=u /app", True),
        ("chown -R 1001:0 /app && chmod 775 /app", True),
        ("chown -R 1001:root /app && chmod -R ug+rw /app", True),
        ("chgrp -R 0 /app && chmod -R a+rwX /app", True),
        ("chgrp -R 0 /app && chmod -R 755 /app", False),  # the group cannot write
        ("chgrp -R 0 /app && chmod -R u+w,o+r /app", False),
        ("chgrp -R 1000 /app && chmod -R g+rwX /app", False),  # another group
        ("chmod -R g+rwX /app", False),
    ],
)
def test_root_group_preparation_is_read_from_the_run(run: str, given: bool) -> None:
    from fixer.documents import dockerfile
    from fixer.documents.text import SourceText
    from rules.nonroot import root_group_line

    doc = dockerfile.parse(SourceText(f'FROM alpine:3.20\nRUN {run}\nCMD ["/app/x"]\n'))
    chain = [doc.stages[-1]]
    assert (root_group_line(chain) == 2) is given


def test_a_script_writing_in_a_relative_workdir_keeps_root(tmp_path: Path) -> None:
    repo = copy_repo(tmp_path, "j16-review")
    why = needs(findings(repo, "DF001"), "initializer/Dockerfile", "runs as root")
    assert (
        "initializer/entrypoint.sh:4 (feast init driver_feature_repo) writes in its working "
        "folder /feature_store_initializer"
    ) in why


def test_an_annotation_saying_why_a_pod_is_privileged_keeps_it(tmp_path: Path) -> None:
    repo = copy_repo(tmp_path, "j16-review")
    privileged = findings(repo, "K8S001")
    opcua = one(privileged, "ics/opcua.yaml", 'Deployment/opcua-server container "opcua-server"')
    assert opcua["fix"]["safety"] == "unproven"
    assert (
        'the annotation kubescape.io/control-C-0057: "privileged mode required by vendor COM '
        'bridge" says it is needed'
    ) in opcua["fix"]["needs"]
    host = one(findings(repo, "K8S005"), "ics/opcua.yaml", "Deployment/opcua-server uses hostPID")
    assert "kubescape.io/control-C-0038" in host["fix"]["needs"]
    diff = tighten("fix", "--dry-run", "--offline", "ics/opcua.yaml", cwd=repo).stdout
    assert "-      hostPID: true                    # C-0038" not in diff
    assert "privileged: false           # C-0057" not in diff
    # Naming the setting without a need for it is no reason: the other Deployment is fixed.
    assert "-      hostPID: true\n+      hostPID: false\n" in diff


@pytest.mark.parametrize(
    ("body", "workdir"),
    [
        ("WORKDIR a\n", "/a"),
        ("WORKDIR /x\nWORKDIR a\n", "/x/a"),
        ("WORKDIR $D\nWORKDIR a\n", None),  # relative to a folder a variable decides
        ("WORKDIR $D\nWORKDIR /b\nWORKDIR c\n", "/b/c"),
        ("", None),
    ],
)
def test_the_final_workdir_is_joined_in_build_order(body: str, workdir: str | None) -> None:
    from fixer.documents import dockerfile
    from fixer.documents.text import SourceText
    from rules.nonroot_judge import _workdir

    doc = dockerfile.parse(SourceText(f'FROM alpine:3.20\n{body}CMD ["x"]\n'))
    assert _workdir([doc.stages[-1]]) == workdir
