"""Bytes written in order and copied out once: a run's cache entries, results and printed
output, kept until the run ends without holding a large run's worth in memory.

The first ``memory`` bytes stay in memory (a small run writes no extra file); past that,
everything moves to an unnamed temporary file in the cache folder (``O_TMPFILE`` on Linux:
it has no name, so a run that is killed leaves nothing behind), and memory stays flat
however many files the run sees. Nothing goes outside the folder it is given (the cache,
inside the project unless ``--cache-dir`` says otherwise).
"""

from __future__ import annotations

import io
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO

#: Bytes kept in memory before the spool moves to a file.
MEMORY = 4 * 1024 * 1024
_PIECE = 1 << 20


class Spool:
    """An append-only byte buffer that moves to a temporary file in ``folder`` when it
    grows. ``prepare(folder)`` runs first (it creates the folder). A write that fails
    (no such folder, a full disk) is remembered in ``failed`` and ends the spool: what it
    held is no use incomplete."""

    def __init__(
        self,
        folder: Path | None,
        prepare: Callable[[Path], None] | None = None,
        memory: int = MEMORY,
    ) -> None:
        #: Where the file goes; None: memory only until a folder is given.
        self.folder = folder
        self.prepare = prepare
        self._memory = memory
        self._buffer: io.BytesIO | None = io.BytesIO()
        self._file: IO[bytes] | None = None
        self.size = 0
        self.failed: OSError | None = None

    def write(self, data: bytes) -> None:
        if self.failed is not None:
            return
        self.size += len(data)
        try:
            if self._file is None and self.size > self._memory and self.folder is not None:
                self._move_to_file(self.folder)
            if self._file is not None:
                self._file.write(data)
            elif self._buffer is not None:
                self._buffer.write(data)
        except OSError as exc:
            self._fail(exc)

    def _move_to_file(self, folder: Path) -> None:
        if self.prepare is not None:
            self.prepare(folder)
        handle = tempfile.TemporaryFile(dir=folder)  # noqa: SIM115 (open until close())
        if self._buffer is not None:
            handle.write(self._buffer.getbuffer())
            self._buffer = None
        self._file = handle

    def _fail(self, exc: OSError) -> None:
        self.failed = exc
        self.close()

    def copy_to(self, out: IO[bytes]) -> None:
        """Everything written, in order, into ``out``."""
        if self._file is not None:
            self._file.flush()
            self._file.seek(0)
            shutil.copyfileobj(self._file, out, _PIECE)
            self._file.seek(0, io.SEEK_END)
        elif self._buffer is not None:
            out.write(self._buffer.getbuffer())

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        self._buffer = None
