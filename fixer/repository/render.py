"""Rendering Kustomizations (``kubectl kustomize`` or ``kustomize build``) so rules can judge
what reaches the cluster rather than the base alone.

An overlay's patch has the last word on the object it patches: a JSON6902 ``replace`` of the
pod ``securityContext`` throws away every key tighten wrote in the base. Rendering is a
subprocess, so it is kept rare: only top-level Kustomizations (no other one includes them)
whose patches touch the fields the K8S rules judge are rendered, once each per run, with a
timeout, without network (remote bases and Helm charts are skipped with a notice).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fixer.documents import yaml as y
from fixer.documents.text import SourceText
from fixer.documents.yaml.kube import without_definitions
from fixer.repository.manifests import _REMOTE, Kustomization

#: A patch is worth a render when it mentions a field judged on the render (``env`` is
#: not: no rule judges a rendered ``env`` yet, so a render would buy nothing).
TOUCHES = re.compile(r"\b(securityContext|hostNetwork|hostPID|hostIPC|privileged)\b")
TIMEOUT = 60.0  # seconds for one render
_LIMIT = 256 * 1024  # a Kustomization or patch larger than this is not read
#: A temporary copy (dry-run) holds at most this many files and bytes, else it is not made.
_COPY_FILES, _COPY_BYTES = 20_000, 200 * 1024 * 1024
_SKIP_DIRS = {".git", ".hg", ".svn", "node_modules", ".venv", "venv", "__pycache__"}
_PATCH_KEYS = ("patches", "patchesStrategicMerge", "patchesJson6902")


@dataclass(frozen=True)
class PatchUse:
    """One patch entry of a Kustomization: where it is listed and what it says."""

    kustomization: Path
    line: int  # 1-based line of the entry in the Kustomization
    file: Path | None  # the patch file; None for an inline patch
    text: str
    target_kind: str | None = None
    target_name: str | None = None


@dataclass(frozen=True)
class Render:
    """The rendered YAML stream of one Kustomization, or why there is none."""

    kustomization: Path
    text: str | None
    notice: str | None = None


def command() -> list[str] | None:
    """``kubectl kustomize`` when kubectl is on PATH, else ``kustomize build``, else None."""
    if shutil.which("kubectl"):
        return ["kubectl", "kustomize"]
    if shutil.which("kustomize"):
        return ["kustomize", "build"]
    return None


def judged(kustomizations: Sequence[Kustomization]) -> list[tuple[Path, list[PatchUse]]]:
    """Each top-level Kustomization with the patch files (its own and those of the
    Kustomizations it includes) that touch a judged field; most repositories have none."""
    by_folder = {k.path.parent: k for k in kustomizations}
    by_path = {k.path: k for k in kustomizations}
    included = {
        inner.path
        for k in kustomizations
        for resource in k.resources
        if (inner := by_path.get(resource) or by_folder.get(resource)) is not None
        and inner.path != k.path
    }
    found: list[tuple[Path, list[PatchUse]]] = []
    # A Component listed by no Kustomization here is built by others (or by nobody): it
    # cannot be rendered alone, and its patches are judged where it is listed.
    tops = sorted(k for k, v in by_path.items() if k not in included and not v.component)
    for top in tops:
        uses = [
            use
            for member in _closure(by_path[top], by_path, by_folder)
            for use in patch_uses(member)
            if use.file is not None and TOUCHES.search(use.text)  # inline: nowhere to report
        ]
        if uses:
            found.append((top, uses))
    return found


def _closure(
    top: Kustomization, by_path: Mapping[Path, Kustomization], by_folder: Mapping[Path, Any]
) -> Iterator[Path]:
    seen: set[Path] = set()
    queue = [top]
    while queue:
        current = queue.pop(0)
        if current.path in seen:
            continue
        seen.add(current.path)
        yield current.path
        for resource in current.resources:
            inner = by_path.get(resource) or by_folder.get(resource)
            if inner is not None:
                queue.append(inner)


def _read(path: Path) -> str:
    try:
        with open(path, "rb") as handle:
            return handle.read(_LIMIT).decode("utf-8", "replace")
    except OSError:
        return ""


def patch_uses(kustomization: Path) -> list[PatchUse]:
    """The patch entries of one Kustomization file, inline or in files, with their target."""
    try:
        doc = y.parse(SourceText(_read(kustomization)))
    except y.YamlError:
        return []
    root = doc.documents[0] if doc.documents else None
    if not y.is_mapping(root):
        return []
    folder = kustomization.parent
    uses: list[PatchUse] = []
    for key in _PATCH_KEYS:
        entries = y.get(root, key)
        for entry in entries.value if y.is_sequence(entries) else []:
            use = _use(kustomization, folder, entry)
            if use is not None:
                uses.append(use)
    return uses


def _use(kustomization: Path, folder: Path, entry: y.Node) -> PatchUse | None:
    line = entry.start_mark.line + 1
    if y.is_scalar(entry):
        value = y.scalar(entry) or ""
        if "\n" in value:
            return PatchUse(kustomization, line, None, value)
        file = Path(os.path.normpath(folder / value))
        return PatchUse(kustomization, line, file, _read(file))
    if not y.is_mapping(entry):
        return None
    target = y.get(entry, "target")
    kind, name = y.scalar(y.get(target, "kind")), y.scalar(y.get(target, "name"))
    inline = y.scalar(y.get(entry, "patch"))
    if inline:
        return PatchUse(kustomization, line, None, inline, kind, name)
    path = y.scalar(y.get(entry, "path"))
    if not path:
        return None
    file = Path(os.path.normpath(folder / path))
    return PatchUse(kustomization, line, file, _read(file), kind, name)


#: Lets a Kustomization read files outside its folder (kustomize refuses by default).
LOAD_ANYWHERE = ("--load-restrictor", "LoadRestrictionsNone")


def load_flags(
    top: Path, kustomizations: Sequence[Kustomization], root: Path
) -> tuple[str, ...] | None:
    """``LOAD_ANYWHERE`` when a Kustomization of ``top``'s tree lists a file outside its own
    folder (a base manifest in ``../../``), ``()`` when none does, None when such a file is
    outside the repository ``root`` too (then nothing is rendered)."""
    by_path = {k.path: k for k in kustomizations}
    by_folder = {k.path.parent: k for k in kustomizations}
    flags: tuple[str, ...] = ()
    for path in _closure(by_path[top], by_path, by_folder):
        member = by_path[path]
        for listed in (*member.resources, *member.patches):
            if listed in by_folder or listed in by_path or _under(listed, member.path.parent):
                continue  # in its folder, or a Kustomization kustomize loads from its own
            if not _under(listed, root):
                return None
            flags = LOAD_ANYWHERE
    return flags


def _under(path: Path, folder: Path) -> bool:
    inner, outer = os.path.abspath(path), os.path.abspath(folder)
    return os.path.commonpath([inner, outer]) == outer


def offline_problem(kustomization: Path) -> str | None:
    """Why rendering would leave this machine (a remote base, a Helm chart), or None."""
    text = _read(kustomization)
    if re.search(r"^\s*helmCharts\s*:", text, re.MULTILINE):
        return "it inflates Helm charts"
    try:
        doc = y.parse(SourceText(text))
    except y.YamlError:
        return "it is not valid YAML"
    root = doc.documents[0] if doc.documents else None
    for key in ("resources", "bases", "components"):
        entries = y.get(root, key) if y.is_mapping(root) else None
        for entry in entries.value if y.is_sequence(entries) else []:
            value = y.scalar(entry) or ""
            if any(marker in value for marker in _REMOTE):
                return f"it includes a remote base ({value})"
    return None


def render(
    kustomization: Path,
    root: Path,
    overrides: Mapping[Path, str],
    program: Sequence[str],
    *,
    timeout: float = TIMEOUT,
) -> Render:
    """Render ``kustomization`` (cwd: ``root``). ``overrides`` are texts that differ from
    the disk (a dry-run's fixes): then a copy of ``root`` with them written is rendered."""
    if not overrides:
        return _run(kustomization, root, kustomization.parent, program, timeout)
    with tempfile.TemporaryDirectory(prefix="tighten-render-") as temp:
        copy = Path(temp) / "tree"
        if not _copy_tree(root, copy, overrides):
            return Render(kustomization, None, "the repository is too large to copy for a render")
        inside = copy / os.path.relpath(kustomization.parent, root)
        return _run(kustomization, copy, inside, program, timeout)


#: The header kubectl's logger puts before an error (``E1201 03:28:58.318934   23217
#: run.go:72] ``): its time and process id made the same run's notice differ every time.
_KLOG_HEADER = re.compile(r"^[IWEF]\d{4} \d{2}:\d{2}:\d{2}\.\d+\s+\d+ [\w.-]+:\d+\] ")


def _run(
    kustomization: Path, cwd: Path, folder: Path, program: Sequence[str], timeout: float
) -> Render:
    # Plain argv, no shell; stdin closed; the load restrictor stays on (no files outside).
    env = {**os.environ, "KUBECONFIG": os.devnull}
    try:
        done = subprocess.run(
            [*program, str(folder)],
            cwd=cwd,
            capture_output=True,
            stdin=subprocess.DEVNULL,
            timeout=timeout,
            env=env,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return Render(kustomization, None, f"`{' '.join(program)}` took over {timeout:.0f}s")
    except OSError as exc:
        return Render(kustomization, None, f"`{' '.join(program)}` did not run: {exc}")
    if done.returncode != 0:
        error = done.stderr.decode("utf-8", "replace").strip().splitlines()
        why = _KLOG_HEADER.sub("", error[-1]) if error else f"exit code {done.returncode}"
        return Render(kustomization, None, f"`{' '.join(program)}` failed: {why[:300]}")
    # CustomResourceDefinitions are dropped: most of an operator's render by size (7.5 of
    # KServe's 7.6 MB, 14 s to compose and judge where the rest took a tenth of a second).
    return Render(kustomization, without_definitions(done.stdout.decode("utf-8", "replace")))


def _copy_tree(root: Path, copy: Path, overrides: Mapping[Path, str]) -> bool:
    """Copy the regular files of ``root`` (no VCS or dependency folders) with ``overrides``
    written over them; False when the tree is beyond the caps."""
    files, size = 0, 0
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS)
        target = copy / os.path.relpath(folder, root)
        target.mkdir(parents=True, exist_ok=True)
        for name in names:
            source = Path(folder) / name
            if not source.is_file() or source.is_symlink():
                continue
            files += 1
            size += source.stat().st_size
            if files > _COPY_FILES or size > _COPY_BYTES:
                return False
            shutil.copyfile(source, target / name)
    for path, text in overrides.items():
        rel = os.path.relpath(path, root)
        if not rel.startswith(".."):
            (copy / rel).parent.mkdir(parents=True, exist_ok=True)
            (copy / rel).write_text(text, encoding="utf-8", newline="")
    return True
