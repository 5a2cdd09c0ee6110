"""Registry authentication as values: challenges, token requests, tokens.

Pure functions only; `transport.py` sends the requests. The flow is Docker's token spec:
a 401 carries `WWW-Authenticate: Bearer realm=...,service=...` and the client asks the realm
for a token with `scope=repository:<name>:pull`, with Basic credentials when it has them.
An identity token (`identitytoken` in config.json) is an OAuth2 refresh token, POSTed with
`grant_type=refresh_token` as docker/distribution does; token servers without OAuth2 answer
that POST with 404/405, and we then fall back to the GET form.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from urllib.parse import urlsplit

from .credentials import Credentials
from .options import is_loopback
from .results import RegistryError

CLIENT_ID = "tighten"
REALM_DOWNGRADE = "token realm downgrades to http; refused"
MIN_TOKEN_LIFETIME = 60.0  # seconds; the token spec's default when expires_in is missing
EXPIRY_MARGIN = 5.0  # renew a little early so a token does not expire in flight

_TOKEN68 = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_SCHEME = re.compile(rf"\s*,?\s*({_TOKEN68})(?=\s|$)")
_PARAM = re.compile(rf'\s*,?\s*({_TOKEN68})\s*=\s*(?:"((?:[^"\\]|\\.)*)"|({_TOKEN68}))')
_ESCAPE = re.compile(r"\\(.)")


@dataclass(frozen=True)
class Challenge:
    scheme: str  # lower case: "bearer" or "basic"
    params: Mapping[str, str] = field(default_factory=dict)

    @property
    def realm(self) -> str:
        return self.params.get("realm", "")


def parse_challenges(header: str) -> list[Challenge]:
    """All challenges of a `WWW-Authenticate` value (quoted values may hold commas)."""
    found: list[Challenge] = []
    pos = 0
    while pos < len(header):
        scheme = _SCHEME.match(header, pos)
        if not scheme:
            break
        pos = scheme.end()
        params: dict[str, str] = {}
        while param := _PARAM.match(header, pos):
            quoted, bare = param.group(2), param.group(3)
            params[param.group(1).lower()] = (
                _ESCAPE.sub(r"\1", quoted) if quoted is not None else bare
            )
            pos = param.end()
        found.append(Challenge(scheme.group(1).lower(), params))
    return found


def preferred_challenge(header: str | None) -> Challenge | None:
    """Bearer over Basic; None when the header offers neither."""
    challenges = parse_challenges(header or "")
    for scheme in ("bearer", "basic"):
        for challenge in challenges:
            if challenge.scheme == scheme:
                return challenge
    return None


def pull_scope(repository: str) -> str:
    return f"repository:{repository}:pull"


@dataclass(frozen=True)
class Token:
    value: str = field(repr=False)
    expires_at: float  # on the caller's monotonic clock
    obtained_at: float = 0.0

    def fresh(self, now: float) -> bool:
        return now < self.expires_at - EXPIRY_MARGIN

    @property
    def header(self) -> str:
        return f"Bearer {self.value}"


@dataclass(frozen=True)
class TokenRequest:
    """One request to a token realm. Secrets live in `headers`/`form`, never in `url`."""

    method: str
    url: str
    params: tuple[tuple[str, str], ...]
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    form: tuple[tuple[str, str], ...] | None = field(default=None, repr=False)

    @property
    def is_oauth(self) -> bool:
        return self.method == "POST"


def token_request(
    challenge: Challenge, scope: str, creds: Credentials | None, *, oauth: bool = True
) -> TokenRequest:
    realm = challenge.realm
    if urlsplit(realm).scheme not in ("http", "https"):
        raise RegistryError("bad response: invalid token realm")
    service = challenge.params.get("service", "")
    if oauth and creds is not None and creds.identity_token:
        form = (
            ("grant_type", "refresh_token"),
            ("refresh_token", creds.identity_token),
            ("service", service),
            ("scope", scope),
            ("client_id", CLIENT_ID),
        )
        return TokenRequest("POST", realm, (), {}, form)
    params = (("service", service), ("scope", scope)) if service else (("scope", scope),)
    headers = {"Authorization": creds.basic_header()} if creds and creds.has_basic else {}
    return TokenRequest("GET", realm, params, headers)


def realm_downgrades(registry_url: str, realm: str) -> bool:
    """True when a registry reached over https names a plain-http token realm on another
    machine: credentials sent there would cross the network in clear text. (A loopback
    realm never leaves the machine.)"""
    registry, token = urlsplit(registry_url), urlsplit(realm)
    return registry.scheme == "https" and token.scheme == "http" and not is_loopback(token.netloc)


def sends_secret(creds: Credentials | None) -> bool:
    """Whether a token request with these credentials carries a secret."""
    return creds is not None and bool(creds.has_basic or creds.identity_token)


def parse_token_response(body: bytes, now: float) -> Token:
    """`token` or `access_token`; `expires_in` (default 60 s) counted from `now`."""
    try:
        data = json.loads(body)
    except ValueError:
        raise RegistryError("bad response: token response is not JSON") from None
    if not isinstance(data, dict):
        raise RegistryError("bad response: token response is not a JSON object")
    value = data.get("access_token") or data.get("token")
    if not isinstance(value, str) or not value:
        raise RegistryError("bad response: no token in token response")
    lifetime = data.get("expires_in")
    if not isinstance(lifetime, (int, float)) or lifetime <= 0:
        lifetime = MIN_TOKEN_LIFETIME
    return Token(value, now + float(lifetime) - _age(data.get("issued_at")), now)


def _age(issued_at: object) -> float:
    # A token issued a while ago (clock skew aside) expires that much sooner.
    if not isinstance(issued_at, str):
        return 0.0
    try:
        issued = datetime.fromisoformat(issued_at.replace("Z", "+00:00"))
    except ValueError:
        return 0.0
    if issued.tzinfo is None:
        issued = issued.replace(tzinfo=timezone.utc)
    age = (datetime.now(timezone.utc) - issued).total_seconds()
    return min(max(age, 0.0), 30.0)
