"""Sealing a value for Bitnami Sealed Secrets offline, with the controller's public certificate.

The format is kubeseal's (``pkg/crypto/crypto.go`` HybridEncrypt): a random 32-byte
AES-256-GCM session key encrypts the value with an all-zero nonce (the key is used once);
RSA-OAEP with SHA-256 encrypts the session key, with the label ``namespace/name`` (strict
scope: the controller unseals it only as that Secret); the output is the RSA ciphertext's
length (2 bytes, big-endian), the RSA ciphertext, then the AES-GCM ciphertext, base64-encoded.
Only the public certificate is needed; nothing here writes a file.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass, field
from typing import Any

_SESSION_KEY_BYTES = 32
_NONCE_BYTES = 12  # Go's cipher.NewGCM default nonce size


class SealingError(ValueError):
    """The certificate cannot seal (not PEM, not RSA); the message never holds a value."""


def available() -> bool:
    """True when ``cryptography`` is importable (sealing needs it)."""
    try:
        import cryptography.hazmat.primitives.ciphers.aead  # noqa: F401
    except ImportError:
        return False
    return True


def public_key(pem: bytes) -> Any:
    """The RSA public key of the PEM certificate ``pem`` (``SealingError`` otherwise)."""
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import rsa

    try:
        key = x509.load_pem_x509_certificate(pem).public_key()
    except ValueError:
        raise SealingError("not a PEM certificate") from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise SealingError("the certificate's key is not RSA")
    return key


def label(namespace: str, name: str) -> bytes:
    """The strict-scope label: the sealed value opens only as ``namespace``/``name``."""
    return f"{namespace}/{name}".encode()


def hybrid_encrypt(key: Any, plaintext: bytes, label_: bytes) -> bytes:
    """kubeseal's HybridEncrypt with the RSA public key ``key``."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    session = os.urandom(_SESSION_KEY_BYTES)
    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=label_)
    wrapped: bytes = key.encrypt(session, oaep)
    sealed = AESGCM(session).encrypt(bytes(_NONCE_BYTES), plaintext, None)
    return len(wrapped).to_bytes(2, "big") + wrapped + sealed


def seal(pem: bytes, namespace: str, name: str, value: str) -> str:
    """``value`` sealed for the Secret ``namespace``/``name``, base64 as in ``encryptedData``."""
    raw = hybrid_encrypt(public_key(pem), value.encode("utf-8"), label(namespace, name))
    return base64.b64encode(raw).decode("ascii")


#: What a preview shows instead of a sealed value (sealing is random: nothing to compare).
PREVIEW = "<sealed when written>"


@dataclass(frozen=True)
class SealMerge:
    """``SideFile.merge`` for a generated ``SealedSecret`` file: adds a sealed entry per key
    of ``values`` to the SealedSecret ``name`` (as written; kustomize renders it as
    ``sealed_name`` in ``sealed_namespace``, the identity it is sealed for). A new file
    holds one document; an existing one is re-rendered with the new keys (keys it already
    has cannot be compared, being sealed: one raises). ``preview`` seals nothing."""

    pem: bytes = field(repr=False)
    name: str
    namespace: str | None
    sealed_name: str
    sealed_namespace: str
    values: tuple[tuple[str, str], ...] = field(repr=False)
    header: str = ""
    preview: bool = False

    def __call__(self, existing: str | None) -> str:
        import yaml

        docs: list[Any] = []
        if existing is not None:
            try:
                docs = [d for d in yaml.safe_load_all(existing) if d is not None]
            except yaml.YAMLError:
                raise SealingError("the existing file is not YAML") from None
        found = next((d for d in docs if self._is_mine(d)), None)
        if found is None:
            found = self._new()
            docs.append(found)
        encrypted = found["spec"].setdefault("encryptedData", {})
        for key, value in self.values:
            if key in encrypted:
                if self.preview:
                    continue
                raise SealingError(f"SealedSecret {self.name} already holds key {key}")
            encrypted[key] = PREVIEW if self.preview else self._seal(value)
        body = yaml.safe_dump_all(docs, sort_keys=False, explicit_start=len(docs) > 1)
        return self.header + body

    def _seal(self, value: str) -> str:
        return seal(self.pem, self.sealed_namespace, self.sealed_name, value)

    def _is_mine(self, doc: Any) -> bool:
        meta = doc.get("metadata") if isinstance(doc, dict) else None
        return (
            isinstance(meta, dict)
            and doc.get("kind") == "SealedSecret"
            and meta.get("name") == self.name
            and meta.get("namespace") == self.namespace
            and isinstance(doc.get("spec"), dict)
        )

    def _new(self) -> dict[str, Any]:
        metadata: dict[str, Any] = {"name": self.name}
        if self.namespace is not None:
            metadata["namespace"] = self.namespace
        template = {
            "metadata": {"name": self.sealed_name, "namespace": self.sealed_namespace},
            "type": "Opaque",
        }
        spec: dict[str, Any] = {"encryptedData": {}, "template": template}
        return {
            "apiVersion": "bitnami.com/v1alpha1",
            "kind": "SealedSecret",
            "metadata": metadata,
            "spec": spec,
        }
