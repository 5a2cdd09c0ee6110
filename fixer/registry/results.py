"""Per-reference outcomes of a registry look-up: a `Resolution` or a `RegistryError`.

Both are plain values so that resolving many references returns one outcome per reference
and a failure for one never stops the others.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import Enum

from .reference import Reference

# Short, stable reasons (callers may match on them; the text after "bad response:" varies).
NOT_FOUND = "not found"
UNAUTHORIZED = "unauthorized"
DENIED = "denied"
TIMEOUT = "timeout"
CONNECTION_FAILED = "connection failed"
RATE_LIMITED = "rate limited"
DIGEST_MISMATCH = "bad response: digest mismatch"
NOT_IN_LOCKFILE = "not in lockfile"


class Source(Enum):
    """Where a digest came from."""

    REGISTRY = "registry"
    LOCKFILE = "lockfile"
    REFERENCE = "reference"  # the reference already carried a digest


class RegistryError(Exception):
    """A look-up failed; `reason` is short and never contains credentials or tokens."""

    def __init__(self, reason: str, *, reference: str | None = None, status: int | None = None):
        super().__init__(reason)
        self.reason = reason
        self.reference = reference
        self.status = status

    def for_reference(self, reference: str) -> RegistryError:
        """The same error, naming the reference as the user wrote it."""
        return RegistryError(self.reason, reference=reference, status=self.status)

    def clone(self) -> RegistryError:
        """A fresh instance to raise (a remembered error may be raised by many threads)."""
        return RegistryError(self.reason, reference=self.reference, status=self.status)

    def __str__(self) -> str:
        return f"{self.reference}: {self.reason}" if self.reference else self.reason

    def __repr__(self) -> str:
        return f"RegistryError({self.reason!r}, reference={self.reference!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RegistryError):
            return NotImplemented
        return (self.reason, self.reference, self.status) == (
            other.reason,
            other.reference,
            other.status,
        )

    def __hash__(self) -> int:
        return hash((self.reason, self.reference, self.status))


@dataclass(frozen=True)
class Resolution:
    """A reference resolved to the digest to pin.

    `digest` is what to write (the multi-arch index, or one platform's manifest when a
    platform was asked for); `tag` is the tag to write next to it: the user's own tag, a
    discovered version tag for `latest`/untagged references, or None (write `name@digest`).
    """

    reference: Reference
    digest: str
    tag: str | None
    media_type: str | None = None
    platform: str | None = None
    source: Source = Source.REGISTRY

    def pinned(self) -> str:
        """The reference as the user wrote its name, pinned: `nginx:1.27@sha256:...`."""
        return self.reference.pinned(self.digest, tag=self.tag)

    def with_reference(self, reference: Reference) -> Resolution:
        return replace(self, reference=reference)
