"""The command line as users run it: exit codes, output formats, discovery, bad input."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from unidiff import PatchSet  # type: ignore[attr-defined]

pytestmark = pytest.mark.slow  # a CLI process per case: deselected by `-m "not slow"`

ROOT_DOCKERFILE = 'FROM debian:bookworm-slim\nCOPY app /app\nCMD ["/app"]\n'
CLEAN_DOCKERFILE = 'FROM debian:bookworm-slim\nUSER 1000:1000\nCMD ["/app"]\n'
PRIVILEGED_POD = """apiVersion: v1
kind: Pod
metadata:
  name: p
spec:
  containers:
  - name: a
    image: nginx:1.27
    securityContext:
      privileged: true  # keep this comment
"""


def tighten(*args: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fixer", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        input=stdin,
        env={**os.environ, "NO_COLOR": "1"},
        check=False,
    )


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    (tmp_path / "Dockerfile").write_text(ROOT_DOCKERFILE)
    (tmp_path / "k8s").mkdir()
    (tmp_path / "k8s" / "pod.yaml").write_text(PRIVILEGED_POD)
    return tmp_path


def test_version(tmp_path: Path) -> None:
    out = tighten("--version", cwd=tmp_path)
    assert out.returncode == 0
    assert out.stdout.startswith("tighten ")


def test_check_reports_findings_and_exits_1(project: Path) -> None:
    out = tighten("check", "--select", "DF001,K8S001", ".", cwd=project)
    assert out.returncode == 1, out.stderr
    lines = out.stdout.splitlines()
    assert "Dockerfile:1: DF001 final stage runs as root (no USER instruction)" in lines
    assert 'k8s/pod.yaml:10: K8S001 Pod/p container "a" is privileged' in lines
    assert "2 findings" in out.stderr
    assert (project / "Dockerfile").read_text() == ROOT_DOCKERFILE


def test_check_defaults_to_current_folder(project: Path) -> None:
    assert tighten("check", cwd=project).returncode == 1


def test_clean_file_exits_0(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(CLEAN_DOCKERFILE)
    out = tighten("check", "Dockerfile", cwd=tmp_path)
    assert (out.returncode, out.stdout) == (0, "")


def test_dry_run_prints_a_diff_git_apply_accepts(project: Path) -> None:
    out = tighten("fix", "--dry-run", "--select", "DF001,K8S001", ".", cwd=project)
    assert out.returncode == 1
    assert (project / "Dockerfile").read_text() == ROOT_DOCKERFILE
    patch = PatchSet(out.stdout)
    assert sorted(p.path for p in patch) == ["Dockerfile", "k8s/pod.yaml"]
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    subprocess.run(
        ["git", "apply", "--check", "-"], cwd=project, input=out.stdout, text=True, check=True
    )
    subprocess.run(["git", "apply", "-"], cwd=project, input=out.stdout, text=True, check=True)
    assert "privileged: false  # keep this comment" in (project / "k8s" / "pod.yaml").read_text()
    assert tighten("fix", "--dry-run", "--select", "DF001,K8S001", ".", cwd=project).stdout == ""


def test_fix_in_place_keeps_mode_and_exits_0(project: Path) -> None:
    pod = project / "k8s" / "pod.yaml"
    pod.chmod(0o640)
    out = tighten("fix", "--select", "DF001,K8S001", ".", cwd=project)
    assert out.returncode == 0, out.stdout + out.stderr
    assert stat.S_IMODE(pod.stat().st_mode) == 0o640
    assert pod.read_text() == PRIVILEGED_POD.replace("privileged: true", "privileged: false")
    assert "USER 10001:10001" in (project / "Dockerfile").read_text()
    assert not [p for p in project.rglob("*.tighten")], "temp files left behind"
    again = tighten("fix", "--select", "DF001,K8S001", ".", cwd=project)
    assert again.returncode == 0
    assert "0 fixed" in again.stderr


def test_unchanged_file_is_not_touched(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text(CLEAN_DOCKERFILE)
    os.utime(path, (1_000_000, 1_000_000))
    assert tighten("fix", ".", cwd=tmp_path).returncode == 0
    assert path.stat().st_mtime == 1_000_000


def test_crlf_bom_and_no_final_newline_survive(tmp_path: Path) -> None:
    path = tmp_path / "Containerfile"
    path.write_bytes(b'\xef\xbb\xbfFROM alpine:3.20\r\nCMD ["/app/server"]')
    assert tighten("fix", "Containerfile", cwd=tmp_path).returncode == 0
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbfFROM alpine:3.20\r\nRUN addgroup")
    assert data.endswith(b'USER 10001:10001\r\nCMD ["/app/server"]')
    assert b"\r\n" in data and b"\n" not in data.replace(b"\r\n", b"")


def test_select_and_ignore(project: Path) -> None:
    out = tighten("check", "--select", "K8S001", ".", cwd=project)
    assert "DF001" not in out.stdout and "K8S001" in out.stdout
    out = tighten("check", "--ignore", "K8S", ".", cwd=project)
    assert "K8S001" not in out.stdout and "DF001" in out.stdout


def test_json_format(project: Path) -> None:
    out = tighten("check", "--format", "json", "--select", "DF001,K8S001", ".", cwd=project)
    items = json.loads(out.stdout)["findings"]
    assert {i["rule"] for i in items} == {"DF001", "K8S001"}
    for item in items:
        assert {"rule", "path", "line", "message", "fixable"} <= item.keys()
        assert item["fixable"] is True
    fixed = json.loads(
        tighten("fix", "--format", "json", "--select", "DF001,K8S001", ".", cwd=project).stdout
    )["findings"]
    assert all(i["fixed"] for i in fixed)


def test_bad_input_is_reported_and_other_files_still_fixed(tmp_path: Path) -> None:
    (tmp_path / "good.yaml").write_text(PRIVILEGED_POD)
    (tmp_path / "broken.yaml").write_text("apiVersion: v1\nkind: Pod\nspec: [unclosed\n")
    (tmp_path / "chart.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {{ .Values.name }}\n"
    )
    (tmp_path / "Dockerfile.empty").write_text("")
    (tmp_path / "Dockerfile.bin").write_bytes(b"FROM x\x00\x01\x02")
    (tmp_path / "Dockerfile.latin1").write_bytes("FROM caf\xe9\n".encode("latin-1"))
    names = [
        "good.yaml",
        "broken.yaml",
        "chart.yaml",
        "Dockerfile.empty",
        "Dockerfile.bin",
        "Dockerfile.latin1",
        "missing.yaml",
    ]
    before = {n: (tmp_path / n).read_bytes() for n in names if (tmp_path / n).exists()}
    out = tighten("fix", *names, cwd=tmp_path)
    assert out.returncode == 2
    err = out.stderr.splitlines()
    assert "Traceback" not in out.stderr
    assert any(
        line.startswith("error: broken.yaml: invalid YAML: line 4, column 1: did not find")
        for line in err
    )
    assert (
        "notice: chart.yaml: skipped: looks like a Helm/Go template ({{ ... }}), not plain YAML"
        in err
    )
    assert "error: Dockerfile.empty: empty file" in err
    assert "error: Dockerfile.bin: binary file (contains NUL bytes)" in err
    assert any(line.startswith("error: Dockerfile.latin1: not UTF-8") for line in err)
    assert "error: missing.yaml: no such file or directory" in err
    for name, data in before.items():
        if name != "good.yaml":
            assert (tmp_path / name).read_bytes() == data
    assert "privileged: false" in (tmp_path / "good.yaml").read_text()


def test_helm_template_alone_is_not_an_error(tmp_path: Path) -> None:
    (tmp_path / "deploy.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {{ .Release.Name }}\n"
    )
    out = tighten("check", "deploy.yaml", cwd=tmp_path)
    assert out.returncode == 0
    assert "notice: deploy.yaml: skipped" in out.stderr


def test_read_only_file_is_an_error_and_untouched(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text(ROOT_DOCKERFILE)
    path.chmod(0o444)
    out = tighten("fix", ".", cwd=tmp_path)
    assert out.returncode == 2
    assert "error: Dockerfile: file is read-only; not modified" in out.stderr
    assert "[fixed" not in out.stderr
    assert path.read_text() == ROOT_DOCKERFILE


def test_discovery(tmp_path: Path) -> None:
    files = {
        "Dockerfile": ROOT_DOCKERFILE,
        "Containerfile": ROOT_DOCKERFILE,
        "Dockerfile.prod": ROOT_DOCKERFILE,
        "api.Dockerfile": ROOT_DOCKERFILE,
        "worker.dockerfile": ROOT_DOCKERFILE,
        "deploy/pod.yml": PRIVILEGED_POD,
        ".devcontainer/Dockerfile": ROOT_DOCKERFILE,
        ".github/workflows/ci.yaml": "on: push\njobs:\n  a:\n    runs-on: x\n",
        "compose.yaml": "services:\n  web:\n    image: nginx\n    privileged: true\n",
        "broken-ci.yml": "on: [push\n",
        "node_modules/pkg/Dockerfile": ROOT_DOCKERFILE,
        ".git/Dockerfile": ROOT_DOCKERFILE,
        "vendor-ignored/Dockerfile": ROOT_DOCKERFILE,
        "README.md": "FROM x",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    out = tighten("check", "--exclude", "vendor-ignored", ".", cwd=tmp_path)
    assert out.returncode == 1, out.stderr
    paths = sorted({line.split(":")[0] for line in out.stdout.splitlines()})
    assert paths == [
        ".devcontainer/Dockerfile",
        "Containerfile",
        "Dockerfile",
        "Dockerfile.prod",
        "api.Dockerfile",
        "deploy/pod.yml",
        "worker.dockerfile",
    ]
    assert "error" not in out.stderr


def test_file_changed_during_run_is_not_overwritten(tmp_path: Path) -> None:
    from fixer.write import WriteError, write_atomic

    path = tmp_path / "Dockerfile"
    path.write_text("new content from the user\n")
    with pytest.raises(WriteError, match="changed on disk"):
        write_atomic(path, b"ours\n", expected=b"what we read\n")
    assert path.read_text() == "new content from the user\n"
