"""Image facts read from a real distribution registry: config, layers, the lockfile cache.

The seeded image has User `app`, Entrypoint `/docker-entrypoint.sh` (which steps down
with gosu), two gzip layers (the second overriding /etc/passwd and whiting out a file that
carried a file capability) and an environment value that must never be written anywhere.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from fixer.registry import Lockfile, LockfileError, Reference, RegistryClient
from fixer.registry.inspect import read_image_facts
from fixer.registry.options import MIB, ClientOptions

from .conftest import Registries
from .fault_proxy import FaultProxy
from .registry_server import OCI_CONFIG, OCI_LAYER, OCI_MANIFEST, Seeder

pytestmark = [pytest.mark.registry, pytest.mark.slow]

SECRET = "s3cr3t-Value-never-written"
CAPABILITY = "AQAAAgAgAAAAAAAAAAAAAAAAAAA="  # cap_net_raw+ep, as getcap/tar write it
ENTRYPOINT = b"""#!/bin/sh
set -e
# su is mentioned in a comment only
if [ "$(id -u)" = "0" ]; then
    chown -R app /data
    exec gosu app "$0" "$@"
fi
exec "$@"
"""
BASE_PASSWD = b"root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n"
TOP_PASSWD = b"root:x:0:0:root:/root:/bin/sh\napp:x:10001:10002::/home/app:/bin/sh\n"


def tar_gz(*entries: tuple[str, bytes, dict[str, str]]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", format=tarfile.PAX_FORMAT) as tar:
        for name, data, pax in entries:
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.pax_headers = len(data), 0o755, dict(pax)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def push(seeder: Seeder, repo: str, tag: str, config: dict[str, object],
         layers: list[tuple[str, bytes]]) -> str:  # fmt: skip
    blob = {"architecture": "amd64", "os": "linux", "config": config,
            "rootfs": {"type": "layers", "diff_ids": []}}  # fmt: skip
    body = json.dumps(blob).encode()
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": seeder.blob(repo, body), "size": len(body)},
        "layers": [
            {"mediaType": kind, "digest": seeder.blob(repo, data), "size": len(data)}
            for kind, data in layers
        ],
    }
    return seeder.manifest(repo, [tag], json.dumps(manifest).encode(), OCI_MANIFEST)


APP_CONFIG: dict[str, object] = {
    "User": "app",
    "Entrypoint": ["/docker-entrypoint.sh"],
    "Cmd": ["server", "--port", "8080"],
    "ExposedPorts": {"8080/tcp": {}, "9090/tcp": {}},
    "Env": ["PATH=/usr/local/bin:/usr/bin:/bin", f"API_TOKEN={SECRET}"],
    "Labels": {"org.opencontainers.image.title": "app"},
    "WorkingDir": "/srv",
}


@dataclass
class Images:
    app: str
    huge: str
    zstd: str


@pytest.fixture(scope="module")
def images(registries: Registries) -> Images:
    seeder = Seeder(registries.anonymous.url)
    base = tar_gz(
        ("etc/passwd", BASE_PASSWD, {}),
        ("etc/group", b"root:x:0:\napp:x:1000:\nstaff:x:50:app\n", {}),
        ("./usr/bin/ping", b"\x7fELF ping", {"SCHILY.xattr.security.capability": CAPABILITY}),
        ("usr/bin/old-tool", b"\x7fELF old", {"SCHILY.xattr.security.capability": CAPABILITY}),
        ("docker-entrypoint.sh", ENTRYPOINT, {}),
    )
    top = tar_gz(
        ("etc/passwd", TOP_PASSWD, {}),
        ("usr/bin/.wh.old-tool", b"", {}),
        ("srv/app.py", b"print('hi')\n", {}),
    )
    app = push(seeder, "facts/app", "1.0", APP_CONFIG, [(OCI_LAYER, base), (OCI_LAYER, top)])
    # A top layer much larger than the budget the test allows (random: gzip cannot
    # shrink it), above a layer holding /etc/passwd.
    filler = os.urandom(3 * MIB)
    huge_top = tar_gz(("opt/blob.bin", filler, {}), ("etc/hostname", b"x\n", {}))
    huge = push(
        seeder, "facts/huge", "1.0", {"User": "app"},
        [(OCI_LAYER, base), (OCI_LAYER, huge_top)],
    )  # fmt: skip
    zstd_type = "application/vnd.oci.image.layer.v1.tar+zstd"
    zstd = push(
        seeder, "facts/zstd", "1.0", {"User": "app"},
        [(OCI_LAYER, base), (zstd_type, b"(\xb5/\xfd not really zstd")],
    )  # fmt: skip
    # Everything wanted sits at the start of the top layer, before 3 MiB of filler,
    # above a base layer that is never fetched: a 1 MiB budget is enough.
    early_top = tar_gz(
        ("etc/passwd", b"app:x:20001:20001::/:/bin/sh\n", {}),
        ("etc/group", b"app:x:20001:\n", {}),
        ("docker-entrypoint.sh", ENTRYPOINT, {}),
        ("opt/blob.bin", filler, {}),
    )
    push(
        seeder, "facts/early", "1.0", APP_CONFIG,
        [(OCI_LAYER, huge_top), (OCI_LAYER, early_top)],
    )  # fmt: skip
    return Images(app, huge, zstd)


def client_for(registries: Registries, **options: object) -> RegistryClient:
    mirrors = {"docker.io": registries.anonymous.url}
    return RegistryClient(mirrors=mirrors, options=ClientOptions(**options))  # type: ignore[arg-type]


# -- the registry answers ---------------------------------------------------------------


def test_config_facts_keep_env_names_only(registries: Registries, images: Images) -> None:
    with client_for(registries) as client:
        facts = read_image_facts(client, Reference.parse("facts/app:1.0"))
    config = facts.config
    assert facts.digest == images.app and facts.platform == "linux/amd64"
    assert config.user == "app"
    assert config.entrypoint == ("/docker-entrypoint.sh",)
    assert config.cmd == ("server", "--port", "8080")
    assert config.exposed_ports == ("8080/tcp", "9090/tcp")
    assert config.label("org.opencontainers.image.title") == "app"
    assert config.working_dir == "/srv"
    assert config.env_names == ("API_TOKEN", "PATH")
    assert SECRET not in repr(facts)
    # Without the layers a named user has no number, and nothing is known of the script.
    assert facts.layers is None and facts.uid is None and facts.steps_down == ()


def test_layers_answer_user_entrypoint_and_capabilities(
    registries: Registries, images: Images
) -> None:
    with client_for(registries) as client:
        facts = read_image_facts(client, Reference.parse("facts/app:1.0"), layers=True)
    layers = facts.layers
    assert layers is not None and layers.complete and layers.notices == ()
    # The top layer's /etc/passwd wins over the base layer's.
    assert layers.account("app") == (10001, 10002)
    assert (facts.uid, facts.gid, facts.uid_source) == (10001, 10002, "/etc/passwd")
    assert layers.group_id("staff") == 50
    assert layers.entrypoint == "/docker-entrypoint.sh"
    assert layers.entrypoint_text is not None and "exec gosu app" in layers.entrypoint_text
    assert facts.steps_down == ("gosu",)
    assert "su" not in facts.steps_down  # only mentioned in a comment
    # old-tool carried a capability but the top layer whited it out.
    assert facts.capabilities == ("/usr/bin/ping",)


def test_without_capabilities_the_read_stops_once_the_files_are_known(
    registries: Registries, images: Images
) -> None:
    # The top layer holds /etc/passwd; the base layer holds /etc/group and the script,
    # so both are needed. Above a huge layer that holds them all, only it is read.
    proxy = FaultProxy(registries.anonymous.url)
    try:
        mirrors = {"docker.io": proxy.url}
        with RegistryClient(mirrors=mirrors) as client:
            ref = Reference.parse("facts/app:1.0")
            facts = read_image_facts(client, ref, layers=True, capabilities=False)
    finally:
        proxy.stop()
    assert facts.layers is not None and facts.layers.complete and facts.capabilities == ()
    assert facts.uid == 10001 and facts.steps_down == ("gosu",)
    assert proxy.count("GET", "/blobs/") == 3  # config + two layers: nothing else
    with client_for(registries, layer_budget=MIB) as client:
        early = read_image_facts(client, Reference.parse("facts/early:1.0"), layers=True,
                                 capabilities=False)  # fmt: skip
    assert early.layers is not None and early.layers.complete, early.layers
    assert early.layers.account("app") == (20001, 20001) and early.uid == 20001


def test_a_huge_layer_is_cut_at_the_budget_with_a_notice(
    registries: Registries, images: Images
) -> None:
    with client_for(registries, layer_budget=MIB) as client:
        facts = read_image_facts(client, Reference.parse("facts/huge:1.0"), layers=True)
    layers = facts.layers
    assert layers is not None and not layers.complete
    [notice] = layers.notices
    assert "stopped after 1 MiB" in notice
    # The base layer (and its /etc/passwd) was never reached: unknown, not guessed.
    assert layers.users == () and facts.uid is None


def test_a_zstd_layer_is_skipped_with_a_notice(registries: Registries, images: Images) -> None:
    with client_for(registries) as client:
        facts = read_image_facts(client, Reference.parse("facts/zstd:1.0"), layers=True)
    layers = facts.layers
    assert layers is not None and not layers.complete
    assert any("tar+zstd" in n and "not read" in n for n in layers.notices), layers.notices
    assert layers.account("app") == (1000, 1000)  # the gzip base layer was still read


# -- the CLI and the lockfile -------------------------------------------------------------

POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: app
spec:
  containers:
    - name: app
      image: facts/app:1.0
"""


@pytest.fixture
def proxy(registries: Registries, images: Images) -> Iterator[FaultProxy]:
    started = FaultProxy(registries.anonymous.url)
    yield started
    started.stop()


def tighten(proxy: FaultProxy, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1", "DOCKER_CONFIG": str(cwd / ".no-docker-config")}
    command = [sys.executable, "-m", "fixer", "fix", "--select", "K8S002"]
    mirror = ["--registry-mirror", f"docker.io={proxy.url}"]
    return subprocess.run(
        [*command, *mirror, *args, "pod.yaml"],
        cwd=cwd, capture_output=True, text=True, env=env, check=False, timeout=120,
    )  # fmt: skip


def test_lock_records_facts_and_offline_answers_from_them(
    tmp_path: Path, proxy: FaultProxy, images: Images
) -> None:
    (tmp_path / "pod.yaml").write_text(POD)
    online = tighten(proxy, tmp_path, "--dry-run", "--lock", "--inspect-layers")
    assert "runAsUser" in online.stdout, online.stderr  # the image runs as a name

    # --lock only writes in `fix` mode: the dry run left no lockfile.
    assert not (tmp_path / "tighten.lock").exists()
    first = tighten(proxy, tmp_path, "--lock", "--inspect-layers")
    assert "wrote tighten.lock" in first.stderr, first.stderr
    text = (tmp_path / "tighten.lock").read_text()
    assert SECRET not in text and "exec gosu" not in text  # no env value, no script text
    entry = json.loads(text)["facts"][images.app]
    assert entry["references"] == ["facts/app:1.0"]
    facts = entry["platforms"]["linux/amd64"]
    assert facts["config"]["user"] == "app"
    assert facts["config"]["env_names"] == ["API_TOKEN", "PATH"]
    assert facts["layers"]["users"]["app"] == [10001, 10002]
    assert facts["layers"]["steps_down"] == ["gosu"]
    assert facts["layers"]["capabilities"] == ["/usr/bin/ping"]

    # Offline, the lockfile answers; the registry is not asked.
    (tmp_path / "pod.yaml").write_text(POD)
    proxy.reset()
    offline = tighten(proxy, tmp_path, "--dry-run", "--offline", "--inspect-layers")
    assert proxy.count() == 0, proxy.log
    assert offline.stdout == online.stdout
    loaded = Lockfile.load(tmp_path / "tighten.lock")
    cached = loaded.image_facts(images.app, "linux/amd64")
    assert cached is not None and cached.uid == 10001 and cached.source == "lockfile"

    # Online again, an unpinned tag costs one HEAD to learn what it names today.
    online_again = tighten(proxy, tmp_path, "--dry-run", "--inspect-layers")
    assert online_again.stdout == online.stdout
    asked = [(m, p) for m, p in proxy.log if p != "/v2/"]
    assert asked == [("HEAD", "/v2/facts/app/manifests/1.0")], proxy.log

    # Without the lockfile, offline knows nothing about the image.
    (tmp_path / "tighten.lock").unlink()
    blind = tighten(proxy, tmp_path, "--dry-run", "--offline")
    assert blind.stdout != online.stdout


HOSTILE = [
    ({"user": "app\x1b[31m"}, "invalid user"),
    ({"env_names": ["TOKEN=leaked"]}, "invalid env_names item"),
    ({"entrypoint": "/x.sh"}, "invalid entrypoint"),
    ({"extra": 1}, "exactly the keys"),
]


def config_json(**changes: object) -> dict[str, object]:
    base: dict[str, object] = {"user": "app", "entrypoint": None, "cmd": None,
                               "exposed_ports": [], "labels": {}, "working_dir": "",
                               "env_names": []}  # fmt: skip
    return {**base, **changes}


def lock_with(platform_facts: dict[str, object], digest: str) -> str:
    facts = {
        digest: {"references": ["facts/app:1.0"], "platforms": {"linux/amd64": platform_facts}}
    }
    return json.dumps({"version": 1, "images": {}, "facts": facts})


@pytest.mark.parametrize(("change", "reason"), HOSTILE)
def test_a_hostile_facts_entry_is_refused(
    change: dict[str, object], reason: str, images: Images
) -> None:
    text = lock_with({"config": config_json(**change)}, images.app)
    with pytest.raises(LockfileError) as caught:
        Lockfile.loads(text)
    assert reason in caught.value.reason and images.app[:20] in caught.value.reason
    assert "\x1b" not in str(caught.value)


def test_hostile_layer_facts_are_refused(images: Images) -> None:
    bad_layers: list[dict[str, object]] = [
        {"users": {"app": [True, 0]}},  # a bool is not a uid
        {"users": {"app": [-1, 0]}},
        {"capabilities": ["/usr/../etc/shadow"]},
        {"steps_down": ["rm -rf /"]},
        {"entrypoint": "relative.sh"},
        {"complete": "yes"},
    ]
    good: dict[str, object] = {"users": {}, "groups": {}, "entrypoint": None, "steps_down": [],
            "capabilities": [], "complete": True}  # fmt: skip
    Lockfile.loads(lock_with({"config": config_json(), "layers": good}, images.app))
    for change in bad_layers:
        text = lock_with({"config": config_json(), "layers": {**good, **change}}, images.app)
        with pytest.raises(LockfileError):
            Lockfile.loads(text)


def test_the_cli_refuses_a_hostile_lockfile_and_uses_none_of_it(
    tmp_path: Path, proxy: FaultProxy, images: Images
) -> None:
    (tmp_path / "pod.yaml").write_text(POD)
    injected = config_json(user="1000")  # would make the image look numeric non-root
    lock = json.loads(lock_with({"config": injected, "layers": {"rogue": 1}}, images.app))
    (tmp_path / "tighten.lock").write_text(json.dumps(lock))
    done = tighten(proxy, tmp_path, "--dry-run", "--offline")
    assert done.returncode == 2
    assert "tighten.lock" in done.stderr and "facts entry" in done.stderr, done.stderr
    assert "runAsUser" not in done.stdout  # the injected user was not believed
