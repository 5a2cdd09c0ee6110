"""Literal secrets on command lines: Dockerfile ``RUN`` and Kubernetes ``command``/``args``.

Pure functions over words a caller has already split (quotes removed; None for a word whose
value is only known when a shell runs it). Reported, never fixed: the command needs the value
and a safe rewrite depends on the program. Precision over recall, because every hit is read:

* ``NAME=value`` words (assignments, ``export``, ``--build-arg``, ``-e``, ``-Dkey=value``
  properties, ``--password=...`` options) are judged like ENV pairs (``detect.classify``);
* ``--password value`` pairs only when the option's last word names the secret itself;
* ``curl -u user:pass``, ``mysql -pSECRET`` (glued: ``-p SECRET`` names a database) and
  ``sshpass -p SECRET``, for those programs only;
* any word with the format of a well-known credential (tokens, URLs with a password);
* ``${NAME:-default}`` shell defaults whose literal default is a secret (also in ENV/ARG).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from fixer.secrets.detect import (
    QUOTING,
    SecretMatch,
    classify,
    credential_kind,
    hints_secret,
    is_literal,
    name_kind,
    name_words,
)

__all__ = ["CommandSecret", "command_secrets", "default_secrets", "may_hold_secrets"]


@dataclass(frozen=True)
class CommandSecret:
    """One literal secret in word ``index``. ``what`` names where it is, never the value."""

    index: int
    value: str  # for masking only
    kind: str
    what: str


_SEPARATORS = frozenset({";", "&&", "||", "|", "&", "(", ")", "{", "}", "then", "do"})
# Values a command line uses to get past a required option (``API_KEY=fake tool version``).
_STAND_INS = frozenset({"fake", "dummy", "test", "testing", "example", "sample", "foo", "bar"})
_SHELLS = frozenset({"sh", "bash", "ash", "dash", "zsh", "ksh"})
_WRAPPERS = frozenset({"sudo", "env", "exec", "time", "nohup", "command", "export"})
_MYSQL = frozenset(
    [
        "mysql",
        "mysqladmin",
        "mysqldump",
        "mysqlimport",
        "mysqlshow",
        "mysqlcheck",
        "mariadb",
        "mariadb-admin",
        "mariadb-dump",
        "mariadb-import",
    ]
)
_ASSIGNMENT = re.compile(r"-{0,2}([A-Za-z_][\w.-]*)=(.+)", re.DOTALL)
_OPTION = re.compile(r"--([A-Za-z][\w-]*)")
# ${NAME:-default} ${NAME-default} ${NAME:=default}: the default is used when NAME is unset.
_DEFAULT = re.compile(r"\$\{([A-Za-z_]\w*):?[-=]([^${}`]+)\}")


# A word starts at the start of the line or after a blank (quotes before it are deleted).
_CURL_USER = re.compile(r"(?:^|\s)(?:-u|--user)")
_GLUED_PASSWORD = re.compile(r"(?:^|\s)-p")


def may_hold_secrets(text: str, patterns: Sequence[str] = ()) -> bool:
    """False when ``command_secrets`` and ``default_secrets`` find nothing in any word of
    ``text`` (a command line, or items joined by spaces), so splitting it can be skipped:
    no credential format or secret name anywhere, no ``curl -u``, no ``mysql -p``. Most
    command lines are like that; user ``patterns`` can name anything, so they always pass."""
    if patterns:
        return True
    plain = text.translate(QUOTING)  # see QUOTING: sound for quoted words
    if hints_secret(plain):
        return True
    if "curl" in plain and _CURL_USER.search(plain):
        return True
    return ("mysql" in plain or "mariadb" in plain) and _GLUED_PASSWORD.search(plain) is not None


def command_secrets(
    words: Sequence[str | None], patterns: Sequence[str] = ()
) -> Iterator[CommandSecret]:
    """Secrets in one command line's words (any number of commands joined by ``&&``...)."""
    program = ""
    for i, word in enumerate(words):
        if word is None:
            program = program or "?"
            continue
        bare = word.rstrip(";")
        if bare in _SEPARATORS or not bare or (program in _SHELLS and bare == "-c"):
            program = ""  # the next word starts a command (``sh -c "curl ..."``, split)
            continue
        following = words[i + 1] if i + 1 < len(words) else None
        hit = _word_secret(bare, program, following, patterns)
        if hit is not None:
            value, kind, what = hit
            # point at the word holding the value: ``-u`` -> ``admin:pass``
            later = value not in bare and following is not None and value in following
            index = i + 1 if later else i
            yield CommandSecret(index, value, kind, what)
        if not program and not _ASSIGNMENT.fullmatch(bare) and bare not in _WRAPPERS:
            program = bare.rsplit("/", 1)[-1]
        if word.endswith(";"):
            program = ""


def _word_secret(
    word: str, program: str, following: str | None, patterns: Sequence[str]
) -> tuple[str, str, str] | None:
    """(value, kind, where) for a secret in ``word`` (``following`` is the next word)."""
    assignment = _ASSIGNMENT.fullmatch(word)
    if assignment and assignment.group(2).lower() not in _STAND_INS:
        name, value = assignment.groups()
        match = classify(name, value, patterns)
        if match:
            return value, match.kind, word.partition("=")[0] + "=..."
    option = _OPTION.fullmatch(word)
    if option and following and _option_value(option.group(1), following):
        return following, name_kind(option.group(1)) or "password", word
    tool = _program_secret(word, program, following)
    if tool is not None:
        return tool
    match = _credential(word)
    return (word, match.kind, "a command word") if match else None


def _option_value(option: str, value: str) -> bool:
    """``--password VALUE``, ``--api-key VALUE``; not ``--password-stdin``, ``--token-ttl``."""
    words = name_words(option)
    # The last word is the secret itself: --password, --api-key; not --password-stdin.
    last = bool(words) and (
        name_kind(words[-1]) is not None
        or (words[-1] in ("KEY", "KEYS") and name_kind("_".join(words[-2:])) is not None)
    )
    names = last and name_kind(option) is not None  # not --disabled-password
    usable = value not in _SEPARATORS and value.lower() not in _STAND_INS
    return names and usable and not value.startswith("-") and is_literal(value, option)


def _program_secret(word: str, program: str, following: str | None) -> tuple[str, str, str] | None:
    value: str | None = None
    if program == "curl":
        if word in ("-u", "--user") and following:
            value = following
        elif word.startswith("--user="):
            value = word[len("--user=") :]
        elif word.startswith("-u") and len(word) > 2 and not word.startswith("--"):
            value = word[2:]
        value = value.partition(":")[2] if value and ":" in value else None
    elif program in _MYSQL and word.startswith("-p") and len(word) > 2:
        value = word[2:]
    elif program == "sshpass" and word == "-p" and following:
        value = following
    if value and is_literal(value, ""):
        return value, "password", f"{program} {word[:2]}"
    return None


def _credential(word: str) -> SecretMatch | None:
    kind = credential_kind(word)
    return SecretMatch(kind, "") if kind else None


def default_secrets(
    name: str, raw: str, patterns: Sequence[str] = ()
) -> Iterator[tuple[str, SecretMatch]]:
    """``(default, match)`` for each ``${VAR:-default}`` in ``raw`` whose literal default is
    a secret by ``VAR``'s name, or by ``name`` (the variable being set) when the default is
    the whole value. Quotes around the default are removed."""
    for found in _DEFAULT.finditer(raw):
        variable, default = found.group(1), found.group(2).strip("\"'")
        whole = found.group(0) == raw.strip("\"'")
        match = classify(variable, default, patterns)
        if match is None and whole and name:
            match = classify(name, default, patterns)
        if match is not None:
            yield default, match
