"""Pin benchmark: resolve N unique references against a real local registry behind a
loopback proxy that adds latency to every request, sequentially and concurrently.

    python bench/pin_bench.py [--refs 50] [--latency 0.1] [--jobs 1 8] [--version-tags]

Needs Debian's docker-registry (`apt-get install -y docker-registry`).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fixer.registry import Reference, RegistryClient, Resolution  # noqa: E402
from fixer.registry.credentials import CredentialStore  # noqa: E402
from tests.registry.fault_proxy import FaultProxy  # noqa: E402
from tests.registry.registry_server import PlatformSpec, RegistryServer, Seeder  # noqa: E402

TAGS_PER_REPO = 5


def seed(url: str, count: int, untagged_newest: bool) -> list[Reference]:
    """`count` unique references, TAGS_PER_REPO tags per repository, distinct images; each
    repository's newest version is also `latest`, and with `untagged_newest` it is referred
    to without a tag (so version tag discovery has work to do)."""
    seeder, refs = Seeder(url), []
    for n in range(count):
        repo, minor = f"bench/app{n // TAGS_PER_REPO}", n % TAGS_PER_REPO
        newest = minor == TAGS_PER_REPO - 1
        tags = [f"1.{minor}.0", "latest"] if newest else [f"1.{minor}.0"]
        seeder.image(repo, tags, PlatformSpec(), docker=True, label=f"{repo}:{tags[0]}")
        text = repo if newest and untagged_newest else f"{repo}:{tags[0]}"
        refs.append(Reference.parse(text))
    return refs


def run(proxy: FaultProxy, refs: list[Reference], jobs: int, version_tags: bool) -> str:
    proxy.reset()
    empty = CredentialStore(env={"DOCKER_CONFIG": str(Path(tempfile.mkdtemp()))})
    client = RegistryClient(mirrors={"docker.io": proxy.url}, credentials=empty)
    started = time.perf_counter()
    with client:
        results = client.resolve_many(refs, jobs=jobs, version_tag=version_tags)
    wall = time.perf_counter() - started
    pinned = sum(isinstance(o, Resolution) for o in results.values())
    return (
        f"jobs={jobs:<2} refs={len(refs)} pinned={pinned} requests={proxy.count():<4} "
        f"(manifest HEAD={proxy.count('HEAD', '/manifests/')}, "
        f"tags/list={proxy.count('GET', '/tags/list')}, ping={proxy.count('GET', '/v2/') - proxy.count('GET', '/v2/bench')}) "
        f"wall={wall:.2f}s"
    )  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--refs", type=int, default=50)
    parser.add_argument("--latency", type=float, default=0.1, help="seconds per request")
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 8])
    parser.add_argument(
        "--version-tags", action="store_true", help="find version tags for untagged refs"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        registry = RegistryServer(Path(tmp) / "storage", Path(tmp) / "work").start()
        proxy = FaultProxy(registry.url, latency=args.latency)
        try:
            refs = seed(registry.url, args.refs, args.version_tags)
            print(f"{args.refs} unique references, {args.latency * 1000:.0f} ms added per request")
            for jobs in args.jobs:
                print(run(proxy, refs, jobs, args.version_tags))
        finally:
            proxy.stop()
            registry.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
