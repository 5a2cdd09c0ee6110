"""Judgement classes from the tenth review (uptime-kuma, kind, harbor, external-secrets):
each fixture asserts what is withheld and what is still fixed beside it."""

from __future__ import annotations

from pathlib import Path

import pytest

from fixer.repository.index import npm_scripts
from fixer.repository.names import UNKNOWN, expand_make
from tests.fixture_repos import copy_repo, findings, needs, one, tighten

pytestmark = pytest.mark.slow


def test_last_stage_that_no_build_ships_is_left_alone(tmp_path: Path) -> None:
    """package.json builds docker/Dockerfile only as --target release and rootless: its last
    stage (a CI upload) keeps curl and root. web/Dockerfile, built without a target by the
    same package.json, still loses curl and gets a USER."""
    repo = copy_repo(tmp_path, "j10-stages")
    found = findings(repo, "DF001,DF003")
    why = needs(found, "docker/Dockerfile", "curl is installed")
    assert "builds it only as earlier stages: --target release (package.json:6)" in why
    assert "--target rootless (package.json:7)" in why
    # The last stage has no command of its own either: DF001 says that first.
    assert "defines no ENTRYPOINT or CMD" in needs(found, "docker/Dockerfile", "runs as root")
    assert one(found, "web/Dockerfile", "curl is installed")["fix"]["safety"] == "proven"
    out = tighten("fix", "--select", "DF001,DF003", ".", cwd=repo)
    assert out.returncode == 1, out.stderr
    web = (repo / "web/Dockerfile").read_text()
    assert "curl" not in web and "USER 10001" in web
    shipped = (repo / "docker/Dockerfile").read_text()
    assert "curl file" in shipped and "USER 10001" not in shipped


def test_root_only_programs_and_host_writes_keep_root(tmp_path: Path) -> None:
    """systemd as PID 1 (kind's node image), an entrypoint that trusts a mounted CA
    (update-ca-certificates), a README's `docker run -v {{placeholder}}:/data`, and Tilt's
    live_update sync into a container built from either of two Dockerfiles."""
    repo = copy_repo(tmp_path, "j10-stages")
    found = findings(repo, "DF001")
    for path, why in (
        ("node/Dockerfile", "ENTRYPOINT at line 8 runs /sbin/init, an init system"),
        ("node/Dockerfile", "STOPSIGNAL SIGRTMIN+3 at line 6 is systemd's"),
        (
            "tools/certs/Dockerfile",
            "the entrypoint tools/certs/start.sh:4 runs update-ca-certificates",
        ),
        ("tools/migrate/Dockerfile", "host folder {{your_chart_data_location}} mounted"),
        ("dev/tilt.dockerfile", "Tiltfile:6 syncs changed files into its running container"),
        # its ENTRYPOINT starts the program under Delve: a debugging image, said first
        ("dev/tilt.debug.dockerfile", "it starts its program under the debugger dlv"),
    ):
        assert why in needs(found, path, "runs as root"), path


def test_jinja_include_from_snippets_folder_withholds_the_snippet(tmp_path: Path) -> None:
    """docs/provider/proxy.md shows docs/snippets/proxy-deployment.yaml with MkDocs macros'
    `{% include 'proxy-deployment.yaml' %}`; the snippet nobody includes is still fixed."""
    repo = copy_repo(tmp_path, "j10-stages")
    found = findings(repo, "K8S002")
    why = needs(found, "docs/snippets/proxy-deployment.yaml", "allowPrivilegeEscalation")
    assert "docs/provider/proxy.md:6 includes it" in why
    plain = one(found, "docs/snippets/plain-deployment.yaml", "allowPrivilegeEscalation")
    assert plain["fix"]["safety"] == "safe"


def test_npm_scripts_keep_their_line_numbers() -> None:
    text = '{\n  "name": "x",\n  "scripts": {\n    "a": "echo a",\n    "b": "docker build -t x ."\n  }\n}\n'
    lines = npm_scripts(text).split("\n")
    assert lines[3] == "echo a" and lines[4] == "docker build -t x ."
    assert npm_scripts("not json") == "" and npm_scripts('{"scripts": 3}') == ""


def test_make_functions_around_variables_become_unknown() -> None:
    """``$(abspath $(TOP))/../..`` is one unknown path, not a stray ``(`` that ends the
    command (external-secrets' docs Makefile mounts it into the container)."""
    assert expand_make("$(abspath $(TOP))/x", {}) == UNKNOWN + "/x"
    assert expand_make("$(ROOT)/docs", {"ROOT": "$(abspath $(dir $(MK)))/.."}) == (
        UNKNOWN + "/../docs"
    )


def test_a_base_image_is_matched_by_its_tag_when_every_tag_is_known(tmp_path: Path) -> None:
    """images/Makefile builds acme/tools:base and acme/tools:builder from two Dockerfiles;
    images/app says FROM acme/tools:base and installs packages. Only the base keeps root;
    the builder, which nothing builds FROM, still gets its USER."""
    repo = copy_repo(tmp_path, "j10-stages")
    found = findings(repo, "DF001")
    assert "images/app/Dockerfile:2 would run as the user this sets" in needs(
        found, "images/base/Dockerfile", "runs as root"
    )
    builder = one(found, "images/builder/Dockerfile", "runs as root")
    assert builder["fix"]["safety"] != "unproven", builder


def test_config_folders_test_inputs_and_development_secrets(tmp_path: Path) -> None:
    """The command reads a copied config whose path_prefix is /store (Loki's debug image);
    Go's _testdata/ holds test inputs (kyverno's CLI tests); a development overlay's MinIO
    password stays where every contributor's copy has it."""
    repo = copy_repo(tmp_path, "j10-stages")
    found = findings(repo)
    assert (
        "the command reads /etc/store/config.yaml, whose path_prefix at "
        "images/store/store-config.yaml:3 is /store"
    ) in needs(found, "images/store/Dockerfile", "runs as root")
    assert not [f for f in found if f["path"].startswith("_testdata/")]
    assert "it sits under config/overlays/development/, a development setup" in needs(
        found, "config/overlays/development/minio.yaml", "MINIO_ROOT_PASSWORD"
    )


def test_acceptance_suites_release_copies_and_utility_stages(tmp_path: Path) -> None:
    """consul-k8s' acceptance/ environment and its copy of Gateway API v0.7.1 (a folder
    named with a release version; a conformance suite's inputs) are not its source; a
    comment that says the final stage adds its packages for utility keeps curl offered."""
    repo = copy_repo(tmp_path, "j10-stages")
    found = findings(repo)
    for folder in ("acceptance/", "platform/gateway-api-0.7.1-custom/", "platform/suite/"):
        assert not [f for f in found if f["path"].startswith(folder)], folder
    why = needs(found, "images/hub/Dockerfile", "curl is installed")
    assert 'a comment at line 7 says "non-critical packages"' in why
    out = tighten("check", ".", cwd=repo)
    assert "under platform/gateway-api-0.7.1-custom/" in out.stderr
    assert "(vendored)" in out.stderr


def test_images_without_a_command_and_dev_containers_keep_their_user(tmp_path: Path) -> None:
    """A runtime base image (dotnet-docker's: a known base, files only from a stage, no
    command) and a dev container keep root, offered; an application image that copies its
    files into a known server base (php-fpm) still gets the base's user."""
    repo = copy_repo(tmp_path, "j10-stages")
    found = findings(repo, "DF001")
    assert "defines no ENTRYPOINT or CMD of its own" in needs(
        found, "base-images/runtime/Dockerfile", "runs as root"
    )
    assert "devcontainer.json runs as (remoteUser" in needs(
        found, ".devcontainer/Dockerfile", "runs as root"
    )
    # An operator bundle copies folders of files into scratch: nothing in it runs.
    assert not [f for f in found if f["path"] == "olm/bundle.Dockerfile"]
    # ... also when a script writes those folders before the build (the OLM labels say so).
    assert not [f for f in found if f["path"] == "olm-generated/bundle.Dockerfile"]


def test_documented_privileged_runs_and_added_capabilities_keep_root(tmp_path: Path) -> None:
    """falco's driver loader documents `docker run --privileged -v /proc:...` in a LABEL;
    kube-vip's and MetalLB's DaemonSets add NET_ADMIN/NET_RAW, which a non-root process
    never holds."""
    repo = copy_repo(tmp_path, "j10-stages")
    found = findings(repo, "DF001")
    assert "LABEL usage at line 2 runs it with --privileged: a node agent" in needs(
        found, "node/loader/Dockerfile", "runs as root"
    )
    assert "images/vip/ds.yaml:16 adds NET_ADMIN, NET_RAW: capabilities only a root" in needs(
        found, "images/vip/Dockerfile", "runs as root"
    )


def test_a_generator_writes_its_own_projects_deploy_folder_only(tmp_path: Path) -> None:
    """proj-a/scripts/gen.sh writes `$ROOT/deploy/app.yaml` with helm template: proj-a's
    deploy/app.yaml is generated, proj-b's file of the same name is not (it is fixed)."""
    repo = copy_repo(tmp_path, "j10-stages")
    out = tighten("check", ".", cwd=repo)
    assert "skipped 1 file written by proj-a/scripts/gen.sh:7 (helm template)" in out.stderr
    found = findings(repo, "K8S002")
    assert not [f for f in found if f["path"] == "proj-a/deploy/app.yaml"]
    plain = one(found, "proj-b/deploy/app.yaml", "allowPrivilegeEscalation")
    assert plain["fix"]["safety"] == "safe"
