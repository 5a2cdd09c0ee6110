"""Where ``tighten pr`` may send the GitHub token: the forge's own origin, over https.

A remote URL is whatever the repository's configuration says (a mirror, an ``insteadOf``
rewrite, a colleague's server); the token belongs to the forge the API URL names. So the
origin is computed once from ``--api-url`` and a remote gets the token only when its scheme,
host and port are the forge's. Plain http is allowed only for loopback hosts (tests, local
fakes): anywhere else it would put the token on the wire. Pure functions, no I/O.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

__all__ = ["Origin", "api_refusal", "git_origin", "is_loopback", "refusal"]

_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class Origin:
    """Scheme, host (lower case) and port (the scheme's default filled in)."""

    scheme: str
    host: str
    port: int

    @classmethod
    def of(cls, url: str) -> Origin | None:
        """The origin of an http(s) URL, or None for anything else (ssh, paths, junk)."""
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in _DEFAULT_PORTS or not parts.hostname:
            return None
        try:
            port = parts.port or _DEFAULT_PORTS[scheme]
        except ValueError:  # a port that is not a number
            return None
        return cls(scheme, parts.hostname.lower(), port)

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        port = "" if _DEFAULT_PORTS[self.scheme] == self.port else f":{self.port}"
        return f"{self.scheme}://{host}{port}"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def git_origin(api_url: str) -> Origin | None:
    """The origin git uses on the forge ``api_url`` belongs to.

    ``https://api.github.com`` serves ``https://github.com`` (and ``api.X.ghe.com`` serves
    ``X.ghe.com``); GitHub Enterprise Server's ``https://HOST/api/v3`` serves ``HOST``.
    """
    found = Origin.of(api_url)
    if found is None:
        return None
    path = urlsplit(api_url).path.strip("/")
    if not path and found.host.startswith("api."):
        return Origin(found.scheme, found.host.removeprefix("api."), found.port)
    return found


def _secure(found: Origin) -> bool:
    return found.scheme == "https" or is_loopback(found.host)


def api_refusal(api_url: str) -> str | None:
    """Why the token must not go to ``api_url`` (None: it may)."""
    found = Origin.of(api_url)
    if found is None:
        return f"--api-url {api_url!r} is not an http(s) URL"
    if not _secure(found):
        return (
            f"--api-url {found} uses plain http: the token is sent only over https "
            "(http only to a loopback address)"
        )
    return None


def refusal(remote_url: str, forge: Origin | None) -> str | None:
    """Why git must not send the token to ``remote_url`` (None: it may).

    Only meaningful for http(s) remotes; ssh and local paths never carry the token.
    """
    found = Origin.of(remote_url)
    if found is None:
        return "not an http(s) remote"
    if forge is None:
        return f"remote host {found} is not the forge (unknown); token not sent"
    if not _secure(found):
        return f"remote {found} uses plain http; token not sent"
    if found != forge:
        return f"remote host {found} is not the forge {forge}; token not sent"
    return None
