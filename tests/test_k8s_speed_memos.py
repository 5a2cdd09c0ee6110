"""The Kubernetes side's shortcuts answer what the plain paths answer: the key index built
while a manifest is checked for repeated keys, the per-file container memo, the per-node
command words and the remembered image references."""

from __future__ import annotations

from typing import Any

import pytest

from fixer.documents.text import SourceText
from fixer.documents.yaml import kube
from fixer.documents.yaml import nodes as y
from rules import pinning
from rules import workload as wl
from tests.helpers import scan_get

OBJECT = """\
apiVersion: v1
kind: ConfigMap
plain: value
"<<": not a merge
base: &base {a: 1, b: 2}
more: &more {b: 3, c: 4}
child:
  <<: [*base, *more]
  a: own
deep:
  <<: {x: 1, <<: {y: 2, x: 0}}
twice:
  <<: *base
  <<: *more
? [complex, key]
: value
single: {only: one}
"""


def _mappings(node: Any) -> list[Any]:
    found = [node] if y.is_mapping(node) else []
    for child in y.children(node):
        found.extend(_mappings(child))
    return found


def test_the_index_kept_by_the_duplicate_check_answers_as_a_scan() -> None:
    (root,) = y.parse(SourceText(OBJECT)).documents
    keys = ("a", "b", "c", "x", "y", "<<", "plain", "child", "only", "apiVersion", "nope")
    for mapping in _mappings(root):
        for key in keys:
            assert y.get(mapping, key) is scan_get(mapping, key), key
    child = y.get(root, "child")
    assert y.scalar(y.get(child, "a")) == "own" and y.scalar(y.get(child, "c")) == "4"
    assert y.scalar(y.get(root, "<<")) == "not a merge"  # a quoted key is a key
    assert y.scalar(y.get(y.get(root, "twice"), "c")) == "4"  # two merge keys repeat nothing


@pytest.mark.parametrize(
    "body",
    [
        "a: 1\na: 2\n",
        "spec:\n  privileged: false\n  x: 1\n  privileged: true\n",
        "? [k]\n: 1\nb: 2\nb: 3\n",  # a collection key beside a repeated one
    ],
)
def test_a_repeated_key_in_an_object_is_still_refused(body: str) -> None:
    with pytest.raises(y.YamlError, match="duplicate key"):
        y.parse(SourceText("apiVersion: v1\nkind: Pod\n" + body))


POD = """\
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  initContainers:
    - name: fix
      image: busybox
      command: [sh, -c, "chown 1000 /data && /bin/sudo true"]
  containers:
    - &app
      name: app
      image: nginx
      args: ["killall", "x"]
    - *app
    - name: quiet
      image: nginx
"""


def test_containers_are_built_once_per_file_and_per_pod_spec() -> None:
    doc = y.parse(SourceText(POD))
    (pod,) = kube.pod_specs(doc)
    first = kube.pod_containers(doc, pod)
    assert first is kube.pod_containers(doc, pod)
    assert [c.name for c in first] == ["fix", "app", "app", "quiet"]
    assert tuple(kube.all_containers(doc)) == first
    # An equal pod spec that is another object gets containers that point to it.
    other = kube.PodSpec(pod.obj, pod.node, pod.path)
    assert all(c.pod is other for c in kube.pod_containers(doc, other))
    assert [c.key for c in kube.pod_containers(doc, other)] == [c.key for c in first]


def test_command_words_kept_on_the_node_answer_every_question() -> None:
    doc = y.parse(SourceText(POD))
    fix, app, alias, quiet = kube.all_containers(doc)
    for _ in range(2):  # the second time from the node
        assert wl.runs_any(fix, ("chown", "chmod")) == "chown"
        assert wl.runs_any(fix, ("kill", "sudo")) == "sudo"  # /bin/sudo: the program
        assert wl.runs_any(app, ("sudo",)) is None
        assert wl.runs_any(app, ("kill", "killall")) == "killall"
        assert wl.runs_any(alias, ("killall",)) == "killall"
        assert wl.runs_any(quiet, ("kill", "killall", "sudo")) is None
    # A fix pass parses anew: new nodes, nothing remembered from the old text.
    edited = y.parse(SourceText(POD.replace('"killall"', '"sleep"')))
    assert wl.runs_any(list(kube.all_containers(edited))[1], ("killall",)) is None


def test_remembered_references_are_the_parsed_ones() -> None:
    text = "registry.example:5000/team/app:1.2"
    ref = pinning.parse_reference(text)
    assert ref is not None and ref.tag == "1.2" and ref.registry == "registry.example:5000"
    assert pinning.parse_reference(text) is ref
    assert pinning.parse_reference("nginx") != ref
    for bad in ("${IMAGE}", "Upper/Case:x", "a:" + "b" * 200):
        assert pinning.parse_reference(bad) is None
        assert pinning.parse_reference(bad) is None  # remembered as not a reference
    long = "x" * (pinning._PARSED_LENGTH + 1)
    assert pinning.parse_reference(long) is None and long not in pinning._PARSED
