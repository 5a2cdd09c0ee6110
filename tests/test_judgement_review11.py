"""Judgement classes from the eleventh review (tetragon, chaos-mesh, tailscale): each
assertion names what is withheld or refused, and what is still fixed beside it."""

from __future__ import annotations

from pathlib import Path

import pytest

from fixer.documents.shell.script import condition_of, parse
from fixer.repository.generators import go_outputs
from fixer.repository.sources import folder_verdict
from tests.fixture_repos import copy_repo, findings, needs, one, tighten

pytestmark = pytest.mark.slow


def test_test_and_development_images_keep_their_tools_and_root(tmp_path: Path) -> None:
    """``Dockerfile.test`` (built by the Makefile as a test-named image), a helper under
    ``e2e-test/`` and ``Dockerfile.dev`` (strace, vim, netcat) are not shipped: DF001 and
    DF003 are withheld there. ``app/Dockerfile`` still loses curl and gets a USER."""
    repo = copy_repo(tmp_path, "j11-review")
    found = findings(repo, "DF001,DF003")
    test = needs(found, "Dockerfile.test", "netcat-traditional is installed")
    assert "a test image: its name says so (Dockerfile.test)" in test
    assert "Makefile:2 builds it" in test
    assert "a test image" in needs(found, "Dockerfile.test", "runs as root")
    assert "under e2e-test/" in needs(found, "e2e-test/helper/Dockerfile", "runs as root")
    dev = needs(found, "Dockerfile.dev", "netcat-traditional is installed")
    assert "its name says it is a development or debugging image (Dockerfile.dev)" in dev
    assert "its name says it is a development or debugging image" in needs(
        found, "Dockerfile.dev", "as root"
    )
    assert one(found, "app/Dockerfile", "curl is installed")["fix"]["safety"] == "proven"
    out = tighten("fix", "--select", "DF001,DF003", ".", cwd=repo)
    assert out.returncode == 1, out.stderr
    app = (repo / "app/Dockerfile").read_text()
    assert "curl" not in app and "USER 10001" in app
    assert "netcat-traditional" in (repo / "Dockerfile.dev").read_text()
    assert "netcat-traditional" in (repo / "Dockerfile.test").read_text()


def test_removal_after_last_use_is_refused_where_it_could_break_the_build(tmp_path: Path) -> None:
    """tailscale's SSH test image installs ssh under `if ... fi` per base image: an appended
    `apk del openssh && apt-get purge ...` fails on either base. A QNAP build image runs a
    script of a repository it clones after using curl: that script may call curl."""
    repo = copy_repo(tmp_path, "j11-review")
    found = findings(repo, "DF003")
    ssh = one(found, "testcontainers/Dockerfile", "openssh is installed")
    assert ssh.get("fix") is None
    assert "installs it only when a condition holds (inside `if`)" in ssh["message"]
    curl = one(found, "builder/Dockerfile", "curl is installed")
    assert curl.get("fix") is None
    assert "line 4 runs code of a repository cloned during the build" in curl["message"]
    before = (repo / "testcontainers/Dockerfile").read_text()
    tighten("fix", "--select", "DF003", ".", cwd=repo)
    assert (repo / "testcontainers/Dockerfile").read_text() == before


def test_condition_of_a_command() -> None:
    script = parse('if echo "$B" | grep alpine; then apk add openssh; fi && apt-get update')
    install, update = script.commands[2], script.commands[3]
    assert condition_of(script, install) == "if"
    assert condition_of(script, update) is None
    script = parse("apt-get install -y curl || apk add curl")
    assert condition_of(script, script.commands[0]) is None
    assert condition_of(script, script.commands[1]) == "||"
    script = parse("for p in a b; do echo $p; done; case $x in a) apk add curl;; esac")
    assert condition_of(script, script.commands[-1]) == "case"


def test_debugger_attach_and_vpn_keep_their_privileges(tmp_path: Path) -> None:
    """A `dlv attach` image needs ptrace (root); a tailscale container in kernel mode
    needs privileged for /dev/net/tun. A privileged web Deployment still gets
    `privileged: false`, and the attack demonstrations under docs/ are not read."""
    repo = copy_repo(tmp_path, "j11-review")
    found = findings(repo, "DF001,K8S001")
    assert "CMD at line 6 runs dlv attach: a debugger attaching" in needs(
        found, "debug/Dockerfile", "runs as root"
    )
    assert "its image is tailscale, a VPN" in needs(found, "k8s/vpn.yaml", "is privileged")
    assert one(found, "k8s/web.yaml", "is privileged")["fix"]["safety"] == "proven"
    assert not [f for f in found if f["path"].startswith("docs/")]
    out = tighten("check", "--select", "K8S001", ".", cwd=repo)
    assert "skipped 1 file under docs/02_attack_files/ (test data)" in out.stderr
    assert folder_verdict(("docs", "02_attack_files")) is not None
    assert folder_verdict(("docs", "exploits")) is not None
    assert folder_verdict(("docs", "attachments")) is None


def test_container_context_a_component_sets_in_every_render_is_not_edited(tmp_path: Path) -> None:
    """node-feature-discovery's Component sets every nfd container's whole securityContext
    (JSON6902 `add`, target `name: nfd.*`) in each overlay: the base gets only the pod-level
    seccompProfile, and the container fields are reported where the patch sets them. With a
    second overlay that deploys the base as it is, the container fields are fixed again."""
    repo = copy_repo(tmp_path, "j11-review")
    found = findings(repo, "K8S002")
    dead = one(found, "kustomize/base/deploy.yaml", "allowPrivilegeEscalation is not false")
    assert dead.get("fix") is None
    assert "kustomize/components/common/securitycontext.yaml" in str(dead)
    assert "sets this container's whole securityContext in every render" in str(dead)
    out = tighten("fix", "--select", "K8S002", "kustomize", cwd=repo)
    assert out.returncode == 1, out.stderr
    base = (repo / "kustomize/base/deploy.yaml").read_text()
    assert "seccompProfile" in base and "allowPrivilegeEscalation" not in base
    plain = tmp_path / "plain"
    plain.mkdir()
    repo = copy_repo(plain, "j11-review")
    dev = repo / "kustomize/overlays/dev"
    dev.mkdir()
    (dev / "kustomization.yaml").write_text("resources:\n- ../../base\n")
    tighten("fix", "--select", "K8S002", "kustomize", cwd=repo)
    assert "allowPrivilegeEscalation: false" in (repo / "kustomize/base/deploy.yaml").read_text()


def test_manifest_a_go_generator_writes_is_generated(tmp_path: Path) -> None:
    """tailscale's cmd/k8s-operator/generate/main.go writes deploy/manifests/operator.yaml
    (`os.WriteFile(filepath.Join(repoRoot, "..."))`) and a test checks it is current: the
    manifest is skipped as generated, with the generator's line."""
    repo = copy_repo(tmp_path, "j11-review")
    out = tighten("check", "--select", "K8S002", ".", cwd=repo)
    assert "skipped 1 file written by tools/generate/main.go:12 (a Go generator)" in out.stderr
    assert "operator.yaml:" not in out.stdout
    found = go_outputs('os.WriteFile(filepath.Join(root, "crds", name), b, 0o644)\n')
    assert [o.pattern for o in found] == []  # no suffix: not a manifest
    found = go_outputs('f, _ := os.Create(filepath.Join(root, "crds", kind+".yaml"))\n')
    assert [o.pattern for o in found] == ["crds/*.yaml"]
    found = go_outputs('os.WriteFile("deploy/all.yaml", b, 0o644)\n')
    assert [o.pattern for o in found] == ["deploy/all.yaml"]


def test_published_releases_suites_and_program_defaults(tmp_path: Path) -> None:
    """litmus keeps every release's manifests (`docs/3.0.0/`, `operator-v3.31.0.yaml`
    beside older versions): frozen copies, skipped; its `-latest` file is still fixed.
    authelia's internal/suites/ are test environments. syncthing's crash receiver stores
    reports in its working folder (`default:"."`), which is root's: DF001 is withheld, with
    the source line, while a program without such a default still gets its USER."""
    repo = copy_repo(tmp_path, "j11-review")
    out = tighten("check", "--select", "K8S002,DF001", ".", cwd=repo)
    assert "published/3.1.0/operator.yaml" not in out.stdout
    assert "operator-v1.0.0.yaml" not in out.stdout and "operator-v1.1.0.yaml" not in out.stdout
    assert "published/manifests/operator-latest.yaml" in out.stdout
    assert "(release copies: files named after their versions) (vendored)" in out.stderr
    assert "internal/suites" not in out.stdout
    found = findings(repo, "DF001")
    why = needs(found, "images/crashd/Dockerfile", "runs as root")
    assert 'cmd/crashd/main.go:4 makes Dir default to ".", a path relative to the working' in why
    # A default it only reads (`-source ./config.yaml`) is no reason to keep root.
    assert one(found, "images/reader/Dockerfile", "runs as root")["fix"]["safety"] == "proven"
    assert one(found, "app/Dockerfile", "runs as root")["fix"]["safety"] == "proven"


def test_example_names_and_project_defaults_keep_their_values(tmp_path: Path) -> None:
    """A getting-started manifest is applied as it is (the git-ignored Secret would be in
    nobody's copy); a password that is the project's own name is a documented default, and
    the finding never prints it. Another secret of the same install manifest still moves."""
    repo = copy_repo(tmp_path, "j11-review")
    found = findings(repo, "K8S004")
    started = needs(found, "published/manifests/getting-started.yaml", "DB_PASSWORD")
    assert "its name (getting-started.yaml) says it is an example" in started
    default = needs(found, "published/manifests/install.yaml", "ADMIN_PASSWORD")
    assert "the value is the project's own name" in default
    assert "j11-review" not in default
    moved = one(found, "published/manifests/install.yaml", "SESSION_SECRET")
    assert moved["fix"]["safety"] == "proven"


def test_helm_chart_volume_keeps_root(tmp_path: Path) -> None:
    """chaos-mesh's chart keeps the dashboard's SQLite database on
    `dashboard.persistentVolume` (`/data`): a volume the cluster makes root-owned, which a
    new USER could not write. A component whose chart sets fsGroup still gets its USER."""
    repo = copy_repo(tmp_path, "j11-review")
    found = findings(repo, "DF001")
    why = needs(found, "images/store/Dockerfile", "runs as root")
    assert "the Helm chart's charts/app/values.yaml:7 gives it a persistent volume" in why
    assert "(store.persistence at /data), owned by root unless the pod sets fsGroup" in why
    assert one(found, "images/cache/Dockerfile", "runs as root")["fix"]["safety"] == "proven"
