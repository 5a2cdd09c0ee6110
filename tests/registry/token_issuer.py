"""A token server for distribution's `token` auth: RS256 JWTs signed by a throwaway key
whose self-signed certificate the registry trusts through `rootcertbundle`.

It serves the GET flow (Basic credentials or anonymous) and the OAuth2 POST flow
(`grant_type=refresh_token` with an identity token), and records every call.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus, urlsplit

from .loopback import QuietHandler, serve


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def libtrust_key_id(public_der: bytes) -> str:
    """The key ID distribution's token auth looks up: base32 of the SHA-256 of the DER
    public key, first 240 bits, in groups of four."""
    encoded = base64.b32encode(hashlib.sha256(public_der).digest()[:30]).decode().rstrip("=")
    return ":".join(encoded[i : i + 4] for i in range(0, len(encoded), 4))


class _Signer:
    def __init__(self, workdir: Path):
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import rsa
        from cryptography.x509.oid import NameOID

        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "tighten test issuer")])
        now = time.time()
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(dt.datetime.fromtimestamp(now - 3600, dt.timezone.utc))
            .not_valid_after(dt.datetime.fromtimestamp(now + 86400, dt.timezone.utc))
            .sign(self._key, hashes.SHA256())
        )
        self.bundle = workdir / "issuer-bundle.pem"
        self.bundle.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        der = self._key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.key_id = libtrust_key_id(der)

    def sign(self, claims: dict[str, Any]) -> str:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        header = {"alg": "RS256", "typ": "JWT", "kid": self.key_id}
        head = _b64url(json.dumps(header).encode()) + "." + _b64url(json.dumps(claims).encode())
        signature = self._key.sign(head.encode(), padding.PKCS1v15(), hashes.SHA256())
        return head + "." + _b64url(signature)


@dataclass
class TokenCall:
    method: str
    scopes: tuple[str, ...]
    user: str | None
    grant: str


@dataclass
class TokenIssuer:
    """Grants `pull` on every repository to known users and identity tokens, and to
    anonymous clients on repositories outside `private/`."""

    workdir: Path
    service: str = "tighten-test-registry"
    issuer: str = "tighten-test-issuer"
    users: dict[str, str] = field(default_factory=lambda: {"alice": "alice-S3cret-pw"})
    identity_tokens: dict[str, str] = field(default_factory=lambda: {"idtok-Z9x8": "alice"})
    expires_in: int = 300
    oauth: bool = True
    calls: list[TokenCall] = field(default_factory=list)  # tokens granted
    attempts: int = 0  # requests received, refused ones included
    issued: list[str] = field(default_factory=list)

    def start(self) -> TokenIssuer:
        self._signer = _Signer(self.workdir)
        self._lock = threading.Lock()
        self._server = serve(self._handler_class())
        return self

    @property
    def realm(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/token"

    @property
    def bundle(self) -> Path:
        return self._signer.bundle

    def registry_auth(self) -> dict[str, Any]:
        return {
            "token": {
                "realm": self.realm,
                "service": self.service,
                "issuer": self.issuer,
                "rootcertbundle": str(self.bundle),
            }
        }

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self.attempts = 0

    def _attempt(self) -> None:
        with self._lock:
            self.attempts += 1

    def _grant(self, method: str, scopes: list[str], user: str | None, grant: str) -> str:
        with self._lock:
            self.calls.append(TokenCall(method, tuple(scopes), user, grant))
        access = []
        for scope in scopes:
            kind, _, rest = scope.partition(":")
            name, _, _actions = rest.rpartition(":")
            if kind == "repository" and (user or not name.startswith("private/")):
                access.append({"type": "repository", "name": name, "actions": ["pull"]})
        now = int(time.time())
        claims = {
            "iss": self.issuer, "sub": user or "", "aud": self.service, "exp": now + 300,
            "nbf": now - 30, "iat": now, "jti": f"{now}-{len(self.issued)}", "access": access,
        }  # fmt: skip
        token = self._signer.sign(claims)
        with self._lock:
            self.issued.append(token)
        return token

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        issuer = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                issuer._attempt()
                query = urlsplit(self.path).query
                params = [p.split("=", 1) for p in query.split("&") if "=" in p]
                scopes = [unquote_plus(v) for k, v in params if k == "scope"]
                valid, user = issuer._basic_user(self.headers.get("Authorization"))
                if not valid:
                    return self._reply(401, {"errors": [{"code": "UNAUTHORIZED"}]})
                token = issuer._grant("GET", scopes, user, "basic")
                self._reply(200, {"token": token, "expires_in": issuer.expires_in})

            def do_POST(self) -> None:
                issuer._attempt()
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode()  # read even when refusing: keep-alive
                if not issuer.oauth:
                    return self._reply(404, {"error": "not found"})
                pairs = (p.split("=", 1) for p in raw.split("&") if "=" in p)
                form = {k: unquote_plus(v) for k, v in pairs}
                user = issuer.identity_tokens.get(form.get("refresh_token", ""))
                if form.get("grant_type") != "refresh_token" or user is None:
                    return self._reply(401, {"error": "invalid_grant"})
                token = issuer._grant("POST", form.get("scope", "").split(), user, "refresh")
                self._reply(200, {"access_token": token, "expires_in": issuer.expires_in})

        return Handler

    def _basic_user(self, header: str | None) -> tuple[bool, str | None]:
        """(credentials acceptable, user name or None for anonymous)."""
        if not header:
            return True, None
        try:
            user, _, password = base64.b64decode(header.split(" ", 1)[1]).decode().partition(":")
        except (ValueError, IndexError):
            return False, None
        return self.users.get(user) == password, user
