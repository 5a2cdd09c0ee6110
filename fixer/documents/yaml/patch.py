"""A builder for many changes to one YAML document that must land as one fix.

Rules say *what* they want (``ensure`` these keys, ``append`` to that sequence, ``remove``
those items) and the patch works out the edits: new keys for one mapping are gathered into
a single insertion, insertions that land at the same offset are merged (deeper ones first),
and aliased nodes are edited once, at their anchor.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from fixer.documents.yaml import nodes as y
from fixer.documents.yaml.edit import (
    Style,
    Value,
    content_end,
    insert_keys,
    line_after,
    render_block,
    render_flow,
    render_scalar,
    replace_scalar,
    set_value,
)
from fixer.documents.yaml.nodes import Node, YamlFile
from fixer.model import Edit, Span

_TRUE = ("true", "yes", "on")


def same_scalar(node: Node, want: bool | int | str | None) -> bool:
    """True when a scalar node already holds ``want`` as Kubernetes would read it."""
    if not y.is_scalar(node):
        return False
    value: str = node.value
    if isinstance(want, bool):
        return bool(node.tag.endswith(":bool")) and (value.lower() in _TRUE) == want
    if isinstance(want, int):
        return bool(node.tag.endswith(":int")) and value.strip().lstrip("+") == str(want)
    if want is None:
        return y.is_null(node)
    return value == want


@dataclass
class Patch:
    doc: YamlFile
    #: The file's style, or what surveys it: the survey runs when an edit is rendered, so
    #: a deferred fix that is never built never pays for it.
    style_of: Style | Callable[[], Style]
    _inserts: dict[int, tuple[Node, dict[str, Value]]] = field(default_factory=dict)
    _empty: dict[int, tuple[Node, Node, dict[str, Value]]] = field(default_factory=dict)
    _edits: list[Edit] = field(default_factory=list)
    #: Edits whose text depends on the file's style, rendered by ``edits``: a check that
    #: never builds the fix never surveys the file.
    _scalars: list[tuple[Node, Value]] = field(default_factory=list)
    _appends: list[tuple[Node, Value]] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)

    def ensure(self, mapping: Node, desired: Mapping[str, Value], path: str = "") -> None:
        """Make ``mapping`` hold ``desired``: missing keys are added, different scalars
        replaced in place, nested mappings ensured recursively. A key pulled in by a ``<<``
        merge is overridden by an own key rather than edited at its anchor."""
        for key, want in desired.items():
            key_node = y.key_node(mapping, key)
            node = y.get(mapping, key) if key_node is not None else None
            where = f"{path}{key}"
            if key_node is None:
                self.insert(mapping, {key: want}, where, inherited=y.get(mapping, key))
            elif isinstance(want, Mapping):
                if y.is_mapping(node):
                    self.ensure(node, want, where + ".")
                elif y.is_null(node) or (y.is_mapping(node) and not node.value):
                    self._set_empty(key_node, node, dict(want), where)
            elif not same_scalar(node, want) and y.is_scalar(node):  # type: ignore[arg-type]
                self._scalars.append((node, want))
                self.changes.append(f"{where}: {node.value} -> {render_scalar(want)}")  # type: ignore[arg-type]

    def insert(
        self,
        mapping: Node,
        entries: Mapping[str, Value],
        where: str = "",
        inherited: Node | None = None,
    ) -> None:
        """Queue new keys for ``mapping`` (one insertion per mapping)."""
        if y.is_mapping(mapping) and not mapping.value:  # `{}`: becomes a flow mapping
            return self._set_empty(None, mapping, dict(entries), where)
        _, pending = self._inserts.setdefault(id(mapping), (mapping, {}))
        _deep_merge(pending, entries)
        verb = "override" if inherited is not None else "add"
        self.changes.append(f"{verb} {where or ', '.join(entries)}")

    def _set_empty(
        self, key_node: Node | None, value_node: Node, desired: dict[str, Value], where: str
    ) -> None:
        _, _, pending = self._empty.setdefault(id(value_node), (key_node, value_node, {}))
        _deep_merge(pending, desired)
        self.changes.append(f"add {where}")

    def append(self, seq: Node, item: Value, where: str = "") -> None:
        """Add an item at the end of a sequence, in its own style."""
        self._appends.append((seq, item))
        shown = render_flow(item, '"') if not isinstance(item, Mapping) else "{...}"
        self.changes.append(f"{where} += {shown}")

    def _appended(self, seq: Node, item: Value) -> Edit:
        text = self.doc.text
        rendered = render_flow(item, _quote_of(seq, self.style))
        if seq.flow_style:
            close = seq.end_mark.index - 1
            body = text[seq.start_mark.index + 1 : close]
            at = close
            while at > seq.start_mark.index + 1 and text[at - 1] in " \t\r\n":
                at -= 1
            return Edit.insert(at, (", " if body.strip() else "") + rendered)
        else:
            last = seq.value[-1]
            dash = self.doc.lines.line_start(self.doc.lines.line_of(last.start_mark.index))
            pad = text[dash : last.start_mark.index]  # "  - " as the author wrote it
            pad = pad if pad.strip() == "-" else " " * (last.start_mark.column - 2) + "- "
            at = line_after(content_end(seq, self.doc), self.doc.lines)
            nl = self.style.newline
            if isinstance(item, Mapping) and item:
                block = render_block(item, len(pad), self.style)
                lines = [pad + block[0][len(pad) :], *block[1:]]
            else:
                lines = [pad + rendered]
            if at == len(text) and not text.endswith("\n"):
                return Edit.insert(at, "".join(nl + ln for ln in lines))
            return Edit.insert(at, "".join(ln + nl for ln in lines))

    def remove_items(self, seq: Node, drop: Callable[[Node], bool], where: str = "") -> int:
        """Delete the items ``drop`` selects; returns how many remain."""
        keep = [item for item in seq.value if not drop(item)]
        gone = [item for item in seq.value if drop(item)]
        if not gone:
            return len(keep)
        text = self.doc.text
        if seq.flow_style:
            # Rewrite the brackets' content from the kept items' own text (quotes kept).
            whole = y.span(seq)
            sep = ", " if ", " in text[whole.start : whole.end] or len(seq.value) < 2 else ","
            body = sep.join(text[(s := y.span(i)).start : s.end] for i in keep)
            self._edits.append(Edit(whole, f"[{body}]"))
        else:
            self._edits.extend(self._delete_lines([(item, item) for item in gone]))
        for item in gone:
            self.changes.append(f"remove {where} {item.value if y.is_scalar(item) else '?'}")
        return len(keep)

    def replace(self, span: Span, text: str, where: str = "") -> None:
        """Replace a node's whole text (a flow collection rewritten in one piece)."""
        self._edits.append(Edit(span, text))
        self.changes.append(f"rewrite {where}")

    def remove_key(self, mapping: Node, key: str, where: str = "") -> None:
        """Delete ``key`` and its value from a block mapping (whole lines)."""
        key_node = y.key_node(mapping, key)
        if key_node is None:
            return
        value = y.get(mapping, key)
        if mapping.flow_style:
            self._edits.append(_flow_pair_deletion(self.doc.text, mapping, key_node, value))
        else:
            self._edits.extend(self._delete_lines([(key_node, value)]))
        self.changes.append(f"remove {where or key}")

    def _delete_lines(self, blocks: list[tuple[Node, Node]]) -> list[Edit]:
        """Whole-line deletions from each block's first node to the end of its last one;
        adjacent blocks become one deletion (so the end-of-file rule cannot overlap)."""
        lines = self.doc.lines
        ranges: list[list[int]] = []
        for first, last in blocks:
            a = lines.line_of(first.start_mark.index)
            b = lines.line_of(max(content_end(last, self.doc) - 1, first.start_mark.index))
            if ranges and a <= ranges[-1][1] + 1:
                ranges[-1][1] = max(ranges[-1][1], b)
            else:
                ranges.append([a, b])
        return [Edit.delete(*lines.deletion(a, b)) for a, b in ranges]

    @property
    def style(self) -> Style:
        if not isinstance(self.style_of, Style):
            self.style_of = self.style_of()
        return self.style_of

    @property
    def empty(self) -> bool:
        """No change was asked for: ``edits`` would return none."""
        return not (self._edits or self._inserts or self._empty or self._scalars or self._appends)

    def edits(self) -> list[Edit]:
        out = list(self._edits)
        text = self.doc.text
        out += (replace_scalar(node, want, self.style, text) for node, want in self._scalars)  # type: ignore[arg-type]
        out += (self._appended(seq, item) for seq, item in self._appends)
        for mapping, entries in self._inserts.values():
            out += insert_keys(self.doc, mapping, entries, self.style)
        for key_node, value_node, entries in self._empty.values():
            out.append(set_value(self.doc, key_node, value_node, entries, self.style))
        return _merge_same_offset(out)


def _deep_merge(into: dict[str, Value], extra: Mapping[str, Value]) -> None:
    """Merge pending insertions: two rules' wishes for one new mapping become one."""
    for key, value in extra.items():
        mine = into.get(key)
        if isinstance(mine, Mapping) and isinstance(value, Mapping):
            merged = dict(mine)
            _deep_merge(merged, value)
            into[key] = merged
        else:
            into.setdefault(key, value)


def _quote_of(seq: Node, style: Style) -> str:
    for item in seq.value:
        if y.is_scalar(item) and item.style in ('"', "'"):
            return str(item.style)
    return style.quote


def _merge_same_offset(edits: list[Edit]) -> list[Edit]:
    """Insertions at one offset become one edit: deeper (more indented) text first."""
    inserts: dict[int, list[str]] = {}
    out: list[Edit] = []
    for edit in dict.fromkeys(edits):
        if len(edit.span) == 0:
            inserts.setdefault(edit.span.start, []).append(edit.content)
        else:
            out.append(edit)
    for offset, contents in inserts.items():
        contents.sort(key=lambda c: -_indent(c))
        out.append(Edit.insert(offset, "".join(contents)))
    return out


def _indent(content: str) -> int:
    line = content.lstrip("\r\n")
    return len(line) - len(line.lstrip(" "))


def _flow_item_deletion(text: str, seq: Node, item: Span) -> Edit:
    """Remove one element (``item``) of ``[a, b, c]`` with one neighbouring comma."""
    start, end = item.start, item.end
    after = end
    while after < len(text) and text[after] in " \t":
        after += 1
    if after < len(text) and text[after] == ",":
        after += 1
        while after < len(text) and text[after] in " \t":
            after += 1
        return Edit.delete(start, after)
    before = start
    while before > seq.start_mark.index + 1 and text[before - 1] in " \t":
        before -= 1
    if text[before - 1] == ",":
        before -= 1
    return Edit.delete(before, end)


def _flow_pair_deletion(text: str, mapping: Node, key_node: Node, value: Node) -> Edit:
    """Remove ``key: value`` from ``{...}`` with one neighbouring comma."""
    pair = Span(y.span(key_node).start, y.span(value).end)
    return _flow_item_deletion(text, mapping, pair)
