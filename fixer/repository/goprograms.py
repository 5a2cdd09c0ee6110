"""What a Go program of the repository writes by default, read from its flag definitions.

An image that copies in a binary built from ``cmd/<name>/`` runs that program; where it
writes is in its flags. A default relative to the working folder (syncthing's crash
receiver: ``Dir string `help:"Parent directory to store crash and failure reports in"
default:"."```; its usage server dumps ``reports.jsons.gz``) lands in the image's working
folder, which the build leaves to root. Only settings whose name or help says the program
writes there count (store, dump, output, report, data, cache, state...): a folder it serves
or a file it reads (``-dir ./files``, ``-source ./config.yaml``) is readable by anyone.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

#: A struct field with a string flag default (kong, envconfig: ``Dir string `... default:"."```).
_FIELD = re.compile(r"^[ \t]*(\w+)[ \t]+string[ \t]+`([^`\n]*default:\"([^\"]*)\"[^`\n]*)`", re.M)
#: A ``flag.String``/``flag.StringVar`` with a literal default: name, default, help.
_FLAG = re.compile(
    r"flag\.String(?:Var)?\(\s*(?:&[\w.]+\s*,\s*)?\"([\w.-]+)\"\s*,\s*\"([^\"]*)\"\s*,\s*\"([^\"]*)\""
)
#: Words that say a setting names a place the program writes.
_WRITES = re.compile(
    r"(?i)stor(?:e|age)|dump|output|report|\bdata|database|\bdb\b|cache|state|save|writ|"
    r"persist|spool|upload"
)
_FILE_NAME = re.compile(
    r"[\w.-]+\.(?:gz|jsons?|db|sqlite3?|log|txt|pem|key|crt|csv|bolt|ya?ml)", re.IGNORECASE
)
#: Source files read per program (the package, then its subpackages), and bytes of each.
_SOURCES = 8
_BYTES = 128 * 1024


@dataclass(frozen=True)
class RelativeWrite:
    where: str  # ``cmd/infra/ursrv/serve/serve.go:43``, from the repository root
    setting: str  # the field or flag name
    value: str  # its default


def relative_write(main: Path, root: Path) -> RelativeWrite | None:
    """The first write-place setting of the program whose ``main.go`` is ``main`` that
    defaults to a path relative to the working folder; None when it has none."""
    sources = [
        path
        for pattern in ("*.go", "*/*.go")  # ursrv's flags live in ``ursrv/serve/serve.go``
        for path in sorted(main.parent.glob(pattern))
        if not path.name.endswith("_test.go")
    ]
    for source in sources[:_SOURCES]:
        try:
            with open(source, "rb") as handle:
                text = handle.read(_BYTES).decode("utf-8", "replace")
        except OSError:
            continue
        found = [
            (m.start(), m.group(1), m.group(3))
            for m in _FIELD.finditer(text)
            if _relative(m.group(3)) and _WRITES.search(m.group(1) + m.group(2))
        ] + [
            (m.start(), m.group(1), m.group(2))
            for m in _FLAG.finditer(text)
            if _relative(m.group(2)) and _WRITES.search(m.group(1) + m.group(3))
        ]
        if found:
            at, setting, value = min(found)
            line = text.count("\n", 0, at) + 1
            return RelativeWrite(f"{os.path.relpath(source, root)}:{line}", setting, value)
    return None


def _relative(value: str) -> bool:
    """A default that names a file or folder relative to the working folder."""
    if not value or value.startswith(("/", ":", "~", "$")) or "://" in value:
        return False
    return value == "." or "/" in value or _FILE_NAME.fullmatch(value) is not None
