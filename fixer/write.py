"""Atomic in-place writes: temp file in the same folder, fsync, ``os.replace``, mode kept."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path


class WriteError(OSError):
    """A file could not be written; the message is one line for the user."""


def write_atomic(
    path: Path, data: bytes, *, expected: bytes | None = None, new_mode: int | None = None
) -> None:
    """Replace ``path`` by ``data`` so that a reader (or a crash) sees all old or all new.

    With ``expected``, refuse when the file no longer holds those bytes: someone changed it
    between our read and this write, and their change must not be lost. ``new_mode`` is the
    mode of a file that does not exist yet (0o600 for generated Secrets): it is set on the
    temp file, so the content is never readable by others, not even for an instant.
    """
    target = Path(os.path.realpath(path))  # write through symlinks, keep the link
    try:
        st = target.stat()
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise WriteError(_reason(exc)) from None
    # Root bypasses permission bits; honour them anyway, as the user's intent.
    if st is not None and not st.st_mode & 0o222:
        raise WriteError("file is read-only; not modified")
    try:
        folder_mode = target.parent.stat().st_mode
    except OSError as exc:
        raise WriteError(_reason(exc)) from None
    if not folder_mode & 0o222 or not os.access(target.parent, os.W_OK):
        raise WriteError("folder is read-only; not modified")
    if expected is not None:
        try:
            current = target.read_bytes()
        except OSError as exc:
            raise WriteError(_reason(exc)) from None
        if current != expected:
            raise WriteError("changed on disk while tighten was running; not overwritten")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tighten", dir=target.parent)
    except OSError as exc:
        raise WriteError(f"cannot write: {_reason(exc)}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if st is not None:
            os.chmod(tmp, stat.S_IMODE(st.st_mode))
            if hasattr(os, "chown") and (st.st_uid, st.st_gid) != (os.getuid(), os.getgid()):
                with contextlib.suppress(OSError):
                    os.chown(tmp, st.st_uid, st.st_gid)
        else:
            os.chmod(tmp, new_mode if new_mode is not None else 0o666 & ~_umask())
        os.replace(tmp, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise WriteError(f"cannot write: {_reason(exc)}") from None


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _reason(exc: OSError) -> str:
    if isinstance(exc, PermissionError):
        return "permission denied"
    return exc.strerror or str(exc)
