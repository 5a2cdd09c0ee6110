"""DF004 and K8S004 end to end: the generated Secret, its merge, .gitignore, and masking.

tests/test_fixtures.py proves the edits to the Dockerfiles and manifests; these tests run
the CLI in temporary folders (real ``git init`` repositories) for what fixtures cannot see:
the side files, and that no secret value ever reaches stdout or stderr.
"""

from __future__ import annotations

import os
import random
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from fixer.documents.dockerfile import key_values, parse, unquote
from fixer.documents.text import SourceText
from fixer.secrets import secret_name_for
from fixer.settings import Settings
from fixer.sidefiles import mask_stored_values
from rules.secrets_dockerfile import image_name
from tests.helpers import collateral, fix_bytes

pytestmark = pytest.mark.slow  # a CLI process per case: deselected by `-m "not slow"`

NPM = "npm_Rk3vX9mQ2pL7sT4wY8zB1cD5fG6hJ0kN2aE4"
DB = "s3cr3t-Pa55"
STRIPE = "sk_live_4eC39HqLyjWDarjtT1zdp7dc"
PEM = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n-----END PRIVATE KEY-----\n"
VALUES = (NPM, DB, STRIPE, "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7")

DOCKERFILE = f"""FROM node:22-slim
ARG NPM_TOKEN={NPM}
ENV NODE_ENV=production DB_PASSWORD={DB} PORT=8080
USER 1000:1000
CMD ["node", "server.js"]
"""
DEPLOYMENT = f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  selector:
    matchLabels: {{app: web}}
  template:
    metadata:
      labels: {{app: web}}
    spec:
      containers:
      - name: app
        image: example/app:1.0
        env:
        - name: LOG_LEVEL
          value: info
        - name: STRIPE_KEY
          value: "{STRIPE}"  # live key
        - name: TLS_KEY
          value: |
{"".join("            " + line + chr(10) for line in PEM.splitlines())}        - {{name: DB_PASSWORD, value: {DB}}}
"""


def tighten(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fixer", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
        check=False,
    )


def assert_no_values(out: subprocess.CompletedProcess[str]) -> None:
    for value in VALUES:
        assert value not in out.stdout, value
        assert value not in out.stderr, value


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "web").mkdir()
    (tmp_path / "web" / "Dockerfile").write_text(DOCKERFILE)
    (tmp_path / "k8s").mkdir()
    (tmp_path / "k8s" / "deploy.yaml").write_text(DEPLOYMENT)
    (tmp_path / ".gitignore").write_text("node_modules/")  # no final newline on purpose
    return tmp_path


def load_secrets(path: Path) -> dict[tuple[str, str | None], dict[str, Any]]:
    docs = [d for d in yaml.safe_load_all(path.read_text()) if d]
    for doc in docs:
        kubernetes_validate.validate(doc, kubernetes_validate.latest_version(), strict=True)
    return {(d["metadata"]["name"], d["metadata"].get("namespace")): d for d in docs}


# ----------------------------------------------------------------------------- fix


def test_fix_writes_secrets_gitignore_and_valid_manifests(repo: Path) -> None:
    # No manifest runs web's image, so its ENV move is withheld without --unsafe-fixes.
    out = tighten("fix", "--select", "DF004,K8S004", "--unsafe-fixes", ".", cwd=repo)
    assert out.returncode == 0, out.stderr
    assert_no_values(out)
    web = load_secrets(repo / "web" / "web-secrets.secret.yaml")
    assert web[("web-secrets", None)]["stringData"] == {"NPM_TOKEN": NPM, "DB_PASSWORD": DB}
    kube = load_secrets(repo / "k8s" / "deploy.secrets.yaml")
    assert kube[("web-secrets", "shop")]["stringData"] == {
        "STRIPE_KEY": STRIPE,
        "TLS_KEY": PEM,
        "DB_PASSWORD": DB,
    }
    for name in ("web/web-secrets.secret.yaml", "k8s/deploy.secrets.yaml"):
        assert stat.S_IMODE((repo / name).stat().st_mode) == 0o600
    assert (repo / ".gitignore").read_text() == (
        "node_modules/\n/k8s/deploy.secrets.yaml\n/web/web-secrets.secret.yaml\n"
    )
    ignored = subprocess.run(
        ["git", "status", "--short", "--untracked-files=all"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "secret" not in ignored.stdout
    for value in VALUES:  # the values live in the Secret files only
        assert value not in (repo / "web" / "Dockerfile").read_text()
        assert value not in (repo / "k8s" / "deploy.yaml").read_text()
    deployment = yaml.safe_load((repo / "k8s" / "deploy.yaml").read_text())
    kubernetes_validate.validate(deployment, kubernetes_validate.latest_version(), strict=True)
    env = deployment["spec"]["template"]["spec"]["containers"][0]["env"]
    assert env[0] == {"name": "LOG_LEVEL", "value": "info"}
    assert env[3] == {
        "name": "DB_PASSWORD",
        "valueFrom": {"secretKeyRef": {"name": "web-secrets", "key": "DB_PASSWORD"}},
    }
    assert "key: STRIPE_KEY  # live key" in (repo / "k8s" / "deploy.yaml").read_text()


def test_second_run_merges_and_gitignore_line_is_added_once(repo: Path) -> None:
    assert (
        tighten("fix", "--unsafe-fixes", "--select", "DF004,K8S004", ".", cwd=repo).returncode == 0
    )
    with (repo / "web" / "Dockerfile").open("a") as handle:
        handle.write("ENV SESSION_SECRET=another-s3cr3t\n")
    out = tighten("fix", "--unsafe-fixes", "--select", "DF004", ".", cwd=repo)
    assert out.returncode == 0, out.stderr
    assert "another-s3cr3t" not in out.stdout + out.stderr
    web = load_secrets(repo / "web" / "web-secrets.secret.yaml")
    assert web[("web-secrets", None)]["stringData"] == {
        "NPM_TOKEN": NPM,
        "DB_PASSWORD": DB,
        "SESSION_SECRET": "another-s3cr3t",
    }
    lines = (repo / ".gitignore").read_text().splitlines()
    assert lines.count("/web/web-secrets.secret.yaml") == 1
    again = tighten("fix", "--unsafe-fixes", "--dry-run", "--select", "DF004,K8S004", ".", cwd=repo)
    assert again.returncode == 0 and again.stdout == "", again.stdout


def test_secrets_dir_and_variant_names(repo: Path) -> None:
    (repo / "web" / "Dockerfile.dev").write_text("FROM alpine\nENV API_TOKEN=dev-tok-123\n")
    out = tighten(
        "fix", "--unsafe-fixes", "--select", "DF004", "--secrets-dir", "generated", ".", cwd=repo
    )
    assert out.returncode == 0, out.stderr
    assert sorted(p.name for p in (repo / "generated").iterdir()) == [
        "web-dev-secrets.secret.yaml",
        "web-secrets.secret.yaml",
    ]
    dev = load_secrets(repo / "generated" / "web-dev-secrets.secret.yaml")
    secret = dev[("web-dev-secrets", None)]
    assert secret["stringData"] == {"API_TOKEN": "dev-tok-123"}
    assert secret["metadata"]["annotations"]["tighten.dev/source"] == "../web/Dockerfile.dev"
    assert "/generated/web-secrets.secret.yaml" in (repo / ".gitignore").read_text()


def test_outside_git_no_gitignore(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(DOCKERFILE)
    out = tighten("fix", "--unsafe-fixes", "--select", "DF004", ".", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert not (tmp_path / ".gitignore").exists()
    generated = [p.name for p in tmp_path.iterdir() if p.name.endswith(".secret.yaml")]
    assert generated == [f"{secret_name_for(tmp_path.name)}.secret.yaml"]


def test_foreign_secret_of_the_same_name_keeps_the_source(repo: Path) -> None:
    foreign = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: web-secrets\nstringData:\n  X: y\n"
    (repo / "web" / "web-secrets.secret.yaml").write_text(foreign)
    out = tighten("fix", "--select", "DF004", ".", cwd=repo)
    assert out.returncode == 2
    assert "not managed by tighten" in out.stderr
    assert_no_values(out)
    assert (repo / "web" / "Dockerfile").read_text() == DOCKERFILE  # the values stay put
    assert (repo / "web" / "web-secrets.secret.yaml").read_text() == foreign


# ----------------------------------------------------------------------------- no values shown


def test_dry_run_and_reports_never_show_values(repo: Path) -> None:
    before = {p: p.read_bytes() for p in repo.rglob("*") if p.is_file() and ".git/" not in str(p)}
    dry = tighten("fix", "--dry-run", "--select", "DF004,K8S004", ".", cwd=repo)
    assert dry.returncode == 1, dry.stderr
    assert_no_values(dry)
    assert "+/web/web-secrets.secret.yaml" in dry.stdout  # the .gitignore change is shown
    assert '+  NPM_TOKEN: "***"' in dry.stdout
    assert "+              key: STRIPE_KEY  # live key" in dry.stdout
    after = {p: p.read_bytes() for p in repo.rglob("*") if p.is_file() and ".git/" not in str(p)}
    assert after == before  # a dry run writes nothing
    for args in (
        ("check",),
        ("check", "--format", "json"),
        ("fix", "--dry-run", "--format", "json"),
    ):
        out = tighten(*args, "--select", "DF004,K8S004", ".", cwd=repo)
        assert out.returncode == 1, out.stderr
        assert_no_values(out)


def test_dry_run_masks_values_already_in_the_secret_file(repo: Path) -> None:
    assert tighten("fix", "--unsafe-fixes", "--select", "DF004", ".", cwd=repo).returncode == 0
    (repo / "web" / "Dockerfile").write_text(
        DOCKERFILE.replace("USER", "ENV API_SECRET=x9-y8\nUSER")
    )
    dry = tighten("fix", "--unsafe-fixes", "--dry-run", "--select", "DF004", ".", cwd=repo)
    assert_no_values(dry)
    assert "x9-y8" not in dry.stdout
    assert '+  API_SECRET: "***"' in dry.stdout


def test_custom_pattern_and_bad_pattern(repo: Path) -> None:
    (repo / "web" / "Dockerfile").write_text("FROM alpine\nENV LICENSE_CODE=ACME-1234\n")
    plain = tighten("check", "--select", "DF004", "web", cwd=repo)
    assert plain.returncode == 0, plain.stdout
    custom = tighten(
        "check", "--select", "DF004", "--secret-pattern", "^license_code$", "web", cwd=repo
    )
    assert custom.returncode == 1
    assert "ENV LICENSE_CODE holds a literal secret" in custom.stdout
    bad = tighten("check", "--secret-pattern", "(", "web", cwd=repo)
    assert bad.returncode == 2
    assert "not a valid regular expression" in bad.stderr


# ----------------------------------------------------------------------------- units


def test_mask_stored_values() -> None:
    text = (
        "# keep\napiVersion: v1\nkind: Secret\nmetadata: {name: a}\n"
        'stringData:\n  A: "one"\n  B: |\n    two\n    lines\n  C: three  # note\n'
        "data: {D: Zm91cg==}\n---\nkind: ConfigMap\ndata:\n  E: five\n"
    )
    masked = mask_stored_values(text)
    for value in ("one", "two", "lines", "three", "Zm91cg=="):
        assert value not in masked
    assert '  C: "***"  # note\n' in masked and "E: five" in masked
    assert yaml.safe_load_all(masked)
    assert mask_stored_values("a: [").startswith("# (existing content not shown")


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/src/web/Dockerfile", "web"),
        ("/src/web/Dockerfile.dev", "web-dev"),
        ("/src/web/Dockerfile-prod", "web-prod"),
        ("/src/web/api.Dockerfile", "web-api"),
        ("/src/web/Containerfile", "web"),
    ],
)
def test_image_name(path: str, expected: str) -> None:
    assert image_name(Path(path)) == expected


def _random_env(rng: random.Random) -> tuple[str, list[tuple[str, str]], bool]:
    """A Dockerfile with one ENV of random layout, the pairs that must survive, and
    whether a RUN follows."""
    esc = rng.choice(["\\", "`"])
    nl = rng.choice(["\n", "\r\n"])
    layouts = [" ", f" {esc}\n    ", f"  {esc}\n\t", f" {esc}\n# comment\n    "]
    words, kept = [], []
    for i in range(rng.randint(1, 5)):
        if rng.random() < 0.5:
            words.append(f"K{i}_PASSWORD=" + rng.choice([f"val-{i}-xyz", f'"v {i} q"']))
        else:
            value = rng.choice([str(i), f"'a {i}'"])
            words.append(f"K{i}={value}")
            kept.append((f"K{i}", unquote(value)))
    body = rng.choice(["", "  "]) + "ENV" + rng.choice([" ", f" {esc}\n    "])
    body += "".join(w + rng.choice(layouts) for w in words[:-1]) + words[-1]
    run = rng.random() < 0.5
    end = "\n" if run else rng.choice(["\n", ""])
    head = f"# escape={esc}\n" if esc == "`" else ""
    text = head + "FROM alpine\n" + body + end + ("RUN echo hi\n" if run else "")
    return text.replace("\n", nl), kept, run


@pytest.mark.parametrize("seed", range(300))
def test_env_removal_keeps_other_pairs_valid(seed: int) -> None:
    text, kept, run = _random_env(random.Random(seed))
    result = fix_bytes(text.encode(), "dockerfile", Settings.of(select=frozenset({"DF004"})))
    assert result.error is None and collateral(result) == []
    doc = parse(SourceText(result.text))
    pairs = [
        (kv.key, kv.value) for i in doc.instructions if i.keyword == "ENV" for kv in key_values(i)
    ]
    assert pairs == kept
    keywords = ["FROM", *(["ENV"] if kept else []), *(["RUN"] if run else [])]
    assert [i.keyword for i in doc.instructions] == keywords
    assert result.text.endswith("\n") == text.endswith("\n")
