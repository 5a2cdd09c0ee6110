"""Safe in-place writes: below a root, never through a symlink, atomic, mode kept.

The folder is opened one component at a time from the root with ``O_NOFOLLOW``, and every
later step works relative to that folder's descriptor, so a link swapped in after the checks
cannot redirect the write. The temp file (``.<name>.<random>.tighten``) is created with
``O_EXCL | O_NOFOLLOW`` next to the file, written, fsynced and renamed over it.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import re
import secrets
import stat
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


class WriteError(OSError):
    """A file could not be written; the message is one line for the user."""


class LinkedPath(WriteError):
    """The path is a symlink, or leads through one out of the root: reported, not written."""


class _MissingFolder(WriteError):
    """A folder on the way does not exist (yet)."""


@dataclass(frozen=True)
class Written:
    """What a write did besides writing (each a notice for the user)."""

    notices: tuple[str, ...] = ()


#: Our temp files (``tempfile.mkstemp`` made the older ones: 8 characters of [a-z0-9_]).
TEMP_NAME = re.compile(r"\..+\.[A-Za-z0-9_]{8}\.tighten", re.DOTALL)
#: A temp file younger than this may belong to a run that is still writing it.
STALE_AFTER = 5.0
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_swept: set[tuple[int, int]] = set()  # folders cleaned in this process: once per run


def write_atomic(
    path: Path,
    data: bytes,
    *,
    root: Path | None = None,
    expected: bytes | None = None,
    new_mode: int | None = None,
    private: bool = False,
    make_parents: bool = False,
) -> Written:
    """Replace ``path`` (below ``root``) by ``data``: a reader or a crash sees all old or all new.

    Refused (``WriteError``, file untouched): a symlink at ``path`` (``LinkedPath``), a
    folder between ``root`` and ``path`` that leads out of ``root``, a file that is not a
    regular file, or one with several hard links (replacing it would split them, and the
    other name may lie outside ``root``: writing in place would change it there).

    With ``expected``, refuse when the file no longer holds those bytes: someone changed it
    between our read and this write, and their change must not be lost. ``new_mode`` is the
    mode of a file that does not exist yet; ``private`` (a generated Secret) forces 0o600
    whether or not the file existed. The temp file is created 0o600, so the content is never
    readable by others, not even for an instant. ``make_parents`` creates missing folders
    below ``root``, without following links. Without ``root``, the file's own folder is the
    root: the file itself is still never written through a link.
    """
    notices: list[str] = []
    with _open_folder(path, root or path.parent, create=make_parents) as folder:
        name = path.name
        st = _existing(folder, name)
        _check_writable(folder, st)
        if expected is not None and _read(folder, name) != expected:
            raise WriteError("changed on disk while tighten was running; not overwritten")
        removed = sweep_stale_temps(folder)
        if removed:
            notices.append(f"removed {removed} stale temp file{'s' * (removed != 1)} (.*.tighten)")
        if private:
            mode = 0o600
            if st is not None and stat.S_IMODE(st.st_mode) != mode:
                old = stat.S_IMODE(st.st_mode)
                notices.append(f"mode changed from {old:04o} to 0600: it holds secret values")
        elif st is not None:
            mode = stat.S_IMODE(st.st_mode)
        else:
            mode = new_mode if new_mode is not None else 0o666 & ~_umask()
        _replace(folder, name, data, mode, st)
    return Written(tuple(notices))


def check_target(path: Path, *, root: Path) -> None:
    """Raise what ``write_atomic`` would raise before writing (nothing is written): lets a
    caller refuse a fix before any of its files changes. Missing folders are fine."""
    try:
        with _open_folder(path, root, create=False) as folder:
            _check_writable(folder, _existing(folder, path.name))
    except _MissingFolder:
        return


@contextlib.contextmanager
def _open_folder(path: Path, root: Path, *, create: bool) -> Iterator[int]:
    """A descriptor of ``path``'s folder, opened from ``root`` without following links."""
    real_root = os.path.realpath(root)
    lexical = Path(os.path.abspath(path)).parent
    _refuse_escapes(lexical, Path(os.path.abspath(root)), real_root)
    real = os.path.realpath(lexical)
    relative = os.path.relpath(real, real_root)
    if relative == os.pardir or relative.startswith(os.pardir + os.sep):
        raise LinkedPath(f"leads outside {root} through a symlink; not modified")
    if create:
        os.makedirs(real_root, exist_ok=True)  # the root itself is the user's choice
    try:
        fd = os.open(real_root, _DIR_FLAGS)
    except FileNotFoundError:
        raise _MissingFolder(f"folder {root} does not exist") from None
    except OSError as exc:
        raise WriteError(_reason(exc)) from None
    try:
        for part in () if relative == os.curdir else relative.split(os.sep):
            parent, fd = fd, -1  # _enter closes the parent, even when it fails
            fd = _enter(parent, part, create)
        yield fd
    finally:
        if fd >= 0:
            os.close(fd)


def _refuse_escapes(lexical: Path, root: Path, real_root: str) -> None:
    """Every folder between ``root`` and ``lexical`` must resolve inside the root: a
    committed link out of the repository must not be written through, even when a second
    link leads back in."""
    if lexical != root and root not in lexical.parents:
        raise WriteError(f"outside {root}; not modified")
    for depth in range(len(root.parts) + 1, len(lexical.parts) + 1):
        prefix = Path(*lexical.parts[:depth])
        if not os.path.islink(prefix):
            continue
        inside = os.path.relpath(os.path.realpath(prefix), real_root)
        if inside == os.pardir or inside.startswith(os.pardir + os.sep):
            raise LinkedPath(
                f"folder {prefix.name} is a symlink leading outside {root}; not modified "
                "(name the target to fix it)"
            )


def _enter(fd: int, part: str, create: bool) -> int:
    """The descriptor of folder ``part`` inside ``fd`` (``fd`` is closed either way)."""
    try:
        try:
            child = os.open(part, _DIR_FLAGS, dir_fd=fd)
        except FileNotFoundError:
            if not create:
                raise _MissingFolder(f"folder {part} does not exist") from None
            with contextlib.suppress(FileExistsError):
                os.mkdir(part, 0o777, dir_fd=fd)
            child = os.open(part, _DIR_FLAGS, dir_fd=fd)
    except _MissingFolder:
        raise
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            raise LinkedPath(f"folder {part} changed into a symlink; not modified") from None
        raise WriteError(_reason(exc)) from None
    finally:
        os.close(fd)
    return child


def _existing(folder: int, name: str) -> os.stat_result | None:
    try:
        st = os.lstat(name, dir_fd=folder)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise WriteError(_reason(exc)) from None
    if stat.S_ISLNK(st.st_mode):
        try:
            target = os.readlink(name, dir_fd=folder)
        except OSError:
            target = "?"
        raise LinkedPath(f"symlink to {target}; not modified (name the target to fix it)")
    if not stat.S_ISREG(st.st_mode):
        raise WriteError("not a regular file; not modified")
    if st.st_nlink > 1:
        raise WriteError(
            f"has {st.st_nlink} hard links; not modified (replacing it would split them)"
        )
    return st


def _check_writable(folder: int, st: os.stat_result | None) -> None:
    # Root bypasses permission bits; honour them anyway, as the user's intent.
    if st is not None and not st.st_mode & 0o222:
        raise WriteError("file is read-only; not modified")
    folder_mode = os.fstat(folder).st_mode
    if not folder_mode & 0o222 or not os.access(".", os.W_OK, dir_fd=folder):
        raise WriteError("folder is read-only; not modified")


def _read(folder: int, name: str) -> bytes | None:
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=folder)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise WriteError(_reason(exc)) from None
    with os.fdopen(fd, "rb") as handle:
        return handle.read()


def _replace(folder: int, name: str, data: bytes, mode: int, st: os.stat_result | None) -> None:
    tmp = f".{name}.{secrets.token_hex(4)}.tighten"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        fd = os.open(tmp, flags, 0o600, dir_fd=folder)
    except OSError as exc:
        raise WriteError(f"cannot write: {_reason(exc)}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)  # tells a sweeper it is in use
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
            os.fchmod(handle.fileno(), mode)
            if st is not None and (st.st_uid, st.st_gid) != (os.getuid(), os.getgid()):
                with contextlib.suppress(OSError):
                    os.fchown(handle.fileno(), st.st_uid, st.st_gid)
            os.replace(tmp, name, src_dir_fd=folder, dst_dir_fd=folder)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp, dir_fd=folder)
        raise WriteError(f"cannot write: {_reason(exc)}") from None


def sweep_stale_temps(folder: int) -> int:
    """Remove temp files a killed run left in ``folder`` (once per folder per process).

    Only names of our own pattern, only regular files, only ones older than
    ``STALE_AFTER`` seconds and not locked by a run still writing them. Returns how many.
    """
    here = os.fstat(folder)
    if (here.st_dev, here.st_ino) in _swept:
        return 0
    _swept.add((here.st_dev, here.st_ino))
    removed = 0
    now = time.time()
    for name in os.listdir(folder):
        if not name.endswith(".tighten") or not TEMP_NAME.fullmatch(name):
            continue
        with contextlib.suppress(OSError):
            st = os.lstat(name, dir_fd=folder)
            old = stat.S_ISREG(st.st_mode) and now - st.st_mtime > STALE_AFTER
            if old and _unlocked(folder, name):
                os.unlink(name, dir_fd=folder)
                removed += 1
    return removed


def _unlocked(folder: int, name: str) -> bool:
    fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=folder)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)  # closing releases the lock
    return True


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _reason(exc: OSError) -> str:
    if isinstance(exc, PermissionError):
        return "permission denied"
    return exc.strerror or str(exc)
