"""The repository model over small real-looking repositories under fixtures/repos/.

``goapp``: a Go service whose ``build/Dockerfile`` is built with context ``.`` by a Makefile,
a script and a GitHub workflow; Kustomize base + prod overlay (rename, patches); a CronJob
calling curl; testdata/, vendor/ and a generated manifest. ``services``: compose, skaffold,
Tiltfile, GitLab CI, plain manifests, a Dockerfile nothing links, tests/fixtures/.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from fixer.repository import (
    Build,
    LinkKind,
    RepositoryModel,
    SourceKind,
)
from fixer.repository.commands import in_makefile, in_script
from fixer.repository.names import image_key, image_name
from fixer.repository.sources import generated_marker

REPOS = Path(__file__).resolve().parent.parent / "fixtures" / "repos"


@pytest.fixture(scope="module")
def goapp() -> RepositoryModel:
    return RepositoryModel.scan(REPOS / "goapp")


@pytest.fixture(scope="module")
def services() -> RepositoryModel:
    return RepositoryModel.scan(REPOS / "services")


def _rel(model: RepositoryModel, path: Path | None) -> str | None:
    return None if path is None else path.relative_to(model.root).as_posix()


def _links(model: RepositoryModel, builds: list[Build]) -> set[tuple[str | None, ...]]:
    """(dockerfile, context, kind, origin file:line, target) per build, relative paths."""
    return {
        (
            _rel(model, b.dockerfile),
            _rel(model, b.context) if b.context != model.root else ".",
            b.origin.kind.value,
            f"{_rel(model, b.origin.path)}:{b.origin.line}",
            b.target,
        )
        for b in builds
    }


# --- builds ---------------------------------------------------------------------------------


def test_makefile_workflow_and_script_link_build_dockerfile_with_root_context(
    goapp: RepositoryModel,
) -> None:
    builds = goapp.build_of(Path("build/Dockerfile"))
    assert _links(goapp, builds) == {
        ("build/Dockerfile", ".", "make", "Makefile:8", None),
        ("build/Dockerfile", ".", "workflow", ".github/workflows/release.yml:13", None),
        ("build/Dockerfile", ".", "workflow", ".github/workflows/release.yml:41", None),
        ("build/Dockerfile", ".", "script", "hack/build-debug.sh:6", "builder"),
    }
    images = {b.origin.kind: b.images for b in builds if b.origin.line != 41}
    # `$(IMG):$(TAG)`: IMG ?= resolved, the `$(shell ...)` tag does not matter.
    assert images[LinkKind.MAKE] == ("ghcr.io/acme/goapp",)
    # `${{ env.MIRROR }}` comes from the workflow's env; `${{ vars.EXTRA_IMAGE }}` is unknown.
    assert images[LinkKind.WORKFLOW] == ("ghcr.io/acme/goapp", "docker.io/acme/goapp")
    # `${REGISTRY:-quay.io/acme}` and NAME= assigned above the command.
    assert images[LinkKind.SCRIPT] == ("quay.io/acme/goapp-debug",)
    workflow = next(b for b in builds if b.origin.kind is LinkKind.WORKFLOW and b.images)
    assert workflow.unknown_tags == 1


def test_builds_for_ignores_tag_and_digest(goapp: RepositoryModel) -> None:
    kinds = {
        b.origin.kind for b in goapp.builds_for("ghcr.io/acme/goapp:v1.4.2@sha256:" + "a" * 64)
    }
    assert kinds == {LinkKind.MAKE, LinkKind.WORKFLOW}
    assert goapp.builds_for("docker.io/acme/goapp")[0].origin.kind is LinkKind.WORKFLOW
    assert goapp.builds_for("acme/goapp")[0].origin.kind is LinkKind.WORKFLOW  # same image
    assert goapp.builds_for("ghcr.io/acme/unknown") == []
    assert goapp.builds_for("${IMAGE}") == []


def test_metadata_action_images_and_unresolved_make_variable(goapp: RepositoryModel) -> None:
    builds = goapp.build_of(Path("build/worker.Dockerfile"))
    by_kind = {b.origin.kind: b for b in builds}
    assert by_kind[LinkKind.WORKFLOW].images == ("ghcr.io/acme/goapp-worker",)
    # `$(WORKER_IMG)` is defined nowhere: the link stands, its image is unknown.
    assert by_kind[LinkKind.MAKE].images == ()
    assert by_kind[LinkKind.MAKE].unknown_tags == 1


def test_kustomize_rename_links_manifest_name_to_built_image(goapp: RepositoryModel) -> None:
    builds = goapp.builds_for("goapp", manifest=Path("deploy/base/deployment.yaml"))
    assert {b.origin.kind for b in builds} == {LinkKind.MAKE, LinkKind.WORKFLOW}
    assert all(b.via is not None and b.via.kind is LinkKind.KUSTOMIZE for b in builds)
    assert all(_rel(goapp, b.via.path) == "deploy/base/kustomization.yaml" for b in builds if b.via)
    # A manifest no Kustomization renders does not get the rename.
    assert goapp.builds_for("goapp", manifest=Path("deploy/generated/crds.yaml")) == []


def test_compose_skaffold_tilt_gitlab_links(services: RepositoryModel) -> None:
    every = [b for d in services.dockerfiles for b in services.build_of(d)]
    assert _links(services, every) == {
        ("web/Dockerfile", "web", "compose", "docker-compose.yml:3", None),
        ("worker/Dockerfile", ".", "compose", "docker-compose.yml:8", "runtime"),
        ("api/Dockerfile.prod", "api", "skaffold", "skaffold.yaml:7", "final"),
        ("api/Dockerfile", "api", "skaffold", "skaffold.yaml:16", None),
        ("frontend/Dockerfile.dev", "frontend", "tilt", "Tiltfile:4", "dev"),
        ("ui/Dockerfile", "ui", "tilt", "Tiltfile:7", None),
        ("ui/Dockerfile", "ui", "tilt", "Tiltfile:8", None),
        ("batch/Dockerfile", "batch", "gitlab", ".gitlab-ci.yml:10", None),
        ("batch/Dockerfile", "batch", "gitlab", ".gitlab-ci.yml:11", None),
        ("lone/Dockerfile", "lone", "default", "lone/Dockerfile:1", None),
    }
    assert [b.images for b in services.builds_for("acme/web")] == [("acme/web",)]
    assert services.builds_for("gcr.io/acme/api")[0].target == "final"
    assert services.builds_for("gcr.io/acme/api-dev")[0].origin.kind is LinkKind.SKAFFOLD
    assert services.builds_for("acme/frontend")[0].origin.kind is LinkKind.TILT
    assert services.builds_for("acme/ui")[0].origin.kind is LinkKind.TILT
    assert services.builds_for("registry.gitlab.com/acme/batch")[0].origin.kind is LinkKind.GITLAB


def test_unlinked_dockerfile_defaults_to_its_folder(services: RepositoryModel) -> None:
    (build,) = services.build_of(Path("lone/Dockerfile"))
    assert build.origin.kind is LinkKind.DEFAULT
    assert build.context == services.root / "lone"
    assert build.images == ()


# --- runs -----------------------------------------------------------------------------------


def test_runs_of_through_kustomize_rename_and_patch(goapp: RepositoryModel) -> None:
    runs = goapp.runs_of("ghcr.io/acme/goapp:v2")
    seen = {(_rel(goapp, r.path), r.kind, r.name, r.container, r.init) for r in runs}
    assert seen == {
        ("deploy/base/deployment.yaml", "Deployment", "goapp", "app", False),
        ("deploy/base/deployment.yaml", "Deployment", "goapp", "migrate", True),
        ("deploy/base/cronjob.yaml", "CronJob", "nightly-sync", "sync", False),
        ("deploy/overlays/prod/args.yaml", "Deployment", "goapp", "app", False),
    }
    cron = next(r for r in runs if r.kind == "CronJob")
    assert cron.command == ("sh", "-c", "curl -fsS -X POST http://goapp.apps:8080/sync")
    assert cron.args is None
    assert cron.namespace == "apps"
    assert cron.line == 17
    text = (REPOS / "goapp/deploy/base/cronjob.yaml").read_text()
    assert text[cron.span.start : cron.span.end].startswith("name: sync\n")
    patched = next(r for r in runs if r.base is not None)
    assert _rel(goapp, patched.base) == "deploy/base/deployment.yaml"
    assert patched.args == ("serve", "--profile=prod")  # the patch's args, the base's image
    assert patched.image == "goapp"
    migrate = next(r for r in runs if r.init)
    assert migrate.args == ("migrate", "--up")
    assert migrate.via is not None and migrate.via.kind is LinkKind.KUSTOMIZE


def test_runs_skip_testdata_and_vendor_but_keep_generated(goapp: RepositoryModel) -> None:
    paths = {_rel(goapp, r.path) for r in goapp.runs_of("ghcr.io/acme/goapp")}
    assert not any(p and p.startswith(("testdata/", "vendor/")) for p in paths)
    assert [r.container for r in goapp.runs_of("ghcr.io/acme/goapp-operator")] == ["operator"]


def test_runs_of_manifests_and_compose(services: RepositoryModel) -> None:
    web = services.runs_of("acme/web")
    assert {(r.kind, r.container) for r in web} == {
        ("Deployment", "web"),
        ("Deployment", "probe"),
        ("compose", "web"),
    }
    compose = next(r for r in web if r.kind == "compose")
    assert compose.args == ("./serve.sh", "--port", "80")
    assert compose.dockerfile == services.root / "web/Dockerfile"
    (api,) = services.runs_of("gcr.io/acme/api")
    assert (api.kind, api.name, api.args, api.line) == ("Pod", "api", ("--port", "80"), 27)
    assert [r.container for r in services.runs_of("postgres")] == ["db"]


# --- what a build ships -----------------------------------------------------------------------


def test_copied_files_follow_copy_from_into_the_shipped_stage(goapp: RepositoryModel) -> None:
    (build,) = [
        b for b in goapp.build_of(Path("build/Dockerfile")) if b.origin.kind.value == "make"
    ]
    copies = goapp.copied_files(build)
    assert not copies.whole_context  # the builder's `COPY . .` ships only what is taken from it
    assert [_rel(goapp, p) for p in copies.paths] == [
        "scripts/entrypoint.sh",
        "scripts/healthcheck.sh",
        "scripts/goapp.conf",
    ]
    assert _rel(goapp, goapp.entrypoint_script(build)) == "scripts/entrypoint.sh"


def test_copied_files_marks_whole_context_and_target_stage(services: RepositoryModel) -> None:
    (web,) = services.builds_for("acme/web")
    copies = services.copied_files(web)
    assert copies.whole_context
    assert copies.paths == ()
    assert _rel(services, services.entrypoint_script(web)) == "web/serve.sh"
    (worker,) = services.build_of(Path("worker/Dockerfile"))
    copies = services.copied_files(worker)
    assert not copies.whole_context  # `COPY worker/ ./` is in the later `test` stage only
    assert [_rel(services, p) for p in copies.paths] == [
        "worker/requirements.txt",
        "worker/docker-entrypoint.sh",
    ]
    # `ENTRYPOINT ["docker-entrypoint.sh"]` found on PATH where COPY put it.
    assert _rel(services, services.entrypoint_script(worker)) == "worker/docker-entrypoint.sh"
    (api,) = services.builds_for("gcr.io/acme/api")
    assert services.copied_files(api).paths == ()
    assert services.entrypoint_script(api) is None  # a binary built in a stage
    (lone,) = services.build_of(Path("lone/Dockerfile"))
    assert _rel(services, services.entrypoint_script(lone)) == "lone/run.sh"  # `sh /run.sh`


def test_uses_tool_scripts_and_manifests(goapp: RepositoryModel) -> None:
    (build,) = [
        b for b in goapp.build_of(Path("build/Dockerfile")) if b.origin.kind.value == "make"
    ]
    evidence = {(_rel(goapp, e.path), e.line) for e in goapp.uses_tool(build, "curl")}
    assert evidence == {
        ("scripts/healthcheck.sh", 3),  # copied in; the entrypoint's `libcurl` is not curl
        ("deploy/base/cronjob.yaml", 17),  # CronJob `sh -c "curl ..."` in the same image
    }
    # scripts/release-notes.sh calls curl but is not copied in; testdata/ is not source.
    reasons = [e.reason for e in goapp.uses_tool(build, "curl")]
    assert 'CronJob/nightly-sync container "sync" calls curl' in reasons
    assert all("fsS" not in r for r in reasons)  # never quotes the command line
    assert goapp.uses_tool(build, "wget") == []
    (worker,) = [
        b for b in goapp.build_of(Path("build/worker.Dockerfile")) if b.origin.kind.value == "make"
    ]
    ((path, line, reason),) = [(e.path, e.line, e.reason) for e in goapp.uses_tool(worker, "wget")]
    assert (_rel(goapp, path), line) == ("hack/worker.sh", 2)
    assert reason == "the entrypoint script calls wget"


def test_uses_tool_whole_context_scripts_and_compose_commands(services: RepositoryModel) -> None:
    (web,) = services.builds_for("acme/web")
    curl = [(_rel(services, e.path), e.line) for e in services.uses_tool(web, "curl")]
    assert curl == [("web/tools/warm-cache.sh", 2)]
    (worker,) = services.build_of(Path("worker/Dockerfile"))
    wget = [(_rel(services, e.path), e.line) for e in services.uses_tool(worker, "wget")]
    assert wget == [("docker-compose.yml", 11)]  # a compose service built from it


# --- source or not --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("build/Dockerfile", SourceKind.SOURCE),
        ("deploy/base/config.yaml", SourceKind.SOURCE),  # GENERATED as a value, not a comment
        ("testdata/Dockerfile", SourceKind.TEST_DATA),
        ("testdata/k8s/pod.yaml", SourceKind.TEST_DATA),
        ("vendor/github.com/other/lib/Dockerfile", SourceKind.VENDORED),
        ("deploy/generated/crds.yaml", SourceKind.GENERATED),
        ("deploy/overlays/prod/args.yaml", SourceKind.KUSTOMIZE_PATCH),
        ("deploy/overlays/prod/replicas.yaml", SourceKind.KUSTOMIZE_PATCH),
        ("deploy/overlays/prod/probe-patch.yaml", SourceKind.KUSTOMIZE_PATCH),
    ],
)
def test_is_source(goapp: RepositoryModel, path: str, kind: SourceKind) -> None:
    found = goapp.is_source(Path(path))
    assert found.kind is kind
    assert found.is_source is (kind is SourceKind.SOURCE)
    assert bool(found.notice) is not found.is_source


def test_is_source_folders(services: RepositoryModel) -> None:
    assert services.is_source(Path("tests/fixtures/deploy.yaml")).kind is SourceKind.TEST_DATA
    assert services.is_source(Path("k8s/deploy.yaml")).is_source
    assert services.runs_of("acme/web") and all(
        "tests/" not in str(r.path) for r in services.runs_of("acme/web")
    )


def test_notices_one_per_skipped_folder(goapp: RepositoryModel) -> None:
    assert goapp.notices == (
        "deploy/generated/crds.yaml: skipped, generated (marked: '# Code generated by "
        "controller-gen. DO NOT EDIT.'); --include-generated checks it",
        "deploy/overlays/prod/args.yaml: read as a patch merged onto its base "
        "(listed in deploy/overlays/prod/kustomization.yaml)",
        "deploy/overlays/prod/probe-patch.yaml: read as a patch merged onto its base "
        "(listed in deploy/overlays/prod/kustomization.yaml)",
        "deploy/overlays/prod/replicas.yaml: read as a patch merged onto its base "
        "(listed in deploy/overlays/prod/kustomization.yaml)",
        "testdata: skipped, test data (under testdata/); --include-generated checks it",
        "vendor: skipped, vendored (under vendor/); --include-generated checks it",
    )


@pytest.mark.parametrize(
    ("head", "marked"),
    [
        ("# Code generated by controller-gen. DO NOT EDIT.\nkind: X\n", True),
        ("// Code generated by protoc-gen-go. DO NOT EDIT.\n", True),
        ("# @generated by tool\n", True),
        ("#!/bin/sh\n# AUTO-GENERATED FILE: GENERATED by make gen\n", True),
        ("a: 1\nb: 2\nc: 3\nd: 4\ne: 5\n# DO NOT EDIT\n", False),  # past the head
        ("mode: GENERATED\n", False),
        ('note: "Code generated values"\n', False),
        ("url: http://x/#DO NOT EDIT\n", False),  # `#` inside a value is not a comment
        # Vector's helm-rendered manifests, in words of their own.
        (
            "---\n# This file has been generated by `helm template vector vector/vector` from "
            "vector/templates/daemonset.yaml. Please re-run `make generate-kubernetes-manifests` "
            "rather than modifying this file manually.\napiVersion: apps/v1\n",
            True,
        ),
        ("# this manifest was automatically generated from config.jsonnet\n", True),
        ("# Please do not edit this file.\n", True),
        ("# Edit this file to change the generated names.\n", False),
        ("# This file generates the cluster's policies.\n", False),
    ],
)
def test_generated_marker_only_in_head_comments(head: str, marked: bool) -> None:
    assert (generated_marker(head) is not None) is marked


def test_kustomizations_of_follows_overlays(goapp: RepositoryModel) -> None:
    assert [_rel(goapp, k) for k in goapp.kustomizations_of(Path("deploy/base/cronjob.yaml"))] == [
        "deploy/base/kustomization.yaml",
        "deploy/overlays/prod/kustomization.yaml",
    ]
    assert goapp.kustomizations_of(Path("deploy/generated/crds.yaml")) == []


# --- scanning -------------------------------------------------------------------------------


def test_include_non_source_reads_vendor_and_testdata() -> None:
    model = RepositoryModel.scan(REPOS / "goapp", include_non_source=True)
    assert model.notices[-1].startswith("deploy/overlays/prod/replicas.yaml")
    vendored = [b for b in model.builds_for("ghcr.io/acme/goapp") if "vendor" in str(b.dockerfile)]
    assert len(vendored) == 1
    assert any("testdata" in str(r.path) for r in model.runs_of("ghcr.io/acme/goapp"))


def test_scan_of_listed_files_only() -> None:
    root = REPOS / "services"
    listed = [
        Path("docker-compose.yml"),
        Path("web/Dockerfile"),
        Path("tests/fixtures/deploy.yaml"),
    ]
    model = RepositoryModel.scan(root, files=listed)
    assert model.files_seen == 2
    assert [b.origin.kind for b in model.builds_for("acme/web")] == [LinkKind.COMPOSE]
    assert model.builds_for("gcr.io/acme/api") == []
    assert model.notices == (
        "tests/fixtures: skipped, test data (under tests/fixtures/); --include-generated checks it",
    )


def test_bad_files_never_raise(tmp_path: Path) -> None:
    shutil.copytree(REPOS / "services", tmp_path / "repo")
    root = tmp_path / "repo"
    (root / "k8s" / "broken.yaml").write_text("apiVersion: v1\nkind: Pod\nspec: [unclosed\n")
    (root / "k8s" / "binary.yaml").write_bytes(b"apiVersion\x00kind\xff\xfe")
    (root / "k8s" / "latin1.yaml").write_bytes(
        "kind: Pod\napiVersion: v1 # caf\xe9\n".encode("latin-1")
    )
    (root / "skaffold-bad.yaml").write_text("build: {artifacts: 5}\n")
    (root / "compose.yaml").write_text("services: [1, 2]\n")
    (root / "Makefile").write_text("build:\n\tdocker build -t 'unbalanced .\n")
    (root / "Tiltfile").write_text("docker_build('acme/x', \n")
    (root / "bomb.yaml").write_text(
        "apiVersion: v1\nkind: X\na: &a [x, x, x, x, x, x, x, x, x]\n"
        + "".join(
            f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
            for p, c in zip("abcdefg", "bcdefgh", strict=True)
        )
    )
    (root / "web" / "Dockerfile").write_bytes(b"\xff\xfe\x00binary")
    model = RepositoryModel.scan(root)
    assert model.runs_of("gcr.io/acme/api")
    (web,) = model.builds_for("acme/web")
    assert model.copied_files(web).paths == ()
    assert model.entrypoint_script(web) is None
    assert model.uses_tool(web, "curl") == []


# --- pieces ---------------------------------------------------------------------------------


def test_image_names() -> None:
    assert image_name("ghcr.io/acme/web:1.2@sha256:" + "0" * 64) == "ghcr.io/acme/web"
    assert image_name("localhost:5000/web") == "localhost:5000/web"
    assert image_name("ghcr.io/acme/web:${{ github.sha }}") == "ghcr.io/acme/web"
    assert image_name("${{ env.IMAGE }}:latest") is None
    assert image_name("$REGISTRY/web") is None
    assert image_name("Not/Valid") is None
    assert image_key("nginx") == image_key("docker.io/library/nginx:1.27")


def test_build_commands_in_makefile_and_script() -> None:
    make = in_makefile(
        "REG = ghcr.io/acme\nIMG := $(REG)/api\nIMG ?= ignored\n"
        "image:\n\tcd x && sudo docker build --no-cache --build-arg A=1 -t$(IMG) -f x/Dockerfile ctx\n"
        "\tpodman build --tag=$(IMG)-alt . ; buildah bud -t other .\n"
        "\techo docker build is not run here\n"
    )
    assert [(c.line, c.dockerfile, c.context, c.tags) for c in make] == [
        (5, "x/Dockerfile", "ctx", ("ghcr.io/acme/api",)),
        (6, None, ".", ("ghcr.io/acme/api-alt",)),
        (6, None, ".", ("other",)),
    ]
    script = in_script('IMG=acme/job\ndocker image build \\\n  -t "$IMG:$(date +%s)" \\\n  ops\n')
    assert [(c.line, c.context, c.tags) for c in script] == [(2, "ops", ("acme/job:\x00",))]


def test_copied_folder_scripts_and_wrapped_entrypoint(tmp_path: Path) -> None:
    (tmp_path / "tools").mkdir()
    (tmp_path / "tools" / "start.sh").write_text("#!/bin/sh\nexec /usr/bin/curl -fsS http://x\n")
    (tmp_path / "tools" / "notes.txt").write_text("curl is not run from here\n")
    (tmp_path / "Dockerfile").write_text(
        "FROM alpine:3.19\nWORKDIR /opt\nCOPY tools/ tools/\n"
        'ENTRYPOINT ["tini", "--", "gosu", "app", "tools/start.sh"]\n'
    )
    model = RepositoryModel.scan(tmp_path)
    (build,) = model.build_of(tmp_path / "Dockerfile")
    assert model.copied_files(build).paths == (tmp_path / "tools",)
    assert model.entrypoint_script(build) == tmp_path / "tools" / "start.sh"
    assert [(e.line, e.reason) for e in model.uses_tool(build, "curl")] == [
        (2, "the entrypoint script calls curl")
    ]


def test_a_question_about_an_image_reads_a_bounded_number_of_runs_nearest_first(
    tmp_path: Path,
) -> None:
    """Ten teams deploy an image called ``web``: each Dockerfile's evidence is read from
    the runs nearest to it, at most MAX_EXACT, so a monorepo's run stays linear."""
    from fixer.repository.nearest import MAX_EXACT
    from fixer.repository.usage import running

    manifest = (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n"
        "    - name: web\n      image: ghcr.io/acme/web:1\n"
    )
    for team in range(MAX_EXACT + 8):
        folder = tmp_path / f"team{team:02d}"
        folder.mkdir()
        (folder / "pod.yaml").write_text(manifest)
    home = tmp_path / "team07" / "web"
    home.mkdir()
    (home / "Dockerfile").write_text("FROM alpine:3.19\n")
    (tmp_path / "Makefile").write_text("build:\n\tdocker build -t ghcr.io/acme/web:1 team07/web\n")
    model = RepositoryModel.scan(tmp_path)
    (build,) = model.build_of(home / "Dockerfile")
    found = running(model, build)
    assert len(found) == MAX_EXACT
    assert found[0].run.path == tmp_path / "team07" / "pod.yaml"  # its own team's first


def test_froms_reads_each_stage_by_lines() -> None:
    from fixer.repository.froms import stages

    text = (
        "ARG BASE=myorg/base\nARG TAG=1\n"
        "FROM --platform=$BUILDPLATFORM ${BASE}:${TAG} AS build\n"
        "# RUN in a comment\nCOPY . .\nRUN make \\\n  FROM x\n"
        "FROM myorg/other\nUSER root\nRUN apk add curl\n"
        "FROM $UNSET\n"
    )
    assert list(stages(text)) == [("myorg/base:1", 3, 6), ("myorg/other", 8, 0), ("", 11, 0)]
