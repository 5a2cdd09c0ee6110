"""K8S004 in a repository that seals its Secrets (issue 14): the value is sealed offline with
the controller's public certificate into a committed SealedSecret listed in the
Kustomization. The test makes a throwaway RSA key and self-signed certificate, unseals with
the private key (kubeseal's HybridDecrypt, written here) and has ``kubectl kustomize`` show
that the SealedSecret and the reference agree on name and namespace.
"""

from __future__ import annotations

import base64
import datetime
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.x509.oid import NameOID

from tests.realparts import kustomize

pytestmark = pytest.mark.slow  # runs CLI processes, git and kubectl

REPOS = Path(__file__).resolve().parent.parent / "fixtures" / "repos"
VALUE = "s3cr3t-Pa55-sealed"


def _key_and_cert() -> tuple[rsa.RSAPrivateKey, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "sealed-secret")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    return key, cert.public_bytes(serialization.Encoding.PEM)


def _hybrid_decrypt(key: rsa.RSAPrivateKey, sealed: str, label: bytes) -> bytes:
    """kubeseal's HybridDecrypt (pkg/crypto/crypto.go)."""
    raw = base64.b64decode(sealed)
    size = int.from_bytes(raw[:2], "big")
    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=label)
    session = key.decrypt(raw[2 : 2 + size], oaep)
    return AESGCM(session).decrypt(bytes(12), raw[2 + size :], None)


def _repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(REPOS / "secrets-sealed", root)
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    return root


def _fix(root: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    args = [sys.executable, "-m", "fixer", "fix", "--select", "K8S004", *extra, "."]
    return subprocess.run(args, cwd=root, capture_output=True, text=True, check=False)


def _docs(text: str) -> list[Any]:
    return [d for d in yaml.safe_load_all(text) if d]


def _committable(root: Path) -> list[str]:
    """The files ``git add -A`` would stage."""
    out = subprocess.run(
        ["git", "add", "-A", "--dry-run"], cwd=root, capture_output=True, text=True, check=True
    ).stdout
    return [line.split("'")[1] for line in out.splitlines() if "'" in line]


def _check_sealed(
    root: Path, key: rsa.RSAPrivateKey, run: subprocess.CompletedProcess[str]
) -> None:
    out = run.stdout + run.stderr
    assert run.returncode == 0, out
    assert VALUE not in out
    assert "value sealed with" in out
    sealed_file = root / "apps" / "shop" / "deploy.sealed.yaml"
    committable = _committable(root)
    assert "apps/shop/deploy.sealed.yaml" in committable
    assert "apps/shop/deploy.secrets.yaml" not in committable  # the plaintext stays ignored
    assert all(VALUE not in (root / p).read_text() for p in committable)
    assert VALUE in (root / "apps" / "shop" / "deploy.secrets.yaml").read_text()
    kustomization = yaml.safe_load((root / "apps" / "shop" / "kustomization.yaml").read_text())
    assert kustomization["resources"] == [
        "deploy.yaml",
        "db-credentials.yaml",
        "deploy.sealed.yaml",
    ]

    (sealed,) = _docs(sealed_file.read_text())
    assert sealed["kind"] == "SealedSecret" and sealed["metadata"]["name"] == "web-secrets"
    assert sealed["spec"]["template"]["metadata"] == {
        "name": "shop-web-secrets",
        "namespace": "shop",
    }
    blob = sealed["spec"]["encryptedData"]["DB_PASSWORD"]
    assert _hybrid_decrypt(key, blob, b"shop/shop-web-secrets") == VALUE.encode()
    with pytest.raises(ValueError):  # strict scope: it opens only as that Secret
        _hybrid_decrypt(key, blob, b"shop/web-secrets")

    rendered = kustomize(root, "apps/shop")
    assert VALUE not in rendered
    by_name = {(d["kind"], d["metadata"]["name"]): d for d in _docs(rendered)}
    rendered_sealed = by_name[("SealedSecret", "shop-web-secrets")]
    assert rendered_sealed["metadata"]["namespace"] == "shop"
    deployment = by_name[("Deployment", "shop-web")]
    assert deployment["metadata"]["namespace"] == "shop"
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    (entry,) = [e for e in container["env"] if e["name"] == "DB_PASSWORD"]
    assert entry["valueFrom"]["secretKeyRef"] == {"name": "shop-web-secrets", "key": "DB_PASSWORD"}


def test_value_is_sealed_with_the_repository_certificate(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    key, pem = _key_and_cert()
    (root / "pub-sealed-secrets.pem").write_bytes(pem)
    run = _fix(root)
    _check_sealed(root, key, run)
    assert "pub-sealed-secrets.pem" in run.stdout + run.stderr


def test_value_is_sealed_with_the_certificate_given_by_flag(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    key, pem = _key_and_cert()
    cert = tmp_path / "cluster.pem"
    cert.write_bytes(pem)
    _check_sealed(root, key, _fix(root, "--sealed-secrets-cert", str(cert)))


def test_without_a_certificate_the_value_goes_to_the_ignored_file(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    run = _fix(root)
    assert run.returncode == 0, run.stdout + run.stderr
    assert not (root / "apps" / "shop" / "deploy.sealed.yaml").exists()
    assert "deploy.sealed.yaml" not in (root / "apps" / "shop" / "kustomization.yaml").read_text()


def test_a_dockerfile_value_is_sealed_for_the_workload_that_runs_its_image(
    tmp_path: Path,
) -> None:
    """DF004 follows the image into a Sealed Secrets repository: the ENV leaves the
    Dockerfile, the container that runs the image references the sealed Secret."""
    root = _repo(tmp_path)
    deploy = root / "apps" / "shop" / "deploy.yaml"
    text = deploy.read_text()
    deploy.write_text(text.split("          env:\n")[0])  # the value lives in the image now
    (root / "app").mkdir()
    (root / "app" / "Dockerfile").write_text(
        f'FROM python:3.12-slim\nENV PORT=8080 DB_PASSWORD={VALUE}\nCMD ["python"]\n'
    )
    (root / "skaffold.yaml").write_text(
        "apiVersion: skaffold/v4beta11\nkind: Config\n"
        "build:\n  artifacts:\n    - image: example/app\n      context: app\n"
    )
    key, pem = _key_and_cert()
    (root / "pub-sealed-secrets.pem").write_bytes(pem)
    args = [sys.executable, "-m", "fixer", "fix", "--select", "DF004", "."]
    run = subprocess.run(args, cwd=root, capture_output=True, text=True, check=False)
    out = run.stdout + run.stderr
    assert run.returncode == 0, out
    assert VALUE not in out and "value sealed with" in out
    assert "DB_PASSWORD" not in (root / "app" / "Dockerfile").read_text()
    committable = _committable(root)
    assert "apps/shop/deploy.sealed.yaml" in committable
    assert all(VALUE not in (root / p).read_text() for p in committable if (root / p).is_file())
    (sealed,) = _docs((root / "apps" / "shop" / "deploy.sealed.yaml").read_text())
    blob = sealed["spec"]["encryptedData"]["DB_PASSWORD"]
    assert _hybrid_decrypt(key, blob, b"shop/shop-web-secrets") == VALUE.encode()
    rendered = kustomize(root, "apps/shop")
    by_name = {(d["kind"], d["metadata"]["name"]): d for d in _docs(rendered)}
    assert ("SealedSecret", "shop-web-secrets") in by_name
    container = by_name[("Deployment", "shop-web")]["spec"]["template"]["spec"]["containers"][0]
    (entry,) = [e for e in container["env"] if e["name"] == "DB_PASSWORD"]
    assert entry["valueFrom"]["secretKeyRef"] == {"name": "shop-web-secrets", "key": "DB_PASSWORD"}
