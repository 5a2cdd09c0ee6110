"""Reading a file the user pointed at, without trusting what it is.

A FIFO named ``Dockerfile`` would block ``open`` forever, a link to ``/dev/zero`` would be
read until memory runs out, and a file may grow between ``stat`` and ``read``. So: open
without blocking, check on the open descriptor that it is a regular file, and never read
more than the cap allows.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

#: Files larger than this are refused: real manifests and Dockerfiles are far smaller.
MAX_BYTES = 10 * 1024 * 1024
#: Read at most this much at a time once past the size ``fstat`` gave.
_CHUNK = 1024 * 1024
_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)  # opening a FIFO must not wait for a writer
    | getattr(os, "O_NOCTTY", 0)  # a terminal device must not become ours
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)


class Refused(OSError):
    """The file is not one tighten reads: not a regular file, or too large."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.strerror = reason


def read_regular(path: Path | str, most: int) -> bytes:
    """Up to ``most`` bytes of the regular file at ``path`` (raises ``OSError``, ``Refused``
    for anything but a regular file)."""
    return _read(path, most, refuse_above=None)


def read_capped(path: Path | str, cap: int = MAX_BYTES) -> bytes:
    """The whole regular file at ``path``, refused when larger than ``cap``: at most
    ``cap + 1`` bytes are ever read, whatever its size claims or becomes."""
    data = _read(path, cap + 1, refuse_above=cap)
    if len(data) > cap:
        raise Refused(_too_large(cap))
    return data


def _read(path: Path | str, most: int, *, refuse_above: int | None) -> bytes:
    fd = os.open(path, _FLAGS)
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError(21, "is a directory", str(path))
        if not stat.S_ISREG(info.st_mode):
            raise Refused("not a regular file")
        if refuse_above is not None and info.st_size > refuse_above:
            raise Refused(_too_large(refuse_above))  # without reading it
        # Asking for the size the file has (and a byte more, to see it grew) spares each
        # read a buffer of the largest chunk and the second call that finds the end: a
        # read that returns exactly that size has reached it.
        size = info.st_size
        want = size + 1 if size > 0 else _CHUNK
        chunks: list[bytes] = []
        left = most
        while left > 0:
            chunk = os.read(fd, min(left, want))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
            if len(chunk) == size and len(chunks) == 1:
                break
            want = _CHUNK
        return b"".join(chunks)
    finally:
        os.close(fd)


def _too_large(cap: int) -> str:
    size = f"{cap // (1024 * 1024)} MB" if cap >= 1024 * 1024 else f"{cap} bytes"
    return f"refused: larger than {size}"
