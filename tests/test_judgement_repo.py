"""Issue 13, the merge review's rejects (podinfo, node-problem-detector, csi-driver-host-path):
the repository's own manifests decide DF001/DF003. Each case runs the CLI on a fixture
repository and asserts what is withheld (and what it needs) and what is still fixed."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixture_repos import copy_repo, findings, one, tighten

pytestmark = pytest.mark.slow


# --- 1. DF003 keeps a tool the repository's manifests run in that image --------------------


def test_df003_keeps_tools_called_by_configmap_scripts_and_probes(tmp_path: Path) -> None:
    """podinfo: a CronJob runs the image with a script from a configMapGenerator that calls
    curl; also a probe exec (wget) and a ConfigMap manifest's script (nc). The manifests
    name the image ``shop``, which a Kustomize overlay renames to the one the Makefile builds."""
    repo = copy_repo(tmp_path, "j4-configmap-tool")
    found = findings(repo, "DF003")
    curl = one(found, "Dockerfile", "curl is installed")
    assert not curl["fixable"]
    assert curl["reason"].startswith("deploy/base/scripts/warm-cache.sh:4: /scripts/warm-cache.sh")
    assert (
        'ConfigMap warm-cache-script, run by CronJob/warm-cache container "warm-cache"'
        in (curl["reason"])
    )
    wget = one(found, "Dockerfile", "wget is installed")
    assert (
        wget["reason"]
        == 'deploy/base/deployment.yaml:19: Deployment/shop container "shop" runs wget in an exec'
    )
    netcat = one(found, "Dockerfile", "netcat-openbsd is installed")
    assert netcat["reason"].startswith(
        "deploy/base/configmap-migrate.yaml:9: /opt/migrate/wait-for-db.sh"
    )
    assert "calls nc" in netcat["reason"]
    socat = one(found, "Dockerfile", "socat is installed")
    assert socat["fix"]["safety"] == "proven"

    out = tighten("fix", "--offline", "--select", "DF003", ".", cwd=repo)
    assert out.returncode == 1, out.stdout + out.stderr
    text = (repo / "Dockerfile").read_text()
    assert "apk add --no-cache ca-certificates curl wget netcat-openbsd\n" in text
    assert "socat" not in text


def test_df003_keeps_a_tool_a_likely_named_image_runs(tmp_path: Path) -> None:
    """csi-driver-host-path: nothing names the image the Dockerfile builds, but a StatefulSet
    runs ``.../hostplugin`` (the ENTRYPOINT's name) with ``command: [socat]``."""
    repo = copy_repo(tmp_path, "j4-hostplugin")
    socat = one(findings(repo, "DF003"), "Dockerfile", "socat is installed")
    assert not socat["fixable"]
    assert socat["reason"].startswith(
        'deploy/socat.yaml:20: StatefulSet/hostplugin-socat container "socat" calls socat'
    )
    assert "is named like the one this Dockerfile builds" in socat["reason"]


# --- 2. DF001 leaves an image the repository runs as root on purpose ------------------------


def test_df001_withheld_for_a_privileged_plugin_and_placement_keeps_comment(
    tmp_path: Path,
) -> None:
    repo = copy_repo(tmp_path, "j4-hostplugin")
    before = (repo / "Dockerfile").read_text()
    [df001] = findings(repo, "DF001")
    assert df001["fix"]["safety"] == "unproven"
    assert df001["fix"]["needs"].startswith(
        'proof the image starts as non-root (deploy/plugin.yaml:19 runs it privileged, a node agent (it mounts the node\'s /var/lib/kubelet/plugins/hostplugin, /var/lib/kubelet/pods) (DaemonSet/hostplugin container "plugin"'
    )
    manifest = (repo / "deploy" / "plugin.yaml").read_text()
    out = tighten("fix", "--offline", ".", cwd=repo)
    assert out.returncode == 1, out.stdout + out.stderr
    assert (repo / "Dockerfile").read_text() == before
    # The privileged plugin gets no seccompProfile: Kubernetes applies none to it.
    assert (repo / "deploy" / "plugin.yaml").read_text() == manifest
    # 5. The pod's new securityContext goes below the comment closing the volumes list.
    args = ("--offline", "--unsafe-fixes", "--select", "K8S002", "deploy/plugin.yaml")
    tighten("fix", *args, cwd=repo)
    plugin = (repo / "deploy" / "plugin.yaml").read_text()
    assert plugin.endswith(
        "          name: mountpoint-dir\n"
        "        # end plugin volumes\n"
        "      securityContext:\n"
        "        runAsNonRoot: true\n"
    )


def test_df001_follows_the_user_the_manifests_run_the_image_as(tmp_path: Path) -> None:
    repo = copy_repo(tmp_path, "j4-runas")
    found = findings(repo, "DF001")
    api = one(found, "api/Dockerfile", "runs as root")
    assert api["fix"]["safety"] == "unproven"
    assert "deploy/api.yaml:19 runs it as root with runAsUser: 0" in api["fix"]["needs"]
    agent = one(found, "agent/Dockerfile", "runs as root")
    assert (
        "deploy/agent.yaml:17 runs it with hostPID and hostNetwork as a node agent, it mounts "
        "the node's /proc" in agent["fix"]["needs"]
    )
    worker = one(found, "worker/Dockerfile", "runs as root")
    assert worker["fix"]["safety"] == "proven"
    assert "deploy/worker.yaml:15 runs it as uid 1234" in " ".join(worker["fix"]["evidence"])

    out = tighten("fix", "--offline", "--select", "DF001", ".", cwd=repo)
    assert out.returncode == 1, out.stdout + out.stderr
    assert "USER" not in (repo / "api" / "Dockerfile").read_text()
    assert "USER" not in (repo / "agent" / "Dockerfile").read_text()
    worker_text = (repo / "worker" / "Dockerfile").read_text()
    assert "useradd --no-log-init --create-home --uid 1234 --gid 1234" in worker_text
    assert "USER 1234:1234\n" in worker_text
    # Nothing runs web: a plain app still gets the configured user.
    assert "USER 10001:10001\n" in (repo / "web" / "Dockerfile").read_text()

    out = tighten("fix", "--offline", "--select", "DF001", "--unsafe-fixes", ".", cwd=repo)
    assert "USER 10001:10001\n" in (repo / "api" / "Dockerfile").read_text()


# --- 3. A test's image is not fixed like a shipped one --------------------------------------


def test_test_only_dockerfile_is_withheld_and_shipped_ones_fixed(tmp_path: Path) -> None:
    repo = copy_repo(tmp_path, "j4-testimage")
    found = findings(repo, "DF001,DF003")
    test = "test/log_generator/Dockerfile"
    needs = (
        "a test image: it is under test/ and built only by test/log_generator/Makefile:3; no "
        "manifest, compose file, workflow or Makefile outside test folders ships or runs it; "
        "if it is shipped, apply with --unsafe-fixes"
    )
    for words in ("runs as root", "curl is installed"):
        hit = one(found, test, words)
        assert hit["fix"]["safety"] == "unproven"
        assert hit["fix"]["needs"] == needs
    before = (repo / test).read_text()
    out = tighten("fix", "--offline", "--select", "DF001,DF003", ".", cwd=repo)
    assert out.returncode == 1, out.stdout + out.stderr
    assert (repo / test).read_text() == before
    # The app's image and a test folder's image that a workflow pushes are still fixed.
    assert "USER 10001:10001\n" in (repo / "Dockerfile").read_text()
    assert "USER 10001:10001\n" in (repo / "tests" / "tools" / "Dockerfile").read_text()


# --- 4. Lower-case `drop: [all]` ------------------------------------------------------------


def test_lowercase_drop_all_is_found_and_written_upper_case(tmp_path: Path) -> None:
    repo = copy_repo(tmp_path, "j4-dropall")
    out = tighten("check", ".", cwd=repo)
    assert out.returncode == 1
    assert out.stdout.count("capabilities.drop has all, not ALL") == 2
    tighten("fix", "--offline", ".", cwd=repo)
    text = (repo / "base" / "deployment.yaml").read_text()
    assert "drop: [ALL]\n" in text and '- "ALL"\n' in text
    assert tighten("check", ".", cwd=repo).returncode == 0


# --- 5. Insertion below a nested mapping's trailing comment -------------------------------


@pytest.mark.parametrize(
    ("tail", "expected"),
    [
        # Deeper than the pod spec's keys: it closes the volumes list, the block goes below.
        ("        # end volumes\n", "        # end volumes\n      securityContext:\n"),
        # At the keys' column: it introduces what follows, the block goes above.
        ("      # next: sidecars\n", "      securityContext:"),
        # YAML commented out at the line's start, its text indented as the list it extends
        # (kured's optional arguments): it stays with that list, the block goes below.
        (
            "#          emptyDir: {}\n#        - name: cache\n",
            "#        - name: cache\n      securityContext:\n",
        ),
        # A comment at the line's start that is prose, or YAML at the keys' level: above.
        ("# The volumes above are scratch space.\n", "      securityContext:"),
        ("#      hostNetwork: true\n", "      securityContext:"),
        # Deeper comments after a blank line still belong to the last entry (ingress-nginx's
        # commented-out container volumeMounts): below them, above the blank line that
        # separates them from a comment at the keys' column.
        (
            "\n        # - name: cache\n        #   emptyDir: {}\n\n      # volumes: see docs\n",
            "        #   emptyDir: {}\n      securityContext:\n",
        ),
        # A blank line then a comment at the keys' column: above the blank line.
        ("\n      # next: sidecars\n", "          emptyDir: {}\n      securityContext:"),
    ],
)
def test_insertion_keeps_a_nested_trailing_comment_with_its_entry(
    tmp_path: Path, tail: str, expected: str
) -> None:
    text = (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  template:\n    spec:\n"
        "      containers:\n        - name: app\n          image: registry.example/app:1\n"
        "          securityContext:\n            runAsUser: 1000\n"
        "      volumes:\n        - name: data\n          emptyDir: {}\n"
    )
    text = text.replace("kind: Pod", "kind: Deployment").replace("v1\n", "apps/v1\n", 1)
    path = tmp_path / "deploy.yaml"
    path.write_text(text + tail)
    tighten("fix", "--offline", "--select", "K8S002", ".", cwd=tmp_path)
    fixed = path.read_text()
    assert expected in fixed
    if expected == "      securityContext:":  # above the comment
        assert fixed.index("      securityContext:\n        seccompProfile") < fixed.index(tail)


# --- 6. images the repository runs on the host's files (merge review: opentelemetry-demo) ---


def test_df001_withheld_where_the_repository_runs_the_image_on_host_files(
    tmp_path: Path,
) -> None:
    """Code generators run with the tree mounted (``docker run -v $(pwd):/build "$1-gen"``
    after ``docker build -f "tools/$1/Dockerfile" -t "$1-gen"``), a test runner whose
    compose service mounts a folder it writes, and an image only built with ``--output``
    keep running as root; a tool run with ``--user`` and a plain web app still get USER."""
    repo = copy_repo(tmp_path, "j5-hostwrites")
    found = findings(repo, "DF001")
    proto = one(found, "tools/proto/Dockerfile", "runs as root")
    assert proto["fix"]["needs"].startswith(
        "evidence the image works as a non-root user where the repository runs it "
        "(gen.sh:5 runs it with the host folder a computed path mounted and no --user"
    )
    e2e = one(found, "e2e-runner/Dockerfile", "runs as root")
    # Built and run only by a compose file named for tests: a test image, said first (the
    # host folder it writes is the other reason it keeps root).
    assert e2e["fix"]["needs"].startswith(
        "a test image: it is under e2e-runner/ and built only by compose.tests.yaml:4"
    )
    assert "cypress.config.js" not in e2e["fix"]["needs"]  # a file mounted in is only read
    # opentelemetry-demo's flagd-ui: compose names the Dockerfile through `.env`.
    flags = one(found, "flags-ui/Dockerfile", "runs as root")
    assert "compose.yaml:7 runs it with the host folder ./flags mounted" in flags["fix"]["needs"]
    apk = one(found, "app/android.Dockerfile", "runs as root")
    assert "Makefile:5 builds it with --output: its files are exported" in apk["fix"]["needs"]
    tests = one(found, "test/telemetry/Dockerfile", "runs as root")
    assert (
        "Makefile:14 builds it as a local image (demo-telemetry-tests)" in (tests["fix"]["needs"])
    )
    # bank-of-anthos: an e2e runner in a `*-tests` folder, built by skaffold as e2e-tests.
    ui = one(found, "ci/ui-tests/Dockerfile", "runs as root")
    assert ui["fix"]["needs"].startswith(
        "a test image: it is under ci/ui-tests/ and skaffold-e2e.yaml:5 builds it as a test "
        "image (e2e-tests)"
    )
    out = tighten("fix", "--select", "DF001", ".", cwd=repo)
    assert out.returncode == 1, out.stderr  # the withheld findings stay open
    for shipped in ("web/Dockerfile", "fmt/Dockerfile"):
        assert "USER 10001:10001" in (repo / shipped).read_text(), shipped
    for kept in ("tools/proto/Dockerfile", "e2e-runner/Dockerfile", "app/android.Dockerfile"):
        assert "USER" not in (repo / kept).read_text(), kept


def test_run_commands_are_read_from_scripts_and_makefiles() -> None:
    from fixer.repository.commands import in_makefile, runs_in_script

    make = "CMD ?= docker\nx:\n\t$(CMD) build -f a/Dockerfile -o type=local,dest=out .\n"
    assert [c.exported for c in in_makefile(make)] == [True]
    pushed = "x:\n\tdocker buildx build -o type=registry -t r/a .\n"
    assert [c.exported for c in in_makefile(pushed)] == [False]
    script = (
        "docker run --rm -v $(pwd):/src -v data:/data -v /etc/tz:/etc/tz:ro tool\n"
        "podman run --mount type=bind,source=./out,target=/o -u 1000 other\n"
        "docker run --name x redis\n"
    )
    runs = runs_in_script(script)
    assert [(r.image, r.mounts, r.user) for r in runs] == [
        ("tool", ("\x00",), None),
        ("other", ("./out",), "1000"),
        ("redis", (), None),
    ]


# --- 7. skaffold file sync (merge review: GoogleContainerTools/skaffold examples) -------------


def test_df001_withheld_when_skaffold_syncs_files_into_the_container(tmp_path: Path) -> None:
    """`skaffold dev` copies changed files into the running container as its user: a USER
    added to an image whose files the build made as root breaks the sync. An artifact
    without `sync:` still gets its USER."""
    dockerfile = (
        "FROM node:22-alpine\nWORKDIR /app\nCOPY package* ./\nRUN npm install\n"
        'COPY . .\nCMD ["npm", "run", "dev"]\n'
    )
    for name in ("synced", "plain"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "Dockerfile").write_text(dockerfile)
    (tmp_path / "skaffold.yaml").write_text(
        "apiVersion: skaffold/v4beta11\nkind: Config\nbuild:\n  artifacts:\n"
        "  - image: synced-app\n    context: synced\n    sync:\n      manual:\n"
        "      - src: 'src/**/*.js'\n        dest: .\n"
        "  - image: plain-app\n    context: plain\n"
    )
    found = findings(tmp_path, "DF001")
    synced = one(found, "synced/Dockerfile", "runs as root")
    assert (
        "skaffold.yaml:5 syncs changed files into its running container (Skaffold sync"
        in (synced["fix"]["needs"])
    )
    plain = one(found, "plain/Dockerfile", "runs as root")
    assert "needs" not in plain["fix"] and plain["fix"]["safety"] == "proven"
    tighten("fix", "--offline", "--select", "DF001", ".", cwd=tmp_path)
    assert "USER" not in (tmp_path / "synced" / "Dockerfile").read_text()
    assert "USER 1000:1000" in (tmp_path / "plain" / "Dockerfile").read_text()


def test_df001_withheld_for_daemon_clients_and_site_previewers(tmp_path: Path) -> None:
    """skaffold's review rejects: the ``pack`` image (its shell-run entrypoint defaults to
    ``pack``, a Docker daemon client) and the hugo docs previewer keep root; a plain Node
    app in the same repository still gets its USER."""
    repo = copy_repo(tmp_path, "j6-toolimages")
    found = findings(repo, "DF001")
    pack = one(found, "deploy/buildpacks/Dockerfile", "runs as root")
    assert (
        "the entrypoint deploy/buildpacks/third_party/entrypoint.sh:4 runs pack, a client of "
        "the Docker daemon" in pack["fix"]["needs"]
    )
    docs = one(found, "deploy/docs/Dockerfile", "runs as root")
    assert (
        "line 9 ships hugo, a site generator that writes into the site folder"
        in (docs["fix"]["needs"])
    )
    out = tighten("fix", "--select", "DF001", ".", cwd=repo)
    assert out.returncode == 1, out.stderr  # the withheld findings stay open
    assert "USER 1000:1000" in (repo / "web/Dockerfile").read_text()  # node's own user
    for kept in ("deploy/buildpacks/Dockerfile", "deploy/docs/Dockerfile"):
        assert "USER" not in (repo / kept).read_text(), kept


def test_a_manifest_a_generated_bundle_copies_keeps_its_fixes_offered(tmp_path: Path) -> None:
    """argo-rollouts renders manifests/dashboard-install.yaml (marked DO NOT EDIT) from
    manifests/dashboard/ with kustomize, and CI checks the render is current: hardening the
    source alone fails that check. The example Deployment no bundle holds is still fixed."""
    repo = copy_repo(tmp_path, "j7-generated-bundle")
    found = findings(repo, "K8S002")
    source = one(found, "manifests/dashboard/deployment.yaml", "allowPrivilegeEscalation")
    assert source["fix"]["needs"].startswith(
        "the generated copy regenerated with it (manifests/dashboard-install.yaml (marked: "
        "'# This is an auto-generated file. DO NOT EDIT') holds Deployment/rollouts-dashboard)"
    )
    example = one(found, "examples/canary.yaml", "allowPrivilegeEscalation")
    assert "needs" not in example["fix"] or not example["fix"]["needs"]
    before = (repo / "manifests/dashboard/deployment.yaml").read_text()
    out = tighten("fix", "--select", "K8S002", ".", cwd=repo)
    assert out.returncode == 1, out.stderr
    assert (repo / "manifests/dashboard/deployment.yaml").read_text() == before
    assert "allowPrivilegeEscalation: false" in (repo / "examples/canary.yaml").read_text()
    tighten("fix", "--select", "K8S002", "--unsafe-fixes", ".", cwd=repo)
    assert (
        "allowPrivilegeEscalation: false"
        in (repo / "manifests/dashboard/deployment.yaml").read_text()
    )


def test_bundle_identities_are_read_by_lines() -> None:
    from fixer.repository.rendered import identities

    text = (
        "# generated\napiVersion: v1\nkind: Service\nmetadata:\n  labels:\n    name: x\n"
        "  name: svc\n---\nkind: Deployment\nmetadata:\n  annotations:\n    a: b\n"
        "  name: 'web'\nspec:\n  template:\n    metadata:\n      name: inner\n--- # next\n"
        "kind: ConfigMap\ndata:\n  name: not-metadata\n"
    )
    assert list(identities(text)) == [("Service", "svc"), ("Deployment", "web")]


def test_a_secret_move_is_withheld_where_a_published_bundle_copies_the_object(
    tmp_path: Path,
) -> None:
    """sock-shop: CI applies complete-demo.yaml, concatenated from manifests/* and checked
    to be in sync. The bundle's literal stays (published), so the source's must too, or the
    sync check fails; a manifest no bundle copies still gets its move."""
    deployment = (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n  namespace: shop\n"
        "spec:\n  template:\n    spec:\n      containers:\n      - name: db\n"
        "        image: mysql:8.4\n        env:\n        - name: MYSQL_ROOT_PASSWORD\n"
        "          value: Zq8-hunter2-Kx5wP0u9\n"
    )
    (tmp_path / "manifests").mkdir()
    (tmp_path / "other").mkdir()
    (tmp_path / "manifests" / "db.yaml").write_text(deployment.format(name="catalogue-db"))
    # Its own value: one the bundle also holds would stay in git anyway (``kept_elsewhere``).
    other_db = deployment.format(name="orders-db").replace("Zq8-hunter2", "Mw4-hunter3")
    (tmp_path / "other" / "db.yaml").write_text(other_db)
    (tmp_path / "complete-demo.yaml").write_text(deployment.format(name="catalogue-db"))
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / ".github" / "workflows" / "ci.yaml").write_text(
        "jobs:\n  demo:\n    steps:\n    - run: kubectl apply -f complete-demo.yaml\n"
    )
    found = findings(tmp_path, "K8S004")
    source = one(found, "manifests/db.yaml", "literal secret")
    assert (
        ".github/workflows/ci.yaml:4 (through complete-demo.yaml, which holds the same object)"
        in source["fix"]["needs"]
    )
    other = one(found, "other/db.yaml", "literal secret")
    assert other["fix"]["safety"] != "unproven"


def test_a_readme_that_runs_the_image_on_host_files_keeps_root(tmp_path: Path) -> None:
    """sock-shop's graphs/README.md: ``docker build -t weaveworks/grafanalib .`` then
    ``docker run -v ${PWD}:/opt/code weaveworks/grafanalib ...``, which writes JSON into the
    reader's folder. A README that only shows `docker run -p` still lets USER in."""
    graphs, web = tmp_path / "graphs", tmp_path / "web"
    graphs.mkdir()
    web.mkdir()
    dockerfile = 'FROM python:3.12-alpine\nWORKDIR /opt/code\nCMD ["/bin/sh", "-c"]\n'
    (graphs / "Dockerfile").write_text(dockerfile)
    (graphs / "README.md").write_text(
        "# Dashboards\n\nBuild the image:\n\n```\ndocker build -t acme/grafanalib .\n```\n\n"
        "Generate them:\n\n```console\n$ docker run --rm -it -v ${PWD}:/opt/code "
        "acme/grafanalib /bin/sh -c 'generate-dashboard -o x.json x.py'\n```\n\n"
        "```python\n# not shell: docker run -v /x:/y acme/grafanalib\n```\n"
    )
    (web / "Dockerfile").write_text(
        'FROM python:3.12-alpine\nCOPY app.py /\nCMD ["python", "/app.py"]\n'
    )
    (web / "README.md").write_text(
        "```sh\ndocker build -t acme/web .\ndocker run -p 8080:8080 acme/web\n```\n"
    )
    found = findings(tmp_path, "DF001")
    kept = one(found, "graphs/Dockerfile", "runs as root")
    assert "graphs/README.md:12 runs it with the host folder" in kept["fix"]["needs"]
    fixed = one(found, "web/Dockerfile", "runs as root")
    assert not fixed["fix"].get("needs")


def test_shell_blocks_keep_line_numbers_and_drop_prompts() -> None:
    from fixer.repository.index import shell_blocks

    text = "intro\n```bash\n$ make\necho hi\n```\n~~~yaml\nkind: X\n~~~\n````\n```\ninner\n````\n"
    assert shell_blocks(text).split("\n") == [
        "",
        "",
        "make",
        "echo hi",
        "",
        "",
        "",
        "",
        "",
        "```",
        "inner",
        "",
        "",
    ]
