"""The generated Secret manifest that DF004 and K8S004 fixes move literal values into.

A fix never writes the file itself: it carries a ``SideFile`` whose closures merge its keys
into whatever the file holds when the run ends (the session writes it only when the fix was
applied, masked in ``--dry-run``). Everything here is pure; ``fixer.secrets`` renders.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from fixer.model import SideFile
from fixer.secrets import mask, render_secret_manifest, secret_key_for
from fixer.settings import Settings

#: How every output refers to the Secret from a workload.
REFERENCE_HINT = "reference it with envFrom.secretRef or env.valueFrom.secretKeyRef"


@dataclass(frozen=True)
class SecretTarget:
    """Where values go: a Secret ``name``/``namespace`` inside the manifest file ``path``."""

    path: Path
    name: str
    namespace: str | None
    source: str  # the file the values came from, relative to ``path``'s folder

    @classmethod
    def beside(
        cls, settings: Settings, origin: Path, file_name: str, name: str, namespace: str | None
    ) -> SecretTarget:
        """The target in ``--secrets-dir``, else in the folder of ``origin``."""
        folder = (
            settings.secrets.secrets_dir
            if settings.secrets.secrets_dir is not None
            else origin.parent
        )
        path = folder / safe_file_name(file_name)
        return cls(path, name, namespace, _relative(origin, path.parent))

    @property
    def shown(self) -> str:
        """The file as messages name it (as the user's paths were given)."""
        return self.path.as_posix()


def source_folders(settings: Settings, origin: Path) -> tuple[str, ...]:
    """With ``--secrets-dir``, the folders leading to ``origin`` as seen from that folder
    (``..`` steps dropped): ``a/app/Dockerfile`` -> ``("a", "app")``. Sources in folders of
    the same name then get Secrets of different names instead of sharing one. Empty in the
    default layout, where each Secret sits beside its source and names stay as they are."""
    if settings.secrets.secrets_dir is None:
        return ()
    relative = Path(_relative(origin, settings.secrets.secrets_dir)).parent
    return tuple(part for part in relative.parts if part not in ("", ".", ".."))


def joined(parts: tuple[str, ...], limit: int = 100) -> str:
    """``parts`` joined with ``-``; past ``limit`` characters, the last part and a stable
    8-hex hash of all of them, so deep paths keep names short and still distinct."""
    text = "-".join(p for p in parts if p)
    if len(text) <= limit:
        return text
    digest = hashlib.sha256("/".join(parts).encode()).hexdigest()[:8]
    return f"{parts[-1][: limit - 9]}-{digest}"


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_file_name(name: str) -> str:
    """A generated file name made of ``[A-Za-z0-9._-]`` only, at most 255 bytes: a newline
    or a terminal escape in a source's name never reaches the file system or a message."""
    text = _UNSAFE.sub("-", name).lstrip("-") or "secrets.yaml"
    if text in (".", ".."):
        text = "secrets.yaml"
    if len(text) > 255:
        digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:8]
        text = f"{text[:200]}-{digest}{text[-40:]}"
    return text


def _relative(origin: Path, folder: Path) -> str:
    """``origin`` as seen from ``folder`` (for the source annotation; no file access)."""
    return Path(os.path.relpath(os.path.abspath(origin), os.path.abspath(folder))).as_posix()


_UNKNOWN = "\0"  # stands for a value tighten has not seen; equal to no env value


@dataclass
class KeyAllocator:
    """Secret keys for one file's findings: the same key never holds two different values.

    ``DB_PASSWORD`` set to different literals in two stages (or two containers of one
    workload) becomes ``DB_PASSWORD`` and ``DB_PASSWORD_2``, so no value silently
    overwrites another. Values are compared in memory only.
    """

    _taken: dict[tuple[str, str | None], dict[str, str]] = field(default_factory=dict)

    def reserve(self, name: str, namespace: str | None, key: str) -> None:
        """A key the file already references (its value unknown here): never reused for a
        new value, so a value moved by an earlier run or pass is not overwritten."""
        self._taken.setdefault((name, namespace), {}).setdefault(key, _UNKNOWN)

    def key(self, target: SecretTarget, variable: str, value: str) -> str:
        taken = self._taken.setdefault((target.name, target.namespace), {})
        base = secret_key_for(variable)
        candidate, number = base, 1
        while candidate in taken and taken[candidate] != value:
            number += 1
            candidate = f"{base}_{number}"
        taken[candidate] = value
        return candidate


def side_file(target: SecretTarget, data: Mapping[str, str], origin: str) -> SideFile:
    """The generated file a fix writes; ``origin`` (file and offset, never a value) makes
    side files of different fixes compare different."""
    values = tuple(data.items())
    masked = tuple((k, mask(v)) for k, v in values)
    merge = SecretMerge(target.name, target.namespace, values, target.source)
    masked_merge = SecretMerge(target.name, target.namespace, masked, target.source, True)
    key = "|".join([target.name, target.namespace or "", ",".join(sorted(data)), origin])
    return SideFile(target.path, merge, masked_merge, gitignore=True, key=key)


@dataclass(frozen=True)
class SecretMerge:
    """``SideFile.merge``: puts ``values`` into the Secret ``name``/``namespace`` of the
    manifest's current text. A value rather than a closure, so that fixes (and the results
    holding them) can be pickled back from the worker processes of a parallel run."""

    name: str
    namespace: str | None
    values: tuple[tuple[str, str], ...] = field(repr=False)
    source: str
    preview: bool = False  # masked values, for display: no value comparison

    def __call__(self, existing: str | None) -> str:
        return render_secret_manifest(
            self.name,
            self.namespace,
            dict(self.values),
            existing,
            source=self.source,
            preview=self.preview,
        )


def masks_for(value: str, raw: str) -> tuple[str, ...]:
    """What outputs must hide: the value, its written form, and each line of a value that
    spans lines (a diff shows those lines one by one, behind ``-`` and indentation)."""
    out = {m for m in (value, raw) if len(m) >= 2}
    for text in (value, raw):
        if "\n" in text:  # pieces shorter than 4 characters reveal little and mask a lot
            pieces = (line.strip().rstrip("\\`").strip() for line in text.splitlines())
            out.update(p for p in pieces if len(p) >= 4)
    return tuple(sorted(out, key=len, reverse=True))
