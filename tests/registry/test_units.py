"""Pure pieces: version ordering, challenges, tokens, Retry-After, platforms, the memo."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest

from fixer.registry.auth import (
    Challenge,
    parse_challenges,
    parse_token_response,
    preferred_challenge,
    token_request,
)
from fixer.registry.credentials import Credentials
from fixer.registry.manifest import (
    OCI_INDEX,
    Manifest,
    Platform,
    compute_digest,
    select_platform,
    verified_digest,
)
from fixer.registry.memo import Memo
from fixer.registry.options import endpoint_for, endpoints_from, is_loopback
from fixer.registry.responses import retry_after
from fixer.registry.results import RegistryError
from fixer.registry.versions import variant_of, version_candidates


def test_version_candidates_newest_first_same_variant() -> None:
    tags = ["latest", "1.26", "1.27", "1.27.3", "1", "1.27.3-alpine", "v2.0.0", "3.13.0rc1",
            "20240101", "stable", "1.27.10", "mainline-alpine"]  # fmt: skip
    assert version_candidates(tags, "") == ["v2.0.0", "1.27.10", "1.27.3", "1.27", "1.26", "1"]
    assert version_candidates(tags, "alpine") == ["1.27.3-alpine"]


@pytest.mark.parametrize(
    ("tag", "variant"),
    [(None, ""), ("latest", ""), ("alpine", "alpine"), ("stable-alpine", "alpine"),
     ("lts-alpine", "alpine"), ("1.27-alpine", "alpine"), ("bookworm", "bookworm")],
)  # fmt: skip
def test_variant_of(tag: str | None, variant: str) -> None:
    assert variant_of(tag) == variant


def test_challenges_with_commas_in_quotes_and_several_schemes() -> None:
    header = (
        'Basic realm="basic realm", Bearer realm="https://auth.example/token",'
        'service="registry.example",scope="repository:a/b:pull,push",error="insufficient_scope"'
    )
    basic, bearer = parse_challenges(header)
    assert basic == Challenge("basic", {"realm": "basic realm"})
    assert bearer.scheme == "bearer"
    assert bearer.params["scope"] == "repository:a/b:pull,push"
    assert bearer.params["service"] == "registry.example"
    assert preferred_challenge(header) == bearer
    assert preferred_challenge('Basic realm="x"') == Challenge("basic", {"realm": "x"})
    assert preferred_challenge("") is None
    assert parse_challenges('Bearer realm="a\\"b"')[0].realm == 'a"b'


def test_token_requests_keep_secrets_out_of_urls_and_reprs() -> None:
    challenge = Challenge("bearer", {"realm": "https://auth.example/token", "service": "svc"})
    creds = Credentials("bob", "pw-Secret")
    get = token_request(challenge, "repository:x:pull", creds)
    assert get.method == "GET" and "pw-Secret" not in get.url + repr(get) + repr(creds)
    assert get.params == (("service", "svc"), ("scope", "repository:x:pull"))
    assert get.headers["Authorization"].startswith("Basic ")
    post = token_request(challenge, "repository:x:pull", Credentials(identity_token="id-Secret"))
    assert post.is_oauth and post.form is not None
    assert dict(post.form)["grant_type"] == "refresh_token"
    assert "id-Secret" not in repr(post)
    fallback = token_request(challenge, "s", Credentials(identity_token="t"), oauth=False)
    assert fallback.method == "GET"
    with pytest.raises(RegistryError, match="invalid token realm"):
        token_request(Challenge("bearer", {"realm": "file:///etc/passwd"}), "s", None)


def test_token_response_expiry() -> None:
    assert parse_token_response(b'{"token": "t", "expires_in": 300}', 100.0).expires_at == 400.0
    default = parse_token_response(b'{"access_token": "a"}', 0.0)
    assert default.value == "a" and default.expires_at == 60.0
    assert default.fresh(50.0) and not default.fresh(56.0)
    with pytest.raises(RegistryError, match="no token"):
        parse_token_response(b"{}", 0.0)
    with pytest.raises(RegistryError, match="not JSON"):
        parse_token_response(b"<html>", 0.0)


def test_retry_after_seconds_and_dates() -> None:
    assert retry_after("7") == 7.0
    assert retry_after(None) is None and retry_after("soon") is None
    when = datetime.now(timezone.utc) + timedelta(seconds=30)
    waited = retry_after(format_datetime(when, usegmt=True))
    assert waited is not None and 28 <= waited <= 31
    past = datetime.now(timezone.utc) - timedelta(seconds=30)
    assert retry_after(format_datetime(past, usegmt=True)) == 0.0


def test_platform_selection_prefers_default_variant_and_reports_choices() -> None:
    arm = "sha256:" + "1" * 64
    entries = [
        {"digest": "sha256:" + "0" * 64, "platform": {"os": "linux", "architecture": "amd64"}},
        {"digest": "sha256:" + "2" * 64,
         "platform": {"os": "linux", "architecture": "arm", "variant": "v6"}},
        {"digest": arm, "platform": {"os": "linux", "architecture": "arm", "variant": "v7"}},
        {"digest": "sha256:" + "3" * 64, "platform": {"os": "unknown", "architecture": "unknown"}},
    ]  # fmt: skip
    index = Manifest(OCI_INDEX, "sha256:" + "f" * 64, {"manifests": entries})
    assert select_platform(index, Platform.parse("linux/arm")).digest == arm
    assert select_platform(index, Platform.parse("linux/arm/v6")).digest.endswith("2" * 64)
    assert select_platform(index, Platform.parse("linux/x86_64")).digest.endswith("0" * 64)
    with pytest.raises(RegistryError, match=r"platform not found: linux/s390x \(available: "):
        select_platform(index, Platform.parse("linux/s390x"))
    with pytest.raises(ValueError):
        Platform.parse("linux")


def test_verified_digest() -> None:
    body = b'{"a": 1}'
    assert verified_digest(body, None) == compute_digest(body)
    assert verified_digest(body, compute_digest(body, "sha512")).startswith("sha512:")
    with pytest.raises(RegistryError, match="digest mismatch"):
        verified_digest(body, "sha256:" + "0" * 64)


def test_endpoints_and_mirrors() -> None:
    mirrors = endpoints_from({"index.docker.io": "http://127.0.0.1:5000/", "ghcr.io": "m.example"})
    assert endpoint_for("docker.io", mirrors).base_url == "http://127.0.0.1:5000"
    assert endpoint_for("ghcr.io", mirrors).base_url == "https://m.example"
    assert endpoint_for("docker.io", {}).base_url == "https://registry-1.docker.io"
    assert endpoint_for("localhost:5000", {}).base_url == "http://localhost:5000"
    assert endpoint_for("10.0.0.1:5000", {}).base_url == "https://10.0.0.1:5000"
    assert is_loopback("127.0.0.2:80") and is_loopback("[::1]:5000") and is_loopback("::1")
    with pytest.raises(ValueError, match="invalid mirror URL"):
        endpoints_from({"docker.io": "ftp://x"})
    with pytest.raises(ValueError, match="no credentials"):
        endpoints_from({"docker.io": "https://user:pw@x"})


def test_memo_computes_once_under_contention() -> None:
    memo: Memo[str, int] = Memo()
    calls: list[int] = []
    barrier = threading.Barrier(8)

    def compute() -> int:
        calls.append(1)
        time.sleep(0.05)
        return 42

    def worker() -> None:
        barrier.wait()
        assert memo.get("k", compute) == 42

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1
    memo.discard("k", 41)  # not the current value: kept
    assert memo.peek("k") == 42
    assert memo.get("k", compute, fresh=lambda v: False) == 42 and len(calls) == 2
