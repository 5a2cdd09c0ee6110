"""A crane-style registry client: tag -> digest, image config, version tag discovery.

    with RegistryClient(mirrors={"docker.io": "http://127.0.0.1:5000"}) as client:
        results = client.resolve_many([Reference.parse("nginx:1.27")], jobs=8)

Resolution is `HEAD /v2/<name>/manifests/<tag>` (one request per unique reference), falling
back to `GET` and hashing the exact bytes when HEAD is refused, fails or names no digest.
A digest the server sends with a body is always verified.

With `platform=` a multi-arch index is fetched (GET, still one request) and that platform's
entry is pinned. A single-arch image is pinned only after its config confirms the platform
(one more request); otherwise the result is a "platform not found" error, because silently
pinning another architecture would hide a broken deployment.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from .credentials import CredentialStore
from .manifest import (
    ACCEPT,
    IMAGE_TYPES,
    INDEX_TYPES,
    Manifest,
    Platform,
    config_matches,
    parse_manifest,
    select_platform,
    verified_digest,
)
from .memo import Memo
from .options import ClientOptions, Endpoint, endpoint_for, endpoints_from
from .reference import DEFAULT_TAG, Reference, is_valid_digest, is_valid_tag, written_tag
from .responses import Reply, check_status
from .results import RegistryError, Resolution, Source
from .tags import TagLister
from .transport import BodyReader, Transport
from .versions import variant_of, version_candidates

log = logging.getLogger(__name__)

Outcome = Resolution | RegistryError


@dataclass(frozen=True)
class _Head:
    digest: str
    media_type: str | None


class RegistryClient:
    def __init__(
        self,
        *,
        mirrors: Mapping[str, str] | None = None,
        options: ClientOptions | None = None,
        credentials: CredentialStore | None = None,
        docker_config: Path | None = None,
    ) -> None:
        self.options = options or ClientOptions()
        self._mirrors = endpoints_from(mirrors)
        store = credentials or CredentialStore(docker_config)
        self._transport = Transport(self.options, store)
        self._tag_digests: Memo[tuple[str, str, str], _Head] = Memo()
        self._blobs: Memo[tuple[str, str], bytes] = Memo()
        self._tags = TagLister(self._transport, self.options)

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._transport.close()

    def __repr__(self) -> str:
        return f"RegistryClient(mirrors={sorted(self._mirrors)})"

    @property
    def requests_sent(self) -> int:
        """HTTP requests sent so far, token requests and retries included."""
        return self._transport.requests_sent

    def endpoint(self, ref: Reference) -> Endpoint:
        return endpoint_for(ref.registry, self._mirrors)

    # -- resolution ---------------------------------------------------------------------

    def resolve(
        self, ref: Reference, *, platform: str | None = None, version_tag: bool = False
    ) -> Resolution:
        """The digest to pin for `ref`; raises `RegistryError` naming the reference.

        `version_tag=True` looks for a version tag (`1.27.3`) with the same digest when
        `ref` is `latest` or untagged (costs a tag listing and up to `max_tag_probes` HEADs
        per repository). `Resolution.tag` is always a tag: that version tag, else the
        user's tag (`latest` for an untagged reference).
        """
        if ref.digest:
            return Resolution(ref, ref.digest, ref.tag, source=Source.REFERENCE)
        try:
            return self._resolve(ref, platform, version_tag)
        except RegistryError as err:
            raise err.for_reference(str(ref)) from None

    def resolve_many(
        self,
        refs: Iterable[Reference],
        *,
        jobs: int = 8,
        platform: str | None = None,
        version_tag: bool = False,
    ) -> dict[Reference, Outcome]:
        """One outcome per reference; identical look-ups (whatever the spelling) are sent
        once, concurrently over `jobs` threads (at most `options.pool_size`, the size of the
        connection pool). Never raises for a single reference."""
        results: dict[Reference, Outcome] = {}
        groups: dict[tuple[str, str, str], list[Reference]] = {}
        for ref in dict.fromkeys(refs):
            if ref.digest:  # already pinned: nothing to ask
                results[ref] = self.resolve(ref)
                continue
            # `nginx`, `nginx:latest` and `docker.io/library/nginx` are one look-up.
            groups.setdefault((ref.registry, ref.repository, ref.lookup), []).append(ref)
        firsts = [members[0] for members in groups.values()]
        workers = max(1, min(jobs, self.options.pool_size))
        outcomes = self._run_all(firsts, workers, platform, version_tag)
        for members, outcome in zip(groups.values(), outcomes, strict=True):
            for ref in members:
                results[ref] = _for(ref, outcome)
        return results

    def _run_all(
        self, refs: list[Reference], jobs: int, platform: str | None, version_tag: bool
    ) -> list[Outcome]:
        def one(ref: Reference) -> Outcome:
            try:
                return self.resolve(ref, platform=platform, version_tag=version_tag)
            except RegistryError as err:
                return err
            except Exception as exc:  # a bug must not cost the other references
                log.debug("unexpected error resolving %s", ref, exc_info=True)
                return RegistryError(f"internal error: {type(exc).__name__}", reference=str(ref))

        if jobs == 1 or len(refs) <= 1:
            return [one(ref) for ref in refs]
        with ThreadPoolExecutor(max_workers=min(jobs, len(refs))) as pool:
            return list(pool.map(one, refs))

    def _resolve(self, ref: Reference, platform: str | None, version_tag: bool) -> Resolution:
        tag = ref.tag or DEFAULT_TAG
        if platform is None:
            head = self._tag_digest(ref, tag)
            pinned, media_type, tag_digest = head.digest, head.media_type, head.digest
        else:
            target = _platform(platform)
            manifest = self._manifest(ref, tag)
            tag_digest = manifest.digest
            pinned, media_type = self._platform_digest(ref, manifest, target)
        moving = ref.tag in (None, DEFAULT_TAG)  # a tag the user chose is the one to write
        found = self.version_tag_for(ref, tag_digest) if version_tag and moving else None
        return Resolution(ref, pinned, written_tag(ref, found), media_type, platform)

    def _tag_digest(self, ref: Reference, tag: str) -> _Head:
        key = (self.endpoint(ref).base_url, ref.repository, tag)
        return self._tag_digests.get(key, lambda: self._head(ref, tag))

    def _head(self, ref: Reference, tag: str) -> _Head:
        reply = self._request("HEAD", ref, f"/manifests/{tag}", {"Accept": ACCEPT})
        digest = reply.headers.get("Docker-Content-Digest", "")
        media_type = (reply.headers.get("Content-Type") or "").split(";")[0].strip()
        if reply.status == 200 and is_valid_digest(digest):
            if media_type in INDEX_TYPES | IMAGE_TYPES:
                return _Head(digest, media_type)
            if media_type:  # e.g. a schema 1 down-conversion: its digest is not stable
                raise RegistryError(f"bad response: unsupported manifest type {media_type!r}")
        if reply.status in (401, 403, 404, 429):
            check_status(reply)
        # 405, 5xx after retries, no digest or no type: the body tells, and its hash is
        # the digest.
        log.debug("HEAD %s gave HTTP %d without a digest; using GET", ref, reply.status)
        manifest = self._manifest(ref, tag)
        return _Head(manifest.digest, manifest.media_type)

    def _manifest(self, ref: Reference, lookup: str) -> Manifest:
        """GET a manifest, verifying its bytes against the digest asked for or announced."""
        reply = self._request(
            "GET", ref, f"/manifests/{lookup}", {"Accept": ACCEPT}, self.options.manifest_limit
        )
        check_status(reply)
        claimed = lookup if is_valid_digest(lookup) else None
        announced = reply.headers.get("Docker-Content-Digest") or None
        if claimed and announced and announced != claimed:
            raise RegistryError("bad response: digest mismatch")
        digest = verified_digest(reply.body, claimed or announced)
        return parse_manifest(reply.body, reply.headers.get("Content-Type"), digest)

    def _platform_digest(
        self, ref: Reference, manifest: Manifest, target: Platform
    ) -> tuple[str, str]:
        if manifest.is_index:
            entry = select_platform(manifest, target)
            return entry.digest, entry.media_type
        if not config_matches(self._config_of(ref, manifest), target):
            raise RegistryError(f"platform not found: {target} (single-platform image)")
        return manifest.digest, manifest.media_type

    # -- image config and blobs ---------------------------------------------------------

    def image_config(self, ref: Reference, *, platform: str = "linux/amd64") -> dict[str, Any]:
        """The image config JSON (`config.User`, `config.Env`, ...) of `ref` for `platform`
        (a single-platform image's config is returned whatever its platform)."""
        try:
            manifest = self._manifest(ref, ref.lookup)
            if manifest.is_index:
                entry = select_platform(manifest, _platform(platform))
                manifest = self._manifest(ref, entry.digest)
            return self._config_of(ref, manifest)
        except RegistryError as err:
            raise err.for_reference(str(ref)) from None

    def manifest(self, ref: Reference, lookup: str) -> Manifest:
        """The manifest (or index) `lookup` (a tag or digest) names, verified."""
        return self._manifest(ref, lookup)

    def config_of(self, ref: Reference, manifest: Manifest) -> dict[str, Any]:
        """An image manifest's config JSON, verified against its digest."""
        return self._config_of(ref, manifest)

    def stream_blob(self, ref: Reference, digest: str, reader: BodyReader) -> None:
        """GET a blob, its body going to `reader` as it streams (never held whole)."""
        reply = self._request(
            "GET", ref, f"/blobs/{digest}", {}, self.options.manifest_limit, reader
        )
        check_status(reply)

    def _config_of(self, ref: Reference, manifest: Manifest) -> dict[str, Any]:
        body = self.blob(ref, manifest.config_digest)
        try:
            config = json.loads(body)
        except ValueError:
            raise RegistryError("bad response: image config is not JSON") from None
        if not isinstance(config, dict):
            raise RegistryError("bad response: image config is not a JSON object")
        return config

    def blob(self, ref: Reference, digest: str) -> bytes:
        """A blob's bytes, verified against `digest`, cached for the client's lifetime."""
        key = (self.endpoint(ref).base_url, digest)
        return self._blobs.get(key, lambda: self._fetch_blob(ref, digest))

    def _fetch_blob(self, ref: Reference, digest: str) -> bytes:
        reply = self._request("GET", ref, f"/blobs/{digest}", {}, self.options.manifest_limit)
        check_status(reply)
        verified_digest(reply.body, digest)
        return reply.body

    # -- version tags -------------------------------------------------------------------

    def version_tag_for(self, ref: Reference, digest: str) -> str | None:
        """The newest version-like tag of `ref`'s repository whose digest is `digest`, or
        None. Failures (no tag listing, denied) also give None: the tag is a nicety."""
        try:
            tags = self._tags.tags(ref, self.endpoint(ref))
        except RegistryError as err:
            log.debug("cannot list tags of %s: %s", ref.name, err.reason)
            return None
        # A tag list is registry input: only grammatical tags may end up in a file.
        candidates = version_candidates(filter(is_valid_tag, tags), variant_of(ref.tag))
        for tag in candidates[: self.options.max_tag_probes]:
            try:
                if self._tag_digest(ref, tag).digest == digest:
                    return tag
            except RegistryError as err:
                log.debug("cannot check %s:%s: %s", ref.name, tag, err.reason)
        return None

    def _request(
        self,
        method: str,
        ref: Reference,
        suffix: str,
        headers: Mapping[str, str],
        limit: int | None = None,
        reader: BodyReader | None = None,
    ) -> Reply:
        path = f"/v2/{ref.repository}{suffix}"
        return self._transport.request(
            method, self.endpoint(ref), path, repository=ref.repository, headers=headers,
            limit=limit, reader=reader,
        )  # fmt: skip


def _platform(text: str) -> Platform:
    try:
        return Platform.parse(text)
    except ValueError as exc:
        raise RegistryError(f"bad request: {exc}") from None


def _for(ref: Reference, outcome: Outcome) -> Outcome:
    if isinstance(outcome, RegistryError):
        return outcome.for_reference(str(ref))
    return outcome.with_reference(ref)
