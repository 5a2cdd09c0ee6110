"""What is known about popular base and server images without asking a registry.

A small curated table, each entry with the upstream files it was read from. It answers the
questions a behaviour-changing fix depends on: who the image runs as (and whether that user is
numeric, which the kubelet needs to verify ``runAsNonRoot``), whether it starts as root on
purpose and steps down itself, which conventional user it ships for others to reuse, and the
ports below 1024 it listens on by default.

The table is evidence of last resort: the file, the repository and the registry come first.
An image that is not listed is unknown, never assumed safe.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["KNOWN_IMAGES", "KnownImage", "ShippedUser", "known_image"]


@dataclass(frozen=True)
class ShippedUser:
    """A non-root account the image creates for others to use (``node`` in ``node``)."""

    name: str
    uid: int
    gid: int


@dataclass(frozen=True)
class KnownImage:
    """Facts about one image repository (all tags, unless a variant narrows them)."""

    #: Repository names as normalised by ``fixer.registry.reference`` (``docker.io/library/x``);
    #: a trailing ``/*`` matches every repository under that path.
    names: tuple[str, ...]
    #: ``config.User`` as the image sets it: "" is root (no USER), else the text.
    user: str = ""
    #: The program that drops root at start (``gosu``): the image *must* start as root.
    steps_down_with: str | None = None
    #: The account a root-start image steps down to, or the one it ships for reuse.
    ships: ShippedUser | None = None
    #: Ports below 1024 the default command binds (need root or NET_BIND_SERVICE).
    privileged_ports: tuple[int, ...] = ()
    #: The image only works privileged (Docker-in-Docker, eBPF agents).
    needs_privileged: bool = False
    #: Tag patterns (regular expressions) of variants that run differently, with their user.
    variants: tuple[tuple[str, str], ...] = ()
    #: Tag patterns of variants whose default command binds ports below 1024 (``-apache``).
    port_variants: tuple[tuple[str, tuple[int, ...]], ...] = ()
    #: Tag patterns of variants that ship their account under another id (alpine's 82).
    ships_variants: tuple[tuple[str, ShippedUser], ...] = ()
    #: Where each fact was read (upstream Dockerfiles, entrypoints, documentation).
    sources: tuple[str, ...] = ()

    def user_for(self, tag: str | None) -> str:
        """``config.User`` of the variant ``tag`` belongs to."""
        for pattern, user in self.variants:
            if tag is not None and re.search(pattern, tag):
                return user
        return self.user

    def ports_for(self, tag: str | None) -> tuple[int, ...]:
        """The ports below 1024 the variant ``tag`` belongs to binds."""
        for pattern, ports in self.port_variants:
            if tag is not None and re.search(pattern, tag):
                return ports
        return self.privileged_ports

    def ships_for(self, tag: str | None) -> ShippedUser | None:
        """The account the variant ``tag`` belongs to ships."""
        for pattern, user in self.ships_variants:
            if tag is not None and re.search(pattern, tag):
                return user
        return self.ships

    @property
    def starts_as_root(self) -> bool:
        """True when running it as non-root breaks its entrypoint or its listening port."""
        return self.steps_down_with is not None or bool(self.privileged_ports)


def _hub(*names: str) -> tuple[str, ...]:
    return tuple(f"docker.io/library/{n}" for n in names)


_DL = "https://github.com/docker-library"

KNOWN_IMAGES: tuple[KnownImage, ...] = (
    KnownImage(
        _hub("postgres"),
        steps_down_with="gosu",
        ships=ShippedUser("postgres", 999, 999),
        sources=(
            f"{_DL}/postgres/blob/master/Dockerfile-debian.template (useradd --uid=999)",
            f"{_DL}/postgres/blob/master/docker-entrypoint.sh (exec gosu postgres)",
            "alpine variants: adduser -u 70 and su-exec",
        ),
    ),
    KnownImage(
        _hub("mysql"),
        steps_down_with="gosu",
        ships=ShippedUser("mysql", 999, 999),
        sources=(
            f"{_DL}/mysql/blob/master/Dockerfile.oracle (useradd --system --uid 999)",
            f"{_DL}/mysql/blob/master/docker-entrypoint.sh (exec gosu mysql)",
        ),
    ),
    KnownImage(
        _hub("mariadb"),
        steps_down_with="gosu",
        ships=ShippedUser("mysql", 999, 999),
        sources=(
            "https://github.com/MariaDB/mariadb-docker/blob/master/Dockerfile.template",
            "https://github.com/MariaDB/mariadb-docker/blob/master/docker-entrypoint.sh (gosu mysql)",
        ),
    ),
    KnownImage(
        _hub("mongo"),
        steps_down_with="gosu",
        ships=ShippedUser("mongodb", 999, 999),
        sources=(
            f"{_DL}/mongo/blob/master/Dockerfile-linux.template (useradd --uid 999)",
            f"{_DL}/mongo/blob/master/docker-entrypoint.sh (exec gosu mongodb)",
        ),
    ),
    KnownImage(
        _hub("redis"),
        steps_down_with="gosu",
        ships=ShippedUser("redis", 999, 999),
        sources=(
            f"{_DL}/redis/blob/master/Dockerfile.template (useradd -r -g redis -u 999)",
            f"{_DL}/redis/blob/master/docker-entrypoint.sh (exec gosu redis / su-exec on alpine)",
        ),
    ),
    KnownImage(
        _hub("nginx"),
        ships=ShippedUser("nginx", 101, 101),
        privileged_ports=(80,),
        sources=(
            "https://github.com/nginxinc/docker-nginx/blob/master/mainline/debian/Dockerfile "
            "(useradd --uid 101 nginx; EXPOSE 80; master process runs as root)",
        ),
    ),
    KnownImage(
        ("docker.io/nginxinc/nginx-unprivileged",),
        user="101",
        sources=(
            "https://github.com/nginxinc/docker-nginx-unprivileged/blob/main/mainline/debian/Dockerfile "
            "(USER $UID with UID=101; listens on 8080)",
        ),
    ),
    KnownImage(
        _hub("httpd"),
        privileged_ports=(80,),
        sources=(f"{_DL}/httpd/blob/master/2.4/Dockerfile (EXPOSE 80; children run as daemon)",),
    ),
    KnownImage(
        _hub("node"),
        ships=ShippedUser("node", 1000, 1000),
        sources=(
            "https://github.com/nodejs/docker-node/blob/main/22/bookworm/Dockerfile "
            "(useradd --uid 1000 --gid node node; no USER)",
        ),
    ),
    KnownImage(
        _hub("php"),
        ships=ShippedUser("www-data", 33, 33),
        port_variants=((r"apache", (80,)),),
        ships_variants=((r"alpine", ShippedUser("www-data", 82, 82)),),
        sources=(
            f"{_DL}/php/blob/master/8.3/bookworm/fpm/Dockerfile (--with-fpm-user=www-data; "
            "Debian's www-data is 33, alpine variants add -u 82)",
            f"{_DL}/php/blob/master/8.3/bookworm/apache/Dockerfile (EXPOSE 80; CMD "
            "apache2-foreground: Apache binds port 80, then its children run as www-data)",
        ),
    ),
    KnownImage(
        (
            "mcr.microsoft.com/dotnet/aspnet",
            "mcr.microsoft.com/dotnet/runtime",
            "mcr.microsoft.com/dotnet/runtime-deps",
            "mcr.microsoft.com/dotnet/sdk",
        ),
        ships=ShippedUser("app", 1654, 1654),
        variants=((r"chiseled|distroless", "1654"),),
        sources=(
            "https://learn.microsoft.com/dotnet/core/docker/container-images "
            "(.NET 8+: non-root user app, APP_UID=1654; chiseled images run as it)",
        ),
    ),
    KnownImage(
        ("gcr.io/distroless/*",),
        variants=((r"(^|-)nonroot($|-)", "65532"),),
        sources=(
            "https://github.com/GoogleContainerTools/distroless#debug-images "
            "(:nonroot tags run as uid 65532; others as root)",
        ),
    ),
    KnownImage(
        ("cgr.dev/chainguard/*",),
        user="65532",
        sources=(
            "https://edu.chainguard.dev/chainguard/chainguard-images/overview/ "
            "(images run as the nonroot user, uid 65532, by default)",
        ),
    ),
    KnownImage(
        (
            "docker.io/prom/prometheus",
            "docker.io/prom/node-exporter",
            "docker.io/prom/alertmanager",
            "quay.io/prometheus/prometheus",
            "quay.io/prometheus/node-exporter",
            "quay.io/prometheus/alertmanager",
        ),
        user="nobody",
        sources=(
            "https://github.com/prometheus/prometheus/blob/main/Dockerfile (USER nobody)",
            "https://github.com/prometheus/node_exporter/blob/master/Dockerfile (USER nobody)",
        ),
    ),
    KnownImage(
        ("docker.io/grafana/grafana", "docker.io/grafana/grafana-oss"),
        user="472",
        sources=("https://github.com/grafana/grafana/blob/main/Dockerfile (USER $GF_UID, 472)",),
    ),
    # Exact names win over the ``/*`` entries below: these repositories are the exceptions.
    KnownImage(
        ("docker.io/bitnami/minideb",),
        sources=(
            "https://github.com/bitnami/minideb (a minimal Debian base image: no USER, runs "
            "as root like debian)",
        ),
    ),
    KnownImage(
        ("cgr.dev/chainguard/wolfi-base",),
        sources=(
            "https://edu.chainguard.dev/chainguard/chainguard-images/reference/wolfi-base/ "
            "(the base image for building others: runs as root)",
        ),
    ),
    KnownImage(
        ("docker.io/bitnami/*",),
        user="1001",
        sources=("https://github.com/bitnami/containers (non-root containers run as USER 1001)",),
    ),
    KnownImage(
        # eBPF agents: loading programs into the kernel and reading other processes'
        # memory needs privileged (or CAP_BPF, CAP_PERFMON, CAP_SYS_PTRACE and more, which
        # their manifests then list). Beyla's own deployments run it privileged.
        (
            "docker.io/grafana/beyla",
            "docker.io/falcosecurity/falco",
            "quay.io/cilium/tetragon",
            "ghcr.io/parca-dev/parca-agent",
            "quay.io/sustainable_computing_io/kepler",
        ),
        needs_privileged=True,
        sources=(
            "https://grafana.com/docs/beyla/latest/setup/kubernetes/ (privileged, or the "
            "BPF, PERFMON, SYS_PTRACE, NET_RAW, CHECKPOINT_RESTORE, DAC_READ_SEARCH and "
            "SYS_RESOURCE capabilities)",
            "https://falco.org/docs/setup/container/ (runs --privileged)",
            "https://github.com/cilium/tetragon/blob/main/install/kubernetes/tetragon/"
            "values.yaml (securityContext.privileged: true)",
            "https://github.com/parca-dev/parca-agent/blob/main/deploy/ (privileged: true)",
            "https://github.com/sustainable-computing-io/kepler/blob/main/manifests/ "
            "(privileged: true)",
        ),
    ),
    KnownImage(
        _hub("docker"),
        needs_privileged=True,
        variants=((r"dind-rootless", "rootless"),),
        sources=(f"{_DL}/docker/blob/master/README.md (dind must run --privileged)",),
    ),
    KnownImage(
        tuple(
            f"{registry}/{name}"
            for registry in ("registry.access.redhat.com", "registry.redhat.io")
            for release in ("ubi8", "ubi9", "ubi10")
            for name in (
                f"{release}/ubi",
                f"{release}/ubi-minimal",
                f"{release}/ubi-micro",
                f"{release}/ubi-init",
                f"{release}",
                f"{release}-minimal",
                f"{release}-micro",
                f"{release}-init",
            )
        )
        + tuple(f"docker.io/redhat/{n}" for n in ("ubi8", "ubi9", "ubi8-minimal", "ubi9-minimal")),
        sources=(
            "https://catalog.redhat.com/software/base-images (the UBI base images: no USER, "
            "they run as root; the language images such as ubi9/python-311 run as 1001 and "
            "are not listed)",
        ),
    ),
    KnownImage(
        _hub(
            "debian",
            "alpine",
            "busybox",
            "python",
            "golang",
            "ruby",
            "rust",
            "openjdk",
            "eclipse-temurin",
            "amazoncorretto",
            "centos",
            "fedora",
            "rockylinux",
            "almalinux",
            "ubuntu",
        ),
        sources=(f"{_DL}/official-images (no USER: these run as root)",),
    ),
)

_EXACT: dict[str, KnownImage] = {n: k for k in KNOWN_IMAGES for n in k.names if "*" not in n}
_PREFIXES: tuple[tuple[str, KnownImage], ...] = tuple(
    (n[:-1], k) for k in KNOWN_IMAGES for n in k.names if n.endswith("/*")
)


def known_image(repository: str) -> KnownImage | None:
    """The entry for a normalised repository name (``docker.io/library/postgres``)."""
    hit = _EXACT.get(repository)
    if hit is not None:
        return hit
    return next((k for prefix, k in _PREFIXES if repository.startswith(prefix)), None)
