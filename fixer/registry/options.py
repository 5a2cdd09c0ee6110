"""Client settings and where each registry is reached (mirrors, schemes)."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from .reference import DOCKER_HUB, DOCKER_HUB_API

MIB = 1024 * 1024


@dataclass(frozen=True)
class ClientOptions:
    """Timeouts in seconds. `retries` counts extra attempts after the first on 429, 5xx and
    connection errors; waits grow as `backoff * 2**attempt` or follow `Retry-After`, never
    longer than `max_retry_wait`. `deadline` bounds one request as a whole, its retries and
    its whole body included, however slowly the server sends."""

    connect_timeout: float = 5.0
    read_timeout: float = 20.0
    deadline: float = 30.0
    retries: int = 3
    backoff: float = 0.5
    max_retry_wait: float = 20.0
    pool_size: int = 16
    tag_page_size: int = 1000
    max_tag_pages: int = 10
    max_tag_probes: int = 10
    manifest_limit: int = 4 * MIB
    body_limit: int = 32 * MIB
    #: Layer reads (`--inspect-layers`): bytes streamed per image, and a deadline for all
    #: of one image's layers (each request also keeps `deadline`).
    layer_budget: int = 200 * MIB
    layer_deadline: float = 120.0
    user_agent: str = "tighten (+registry client)"


@dataclass(frozen=True)
class Endpoint:
    """Where to send API requests for one registry, and whose credentials to use there."""

    base_url: str  # scheme://host[:port][/prefix], no trailing slash
    credential_host: str

    def url(self, path: str) -> str:
        return self.base_url + path

    @property
    def origin(self) -> str:
        parts = urlsplit(self.base_url)
        return f"{parts.scheme}://{parts.netloc}"


def _canonical_registry(name: str) -> str:
    return DOCKER_HUB if name in ("index.docker.io", DOCKER_HUB_API) else name


def is_loopback(host: str) -> bool:
    """localhost, 127.0.0.0/8 or ::1, with or without a port."""
    if host.startswith("["):
        name = host[1:].split("]", 1)[0]
    else:
        name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def mirror_endpoint(url: str) -> Endpoint:
    """A mirror URL: plain HTTP only when it says `http://`; otherwise verified HTTPS."""
    text = url.strip().rstrip("/")
    if "://" not in text:
        text = "https://" + text
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"invalid mirror URL {url!r}: expected http(s)://host[:port]")
    if parts.query or parts.fragment or "@" in parts.netloc:
        raise ValueError(f"invalid mirror URL {url!r}: no credentials, query or fragment")
    return Endpoint(text, parts.netloc)


def endpoints_from(mirrors: Mapping[str, str] | None) -> dict[str, Endpoint]:
    return {_canonical_registry(k): mirror_endpoint(v) for k, v in (mirrors or {}).items()}


def endpoint_for(registry: str, mirrors: Mapping[str, Endpoint]) -> Endpoint:
    """The mirror if one is set; Docker Hub's API host; plain HTTP for loopback registries
    (as Docker treats 127.0.0.0/8 as insecure by default); HTTPS otherwise."""
    if registry in mirrors:
        return mirrors[registry]
    if registry == DOCKER_HUB:
        return Endpoint(f"https://{DOCKER_HUB_API}", DOCKER_HUB)
    scheme = "http" if is_loopback(registry) else "https"
    return Endpoint(f"{scheme}://{registry}", registry)
