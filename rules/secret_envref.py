"""Adding an ``env`` entry that reads a Secret key to one container of another manifest.

When DF004 removes ``ENV KEY=value`` from a Dockerfile, the containers that run its image
must get ``KEY`` from the Secret the value moved to. That manifest is not the file being
fixed, so the edit travels as a ``SideFile`` merge: it finds the container again in the
manifest's text as it is when the run writes it (after that file's own fixes) and inserts
the entry surgically: after the last item of an existing block ``env:`` list (with its
indentation), or as a new ``env:`` key after the container's last key. Nothing else moves.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from rules.secret_external import line_end, raw_content_end

#: Words YAML 1.1 reads as booleans or null: quoted when they stand as a name.
_SPECIAL = frozenset(["y", "n", "yes", "no", "on", "off", "true", "false", "null", "~"])
_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")


@dataclass(frozen=True)
class Where:
    """A container, as the repository model names it (``fixer.repository.Run``)."""

    kind: str
    name: str | None
    namespace: str | None
    container: str
    init: bool

    @classmethod
    def of(cls, run: Any) -> Where:
        return cls(run.kind, run.name, run.namespace, run.container, run.init)

    @property
    def label(self) -> str:
        what = "init container" if self.init else "container"
        return f'{self.kind}/{self.name or "?"} {what} "{self.container}"'


@dataclass(frozen=True)
class Found:
    """What adding the entry to a text means: ``insert`` at ``offset``; ``insert`` empty
    when nothing is to change (``present``: the entry is there already; ``other``: the
    container sets the variable some other way and keeps it)."""

    offset: int = 0
    insert: str = ""
    present: bool = False
    other: bool = False


def plan(text: str, where: Where, variable: str, secret: str, key: str) -> Found | str:
    """The insertion into ``text``, or why the entry cannot be added surgically."""
    import yaml

    try:
        docs = list(yaml.compose_all(text, Loader=yaml.CSafeLoader))
    except yaml.YAMLError:
        return "the manifest is not valid YAML"
    found = _container(docs, where)
    if found is None:
        return f"{where.label} is not in the manifest as written"
    node = found[2]
    if not isinstance(found[1], yaml.SequenceNode) or found[1].flow_style:
        return f"the containers of {where.label} are written in flow style"
    if not isinstance(node, yaml.MappingNode) or node.flow_style or not node.value:
        return f"{where.label} is written in flow style"
    newline = "\r\n" if "\r\n" in text else "\n"
    env = _field(node, "env")
    if env is None:
        return _new_env(text, found, variable, secret, key, newline)
    if not isinstance(env, yaml.SequenceNode) or env.flow_style or not env.value:
        return f"the env of {where.label} is not a block list"
    for item in env.value:
        fields = _plain(item)
        if isinstance(fields, dict) and fields.get("name") == variable:
            ref = (fields.get("valueFrom") or {}).get("secretKeyRef") or {}
            same = isinstance(ref, dict) and (ref.get("name"), ref.get("key")) == (secret, key)
            return Found(present=same, other=not same)
    first = env.value[0]
    dash = env.start_mark.column
    column = first.start_mark.column if isinstance(first, yaml.MappingNode) else dash + 2
    end = line_end(text, raw_content_end(env.value[-1]))
    return Found(end, newline + _item(dash, column, variable, secret, key, newline))


def _new_env(
    text: str, found: tuple[Any, Any, Any], variable: str, secret: str, key: str, newline: str
) -> Found:
    """A new ``env:`` key after the container's last one, its list indented the way the
    container's own list is under ``containers:`` (flush, or indented)."""
    key_node, items, node = found
    column = node.start_mark.column
    dash = column + max(items.start_mark.column - key_node.start_mark.column, 0)
    inner = dash + max(column - items.start_mark.column, 2)
    end = line_end(text, raw_content_end(node))
    body = _item(dash, inner, variable, secret, key, newline)
    return Found(end, f"{newline}{' ' * column}env:{newline}{body}")


def _item(dash: int, column: int, variable: str, secret: str, key: str, newline: str) -> str:
    pad, gap = " " * column, " " * max(column - dash - 1, 1)
    lines = [
        f"{' ' * dash}-{gap}name: {_scalar(variable)}",
        f"{pad}valueFrom:",
        f"{pad}  secretKeyRef:",
        f"{pad}    name: {_scalar(secret)}",
        f"{pad}    key: {_scalar(key)}",
    ]
    return newline.join(lines)


def _scalar(text: str) -> str:
    if _PLAIN.fullmatch(text) and text.lower() not in _SPECIAL:
        return text
    return json.dumps(text)


@dataclass(frozen=True)
class AddEnvRef:
    """``SideFile.merge``: the manifest's text with the entry added to the container; the
    text as it is when the entry is there already or the container sets the variable
    another way (it keeps its own). A value, not a closure: fixes pickle back from workers."""

    where: Where
    variable: str
    secret: str
    key: str

    def __call__(self, existing: str | None) -> str:
        if existing is None:
            raise ValueError("the manifest is gone")
        found = plan(existing, self.where, self.variable, self.secret, self.key)
        if isinstance(found, str):
            raise ValueError(found)
        return existing[: found.offset] + found.insert + existing[found.offset :]


# --- reading composed nodes ---------------------------------------------------------------


def _field(node: Any, name: str) -> Any:
    import yaml

    if not isinstance(node, yaml.MappingNode):
        return None
    for k, v in node.value:
        if isinstance(k, yaml.ScalarNode) and k.value == name:
            return v
    return None


def _plain(node: Any) -> Any:
    import yaml

    if isinstance(node, yaml.MappingNode):
        return {k.value: _plain(v) for k, v in node.value if isinstance(k, yaml.ScalarNode)}
    if isinstance(node, yaml.SequenceNode):
        return [_plain(v) for v in node.value]
    return node.value


def _pod_spec(doc: Any, kind: str) -> Any:
    spec = _field(doc, "spec")
    if kind == "Pod":
        return spec
    if kind == "CronJob":
        spec = _field(_field(spec, "jobTemplate"), "spec")
    return _field(_field(spec, "template"), "spec")


def _container(docs: list[Any], where: Where) -> tuple[Any, Any, Any] | None:
    """The container's list key, the list and the container's mapping."""
    import yaml

    for doc in docs:
        meta = _field(doc, "metadata")
        kind, name = _plain(_field(doc, "kind")), _plain(_field(meta, "name"))
        space = _plain(_field(meta, "namespace")) if _field(meta, "namespace") else None
        if (kind, name, space) != (where.kind, where.name, where.namespace):
            continue
        wanted = "initContainers" if where.init else "containers"
        spec = _pod_spec(doc, where.kind)
        for key_node, items in spec.value if isinstance(spec, yaml.MappingNode) else ():
            if getattr(key_node, "value", None) != wanted:
                continue
            for item in getattr(items, "value", None) or ():
                if _plain(_field(item, "name")) == where.container:
                    return key_node, items, item
    return None
