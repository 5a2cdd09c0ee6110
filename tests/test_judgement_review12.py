"""Judgement classes from the twelfth review (Flagger, external-dns, Tempo, metrics-server):
each assertion names what is withheld or skipped, and what is still fixed beside it."""

from __future__ import annotations

from pathlib import Path

import pytest

from fixer.repository.commands import in_makefile
from fixer.repository.goprograms import command_runner
from tests.fixture_repos import REPOS, copy_repo, findings, needs, one, tighten

pytestmark = pytest.mark.slow


def test_an_image_whose_program_runs_the_commands_it_is_sent_keeps_its_tools(
    tmp_path: Path,
) -> None:
    """Flagger's load tester runs the ``cmd`` of every webhook with ``sh -c``: curl in its
    image is for those commands. A program that runs only a fixed command does not count:
    the api image still loses curl."""
    repo = copy_repo(tmp_path, "j12-review")
    found = findings(repo, "DF003")
    held = needs(found, "loadtester/Dockerfile", "curl is installed")
    assert "its program loadtester runs the shell commands it is sent" in held
    assert "pkg/loadtester/task.go:12: sh -c" in held
    assert one(found, "api/Dockerfile", "curl is installed")["fix"]["safety"] == "proven"
    out = tighten("fix", "--select", "DF003", ".", cwd=repo)
    assert out.returncode in (0, 1), out.stderr
    assert "curl" in (repo / "loadtester/Dockerfile").read_text()
    assert "curl" not in (repo / "api/Dockerfile").read_text()


def test_command_runner_reads_the_packages_of_the_module_the_program_imports() -> None:
    repo = REPOS / "j12-review"
    runner = command_runner(repo / "cmd/loadtester/main.go", repo)
    assert runner is not None
    assert (runner.where, runner.shell) == ("pkg/loadtester/task.go:12", "sh")
    assert command_runner(repo / "cmd/api/main.go", repo) is None  # `sh -c "echo ready"`


def test_files_the_docs_include_with_mkdocs_macros_markers_are_withheld(tmp_path: Path) -> None:
    """external-dns writes ``[[% include 'x.yaml' %]]`` (the macros plugin with other
    Jinja markers): the page shows that file verbatim, so its fixes are withheld. A file the
    docs only tell people to ``kubectl apply`` is still fixed."""
    repo = copy_repo(tmp_path, "j12-review")
    found = findings(repo, "K8S002")
    held = needs(found, "docs/snippets/tutorials/shown.yaml", "allowPrivilegeEscalation")
    assert "docs/tutorials/guide.md:5 includes it" in held
    applied = one(found, "docs/snippets/tutorials/applied.yaml", "allowPrivilegeEscalation")
    assert applied["fix"]["safety"] == "safe"


def test_the_rendering_of_a_jsonnet_environment_is_generated(tmp_path: Path) -> None:
    """Tempo's ``operations/jsonnet-compiled/<env>/gen/`` is what ``tk export`` writes from
    the environment's ``main.jsonnet`` (CI diffs it): skipped as generated, with a notice.
    A manifest beside ``main.jsonnet`` (maybe an input) is still checked and fixed."""
    repo = copy_repo(tmp_path, "j12-review")
    out = tighten("fix", "--select", "K8S002", ".", cwd=repo)
    assert out.returncode in (0, 1), out.stderr
    assert (
        "skipped 1 file written by jsonnet from ops/jsonnet/env/main.jsonnet (its gen/ folder)"
        in out.stderr
    )
    generated = (REPOS / "j12-review/ops/jsonnet/env/gen/Deployment-api.yaml").read_text()
    assert (repo / "ops/jsonnet/env/gen/Deployment-api.yaml").read_text() == generated
    assert "allowPrivilegeEscalation: false" in (repo / "ops/jsonnet/env/beside.yaml").read_text()
    every = tighten("check", "--include-generated", "--select", "K8S002", ".", cwd=repo)
    assert "ops/jsonnet/env/gen/Deployment-api.yaml:16: K8S002" in every.stdout


def test_makefile_includes_and_recipe_prefixes_link_the_tools_image(tmp_path: Path) -> None:
    """Tempo builds its tools image in ``build/tools.mk`` with ``@docker build -t
    $(TOOLS_IMAGE)`` and runs it through ``$(TOOLS_CMD)``, a variable of that included file
    that mounts the working tree: a USER would own what it writes there, so DF001 is
    withheld and names the Makefile line."""
    repo = copy_repo(tmp_path, "j12-review")
    found = findings(repo, "DF001")
    held = needs(found, "tools/Dockerfile", "runs as root")
    assert "Makefile:10 runs it with the host folder a computed path mounted and no --user" in held


@pytest.mark.parametrize("prefix", ["@", "-", "+", "@-", "- @"])
def test_make_recipe_prefixes_are_not_part_of_the_command(prefix: str) -> None:
    text = f"IMAGE ?= acme/tool\nbuild:\n\t{prefix}docker build -t $(IMAGE) -f tools/Dockerfile .\n"
    [command] = in_makefile(text)
    assert (command.dockerfile, command.tags) == ("tools/Dockerfile", ("acme/tool",))


def test_a_kustomize_component_is_not_rendered_alone(tmp_path: Path) -> None:
    """metrics-server's ``components/autoscale`` is a ``kind: Component`` no Kustomization
    of the repository lists: ``kubectl kustomize`` refuses to build one alone, so no render
    is tried (it printed a failure before). Its patch is still a partial object, skipped."""
    repo = copy_repo(tmp_path, "j12-review")
    out = tighten("check", "--select", "K8S002", ".", cwd=repo)
    assert out.returncode == 1, out.stderr
    assert "cannot render" not in out.stderr
    assert "listed as patches in kustomize/components/ha/kustomization.yaml" in out.stderr


def test_fifos_named_like_go_sources_or_included_makefiles_never_block(tmp_path: Path) -> None:
    """A hostile repository's FIFO named ``main.go``, ``task.go`` or an included ``.mk``
    is not read (reading one would wait forever): the scan goes on without it."""
    import os

    (tmp_path / "cmd/x").mkdir(parents=True)
    (tmp_path / "pkg/x").mkdir(parents=True)
    (tmp_path / "go.mod").write_text("module example.com/x\n")
    os.mkfifo(tmp_path / "pkg/x/task.go")
    (tmp_path / "cmd/x/main.go").write_text('package main\nimport "example.com/x/pkg/x"\n')
    assert command_runner(tmp_path / "cmd/x/main.go", tmp_path) is None
    os.mkfifo(tmp_path / "tools.mk")
    (tmp_path / "Makefile").write_text("include tools.mk\nb:\n\t@docker build -t a/b .\n")
    (tmp_path / "Dockerfile").write_text("FROM alpine:3.20\n")
    out = tighten("check", "--select", "DF001", ".", cwd=tmp_path)
    assert out.returncode == 1, out.stderr
    assert "Dockerfile:1: DF001" in out.stdout


def test_review_13_classes(tmp_path: Path) -> None:
    """The Kubernetes dashboard's ``hack/test-resources/`` (pods that crash or flood logs,
    for exercising the UI) is test data; its development container installs delve, so its
    tools and root stay; MinIO's STS example client appends the cluster CA to
    ``certifi.where()``, a root-owned file, so it keeps root. A script that writes only to
    the temporary folder still gets its USER."""
    repo = copy_repo(tmp_path, "j12-review")
    out = tighten("check", "--format", "json", "--select", "DF001,DF003,K8S002", ".", cwd=repo)
    assert "skipped 1 file under hack/test-resources/ (test data)" in out.stderr
    import json

    found = json.loads(out.stdout)["findings"]
    assert not [f for f in found if f["path"].startswith("hack/test-resources/")]
    assert "line 4 installs delve: a development or debugging image" in needs(
        found, "hack/develop/Dockerfile", "curl is installed"
    )
    assert "line 4 installs delve" in needs(found, "hack/develop/Dockerfile", "runs as root")
    certs = needs(found, "clients/certs/Dockerfile", "runs as root")
    assert "main.py:7 opens ca_file (certifi.where()) for writing ('ab')" in certs
    tmp = one(found, "clients/tmpwriter/Dockerfile", "runs as root")
    assert tmp["fix"]["safety"] == "proven"


def test_policy_test_cases_are_test_data(tmp_path: Path) -> None:
    """Kyverno keeps the pods each policy must accept or reject in ``.chainsaw-test/`` and
    ``.kyverno-test/``; Gatekeeper's library keeps ``example_disallowed.yaml`` beside
    ``example_allowed.yaml`` under ``samples/``: fixing a "bad" pod breaks the policy's test.
    Both are skipped as test data, each with a notice; naming one still checks it."""
    repo = copy_repo(tmp_path, "j12-review")
    out = tighten("check", "--select", "K8S001,K8S002", ".", cwd=repo)
    assert "policies/" not in out.stdout
    assert "skipped 2 files under policies/require-drop-all/.chainsaw-test/ (test data)" in (
        out.stderr
    )
    assert (
        "skipped 2 files under policies/library/psp-privileged/samples/psp-privileged/ "
        "(policy test cases: example_disallowed.yaml) (test data)"
    ) in out.stderr
    named = "policies/library/psp-privileged/samples/psp-privileged/example_disallowed.yaml"
    assert "K8S001" in tighten("check", named, cwd=repo).stdout


def test_many_folders_of_one_kind_are_one_notice(tmp_path: Path) -> None:
    """A policy repository with a test folder per policy says so in one line, not hundreds."""
    pod = (REPOS / "j12-review/policies/require-drop-all/.chainsaw-test/bad-pod.yaml").read_text()
    for n in range(5):
        folder = tmp_path / f"policy-{n}/.chainsaw-test"
        folder.mkdir(parents=True)
        (folder / "bad-pod.yaml").write_text(pod)
    out = tighten("check", ".", cwd=tmp_path)
    [line] = [x for x in out.stderr.splitlines() if x.startswith("notice: skipped")]
    assert line.startswith(
        "notice: skipped 5 files in 5 folders named .chainsaw-test/ (test data): "
        "policy-0/.chainsaw-test/, policy-1/.chainsaw-test/, policy-2/.chainsaw-test/ and 2 more"
    )


def test_added_capabilities_keep_privilege_escalation_unless_root(tmp_path: Path) -> None:
    """Vault adds IPC_LOCK and steps down to its own user, which gets it only through the
    binary's file capabilities: allowPrivilegeEscalation: false would take it away, so that
    part is withheld (seccomp is still applied). A container that says it runs as root keeps
    its added capability whatever the flag says: the flag is still set there."""
    repo = copy_repo(tmp_path, "j12-review")
    found = findings(repo, "K8S002")
    vault = needs(found, "k8s/vault.yaml", "allowPrivilegeEscalation is not false")
    assert "gets the capabilities the author added (IPC_LOCK) without privilege escalation" in (
        vault
    )
    assert one(found, "k8s/vault.yaml", "no seccompProfile")["fix"]["safety"] == "safe"
    router = one(found, "k8s/netadmin.yaml", "allowPrivilegeEscalation is not false")
    assert router["fix"]["safety"] == "safe"
    tighten("fix", "--select", "K8S002", ".", cwd=repo)
    assert "allowPrivilegeEscalation" not in (repo / "k8s/vault.yaml").read_text()
    assert "RuntimeDefault" in (repo / "k8s/vault.yaml").read_text()
    assert "allowPrivilegeEscalation: false" in (repo / "k8s/netadmin.yaml").read_text()


def test_review_14_classes(tmp_path: Path) -> None:
    """Kueue's Hugo site includes examples with ``{{< include "examples/..." "yaml" >}}``
    (withheld) and keeps ``static/v0.19/examples/`` beside ``static/examples/`` (a frozen
    copy, skipped); an example no page includes is still fixed. argo-events' Makefile
    names docker as ``$(shell command -v docker)`` and builds with ``DOCKER_BUILDKIT=1
    $(DOCKER) build``; its webhook runs the image with ``PORT: "443"``: no USER for it."""
    repo = copy_repo(tmp_path, "j12-review")
    out = tighten("check", "--format", "json", "--select", "DF001,K8S002", ".", cwd=repo)
    assert "skipped 1 file under site/static/v0.9/ (a copy for release v0.9: examples/" in (
        out.stderr
    )
    import json

    found = json.loads(out.stdout)["findings"]
    shown = needs(found, "site/static/examples/jobs/sample-job.yaml", "allowPrivilegeEscalation")
    assert "site/content/en/docs/run-jobs.md:3 includes it" in shown
    other = one(found, "site/static/examples/jobs/other-job.yaml", "allowPrivilegeEscalation")
    assert other["fix"]["safety"] == "safe"
    webhook = needs(found, "webhook/Dockerfile", "runs as root")
    assert "k8s/webhook.yaml:15 runs it listening on port 443, which only root may bind" in (
        webhook
    )
    assert "NET_BIND_SERVICE to listen on port 443 as root" in needs(
        found, "k8s/webhook.yaml", "capabilities are not dropped"
    )


@pytest.mark.parametrize(
    "recipe",
    [
        "DOCKER_BUILDKIT=1 $(DOCKER) build -t acme/tool -f tools/Dockerfile .",
        "@DOCKER_BUILDKIT=1 BUILDX_NO_DEFAULT_ATTESTATIONS=1 $(DOCKER) build -t acme/tool "
        "-f tools/Dockerfile .",
    ],
)
def test_a_docker_found_on_path_and_an_environment_prefix_still_build(recipe: str) -> None:
    text = f"DOCKER := $(shell command -v docker 2> /dev/null)\nb:\n\t{recipe}\n"
    [command] = in_makefile(text)
    assert (command.dockerfile, command.tags) == ("tools/Dockerfile", ("acme/tool",))


def test_review_15_classes(tmp_path: Path) -> None:
    """linkerd keeps the inputs of its proxy-injector tests in ``fake/data/`` (test data);
    its ``Dockerfile-debug`` and an image that installs tcpdump are for debugging: their
    tools and root stay."""
    repo = copy_repo(tmp_path, "j12-review")
    out = tighten("check", "--format", "json", "--select", "DF001,DF003,K8S002", ".", cwd=repo)
    assert "skipped 1 file under controller/injector/fake/ (test data)" in out.stderr
    import json

    found = json.loads(out.stdout)["findings"]
    assert "its name says it is a development or debugging image (Dockerfile-debug)" in needs(
        found, "Dockerfile-debug", "curl is installed"
    )
    assert "line 2 installs tcpdump: a development or debugging image" in needs(
        found, "debug-sidecar/Dockerfile", "curl is installed"
    )


def test_a_folder_with_a_bad_named_page_is_still_source(tmp_path: Path) -> None:
    """Only ``disallowed``/``noncompliant`` names make a folder a policy's test cases:
    ``bad-gateway-page.yaml`` beside a Deployment is a real page, and both are checked."""
    pod = (REPOS / "j12-review/hack/test-resources/crashing-pod.yaml").read_text()
    (tmp_path / "k8s").mkdir()
    (tmp_path / "k8s/bad-gateway-page.yaml").write_text(pod.replace("crashing", "page"))
    (tmp_path / "k8s/web.yaml").write_text(pod.replace("crashing", "web"))
    out = tighten("check", "--select", "K8S002", ".", cwd=tmp_path)
    assert "k8s/web.yaml" in out.stdout and "k8s/bad-gateway-page.yaml" in out.stdout
    assert "policy test cases" not in out.stderr
