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

from fixer.repository.walk import read_text

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
_BYTES = 512 * 1024


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
        text = _read_go(source)
        if not text:
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


#: ``exec.Command("sh", "-c", task.command)`` (or ``CommandContext(ctx, "bash", "-c", ...)``)
#: whose command is not a string literal: the program runs shell commands it is given.
_SHELL_EXEC = re.compile(
    r"exec\.Command(?:Context)?\(\s*(?:[\w.]+\s*,\s*)?\"((?:/bin/|/usr/bin/)?(?:ba|z|a)?sh)\""
    r"\s*,\s*\"-c\"\s*,\s*(?=[^\s\"])"
)
#: ``"github.com/fluxcd/flagger/pkg/loadtester"`` lines of an import block (or a single import).
_IMPORT = re.compile(r"^\s*(?:import\s+)?(?:[\w.]+\s+)?\"([^\"\s]+)\"\s*$", re.M)
_MODULE = re.compile(r"^module\s+(\S+)", re.M)
#: Packages of the program's own module read beside its own folder, at most.
_PACKAGES = 12


@dataclass(frozen=True)
class CommandRunner:
    where: str  # ``pkg/loadtester/task_shell.go:52``, from the repository root
    shell: str  # ``sh``, ``bash``


def command_runner(main: Path, root: Path) -> CommandRunner | None:
    """Where the program whose ``main.go`` is ``main`` runs a shell command that is not a
    literal (``exec.CommandContext(ctx, "sh", "-c", task.command)``: Flagger's load tester
    runs the ``cmd`` of every webhook it receives), in its own folder or in the packages of
    its module it imports; None when it has none. The tools of such a program's image are
    for the commands it is sent, which nothing in the repository lists."""
    module, module_root = _module_of(main, root)
    folders = [main.parent]
    text = _read_go(main)
    if module and text:
        for imported in _IMPORT.findall(_import_block(text)):
            if imported.startswith(module + "/"):
                folder = module_root / imported[len(module) + 1 :]
                if folder not in folders:
                    folders.append(folder)
    for folder in folders[: _PACKAGES + 1]:
        for source in sorted(folder.glob("*.go"))[: _SOURCES * 4]:
            if source.name.endswith("_test.go"):
                continue
            code = _read_go(source)
            if not code or "exec.Command" not in code:
                continue
            m = _SHELL_EXEC.search(code)
            if m:
                line = code.count("\n", 0, m.start()) + 1
                shell = m.group(1).rsplit("/", 1)[-1]
                return CommandRunner(f"{os.path.relpath(source, root)}:{line}", shell)
    return None


def _module_of(main: Path, root: Path) -> tuple[str, Path]:
    """The module path and folder of the nearest ``go.mod`` at or above ``main``'s folder
    (within the repository); ("", root) when there is none."""
    folder = main.parent
    while True:
        text = _read_go(folder / "go.mod")
        if text:
            m = _MODULE.search(text)
            return (m.group(1) if m else "", folder)
        if folder == root or folder.parent == folder or root not in folder.parents:
            return "", root
        folder = folder.parent


def _import_block(text: str) -> str:
    """The imports of a Go file: the ``import (...)`` block or single ``import "x"`` lines."""
    start = text.find("import")
    if start < 0:
        return ""
    end = text.find(")", start)
    return text[start : end if end > 0 else len(text)]


def _read_go(path: Path) -> str:
    """The file's text; "" when it is unreadable, too large or not a regular file (a FIFO
    named ``main.go`` must not block the scan)."""
    return read_text(path, _BYTES) or ""


#: ``flag.StringVar(&path, "p", ...)``: the variable a string flag sets, and the flag.
_FLAG_VAR = re.compile(r"flag\.StringVar\(\s*&([A-Za-z_]\w*)\s*,\s*\"([\w.-]+)\"")
#: ``dir := flag.String("dir", ...)`` (or ``=``): the variable holding a pointer to it.
_FLAG_POINTER = re.compile(r"\b([A-Za-z_]\w*)\s*:?=\s*flag\.String\(\s*\"([\w.-]+)\"")
#: Calls that create, remove or hand over what a path names.
_PATH_CALL = re.compile(
    r"\b(os\.(?:MkdirAll|Mkdir|RemoveAll|Remove|Chown|Lchown|Chmod|Rename))\(\s*\*?([A-Za-z_]\w*)\b"
)


@dataclass(frozen=True)
class PathChange:
    where: str  # ``examples/distroless/main.go:58``, from the repository root
    call: str  # ``os.MkdirAll``
    flag: str  # the flag that names the path: ``p``


def path_change(main: Path, root: Path) -> PathChange | None:
    """Where the program whose ``main.go`` is ``main`` creates, removes or chowns the path
    one of its string flags names (local-path-provisioner's helper: ``-p`` is the volume's
    folder on the node, ``os.MkdirAll(path, 0777)``, ``os.RemoveAll(path)``): it works on
    places it is told, outside its image, which belong to whoever owns them there (root,
    on a node). None when its package does no such thing."""
    for source in sorted(main.parent.glob("*.go"))[:_SOURCES]:
        if source.name.endswith("_test.go"):
            continue
        text = _read_go(source)
        if not text or "flag.String" not in text:
            continue
        flags = {m.group(1): m.group(2) for m in _FLAG_VAR.finditer(text)}
        flags.update((m.group(1), m.group(2)) for m in _FLAG_POINTER.finditer(text))
        for m in _PATH_CALL.finditer(text):
            if m.group(2) in flags:
                line = text.count("\n", 0, m.start()) + 1
                where = f"{os.path.relpath(source, root)}:{line}"
                return PathChange(where, m.group(1), flags[m.group(2)])
    return None
