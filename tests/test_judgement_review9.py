"""Judgement classes from the ninth review (Jenkins, an NFS provisioner, local-path and
Longhorn's node installers, a training repository): each fixture asserts what is withheld
and what is still fixed beside it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from fixer.repository import generators
from tests.fixture_repos import copy_repo, findings, needs, one, tighten

pytestmark = pytest.mark.slow


def test_ci_server_keeps_its_tools_and_git_keeps_its_ssh_client(tmp_path: Path) -> None:
    """A Jenkins controller image: git fetches over SSH at run time, and the jobs' shell
    steps use curl; a plain service image beside it still loses curl."""
    repo = copy_repo(tmp_path, "j9-ciserver")
    found = findings(repo, "DF003")
    ssh = one(found, "Dockerfile", "openssh-client")
    assert ssh["fixable"] is False
    assert "line 2 installs git, which runs ssh for SSH remotes" in ssh["message"]
    curl = one(found, "Dockerfile", "curl is installed")
    assert curl["fix"]["safety"] == "unproven"
    assert "the image runs jenkins.sh, a CI server or agent" in curl["fix"]["needs"]
    out = tighten("fix", "--select", "DF003", ".", cwd=repo)
    assert out.returncode == 1, out.stderr
    assert "curl" not in (repo / "app/Dockerfile").read_text()
    assert "openssh-client" in (repo / "Dockerfile").read_text()
    assert "curl" in (repo / "Dockerfile").read_text()


def test_df001_keeps_root_for_shared_storage_and_node_admin_packages(tmp_path: Path) -> None:
    """The provisioner writes an NFS share root owned until now (the Dockerfile at the
    root is linked to the manifest through the Go module's name); the quota helper installs
    xfsprogs; another makes /data as root; a test runner moves the Docker client into
    /usr/bin. A Python web image still gets its USER: ``python`` names no image. A scratch
    image of files only (RPMs for other images) is not reported."""
    repo = copy_repo(tmp_path, "j9-storage")
    found = findings(repo, "DF001")
    for path, why in (
        (
            "Dockerfile",
            "deploy/deployment.yaml:18 mounts nfs volume root at /persistentvolumes, whose "
            "files root wrote until now",
        ),
        ("quota/Dockerfile", "line 2 installs xfsprogs, which administers the node's disks"),
        ("datadir/Dockerfile", "mkdir /data at line 2 makes a folder owned by root"),
        ("runner/Dockerfile", "installs /usr/bin/docker, a Docker client"),
    ):
        assert why in needs(found, path, "runs as root"), path
    assert not [f for f in found if f["path"] == "rpms/Dockerfile"]  # files only: nothing runs
    out = tighten("fix", "--select", "DF001", ".", cwd=repo)
    assert out.returncode == 1, out.stderr
    assert "useradd --no-log-init --create-home" in (repo / "web/Dockerfile").read_text()
    assert "USER 10001" in (repo / "web/Dockerfile").read_text()
    assert "USER" not in (repo / "Dockerfile").read_text()
    assert "USER" not in (repo / "quota/Dockerfile").read_text()


def test_node_installers_and_mounting_servers_keep_their_privileges(tmp_path: Path) -> None:
    """nsenter into the node makes a node agent (hostPID, hostNetwork and privileged stay);
    SYS_ADMIN added beside privileged keeps privileged; root listening on port 80 (socat)
    and an interactive shell keep their capabilities. A privileged web Deployment still
    gets privileged: false and a root sleeper still drops ALL."""
    repo = copy_repo(tmp_path, "j9-nodeinstall")
    found = findings(repo)
    for path, words, why in (
        ("install-cifs.yaml", "uses hostPID", 'its init container "install" runs nsenter'),
        ("install-cifs.yaml", "uses hostNetwork", 'its init container "install" runs nsenter'),
        ("install-cifs.yaml", "is privileged", 'its init container "install" runs nsenter'),
        ("nfs-server.yaml", "is privileged", "it adds SYS_ADMIN, for mounts or namespaces"),
        ("socat.yaml", "not dropped", "NET_BIND_SERVICE to listen on port 80 as root"),
        ("shell.yaml", "not dropped", "stdin and tty make it an interactive shell"),
    ):
        assert why in needs(found, path, words), (path, words)
    out = tighten("fix", ".", cwd=repo)
    assert out.returncode == 1, out.stderr
    assert "privileged: false" in (repo / "web.yaml").read_text()
    assert "- ALL" in (repo / "sleeper.yaml").read_text()
    installer = (repo / "install-cifs.yaml").read_text()
    assert "hostPID: true" in installer and "privileged: true" in installer
    assert "privileged: true" in (repo / "nfs-server.yaml").read_text()
    assert "drop" not in (repo / "socat.yaml").read_text()
    assert "drop" not in (repo / "shell.yaml").read_text()


def test_generated_shown_example_and_template_files_are_left_alone(tmp_path: Path) -> None:
    """A script writes deploy/app*.yaml with helm template (skipped as generated, with the
    script's line); slides include k8s/pod.yaml verbatim (its fixes withheld); an example's
    password stays (people apply examples as they are); a ytt template is skipped like a
    Helm one; a compose file found by content runs curl in its healthcheck through a
    symbolic link to the build folder. Beside them deploy/keep.yaml and k8s/other.yaml are
    still fixed."""
    repo = copy_repo(tmp_path, "j9-shown")
    os.symlink("../app", repo / "stacks" / "app")
    out = tighten("check", "--format", "json", ".", cwd=repo)
    report = json.loads(out.stdout)
    found = report["findings"]
    assert not [f for f in found if f["path"].startswith(("deploy/app", "ytt/"))]
    notices = json.dumps(report["notices"]) + out.stderr
    assert "written by scripts/gen.sh:7 (helm template)" in notices
    assert "looks like a ytt template" in notices
    assert "slides/intro.md:6 includes it" in needs(
        found, "k8s/pod.yaml", "allowPrivilegeEscalation"
    )
    example = "it sits under examples/, an example people apply as it is"
    assert example in needs(found, "examples/demo.yaml", "MYSQL_ROOT_PASSWORD")
    healthcheck = 'stacks/app+health.yml:6: compose service "app" calls curl in its healthcheck'
    assert healthcheck in one(found, "app/Dockerfile", "curl")["message"]
    fixed = tighten("fix", ".", cwd=repo)
    assert fixed.returncode == 1, fixed.stderr
    for path in ("deploy/keep.yaml", "k8s/other.yaml"):
        assert "allowPrivilegeEscalation: false" in (repo / path).read_text(), path
    for path in ("deploy/app.yaml", "k8s/pod.yaml", "ytt/app.yaml"):
        assert "securityContext" not in (repo / path).read_text(), path
    assert "Zq8v-kd93LxP" in (repo / "examples/demo.yaml").read_text()
    assert "curl" in (repo / "app/Dockerfile").read_text()


def test_generator_outputs_follow_variables_and_loops() -> None:
    """Helm, jsonnet (named through a variable, writing a folder) and ytt outputs count; a
    kustomize build of plain manifests does not (its bundle is edited with its sources),
    unless it writes one versioned file per release."""
    text = (
        'OUTPUTS=("$ROOT/deploy/a.yaml" "$ROOT/deploy/b.yaml")\n'
        "for OUT in ${OUTPUTS[@]}; do\n"
        '  helm template app chart \\\n    >"$OUT"\n'
        "done\n"
        "$(KUSTOMIZE) build overlays/prod > dist/install.yaml\n"
        "${JSONNET} -J vendor -m manifests example.jsonnet\n"
        "helm template x chart > /tmp/scratch.yaml\n"
        "kubectl apply -f deploy/c.yaml\n"
        '"${KUSTOMIZE}" build config/default > "releases/app-${VERSION}.yaml"\n'
    )
    found = {(o.pattern, o.line, o.generator, o.in_step) for o in generators.outputs(text)}
    assert found == {
        ("deploy/a.yaml", 3, "helm template", False),
        ("deploy/b.yaml", 3, "helm template", False),
        # a bundle of the sources, edited with them: a rendering, not generated
        ("dist/install.yaml", 6, "kustomize build", True),
        ("manifests/*.yaml", 7, "jsonnet", False),  # a folder of outputs
        ("releases/app-*.yaml", 10, "kustomize build", False),  # one file per release
    }
    [output] = [o for o in generators.outputs(text) if o.pattern == "deploy/a.yaml"]
    assert generators.matches(output, "deploy/a.yaml")
    assert not generators.matches(output, "sub/project/deploy/a.yaml")
    assert generators.matches(output, "sub/project/deploy/a.yaml", ending=True)
    assert not generators.matches(output, "deploy/c.yaml")


def test_a_commented_fluentd_setting_is_not_a_ytt_annotation() -> None:
    from fixer.documents.text import SourceText
    from fixer.documents.yaml import nodes

    config_map = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: fluentd\ndata:\n"
        "  fluent.conf: |\n    <match fluent.**>\n    #@type null\n    </match>\n"
    )
    assert nodes.parse(SourceText(config_map)).documents
    with pytest.raises(nodes.TemplateError):
        nodes.parse(SourceText("#@ load('@ytt:data', 'data')\n---\nname: #@ data.values.n\n"))


def test_release_copies_test_resources_root_home_mounts_and_likely_bases(tmp_path: Path) -> None:
    """Strimzi: ``install/`` holds the last release's copies (``DO_NOT_EDIT.md``), Maven's
    ``src/test/resources`` holds test inputs, and a base image its folder's Makefile builds
    under a name a shared included Makefile makes is derived from (``FROM acme/base``
    beside ``base/``) with RUN steps. kwok: the manifest mounts its config under ``/root``.
    The packaging copy is fixed."""
    repo = copy_repo(tmp_path, "j9-release")
    out = tighten("check", "--format", "json", ".", cwd=repo)
    report = json.loads(out.stdout)
    found = report["findings"]
    assert not [f for f in found if f["path"].startswith(("install/", "systemtest/"))]
    notices = json.dumps(report["notices"])
    assert "under install/ (marked by DO_NOT_EDIT.md)" in notices
    assert "under systemtest/src/test/resources/ (test data)" in notices
    base = needs(found, "docker-images/base/Dockerfile", "runs as root")
    assert "docker-images/operator/Dockerfile:2 would run as the user this sets" in base
    tool = needs(found, "images/tool/Dockerfile", "runs as root")
    assert "deploy/tool.yaml:18 mounts config at /root/.tool/config.yaml, in root's home" in tool
    fixed = tighten("fix", "--offline", ".", cwd=repo)
    assert fixed.returncode == 1, fixed.stderr
    assert (
        "allowPrivilegeEscalation: false" in (repo / "packaging/install/operator.yaml").read_text()
    )
    assert "securityContext" not in (repo / "install/operator.yaml").read_text()
    assert "USER" not in (repo / "docker-images/base/Dockerfile").read_text().replace(
        "USER root", ""
    )
