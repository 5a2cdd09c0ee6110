"""Reading a few answers out of image layers as they stream by, never storing a layer.

Layers are walked from the top (last) one down, each as a tar stream (`r|gz`): the first
(top-most) sight of a path decides it, a whiteout (`.wh.name`) hides the path below, an
opaque marker (`.wh..wh..opq`) hides the folder's lower contents. So the walk can stop as
soon as every wanted file is decided, unless file capabilities are wanted (any layer may
add one). Bytes are counted against a budget shared by the image's layers.
"""

from __future__ import annotations

import hashlib
import posixpath
import tarfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from .imagefacts import MAX_CAPABILITY_PATHS
from .results import DIGEST_MISMATCH, TIMEOUT, RegistryError

TEXT_LIMIT = 64 * 1024
CAPABILITY_XATTR = "SCHILY.xattr.security.capability"
WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"
MAX_LINK_HOPS = 8

GZIP_TYPES = frozenset(
    {
        "application/vnd.oci.image.layer.v1.tar+gzip",
        "application/vnd.docker.image.rootfs.diff.tar.gzip",
    }
)
TAR_TYPES = frozenset({"application/vnd.oci.image.layer.v1.tar"})


def tar_mode(media_type: str) -> str | None:
    """The `tarfile` stream mode for a layer type, None for one we cannot read (zstd,
    foreign layers)."""
    if media_type in GZIP_TYPES:
        return "r|gz"
    if media_type in TAR_TYPES:
        return "r|"
    return None


class BudgetExceeded(Exception):
    """The image's byte budget ran out mid-layer."""


@dataclass
class Budget:
    """Bytes (as sent, compressed) left for one image's layers, and its deadline."""

    left: int
    until: float

    def spend(self, size: int) -> None:
        self.left -= size
        if self.left < 0:
            raise BudgetExceeded()
        if time.monotonic() > self.until:
            raise RegistryError(f"{TIMEOUT}: layer read ran past its deadline")


class ChunkReader:
    """A file-like `read(n)` over byte chunks, charging `budget` and hashing the bytes."""

    def __init__(self, chunks: Iterable[bytes], budget: Budget) -> None:
        self._chunks: Iterator[bytes] = iter(chunks)
        self._buffer = b""
        self._budget = budget
        self._hash = hashlib.sha256()
        self.exhausted = False

    def read(self, size: int = -1) -> bytes:
        while (size < 0 or len(self._buffer) < size) and not self.exhausted:
            chunk = next(self._chunks, None)
            if chunk is None:
                self.exhausted = True
                break
            self._budget.spend(len(chunk))
            self._hash.update(chunk)
            self._buffer += chunk
        cut = len(self._buffer) if size < 0 else size
        data, self._buffer = self._buffer[:cut], self._buffer[cut:]
        return data

    def check(self, digest: str) -> None:
        """At the end of a layer read in full: its bytes must hash to its digest."""
        if digest.startswith("sha256:") and f"sha256:{self._hash.hexdigest()}" != digest:
            raise RegistryError(DIGEST_MISMATCH)


def normalize(name: str) -> str:
    """A tar member name as an image path without the leading slash (`etc/passwd`)."""
    path = posixpath.normpath("/" + name.lstrip("/")).lstrip("/")
    return "" if path == "." else path


@dataclass
class Overlay:
    """What the layers above the one being read decided.

    `files`: wanted path -> its bytes (first 64 KB, plus one to tell it was cut), or None
    when it is whited out or not a regular file.
    """

    wanted: set[str]
    capabilities_wanted: bool
    files: dict[str, bytes | None] = field(default_factory=dict)
    links: dict[str, str] = field(default_factory=dict)  # wanted symlink -> target path
    capabilities: list[str] = field(default_factory=list)
    hidden: set[str] = field(default_factory=set)  # paths a higher layer holds or removed
    hidden_trees: set[str] = field(default_factory=set)  # folders whose lower parts are gone

    def done(self) -> bool:
        return not self.capabilities_wanted and self.wanted <= set(self.files)

    def is_hidden(self, path: str) -> bool:
        if path in self.hidden:
            return True
        parts = path.split("/")
        return any("/".join(parts[:n]) in self.hidden_trees for n in range(1, len(parts)))

    def absorb(self, layer: LayerScan) -> None:
        for path, data in layer.files.items():
            self.files.setdefault(path, data)
        for path, target in layer.links.items():
            self.links.setdefault(path, target)
            if len(self.links) <= MAX_LINK_HOPS and target not in self.files:
                self.wanted.add(target)
        room = MAX_CAPABILITY_PATHS - len(self.capabilities)
        self.capabilities.extend(layer.capabilities[: max(room, 0)])
        self.hidden |= layer.seen
        self.hidden_trees |= layer.removed_trees


@dataclass
class LayerScan:
    """One layer's findings, merged into the overlay only once the layer is read (so a
    retried request never counts half a layer twice)."""

    files: dict[str, bytes | None] = field(default_factory=dict)
    links: dict[str, str] = field(default_factory=dict)
    capabilities: list[str] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    removed_trees: set[str] = field(default_factory=set)

    def wanted(self, overlay: Overlay) -> set[str]:
        """The overlay's wanted paths plus targets of wanted links met in this layer."""
        return overlay.wanted | set(self.links.values())


def scan_layer(reader: ChunkReader, mode: str, overlay: Overlay, scan: LayerScan) -> bool:
    """Walk one layer's tar stream into `scan`; stop early once the overlay plus this
    layer answer everything wanted. True when the whole stream was walked. Raises
    `tarfile.TarError` for a stream that is not a tar."""
    with tarfile.open(fileobj=reader, mode=mode) as tar:  # type: ignore[call-overload]
        for member in tar:
            path = normalize(member.name)
            if not path or overlay.is_hidden(path):
                continue
            _visit(tar, member, path, overlay, scan)
            if not overlay.capabilities_wanted and scan.wanted(overlay) <= {
                *overlay.files,
                *scan.files,
            }:
                return False
    return True


def _visit(
    tar: tarfile.TarFile, member: tarfile.TarInfo, path: str, overlay: Overlay, scan: LayerScan
) -> None:
    folder, _, base = path.rpartition("/")
    if base == OPAQUE:
        scan.removed_trees.add(folder)
        return
    if base.startswith(WHITEOUT):
        target = f"{folder}/{base[len(WHITEOUT) :]}" if folder else base[len(WHITEOUT) :]
        scan.seen.add(target)
        scan.removed_trees.add(target)
        if target in overlay.wanted:
            scan.files.setdefault(target, None)
        return
    scan.seen.add(path)
    if member.isdir():
        return
    if member.isreg() and CAPABILITY_XATTR in member.pax_headers and overlay.capabilities_wanted:
        scan.capabilities.append("/" + path)
    if path in scan.files or path not in scan.wanted(overlay):
        return
    if member.issym():
        target = posixpath.join(posixpath.dirname("/" + path), member.linkname)
        scan.links[path] = normalize(target)
        scan.files[path] = None
    elif member.isreg():
        handle = tar.extractfile(member)
        scan.files[path] = handle.read(TEXT_LIMIT + 1) if handle is not None else None
    else:
        scan.files[path] = None  # a hard link, device or fifo: nothing we can read here


def resolve_link(overlay: Overlay, path: str) -> bytes | None:
    """The bytes that answer for `path`, following wanted symlinks (bounded)."""
    for _ in range(MAX_LINK_HOPS):
        if path not in overlay.links:
            break
        path = overlay.links[path]
    return overlay.files.get(path)
