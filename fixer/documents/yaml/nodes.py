"""A YAML file as composed node trees with exact text spans.

Detection runs on PyYAML's libyaml-backed composer: it is about 25x faster than ruamel.yaml's
round-trip loader and its nodes carry character offsets, scalar quoting style and flow style,
which is all the editor needs. Nothing is ever re-serialised; edits are computed against the
original text (see ``edit``).
"""

from __future__ import annotations

import bisect
import operator
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, TypeAlias, TypeGuard

from fixer.documents.text import LineIndex, SourceText, newline_of
from fixer.model import Span
from yaml.nodes import MappingNode, ScalarNode, SequenceNode  # hot checks: no per-call import

#: PyYAML's composed nodes (MappingNode, SequenceNode, ScalarNode). Their stubs lack the
#: ``style``/``flow_style`` attributes the editor reads, so they are typed loosely here and
#: narrowed by ``is_mapping``/``is_sequence``/``is_scalar``.
Node: TypeAlias = Any


#: Refuse documents whose alias-expanded size passes this many nodes (billion laughs).
MAX_EXPANDED_NODES = 1_000_000
_TEMPLATE = re.compile(r"\{\{-?\s*[^}]*\}\}|\{%|%\}")
#: A comment, roughly (a ``#`` inside a quoted string goes too): template syntax there
#: does not make a broken file a template.
_COMMENT = re.compile(r"(?m)(?:^|(?<=\s))#.*$")
#: Anchor and alias tokens: the indicator then at least one anchor character (YAML 1.2
#: ``ns-anchor-char``: anything but blanks and flow indicators).
_ANCHOR = re.compile(r"&[^\s,\[\]{}]")
_ALIAS = re.compile(r"\*[^\s,\[\]{}]")
#: The same where a node can start: at a line's start, after ``- ``, ``? ``, a flow
#: indicator or ``:``, maybe after a tag (``!!seq &a``, ``!<tag:x,1:y> &a``). A ``&`` or
#: ``*`` inside text (a CRD's description of ``*int32``) is not there.
_NODE_START = r"(?:^[ \t]*|[?-][ \t]+|[\[{,:][ \t]*)(?:!\S*[ \t]+)?"
_ANCHOR_AT_NODE = re.compile(rf"(?m){_NODE_START}&[^\s,\[\]{{}}]")
_ALIAS_AT_NODE = re.compile(rf"(?m){_NODE_START}\*[^\s,\[\]{{}}]")
#: Texts up to this size are judged by the loose patterns alone (cheap to walk anyway).
_LOOSE_UP_TO = 256 * 1024


def may_alias(text: str) -> bool:
    """Whether ``text`` may hold an anchor and an alias: then its nodes may be shared (a
    walk must not visit one twice) and an alias bomb must be refused. Beyond 256 KB the
    ``&``/``*`` must also stand where a node starts: KServe's CRDs (40 MB) mention
    ``*int32`` and ``&`` in descriptions, and walking them for aliases they do not have
    cost more than composing them."""
    if _ALIAS.search(text) is None or _ANCHOR.search(text) is None:
        return False
    if len(text) <= _LOOSE_UP_TO:
        return True
    return _ALIAS_AT_NODE.search(text) is not None and _ANCHOR_AT_NODE.search(text) is not None


class YamlError(ValueError):
    """The text is not YAML tighten can edit (syntax error, alias bomb)."""


class TemplateError(YamlError):
    """The text is a template (Helm, Jinja), not YAML: skip it with a notice."""


@dataclass
class YamlFile:
    """Every document of one YAML file, with the file's formatting conventions."""

    source: SourceText
    documents: list[Node]
    lines: LineIndex = field(init=False, repr=False)
    _aliases: list[tuple[int, int]] | None = field(default=None, init=False, repr=False)
    #: Facts derived from the documents, computed once (``kube.objects``, ``pod_specs``).
    #: A fix pass parses a new ``YamlFile``, so entries never outlive the text they describe.
    cache: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.lines = LineIndex(self.source.text)

    @property
    def text(self) -> str:
        return self.source.text

    @property
    def newline(self) -> str:
        return newline_of(self.source.text)

    def alias_end(self, after: int) -> int:
        """End offset of the first ``*alias`` token at or after ``after``."""
        if self._aliases is None:
            self._aliases = _alias_tokens(self.source.text)
        index = bisect.bisect_left(self._aliases, (after, 0))
        if index == len(self._aliases):
            raise YamlError("alias token not found")
        return self._aliases[index][1]


def _alias_tokens(text: str) -> list[tuple[int, int]]:
    """(start, end) of every alias token, from libyaml's scanner (comments never match)."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return [
        (t.start_mark.index, t.end_mark.index)
        for t in yaml.scan(text, Loader=loader)
        if isinstance(t, yaml.AliasToken)
    ]


def _loader() -> Any:
    """libyaml's composer with a cheaper tag resolver, built once.

    PyYAML calls ``resolve`` in Python for every node libyaml composes: for a plain scalar
    it tries each implicit resolver's regular expression (a third of composing's time).
    The same plain values (``name``, ``image``, ``true``) recur in every manifest, so their
    tags are remembered; everything else is what ``Resolver.resolve`` answers when no path
    resolver is registered (none is, for the safe loader)."""
    global _LOADER
    if _LOADER is not None:
        return _LOADER
    import yaml

    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    resolve: Any = yaml.resolver.BaseResolver.resolve
    scalar_tag = base.DEFAULT_SCALAR_TAG
    sequence_tag = base.DEFAULT_SEQUENCE_TAG
    mapping_tag = base.DEFAULT_MAPPING_TAG
    plain: dict[str, str] = {}

    class Loader(base):  # type: ignore[misc, valid-type]
        def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
            if kind is ScalarNode:
                if not implicit[0]:
                    return scalar_tag
                tag = plain.get(value)
                if tag is None:
                    tag = resolve(self, kind, value, implicit)
                    if len(value) <= _MEMO_LENGTH and len(plain) < _MEMO_SIZE:
                        plain[value] = tag
                return tag
            return sequence_tag if kind is SequenceNode else mapping_tag

        # Only path resolvers need the path (the safe loader has none), yet libyaml's
        # composer calls these around every node: C no-ops (builtins do not bind to
        # ``self``) cost less than two Python calls per node.
        descend_resolver = staticmethod(operator.is_)
        ascend_resolver = staticmethod(tuple)

    assert not base.yaml_path_resolvers, "the fast resolver assumes no path resolvers"
    _LOADER = Loader
    return Loader


_LOADER: Any = None
#: Tags remembered for plain values this short, at most this many (bounded memory per worker).
_MEMO_LENGTH = 64
_MEMO_SIZE = 50_000


def compose_all(text: str) -> list[Node]:
    """Every non-empty document of ``text`` (libyaml with the fast resolver); raises
    ``yaml.YAMLError`` for text that is not YAML."""
    import yaml

    return [d for d in yaml.compose_all(text, Loader=_loader()) if d is not None]


def parse(source: SourceText) -> YamlFile:
    """Compose all documents of ``source``; raise ``YamlError`` with a one-line reason."""
    import yaml

    text = source.text
    try:
        docs = compose_all(text)
    except yaml.YAMLError as exc:
        if _TEMPLATE.search(_COMMENT.sub("", text)):  # template syntax that is not YAML
            raise TemplateError(_TEMPLATE_REASON) from None
        placeholder = _placeholder_at(text, exc)
        if placeholder:
            raise TemplateError(_PLACEHOLDER_REASON.format(placeholder)) from None
        if _ELLIPSIS.search(text):
            raise TemplateError(_EXCERPT_REASON) from None
        raise _invalid(exc) from None
    if "#@" in text and _YTT.search(text):
        raise TemplateError(_YTT_REASON)
    templated = "{{" in text or "{%" in text
    aliased = may_alias(text)
    for doc in docs:
        _check_document(doc, templated=templated, aliased=aliased)
    for doc in docs if aliased else ():
        # Without an ``&anchor`` and a ``*alias`` token nothing expands; most files have
        # neither (a ``*`` or ``&&`` in a value only costs this walk).
        if expanded_size(doc) > MAX_EXPANDED_NODES:
            raise YamlError(
                f"refused: aliases expand to more than {MAX_EXPANDED_NODES:,} nodes (alias bomb?)"
            )
    return YamlFile(source, docs)


_TEMPLATE_REASON = "looks like a Helm/Go template ({{ ... }}), not plain YAML"
#: A ytt annotation (``#@ load(...)``, ``name: #@ component``, ``#@overlay/match``): the
#: file is YAML, but a template whose output is what Kubernetes sees (as with Helm). A
#: fluentd setting commented out in a ConfigMap (``#@type null``) is not one.
_YTT = re.compile(
    r"(?m)(?:^[ \t]*(?:-[ \t]+)?|:[ \t]+)"
    r"#@(?:[ \t]+[\w(]|(?:overlay|data|schema|yaml|template|library|assert)/)"
)
_YTT_REASON = "looks like a ytt template (#@ annotations), not plain YAML"


#: A placeholder a script replaces before the file is applied (cert-manager's e2e setup:
#: ``sed -e "s|{SERVICE_IP_PREFIX}|...|g" make/config/bind/*.yaml | kubectl apply -f -``),
#: or the reader does (KServe's BentoML sample: ``image: {docker_username}/iris-classifier``).
_PLACEHOLDER = re.compile(r"\{[A-Za-z][A-Za-z0-9_]*\}")
_PLACEHOLDER_REASON = (
    "looks like a template ({} placeholders, which a script such as sed or envsubst, or "
    "the reader, fills in), not plain YAML"
)


#: An indented ``...`` line (or ``- ...``) standing for text left out: documentation
#: excerpts (external-secrets' ``docs/snippets/1password-connect-server-deployment.yaml``
#: elides each container's other settings). ``...`` at the start of a line is YAML's
#: document end, which parses.
_ELLIPSIS = re.compile(r"(?m)^[ \t]+(?:-[ \t]+)?(?:\.\.\.|…)[ \t]*$")
_EXCERPT_REASON = "looks like an excerpt (its '...' lines stand for text left out), not a manifest"


def _placeholder_at(text: str, exc: Exception) -> str:
    """The ``{NAME}`` placeholder on the line where YAML stopped (``clusterIP:
    {SERVICE_IP_PREFIX}.16`` is a flow mapping followed by text), or ""."""
    import yaml

    mark = exc.problem_mark if isinstance(exc, yaml.MarkedYAMLError) else None
    if mark is None:
        return ""
    lines = text.splitlines()
    line = lines[mark.line] if mark.line < len(lines) else ""
    found = _PLACEHOLDER.search(_COMMENT.sub("", line))
    return found.group() if found else ""


def _invalid(exc: Exception) -> YamlError:
    import yaml

    if not isinstance(exc, yaml.MarkedYAMLError):
        return YamlError(f"invalid YAML: {exc}")
    mark = exc.problem_mark or exc.context_mark
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
    context = ""
    if exc.context and exc.context_mark and exc.problem:
        context = f" ({exc.context} at line {exc.context_mark.line + 1})"
    return YamlError(f"invalid YAML: {where}{exc.problem or exc.context}{context}")


def _check_document(root: Node, *, templated: bool, aliased: bool) -> None:
    """One walk over a document (each node once), when it is a Kubernetes object or the
    text holds template syntax.

    A Kubernetes object with a key twice is refused: PyYAML's lookups see the first, the
    API server the last, so a ``privileged: true`` would hide behind a ``false``. Template
    syntax counts where YAML reads it as structure or as a plain value (``{{ .x }}`` is a
    flow mapping keyed by a flow mapping, ``x-{{ .y }}`` a plain scalar); quoted strings,
    block scalars and comments are data (Argo Workflows' ``"{{inputs.parameters.x}}"``).
    An object's mappings keep the key index the repeat check builds (``_index_checked``).
    """
    kube = _is_object_root(root)
    if not (kube or templated):
        return
    seen: set[int] = set()  # only needed when aliases make the tree a graph
    stack = [root]
    while stack:
        node = stack.pop()
        if aliased:
            if id(node) in seen:
                continue
            seen.add(id(node))
        if node.__class__ is MappingNode:
            pairs = node.value
            if templated:
                _no_template_keys(node)
            if kube:
                _index_checked(node, pairs)
            for key, value in pairs:
                if templated or key.__class__ is not ScalarNode:
                    stack.append(key)
                if templated or value.__class__ is not ScalarNode:
                    stack.append(value)
        elif node.__class__ is SequenceNode:
            stack.extend(node.value)
        elif templated and not node.style and ("{{" in node.value or "{%" in node.value):
            raise TemplateError(_TEMPLATE_REASON)


def _index_checked(mapping: Node, pairs: list[tuple[Node, Node]]) -> None:
    """Refuse a repeated key, and keep the key index ``get`` would build on its first
    look-up: one pass over the keys serves both (rules look up most of these mappings).

    The index holds the first value of each scalar key (reversed, so the first wins), as
    ``_index`` does; fewer entries than keys means a repeat, a ``<<`` merge or a collection
    as a key, which ``_no_duplicate_keys`` tells apart. A mapping with a ``<<`` key is left
    to ``_index``, which pulls in the merged keys."""
    index = {k.value: v for k, v in reversed(pairs) if k.__class__ is ScalarNode}
    if len(index) < len(pairs):
        _no_duplicate_keys(mapping)
    if "<<" not in index:
        mapping.tighten_index = index


def _no_template_keys(mapping: Node) -> None:
    if mapping.flow_style and any(k.__class__ is MappingNode for k, _ in mapping.value):
        raise TemplateError(_TEMPLATE_REASON)


def _is_object_root(node: Node) -> bool:
    if node.__class__ is not MappingNode:
        return False
    keys = {k.value for k, _ in node.value if k.__class__ is ScalarNode}
    return "apiVersion" in keys and "kind" in keys


def _no_duplicate_keys(mapping: Node) -> None:
    seen: set[str] = set()
    for key, _ in mapping.value:
        if key.__class__ is not ScalarNode or (key.value == "<<" and key.tag.endswith(":merge")):
            continue
        if key.value in seen:
            raise YamlError(
                f"duplicate key {key.value!r} at line {key.start_mark.line + 1} "
                "(Kubernetes would use the last one); file left unchanged"
            )
        seen.add(key.value)


def expanded_size(root: Node) -> int:
    """Node count with every alias expanded, computed without expanding (memoised by id)."""
    import yaml

    sizes: dict[int, int] = {}
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        if id(node) in sizes:
            continue
        kids = list(children(node)) if not isinstance(node, yaml.ScalarNode) else []
        if done or not kids:
            sizes[id(node)] = 1 + sum(sizes.get(id(k), 1) for k in kids)
            continue
        stack.append((node, True))
        stack.extend((k, False) for k in kids if id(k) not in sizes)
        if len(sizes) > MAX_EXPANDED_NODES:
            break
    return min(sizes.get(id(root), 1), 10**18)


def children(node: Node) -> Iterator[Node]:
    import yaml

    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            yield k
            yield v
    elif isinstance(node, yaml.SequenceNode):
        yield from node.value


# --- typed access -------------------------------------------------------------------------


def span(node: Node) -> Span:
    """The node's text, from libyaml's marks (an anchor or tag included: ``edit.value_span``
    leaves them out). The one place that reads both marks of a node."""
    return Span(node.start_mark.index, node.end_mark.index)


def is_mapping(node: Node | None) -> TypeGuard[Node]:
    return isinstance(node, MappingNode)


def is_sequence(node: Node | None) -> TypeGuard[Node]:
    return isinstance(node, SequenceNode)


def is_scalar(node: Node | None) -> TypeGuard[Node]:
    return isinstance(node, ScalarNode)


def pairs(mapping: Node) -> Iterator[tuple[Node, Node]]:
    """Key/value pairs of a mapping, own keys first, then keys pulled in by ``<<`` merges."""
    if not is_mapping(mapping):
        return
    merged: list[Node] = []
    for k, v in mapping.value:
        if is_scalar(k) and k.value == "<<" and k.tag.endswith(":merge"):
            merged.extend(v.value if is_sequence(v) else [v])
        else:
            yield k, v
    for source in merged:
        yield from pairs(source)


def get(mapping: Node | None, key: str) -> Node | None:
    """The value node of ``key`` (own key wins over a merged one), or None.

    The hottest function of ``check`` (every rule walks objects with it, half a million
    look-ups over the corpus): each mapping gets a key index on its first look-up (an
    object's mappings while ``parse`` checks them), kept on the node (nodes are never changed: a fix pass composes new ones). A missing mapping
    (one look-up in five: ``get(get(sc, "capabilities"), "add")``) is answered before the
    ``try``: an exception costs more than the comparison does on every other call."""
    if mapping is None:
        return None
    try:
        return mapping.tighten_index.get(key)
    except AttributeError:  # not indexed yet, or not a mapping (a scalar, a list)
        if not isinstance(mapping, MappingNode):
            return None
        return _indexed(mapping).get(key)


def _indexed(mapping: Node) -> dict[str, Node]:
    try:
        return mapping.tighten_index  # type: ignore[no-any-return]
    except AttributeError:
        index = mapping.tighten_index = _index(mapping)
        return index


def _index(mapping: Node) -> dict[str, Node]:
    """Key to value node, as ``pairs`` yields them first-to-last, the first one winning:
    own keys, then the keys of ``<<`` merges in order (recursively)."""
    index: dict[str, Node] = {}
    merged: list[Node] = []
    for k, v in mapping.value:
        if not isinstance(k, ScalarNode):
            continue
        if k.value == "<<" and k.tag.endswith(":merge"):
            merged.extend(v.value if isinstance(v, SequenceNode) else [v])
        else:
            index.setdefault(k.value, v)
    for source in merged:
        if isinstance(source, MappingNode):
            for key, value in _indexed(source).items():
                index.setdefault(key, value)
    return index


def key_node(mapping: Node, key: str) -> Node | None:
    """The key node itself (own keys only), for reporting positions."""
    for k, _ in mapping.value if is_mapping(mapping) else ():
        if is_scalar(k) and k.value == key:
            return k
    return None


def get_path(node: Node | None, *keys: str) -> Node | None:
    for key in keys:
        node = get(node, key)
        if node is None:
            return None
    return node


def scalar(node: Node | None) -> str | None:
    """The scalar's value as text, or None for a missing or non-scalar node."""
    return node.value if is_scalar(node) else None


def number(node: Node | None) -> int | None:
    """A scalar of digits as an int (``runAsUser: 1000``), else None."""
    text = scalar(node)
    return int(text) if text is not None and text.isdigit() else None


def is_null(node: Node | None) -> bool:
    return node is None or (is_scalar(node) and node.tag.endswith(":null"))


def truthy(node: Node | None) -> bool:
    """A YAML 1.1 boolean true as Kubernetes reads it (``true``/``True``/``TRUE``)."""
    return (
        is_scalar(node)
        and node.tag.endswith(":bool")
        and node.value.lower() in ("true", "yes", "on")
    )


def is_alias_of(child: Node, parent: Node) -> bool:
    """True when ``child`` lies outside ``parent``'s text: it was reached through an alias,
    so an edit there changes the anchor and every other place that uses it."""
    return not (parent.start_mark.index <= child.start_mark.index < max(parent.end_mark.index, 1))
