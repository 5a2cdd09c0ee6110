"""Secret hardening (issue 11): no value is ever overwritten by another, generated names are
distinct and safe, and secrets tighten used to miss are reported, masked, in every output.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import traceback
from pathlib import Path

import pytest
import yaml

from fixer.secrets import SecretManifestError, placeholder_manifest, render_secret_manifest
from rules.secret_file import safe_file_name

pytestmark = pytest.mark.slow  # a CLI process (or git, or a registry) per case

OLD = "alpha-Pass-7431"
NEW = "bravo-Pass-9902"


def tighten(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fixer", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
        check=False,
    )


def secrets_in(path: Path) -> dict[tuple[str, str | None], dict[str, str]]:
    docs = [d for d in yaml.safe_load_all(path.read_text()) if d]
    return {(d["metadata"]["name"], d["metadata"].get("namespace")): d["stringData"] for d in docs}


def assert_no_leak(error: BaseException, *values: str) -> None:
    rendered = "".join(traceback.format_exception(error))
    for value in values:
        assert value not in rendered


# ----------------------------------------------------------------------------- merge


def test_merge_refuses_to_replace_a_value() -> None:
    existing = render_secret_manifest("web-secrets", "prod", {"DB_PASSWORD": OLD})
    with pytest.raises(SecretManifestError) as caught:
        render_secret_manifest("web-secrets", "prod", {"DB_PASSWORD": NEW}, existing)
    message = str(caught.value)
    assert "'web-secrets'" in message and "'prod'" in message and "'DB_PASSWORD'" in message
    assert_no_leak(caught.value, OLD, NEW)


def test_merge_refuses_to_replace_a_base64_data_value() -> None:
    encoded = base64.b64encode(OLD.encode()).decode()
    existing = (
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n  labels:\n"
        f"    app.kubernetes.io/managed-by: tighten\ndata:\n  A: {encoded}\n"
    )
    with pytest.raises(SecretManifestError, match="'A'"):
        render_secret_manifest("s", None, {"A": NEW}, existing)
    merged = render_secret_manifest("s", None, {"A": OLD, "B": NEW}, existing)
    assert yaml.safe_load(merged)["data"] == {"A": encoded}
    assert yaml.safe_load(merged)["stringData"] == {"B": NEW}


def test_merge_of_the_same_value_is_a_rerun_not_a_collision() -> None:
    existing = render_secret_manifest("s", None, {"A": OLD}, source="Dockerfile")
    assert render_secret_manifest("s", None, {"A": OLD}, existing, source="Dockerfile") == existing


def test_placeholders_never_replace_values_and_values_replace_placeholders() -> None:
    real = render_secret_manifest("s", None, {"A": OLD})
    kept = placeholder_manifest("s", None, ["A", "B"], real)
    assert yaml.safe_load(kept)["stringData"] == {"A": OLD, "B": "REPLACE_ME"}
    filled = render_secret_manifest("s", None, {"B": NEW}, kept)
    assert yaml.safe_load(filled)["stringData"] == {"A": OLD, "B": NEW}


# ----------------------------------------------------------------------------- --secrets-dir


def dockerfile(value: str) -> str:
    return f"FROM alpine:3.19\nENV DB_PASSWORD={value}\nUSER 1000\n"


def deployment(namespace: str | None, value: str) -> str:
    ns = f"  namespace: {namespace}\n" if namespace else ""
    return (
        f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n{ns}spec:\n"
        "  template:\n    spec:\n      containers:\n      - name: app\n        image: a:1\n"
        f"        env:\n        - name: DB_PASSWORD\n          value: {value}\n"
    )


def test_dockerfiles_in_folders_of_the_same_name_keep_their_values(tmp_path: Path) -> None:
    for folder, value in (("a", OLD), ("b", NEW)):
        (tmp_path / folder / "app").mkdir(parents=True)
        (tmp_path / folder / "app" / "Dockerfile").write_text(dockerfile(value))
    out = tighten("fix", "--unsafe-fixes", "--select", "DF004", "--format", "json", "--secrets-dir", "sec", ".",
                  cwd=tmp_path)  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert OLD not in out.stdout + out.stderr and NEW not in out.stdout + out.stderr
    findings = {f["path"]: f["fix"]["title"] for f in json.loads(out.stdout)["findings"]}
    for folder, value in (("a", OLD), ("b", NEW)):
        name = f"{folder}-app-secrets"
        assert name in findings[f"{folder}/app/Dockerfile"]  # the source names its own Secret
        stored = secrets_in(tmp_path / "sec" / f"{name}.secret.yaml")
        assert stored == {(name, None): {"DB_PASSWORD": value}}


@pytest.mark.parametrize("namespaces", [("x", "y"), (None, None)])
def test_workloads_of_the_same_name_keep_their_values(
    tmp_path: Path, namespaces: tuple[str | None, str | None]
) -> None:
    values = {"x": OLD, "y": NEW}
    for folder, namespace in zip(("x", "y"), namespaces, strict=True):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "deploy.yaml").write_text(deployment(namespace, values[folder]))
    out = tighten("fix", "--select", "K8S004", "--secrets-dir", "sec", ".", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert OLD not in out.stdout + out.stderr and NEW not in out.stdout + out.stderr
    files = {path.name: secrets_in(path) for path in (tmp_path / "sec").iterdir()}
    for folder, namespace in zip(("x", "y"), namespaces, strict=True):
        manifest = yaml.safe_load((tmp_path / folder / "deploy.yaml").read_text())
        (env,) = manifest["spec"]["template"]["spec"]["containers"][0]["env"]
        ref = env["valueFrom"]["secretKeyRef"]
        # the Secret that the source now references holds its own value
        secret = files[f"{folder}-deploy.secrets.yaml"][(ref["name"], namespace)]
        assert secret[ref["key"]] == values[folder]


def test_a_rerun_with_a_new_value_leaves_the_source_untouched(tmp_path: Path) -> None:
    (tmp_path / "web").mkdir()
    source = tmp_path / "web" / "Dockerfile"
    source.write_text(dockerfile(OLD))
    assert tighten("fix", "--unsafe-fixes", "--select", "DF004", ".", cwd=tmp_path).returncode == 0
    source.write_text(dockerfile(NEW))  # the value was rotated and written in again
    out = tighten("fix", "--unsafe-fixes", "--select", "DF004", ".", cwd=tmp_path)
    assert out.returncode == 2
    assert "'DB_PASSWORD'" in out.stderr and "different value" in out.stderr
    assert OLD not in out.stdout + out.stderr and NEW not in out.stdout + out.stderr
    assert source.read_text() == dockerfile(NEW)
    stored = secrets_in(tmp_path / "web" / "web-secrets.secret.yaml")
    assert stored == {("web-secrets", None): {"DB_PASSWORD": OLD}}


# ----------------------------------------------------------------------------- file names


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("deploy.secrets.yaml", "deploy.secrets.yaml"),
        ("de\nploy\x1b[31m.secrets.yaml", "de-ploy-31m.secrets.yaml"),
        ("../x.secrets.yaml", "..-x.secrets.yaml"),
        ("d\u00e9ploy.secrets.yaml", "d-ploy.secrets.yaml"),
    ],
)
def test_generated_file_names_are_safe(name: str, expected: str) -> None:
    assert safe_file_name(name) == expected
    assert len(safe_file_name("x" * 400 + ".secrets.yaml")) <= 255


def test_a_control_character_in_a_manifest_name_does_not_reach_the_secret_file(
    tmp_path: Path,
) -> None:
    (tmp_path / "de\x1b[2Jploy\n.yaml").write_text(deployment(None, OLD))
    out = tighten("fix", "--select", "K8S004", ".", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    generated = sorted(p.name for p in tmp_path.iterdir() if "secrets" in p.name)
    assert generated == ["de-2Jploy-.secrets.yaml"]


# ----------------------------------------------------------------------------- detection

RUN_PASS = "Adm1n-Pass-4471"


def check(tmp_path: Path, name: str, text: str, *args: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / name).write_text(text)
    return tighten("check", "--select", "DF004,K8S004", *args, name, cwd=tmp_path)


@pytest.mark.parametrize(
    ("line", "what"),
    [
        (f"RUN curl -fsS -u admin:{RUN_PASS} https://example.com/x", "curl -u"),
        (f"RUN export DB_PASSWORD={RUN_PASS} && ./migrate", "DB_PASSWORD=..."),
        (f'RUN echo "password={RUN_PASS}" > /etc/app.conf', "password=..."),
        (f"RUN docker build --build-arg NPM_TOKEN={RUN_PASS} .", "NPM_TOKEN=..."),
        (f"RUN mysql -uroot -p{RUN_PASS} -e 'select 1'", "mysql -p"),
        (f"RUN ./tool --db-password {RUN_PASS} init", "--db-password"),
        (f'RUN ["sh", "-c", "curl -u admin:{RUN_PASS} https://x"]', "curl -u"),
        (f"RUN java -Dspring.datasource.password={RUN_PASS} -jar a.jar", "password=..."),
        (f"ONBUILD ENV DB_PASSWORD={RUN_PASS}", "ONBUILD ENV DB_PASSWORD"),
        (f"ONBUILD RUN sshpass -p {RUN_PASS} ssh host true", "sshpass -p"),
        (f"ENV DB_PASSWORD=${{DB_PASSWORD:-{RUN_PASS}}}", "ENV DB_PASSWORD has"),
        (f"ARG URL=postgres://${{PGPASS:-{RUN_PASS}}}", "ARG URL has"),
        (f'RUN psql "${{DB_PASSWORD:-{RUN_PASS}}}"', "RUN has a literal secret"),
        (f'ENV ["DB_PASSWORD={RUN_PASS}"]', "ENV DB_PASSWORD holds"),
        (f'ENV ["DB_PASSWORD", "{RUN_PASS}"]', "ENV DB_PASSWORD holds"),
        (f'ENV {{"DB_PASSWORD": "{RUN_PASS}"}}', "ENV DB_PASSWORD holds"),
    ],
)
def test_secrets_outside_env_pairs_are_reported_masked(
    tmp_path: Path, line: str, what: str
) -> None:
    out = check(tmp_path, "Dockerfile", f"FROM alpine:3.19\n{line}\nUSER 1000\n")
    assert out.returncode == 1, out.stderr
    assert what in out.stdout and "DF004" in out.stdout and "not fixable" in out.stdout
    assert RUN_PASS not in out.stdout + out.stderr
    assert out.stdout.count("DF004") == 1  # one finding, no mangled key (__DB_PASSWORD)


@pytest.mark.parametrize(
    "line",
    [
        "RUN adduser -D --disabled-password app",
        "RUN certutil -d sql:/x -N --empty-password && touch /x",
        "RUN echo $TOKEN | docker login --password-stdin registry.example.com",
        "RUN mysql -uroot -p$MYSQL_ROOT_PASSWORD -e 'select 1'",
        "RUN mysql -uroot -p mydb",
        'RUN curl -u "$USER:$PASS" https://x && curl -u admin https://y',
        "RUN ./server --token-ttl 300 --password-file /run/secrets/db",
        "RUN VULTR_API_KEY=fake vultr-cli version",
        "RUN --mount=type=secret,id=npm_token,env=NPM_TOKEN npm ci",
        "RUN sed -i 's/^password=.*/password=/' /etc/app.conf",
        "RUN java -Dspring.datasource.password=${DB_PASS} -jar a.jar",
        "ENV DB_HOST=${DB_HOST:-localhost} PASSWORD_FILE=${PASSWORD_FILE:-/run/secrets/db}",
        "ONBUILD ENV DB_PASSWORD=${DB_PASSWORD}",
        'ENV ["PATH=/usr/bin"]',
    ],
)
def test_command_lines_without_literal_secrets_are_not_reported(tmp_path: Path, line: str) -> None:
    out = check(tmp_path, "Dockerfile", f"FROM alpine:3.19\n{line}\nUSER 1000\n")
    assert out.returncode == 0, out.stdout + out.stderr


POD = f"""apiVersion: v1
kind: Pod
metadata:
  name: db
spec:
  containers:
  - name: app
    image: mysql:8
    command: ["mysql", "-uroot", "-p{RUN_PASS}"]
    args:
    - --password={RUN_PASS}x
    - DB_PASSWORD={RUN_PASS}y
    - --password=$(DB_PASSWORD)
    - --token-ttl
    - "300"
  - name: sh
    image: alpine:3
    command: ["sh", "-c", "curl -u admin:{RUN_PASS}z https://x && echo ok"]
"""


def test_kubernetes_command_and_args_are_reported_masked(tmp_path: Path) -> None:
    out = check(tmp_path, "pod.yaml", POD)
    assert out.returncode == 1, out.stderr
    lines = out.stdout.splitlines()
    assert [line.split(" passes ")[0] for line in lines if "K8S004" in line] == [
        'pod.yaml:9: K8S004 Pod/db container "app" command',
        'pod.yaml:11: K8S004 Pod/db container "app" args',
        'pod.yaml:12: K8S004 Pod/db container "app" args',
        'pod.yaml:18: K8S004 Pod/db container "sh" command',
    ]
    assert RUN_PASS not in out.stdout + out.stderr


DOCKERFILE_MIX = f"""FROM alpine:3.19
RUN apk add --no-cache curl && curl -u admin:{RUN_PASS} https://example.com/x
ENV API_TOKEN=${{API_TOKEN:-{RUN_PASS}2}}
ENV DB_PASSWORD={RUN_PASS}3
"""


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github"])
def test_reported_values_appear_in_no_output(tmp_path: Path, fmt: str) -> None:
    (tmp_path / "Dockerfile").write_text(DOCKERFILE_MIX)
    (tmp_path / "pod.yaml").write_text(POD)
    for args in (("check",), ("fix", "--dry-run")):
        out = tighten(*args, "--format", fmt, ".", cwd=tmp_path)
        assert out.returncode == 1, out.stderr
        assert "DF004" in out.stdout + out.stderr and "K8S004" in out.stdout + out.stderr
        assert RUN_PASS not in out.stdout + out.stderr, (args, fmt)


def test_dry_run_diff_context_masks_reported_values(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(DOCKERFILE_MIX)
    out = tighten("fix", "--dry-run", ".", cwd=tmp_path)
    assert "+++ b/Dockerfile" in out.stdout  # DF001/DF003/DF004 edits around the RUN line
    assert " curl -u admin:*** https" in out.stdout  # only the value is masked
    assert RUN_PASS not in out.stdout + out.stderr
