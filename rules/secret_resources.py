"""Listing a committed Secret file in a Kustomization's ``resources:``: a surgical edit.

An encrypted (SOPS) or sealed Secret only reaches the cluster when the Kustomization that
renders the workload includes it. The edit appends one ``- <file>`` item after the last one
of a block list (with its indentation and the file's newlines), adds it to a flow list, or
adds a ``resources:`` list at the end of a Kustomization without one. Nothing else changes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fixer.model import SideFile
from rules.secret_external import line_end, raw_content_end


@dataclass(frozen=True)
class AddResource:
    """``SideFile.merge``: the Kustomization's text with ``entry`` in ``resources:``. A value,
    not a closure, so fixes pickle back from worker processes."""

    entry: str

    def __call__(self, existing: str | None) -> str:
        import yaml

        if existing is None:
            raise ValueError("the Kustomization is gone")
        newline = "\r\n" if "\r\n" in existing else "\n"
        root = yaml.compose(existing, Loader=yaml.CSafeLoader)
        if not isinstance(root, yaml.MappingNode):
            raise ValueError("the Kustomization is not a mapping")
        found = [
            v for k, v in root.value if isinstance(k, yaml.ScalarNode) and k.value == "resources"
        ]
        if not found:
            tail = "" if not existing or existing.endswith("\n") else newline
            return f"{existing}{tail}resources:{newline}  - {self.entry}{newline}"
        items = found[0]
        if not isinstance(items, yaml.SequenceNode):
            raise ValueError("resources: is not a list")
        if any(_same(getattr(i, "value", None), self.entry) for i in items.value):
            return existing  # an earlier fix (or the user) listed it already
        if items.flow_style:
            close = existing.rindex("]", 0, items.end_mark.index)
            sep = ", " if items.value else ""
            return existing[:close] + sep + self.entry + existing[close:]
        if not items.value:
            raise ValueError("resources: is an empty block list")
        end = line_end(existing, raw_content_end(items.value[-1]))
        dash = " " * items.start_mark.column
        return existing[:end] + f"{newline}{dash}- {self.entry}" + existing[end:]


def _same(listed: Any, entry: str) -> bool:
    return isinstance(listed, str) and os.path.normpath(listed) == os.path.normpath(entry)


def resource_side_file(kustomization: Path, listed: Path) -> SideFile:
    """The committed edit that lists the file ``listed`` in ``kustomization``."""
    entry = Path(os.path.relpath(listed, kustomization.parent)).as_posix()
    merge = AddResource(entry)
    return SideFile(
        kustomization, merge, merge, gitignore=False, key=f"resource|{entry}", publishable=True
    )
