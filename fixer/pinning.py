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
    from fixer.registry import InvalidReference, Lockfile, LockfileError, Reference

    answers = Answers()
    parsed: dict[str, Any] = {}
    for text in sorted(queries.digests | queries.users):
        try:
            parsed[text] = Reference.parse(text)
        except InvalidReference:
            continue  # a variable or template: nothing to ask
    try:
        lockfile = Lockfile.load(settings.lock_file) if settings.lock_file.exists() else Lockfile()
    except (LockfileError, OSError) as exc:
        answers.errors.append(f"{settings.lock_file}: {exc}")
        lockfile = Lockfile()
    client = None if settings.offline else _client(settings)
    try:
        _digests(
            answers,
            [parsed[t] for t in sorted(queries.digests) if t in parsed],
            lockfile,
            client,
            settings,
            write_lock,
        )
        if client is not None:
            _users(
                answers, [parsed[t] for t in sorted(queries.users) if t in parsed], client, settings
            )
    finally:
        if client is not None:
            client.close()
    return answers


def _client(settings: Settings) -> Any:
    from fixer.registry import RegistryClient

    return RegistryClient(mirrors=dict(settings.mirrors))


def _digests(
    answers: Answers,
    refs: list[Any],
    lockfile: Any,
    client: Any,
    settings: Settings,
    write_lock: bool,
) -> None:
    from fixer.registry import RegistryError, resolve_with_lock

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
        tag = ref.tag if ref.tag and ref.tag != "latest" else outcome.tag
        answers.resolutions[key] = Resolution(
            digest=outcome.digest, tag=tag, pinned=ref.pinned(outcome.digest, tag=tag)
        )
    if write_lock and result.lockfile is not lockfile:
        result.lockfile.save(settings.lock_file)
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
