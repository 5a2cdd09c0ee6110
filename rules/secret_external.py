"""Adding a key to an existing ``ExternalSecret``: a surgical edit of a committed file.

When the repository's Secrets come from External Secrets, a moved value belongs in the
remote store, and the ExternalSecret must copy it into the Secret the workload reads. The
edit appends one ``data`` entry (``secretKey`` + ``remoteRef``) after the last one, with the
file's own indentation and newlines; nothing else in the file changes. It carries no value.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fixer.model import SideFile


@dataclass(frozen=True)
class AddExternalKey:
    """``SideFile.merge``: the ExternalSecret ``name`` of the file's current text, with a
    ``data`` entry for ``key`` read from ``remote_key`` (and ``prop``, when set). A value,
    not a closure, so fixes pickle back from worker processes."""

    name: str
    key: str
    remote_key: str
    prop: str | None

    def __call__(self, existing: str | None) -> str:
        if existing is None:
            raise ValueError(f"ExternalSecret {self.name} is gone")
        spec = _spec_of(existing, self.name)
        data = _get(spec, "data")
        if data is None or data.flow_style or not data.value:
            raise ValueError(f"ExternalSecret {self.name} has no block spec.data list to extend")
        if any(_scalar(_get(item, "secretKey")) == self.key for item in data.value):
            return existing  # an earlier fix (or the user) added it already
        last = data.value[-1]
        newline = "\r\n" if "\r\n" in existing else "\n"
        end = line_end(existing, raw_content_end(last))
        column = last.start_mark.column
        pad = " " * column
        lines = [f"{' ' * (column - 2)}- secretKey: {self.key}", f"{pad}remoteRef:"]
        lines.append(f"{pad}  key: {self.remote_key}")
        if self.prop is not None:
            lines.append(f"{pad}  property: {self.prop}")
        inserted = "".join(newline + line for line in lines)
        return existing[:end] + inserted + existing[end:]


def external_key_side_file(
    path: Path, name: str, key: str, remote: str, prop: str | None
) -> SideFile:
    """The committed edit of the ExternalSecret file (never git-ignored: it holds no value)."""
    merge = AddExternalKey(name, key, remote, prop)
    return SideFile(
        path, merge, merge, gitignore=False, key=f"external|{name}|{key}", publishable=True
    )


def _spec_of(text: str, name: str) -> Any:
    import yaml

    for doc in yaml.compose_all(text, Loader=yaml.CSafeLoader):
        if doc is None or _scalar(_get(doc, "kind")) != "ExternalSecret":
            continue
        if _scalar(_get(_get(doc, "metadata"), "name")) == name:
            return _get(doc, "spec")
    raise ValueError(f"ExternalSecret {name} not found")


def _get(node: Any, key: str) -> Any:
    import yaml

    if not isinstance(node, yaml.MappingNode):
        return None
    for k, v in node.value:
        if isinstance(k, yaml.ScalarNode) and k.value == key:
            return v
    return None


def _scalar(node: Any) -> str | None:
    import yaml

    return node.value if isinstance(node, yaml.ScalarNode) else None


def raw_content_end(node: Any) -> int:
    """Past the node's own text (a block collection's end mark runs over trailing lines),
    for a node composed straight from a side file's text (the engine's ``content_end``
    needs a parsed ``YamlFile``)."""
    import yaml

    while isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) and node.value:
        if node.flow_style:
            break
        last = node.value[-1]
        node = last[1] if isinstance(node, yaml.MappingNode) else last
    return int(node.end_mark.index)


def line_end(text: str, offset: int) -> int:
    """The end of the line holding ``offset`` (before its newline), so a trailing comment
    stays with its entry."""
    end = text.find("\n", offset)
    if end == -1:
        return len(text)
    return end - 1 if end > 0 and text[end - 1] == "\r" else end
