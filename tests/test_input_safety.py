"""Input tighten must survive: odd files, hostile names, huge or deep documents (issue 11)."""

from __future__ import annotations

import difflib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from fixer.model import Fix, Span
from fixer.output.diff import split_lines, unified_diff
from tests.helpers import fix_bytes

pytestmark = pytest.mark.slow  # a CLI process (or git, or a registry) per case

DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: web{i}
spec:
  template:
    spec:
      containers:
      - name: app
        image: nginx:1.27
        securityContext:
          privileged: true
"""


def tighten(*args: str, cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fixer", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
        check=False,
        timeout=timeout,
    )


def deployments(count: int) -> str:
    return "---\n".join(DEPLOYMENT.format(i=i) for i in range(count))


# --- 14: time linear in the documents of one file --------------------------------------------


def _counting(monkeypatch: pytest.MonkeyPatch, cls: Any, name: str) -> list[int]:
    calls = [0]
    original = getattr(cls, name)

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        return original(*args, **kwargs)

    monkeypatch.setattr(cls, name, counted)
    return calls


@pytest.mark.parametrize("count", [1000])
def test_fix_work_grows_linearly_with_documents(
    monkeypatch: pytest.MonkeyPatch, count: int
) -> None:
    """Applying fixes compared every edit with every accepted one, and every finding's fix
    with every applied fix: work per document must not grow with the document count."""
    overlaps = _counting(monkeypatch, Span, "overlaps")
    equals = _counting(monkeypatch, Fix, "__eq__")
    result = fix_bytes(deployments(count).encode(), "kubernetes")
    assert result.error is None
    # K8S001, then K8S002's safe fix once the container is no longer privileged (a
    # seccompProfile does nothing for a privileged one: it waits for the second pass).
    assert len(result.fixed) == 2 * count
    # Linear: ~11 per document (three fixes over two passes; 2,732 at 250, 10,982 at 1,000).
    assert overlaps[0] <= 15 * count, overlaps[0]
    assert equals[0] <= 10 * count, equals[0]


def test_diff_of_many_similar_documents_is_linear(monkeypatch: pytest.MonkeyPatch) -> None:
    """difflib alone re-scanned the whole file for each changed document (63 s at 8,000)."""
    scanned = [0]
    original = difflib.SequenceMatcher.find_longest_match

    def counted(self: Any, alo: int = 0, ahi: Any = None, blo: int = 0, bhi: Any = None) -> Any:
        ahi = len(self.a) if ahi is None else ahi
        scanned[0] += ahi - alo
        return original(self, alo, ahi, blo, bhi)

    monkeypatch.setattr(difflib.SequenceMatcher, "find_longest_match", counted)
    old = deployments(2000)
    new = old.replace("privileged: true", "privileged: false")
    diff = unified_diff("m.yaml", old, new)
    assert diff.count("\n-          privileged: true") == 2000
    assert diff.count("\n+          privileged: false") == 2000
    assert scanned[0] <= 20 * len(split_lines(old)), scanned[0]


# --- 6, 7: only regular files, never more than the cap ---------------------------------------


@pytest.mark.parametrize("name", ["Dockerfile", "pod.yaml"])
@pytest.mark.parametrize("walked", [False, True])
def test_fifo_is_refused_without_hanging(tmp_path: Path, name: str, walked: bool) -> None:
    os.mkfifo(tmp_path / name)
    out = tighten("check", "." if walked else name, cwd=tmp_path, timeout=30)
    assert out.returncode == 2, out
    assert f"{name}: not a regular file" in out.stderr


def test_link_to_dev_zero_is_refused(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").symlink_to("/dev/zero")
    out = tighten("fix", "--offline", "Dockerfile", cwd=tmp_path, timeout=30)
    assert out.returncode == 2, out
    assert "Dockerfile: not a regular file" in out.stderr


def test_walked_yaml_over_the_cap_is_refused(tmp_path: Path) -> None:
    line = b"  - name: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n"
    head = b"apiVersion: v1\nkind: List\nitems:\n"
    (tmp_path / "big.yaml").write_bytes(head + line * (11 * 1024 * 1024 // len(line)))
    out = tighten("check", ".", cwd=tmp_path)
    assert out.returncode == 2, out
    assert "big.yaml: refused: larger than 10 MB" in out.stderr


# --- low: binary detection, CR-only line ends ---------------------------------------------------


def test_nul_after_the_first_block_is_binary(tmp_path: Path) -> None:
    padding = "# " + "x" * 76 + "\n"
    (tmp_path / "Dockerfile").write_bytes(
        ("FROM debian:bookworm\n" + padding * 200).encode() + b"RUN true\x00\n"
    )
    out = tighten("check", "Dockerfile", cwd=tmp_path)
    assert out.returncode == 2, out
    assert "Dockerfile: binary file (contains NUL bytes)" in out.stderr


CR_POD = (
    "apiVersion: v1\rkind: Pod\rmetadata:\r  name: p\rspec:\r  containers:\r  - name: a\r"
    "    image: nginx:1.27@sha256:" + "a" * 64 + "\r    securityContext:\r"
    "      privileged: true  # keep\r"
)


def test_cr_only_file_keeps_cr_line_ends(tmp_path: Path) -> None:
    """K8S001 replaces a value, K8S002 inserts lines: both must break lines with CR."""
    target = tmp_path / "pod.yaml"
    target.write_bytes(CR_POD.encode())
    # --unsafe-fixes: nginx starts as root, so runAsNonRoot is only offered by default.
    args = ("--offline", "--unsafe-fixes", "--select", "K8S001,K8S002", "pod.yaml")
    out = tighten("fix", *args, cwd=tmp_path)
    assert out.returncode == 0, out
    data = target.read_bytes()
    assert b"\n" not in data
    assert b"\r      privileged: false  # keep\r" in data
    assert b"\r  securityContext:\r    runAsNonRoot: true\r" in data
    assert b"\r    seccompProfile:\r      type: RuntimeDefault\r" in data
    again = tighten("check", "--select", "K8S001,K8S002", "pod.yaml", cwd=tmp_path)
    assert again.returncode == 0, again


# --- 12: duplicate keys ------------------------------------------------------------------------

DUPLICATE_PRIVILEGED = """apiVersion: v1
kind: Pod
metadata:
  name: p
spec:
  containers:
  - name: a
    image: nginx:1.27
    securityContext:
      privileged: false
      privileged: true
"""


@pytest.mark.parametrize("command", ["check", "fix"])
def test_duplicate_key_in_an_object_is_a_file_error(tmp_path: Path, command: str) -> None:
    target = tmp_path / "pod.yaml"
    target.write_text(DUPLICATE_PRIVILEGED)
    args = ("fix", "--offline") if command == "fix" else ("check",)
    out = tighten(*args, "--select", "K8S001", ".", cwd=tmp_path)
    assert out.returncode == 2, out
    assert (
        "pod.yaml: duplicate key 'privileged' at line 11 (Kubernetes would use the last one); "
        "file left unchanged"
    ) in out.stderr
    assert target.read_text() == DUPLICATE_PRIVILEGED


# --- 15: templates are judged by the YAML, not by a text search ---------------------------------

ARGO_WORKFLOW = """# {{ not a template: a comment }}
apiVersion: v1
kind: Pod
metadata:
  name: step
  annotations:
    workflow: "{{workflow.name}}"
spec:
  containers:
  - name: main
    image: alpine:3.20
    args: ["{{inputs.parameters.message}}"]
    securityContext:
      privileged: true
"""


def test_quoted_templates_and_comments_are_data(tmp_path: Path) -> None:
    (tmp_path / "pod.yaml").write_text(ARGO_WORKFLOW)
    out = tighten("check", "--select", "K8S001", ".", cwd=tmp_path)
    assert out.returncode == 1, out
    assert 'pod.yaml:14: K8S001 Pod/step container "main" is privileged' in out.stdout


@pytest.mark.parametrize(
    "body",
    [
        "metadata:\n  name: {{ .Release.Name }}\n",  # a flow mapping keyed by a flow mapping
        "metadata:\n  name: web-{{ .Release.Name }}\n",  # a plain scalar
        "metadata:\n  name: web\n{{- if .Values.x }}\nspec: {}\n{{- end }}\n",  # not YAML
    ],
)
def test_helm_templates_are_still_skipped(tmp_path: Path, body: str) -> None:
    (tmp_path / "pod.yaml").write_text("apiVersion: v1\nkind: Pod\n" + body)
    out = tighten("check", "pod.yaml", cwd=tmp_path)
    assert out.returncode == 0, out
    assert "looks like a Helm/Go template" in out.stderr + out.stdout


# --- low: control characters in file names -----------------------------------------------------

PRIVILEGED_POD = """apiVersion: v1
kind: Pod
metadata:
  name: p
spec:
  containers:
  - name: a
    image: nginx:1.27@sha256:{digest}
    securityContext:
      privileged: true
""".format(digest="a" * 64)


def test_control_characters_in_names_are_escaped(tmp_path: Path) -> None:
    name = "x\nDockerfile:1: DF001 fake\x1b[2K.yaml"
    (tmp_path / name).write_text(PRIVILEGED_POD)
    out = tighten("check", "--select", "K8S001", ".", cwd=tmp_path)
    assert out.returncode == 1, out
    assert out.stdout.splitlines() == [
        'x\\nDockerfile:1: DF001 fake\\x1b[2K.yaml:10: K8S001 Pod/p container "a" is privileged'
    ]
    assert "\x1b" not in out.stdout + out.stderr
    machine = tighten("check", "--select", "K8S001", "--format", "json", ".", cwd=tmp_path)
    assert json.dumps(name)[1:-1] in machine.stdout  # the real name, JSON-escaped
    dry = tighten("fix", "--dry-run", "--offline", "--select", "K8S001", ".", cwd=tmp_path)
    assert dry.stdout.startswith('diff --git "a/x\\nDockerfile:1: DF001 fake\\033[2K.yaml" ')
    assert "\x1b" not in dry.stdout


# --- 16: rules fail alone; deep nesting is bounded -----------------------------------------------

SECRET = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"


def test_deeply_nested_run_keeps_every_other_finding(tmp_path: Path) -> None:
    depth = 10_000
    (tmp_path / "Dockerfile").write_text(
        "FROM debian:bookworm\n"
        f"ENV API_TOKEN={SECRET}\n"
        "RUN apt-get install -y curl && echo " + "$( " * depth + "x" + " )" * depth + "\n"
    )
    out = tighten("check", "Dockerfile", cwd=tmp_path)
    assert out.returncode == 1, out  # findings, no error
    assert "Dockerfile:2: DF004 ENV API_TOKEN holds a literal secret" in out.stdout
    assert "DF003: RUN at line 3 left unchanged" in out.stderr
    assert "RecursionError" not in out.stderr
    assert SECRET not in out.stdout + out.stderr


def test_a_crashing_rule_loses_only_its_own_findings(monkeypatch: pytest.MonkeyPatch) -> None:
    """A rule that raises (here DF003, as a recursion bug would) is this file's error; the
    other rules' findings and fixes stand."""
    from rules.tools import NetworkTools

    def crash(self: Any, ctx: Any) -> Any:
        yield from ()
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(NetworkTools, "check", crash)
    text = (
        f'FROM debian:bookworm\nENV API_TOKEN={SECRET}\nRUN apt-get install -y curl\nCMD ["app"]\n'
    )
    result = fix_bytes(text.encode(), "dockerfile")
    assert result.error is not None
    assert result.error.startswith("internal error in rule DF003: RecursionError")
    assert {f.rule for f in result.found} >= {"DF001", "DF004"}
    assert "DF003" not in {f.rule for f in result.found}
    assert "DF001" in {f.rule for f in result.fixed}
    assert "USER" in result.text


# --- low: an explicit pod.json is a manifest, not a Dockerfile -----------------------------------

POD_JSON = (
    '{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": '
    '[{"name": "a", "image": "nginx:1.27", "securityContext": {"privileged": true}}]}}\n'
)


def test_explicit_json_manifest_is_checked_and_stays_json(tmp_path: Path) -> None:
    (tmp_path / "pod.json").write_text(POD_JSON)
    out = tighten("check", "--select", "K8S001", "pod.json", cwd=tmp_path)
    assert out.returncode == 1, out
    assert 'pod.json:1: K8S001 Pod/p container "a" is privileged' in out.stdout
    fixed = tighten("fix", "--offline", "--select", "K8S001", "pod.json", cwd=tmp_path)
    assert fixed.returncode == 0, fixed
    assert json.loads((tmp_path / "pod.json").read_text())["spec"]["containers"][0][
        "securityContext"
    ] == {"privileged": False}
    # A fix that would write YAML flow syntax into the JSON is held back.
    (tmp_path / "pod.json").write_text(POD_JSON)
    held = tighten("fix", "--offline", "pod.json", cwd=tmp_path)
    assert held.returncode == 1, held
    assert "fixes not applied: the file would no longer be valid JSON" in held.stderr
    assert (tmp_path / "pod.json").read_text() == POD_JSON


def test_explicit_json_that_is_no_manifest_gets_a_notice(tmp_path: Path) -> None:
    (tmp_path / "package.json").write_text('{"name": "x", "version": "1.0.0"}\n')
    out = tighten("check", "package.json", cwd=tmp_path)
    assert out.returncode == 0, out
    assert "notice: package.json: not a Kubernetes manifest" in out.stderr


# --- low: config discovery stops at the repository root ----------------------------------------


def test_config_above_the_repository_is_not_used(tmp_path: Path) -> None:
    # Someone else's config above the checkout would turn every rule off.
    (tmp_path / ".tighten.toml").write_text('select = ["DF001"]\n')
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "k8s").mkdir()
    (repo / "k8s" / "pod.yaml").write_text(PRIVILEGED_POD)
    out = tighten("check", "k8s", cwd=repo)
    assert out.returncode == 1, out
    assert "K8S001" in out.stdout
    # Inside the repository a config still applies, from any folder below it.
    (repo / ".tighten.toml").write_text('select = ["DF001"]\n')
    inside = tighten("check", "pod.yaml", cwd=repo / "k8s")
    assert inside.returncode == 0, inside
