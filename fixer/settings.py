"""Run settings: one frozen value built by the CLI (and later the config file)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

#: Network and debug tools DF003 strips from the shipped stage.
DEFAULT_TOOLS = (
    "curl",
    "wget",
    "openssh-client",
    "openssh-server",
    "openssh-clients",
    "openssh",
    "ssh",
    "dropbear",
    "telnet",
    "netcat*",
    "ncat",
    "nmap",
    "socat",
)

PROFILES = ("baseline", "restricted", "strict")


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
    mirrors: tuple[tuple[str, str], ...] = ()
    jobs: int = 8
    offline: bool = False
    lock: bool = False
    lock_file: Path = Path("tighten.lock")
    per_path_ignores: tuple[tuple[str, frozenset[str]], ...] = ()
    extra: dict[str, object] = field(default_factory=dict, compare=False, hash=False)

    def rule_enabled(self, rule_id: str) -> bool:
        """``--select``/``--ignore`` take ids or prefixes (``DF`` means every DF rule)."""
        if _matches(rule_id, self.ignore):
            return False
        return self.select is None or _matches(rule_id, self.select)


def _matches(rule_id: str, codes: frozenset[str]) -> bool:
    return any(rule_id.startswith(code) for code in codes)
