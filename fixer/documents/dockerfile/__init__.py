"""Dockerfiles. The names below are the package's public surface."""

from fixer.documents.dockerfile.model import (
    Dockerfile,
    Heredoc,
    Instruction,
    KeyValue,
    Logical,
    Offsets,
    Stage,
    key_values,
    literal,
    parse,
    unquote,
    words,
)

__all__ = [
    "Dockerfile",
    "Heredoc",
    "Instruction",
    "KeyValue",
    "Logical",
    "Offsets",
    "Stage",
    "key_values",
    "literal",
    "parse",
    "unquote",
    "words",
]
