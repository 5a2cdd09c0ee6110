"""`tighten.lock`: the digests a run pinned, so later runs (and offline runs) agree.

    {"version": 1, "images": {"nginx:1.27": {"digest": "sha256:...", "tag": "1.27",
                                             "resolved_at": "2025-01-01T00:00:00Z"}}}

Keys are references as written. Image facts (config, and layers when read) are kept per
digest under "facts" (see `factslock.py`); the key is left out while there are none. The file is written with sorted keys and a trailing
newline, atomically (temp file in the same folder, then `os.replace`), and an entry whose
digest and tag did not change keeps its `resolved_at`, so re-running gives no diff.

The file is input like any other: a pin writes its tag and digest into Dockerfiles and
manifests, so every field is checked against the reference grammar, and one bad entry
makes the whole file an error that names the entry (escaped and shortened: its text may
be hostile).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from types import MappingProxyType
from typing import Any, Protocol

from .factslock import FactsEntry, read_entry, stored
from .imagefacts import ImageFacts
from .reference import InvalidReference, Reference, is_registered_digest, is_valid_tag
from .results import NOT_IN_LOCKFILE, RegistryError, Resolution, Source

LOCKFILE_NAME = "tighten.lock"
LOCK_VERSION = 1


class LockfileError(Exception):
    """The lockfile cannot be read or is not a version-1 tighten lockfile."""

    def __init__(self, path: Path | str, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path = Path(path)
        self.reason = reason


@dataclass(frozen=True)
class LockEntry:
    digest: str
    tag: str | None
    resolved_at: str

    def to_json(self) -> dict[str, Any]:
        return {"digest": self.digest, "tag": self.tag, "resolved_at": self.resolved_at}


def utc_now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Lockfile:
    images: Mapping[str, LockEntry] = field(default_factory=lambda: MappingProxyType({}))
    facts: Mapping[str, FactsEntry] = field(default_factory=lambda: MappingProxyType({}))

    @classmethod
    def load(cls, path: Path) -> Lockfile:
        """The lockfile at `path`; an empty one when the file does not exist."""
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return cls()
        except (OSError, UnicodeDecodeError) as exc:
            raise LockfileError(path, f"cannot read: {exc}") from None
        return cls.loads(text, path)

    @classmethod
    def loads(cls, text: str, path: Path | str = LOCKFILE_NAME) -> Lockfile:
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise LockfileError(path, f"not valid JSON ({exc})") from None
        if not isinstance(data, dict) or data.get("version") != LOCK_VERSION:
            raise LockfileError(path, f"not a version {LOCK_VERSION} tighten lockfile")
        images = data.get("images")
        if not isinstance(images, dict):
            raise LockfileError(path, "'images' must be an object")
        entries = {key: _entry(path, key, value) for key, value in images.items()}
        facts = data.get("facts", {})
        if not isinstance(facts, dict):
            raise LockfileError(path, "'facts' must be an object")
        known = {key: _facts_entry(path, key, value) for key, value in facts.items()}
        _unique_references(path, known)
        return cls(MappingProxyType(entries), MappingProxyType(known))

    def lookup(self, reference: Reference | str) -> LockEntry | None:
        return self.images.get(str(reference))

    def digest_for(self, reference: Reference) -> str | None:
        """The digest `reference` names: its own, its pin, or the one facts were read for."""
        if reference.digest:
            return reference.digest
        entry = self.lookup(reference)
        if entry is not None:
            return entry.digest
        key = str(reference)
        for digest, facts in self.facts.items():
            if key in facts.references:
                return digest
        return None

    def image_facts(self, digest: str, platform: str) -> ImageFacts | None:
        entry = self.facts.get(digest)
        return entry.get(platform) if entry is not None else None

    def with_facts(self, reference: Reference, facts: ImageFacts) -> Lockfile:
        """A lockfile with `facts` recorded under their digest, `reference` pointing at
        them (and at no other digest); itself when nothing changes."""
        keep = stored(facts)
        key = str(reference)
        named = () if reference.digest else (key,)
        current = self.facts.get(facts.digest, FactsEntry())
        if current.get(facts.platform) == keep and set(named) <= set(current.references):
            return self
        entries = {d: _without(e, key) for d, e in self.facts.items()}
        platforms = {**dict(current.platforms), facts.platform: keep}
        references = tuple(sorted({*current.references, *named}))
        entries[facts.digest] = FactsEntry(references, tuple(sorted(platforms.items())))
        pinned = {entry.digest for entry in self.images.values()}
        kept = {d: e for d, e in entries.items() if e.references or d in pinned}
        return Lockfile(self.images, MappingProxyType(kept))

    def updated(self, resolutions: Iterable[Resolution], now: str | None = None) -> Lockfile:
        """A new lockfile with these registry resolutions recorded (unchanged entries keep
        their time; references that carried their own digest are not recorded)."""
        entries = dict(self.images)
        stamp = now or utc_now()
        for res in resolutions:
            if res.source is Source.REFERENCE:
                continue
            key = str(res.reference)
            old = entries.get(key)
            if old is None or (old.digest, old.tag) != (res.digest, res.tag):
                entries[key] = LockEntry(res.digest, res.tag, stamp)
        return Lockfile(MappingProxyType(entries), self.facts)

    def dumps(self) -> str:
        images = {key: self.images[key].to_json() for key in sorted(self.images)}
        data: dict[str, Any] = {"images": images, "version": LOCK_VERSION}
        if self.facts:
            data["facts"] = {key: self.facts[key].to_json() for key in sorted(self.facts)}
        return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"

    def save(self, path: Path) -> None:
        """Write atomically: readers see the old file or the new one, never half of one.
        A missing folder is created: `--lock-file ci/locks/tighten.lock` names it."""
        import tempfile  # only writers pay for it; `tighten --version` imports this module

        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
                handle.write(self.dumps())
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


SHOWN = 60  # characters of a hostile key or value quoted in an error
_WHEN_MAX = 64


def shown(value: object) -> str:
    """A value for an error line: repr-escaped (no raw newlines or terminal escapes) and
    shortened, since it came from a file that may be hostile."""
    text = repr(value)
    return text if len(text) <= SHOWN else text[: SHOWN - 3] + "..."


def _entry(path: Path | str, key: object, value: object) -> LockEntry:
    name = f"entry {shown(key)}"
    if not isinstance(key, str) or not isinstance(value, dict):
        raise LockfileError(path, f"{name} must be an object")
    try:
        Reference.parse(key)
    except InvalidReference as exc:
        raise LockfileError(path, f"{name} is an invalid reference ({exc.reason})") from None
    digest, tag, when = value.get("digest"), value.get("tag"), value.get("resolved_at")
    if not isinstance(digest, str) or not is_registered_digest(digest):
        raise LockfileError(path, f"{name} has an invalid digest {shown(digest)}")
    if tag is not None and not (isinstance(tag, str) and is_valid_tag(tag)):
        raise LockfileError(path, f"{name} has an invalid tag {shown(tag)}")
    if not isinstance(when, str):
        raise LockfileError(path, f"{name} has no resolved_at")
    if len(when) > _WHEN_MAX or not when.isprintable():
        raise LockfileError(path, f"{name} has an invalid resolved_at {shown(when)}")
    return LockEntry(digest, tag, when)


def _facts_entry(path: Path | str, key: object, value: object) -> FactsEntry:
    name = f"facts entry {shown(key)}"
    if not isinstance(key, str) or not is_registered_digest(key):
        raise LockfileError(path, f"{name} is not keyed by a digest")
    try:
        return read_entry(key, value)
    except ValueError as exc:
        raise LockfileError(path, f"{name}: {exc}") from None


def _unique_references(path: Path | str, facts: Mapping[str, FactsEntry]) -> None:
    seen: dict[str, str] = {}
    for digest, entry in facts.items():
        for ref in entry.references:
            if ref in seen:
                raise LockfileError(path, f"reference {shown(ref)} is listed under two digests")
            seen[ref] = digest


def _without(entry: FactsEntry, reference: str) -> FactsEntry:
    if reference not in entry.references:
        return entry
    kept = tuple(r for r in entry.references if r != reference)
    return FactsEntry(kept, entry.platforms)


class Resolver(Protocol):
    def resolve_many(
        self,
        refs: Iterable[Reference],
        *,
        jobs: int = 8,
        platform: str | None = None,
        version_tag: bool = False,
    ) -> Mapping[Reference, Resolution | RegistryError]: ...


@dataclass(frozen=True)
class PinResult:
    """One outcome per reference, and the lockfile to save (equal to the input when
    nothing new was resolved)."""

    outcomes: Mapping[Reference, Resolution | RegistryError]
    lockfile: Lockfile

    @property
    def failures(self) -> dict[Reference, RegistryError]:
        return {r: o for r, o in self.outcomes.items() if isinstance(o, RegistryError)}


def resolve_with_lock(
    refs: Iterable[Reference],
    lockfile: Lockfile,
    client: Resolver | None,
    *,
    offline: bool = False,
    refresh: bool = False,
    jobs: int = 8,
    platform: str | None = None,
    version_tag: bool = False,
) -> PinResult:
    """Pin from the lockfile first, ask the registry for the rest.

    `offline` (or no client): never touch the network; references missing from the
    lockfile fail with reason "not in lockfile". `refresh`: ignore the lockfile's entries.
    """
    outcomes: dict[Reference, Resolution | RegistryError] = {}
    missing: list[Reference] = []
    for ref in dict.fromkeys(refs):
        entry = None if refresh else lockfile.lookup(ref)
        if ref.digest:
            outcomes[ref] = Resolution(ref, ref.digest, ref.tag, source=Source.REFERENCE)
        elif entry is not None:
            outcomes[ref] = Resolution(ref, entry.digest, entry.tag, source=Source.LOCKFILE)
        elif offline or client is None:
            outcomes[ref] = RegistryError(NOT_IN_LOCKFILE, reference=str(ref))
        else:
            missing.append(ref)
    if missing and client is not None:
        outcomes.update(
            client.resolve_many(missing, jobs=jobs, platform=platform, version_tag=version_tag)
        )
    resolved = [o for o in outcomes.values() if isinstance(o, Resolution)]
    fresh = [o for o in resolved if o.source is Source.REGISTRY]
    return PinResult(outcomes, lockfile.updated(fresh) if fresh else lockfile)
