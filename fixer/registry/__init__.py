"""OCI registry access: reference grammar, digest resolution, lockfile.

Importing this package stays cheap: `requests` is loaded only when `RegistryClient` (or
another HTTP-side name) is first used, so `tighten --version` starts fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .imageconfig import ImageConfig
from .imagefacts import ImageFacts, LayerFacts
from .lock import LOCKFILE_NAME, LockEntry, Lockfile, LockfileError, PinResult, resolve_with_lock
from .reference import InvalidReference, Reference
from .results import RegistryError, Resolution, Source

if TYPE_CHECKING:
    from .client import RegistryClient
    from .credentials import Credentials, CredentialStore
    from .options import ClientOptions

_LAZY = {
    "RegistryClient": ".client",
    "ClientOptions": ".options",
    "CredentialStore": ".credentials",
    "Credentials": ".credentials",
}

__all__ = [
    "LOCKFILE_NAME",
    "ClientOptions",
    "CredentialStore",
    "Credentials",
    "ImageConfig",
    "ImageFacts",
    "InvalidReference",
    "LayerFacts",
    "LockEntry",
    "Lockfile",
    "LockfileError",
    "PinResult",
    "Reference",
    "RegistryClient",
    "RegistryError",
    "Resolution",
    "Source",
    "resolve_with_lock",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
