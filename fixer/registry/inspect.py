"""Reading an image's facts from its registry: the config always, the layers when asked.

    facts = read_image_facts(client, Reference.parse("nginx:1.27"), platform="linux/amd64",
                             layers=True)

Every request goes through the client (auth, retries, per-request deadline, body caps);
layers are streamed through `layers.py`, top layer first, within the image's byte budget
and deadline, and dropped as they are read.
"""

from __future__ import annotations

import tarfile
import time
import zlib
from typing import TYPE_CHECKING

from .imageconfig import ImageConfig
from .imagefacts import ImageFacts, LayerFacts, parse_group, parse_passwd, step_down_signals
from .layers import (
    TEXT_LIMIT,
    Budget,
    BudgetExceeded,
    ChunkReader,
    LayerScan,
    Overlay,
    resolve_link,
    scan_layer,
    tar_mode,
)
from .lock import shown
from .manifest import Manifest, Platform, select_platform
from .options import MIB
from .reference import Reference, is_valid_digest
from .results import RegistryError

if TYPE_CHECKING:
    import requests

    from .client import RegistryClient

PASSWD, GROUP = "etc/passwd", "etc/group"


def read_image_facts(
    client: RegistryClient,
    ref: Reference,
    *,
    platform: str = "linux/amd64",
    digest: str | None = None,
    layers: bool = False,
    capabilities: bool = True,
) -> ImageFacts:
    """Facts about `ref` (or about `digest`, the one a lockfile pinned) for `platform`.
    `ImageFacts.digest` is the digest looked at first: the index for a multi-arch tag.
    File capabilities can be added by any layer, so asking for them reads every layer;
    without them the read stops once the wanted files are decided.
    Raises `RegistryError` naming the reference."""
    try:
        top = client.manifest(ref, digest or ref.lookup)
        manifest = top
        if top.is_index:
            manifest = client.manifest(ref, select_platform(top, _platform(platform)).digest)
        config = ImageConfig.from_config(client.config_of(ref, manifest))
        found = read_layers(client, ref, manifest, config, capabilities) if layers else None
    except RegistryError as err:
        raise err.for_reference(str(ref)) from None
    return ImageFacts(top.digest, platform, config, found)


def _platform(text: str) -> Platform:
    try:
        return Platform.parse(text)
    except ValueError as exc:
        raise RegistryError(f"bad request: {exc}") from None


def layer_descriptors(manifest: Manifest) -> list[tuple[str, str]]:
    """(media type, digest) of each layer, base first."""
    out = []
    for item in manifest.data.get("layers") or ():
        if isinstance(item, dict) and is_valid_digest(str(item.get("digest", ""))):
            out.append((str(item.get("mediaType", "")), str(item["digest"])))
    return out


def read_layers(
    client: RegistryClient,
    ref: Reference,
    manifest: Manifest,
    config: ImageConfig,
    capabilities: bool = True,
) -> LayerFacts:
    candidates = [path.lstrip("/") for path in config.script_candidates()]
    overlay = Overlay({PASSWD, GROUP, *candidates}, capabilities_wanted=capabilities)
    options = client.options
    budget = Budget(options.layer_budget, time.monotonic() + options.layer_deadline)
    notices: list[str] = []
    for media_type, digest in reversed(layer_descriptors(manifest)):
        if overlay.done():
            break
        short = digest.split(":")[-1][:12]
        mode = tar_mode(media_type)
        if mode is None:
            notices.append(f"layer {short} not read: media type {shown(media_type)}")
            continue
        try:
            scan = _read_layer(client, ref, digest, mode, overlay, budget)
        except _Partial as cut:
            overlay.absorb(cut.scan)  # what it saw is true: it was the top-most sight
            notices.append(
                f"layer read stopped after {options.layer_budget // MIB} MiB "
                f"(the per-image cap) in layer {short}"
            )
            break
        except (tarfile.TarError, EOFError, OSError, zlib.error):
            notices.append(f"layer {short} is not a readable tar stream")
            continue
        except RegistryError as err:
            notices.append(f"layer {short} not read: {err.reason}")
            break
        overlay.absorb(scan)
    return _facts(overlay, candidates, notices)


class _Partial(Exception):
    def __init__(self, scan: LayerScan) -> None:
        super().__init__("budget exceeded")
        self.scan = scan


def _read_layer(
    client: RegistryClient,
    ref: Reference,
    digest: str,
    mode: str,
    overlay: Overlay,
    budget: Budget,
) -> LayerScan:
    box: dict[str, LayerScan] = {}

    def reader(response: requests.Response, _until: float) -> bytes:
        # The transport's watch cuts the socket at the request deadline; the budget
        # carries the image's own deadline.
        box["scan"] = scan = LayerScan()  # each attempt starts the layer afresh
        chunks = ChunkReader(response.iter_content(64 * 1024), budget)
        try:
            if scan_layer(chunks, mode, overlay, scan):
                chunks.read()  # the tar's end padding: then the whole layer can be checked
                chunks.check(digest)
        except BudgetExceeded:
            raise _Partial(scan) from None
        return b""

    client.stream_blob(ref, digest, reader)
    return box["scan"]


def _facts(overlay: Overlay, candidates: list[str], notices: list[str]) -> LayerFacts:
    complete = not notices
    entrypoint, text = None, None
    for candidate in candidates:
        data = resolve_link(overlay, candidate)
        if data is not None:
            entrypoint, text = "/" + candidate, _text(data)
            break
    return LayerFacts(
        users=parse_passwd(_text(overlay.files.get(PASSWD)) or ""),
        groups=parse_group(_text(overlay.files.get(GROUP)) or ""),
        entrypoint=entrypoint,
        entrypoint_text=text,
        steps_down=step_down_signals(text or ""),
        capabilities=tuple(sorted(set(overlay.capabilities))),
        complete=complete,
        notices=tuple(notices),
    )


def _text(data: bytes | None) -> str | None:
    """Text of a file read from a layer (cut at 64 KB); None for a binary."""
    if data is None or b"\x00" in data[:1024]:
        return None
    text = data[:TEXT_LIMIT].decode("utf-8", "replace")
    return text.rsplit("\n", 1)[0] if len(data) > TEXT_LIMIT else text
