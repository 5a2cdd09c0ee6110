"""Debian's `docker-registry` (distribution 2.8) on loopback, and seeding it over the API.

No pytest here, so `bench/pin_bench.py` can use it too.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .loopback import free_port

INSTALL_HINT = (
    "the registry tests need Debian's docker-registry (distribution 2.8) on PATH: "
    "run `apt-get install -y docker-registry apache2-utils`"
)


class HarnessError(RuntimeError):
    pass


def registry_binary() -> str:
    found = shutil.which("docker-registry")
    if not found:
        raise HarnessError(INSTALL_HINT)
    return found


def htpasswd_line(user: str, password: str) -> str:
    """A bcrypt htpasswd line (the registry accepts bcrypt only), via apache2-utils."""
    tool = shutil.which("htpasswd")
    if not tool:
        raise HarnessError("htpasswd not found: run `apt-get install -y apache2-utils`")
    done = subprocess.run(
        [tool, "-nbB", "-C", "4", user, password], capture_output=True, text=True, check=True
    )
    return done.stdout.strip() + "\n"


# -- the registry process ---------------------------------------------------------------


@dataclass
class RegistryServer:
    storage: Path
    workdir: Path
    auth: dict[str, Any] | None = None
    port: int = 0
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout: float = 15.0) -> RegistryServer:
        binary = registry_binary()
        self.workdir.mkdir(parents=True, exist_ok=True)
        for _ in range(3):  # the free port may be taken between probe and bind
            self.port = free_port()
            config = self.workdir / f"config-{self.port}.json"
            config.write_text(json.dumps(self._config()))  # JSON is YAML
            log = (self.workdir / f"registry-{self.port}.log").open("wb")
            self.process = subprocess.Popen(
                [binary, "serve", str(config)], stdout=log, stderr=subprocess.STDOUT
            )
            if self._wait_ready(timeout):
                return self
            self.stop()
        raise HarnessError(f"docker-registry did not start; log: {self.log_tail()}")

    def _config(self) -> dict[str, Any]:
        config: dict[str, Any] = {
            "version": "0.1",
            "log": {"level": "warn", "accesslog": {"disabled": True}},
            "storage": {
                "filesystem": {"rootdirectory": str(self.storage)},
                "maintenance": {"uploadpurging": {"enabled": False}},
            },
            "http": {"addr": self.host, "secret": "tighten-test-secret"},
        }
        if self.auth:
            config["auth"] = self.auth
        return config

    def _wait_ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                return False
            try:
                status = http_get(f"{self.url}/v2/", timeout=1.0)[0]
            except OSError:
                time.sleep(0.05)
                continue
            return status in (200, 401)
        return False

    def log_tail(self) -> str:
        logs = sorted(self.workdir.glob("registry-*.log"))
        return logs[-1].read_text(errors="replace")[-2000:] if logs else "(no log)"

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


def http_get(url: str, timeout: float = 5.0) -> tuple[int, bytes]:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=timeout)
    try:
        conn.request("GET", parts.path or "/")
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


# -- seeding through the HTTP API -------------------------------------------------------

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class PlatformSpec:
    os: str = "linux"
    architecture: str = "amd64"
    variant: str | None = None
    user: str | None = None

    @property
    def text(self) -> str:
        base = f"{self.os}/{self.architecture}"
        return f"{base}/{self.variant}" if self.variant else base


class Seeder:
    """Pushes images with blob uploads (POST then monolithic PUT) and manifest PUTs."""

    def __init__(self, base_url: str):
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname or "", parts.port

    def _call(
        self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> http.client.HTTPResponse:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        response.read()
        conn.close()
        return response

    def blob(self, repo: str, data: bytes) -> str:
        digest = sha256(data)
        started = self._call("POST", f"/v2/{repo}/blobs/uploads/")
        if started.status != 202:
            raise HarnessError(f"blob upload start for {repo}: HTTP {started.status}")
        location = urlsplit(started.getheader("Location") or "")
        query = f"{location.query}&digest={digest}" if location.query else f"digest={digest}"
        headers = {"Content-Type": "application/octet-stream"}
        done = self._call("PUT", f"{location.path}?{query}", data, headers)
        if done.status != 201:
            raise HarnessError(f"blob upload for {repo}: HTTP {done.status}")
        return digest

    def manifest(self, repo: str, tags: list[str], body: bytes, media_type: str) -> str:
        digest = sha256(body)
        for ref in [*tags, digest]:
            done = self._call(
                "PUT", f"/v2/{repo}/manifests/{ref}", body, {"Content-Type": media_type}
            )
            if done.status != 201:
                raise HarnessError(f"manifest PUT {repo}:{ref}: HTTP {done.status}")
        return digest

    def image(self, repo: str, tags: list[str], spec: PlatformSpec, *, docker: bool = False,
              label: str = "") -> str:  # fmt: skip
        """A single-platform image; Docker schema 2 when `docker`, else OCI."""
        layer = self.blob(repo, f"layer {repo} {spec.text} {label}".encode())
        config: dict[str, Any] = {
            "architecture": spec.architecture,
            "os": spec.os,
            "config": {"User": spec.user} if spec.user is not None else {},
            "rootfs": {"type": "layers", "diff_ids": [sha256(layer.encode())]},
            "created": "2024-01-01T00:00:00Z",
            "author": label or repo,
        }
        if spec.variant:
            config["variant"] = spec.variant
        config_bytes = json.dumps(config, sort_keys=True).encode()
        config_digest = self.blob(repo, config_bytes)
        manifest = {
            "schemaVersion": 2,
            "mediaType": DOCKER_MANIFEST if docker else OCI_MANIFEST,
            "config": {
                "mediaType": DOCKER_CONFIG if docker else OCI_CONFIG,
                "digest": config_digest,
                "size": len(config_bytes),
            },
            "layers": [
                {
                    "mediaType": DOCKER_LAYER if docker else OCI_LAYER,
                    "digest": layer,
                    "size": len(f"layer {repo} {spec.text} {label}".encode()),
                }
            ],
        }
        body = json.dumps(manifest, indent=3).encode()
        return self.manifest(repo, tags, body, str(manifest["mediaType"]))

    def index(
        self, repo: str, tags: list[str], specs: list[PlatformSpec], label: str = ""
    ) -> tuple[str, dict[str, str]]:
        """A multi-platform OCI index; returns its digest and each platform's digest."""
        entries, digests = [], {}
        for spec in specs:
            digest = self.image(repo, [], spec, label=label)
            body_size = self._size(repo, digest)
            platform = {"architecture": spec.architecture, "os": spec.os}
            if spec.variant:
                platform["variant"] = spec.variant
            entries.append(
                {"mediaType": OCI_MANIFEST, "digest": digest, "size": body_size,
                 "platform": platform}
            )  # fmt: skip
            digests[spec.text] = digest
        index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}
        body = json.dumps(index, indent=2).encode()
        return self.manifest(repo, tags, body, OCI_INDEX), digests

    def _size(self, repo: str, digest: str) -> int:
        headers = {"Accept": OCI_MANIFEST}
        response = self._call("HEAD", f"/v2/{repo}/manifests/{digest}", headers=headers)
        return int(response.getheader("Content-Length") or 0)


@dataclass
class Catalog:
    """What `seed_test_images` pushed: `digests["library/nginx:1.27"]` is the digest the
    tag points at; `platforms[...]` maps `linux/arm64/v8` to that platform's manifest."""

    digests: dict[str, str] = field(default_factory=dict)
    platforms: dict[str, dict[str, str]] = field(default_factory=dict)


AMD64 = PlatformSpec("linux", "amd64")
ARM64 = PlatformSpec("linux", "arm64", "v8")


def seed_test_images(base_url: str) -> Catalog:
    seeder, catalog = Seeder(base_url), Catalog()

    def index(repo: str, tags: list[str], specs: list[PlatformSpec], label: str) -> None:
        digest, platforms = seeder.index(repo, tags, specs, label)
        for tag in tags:
            catalog.digests[f"{repo}:{tag}"] = digest
            catalog.platforms[f"{repo}:{tag}"] = platforms

    def single(repo: str, tags: list[str], spec: PlatformSpec, label: str) -> None:
        digest = seeder.image(repo, tags, spec, docker=True, label=label)
        for tag in tags:
            catalog.digests[f"{repo}:{tag}"] = digest

    mainline = ["latest", "1", "1.27", "1.27.3", "mainline"]
    arm_user = PlatformSpec("linux", "arm64", "v8", user="101")
    index("library/nginx", mainline, [AMD64, arm_user], "1.27.3")
    index("library/nginx", ["1.27.2"], [AMD64, ARM64], "1.27.2")
    index("library/nginx", ["stable", "1.26", "1.26.2"], [AMD64, ARM64], "1.26.2")
    index("library/nginx", ["alpine", "1.27.3-alpine", "1.27-alpine"], [AMD64, ARM64], "alp")
    single("library/alpine", ["latest", "3.20", "3.20.3"], AMD64, "alpine")
    app = PlatformSpec("linux", "amd64", user="1000:1000")
    single("acme/tools/app", ["latest", "v2.1.0", "v2.1"], app, "app")
    single("private/app", ["latest", "1.0"], PlatformSpec(user="app"), "private")
    for n in range(12):  # 13 tags: three pages of five
        tags = [f"0.{n}.0", "latest"] if n == 11 else [f"0.{n}.0"]
        single("library/many", tags, AMD64, f"many-{n}")
    return catalog
