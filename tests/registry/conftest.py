"""Session-wide real registries (anonymous, htpasswd, token) sharing one seeded storage."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from fixer.registry.credentials import CredentialStore
from fixer.registry.options import ClientOptions

from .fault_proxy import FaultProxy
from .registry_server import (
    Catalog,
    HarnessError,
    RegistryServer,
    htpasswd_line,
    registry_binary,
    seed_test_images,
)
from .token_issuer import TokenIssuer

ALICE = ("alice", "alice-S3cret-pw")
IDENTITY_TOKEN = "idtok-Z9x8"

# Short timeouts and backoffs keep the fault tests fast.
FAST = ClientOptions(
    connect_timeout=1.0, read_timeout=0.4, retries=2, backoff=0.02, max_retry_wait=2.0
)


@dataclass
class Registries:
    anonymous: RegistryServer
    catalog: Catalog
    storage: Path
    workdir: Path


@pytest.fixture(scope="session")
def registry_binary_path() -> str:
    try:
        return registry_binary()
    except HarnessError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(scope="session")
def registries(
    registry_binary_path: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Registries]:
    workdir = tmp_path_factory.mktemp("registries")
    storage = workdir / "storage"
    server = RegistryServer(storage, workdir / "anonymous").start()
    try:
        catalog = seed_test_images(server.url)
        yield Registries(server, catalog, storage, workdir)
    finally:
        server.stop()


@pytest.fixture(scope="session")
def catalog(registries: Registries) -> Catalog:
    return registries.catalog


@pytest.fixture(scope="session")
def basic_registry(registries: Registries) -> Iterator[RegistryServer]:
    folder = registries.workdir / "basic"
    folder.mkdir()
    htpasswd = folder / "htpasswd"
    htpasswd.write_text(htpasswd_line(*ALICE))
    auth = {"htpasswd": {"realm": "tighten-basic", "path": str(htpasswd)}}
    server = RegistryServer(registries.storage, folder, auth).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def token_issuer(registries: Registries) -> Iterator[TokenIssuer]:
    folder = registries.workdir / "token"
    folder.mkdir()
    issuer = TokenIssuer(folder).start()
    yield issuer
    issuer.stop()


@pytest.fixture(scope="session")
def token_registry(registries: Registries, token_issuer: TokenIssuer) -> Iterator[RegistryServer]:
    folder = registries.workdir / "token"
    server = RegistryServer(registries.storage, folder, token_issuer.registry_auth()).start()
    yield server
    server.stop()


@pytest.fixture
def issuer(token_issuer: TokenIssuer) -> Iterator[TokenIssuer]:
    """The session issuer with its call log cleared and defaults restored afterwards."""
    token_issuer.reset()
    yield token_issuer
    token_issuer.expires_in, token_issuer.oauth = 300, True


@pytest.fixture
def proxy_to() -> Iterator[Callable[..., FaultProxy]]:
    started: list[FaultProxy] = []

    def start(
        upstream: RegistryServer, latency: float = 0.0, tag_page_size: int | None = None
    ) -> FaultProxy:
        proxy = FaultProxy(upstream.url, latency, tag_page_size)
        started.append(proxy)
        return proxy

    yield start
    for proxy in started:
        proxy.stop()


@pytest.fixture
def write_docker_config(tmp_path: Path) -> Callable[[dict[str, object]], CredentialStore]:
    """Writes a Docker config.json and returns a store reading it (env isolated)."""

    def write(config: dict[str, object]) -> CredentialStore:
        folder = tmp_path / "docker-config"
        folder.mkdir(exist_ok=True)
        (folder / "config.json").write_text(json.dumps(config))
        return CredentialStore(env={"DOCKER_CONFIG": str(folder), "PATH": "/usr/bin:/bin"})

    return write


def basic_auth_entry(user: str, password: str) -> dict[str, str]:
    return {"auth": base64.b64encode(f"{user}:{password}".encode()).decode()}


@pytest.fixture
def no_credentials(tmp_path: Path) -> CredentialStore:
    """A store that finds nothing, whatever the machine's own ~/.docker holds."""
    return CredentialStore(env={"DOCKER_CONFIG": str(tmp_path / "empty")})
