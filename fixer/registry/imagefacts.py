"""`ImageFacts`: the evidence about one image (config, and optionally its layers) that a
behaviour-changing fix is judged by. Pure values and parsers; reading happens in
`inspect.py`, caching in `factslock.py`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .imageconfig import ImageConfig

MAX_ACCOUNTS = 1024
MAX_ID = 2**32 - 1
MAX_CAPABILITY_PATHS = 1024
_NAME = re.compile(r"[A-Za-z0-9_.][A-Za-z0-9_.\-]{0,63}\$?")

#: Signals in an entrypoint that an image starts as root and steps down (or supervises).
STEP_DOWN = ("gosu", "su-exec", "setpriv", "runuser", "chroot", "s6", "supervisord", "su")
_STEP_DOWN = re.compile(
    r"(?<![\w.\-/])(?:[\w./\-]*/)?"
    r"(gosu|su-exec|setpriv|runuser|chroot|supervisord|s6-[a-z][\w\-]*|su)"
    r"(?![\w.\-])"
)
_SU_FOLLOWED = re.compile(r"\s")


def valid_name(value: object) -> bool:
    return isinstance(value, str) and bool(_NAME.fullmatch(value))


def valid_id(value: object) -> bool:
    return type(value) is int and 0 <= value <= MAX_ID


def parse_passwd(text: str) -> tuple[tuple[str, int, int], ...]:
    """`name:x:uid:gid:...` lines -> sorted (name, uid, gid); malformed lines are skipped,
    and the first line for a name wins (as getpwnam reads the file)."""
    found: dict[str, tuple[int, int]] = {}
    for line in text.splitlines():
        fields = line.split(":")
        if len(fields) < 4 or fields[0] in found or not valid_name(fields[0]):
            continue
        uid, gid = _number(fields[2]), _number(fields[3])
        if uid is not None and gid is not None:
            found[fields[0]] = (uid, gid)
        if len(found) >= MAX_ACCOUNTS:
            break
    return tuple(sorted((name, uid, gid) for name, (uid, gid) in found.items()))


def parse_group(text: str) -> tuple[tuple[str, int], ...]:
    """`name:x:gid:members` lines -> sorted (name, gid)."""
    found: dict[str, int] = {}
    for line in text.splitlines():
        fields = line.split(":")
        if len(fields) < 3 or fields[0] in found or not valid_name(fields[0]):
            continue
        gid = _number(fields[2])
        if gid is not None:
            found[fields[0]] = gid
        if len(found) >= MAX_ACCOUNTS:
            break
    return tuple(sorted(found.items()))


def _number(text: str) -> int | None:
    if not text.isascii() or not text.isdigit() or len(text) > 10:
        return None
    value = int(text)
    return value if value <= MAX_ID else None


def step_down_signals(text: str) -> tuple[str, ...]:
    """Which `STEP_DOWN` programs a script (or a command line) calls, comments ignored.
    `su` counts only when followed by an argument (`su postgres -c ...`)."""
    found: set[str] = set()
    for line in text.splitlines():
        code = line.strip()
        if not code or code.startswith("#"):
            continue
        for match in _STEP_DOWN.finditer(code):
            word = match.group(1)
            if word == "su" and not _SU_FOLLOWED.match(code[match.end() : match.end() + 1]):
                continue
            found.add("s6" if word.startswith("s6-") else word)
    return tuple(s for s in STEP_DOWN if s in found)


@dataclass(frozen=True)
class LayerFacts:
    """What the layers said. `users`: /etc/passwd as (name, uid, gid); `groups`:
    /etc/group as (name, gid); `entrypoint`: the script file the container starts, when
    found; `entrypoint_text`: its first 64 KB (this run only: never cached, it may hold
    secrets); `steps_down`: `STEP_DOWN` signals in it; `capabilities`: files carrying
    `security.capability`. `complete` is False when a cap, the deadline or an unreadable
    layer cut the read: then a missing answer means "unknown", not "absent"."""

    users: tuple[tuple[str, int, int], ...] = ()
    groups: tuple[tuple[str, int], ...] = ()
    entrypoint: str | None = None
    entrypoint_text: str | None = None
    steps_down: tuple[str, ...] = ()
    capabilities: tuple[str, ...] = ()
    complete: bool = True
    notices: tuple[str, ...] = ()

    def account(self, name: str) -> tuple[int, int] | None:
        for user, uid, gid in self.users:
            if user == name:
                return uid, gid
        return None

    def group_id(self, name: str) -> int | None:
        return dict(self.groups).get(name)


@dataclass(frozen=True)
class ImageFacts:
    """Evidence about one image for one platform. `source` is "registry" or "lockfile"."""

    digest: str
    platform: str
    config: ImageConfig
    layers: LayerFacts | None = None  # None: the layers were not read
    source: str = "registry"

    @property
    def user(self) -> str | None:
        return self.config.user

    @property
    def uid(self) -> int | None:
        """The numeric user the image starts as: from the config (no User means root,
        uid 0), or a named user resolved through the image's /etc/passwd."""
        return self._ids()[0]

    @property
    def gid(self) -> int | None:
        return self._ids()[1]

    @property
    def uid_source(self) -> str | None:
        """Where `uid` came from: "config", "/etc/passwd", or None when unknown."""
        return self._ids()[2]

    @property
    def steps_down(self) -> tuple[str, ...]:
        """Signals that the image starts as root on purpose and steps down: in the
        Entrypoint/Cmd themselves, or in the entrypoint script read from the layers."""
        found = set(step_down_signals(" ".join(self.config.argv)))
        if self.layers is not None:
            found.update(self.layers.steps_down)
        return tuple(s for s in STEP_DOWN if s in found)

    @property
    def capabilities(self) -> tuple[str, ...]:
        return self.layers.capabilities if self.layers is not None else ()

    def _ids(self) -> tuple[int | None, int | None, str | None]:
        if self.config.user is None:
            return None, None, None
        name, _, group = self.config.user.partition(":")
        if name == "" or name.isdigit():
            uid = int(name) if name else 0
            return uid, self._group(group, None), "config"
        account = self.layers.account(name) if self.layers is not None else None
        if account is None:
            return None, None, None
        return account[0], self._group(group, account[1]), "/etc/passwd"

    def _group(self, group: str, primary: int | None) -> int | None:
        if group.isdigit():
            return int(group)
        if group and self.layers is not None:
            return self.layers.group_id(group)
        return primary if not group else None
