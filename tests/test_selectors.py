"""Selectors fail loudly: unknown rule ids in flags, config and pragmas; peer ids map to ours."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.realparts import tighten

pytestmark = pytest.mark.slow  # a CLI process (or git, or a registry) per case

ROOT_DOCKERFILE = 'FROM debian:bookworm-slim\nCOPY app /app\nCMD ["/app"]\n'
DIGEST = "@sha256:" + "0123456789abcdef" * 4
#: One container with something for every Kubernetes rule.
BAD_POD = f"""\
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  hostNetwork: true
  containers:
    - name: web
      image: nginx:latest
      env:
        - name: DB_PASSWORD
          value: "Zq8-hunter2-Kx5wP0u9-vRt"
      securityContext:
        privileged: true
    - name: side
      image: busybox:1.36{DIGEST}
"""


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    (tmp_path / "Dockerfile").write_text(ROOT_DOCKERFILE)
    (tmp_path / "pod.yaml").write_text(BAD_POD)
    return tmp_path


def rules_found(project: Path, *args: str) -> set[str]:
    out = tighten("check", "--format", "json", *args, ".", cwd=project)
    assert out.returncode in (0, 1), out.stderr
    return {item["rule"] for item in json.loads(out.stdout)["findings"]}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--select", "DF9"], "error: unknown rule 'DF9' in --select (did you mean DF001?)"),
        (["--select", "DF001,K8S0O2"], "unknown rule 'K8S0O2' in --select (did you mean K8S002?)"),
        (["--ignore", "DF0003"], "unknown rule 'DF0003' in --ignore (did you mean DF003?)"),
        (["--select", "XYZ"], "error: unknown rule 'XYZ' in --select\n"),
        (["--select", "network-tool"], "in --select (did you mean network-tools?)"),
    ],
)
def test_unknown_rule_on_the_command_line_is_exit_2(
    project: Path, args: list[str], message: str
) -> None:
    for command in ("check", "fix"):
        out = tighten(command, *args, ".", cwd=project)
        assert out.returncode == 2, out.stderr
        assert message in out.stderr
        assert out.stdout == ""
    assert (project / "Dockerfile").read_text() == ROOT_DOCKERFILE


@pytest.mark.parametrize(
    ("name", "text", "key"),
    [
        (".tighten.toml", 'select = ["DF9"]\n', "'select'"),
        ("pyproject.toml", '[tool.tighten]\nignore = ["K8S1"]\n', "'tool.tighten.ignore'"),
        (".tighten.toml", '[per-file-ignores]\n"k8s/*" = ["DF01"]\n', "'per-file-ignores'"),
    ],
)
def test_unknown_rule_in_config_names_file_and_key(
    project: Path, name: str, text: str, key: str
) -> None:
    (project / name).write_text(text)
    out = tighten("check", ".", cwd=project)
    assert out.returncode == 2
    assert f"{project / name}: bad value for {key}: " in out.stderr
    assert "unknown rule" in out.stderr and "(did you mean" in out.stderr
    assert out.stdout == ""


def test_per_file_ignores_error_names_the_glob(project: Path) -> None:
    (project / ".tighten.toml").write_text('[per-file-ignores]\n"k8s/*" = ["DF01"]\n')
    out = tighten("check", ".", cwd=project)
    assert "'k8s/*': unknown rule 'DF01' (did you mean DF001?)" in out.stderr


@pytest.mark.parametrize(
    ("selector", "rule"),
    [
        ("DL3002", "DF001"),
        ("CKV_DOCKER_3", "DF001"),
        ("DL3007", "DF002"),
        ("DL3006", "DF002"),
        ("CKV_DOCKER_7", "DF002"),
        ("CKV_K8S_16", "K8S001"),
        ("privileged-container", "K8S001"),
        ("CKV_K8S_20", "K8S002"),
        ("ckv_k8s_37", "K8S002"),
        ("CKV_K8S_39", "K8S002"),
        ("privilege-escalation-container", "K8S002"),
        ("run-as-non-root", "K8S002"),
        ("drop-net-raw-capability", "K8S002"),
        ("CKV_K8S_14", "K8S003"),
        ("latest-tag", "K8S003"),
        ("env-var-secret", "K8S004"),
        ("host-network", "K8S005"),
        ("CKV_K8S_19", "K8S005"),
        ("network-tools", "DF003"),
    ],
)
def test_peer_ids_and_names_select_the_rule_that_covers_them(
    project: Path, selector: str, rule: str
) -> None:
    if rule == "DF003":
        (project / "Dockerfile").write_text(ROOT_DOCKERFILE + "RUN apt-get install -y curl\n")
    if rule == "DF002":
        (project / "Dockerfile").write_text(ROOT_DOCKERFILE.replace(":bookworm-slim", ":latest"))
    assert rules_found(project, "--select", selector) == {rule}
    assert rule not in rules_found(project, "--ignore", selector)


def test_peer_ids_in_config(project: Path) -> None:
    (project / ".tighten.toml").write_text('select = ["DL3002", "CKV_K8S_16"]\n')
    assert rules_found(project) == {"DF001", "K8S001"}


def test_select_all(project: Path) -> None:
    found = rules_found(project, "--select", "ALL")
    assert (
        found == rules_found(project) == {"DF001", "K8S001", "K8S002", "K8S003", "K8S004", "K8S005"}
    )
    assert rules_found(project, "--select", "all", "--ignore", "K8S") == {"DF001"}


def test_unknown_id_in_a_pragma_is_a_finding(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(
        "FROM debian:bookworm-slim\n"
        "# tighten ignore=DF009\n"
        "# hadolint ignore=DL3008\n"  # a peer's own check: not ours to judge
        "USER root\n"
    )
    out = tighten("check", "--format", "json", "Dockerfile", cwd=tmp_path)
    assert out.returncode == 1
    items = json.loads(out.stdout)["findings"]
    assert [(i["rule"], i["line"], i["fixable"]) for i in items] == [
        ("TGT001", 2, False),
        ("DF001", 4, True),
    ]
    assert "unknown rule 'DF009'" in items[0]["message"]
    assert "(did you mean DF001?)" in items[0]["message"]
    text = tighten("check", "Dockerfile", cwd=tmp_path)
    assert "Dockerfile:2: TGT001 unknown rule 'DF009' in a tighten pragma" in text.stdout
    before = (tmp_path / "Dockerfile").read_bytes()
    fixed = tighten("fix", "--select", "TGT001", "Dockerfile", cwd=tmp_path)
    assert fixed.returncode == 1  # reported, never fixed
    assert (tmp_path / "Dockerfile").read_bytes() == before


def test_pragma_findings_are_selectable_and_ignorable(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(
        "FROM debian:bookworm-slim\n# tighten global ignore=DF01, df001\nUSER root\n"
    )
    assert rules_found(tmp_path) == {"TGT001", "DF001"}
    assert rules_found(tmp_path, "--select", "TGT001") == {"TGT001"}
    assert rules_found(tmp_path, "--select", "TGT") == {"TGT001"}
    assert rules_found(tmp_path, "--ignore", "TGT001") == {"DF001"}
    (tmp_path / ".tighten.toml").write_text('[per-file-ignores]\n"Dockerfile" = ["TGT001"]\n')
    assert rules_found(tmp_path) == {"DF001"}


def test_pragma_can_silence_its_own_finding(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(
        "FROM debian:bookworm-slim\n# tighten ignore=DF009,TGT001\nUSER root\n"
    )
    assert rules_found(tmp_path) == {"DF001"}


def test_known_names_and_peer_ids_in_pragmas_are_not_reported(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(
        "FROM debian:bookworm-slim\n# tighten ignore=non-root-user, DL3002\nUSER root\n"
    )
    out = tighten("check", "Dockerfile", cwd=tmp_path)
    assert out.returncode == 0, out.stdout


def test_unknown_id_in_an_annotation_or_yaml_comment(tmp_path: Path) -> None:
    (tmp_path / "pod.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: agent\n  annotations:\n"
        '    ignore-check.tighten.dev/K8S05: "node agent"\n'
        '    ignore-check.kube-linter.io/no-such-check: "theirs"\n'
        "spec:\n  hostNetwork: true  # tighten ignore=hostnetwork\n"
        f"  containers:\n    - name: a\n      image: busybox:1.36{DIGEST}\n"
    )
    out = tighten("check", "--select", "TGT001,K8S005", "pod.yaml", cwd=tmp_path)
    assert out.returncode == 1
    lines = out.stdout.splitlines()
    assert lines[0].startswith("pod.yaml:6: TGT001 unknown rule 'K8S05' in a tighten annotation")
    assert "(did you mean K8S005?)" in lines[0]
    assert lines[1].startswith("pod.yaml:9: K8S005")
    assert lines[2].startswith("pod.yaml:9: TGT001 unknown rule 'hostnetwork' in a tighten pragma")
    assert "(did you mean host-network?)" in lines[2]
    assert len(lines) == 3


def test_explain_takes_peer_ids(tmp_path: Path) -> None:
    out = tighten("explain", "CKV_K8S_20", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("CKV_K8S_20 is covered by K8S002 security-context.\n\n# K8S002")
    assert tighten("explain", "dl3002", cwd=tmp_path).stdout.count("# DF001 non-root-user") == 1
    unknown = tighten("explain", "DF9", cwd=tmp_path)
    assert unknown.returncode == 2
    assert "unknown rule 'DF9' (did you mean DF001?" in unknown.stderr
    pragma = tighten("explain", "TGT001", cwd=tmp_path)
    assert pragma.stdout.startswith("# TGT001 unknown-suppression: ")
    assert "TGT001" in tighten("rules", cwd=tmp_path).stdout


def test_every_peer_id_maps_to_one_rule() -> None:
    from rules import all_rules

    owners: dict[str, set[str]] = {}
    for rule in all_rules():
        for word in (rule.name, *rule.aliases):
            owners.setdefault(word.upper(), set()).add(rule.id)
    assert {w: ids for w, ids in owners.items() if len(ids) > 1} == {}
