"""Edits against YAML text that look as if the file's author had typed them.

Scalars are replaced in place (quote style and trailing comments kept); new keys are
inserted as whole lines that copy the neighbours' indentation, sequence style and newline,
or as flow syntax inside a flow mapping. Only small fragments are rendered, by hand, because
re-serialising a document would lose the author's formatting.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Union

from fixer.documents.text import LineIndex
from fixer.documents.yaml import nodes as y
from fixer.model import Edit, Span
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

if TYPE_CHECKING:
    from fixer.documents.yaml.nodes import Node, YamlFile

Value = Union[bool, int, str, None, Sequence["Value"], Mapping[str, "Value"]]  # noqa: UP007

_PLAIN_SAFE = re.compile(r"^[A-Za-z0-9_/][A-Za-z0-9_./@:+-]*$")
_RESERVED = re.compile(
    r"^(?:~|null|Null|NULL|true|True|TRUE|false|False|FALSE|yes|Yes|YES|no|No|NO|on|On|ON"
    r"|off|Off|OFF|y|Y|n|N|[-+]?(?:\d[\d_]*)?(?:\.\d*)?(?:[eE][-+]?\d+)?|0x[0-9a-fA-F]+"
    r"|0o[0-7]+|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)|\d+(?::\d+)+)$"
)


@dataclass(frozen=True)
class Style:
    """How a file writes block YAML: indent width, sequence indentation, quotes, newline."""

    indent: int = 2
    seq_indented: bool = False
    quote: str = '"'
    newline: str = "\n"
    #: Every block mapping of three keys or more has them in sorted order (at least three
    #: such mappings): a file written by ``kubectl kustomize``, ``kubectl get -o yaml`` or
    #: another tool that sorts. New keys go where the tool would put them (``insert_keys``),
    #: so a bundle edited with its sources still renders the same.
    sorted_keys: bool = False

    @classmethod
    def of(
        cls, doc: YamlFile, *, roots: list[Node] | None = None, fallback: Style | None = None
    ) -> Style:
        """The style of ``doc`` (of its documents ``roots`` only, when given); what those
        documents do not show (no nested mapping, no block sequence) comes from
        ``fallback``."""
        indents: list[int] = []
        seq_flags: list[bool] = []
        quotes = {'"': 0, "'": 0}
        orders = [0, 0]  # mappings of 3+ keys: [sorted, not sorted]
        # Without both an anchor and an alias every node is reached once: no need to
        # remember which were seen.
        aliased = "&" in doc.text and "*" in doc.text
        for root in doc.documents if roots is None else roots:
            _survey(root, indents, seq_flags, quotes, [400], aliased, orders)
        base = fallback or cls()  # what nothing surveyed says: the defaults, or the file's
        indent = _mode(indents) or base.indent
        if seq_flags:
            seq_indented = seq_flags.count(True) * 2 > len(seq_flags)
        else:
            seq_indented = base.seq_indented
        if quotes["'"] == quotes['"']:
            quote = base.quote
        else:
            quote = "'" if quotes["'"] > quotes['"'] else '"'
        sorted_keys = orders[1] == 0 if orders[0] + orders[1] >= 3 else base.sorted_keys
        return cls(indent, seq_indented, quote, doc.newline, sorted_keys)


def _survey(
    node: Node,
    indents: list[int],
    seq: list[bool],
    quotes: dict[str, int],
    budget: list[int],
    aliased: bool = True,
    orders: list[int] | None = None,
) -> None:
    """Collect indentation facts from block collections (bounded work per file).

    Node classes are compared directly (libyaml composes exactly these three): this runs
    over hundreds of nodes of every file a fix touches."""
    mapping_node, sequence_node, scalar_node = MappingNode, SequenceNode, ScalarNode
    stack = [node]
    seen: set[int] = set()
    left = budget[0]
    while stack and left > 0:
        node = stack.pop()
        if aliased:
            if id(node) in seen:
                continue
            seen.add(id(node))
        left -= 1
        cls = node.__class__
        if cls is scalar_node:
            if node.style in quotes:
                quotes[node.style] += 1
            continue
        if cls is mapping_node:
            if not node.flow_style:
                col = node.start_mark.column
                if orders is not None and len(node.value) >= 3:
                    keys = [k.value for k, _ in node.value if k.__class__ is scalar_node]
                    orders[keys != sorted(keys) or len(keys) < len(node.value)] += 1
                for _, v in node.value:
                    vcls = v.__class__
                    if vcls is mapping_node and not v.flow_style and v.start_mark.column > col:
                        indents.append(v.start_mark.column - col)
                    elif vcls is sequence_node and not v.flow_style:
                        seq.append(v.start_mark.column > col)
            for k, v in node.value:
                stack.append(k)
                stack.append(v)
        elif cls is sequence_node:
            stack.extend(node.value)
    budget[0] = left


def _mode(values: list[int]) -> int:
    values = [v for v in values if 1 <= v <= 8]
    return max(set(values), key=values.count) if values else 0


# --- rendering ----------------------------------------------------------------------------


def render_scalar(value: bool | int | str | None, quote: str = '"') -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return _render_text(value, quote)


@functools.lru_cache(maxsize=4096)
def _render_text(value: str, quote: str) -> str:
    """A string scalar: plain when YAML reads it back as the same string, else quoted
    (the same few keys and values are rendered for every workload)."""
    if _PLAIN_SAFE.match(value) and not _RESERVED.match(value) and ": " not in value:
        return value
    return _quoted(value, quote)


def render_flow(value: Value, quote: str = '"') -> str:
    if isinstance(value, Mapping):
        inner = ", ".join(
            f"{render_scalar(k, quote)}: {render_flow(v, quote)}" for k, v in value.items()
        )
        return "{" + inner + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(render_flow(v, quote) for v in value) + "]"
    return render_scalar(value, quote)  # type: ignore[arg-type]


def render_block(mapping: Mapping[str, Value], column: int, style: Style) -> list[str]:
    """Lines (without newlines) for ``mapping`` with its keys at ``column`` (sorted, in a
    file that sorts its keys)."""
    pad = " " * column
    lines: list[str] = []
    for key, value in sorted(mapping.items()) if style.sorted_keys else mapping.items():
        head = f"{pad}{render_scalar(key, style.quote)}:"
        if isinstance(value, Mapping) and value:
            lines.append(head)
            lines.extend(render_block(value, column + style.indent, style))
        elif isinstance(value, (list, tuple)) and value:
            lines.append(head)
            lines.extend(
                _render_seq(value, column + (style.indent if style.seq_indented else 0), style)
            )
        else:
            lines.append(f"{head} {render_flow(value, style.quote)}")
    return lines


def _render_seq(items: Sequence[Value], column: int, style: Style) -> list[str]:
    lines: list[str] = []
    for item in items:
        if isinstance(item, Mapping) and item:
            block = render_block(item, column + 2, style)
            lines.append(" " * column + "- " + block[0][column + 2 :])
            lines.extend(block[1:])
        else:
            lines.append(" " * column + "- " + render_flow(item, style.quote))
    return lines


# --- positions ----------------------------------------------------------------------------


def content_end(node: Node, doc: YamlFile) -> int:
    """Offset just past the node's own text.

    Block collections' end marks run on over trailing blank and comment lines, so walk
    down to the last scalar or flow node. A last value that is an alias (``*name``) ends
    where its token ends: the composed node is the anchor's, whose text is elsewhere.
    """
    text = doc.text
    while (y.is_mapping(node) or y.is_sequence(node)) and not node.flow_style and node.value:
        if y.is_mapping(node):
            key, last = node.value[-1]
            after = key.end_mark.index
        else:
            last = node.value[-1]
            after = node.value[-2].end_mark.index if len(node.value) > 1 else node.start_mark.index
        if last.start_mark.index < after:
            return doc.alias_end(after)
        node = last
    end: int = node.end_mark.index
    if y.is_scalar(node) and node.style in ("|", ">"):
        header = text[node.start_mark.index : text.find("\n", node.start_mark.index)]
        if "+" not in header:  # keep-chomped scalars own their trailing blank lines
            while end > node.start_mark.index and text[end - 1] in " \t\r\n":
                end -= 1
    return end


def line_after(offset: int, lines: LineIndex) -> int:
    """Insertion point at the start of the line after the one holding ``offset - 1``."""
    line = lines.line_of(max(offset - 1, 0))
    return lines.line_end(line, with_newline=True)


# --- edits --------------------------------------------------------------------------------


_PROPERTIES = re.compile(r"(?:[&!][^\s,\]}]*[ \t]+)+")


def value_span(node: Node, text: str) -> Span:
    """The scalar's own text: libyaml's start mark includes its ``&anchor``/``!tag``."""
    whole = y.span(node)
    props = _PROPERTIES.match(text, whole.start, whole.end)
    return Span(props.end(), whole.end) if props else whole


def replace_scalar(node: Node, value: bool | int | str, style: Style, text: str) -> Edit:
    """Replace a scalar's value text, keeping its anchor or tag, and its quotes (single or
    double) when it was quoted."""
    span = value_span(node, text)
    if node.style in ('"', "'") and isinstance(value, str):
        rendered = _quoted(value, node.style)
    else:
        rendered = render_scalar(value, style.quote)
    return Edit(span, rendered)


def _quoted(value: str, quote: str) -> str:
    if quote == "'" and "\n" not in value:
        return "'" + value.replace("'", "''") + "'"
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return '"' + escaped + '"'


def insert_keys(
    doc: YamlFile, mapping: Node, entries: Mapping[str, Value], style: Style
) -> list[Edit]:
    """``insert_into_mapping``; in a file whose mappings keep their keys sorted
    (``Style.sorted_keys``), each new key goes before the first key that sorts after it,
    as the tool that wrote the file would place it (argo-events'
    ``install-validating-webhook.yaml``, ``kubectl kustomize`` output kept in step with its
    sources: ``securityContext`` before ``serviceAccountName``)."""
    pairs = mapping.value
    if (
        not style.sorted_keys
        or mapping.flow_style
        or not pairs
        or any(k.__class__ is not ScalarNode for k, _ in pairs)
    ):
        return [insert_into_mapping(doc, mapping, entries, style)]
    keys = [k.value for k, _ in pairs]
    if keys != sorted(keys):  # a short mapping the survey did not count
        return [insert_into_mapping(doc, mapping, entries, style)]
    groups: dict[int, dict[str, Value]] = {}
    for key, value in entries.items():
        at = bisect.bisect_right(keys, key)
        groups.setdefault(at, {})[key] = value
    edits: list[Edit] = []
    column = pairs[0][0].start_mark.column
    for at, group in sorted(groups.items()):
        before = pairs[at][0] if at < len(pairs) else None
        start = doc.lines.line_start(doc.lines.line_of(before.start_mark.index)) if before else 0
        if before is None or doc.text[start : before.start_mark.index].strip():
            # The end, or a first key that shares its line with the item's ``- ``.
            edits.append(insert_into_mapping(doc, mapping, group, style))
            continue
        lines = render_block(group, column, style)
        edits.append(Edit.insert(start, "".join(line + style.newline for line in lines)))
    return edits


def insert_into_mapping(
    doc: YamlFile, mapping: Node, entries: Mapping[str, Value], style: Style
) -> Edit:
    """Add ``entries`` as new keys at the end of ``mapping`` (block or flow)."""
    text = doc.text
    if mapping.flow_style:
        close = mapping.end_mark.index - 1
        inner = ", ".join(
            f"{render_scalar(k, style.quote)}: {render_flow(v, style.quote)}"
            for k, v in entries.items()
        )
        body = text[mapping.start_mark.index + 1 : close]
        sep = ", " if body.strip() else ""
        return Edit.insert(_before_space(text, close, mapping.start_mark.index + 1), sep + inner)
    column = mapping.value[0][0].start_mark.column
    lines = render_block(entries, column, style)
    after = line_after(content_end(mapping, doc), doc.lines)
    commented = _commented_out(text, after, lines, column)
    if commented is not None:
        return commented
    at = _past_nested_comments(text, after, column)
    nl = style.newline
    if at == len(text) and not text.endswith("\n"):
        return Edit.insert(at, "".join(nl + line for line in lines))
    return Edit.insert(at, "".join(line + nl for line in lines))


def _commented_out(text: str, at: int, lines: list[str], column: int) -> Edit | None:
    """The new lines, uncommented, where the comments right after the mapping's last entry
    hold them commented out (a kubebuilder project's ``config/manager/manager.yaml``:
    ``# Please uncomment the following code ...`` then ``# seccompProfile:`` and ``#   type:
    RuntimeDefault`` under the pod's ``securityContext``): the author's own block, taken
    as they wrote it, rather than a second copy above it."""
    end = at
    while end < len(text):  # the comment and blank lines that follow the entry
        stop = text.find("\n", end)
        line = text[end : len(text) if stop < 0 else stop]
        if line.strip() and not line.lstrip().startswith("#"):
            break
        end = len(text) if stop < 0 else stop + 1
    region = text[at:end]
    if "#" not in region:
        return None
    for mark in ("# ", "#"):
        commented = [ln[:column] + mark + ln[column:] for ln in lines]
        pattern = "".join(re.escape(c) + r"[ \t]*\r?\n" for c in commented)
        m = re.search(rf"(?m)^{pattern}", region)
        if m is not None and not _continues(region, m.end(), column + len(mark)):
            newline = "\r\n" if m.group().endswith("\r\n") else "\n"
            body = "".join(line + newline for line in lines)
            return Edit.replace(at + m.start(), at + m.end(), body)
    return None


def _continues(region: str, at: int, start: int) -> bool:
    """The commented-out block goes on past ``at``: its next line is a comment whose text
    starts right of ``start``, the column where the block's first key starts (Consul's
    demo chart comments out ``# securityContext:``, ``#   allowPrivilegeEscalation:
    false`` and ``#   runAsUser: 0`` under "Added for debugging purposes - NOT
    RECOMMENDED"). Uncommenting the first two lines would split the author's block and
    leave their warning above a setting it never meant."""
    stop = region.find("\n", at)
    line = region[at : len(region) if stop < 0 else stop].rstrip("\r")
    body = line.lstrip(" ")
    if not body.startswith("#"):
        return False
    content = body[1:].lstrip(" ")
    return bool(content.strip()) and len(line) - len(content) > start


def _past_nested_comments(text: str, at: int, column: int) -> int:
    """Past the comment lines after the mapping's last entry that are indented deeper than
    its keys (``# end csi volumes`` closing a nested list), blank lines between them too:
    they belong to that entry (nothing deeper follows the mapping's end), and a new key
    inserted above them would take them away from it (ingress-nginx's custom error
    backend keeps a commented-out ``# volumeMounts:`` for its container after a blank
    line). A comment at the keys' column or less introduces what follows and stays below,
    with the blank lines before it. Lines of YAML commented out by a ``#`` at the line's
    start keep their own indentation after it (kured's optional arguments,
    ``#            - --reboot-signal=39`` below the last ``command:`` item): they count
    by where their text starts."""
    past = at
    while at < len(text):
        end = text.find("\n", at)
        line = text[at : len(text) if end < 0 else end]
        body = line.lstrip(" ")
        following = len(text) if end < 0 else end + 1
        if not body.strip():
            at = following  # a blank line: kept below unless deeper comments follow
            continue
        if not body.startswith("#"):
            break
        if len(line) - len(body) <= column and not _commented_deeper(body, line, column):
            break
        at = past = following
    return past


#: What a commented-out line of block YAML starts with: a list item or a ``key:``.
_COMMENTED_YAML = re.compile(r"- |[\w./\"'-]+:(?:\s|$)")


def _commented_deeper(body: str, line: str, column: int) -> bool:
    """``body`` (a comment) is YAML commented out whose text, after the ``#``, starts to
    the right of the keys' ``column`` (one more: the ``#`` took a space's place)."""
    content = body[1:].lstrip(" ")
    start = len(line) - len(content)
    spaced = len(body) - len(content) - 1 >= 2  # ``# note: x`` is prose, one space in
    return spaced and start > column + 1 and bool(_COMMENTED_YAML.match(content))


def _before_space(text: str, close: int, floor: int) -> int:
    """Insert before trailing spaces/newlines in front of a closing bracket."""
    at = close
    while at > floor and text[at - 1] in " \t\r\n":
        at -= 1
    return at


def set_value(
    doc: YamlFile, key_node: Node, value_node: Node, value: Mapping[str, Value], style: Style
) -> Edit:
    """Give an empty (null or ``{}``) value a mapping: flow where the file wrote ``{}``,
    block lines under the key otherwise."""
    text = doc.text
    if y.is_mapping(value_node) and value_node.flow_style:
        # `&anchor {}` keeps its anchor: only the braces are rewritten.
        return Edit(value_span(value_node, text), render_flow(value, style.quote))
    parent_col = key_node.start_mark.column
    lines = render_block(value, parent_col + style.indent, style)
    if y.is_scalar(value_node) and len(y.span(value_node)) > 0:
        # An explicit null (`key: null` / `key: ~`): replace it by the block.
        start = value_node.start_mark.index
        while start > 0 and text[start - 1] in " \t":
            start -= 1
        return Edit.replace(
            start, value_node.end_mark.index, "".join(style.newline + ln for ln in lines)
        )
    # After the key's line, so a trailing comment (`key:  # why`) stays on the key.
    at = doc.lines.line_end(doc.lines.line_of(key_node.end_mark.index))
    return Edit.insert(at, "".join(style.newline + ln for ln in lines))
