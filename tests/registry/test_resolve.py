"""Resolution against a real distribution 2.8 registry (anonymous)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from fixer.registry import Reference, RegistryClient, RegistryError, Resolution
from fixer.registry.credentials import CredentialStore
from fixer.registry.options import ClientOptions

from .conftest import FAST, Registries
from .fault_proxy import FaultProxy
from .loopback import free_port
from .registry_server import Catalog, RegistryServer

pytestmark = [pytest.mark.registry, pytest.mark.slow]

ProxyTo = Callable[..., FaultProxy]


def hub_client(url: str, creds: CredentialStore, options: ClientOptions = FAST) -> RegistryClient:
    """A client that sends docker.io look-ups to `url`, as a mirror."""
    return RegistryClient(mirrors={"docker.io": url}, options=options, credentials=creds)


def ok(outcome: Resolution | RegistryError) -> Resolution:
    assert isinstance(outcome, Resolution), outcome
    return outcome


def test_multi_arch_index_and_docker_manifest(
    registries: Registries, catalog: Catalog, no_credentials: CredentialStore
) -> None:
    with hub_client(registries.anonymous.url, no_credentials) as client:
        nginx = client.resolve(Reference.parse("nginx:1.27"))
        alpine = client.resolve(Reference.parse("alpine:3.20"))
    assert nginx.digest == catalog.digests["library/nginx:1.27"]
    assert nginx.media_type == "application/vnd.oci.image.index.v1+json"
    assert nginx.pinned() == f"nginx:1.27@{nginx.digest}"
    # The schema 2 digest, not a schema 1 down-conversion.
    assert alpine.digest == catalog.digests["library/alpine:3.20"]
    assert alpine.media_type == "application/vnd.docker.distribution.manifest.v2+json"


def test_direct_loopback_reference_and_nested_path(
    registries: Registries, catalog: Catalog, no_credentials: CredentialStore
) -> None:
    text = f"{registries.anonymous.host}/acme/tools/app:v2.1"
    with RegistryClient(options=FAST, credentials=no_credentials) as client:
        found = client.resolve(Reference.parse(text))
    assert found.digest == catalog.digests["acme/tools/app:v2.1"]
    assert found.pinned() == f"{text}@{found.digest}"


def test_platform_pins(
    registries: Registries, catalog: Catalog, no_credentials: CredentialStore
) -> None:
    with hub_client(registries.anonymous.url, no_credentials) as client:
        arm = client.resolve(Reference.parse("nginx:1.27"), platform="linux/arm64")
        amd = client.resolve(Reference.parse("nginx"), platform="linux/amd64")
        single = client.resolve(Reference.parse("alpine:3.20"), platform="linux/amd64")
        with pytest.raises(RegistryError) as missing:
            client.resolve(Reference.parse("nginx:1.27"), platform="linux/s390x")
        with pytest.raises(RegistryError) as wrong_arch:
            client.resolve(Reference.parse("alpine:3.20"), platform="linux/arm64")
    platforms = catalog.platforms["library/nginx:1.27"]
    assert arm.digest == platforms["linux/arm64/v8"]
    assert amd.digest == platforms["linux/amd64"] and amd.tag == "latest"
    assert single.digest == catalog.digests["library/alpine:3.20"]
    assert missing.value.reason == (
        "platform not found: linux/s390x (available: linux/amd64, linux/arm64/v8)"
    )
    assert str(missing.value).startswith("nginx:1.27: platform not found")
    assert wrong_arch.value.reason.startswith("platform not found: linux/arm64")


def test_not_found_is_a_per_reference_result(
    registries: Registries, catalog: Catalog, no_credentials: CredentialStore
) -> None:
    refs = [Reference.parse(t) for t in ("nginx:1.27", "nginx:9.9", "nosuch/repo:1")]
    with hub_client(registries.anonymous.url, no_credentials) as client:
        results = client.resolve_many(refs)
    assert ok(results[refs[0]]).digest == catalog.digests["library/nginx:1.27"]
    assert results[refs[1]] == RegistryError("not found", reference="nginx:9.9", status=404)
    missing = results[refs[2]]
    assert isinstance(missing, RegistryError) and missing.reason == "not found"


def test_one_manifest_request_per_unique_reference(
    registries: Registries,
    catalog: Catalog,
    proxy_to: ProxyTo,
    no_credentials: CredentialStore,
) -> None:
    proxy = proxy_to(registries.anonymous)
    texts = ["nginx", "nginx:latest", "docker.io/library/nginx", "nginx:1.27", "nginx:1.27",
             "nginx:1.26", "nginx:stable", "alpine", "library/alpine:3.20", "nginx:1.27.3"]  # fmt: skip
    refs = [Reference.parse(t) for t in texts]
    with hub_client(proxy.url, no_credentials) as client:
        results = client.resolve_many(refs, jobs=8)
    unique_lookups = {"latest", "1.27", "1.26", "stable", "alpine-latest", "3.20", "1.27.3"}
    assert proxy.count("HEAD", "/manifests/") == len(unique_lookups)
    assert proxy.count() == len(unique_lookups) + 1  # plus one ping of /v2/
    assert len(results) == len(set(refs)) == 9
    for ref in refs:
        res = ok(results[ref])
        assert res.reference == ref  # each spelling gets its own result
        key = f"{ref.repository}:{ref.tag or 'latest'}"
        assert res.digest == catalog.digests[key]
    long = ok(results[Reference.parse("docker.io/library/nginx")])
    assert long.pinned() == f"docker.io/library/nginx:latest@{long.digest}"


def test_version_tag_discovery(
    registries: Registries,
    catalog: Catalog,
    proxy_to: ProxyTo,
    no_credentials: CredentialStore,
) -> None:
    proxy = proxy_to(registries.anonymous)
    refs = [Reference.parse(t) for t in ("nginx", "nginx:mainline", "alpine:latest")]
    with hub_client(proxy.url, no_credentials) as client:
        results = client.resolve_many(refs, version_tag=True)
        alpine_variant = client.version_tag_for(
            Reference.parse("nginx:alpine"), catalog.digests["library/nginx:alpine"]
        )
        unknown = client.version_tag_for(Reference.parse("nginx"), "sha256:" + "0" * 64)
    assert ok(results[refs[0]]).pinned() == (
        f"nginx:1.27.3@{catalog.digests['library/nginx:latest']}"
    )
    assert ok(results[refs[1]]).tag == "mainline"  # the user's own tag is kept
    assert ok(results[refs[2]]).tag == "3.20.3"
    assert alpine_variant == "1.27.3-alpine"
    assert unknown is None
    # One tag listing per repository, whatever the number of look-ups.
    assert proxy.count("GET", "/library/nginx/tags/list") == 1
    assert proxy.count("GET", "/library/alpine/tags/list") == 1


def test_version_tag_off_costs_one_request(
    registries: Registries, proxy_to: ProxyTo, no_credentials: CredentialStore
) -> None:
    proxy = proxy_to(registries.anonymous)
    with hub_client(proxy.url, no_credentials) as client:
        found = client.resolve(Reference.parse("nginx:latest"))
    assert found.tag == "latest" and found.pinned().startswith("nginx:latest@sha256:")
    assert proxy.count("HEAD") == 1 and proxy.count("GET", "/tags/") == 0


def test_tag_pagination_is_followed_and_bounded(
    registries: Registries,
    catalog: Catalog,
    proxy_to: ProxyTo,
    no_credentials: CredentialStore,
) -> None:
    proxy = proxy_to(registries.anonymous, tag_page_size=5)
    paged = ClientOptions(tag_page_size=5, max_tag_pages=10, retries=0)
    with hub_client(proxy.url, no_credentials, paged) as client:
        found = client.resolve(Reference.parse("many"), version_tag=True)
    assert found.tag == "0.11.0"
    assert proxy.count("GET", "/tags/list") == 3  # 13 tags in pages of 5
    proxy.reset()
    bounded = ClientOptions(tag_page_size=5, max_tag_pages=2, max_tag_probes=3, retries=0)
    with hub_client(proxy.url, no_credentials, bounded) as client:
        found = client.resolve(Reference.parse("many"), version_tag=True)
    assert proxy.count("GET", "/tags/list") == 2
    assert proxy.count("HEAD") <= 1 + 3
    assert found.digest == catalog.digests["library/many:latest"]


def test_image_config(registries: Registries, no_credentials: CredentialStore) -> None:
    with hub_client(registries.anonymous.url, no_credentials) as client:
        amd = client.image_config(Reference.parse("nginx:1.27"))
        arm = client.image_config(Reference.parse("nginx:1.27"), platform="linux/arm64/v8")
        app_ref = Reference.parse(f"{registries.anonymous.host}/acme/tools/app:v2.1.0")
        app = client.image_config(app_ref)
        with pytest.raises(RegistryError, match="not found"):
            client.image_config(Reference.parse("nginx:nope"))
    assert amd["architecture"] == "amd64" and "User" not in amd["config"]
    assert arm["architecture"] == "arm64" and arm["config"]["User"] == "101"
    assert app["config"]["User"] == "1000:1000"


def test_digest_references_need_no_request(
    registries: Registries, proxy_to: ProxyTo, no_credentials: CredentialStore
) -> None:
    proxy = proxy_to(registries.anonymous)
    digest = "sha256:" + "a" * 64
    refs = [Reference.parse(f"nginx:1.27@{digest}"), Reference.parse(f"nginx:1.26@{digest}")]
    with hub_client(proxy.url, no_credentials) as client:
        results = client.resolve_many(refs)
    assert [ok(results[r]).pinned() for r in refs] == [str(r) for r in refs]
    assert proxy.count() == 0


def test_a_dead_registry_fails_only_its_references(
    registries: Registries, catalog: Catalog, no_credentials: CredentialStore
) -> None:
    dead = RegistryServer(registries.storage, registries.workdir / "dead")
    dead.port = free_port()  # nothing listens there: connection refused
    refs = [Reference.parse(f"{dead.host}/x:{n}") for n in range(3)]
    refs.append(Reference.parse(f"{registries.anonymous.host}/library/nginx:1.27"))
    options = ClientOptions(connect_timeout=0.5, retries=1, backoff=0.01)
    with RegistryClient(options=options, credentials=no_credentials) as client:
        results = client.resolve_many(refs)
    assert {results[r].reason for r in refs[:3]} == {"connection failed"}  # type: ignore[union-attr]
    assert ok(results[refs[3]]).digest == catalog.digests["library/nginx:1.27"]
