"""Registry answers for one run: digests (lockfile first) and image facts, asked together.

Every unique reference of the run is resolved once, concurrently, before any fix is built;
one reference failing never stops the others. Errors come back as one line each.
Image facts (config, and layers with `inspect_layers`) come from the lockfile when it has
them for the reference's digest, else from the registry; `--lock` records them.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from fixer.engine import Queries
from fixer.rule import Resolution
from fixer.settings import Settings


@dataclass
class Answers:
    resolutions: dict[str, Resolution] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)  # one line per failed reference
    notices: list[str] = field(default_factory=list)  # e.g. a layer read cut at its cap
    lock_written: Path | None = None


def resolve(queries: Queries, settings: Settings, *, write_lock: bool = False) -> Answers:
    from fixer.registry import InvalidReference, Reference

    answers = Answers()
    parsed: dict[str, Any] = {}
    for text in sorted(queries.digests | queries.users):
        try:
            parsed[text] = Reference.parse(text)
        except InvalidReference:
            continue  # a variable or template: nothing to ask
    digest_refs = [parsed[t] for t in sorted(queries.digests) if t in parsed]
    lockfile = _lockfile(answers, settings, digest_refs)
    client = None if settings.pinning.offline else _client(settings)
    fact_refs = [parsed[t] for t in sorted(queries.users) if t in parsed]
    try:
        updated = lockfile
        if lockfile is not None:
            updated = _digests(answers, digest_refs, lockfile, client, settings)
        updated = _facts(answers, fact_refs, updated, client, settings)
    finally:
        if client is not None:
            client.close()
    if write_lock and lockfile is not None and updated is not lockfile:
        _save(answers, updated, settings)
    return answers


def _save(answers: Answers, lockfile: Any, settings: Settings) -> None:
    try:
        lockfile.save(settings.pinning.lock_file)
    except OSError as exc:
        answers.errors.append(
            f"{settings.pinning.lock_file}: cannot write the lockfile: {exc.strerror or exc}"
        )
        return
    answers.lock_written = settings.pinning.lock_file


def _lockfile(answers: Answers, settings: Settings, refs: list[Any]) -> Any:
    """The run's lockfile (empty when there is none); None, with the error noted, when it
    cannot be read or fails validation."""
    from fixer.registry import Lockfile, LockfileError

    path = settings.pinning.lock_file
    try:
        if path.exists():
            return Lockfile.load(path)
    except LockfileError as exc:
        error = str(exc)
    except OSError as exc:
        error = f"{path}: cannot read the lockfile: {exc.strerror or exc}"
    else:
        return _missing_lockfile(answers, settings, refs)
    # A lockfile that cannot be trusted pins nothing, and the registries are not asked
    # behind its back (nor is it overwritten): the user meant the pins to come from it.
    answers.errors.append(error)
    for ref in refs:
        answers.resolutions[str(ref)] = Resolution(error="the lockfile is invalid")
    return None


def _missing_lockfile(answers: Answers, settings: Settings, refs: list[Any]) -> Any:
    from fixer.registry import Lockfile
    from fixer.registry.results import NOT_IN_LOCKFILE

    path = settings.pinning.lock_file
    if settings.pinning.offline:
        # Offline, every pin comes from the lockfile: say that there is none, on each
        # finding (an image missing from a lockfile is reported, not an error). The
        # session answers so without collecting the references (``unanswered``).
        for ref in refs:
            reason = f"{NOT_IN_LOCKFILE} ({path} does not exist)"
            answers.resolutions[str(ref)] = Resolution(error=reason)
        return None
    return Lockfile()


class Unanswered(dict[str, Resolution]):
    """The registry answers of a run that can ask nothing: offline, without a lockfile.
    Every image reference gets the answer a look-up would have given (``not in lockfile
    (<path> does not exist)``), so ``fix`` skips the pass that collects the references (a
    parse of every file, before any fix is built)."""

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.answer = Resolution(error=reason)

    def __bool__(self) -> bool:  # holds an answer for everything (``resolutions or {}``)
        return True

    def get(self, key: str, default: Any = None) -> Any:
        found = super().get(key)
        if found is not None:
            return found
        return self.answer if _parses(key) else default


@lru_cache(maxsize=4096)
def _parses(text: str) -> bool:
    from fixer.registry import InvalidReference, Reference

    try:
        Reference.parse(text)
    except InvalidReference:
        return False  # a variable or template: never asked about
    return True


def unanswered(settings: Settings) -> Unanswered | None:
    """``Unanswered`` when the run is offline and its lockfile does not exist; else None
    (the references are collected and looked up)."""
    from fixer.registry.results import NOT_IN_LOCKFILE

    path = settings.pinning.lock_file
    if not settings.pinning.offline or path.exists():
        return None
    return Unanswered(f"{NOT_IN_LOCKFILE} ({path} does not exist)")


def _client(settings: Settings) -> Any:
    from fixer.registry import ClientOptions, RegistryClient

    return RegistryClient(mirrors=dict(settings.pinning.mirrors), options=_options(ClientOptions()))


DEADLINE_ENV = "TIGHTEN_REGISTRY_DEADLINE"


def _options(defaults: Any) -> Any:
    """Client options; `TIGHTEN_REGISTRY_DEADLINE` (seconds) may shorten the overall
    deadline per request, never lengthen it past the default."""
    import os
    from dataclasses import replace

    try:
        wanted = float(os.environ.get(DEADLINE_ENV, ""))
    except ValueError:
        return defaults
    if not 0 < wanted < defaults.deadline:
        return defaults
    return replace(defaults, deadline=wanted)


def _digests(
    answers: Answers,
    refs: list[Any],
    lockfile: Any,
    client: Any,
    settings: Settings,
) -> Any:
    """Pins for `refs`; returns the lockfile with the new resolutions recorded."""
    from fixer.registry import InvalidReference, RegistryError, resolve_with_lock
    from fixer.registry.reference import pin_text, written_tag

    if not refs:
        return lockfile
    result = resolve_with_lock(
        refs,
        lockfile,
        client,
        offline=settings.pinning.offline,
        jobs=settings.pinning.jobs,
        platform=settings.pinning.platform,
        version_tag=True,
    )
    for ref, outcome in result.outcomes.items():
        key = str(ref)
        if isinstance(outcome, RegistryError):
            answers.resolutions[key] = Resolution(error=outcome.reason)
            if not settings.pinning.offline:
                answers.errors.append(f"{key}: cannot pin: {outcome.reason}")
            continue
        try:
            pinned = pin_text(ref, outcome.digest, outcome.tag)
        except InvalidReference as exc:
            answers.resolutions[key] = Resolution(error=exc.reason)
            answers.errors.append(f"{key}: cannot pin: {exc.reason}")
            continue
        tag = written_tag(ref, outcome.tag)
        answers.resolutions[key] = Resolution(digest=outcome.digest, tag=tag, pinned=pinned)
    return result.lockfile


def _facts(
    answers: Answers, refs: list[Any], lockfile: Any, client: Any, settings: Settings
) -> Any:
    """Image facts for `refs` (lockfile first); a failure only leaves them unknown.
    Returns the lockfile with facts read from registries recorded (None stays None)."""
    from dataclasses import replace

    from fixer.registry import Lockfile

    known = lockfile if lockfile is not None else Lockfile()
    found: dict[Any, Any] = {}
    todo: list[tuple[Any, str | None]] = []
    for ref in refs:
        digest = (
            known.digest_for(ref) if (settings.pinning.offline or _pinned(known, ref)) else None
        )
        cached = _usable(known, digest, settings)
        if cached is not None:
            found[ref] = cached
        elif client is not None:
            todo.append((ref, digest))
    read = _read_all(answers, todo, client, known, settings)
    for (ref, _), facts in zip(todo, read, strict=True):
        found[ref] = facts
        if facts is not None and lockfile is not None:
            lockfile = lockfile.with_facts(ref, facts)
    for ref in refs:
        key, facts = str(ref), found.get(ref)
        current = answers.resolutions.get(key, Resolution())
        user = facts.user if facts is not None else None
        answers.resolutions[key] = replace(current, user=user, image=facts)
    return lockfile


def _pinned(lockfile: Any, ref: Any) -> bool:
    """The reference's digest is fixed (its own, or the lockfile's pin). Online, a tag
    that is not pinned costs one HEAD: its facts are those of what it names today."""
    return bool(ref.digest) or lockfile.lookup(ref) is not None


def _usable(lockfile: Any, digest: str | None, settings: Settings) -> Any:
    """Facts the lockfile has for `digest`, if they answer what this run asks."""
    cached = (
        lockfile.image_facts(digest, settings.pinning.platform or "linux/amd64") if digest else None
    )
    if cached is None or (settings.pinning.inspect_layers and cached.layers is None):
        return None
    return cached


def _read_all(
    answers: Answers,
    todo: list[tuple[Any, str | None]],
    client: Any,
    lockfile: Any,
    settings: Settings,
) -> list[Any]:
    from fixer.registry.inspect import read_image_facts

    platform = settings.pinning.platform or "linux/amd64"

    def read(item: tuple[Any, str | None]) -> Any:
        ref, digest = item
        try:
            if digest is None:
                digest = client.resolve(ref).digest  # one HEAD: what the tag names now
                cached = _usable(lockfile, digest, settings)
                if cached is not None:
                    return cached
            return read_image_facts(
                client,
                ref,
                platform=platform,
                digest=digest,
                layers=settings.pinning.inspect_layers,
            )
        except Exception:  # any failure means "unknown", noted in the finding
            return None

    if not todo:
        return []
    with ThreadPoolExecutor(max_workers=max(1, settings.pinning.jobs)) as pool:
        results = list(pool.map(read, todo))
    for (ref, _), facts in zip(todo, results, strict=True):
        for notice in facts.layers.notices if facts is not None and facts.layers else ():
            answers.notices.append(f"{ref}: {notice}; layer facts are incomplete")
    return results
