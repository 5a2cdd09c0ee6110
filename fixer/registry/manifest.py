"""Manifest media types, platforms and digests: pure functions over manifest bytes."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .reference import is_valid_digest
from .results import DIGEST_MISMATCH, RegistryError

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
INDEX_TYPES = frozenset({OCI_INDEX, DOCKER_LIST})
IMAGE_TYPES = frozenset({OCI_MANIFEST, DOCKER_MANIFEST})
# All four, always: distribution 2.8 answers 404 for an OCI index it was not asked for and
# down-converts a Docker manifest to schema 1 (a different digest) when its type is missing.
ACCEPT = ", ".join((OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST))

_ARCH_ALIASES = {"x86_64": "amd64", "x86-64": "amd64", "aarch64": "arm64", "armhf": "arm"}
_DEFAULT_VARIANT = {"arm64": "v8", "arm": "v7", "amd64": "v1"}


@dataclass(frozen=True)
class Platform:
    """`os/architecture[/variant]`, normalised the way containerd does (aarch64 -> arm64)."""

    os: str
    architecture: str
    variant: str | None = None

    @classmethod
    def parse(cls, text: str) -> Platform:
        parts = text.strip().lower().split("/")
        if len(parts) not in (2, 3) or not all(parts):
            raise ValueError(f"invalid platform {text!r}: expected os/arch[/variant]")
        arch = _ARCH_ALIASES.get(parts[1], parts[1])
        return cls(parts[0], arch, parts[2] if len(parts) == 3 else None)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Platform | None:
        os_name, arch = data.get("os"), data.get("architecture")
        if not isinstance(os_name, str) or not isinstance(arch, str):
            return None
        variant = data.get("variant")
        return cls(os_name, _ARCH_ALIASES.get(arch, arch), variant or None)

    def matches(self, other: Platform) -> bool:
        """True when `other` (from a manifest) satisfies this requested platform."""
        if (self.os, self.architecture) != (other.os, other.architecture):
            return False
        return self.variant is None or self.variant == other.normalized_variant

    @property
    def normalized_variant(self) -> str | None:
        return self.variant or _DEFAULT_VARIANT.get(self.architecture)

    def __str__(self) -> str:
        base = f"{self.os}/{self.architecture}"
        return f"{base}/{self.variant}" if self.variant else base


@dataclass(frozen=True)
class Descriptor:
    media_type: str
    digest: str
    platform: Platform | None = None


@dataclass(frozen=True)
class Manifest:
    """Manifest bytes with their verified digest and parsed JSON."""

    media_type: str
    digest: str
    data: Mapping[str, Any]

    @property
    def is_index(self) -> bool:
        return self.media_type in INDEX_TYPES

    def entries(self) -> tuple[Descriptor, ...]:
        out = []
        for item in self.data.get("manifests") or ():
            if isinstance(item, dict) and is_valid_digest(str(item.get("digest", ""))):
                platform = Platform.from_json(item.get("platform") or {})
                out.append(Descriptor(str(item.get("mediaType", "")), item["digest"], platform))
        return tuple(out)

    @property
    def config_digest(self) -> str:
        config = self.data.get("config")
        digest = config.get("digest") if isinstance(config, dict) else None
        if not isinstance(digest, str) or not is_valid_digest(digest):
            raise RegistryError("bad response: manifest has no config")
        return digest


def compute_digest(body: bytes, algorithm: str = "sha256") -> str:
    return f"{algorithm}:{hashlib.new(algorithm, body).hexdigest()}"


def verified_digest(body: bytes, claimed: str | None) -> str:
    """The digest of `body`, checked against the one the server (or our request) named."""
    if claimed:
        algorithm = claimed.partition(":")[0]
        if algorithm not in ("sha256", "sha384", "sha512") or not is_valid_digest(claimed):
            raise RegistryError(f"bad response: unsupported digest {algorithm!r}")
        if compute_digest(body, algorithm) != claimed:
            raise RegistryError(DIGEST_MISMATCH)
        return claimed
    return compute_digest(body)


def parse_manifest(body: bytes, content_type: str | None, digest: str) -> Manifest:
    try:
        data = json.loads(body)
    except ValueError:
        raise RegistryError("bad response: manifest is not JSON") from None
    if not isinstance(data, dict):
        raise RegistryError("bad response: manifest is not a JSON object")
    media_type = media_type_of(data, content_type)
    if media_type not in INDEX_TYPES | IMAGE_TYPES:
        raise RegistryError(f"bad response: unsupported manifest type {media_type!r}")
    return Manifest(media_type, digest, data)


def media_type_of(data: Mapping[str, Any], content_type: str | None) -> str:
    # The body's mediaType is authoritative; OCI allows it to be absent.
    declared = data.get("mediaType")
    if isinstance(declared, str) and declared:
        return declared
    header = (content_type or "").split(";")[0].strip()
    if header in INDEX_TYPES | IMAGE_TYPES:
        return header
    return OCI_INDEX if "manifests" in data else OCI_MANIFEST


def select_platform(manifest: Manifest, wanted: Platform) -> Descriptor:
    """The index entry for `wanted`, preferring the architecture's default variant."""
    matching = [e for e in manifest.entries() if e.platform and wanted.matches(e.platform)]
    if not matching:
        available = sorted({str(e.platform) for e in manifest.entries() if e.platform})
        known = [p for p in available if "unknown" not in p]
        raise RegistryError(
            f"platform not found: {wanted} (available: {', '.join(known) or 'none'})"
        )

    def rank(entry: Descriptor) -> int:
        assert entry.platform is not None
        default = _DEFAULT_VARIANT.get(entry.platform.architecture)
        return 0 if entry.platform.normalized_variant == default else 1

    return min(matching, key=rank)


def config_matches(config: Mapping[str, Any], wanted: Platform) -> bool:
    found = Platform.from_json(config)
    return found is not None and wanted.matches(found)
