"""Run settings: one frozen value built by the CLI (and later the config file)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from pathlib import Path

#: Network and debug tools DF003 strips from the shipped stage.
DEFAULT_TOOLS = (
    "curl",
    "curl-minimal",
    "wget",
    "openssh-client",
    "openssh-server",
    "openssh-clients",
    "openssh",
    "ssh",
    "dropbear",
    "telnet",
    "inetutils-telnet",
    "busybox-extras",
    "netcat*",
    "ncat",
    "nmap-ncat",
    "nmap",
    "socat",
)


class Choice(str, Enum):
    """A closed set of words a flag or config key takes; prints as its word."""

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self.value), spec)


class Profile(Choice):
    """Pod Security Standards level K8S002 enforces."""

    BASELINE = "baseline"
    RESTRICTED = "restricted"
    STRICT = "strict"


class PinPolicy(Choice):
    """Which images DF002/K8S003 pin: ``latest`` and untagged ones, or every tag."""

    LATEST = "latest"
    ALL = "all"


class OutputFormat(Choice):
    TEXT = "text"
    JSON = "json"
    SARIF = "sarif"
    GITHUB = "github"


@dataclass(frozen=True)
class Settings:
    """Everything a run needs to know; rules read it through their context."""

    select: frozenset[str] | None = None
    ignore: frozenset[str] = frozenset()
    exclude: tuple[str, ...] = ()
    uid: int = 10001
    gid: int = 10001
    profile: str = "restricted"
    pin: str = "latest"  # "latest": only :latest/untagged; "all": every tag
    platform: str | None = None
    tools: tuple[str, ...] = DEFAULT_TOOLS
    secret_patterns: tuple[str, ...] = ()
    secrets_dir: Path | None = None
    safe_only: bool = False
    #: Apply UNPROVEN fixes too (ruff's ``--unsafe-fixes``).
    unsafe_fixes: bool = False
    mirrors: tuple[tuple[str, str], ...] = ()
    jobs: int = 8
    offline: bool = False
    lock: bool = False
    lock_file: Path = Path("tighten.lock")
    #: Also read image layers (capped, streamed) for /etc/passwd, the entrypoint script
    #: and file capabilities; off by default because layers are large.
    inspect_layers: bool = False
    per_path_ignores: tuple[tuple[str, frozenset[str]], ...] = ()
    config_root: Path | None = None  # per-path globs are relative to the config file's folder
    #: False when fixes must not write other files (stdin mode): those fixes are skipped.
    side_files: bool = True

    def without_side_files(self) -> Settings:
        from dataclasses import replace

        return replace(self, side_files=False)

    def rule_enabled(self, rule_id: str) -> bool:
        """``--select``/``--ignore`` take ids or prefixes (``DF`` means every DF rule)."""
        if _matches(rule_id, self.ignore):
            return False
        return self.select is None or _matches(rule_id, self.select)

    def rule_enabled_at(self, rule_id: str, path: Path) -> bool:
        """``rule_enabled`` plus the config file's ``per-file-ignores`` for ``path``."""
        if not self.rule_enabled(rule_id):
            return False
        if not self.per_path_ignores:
            return True
        rel = _relative(path, self.config_root)
        return not any(
            _matches(rule_id, codes)
            for glob, codes in self.per_path_ignores
            if _glob_match(rel, glob)
        )


def _relative(path: Path, root: Path | None) -> str:
    import os

    absolute = os.path.abspath(path)
    if root is not None:
        rel = os.path.relpath(absolute, os.path.abspath(root))
        if not rel.startswith(".."):
            return rel.replace(os.sep, "/")
    return str(path).replace(os.sep, "/")


def _glob_match(rel: str, glob: str) -> bool:
    import fnmatch

    base = rel.rsplit("/", 1)[-1]
    return (
        fnmatch.fnmatchcase(rel, glob)
        or fnmatch.fnmatchcase(base, glob)
        or fnmatch.fnmatchcase(rel, glob.rstrip("/") + "/*")
    )


def _matches(rule_id: str, codes: frozenset[str]) -> bool:
    return any(rule_id.startswith(code) for code in codes)
