"""Registry answers for one run: digests (lockfile first) and image users, asked together.

Every unique reference of the run is resolved once, concurrently, before any fix is built;
one reference failing never stops the others. Errors come back as one line each.
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fixer.engine import Queries
from fixer.rule import Resolution
from fixer.settings import Settings


@dataclass
class Answers:
    resolutions: dict[str, Resolution] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)  # one line per failed reference
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
    client = None if settings.offline else _client(settings)
    try:
        if lockfile is not None:
            _digests(answers, digest_refs, lockfile, client, settings, write_lock)
        if client is not None:
            _users(
                answers, [parsed[t] for t in sorted(queries.users) if t in parsed], client, settings
            )
    finally:
        if client is not None:
            client.close()
    return answers


def _lockfile(answers: Answers, settings: Settings, refs: list[Any]) -> Any:
    """The run's lockfile (empty when there is none); None, with the error noted, when it
    cannot be read or fails validation."""
    from fixer.registry import Lockfile, LockfileError

    path = settings.lock_file
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

    path = settings.lock_file
    if settings.offline:
        # Offline, every pin comes from the lockfile: say that there is none, on each
        # finding (an image missing from a lockfile is reported, not an error).
        for ref in refs:
            reason = f"{NOT_IN_LOCKFILE} ({path} does not exist)"
            answers.resolutions[str(ref)] = Resolution(error=reason)
        return None
    return Lockfile()


def _client(settings: Settings) -> Any:
    from fixer.registry import ClientOptions, RegistryClient

    return RegistryClient(mirrors=dict(settings.mirrors), options=_options(ClientOptions()))


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
    write_lock: bool,
) -> None:
    from fixer.registry import InvalidReference, RegistryError, resolve_with_lock
    from fixer.registry.reference import pin_text, written_tag

    if not refs:
        return
    result = resolve_with_lock(
        refs,
        lockfile,
        client,
        offline=settings.offline,
        jobs=settings.jobs,
        platform=settings.platform,
        version_tag=True,
    )
    for ref, outcome in result.outcomes.items():
        key = str(ref)
        if isinstance(outcome, RegistryError):
            answers.resolutions[key] = Resolution(error=outcome.reason)
            if not settings.offline:
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
    if write_lock and result.lockfile is not lockfile:
        try:
            result.lockfile.save(settings.lock_file)
        except OSError as exc:
            answers.errors.append(
                f"{settings.lock_file}: cannot write the lockfile: {exc.strerror or exc}"
            )
            return
        answers.lock_written = settings.lock_file


def _users(answers: Answers, refs: Iterable[Any], client: Any, settings: Settings) -> None:
    """Read ``config.User`` of each image; a failure only leaves the user unknown."""
    from dataclasses import replace

    refs = list(refs)
    if not refs:
        return

    def user_of(ref: Any) -> str | None:
        try:
            config = client.image_config(ref, platform=settings.platform or "linux/amd64")
        except Exception:  # any failure means "unknown", noted in the finding
            return None
        return str((config.get("config") or {}).get("User") or "")

    with ThreadPoolExecutor(max_workers=max(1, settings.jobs)) as pool:
        for ref, user in zip(refs, pool.map(user_of, refs), strict=True):
            key = str(ref)
            current = answers.resolutions.get(key, Resolution())
            answers.resolutions[key] = replace(current, user=user)
