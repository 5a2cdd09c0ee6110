"""Dockerfiles: ``lexer`` (text to instructions with exact spans), ``model`` (instructions,
stages, what is in effect where), ``words`` (quote removal, ENV/ARG/LABEL pairs) and
``images`` (what a stage is built on). The names below are the package's public surface."""

from fixer.documents.dockerfile.lexer import parse
from fixer.documents.dockerfile.model import (
    Dockerfile,
    Heredoc,
    Instruction,
    Logical,
    Offsets,
    Stage,
)
from fixer.documents.dockerfile.words import KeyValue, key_values, literal, unquote, words

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
