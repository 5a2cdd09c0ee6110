"""Retries, timeouts and bad answers, injected by a proxy in front of the real registry."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from fixer.registry import Reference, RegistryClient, RegistryError
from fixer.registry.credentials import CredentialStore
from fixer.registry.options import ClientOptions

from .conftest import FAST, Registries
from .fault_proxy import Fault, FaultProxy
from .registry_server import Catalog

pytestmark = [pytest.mark.registry, pytest.mark.slow]

ProxyTo = Callable[..., FaultProxy]
NGINX = "/v2/library/nginx/manifests/1.27"


@pytest.fixture
def proxy(registries: Registries, proxy_to: ProxyTo) -> FaultProxy:
    return proxy_to(registries.anonymous)


def resolve(
    proxy: FaultProxy,
    creds: CredentialStore,
    options: ClientOptions = FAST,
    text: str = "nginx:1.27",
) -> str:
    with RegistryClient(mirrors={"docker.io": proxy.url}, options=options, credentials=creds) as c:
        return c.resolve(Reference.parse(text)).digest


def test_429_honours_retry_after(
    proxy: FaultProxy, catalog: Catalog, no_credentials: CredentialStore
) -> None:
    proxy.script("HEAD", NGINX, Fault(status=429, headers={"Retry-After": "1"}))
    started = time.monotonic()
    assert resolve(proxy, no_credentials) == catalog.digests["library/nginx:1.27"]
    assert time.monotonic() - started >= 0.95
    assert proxy.count("HEAD") == 2


def test_retry_after_is_capped(
    proxy: FaultProxy, catalog: Catalog, no_credentials: CredentialStore
) -> None:
    proxy.script("HEAD", NGINX, Fault(status=503, headers={"Retry-After": "3600"}))
    capped = ClientOptions(read_timeout=2, retries=1, backoff=0.01, max_retry_wait=0.2)
    started = time.monotonic()
    assert resolve(proxy, no_credentials, capped) == catalog.digests["library/nginx:1.27"]
    assert time.monotonic() - started < 2


def test_500_then_success(
    proxy: FaultProxy, catalog: Catalog, no_credentials: CredentialStore
) -> None:
    proxy.script("HEAD", NGINX, Fault(status=500), Fault(status=502))
    assert resolve(proxy, no_credentials) == catalog.digests["library/nginx:1.27"]
    assert proxy.count("HEAD") == 3 and proxy.count("GET", "/manifests/") == 0


def test_head_failing_for_good_falls_back_to_get(
    proxy: FaultProxy, catalog: Catalog, no_credentials: CredentialStore
) -> None:
    proxy.script("HEAD", NGINX, *[Fault(status=500)] * 3)
    assert resolve(proxy, no_credentials) == catalog.digests["library/nginx:1.27"]
    assert proxy.count("HEAD") == 3 and proxy.count("GET", "/manifests/") == 1


def test_head_405_falls_back_to_get(
    proxy: FaultProxy, catalog: Catalog, no_credentials: CredentialStore
) -> None:
    proxy.script("HEAD", NGINX, Fault(status=405))
    assert resolve(proxy, no_credentials) == catalog.digests["library/nginx:1.27"]
    assert proxy.count("HEAD") == 1 and proxy.count("GET", "/manifests/") == 1


def test_head_without_digest_falls_back_to_get(
    proxy: FaultProxy, catalog: Catalog, no_credentials: CredentialStore
) -> None:
    proxy.script("HEAD", NGINX, Fault(digest=""))
    assert resolve(proxy, no_credentials) == catalog.digests["library/nginx:1.27"]
    assert proxy.count("GET", "/manifests/") == 1


def test_wrong_digest_on_get_is_refused(proxy: FaultProxy, no_credentials: CredentialStore) -> None:
    proxy.script("HEAD", NGINX, Fault(status=405))
    proxy.script("GET", NGINX, Fault(digest="sha256:" + "0" * 64))
    with pytest.raises(RegistryError) as info:
        resolve(proxy, no_credentials)
    assert info.value.reason == "bad response: digest mismatch"
    assert str(info.value) == "nginx:1.27: bad response: digest mismatch"


def test_tampered_config_blob_is_refused(
    proxy: FaultProxy, no_credentials: CredentialStore
) -> None:
    proxy.script("GET", "/v2/library/alpine/blobs/", Fault(body=b'{"config": {"User": "0"}}'))
    with (
        RegistryClient(
            mirrors={"docker.io": proxy.url}, options=FAST, credentials=no_credentials
        ) as client,
        pytest.raises(RegistryError, match=r"alpine:3\.20: bad response: digest mismatch"),
    ):
        client.image_config(Reference.parse("alpine:3.20"))


def test_hang_past_the_read_timeout(proxy: FaultProxy, no_credentials: CredentialStore) -> None:
    proxy.script("HEAD", NGINX, *[Fault(hang=3.0)] * 3)
    started = time.monotonic()
    with pytest.raises(RegistryError) as info:
        resolve(proxy, no_credentials)
    assert info.value.reason == "timeout"
    assert time.monotonic() - started < 2.5  # 3 attempts x 0.4 s + small backoffs
    assert proxy.count("HEAD") == 3


def test_404_is_not_retried(proxy: FaultProxy, no_credentials: CredentialStore) -> None:
    with pytest.raises(RegistryError) as info:
        resolve(proxy, no_credentials, text="nginx:0.0.404")
    assert info.value.reason == "not found" and info.value.status == 404
    assert proxy.count("HEAD") == 1 and proxy.count("GET", "/manifests/") == 0


def test_one_failure_does_not_stop_the_others(
    proxy: FaultProxy, catalog: Catalog, no_credentials: CredentialStore
) -> None:
    proxy.script("HEAD", NGINX, *[Fault(hang=3.0)] * 3)
    refs = [Reference.parse(t) for t in ("nginx:1.27", "nginx:1.26", "alpine:3.20", "x/y:z")]
    with RegistryClient(
        mirrors={"docker.io": proxy.url}, options=FAST, credentials=no_credentials
    ) as client:
        results = client.resolve_many(refs, jobs=4)
    reasons = {str(r): getattr(o, "reason", None) for r, o in results.items()}
    assert reasons == {"nginx:1.27": "timeout", "nginx:1.26": None, "alpine:3.20": None,
                       "x/y:z": "not found"}  # fmt: skip
    assert results[refs[1]].digest == catalog.digests["library/nginx:1.26"]  # type: ignore[union-attr]


def test_server_error_reason_after_retries(
    proxy: FaultProxy, no_credentials: CredentialStore
) -> None:
    proxy.script("HEAD", NGINX, *[Fault(status=503)] * 3)
    proxy.script("GET", NGINX, *[Fault(status=503)] * 3)
    with pytest.raises(RegistryError) as info:
        resolve(proxy, no_credentials)
    assert info.value.reason == "server error: HTTP 503"
