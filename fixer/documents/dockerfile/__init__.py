"""Dockerfiles: ``lexer`` (text to instructions with exact spans), ``model`` (instructions,
stages, what is in effect where), ``words`` (quote removal, ENV/ARG/LABEL pairs) and
``images`` (what a stage is built on). The names below are the package's public surface."""

from fixer.documents.dockerfile.lexer import parse
from fixer.documents.dockerfile.model import (
    Dockerfile,
    Heredoc,
    InEffect,
    Instruction,
    Logical,
    Offsets,
    Stage,
    parent_stages,
)
from fixer.documents.dockerfile.words import KeyValue, key_values, literal, unquote, words

__all__ = [
    "Dockerfile",
    "Heredoc",
    "InEffect",
    "Instruction",
    "KeyValue",
    "Logical",
    "Offsets",
    "Stage",
    "key_values",
    "literal",
    "parent_stages",
    "parse",
    "unquote",
    "words",
]
