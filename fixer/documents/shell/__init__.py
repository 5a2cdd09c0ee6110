"""POSIX shell text: ``script`` (tokens with exact positions, simple commands) and
``lists`` (list elements to delete with their joiners). The names below are the package's
public surface."""

from fixer.documents.shell.script import (
    LIST_OPS,
    OP,
    REDIRECT,
    RESERVED,
    WORD,
    Command,
    Script,
    ShellError,
    Token,
    bashlex_agrees,
    parse,
)

__all__ = [
    "LIST_OPS",
    "OP",
    "REDIRECT",
    "RESERVED",
    "WORD",
    "Command",
    "Script",
    "ShellError",
    "Token",
    "bashlex_agrees",
    "parse",
]
