"""Basic and Bearer token auth against real registries, and secrets staying secret."""

from __future__ import annotations

import base64
import logging
import traceback
from collections.abc import Callable
from pathlib import Path

import pytest

from fixer.registry import Reference, RegistryClient, RegistryError, Resolution
from fixer.registry.credentials import HUB_CONFIG_KEY, CredentialStore

from .conftest import ALICE, FAST, IDENTITY_TOKEN, basic_auth_entry
from .fault_proxy import Fault, FaultProxy
from .registry_server import Catalog, RegistryServer
from .test_credentials import helper_script
from .token_issuer import TokenIssuer

pytestmark = [pytest.mark.registry, pytest.mark.slow]

WriteConfig = Callable[[dict[str, object]], CredentialStore]
ProxyTo = Callable[..., FaultProxy]


def client_for(server: RegistryServer | FaultProxy, creds: CredentialStore) -> RegistryClient:
    """docker.io mirrored to `server`; credentials are looked up for the mirror's host."""
    return RegistryClient(mirrors={"docker.io": server.url}, options=FAST, credentials=creds)


def host_of(server: RegistryServer | FaultProxy) -> str:
    return server.url.split("://", 1)[1]


# -- Basic ------------------------------------------------------------------------------


def test_basic_auth_with_credentials(
    basic_registry: RegistryServer, catalog: Catalog, write_docker_config: WriteConfig
) -> None:
    store = write_docker_config({"auths": {basic_registry.host: basic_auth_entry(*ALICE)}})
    with client_for(basic_registry, store) as client:
        found = client.resolve(Reference.parse("nginx:1.27"))
        config = client.image_config(Reference.parse("nginx:1.27"))
    assert found.digest == catalog.digests["library/nginx:1.27"]
    assert config["architecture"] == "amd64"


@pytest.mark.parametrize("password", [None, "wrong-password"])
def test_basic_auth_refused(
    basic_registry: RegistryServer, write_docker_config: WriteConfig, password: str | None
) -> None:
    auths = {basic_registry.host: basic_auth_entry("alice", password)} if password else {}
    client = client_for(basic_registry, write_docker_config({"auths": auths}))
    with client, pytest.raises(RegistryError) as info:
        client.resolve(Reference.parse("nginx:1.27"))
    assert info.value.reason == "unauthorized"
    assert str(info.value) == "nginx:1.27: unauthorized"


# -- Bearer tokens ----------------------------------------------------------------------


def test_anonymous_token_one_per_repository(
    token_registry: RegistryServer,
    issuer: TokenIssuer,
    catalog: Catalog,
    proxy_to: ProxyTo,
    no_credentials: CredentialStore,
) -> None:
    proxy = proxy_to(token_registry)
    tags = ["latest", "1", "1.27", "1.27.3", "mainline", "stable", "1.26", "alpine"]
    refs = [Reference.parse(f"nginx:{tag}") for tag in tags]
    refs += [Reference.parse("alpine:3.20"), Reference.parse("alpine:latest")]
    with client_for(proxy, no_credentials) as client:
        results = client.resolve_many(refs, jobs=8)
    for ref in refs:
        outcome = results[ref]
        assert isinstance(outcome, Resolution), outcome
        assert outcome.digest == catalog.digests[f"{ref.repository}:{ref.tag}"]
    scopes = sorted(s for call in issuer.calls for s in call.scopes)
    assert scopes == ["repository:library/alpine:pull", "repository:library/nginx:pull"]
    assert proxy.count("HEAD", "/manifests/") == len(refs)
    assert proxy.count("GET", "/v2/") == 1  # the ping that learned the challenge


def test_private_repository_needs_credentials(
    token_registry: RegistryServer,
    issuer: TokenIssuer,
    catalog: Catalog,
    write_docker_config: WriteConfig,
    no_credentials: CredentialStore,
) -> None:
    ref = Reference.parse(f"{token_registry.host}/private/app:1.0")
    anonymous = RegistryClient(options=FAST, credentials=no_credentials)
    with anonymous, pytest.raises(RegistryError, match="unauthorized"):
        anonymous.resolve(ref)
    store = write_docker_config({"auths": {token_registry.host: basic_auth_entry(*ALICE)}})
    with RegistryClient(options=FAST, credentials=store) as client:
        assert client.resolve(ref).digest == catalog.digests["private/app:1.0"]
        assert client.image_config(ref)["config"]["User"] == "app"
    assert [call.user for call in issuer.calls] == [None, "alice"]
    store = write_docker_config(
        {"auths": {token_registry.host: basic_auth_entry("alice", "not-her-password")}}
    )
    issuer.reset()
    tags = ["1.0", "latest", "2.0", "3.0"]
    refs = [Reference.parse(f"{token_registry.host}/private/app:{t}") for t in tags]
    with RegistryClient(options=FAST, credentials=store) as wrong:
        outcomes = wrong.resolve_many(refs, jobs=4)
    assert {getattr(o, "reason", None) for o in outcomes.values()} == {"unauthorized"}
    assert issuer.attempts == 1  # the refusal is remembered for the run


def test_identity_token_uses_oauth2_refresh(
    token_registry: RegistryServer,
    issuer: TokenIssuer,
    catalog: Catalog,
    write_docker_config: WriteConfig,
) -> None:
    store = write_docker_config({"auths": {token_registry.host: {"identitytoken": IDENTITY_TOKEN}}})
    ref = Reference.parse(f"{token_registry.host}/private/app:latest")
    with RegistryClient(options=FAST, credentials=store) as client:
        assert client.resolve(ref).digest == catalog.digests["private/app:latest"]
    assert [(c.method, c.grant, c.user) for c in issuer.calls] == [("POST", "refresh", "alice")]


def test_identity_token_falls_back_to_get_without_oauth2(
    token_registry: RegistryServer,
    issuer: TokenIssuer,
    catalog: Catalog,
    write_docker_config: WriteConfig,
) -> None:
    issuer.oauth = False  # the token server answers POST with 404
    store = write_docker_config({"auths": {token_registry.host: {"identitytoken": IDENTITY_TOKEN}}})
    ref = Reference.parse(f"{token_registry.host}/library/nginx:1.27")
    with RegistryClient(options=FAST, credentials=store) as client:
        assert client.resolve(ref).digest == catalog.digests["library/nginx:1.27"]
    assert [c.method for c in issuer.calls] == ["GET"]


def test_credential_helper_feeds_the_token_flow(
    token_registry: RegistryServer, issuer: TokenIssuer, catalog: Catalog, tmp_path: Path
) -> None:
    user, password = ALICE
    env = helper_script(
        tmp_path / "bin",
        "tighten-test",
        f'read server\necho \'{{"Username":"{user}","Secret":"{password}"}}\'\n',
    )
    config = tmp_path / "cfg"
    config.mkdir()
    (config / "config.json").write_text('{"credsStore": "tighten-test"}')
    store = CredentialStore(env={"DOCKER_CONFIG": str(config), **env})
    ref = Reference.parse(f"{token_registry.host}/private/app:1.0")
    with RegistryClient(options=FAST, credentials=store) as client:
        assert client.resolve(ref).digest == catalog.digests["private/app:1.0"]
    assert [c.user for c in issuer.calls] == ["alice"]


def test_short_lived_tokens_are_renewed(
    token_registry: RegistryServer, issuer: TokenIssuer, no_credentials: CredentialStore
) -> None:
    issuer.expires_in = 5  # within the renewal margin: stale as soon as it arrives
    with client_for(token_registry, no_credentials) as client:
        client.resolve(Reference.parse("nginx:1.27"))
        client.resolve(Reference.parse("nginx:1.26"))
    assert len(issuer.calls) == 2


def test_challenge_learned_from_a_401(
    token_registry: RegistryServer,
    issuer: TokenIssuer,
    catalog: Catalog,
    proxy_to: ProxyTo,
    no_credentials: CredentialStore,
) -> None:
    proxy = proxy_to(token_registry)
    proxy.script("GET", "/v2/", Fault(status=200))  # the ping claims no auth is needed
    with client_for(proxy, no_credentials) as client:
        found = client.resolve(Reference.parse("nginx:1.27"))
    assert found.digest == catalog.digests["library/nginx:1.27"]
    assert proxy.count("HEAD") == 2 and len(issuer.calls) == 1


def test_docker_hub_key_is_not_sent_to_a_mirror(
    basic_registry: RegistryServer, write_docker_config: WriteConfig
) -> None:
    # Hub credentials belong to Hub: a mirror host gets only its own.
    store = write_docker_config({"auths": {HUB_CONFIG_KEY: basic_auth_entry(*ALICE)}})
    client = client_for(basic_registry, store)
    with client, pytest.raises(RegistryError, match="unauthorized"):
        client.resolve(Reference.parse("nginx:1.27"))


# -- secrets never leak -----------------------------------------------------------------


def test_no_secret_in_logs_errors_or_reprs(
    basic_registry: RegistryServer,
    token_registry: RegistryServer,
    issuer: TokenIssuer,
    write_docker_config: WriteConfig,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    user, password = ALICE
    wrong = "Wr0ng-Secret-pw"
    seen: list[str] = []
    with caplog.at_level(logging.DEBUG):
        for entry in (basic_auth_entry(user, password), basic_auth_entry(user, wrong),
                      {"identitytoken": IDENTITY_TOKEN}, {"identitytoken": "idtok-wrong"}):  # fmt: skip
            auths = {basic_registry.host: entry, token_registry.host: entry}
            store = write_docker_config({"auths": auths})
            seen += [repr(store), repr(store.get(basic_registry.host))]
            for server in (basic_registry, token_registry):
                refs = [Reference.parse(f"{server.host}/{p}") for p in
                        ("private/app:1.0", "library/nginx:1.27", "library/nginx:nope")]  # fmt: skip
                with RegistryClient(options=FAST, credentials=store) as client:
                    seen.append(repr(client))
                    for outcome in client.resolve_many(refs).values():
                        seen += [repr(outcome), str(outcome)]
                        if isinstance(outcome, BaseException):
                            seen += traceback.format_exception(outcome)
    out = capsys.readouterr()
    text = "\n".join([*seen, caplog.text, out.out, out.err])
    assert issuer.issued, "the token flow was not exercised"
    secrets = [password, wrong, IDENTITY_TOKEN, "idtok-wrong", *issuer.issued]
    secrets += [base64.b64encode(f"{user}:{p}".encode()).decode() for p in (password, wrong)]
    leaked = [s[:12] + "..." for s in secrets if s in text]
    assert leaked == []
    assert "unauthorized" in text  # the failures were there to be logged
