"""Merge review of the fifteenth session: hardening fields on a pod that only runs on
Windows nodes change nothing (secrets-store-csi-driver's Windows DaemonSet); a
``privileged: true`` left commented out for users to switch on keeps the container free of
``allowPrivilegeEscalation: false`` (Elastic's agent recipe); a ``{NAME}`` placeholder a
script fills is a template, not invalid YAML (cert-manager's e2e bind Service); a value
that calls itself a dummy is no secret (paperless-ngx's build-time Django key)."""

from __future__ import annotations

from pathlib import Path

from tests.fixture_repos import copy_repo, findings, needs, one, tighten


def test_pods_that_only_run_on_windows_get_no_linux_fields(tmp_path: Path) -> None:
    repo = copy_repo(tmp_path, "j15-review")
    found = findings(repo, "K8S002")
    assert not [
        f for f in found if f["path"] in ("windows/driver-windows.yaml", "windows/affinity.yaml")
    ]
    # Either OS may run it: the Linux nodes apply the fields.
    assert one(found, "windows/either.yaml", "allowPrivilegeEscalation is not false")["fix"]


def test_a_commented_out_privileged_switch_keeps_escalation_allowed(tmp_path: Path) -> None:
    repo = copy_repo(tmp_path, "j15-review")
    found = findings(repo, "K8S002")
    init = one(found, "switch/agent.yaml", "allowPrivilegeEscalation is not false, runs as UID 0")
    assert init["fixable"] is False
    assert init["reason"].startswith("its commented-out privileged: true (line 20) is left")
    diff = tighten("fix", "--dry-run", "--offline", "switch/agent.yaml", cwd=repo).stdout
    init_part = diff.split("- name: pause")[0]
    assert "allowPrivilegeEscalation" not in init_part  # the init container's own field
    assert "+          securityContext:\n+            allowPrivilegeEscalation: false" in diff
    assert "type: RuntimeDefault" in diff  # a privileged container ignores the profile


def test_a_placeholder_template_is_a_notice_not_an_error(tmp_path: Path) -> None:
    repo = copy_repo(tmp_path, "j15-review")
    out = tighten("check", "placeholders", cwd=repo)
    assert out.returncode == 0, out.stderr
    assert "placeholders/service.yaml: skipped: looks like a template" in out.stderr
    assert "({SERVICE_IP_PREFIX} placeholders, which a script such as sed" in out.stderr
    assert "DF004" not in out.stdout  # build-time-dummy is no secret


def test_a_cron_daemon_keeps_root(tmp_path: Path) -> None:
    """docker-elk's curator image: ``USER root``, a crontab for ``nobody``, ``crond -f``.
    A cron daemon runs each crontab's jobs as its owner: as 10001 it could run none."""
    repo = copy_repo(tmp_path, "j15-review")
    found = findings(repo, "DF001")
    why = needs(found, "cron/Dockerfile", "runs as root")
    assert "ENTRYPOINT at line 9 runs crond, a cron daemon" in why


def test_cron_words_that_are_not_the_daemon() -> None:
    from rules.nonroot_judge import _cron_daemon

    assert _cron_daemon('["/usr/sbin/cron", "-f"]') == "/usr/sbin/cron"
    assert _cron_daemon("busybox crond -f") == "crond"
    for text in (
        '["python", "cron.py"]',
        '["/app/cron-job"]',
        "node src/cron",
        "supercronic /etc/c",
    ):
        assert _cron_daemon(text) is None, text


def test_policy_demonstration_folders_are_test_data(tmp_path: Path) -> None:
    """Gatekeeper's demo applies ``bad_resources/`` and ``good_resources/`` on stage to
    show which its webhook refuses, and example/resources/ holds ``bad_pod_*.yaml``: cases
    as written. A ``good-examples/`` folder with no rejected sibling is source."""
    repo = copy_repo(tmp_path, "j15-review")
    out = tighten("check", "policy-demo", "best", cwd=repo)
    assert "policy-demo/bad_resources/ (policy test cases: rejected on purpose)" in out.stderr
    assert "good_resources/ (policy test cases: the accepted ones beside bad_resources/)" in (
        out.stderr
    )
    assert "policy-demo/resources/ (policy test cases: bad_pod_namespaceselector.yaml)" in (
        out.stderr
    )
    assert "policy-demo/" not in out.stdout
    assert "best/good-examples/opa.yaml" in out.stdout


def test_a_rendered_bundle_stays_in_step_with_its_sources(tmp_path: Path) -> None:
    """argo-events commits ``kubectl kustomize manifests/... > install-....yaml``: the
    bundle's keys are sorted, as kustomize writes them. Fixed with its source, each new key
    goes where kustomize puts it, so rendering the fixed source gives the fixed bundle
    byte for byte (a ``make manifests`` check in CI finds nothing to regenerate)."""
    from tests.realparts import kustomize

    repo = copy_repo(tmp_path, "j15-review") / "bundle"
    assert kustomize(repo, "config/webhook") == (repo / "install-webhook.yaml").read_text()
    out = tighten("fix", "--offline", ".", cwd=repo)
    assert out.returncode in (0, 1), out.stderr
    bundle = (repo / "install-webhook.yaml").read_text()
    assert "allowPrivilegeEscalation: false" in bundle
    assert bundle.index("securityContext:\n        seccompProfile") < bundle.index(
        "serviceAccountName"
    )
    assert kustomize(repo, "config/webhook") == bundle


def test_sorted_keys_style_and_placement() -> None:
    from fixer.documents import yaml as y
    from fixer.documents.text import SourceText
    from fixer.documents.yaml.edit import Style, insert_keys

    sorted_text = (
        "spec:\n  containers:\n  - image: a\n    name: a\n    ports: []\n"
        "  serviceAccountName: x\n  volumes: []\nmetadata:\n  a: 1\n  b: 2\n  c: 3\n"
    )
    doc = y.parse(SourceText(sorted_text))
    style = Style.of(doc)
    assert style.sorted_keys
    hand = y.parse(SourceText("spec:\n  containers:\n  - name: a\n    image: a\n    ports: []\n"))
    assert not Style.of(hand).sorted_keys
    spec = y.get(doc.documents[0], "spec")
    assert spec is not None
    [edit] = insert_keys(doc, spec, {"securityContext": {"seccompProfile": "x", "a": 1}}, style)
    fixed = sorted_text[: edit.span.start] + edit.content + sorted_text[edit.span.start :]
    assert "  securityContext:\n    a: 1\n    seccompProfile: x\n  serviceAccountName" in fixed
    # A key that sorts first in a list item would leave the ``- ``: it goes last instead.
    container = y.get(spec, "containers").value[0]  # type: ignore[union-attr]
    [edit] = insert_keys(doc, container, {"args": ["a"]}, style)
    assert sorted_text[edit.span.start :].startswith("  serviceAccountName")


def test_workstations_and_test_runners_keep_their_tools(tmp_path: Path) -> None:
    """Sentry's Cloud Workstations image and the Tekton Dashboard's E2E base image install
    curl for their users and tests: DF003 offers its removal, withheld, saying why."""
    repo = copy_repo(tmp_path, "j15-review")
    found = findings(repo, "DF003")
    why = needs(found, "workstation/Dockerfile", "curl is installed")
    assert "builds on a workstation base image" in why
    why = needs(found, "e2e-base/Dockerfile", "curl is installed")
    assert "it builds on cypress/factory, an image for running end-to-end tests" in why


def test_an_editor_server_makes_a_development_image() -> None:
    from fixer.documents.dockerfile import parse
    from fixer.documents.text import SourceText
    from rules.nonroot_judge import debugger_install

    doc = parse(SourceText("FROM debian\nRUN curl -fsSL https://code-server.dev/install.sh | sh\n"))
    assert debugger_install(doc.stages) == (2, "installs code-server")
    vscode = (
        "FROM debian\nRUN echo 'deb https://packages.microsoft.com/repos/code stable main'"
        " > /etc/apt/sources.list.d/vscode.list && apt-get update && apt-get install -y code\n"
    )
    assert debugger_install(parse(SourceText(vscode)).stages) == (2, "installs VS Code")
    plain = "FROM debian\nRUN apt-get install -y dotnet-sdk-8.0  # packages.microsoft.com/config\n"
    assert debugger_install(parse(SourceText(plain)).stages) is None


def test_an_image_only_printed_from_gets_no_user(tmp_path: Path) -> None:
    """skaffold's proto image: built as ``gen-proto`` (a local name) and run only with
    ``cat`` or its own ``cmp``: nothing runs as its user. An image a script also serves
    from keeps its proven USER."""
    repo = copy_repo(tmp_path, "j15-review")
    found = findings(repo, "DF001")
    why = needs(found, "codegen/Dockerfile", "runs as root")
    assert "only prints or compares its files (codegen/check.sh:3 runs cmp in it and 1 more)" in (
        why
    )
    assert one(found, "served/Dockerfile", "runs as root")["fix"]["safety"] == "proven"


def test_a_folder_made_for_the_programs_logs_keeps_root(tmp_path: Path) -> None:
    """apisix-dashboard: ``RUN mkdir logs`` under its WORKDIR, root's, for manager-api's
    ``logs/error.log``: as 10001 the program could not open its log."""
    repo = copy_repo(tmp_path, "j15-review")
    found = findings(repo, "DF001")
    why = needs(found, "logsdir/Dockerfile", "runs as root")
    assert "mkdir logs at line 10 makes a folder owned by root, which the program writes" in why


def test_a_folder_a_recipe_deletes_and_refills_is_generated(tmp_path: Path) -> None:
    """Eclipse Che's ``make gen-deployment``: ``rm -rf $(DEPLOYMENT_DIR)``, then kustomize
    renders ``config/`` into it (``$${PLATFORM_DIR}/combined.yaml``, split into objects):
    its files are generated, left alone with a notice; the source's fix waits for them."""
    repo = copy_repo(tmp_path, "j15-review")
    out = tighten("check", ".", cwd=repo)
    assert "skipped 1 file written by regen/Makefile:7 (deleted and regenerated)" in out.stderr
    assert "regen/deploy/deployment/kubernetes/objects/app.Deployment.yaml:" not in out.stdout
    found = findings(repo, "K8S002")
    why = needs(found, "regen/config/manager/manager.yaml", "allowPrivilegeEscalation")
    assert why.startswith("the generated copy regenerated with it")


def test_regenerated_folders_are_read_through_variables() -> None:
    from fixer.repository.generators import outputs

    makefile = (
        "PROJECT_DIR := $(shell pwd)\n"
        "DEPLOYMENT_DIR=$(PROJECT_DIR)/deploy/deployment\n"
        "gen:\n"
        "\trm -rf $(DEPLOYMENT_DIR)\n"
        "\tmkdir -p $(DEPLOYMENT_DIR)\n"
        "\t$(KUSTOMIZE) build config > $(DEPLOYMENT_DIR)/all.yaml\n"
        "charts:\n"
        "\tHELM_DIR=$(PROJECT_DIR)/helmcharts/$(CHANNEL)\n"
        "\tTEMPLATES=$${HELM_DIR}/templates\n"
        "\trm -rf $${TEMPLATES} && mkdir -p $${TEMPLATES}\n"
        "\thelm template chart --output-dir $${TEMPLATES}\n"
        "promote:\n"  # secrets-store-csi-driver's release: a copy, edited with its source
        "\trm -rf deploy\n"
        "\tcp -r manifest_staging/deploy .\n"
        "clean:\n"
        "\trm -rf /tmp/x bin/\n"
    )
    patterns = [o.pattern for o in outputs(makefile) if o.generator == "deleted and regenerated"]
    assert patterns == ["deploy/deployment/*", "helmcharts/*/templates/*"]
    no_generator = makefile.replace("$(KUSTOMIZE) build", "cat").replace("helm template", "cat")
    assert outputs(no_generator) == []


def test_a_script_that_writes_in_its_root_owned_workdir_keeps_root(tmp_path: Path) -> None:
    """sonobuoy's gathere2e: ``WORKDIR /gathere2e``, ``COPY run.sh``, and run.sh begins
    with ``git init repo``: as 10001 it could create nothing there. A script that first
    moves to a folder of its own (``cd "$(mktemp -d)"``) leaves the USER proven."""
    repo = copy_repo(tmp_path, "j15-review")
    found = findings(repo, "DF001")
    why = needs(found, "gather/Dockerfile", "runs as root")
    assert "gather/run.sh:3 (git init repo) writes in its working folder /gathere2e" in why
    assert one(found, "scratchwork/Dockerfile", "runs as root")["fix"]["safety"] == "proven"


def test_a_functional_tests_folder_is_test_data(tmp_path: Path) -> None:
    repo = copy_repo(tmp_path, "j15-review")
    out = tighten("check", ".", cwd=repo)
    assert "skipped 1 file under functests/ (test data)" in out.stderr
    assert "functests/sleep.yaml" not in out.stdout


def test_plugin_copiers_and_desktop_extensions_keep_their_user(tmp_path: Path) -> None:
    """Headlamp's plugins image makes ``/build/plugins`` at the top of the filesystem in its
    CMD (only root may, unless a volume is there); its Docker Desktop extension image is
    files Docker Desktop reads, which no container runs."""
    repo = copy_repo(tmp_path, "j15-review")
    found = findings(repo, "DF001")
    why = needs(found, "plugins/Dockerfile", "runs as root")
    assert "CMD at line 9 makes /build/plugins, a folder the build does not create" in why
    why = needs(found, "extension/Dockerfile", "runs as root")
    assert "it is a Docker Desktop extension (the LABEL at line 3)" in why


def test_host_network_stays_for_a_pod_served_on_the_node(tmp_path: Path) -> None:
    """skipper's ingress DaemonSet serves 9999 with hostPort 9999 on the host network (the
    load balancer sends to each node): ``hostNetwork: false`` would cut it off."""
    repo = copy_repo(tmp_path, "j15-review")
    found = findings(repo, "K8S005")
    why = needs(found, "ingress/daemonset.yaml", "uses hostNetwork")
    assert "serves port 9999 with hostPort 9999" in why


def test_expected_templates_of_a_chart_test_are_test_data(tmp_path: Path) -> None:
    repo = copy_repo(tmp_path, "j15-review")
    out = tighten("check", ".", cwd=repo)
    assert "chart/tests/expected_templates/ (test data)" in out.stderr
    assert "expected_templates/default.yaml" not in out.stdout


def test_a_commented_out_block_is_uncommented_rather_than_repeated(tmp_path: Path) -> None:
    """A kubebuilder scaffold keeps ``# seccompProfile:`` / ``#   type: RuntimeDefault``
    under the pod's securityContext, with "Please uncomment the following code": the fix
    uncomments those two lines instead of writing a second copy above them."""
    repo = copy_repo(tmp_path, "j15-review")
    diff = tighten("fix", "--dry-run", "--offline", "kubebuilder/manager.yaml", cwd=repo).stdout
    assert "-        # seccompProfile:\n-        #   type: RuntimeDefault\n" in diff
    assert "+        seccompProfile:\n+          type: RuntimeDefault\n" in diff
    assert diff.count("seccompProfile") == 2  # the removed comment and the new line


def test_an_actions_runner_image_keeps_its_tools(tmp_path: Path) -> None:
    repo = copy_repo(tmp_path, "j15-review")
    found = findings(repo, "DF003")
    why = needs(found, "runner/Dockerfile", "curl is installed")
    assert "line 3 sets up a GitHub Actions runner, whose jobs run shell steps in it" in why


def test_a_comment_saying_a_tool_is_required_keeps_it(tmp_path: Path) -> None:
    """tempo-operator's test utilities image: ``# nmap, nmap-scripts: required in
    e2e-openshift-tls-profile tests`` above the install line. wget, unexplained, still goes."""
    repo = copy_repo(tmp_path, "j15-review")
    found = findings(repo, "DF003")
    nmap = one(found, "utils/Dockerfile", "nmap is installed")
    assert nmap["fixable"] is False
    assert nmap["reason"].startswith(
        'the comment at line 4 says it is needed ("nmap, nmap-scripts: required in'
    )
    assert one(found, "utils/Dockerfile", "wget is installed")["fix"]["safety"] == "proven"


def test_a_manifest_a_makefile_applies_keeps_its_literal(tmp_path: Path) -> None:
    """``make deploy-minio`` runs ``kubectl apply -f minio.yaml`` wherever it is made (CI,
    every developer): a git-ignored Secret would exist on none of those clusters."""
    repo = copy_repo(tmp_path, "j15-review")
    found = findings(repo, "K8S004")
    why = needs(found, "minio-dev/minio.yaml", "MINIO_SECRET_KEY")
    assert "minio-dev/Makefile:3 names it for others to apply as it is" in why


def test_a_repository_insecure_on_purpose_is_left_alone(tmp_path: Path) -> None:
    """OWASP WrongSecrets' README: "intentionally vulnerable code and configuration files
    with real and fake secrets": the secrets are the game. Walking it fixes nothing; a file
    named on the command line is still checked."""
    repo = copy_repo(tmp_path, "j15-ctf")
    out = tighten("check", ".", cwd=repo)
    assert 'README.md says "intentionally vulnerable": insecure on purpose' in out.stderr
    assert "K8S004" not in out.stdout
    named = tighten("check", "k8s/challenge.yaml", cwd=repo)
    assert "K8S004" in named.stdout


def test_an_image_whose_command_is_only_a_shell_is_a_toolbox(tmp_path: Path) -> None:
    """tempo-operator's test utilities image ends with ``CMD ["bash"]``: its tests give the
    commands, which a new USER would run as; withheld, like an image without a command."""
    repo = copy_repo(tmp_path, "j15-review")
    found = findings(repo, "DF001")
    why = needs(found, "utils/Dockerfile", "runs as root")
    assert why.startswith("the command the image runs: its command is only a shell (bash)")


def test_images_whose_command_comes_from_elsewhere_keep_root(tmp_path: Path) -> None:
    """nack builds one image per ``GO_APP`` (the controller, the config reloader that
    signals the server...); keel's ``Dockerfile.tests`` is built only by
    ``compose.tests.yml``; redis-operator's restore image keeps ubuntu's shell (its
    ENTRYPOINT commented out: the operator's init container gives the command)."""
    repo = copy_repo(tmp_path, "j15-review")
    found = findings(repo, "DF001")
    why = needs(found, "multi/Dockerfile", "runs as root")
    assert "line 11 installs the program the build argument GO_APP names" in why
    why = needs(found, "keeltests/Dockerfile.tests", "runs as root")
    assert why.startswith("a test image: its name says so (Dockerfile.tests) and built only by")
    why = needs(found, "restore/Dockerfile", "runs as root")
    assert "it defines no ENTRYPOINT or CMD, so it keeps ubuntu:20.04's shell" in why


def test_a_scratch_image_of_data_files_gets_no_user(tmp_path: Path) -> None:
    """The MongoDB operator's agent builder: ``FROM scratch``, a LICENSE and a tarball,
    no command: nothing runs in it. A scratch image with a program keeps its USER fix."""
    repo = copy_repo(tmp_path, "j15-review")
    found = findings(repo, "DF001")
    why = needs(found, "databuilder/Dockerfile", "runs as root")
    assert "it is FROM scratch with only data files (LICENSE, " in why
