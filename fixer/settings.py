"""Run settings: one frozen value made of frozen groups, built by the CLI from the flags
and the config file (``fixer.options`` says which option fills which field)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from enum import Enum
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

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


class FailureThreshold(Choice):
    """The least severity of a finding that fails the run (hadolint's
    ``--failure-threshold``); ``none``: findings never do, errors still exit 2."""

    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"
    NONE = "none"


@dataclass(frozen=True)
class Selection:
    """Which rules run on which files."""

    select: frozenset[str] | None = None
    ignore: frozenset[str] = frozenset()
    exclude: tuple[str, ...] = ()
    #: Also check files found while walking that are not the user's source: test data
    #: (``testdata/``, ``test/fixtures/``), vendored code and generated files.
    include_generated: bool = False
    #: ``exclude`` (and, with ``respect_gitignore``, git's ignore list) also drops files
    #: named on the command line (ruff's ``--force-exclude``; pre-commit passes names).
    force_exclude: bool = False
    #: Walking a folder in a git work tree skips what git ignores.
    respect_gitignore: bool = True
    per_path_ignores: tuple[tuple[str, frozenset[str]], ...] = ()
    config_root: Path | None = None  # per-path globs are relative to the config file's folder

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


@dataclass(frozen=True)
class Fixes:
    """Which fixes are applied."""

    safe_only: bool = False
    #: Apply UNPROVEN fixes too (ruff's ``--unsafe-fixes``).
    unsafe_fixes: bool = False
    #: False when fixes must not write other files (stdin mode): those fixes are skipped.
    side_files: bool = True


@dataclass(frozen=True)
class User:
    """The non-root user DF001 adds and K8S002 runs as."""

    uid: int = 10001
    gid: int = 10001


@dataclass(frozen=True)
class Kubernetes:
    profile: Profile = Profile.RESTRICTED


@dataclass(frozen=True)
class Dockerfile:
    tools: tuple[str, ...] = DEFAULT_TOOLS


@dataclass(frozen=True)
class Secrets:
    """How DF004/K8S004 find secrets and where the Secret manifests go."""

    secret_patterns: tuple[str, ...] = ()
    secrets_dir: Path | None = None
    sealed_secrets_cert: Path | None = None  # kubeseal --fetch-cert output


@dataclass(frozen=True)
class Pinning:
    """DF002/K8S003 and the registry look-ups."""

    pin: PinPolicy = PinPolicy.LATEST
    platform: str | None = None
    mirrors: tuple[tuple[str, str], ...] = ()
    jobs: int = 8
    offline: bool = False
    lock: bool = False
    lock_file: Path = Path("tighten.lock")
    #: Also read image layers (capped, streamed) for /etc/passwd, the entrypoint script
    #: and file capabilities; off by default because layers are large.
    inspect_layers: bool = False


@dataclass(frozen=True)
class Output:
    """What fails the run: the exit code, not what is printed."""

    #: Exit 0 even when findings remain (ruff's ``--exit-zero``); errors still exit 2.
    exit_zero: bool = False
    #: Findings of a rule below this severity do not fail the run.
    failure_threshold: FailureThreshold = FailureThreshold.NOTE


@dataclass(frozen=True)
class Caching:
    """The result cache of ``check`` (``fixer.cache``)."""

    cache: bool = True
    #: None: ``.tighten_cache`` at the project root.
    cache_dir: Path | None = None


#: Fields whose value is a closed set: a word from a test or a fixture becomes the enum.
_CHOICES: dict[str, type[Choice]] = {
    "profile": Profile,
    "pin": PinPolicy,
    "failure_threshold": FailureThreshold,
}


@dataclass(frozen=True)
class Settings:
    """Everything a run needs to know, grouped by concern; rules read it through their
    context (``ctx.settings.pinning.platform``)."""

    selection: Selection = field(default_factory=Selection)
    fixes: Fixes = field(default_factory=Fixes)
    user: User = field(default_factory=User)
    kubernetes: Kubernetes = field(default_factory=Kubernetes)
    dockerfile: Dockerfile = field(default_factory=Dockerfile)
    secrets: Secrets = field(default_factory=Secrets)
    pinning: Pinning = field(default_factory=Pinning)
    output: Output = field(default_factory=Output)
    caching: Caching = field(default_factory=Caching)

    @classmethod
    def of(cls, values: Mapping[str, Any] = MappingProxyType({}), /, **more: Any) -> Settings:
        """Settings from field values named ``group.field`` or, since field names are
        unique across groups, just ``field`` (``Settings.of(select=..., offline=True)``)."""
        return cls().with_values({**values, **more})

    def with_values(self, values: Mapping[str, Any]) -> Settings:
        """These settings with some fields replaced (names as in ``of``)."""
        groups: dict[str, dict[str, Any]] = {}
        for name, value in values.items():
            group, key = _locate(name)
            choice = _CHOICES.get(key)
            groups.setdefault(group, {})[key] = choice(value) if choice else value
        changed = {g: replace(getattr(self, g), **kv) for g, kv in groups.items()}
        return replace(self, **changed)

    def value(self, name: str) -> Any:
        """One field's value (names as in ``of``)."""
        group, key = _locate(name)
        return getattr(getattr(self, group), key)

    def without_side_files(self) -> Settings:
        return replace(self, fixes=replace(self.fixes, side_files=False))


def _locate(name: str) -> tuple[str, str]:
    """``group.field`` (or a bare ``field``) -> (group, field); unknown names raise."""
    group, dot, key = name.rpartition(".")
    if dot:
        if key not in _group_fields().get(group, ()):
            raise TypeError(f"Settings has no field {name!r}")
        return group, key
    owners = [g for g, keys in _group_fields().items() if key in keys]
    if len(owners) != 1:
        raise TypeError(f"Settings has no field {name!r}")
    return owners[0], key


@cache
def _group_fields() -> dict[str, frozenset[str]]:
    defaults = Settings()
    return {
        group.name: frozenset(f.name for f in fields(getattr(defaults, group.name)))
        for group in fields(Settings)
    }


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
