"""`ImageConfig`: what an image's config blob says about how it runs. Pure functions.

The config is registry input, and the same values are later read back from a lockfile
that may be hostile, so one set of checks (`valid_*`) decides what is kept on both paths:
a value that fails them is dropped when reading the registry and refused when reading the
lockfile. Environment *values* are never kept (they can hold secrets): only the names.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MAX_ARGS = 64
MAX_ARG = 4096
MAX_LABELS = 128
MAX_LABEL_KEY = 256
MAX_LABEL_VALUE = 1024
MAX_PORTS = 128
MAX_ENV = 256
MAX_PATH = 4096
MAX_USER = 256

_PORT = re.compile(r"[0-9]{1,5}(/(tcp|udp|sctp))?")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]{0,255}")
_USER = re.compile(r"[A-Za-z0-9_.$@\-]*(:[A-Za-z0-9_.$@\-]*)?")
# The PATH of nearly every Linux image; the config's own PATH *value* is not read.
DEFAULT_PATH = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")
_WRAPPERS = frozenset({"tini", "tini-static", "dumb-init", "catatonit", "docker-init"})
_SHELLS = frozenset({"sh", "bash", "ash", "dash", "zsh", "ksh"})


def valid_text(value: object, limit: int, *, newlines: bool = False) -> bool:
    """A string with no control characters (tabs and newlines allowed when asked)."""
    if not isinstance(value, str) or len(value) > limit:
        return False
    text = value.replace("\n", "").replace("\t", "") if newlines else value
    return text.isprintable()


def valid_user(value: object) -> bool:
    return valid_text(value, MAX_USER) and bool(_USER.fullmatch(str(value)))


def valid_port(value: object) -> bool:
    if not isinstance(value, str) or not _PORT.fullmatch(value):
        return False
    return 0 < int(value.split("/")[0]) <= 65535


def valid_env_name(value: object) -> bool:
    return isinstance(value, str) and bool(_ENV_NAME.fullmatch(value))


def valid_path(value: object) -> bool:
    """An absolute, normalised path (`/usr/bin/ping`)."""
    if not valid_text(value, MAX_PATH) or not str(value).startswith("/"):
        return False
    return posixpath.normpath(str(value)) == value


def valid_argv(value: object) -> bool:
    return (
        isinstance(value, (list, tuple))
        and len(value) <= MAX_ARGS
        and all(valid_text(arg, MAX_ARG, newlines=True) for arg in value)
    )


def valid_label(key: object, value: object) -> bool:
    return valid_text(key, MAX_LABEL_KEY) and valid_text(value, MAX_LABEL_VALUE)


@dataclass(frozen=True)
class ImageConfig:
    """`user` is the config's `User` ("" for none, i.e. root; None when it was unusable);
    `entrypoint`/`cmd` are None when unset. Labels are sorted (key, value) pairs."""

    user: str | None = ""
    entrypoint: tuple[str, ...] | None = None
    cmd: tuple[str, ...] | None = None
    exposed_ports: tuple[str, ...] = ()
    labels: tuple[tuple[str, str], ...] = ()
    working_dir: str = ""
    env_names: tuple[str, ...] = ()

    @classmethod
    def from_config(cls, blob: Mapping[str, Any]) -> ImageConfig:
        """From the config blob (`{"config": {"User": ...}, "os": ...}`); unusable values
        are dropped, never passed on."""
        config = blob.get("config")
        if not isinstance(config, dict):
            return cls()
        user = config.get("User") or ""
        env = _of(config, "Env", list)
        names = (str(item).partition("=")[0] for item in env if isinstance(item, str))
        labels = _of(config, "Labels", dict)
        ports = _of(config, "ExposedPorts", dict)
        workdir = config.get("WorkingDir") or ""
        pairs = sorted((k, v) for k, v in labels.items() if valid_label(k, v))
        return cls(
            user=user if valid_user(user) else None,
            entrypoint=_argv(config.get("Entrypoint")),
            cmd=_argv(config.get("Cmd")),
            exposed_ports=tuple(sorted(p for p in ports if valid_port(p)))[:MAX_PORTS],
            labels=tuple(pairs[:MAX_LABELS]),
            working_dir=workdir if valid_text(workdir, MAX_PATH) else "",
            env_names=tuple(sorted({n for n in names if valid_env_name(n)}))[:MAX_ENV],
        )

    @property
    def argv(self) -> tuple[str, ...]:
        """What the container runs: Entrypoint followed by Cmd."""
        return (*(self.entrypoint or ()), *(self.cmd or ()))

    def label(self, key: str) -> str | None:
        return dict(self.labels).get(key)

    def script_candidates(self) -> tuple[str, ...]:
        """Paths (absolute) where the program the container starts may live, in the order
        a shell would find it: an init wrapper (`tini --`) and a shell running a script
        (`sh /entry.sh`) are looked through; `sh -c '...'` names no file."""
        program = _program(self.argv)
        if program is None:
            return ()
        if "/" in program:
            base = program if program.startswith("/") else f"{self.working_dir or '/'}/{program}"
            return (posixpath.normpath("/" + base.lstrip("/")),)
        return tuple(f"{folder}/{program}" for folder in DEFAULT_PATH)


def _of(config: Mapping[str, Any], key: str, kind: type[Any]) -> Any:
    value = config.get(key)
    return value if isinstance(value, kind) else kind()


def _argv(value: object) -> tuple[str, ...] | None:
    if isinstance(value, str):  # a shell-form value some builders write as a string
        value = [value]
    if not isinstance(value, list) or not valid_argv(value):
        return None
    return tuple(value)


def _program(argv: tuple[str, ...]) -> str | None:
    words = list(argv)
    while words and posixpath.basename(words[0]) in _WRAPPERS:
        words.pop(0)
        while words and words[0].startswith("-"):  # `tini -g --`
            words.pop(0)
    if words and posixpath.basename(words[0]) in _SHELLS:
        rest = words[1:]
        if not rest or rest[0].startswith("-"):
            return None  # `sh -c '...'` or an interactive shell: no script file
        return rest[0]
    return words[0] if words and words[0] else None
