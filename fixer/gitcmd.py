"""Running git safely: the one runner every git command of tighten goes through.

Every command runs with a clean, explicit environment: repository-location variables a git
hook may have exported (``GIT_DIR``, ``GIT_INDEX_FILE``...) are dropped so nothing can reach
the user's index; hooks are switched off (``core.hooksPath=/dev/null``: a remediation commit
must not run the user's pre-commit or pre-push scripts); prompts are off; git-lfs does not
download. Configuration travels in ``GIT_CONFIG_COUNT``/``GIT_CONFIG_KEY_n`` variables, never
``-c`` arguments, because arguments are visible to every user in ``ps`` and the token's
``http.extraheader`` is one of them. Error messages have the token redacted.

It sits below everything that asks git a question: ``tighten pr`` (``fixer.pr.git``) and the
side-file checks that a generated Secret is git-ignored (``fixer.secrets.gitignore``).
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

__all__ = ["Git", "GitError"]

#: Variables that point git at another repository, index or object store (set in hooks).
_LOCATION_VARS = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_COMMON_DIR",
    "GIT_NAMESPACE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_PREFIX",
    "GIT_QUARANTINE_PATH",
)
_BASE_CONFIG = (
    ("core.hooksPath", os.devnull),
    ("advice.detachedHead", "false"),
    ("gc.auto", "0"),  # no surprise repacking of the user's object store
    ("maintenance.auto", "false"),
)


class GitError(Exception):
    """A git command failed; the message is one line and never holds the token.

    ``detail`` is git's whole (redacted) output, for callers that look for a specific line.
    """

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.detail = detail


@dataclass(frozen=True)
class Git:
    """Runs git in ``cwd`` with extra configuration passed through the environment."""

    cwd: Path
    config: tuple[tuple[str, str], ...] = ()
    secrets: tuple[str, ...] = field(default=(), repr=False)

    def at(self, cwd: Path) -> Git:
        return replace(self, cwd=cwd)

    def environment(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in _LOCATION_VARS}
        env.update(GIT_TERMINAL_PROMPT="0", GIT_LFS_SKIP_SMUDGE="1", LC_ALL="C", LANGUAGE="")
        # Append to configuration the caller's environment may already carry.
        start = int(env.get("GIT_CONFIG_COUNT", "0") or 0)
        entries = [*_BASE_CONFIG, *self.config]
        for index, (key, value) in enumerate(entries, start):
            env[f"GIT_CONFIG_KEY_{index}"], env[f"GIT_CONFIG_VALUE_{index}"] = key, value
        env["GIT_CONFIG_COUNT"] = str(start + len(entries))
        env.update(extra or {})
        return env

    def bytes(self, *args: str, env: Mapping[str, str] | None = None, input: str = "") -> bytes:
        """Run ``git args`` and return stdout; raise GitError with git's own complaint."""
        try:
            done = subprocess.run(
                ["git", *args],
                cwd=self.cwd,
                env=self.environment(env),
                input=input.encode("utf-8"),
                capture_output=True,
                check=False,
            )
        except OSError as exc:
            raise GitError(f"cannot run git: {exc.strerror or exc}") from None
        if done.returncode != 0:
            text = self.redact((done.stderr + done.stdout).decode("utf-8", "replace"))
            raise GitError(f"git {args[0]}: {_complaint(text)}", text)
        return done.stdout

    def run(self, *args: str, env: Mapping[str, str] | None = None, input: str = "") -> str:
        return self.bytes(*args, env=env, input=input).decode("utf-8", "replace")

    def attempt(self, *args: str) -> str | None:
        """Like ``run`` but None when git fails (for questions such as "does X exist?")."""
        try:
            return self.run(*args)
        except GitError:
            return None

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            if secret:
                text = text.replace(secret, "***")
        return _USERINFO.sub(r"\1***@", text)


#: ``https://user:password@host``: credentials someone put in a remote URL.
_USERINFO = re.compile(r"(\b[a-z][a-z0-9+.-]*://)[^/@\s]+@", re.IGNORECASE)


def _complaint(text: str) -> str:
    """The line of git's stderr that says what went wrong."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for prefix in ("fatal:", "error:", "remote: error:"):
        for line in lines:
            if line.startswith(prefix):
                return line.removeprefix("fatal:").removeprefix("error:").strip()
    return lines[-1] if lines else "failed"
