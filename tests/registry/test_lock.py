"""`tighten.lock`: format, atomic writes, corrupt files, offline resolution."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

from fixer.registry import (
    LockEntry,
    Lockfile,
    LockfileError,
    Reference,
    RegistryError,
    Resolution,
    Source,
    resolve_with_lock,
)

D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64


class FakeResolver:
    def __init__(self, digests: Mapping[str, str]):
        self.digests = digests
        self.asked: list[str] = []

    def resolve_many(
        self,
        refs: Iterable[Reference],
        *,
        jobs: int = 8,
        platform: str | None = None,
        version_tag: bool = False,
    ) -> dict[Reference, Resolution | RegistryError]:
        out: dict[Reference, Resolution | RegistryError] = {}
        for ref in refs:
            self.asked.append(str(ref))
            digest = self.digests.get(str(ref))
            out[ref] = (
                Resolution(ref, digest, ref.tag if ref.tag != "latest" else None)
                if digest
                else RegistryError("not found", reference=str(ref))
            )
        return out


def test_round_trip_sorted_with_trailing_newline(tmp_path: Path) -> None:
    refs = [Reference.parse("nginx:1.27"), Reference.parse("alpine")]
    lock = Lockfile().updated(
        [Resolution(refs[0], D1, "1.27"), Resolution(refs[1], D2, None)],
        now="2025-01-02T03:04:05Z",
    )
    path = tmp_path / "tighten.lock"
    lock.save(path)
    text = path.read_text()
    assert text.endswith("}\n") and not text.endswith("\n\n")
    data = json.loads(text)
    assert data == {
        "images": {
            "alpine": {"digest": D2, "resolved_at": "2025-01-02T03:04:05Z", "tag": None},
            "nginx:1.27": {"digest": D1, "resolved_at": "2025-01-02T03:04:05Z", "tag": "1.27"},
        },
        "version": 1,
    }
    assert list(data["images"]) == ["alpine", "nginx:1.27"]
    assert Lockfile.load(path) == lock
    assert Lockfile.load(path).lookup(refs[0]) == LockEntry(D1, "1.27", "2025-01-02T03:04:05Z")
    assert [p.name for p in tmp_path.iterdir()] == ["tighten.lock"]  # no temp file left


def test_unchanged_entries_keep_their_time() -> None:
    ref = Reference.parse("nginx:1.27")
    lock = Lockfile().updated([Resolution(ref, D1, "1.27")], now="2025-01-01T00:00:00Z")
    again = lock.updated([Resolution(ref, D1, "1.27")], now="2026-01-01T00:00:00Z")
    assert again.dumps() == lock.dumps()
    moved = lock.updated([Resolution(ref, D2, "1.27")], now="2026-01-01T00:00:00Z")
    assert moved.images["nginx:1.27"] == LockEntry(D2, "1.27", "2026-01-01T00:00:00Z")
    pinned = Reference.parse(f"redis@{D1}")
    assert "redis" not in str(lock.updated([Resolution(pinned, D1, None, None, None,
                                                       Source.REFERENCE)]).dumps())  # fmt: skip


def test_missing_file_is_empty(tmp_path: Path) -> None:
    assert Lockfile.load(tmp_path / "absent.lock") == Lockfile()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[]", "not a version 1 tighten lockfile"),
        ('{"version": 2, "images": {}}', "not a version 1"),
        ('{"version": 1, "images": []}', "'images' must be an object"),
        ('{"version": 1, "images": {"a": 1}}', "entry 'a' must be an object"),
        ('{"version": 1, "images": {"a": {"digest": "md5:x", "tag": null,'
         ' "resolved_at": "t"}}}', "entry 'a' has an invalid digest"),
        ('{"version": 1, "images": {"a": {"digest": "' + D1 + '", "tag": 3,'
         ' "resolved_at": "t"}}}', "invalid tag"),
        ('{"version": 1, "images": {"a": {"digest": "' + D1 + '", "tag": null}}}',
         "no resolved_at"),
    ],
)  # fmt: skip
def test_corrupt_lockfile(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "tighten.lock"
    path.write_text(text)
    with pytest.raises(LockfileError, match=message) as info:
        Lockfile.load(path)
    assert str(path) in str(info.value)


def test_offline_resolves_only_from_the_lockfile() -> None:
    known, unknown = Reference.parse("nginx:1.27"), Reference.parse("redis:7")
    pinned = Reference.parse(f"busybox@{D2}")
    lock = Lockfile().updated([Resolution(known, D1, "1.27")], now="t")
    resolver = FakeResolver({"redis:7": D2})
    result = resolve_with_lock([known, unknown, pinned], lock, resolver, offline=True)
    assert resolver.asked == []
    assert result.outcomes[known] == Resolution(known, D1, "1.27", source=Source.LOCKFILE)
    assert result.outcomes[pinned] == Resolution(pinned, D2, None, source=Source.REFERENCE)
    assert result.failures == {unknown: RegistryError("not in lockfile", reference="redis:7")}
    assert result.lockfile is lock


def test_online_asks_only_for_what_the_lockfile_lacks() -> None:
    known, new, missing = (Reference.parse(t) for t in ("nginx:1.27", "redis:7", "nope:1"))
    lock = Lockfile().updated([Resolution(known, D1, "1.27")], now="t")
    resolver = FakeResolver({"redis:7": D2})
    result = resolve_with_lock([known, new, missing, new], lock, resolver)
    assert resolver.asked == ["redis:7", "nope:1"]
    assert result.outcomes[new] == Resolution(new, D2, "7")
    assert isinstance(result.outcomes[missing], RegistryError)
    assert set(result.lockfile.images) == {"nginx:1.27", "redis:7"}
    refreshed = resolve_with_lock([known], lock, FakeResolver({"nginx:1.27": D2}), refresh=True)
    assert refreshed.lockfile.images["nginx:1.27"].digest == D2
