"""`tighten fix` pinning images end to end: the real CLI, a real distribution registry.

Docker Hub references reach the loopback registry through `--registry-mirror`, behind a
counting proxy, so the tests can also prove what the lockfile saves.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from .conftest import Registries
from .fault_proxy import FaultProxy
from .registry_server import AMD64, ARM64, Catalog, Seeder

pytestmark = [pytest.mark.registry, pytest.mark.slow]

ProxyTo = Callable[..., FaultProxy]

DOCKERFILE = """\
# syntax=docker/dockerfile:1
FROM --platform=$BUILDPLATFORM library/alpine:latest AS build
RUN echo build
FROM nginx
COPY --from=build /etc/os-release /srv/
"""
MANIFEST = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      initContainers:
        - name: init
          image: 'busybox'
      containers:
        - name: cache
          image: "redis:latest"  # the cache
"""


@dataclass
class Seeded:
    """Digests of the images this module adds to the session registry."""

    redis: str
    busybox: str
    team_app: str


@pytest.fixture(scope="module")
def seeded(registries: Registries) -> Seeded:
    seeder = Seeder(registries.anonymous.url)
    redis, _ = seeder.index("library/redis", ["latest", "7.4", "7.4.1"], [AMD64, ARM64], "redis")
    busybox = seeder.image("library/busybox", ["latest"], AMD64, docker=True, label="busybox")
    team = seeder.image("team/app", ["latest", "2.0.1"], AMD64, label="team-app")
    return Seeded(redis, busybox, team)


@pytest.fixture
def proxy(registries: Registries, proxy_to: ProxyTo, seeded: Seeded) -> Iterator[FaultProxy]:
    yield proxy_to(registries.anonymous)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "Dockerfile").write_text(DOCKERFILE)
    (folder / "deploy.yaml").write_text(MANIFEST)
    return folder


def tighten(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """The CLI as users run it, with no Docker credentials of the machine in reach."""
    env = {
        **os.environ, "NO_COLOR": "1", "DOCKER_CONFIG": str(cwd / ".no-docker-config"),
        **(env or {}),
    }  # fmt: skip
    return subprocess.run(
        [sys.executable, "-m", "fixer", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=120,
    )


def fix(
    proxy: FaultProxy, *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    mirror = f"docker.io={proxy.url}"
    return tighten(
        "fix", "--select", "DF002,K8S003", "--registry-mirror", mirror, *args, cwd=cwd, env=env
    )


def errors(done: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in done.stderr.splitlines() if line.startswith("error:")]


def expected_dockerfile(catalog: Catalog) -> str:
    alpine = catalog.digests["library/alpine:latest"]
    nginx = catalog.digests["library/nginx:latest"]
    return DOCKERFILE.replace(
        "library/alpine:latest AS", f"library/alpine:3.20.3@{alpine} AS"
    ).replace("FROM nginx\n", f"FROM nginx:1.27.3@{nginx}\n")


def expected_manifest(seeded: Seeded) -> str:
    return MANIFEST.replace("'busybox'", f"'busybox:latest@{seeded.busybox}'").replace(
        '"redis:latest"', f'"redis:7.4.1@{seeded.redis}"'
    )


def test_fix_pins_docker_hub_images_through_a_mirror_keeping_names(
    project: Path, proxy: FaultProxy, catalog: Catalog, seeded: Seeded
) -> None:
    done = fix(proxy, ".", cwd=project)
    assert done.returncode == 0, done.stderr
    assert errors(done) == []
    # The written name is the user's, never the mirror's; a version tag is added when one
    # points at the same digest (busybox has none).
    assert (project / "Dockerfile").read_text() == expected_dockerfile(catalog)
    assert (project / "deploy.yaml").read_text() == expected_manifest(seeded)
    assert "looking up 4 images in registries" in done.stderr
    assert proxy.count("GET", "/v2/library/") + proxy.count("HEAD", "/v2/library/") > 0
    assert not (project / "tighten.lock").exists()  # only --lock writes it


def test_direct_loopback_reference(
    tmp_path: Path, registries: Registries, proxy: FaultProxy, seeded: Seeded
) -> None:
    port = registries.anonymous.port
    (tmp_path / "Dockerfile").write_text(f"FROM localhost:{port}/team/app:latest\n")
    done = fix(proxy, "Dockerfile", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    pinned = f"FROM localhost:{port}/team/app:2.0.1@{seeded.team_app}\n"
    assert (tmp_path / "Dockerfile").read_text() == pinned
    assert proxy.count() == 0  # not a Docker Hub image: the mirror is not involved


def test_platform_pins_that_platforms_manifest(
    tmp_path: Path, proxy: FaultProxy, catalog: Catalog
) -> None:
    (tmp_path / "Dockerfile").write_text("FROM nginx\n")
    done = fix(proxy, "--platform", "linux/arm64", "Dockerfile", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    arm = catalog.platforms["library/nginx:latest"]["linux/arm64/v8"]
    assert arm != catalog.digests["library/nginx:latest"]
    text = (tmp_path / "Dockerfile").read_text()
    assert text.startswith("FROM nginx") and text.endswith(f"@{arm}\n"), text


def test_lock_writes_the_lockfile_and_a_second_run_asks_no_registry(
    project: Path, proxy: FaultProxy, catalog: Catalog, seeded: Seeded
) -> None:
    first = fix(proxy, "--lock", ".", cwd=project)
    assert first.returncode == 0, first.stderr
    lock = json.loads((project / "tighten.lock").read_text())
    assert sorted(lock["images"]) == ["busybox", "library/alpine:latest", "nginx", "redis:latest"]
    assert lock["images"]["nginx"]["digest"] == catalog.digests["library/nginx:latest"]
    assert lock["images"]["nginx"]["tag"] == "1.27.3"
    assert "wrote tighten.lock" in first.stderr

    (project / "Dockerfile").write_text(DOCKERFILE)
    (project / "deploy.yaml").write_text(MANIFEST)
    proxy.reset()
    second = fix(proxy, ".", cwd=project)
    assert second.returncode == 0, second.stderr
    assert proxy.count() == 0, proxy.log
    assert (project / "Dockerfile").read_text() == expected_dockerfile(catalog)
    assert (project / "deploy.yaml").read_text() == expected_manifest(seeded)


def test_lock_file_elsewhere(project: Path, tmp_path: Path, proxy: FaultProxy) -> None:
    elsewhere = tmp_path / "locks" / "images.lock"
    elsewhere.parent.mkdir()
    done = fix(proxy, "--lock", "--lock-file", str(elsewhere), "Dockerfile", cwd=project)
    assert done.returncode == 0, done.stderr
    assert sorted(json.loads(elsewhere.read_text())["images"]) == ["library/alpine:latest", "nginx"]
    assert not (project / "tighten.lock").exists()


def test_offline_pins_from_the_lockfile_and_reports_the_rest(
    project: Path, proxy: FaultProxy, catalog: Catalog
) -> None:
    nginx = catalog.digests["library/nginx:latest"]
    lock = {"version": 1, "images": {"nginx": {"digest": nginx, "tag": "1.27.3",
                                               "resolved_at": "2025-01-01T00:00:00Z"}}}  # fmt: skip
    (project / "tighten.lock").write_text(json.dumps(lock))
    done = fix(proxy, "--offline", ".", cwd=project)
    assert proxy.count() == 0
    # Images missing from the lockfile stay as they are: reported, not an error.
    assert done.returncode == 1, done.stderr
    assert errors(done) == []
    text = (project / "Dockerfile").read_text()
    assert f"FROM nginx:1.27.3@{nginx}\n" in text
    assert "library/alpine:latest AS build" in text
    assert (project / "deploy.yaml").read_text() == MANIFEST
    unpinned = [line for line in done.stdout.splitlines() if "not in lockfile" in line]
    assert len(unpinned) == 3, done.stdout

    (project / "tighten.lock").unlink()
    (project / "Dockerfile").write_text(DOCKERFILE)
    again = fix(proxy, "--offline", ".", cwd=project)
    assert again.returncode == 1 and errors(again) == [] and proxy.count() == 0
    assert (project / "Dockerfile").read_text() == DOCKERFILE


def test_a_failing_reference_is_left_alone_and_other_files_are_fixed(
    tmp_path: Path, proxy: FaultProxy, catalog: Catalog
) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "Dockerfile").write_text("FROM nginx\n")
    broken = "FROM acme/does-not-exist:latest AS x\nFROM nginx:latest\n"
    (tmp_path / "b" / "Dockerfile").write_text(broken)
    done = fix(proxy, ".", cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    nginx = catalog.digests["library/nginx:latest"]
    assert (tmp_path / "a" / "Dockerfile").read_text() == f"FROM nginx:1.27.3@{nginx}\n"
    assert (tmp_path / "b" / "Dockerfile").read_text() == (
        f"FROM acme/does-not-exist:latest AS x\nFROM nginx:1.27.3@{nginx}\n"
    )
    [error] = errors(done)
    assert "acme/does-not-exist:latest" in error, error
    assert "not fixable: registry:" in done.stdout


def test_check_never_asks_a_registry_and_reports_fixable(project: Path, proxy: FaultProxy) -> None:
    done = tighten("check", "--select", "DF002,K8S003", "--format", "json", ".", cwd=project)
    assert done.returncode == 1, done.stderr
    found = json.loads(done.stdout)["findings"]
    assert len(found) == 4 and all(item["fixable"] for item in found)
    assert proxy.count() == 0
    assert (project / "Dockerfile").read_text() == DOCKERFILE
