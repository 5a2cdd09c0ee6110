"""The YAML fast paths (memoised tag resolver, per-mapping key index, the style survey
without a seen-set) answer exactly what the plain PyYAML paths answer."""

from __future__ import annotations

from typing import Any

import yaml

from fixer.documents.text import SourceText
from fixer.documents.yaml import nodes as y
from fixer.documents.yaml.edit import Style
from tests.helpers import scan_get

TRICKY = """\
plain: value
bools: [true, True, TRUE, false, yes, No, on, OFF, y, n]
ints: [0, -1, +7, 0x1f, 0o17, 1_000, 10:20:30]
floats: [1.5, -.5, .inf, -.Inf, .NaN, 6.8523015e+5]
nulls: [~, null, Null, ""]
quoted: ["true", '1', "null", 'plain']
stamp: 2001-12-14t21:59:43.10-05:00
date: 2002-12-14
tagged: !!str 42
empty:
"<<": not a merge
base: &base {a: 1, b: 2}
more: &more {b: 3, c: 4}
child:
  <<: [*base, *more]
  a: own
deep:
  <<: {x: 1, <<: {y: 2, x: 0}}
block: |
  text
"""


def _tags(node: Any) -> list[tuple[str, int, int]]:
    out = [(node.tag, node.start_mark.index, node.end_mark.index)]
    for child in y.children(node):
        out.extend(_tags(child))
    return out


def test_the_memoised_resolver_tags_every_scalar_as_pyyaml_does() -> None:
    for _ in range(2):  # the second time from the memo
        ours = [_tags(d) for d in y.compose_all(TRICKY)]
        theirs = [_tags(d) for d in yaml.compose_all(TRICKY, Loader=yaml.CSafeLoader)]
        assert ours == theirs


def test_the_key_index_answers_as_a_scan_of_own_then_merged_keys() -> None:
    (root,) = y.compose_all(TRICKY)
    child, deep = y.get(root, "child"), y.get(root, "deep")
    assert y.scalar(y.get(child, "a")) == "own"  # own key wins over a merged one
    assert y.scalar(y.get(child, "b")) == "2"  # the first merge wins over the second
    assert y.scalar(y.get(child, "c")) == "4"
    assert y.scalar(y.get(deep, "x")) == "1" and y.scalar(y.get(deep, "y")) == "2"
    assert y.scalar(y.get(root, "<<")) == "not a merge"  # a quoted key is a key
    assert y.get(root, "missing") is None
    assert y.get(None, "a") is None and y.get(y.get(root, "plain"), "a") is None
    for mapping in (root, child, deep):
        for key in ("a", "b", "c", "x", "y", "<<", "plain", "child", "nope"):
            assert y.get(mapping, key) is scan_get(mapping, key)


def test_the_style_survey_counts_aliased_nodes_once() -> None:
    # One single-quoted scalar reached three times, two double-quoted ones: counted
    # three times, the single quotes would win.
    shared = 'a: &x {k: \'v\'}\nb: *x\nc: *x\nd: ["q", "r"]\n'
    assert Style.of(y.parse(SourceText(shared))).quote == '"'
    assert Style.of(y.parse(SourceText(shared.replace('"', "")))).quote == "'"
