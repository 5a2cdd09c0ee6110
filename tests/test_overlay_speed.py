"""Operator repositories (merge review: KServe, 2,859 files) made ``check`` take 42 s: seven
overlays rendered one after another by ``kubectl kustomize`` (2 to 6 s each), each render
composed whole with 7.5 MB of CustomResourceDefinitions, and CRD files walked for aliases
they do not have because their descriptions mention ``*int32``. These pin the three mends."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from fixer.documents import yaml as y
from fixer.documents.yaml.kube import without_definitions
from fixer.overlays import Overlays
from fixer.repository import render

DEPLOYMENT = (
    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\nspec:\n  template:\n"
    "    spec:\n      containers:\n      - name: app\n        image: example/app:1\n"
)
CRD = (
    "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n"
    "  name: things.example.com\nspec:\n  group: example.com\n"
)


def test_a_render_keeps_every_document_but_its_definitions() -> None:
    stream = f"{CRD}---\n{DEPLOYMENT}---\n{CRD.replace('things', 'others')}---\n{DEPLOYMENT}"
    kept = without_definitions(stream)
    assert kept == f"{DEPLOYMENT}---\n{DEPLOYMENT}"
    assert [d.value[1][1].value for d in y.compose_all(kept)] == ["Deployment", "Deployment"]
    assert without_definitions(DEPLOYMENT) is DEPLOYMENT  # nothing to drop: as it is
    # A kind named in a value or a description is not the document's own.
    quoted = DEPLOYMENT + "  # kind: CustomResourceDefinition\n"
    assert without_definitions(quoted) == quoted
    # Kept as blank places: the documents after a definition keep their lines and offsets.
    blank = without_definitions(stream.replace("---\n", "---  \r\n", 1), keep_places=True)
    assert len(blank) == len(stream) + 3
    assert not "".join(blank.splitlines()[:6]).strip()  # the definition's six lines, blank
    assert blank.splitlines()[6:17] == stream.replace("---\n", "---  \r\n", 1).splitlines()[6:17]
    assert blank.index("kind: Deployment") == stream.index("kind: Deployment") + 3
    assert next(d for d in y.compose_all(blank) if d is not None).value[1][1].value == "Deployment"


def _big(text: str) -> str:
    return text + "# padding\n" * 30_000  # past the size the loose patterns judge alone


@pytest.mark.parametrize(
    ("text", "shared"),
    [
        # A CRD's descriptions: a pointer type and an ampersand in prose.
        (_big("description: the *int32 field & the rest\nx: a &b c *d\n"), False),
        # Anchors and aliases where nodes start, in every place YAML allows them.
        (_big("base: &base {a: 1}\nother: *base\n"), True),
        (_big("- &a x\n- *a\n"), True),
        (_big("k: !!map &a {b: 1}\nl: [*a, *a]\n"), True),
        (_big("k: !<tag:yaml.org,2002:map> &a {b: 1}\nl:\n  *a\n"), True),
        (_big('{"k":&a [1], "l":*a}\n'), True),
        (_big("--- &a\nx: 1\n--- *a\n"), True),
        # Small texts: the loose patterns alone, as before.
        ("description: the *int32 field &more\n", True),
        ("a: 1\n", False),
    ],
)
def test_aliases_are_looked_for_where_a_node_can_start(text: str, shared: bool) -> None:
    assert y.may_alias(text) is shared


def test_an_alias_bomb_behind_a_tag_is_still_refused() -> None:
    levels = ["a0: !!seq &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 12):
        levels.append(f"a{i}: !!seq &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    from fixer.documents.text import SourceText

    with pytest.raises(y.YamlError, match="alias bomb"):
        y.parse(SourceText(_big("\n".join(levels) + "\n")))


def test_overlays_render_side_by_side_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    running, most = 0, 0
    lock = threading.Lock()

    def slow(top: Path, root: Path, overrides: object, argv: list[str]) -> render.Render:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.2 if top.name == "first" else 0.05)  # the first finishes last
        with lock:
            running -= 1
        return render.Render(top, f"rendered {top.name}")

    monkeypatch.setattr(render, "render", slow)
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    wanted: list[tuple[Path, list[render.PatchUse], str, list[str]]] = [
        (Path(name), [], name, ["kustomize"]) for name in ("first", "second", "third")
    ]
    done = Overlays._renders(wanted, Path("."), {})
    assert [r.text for r in done] == ["rendered first", "rendered second", "rendered third"]
    assert most == 2


@pytest.mark.parametrize(
    "text",
    [
        "# Install\n\nkubectl apply -f deploy/app.yaml\nprose\nsee https://x/a.yaml and more\n",
        "one\r\ntwo kubectl create -f a.yaml\r\n\r\nthree https://h/b.yml\r\n",
        "a\rb kubectl apply -f c.yaml\x0cd\u2028e kubectl replace -f f.yaml\n",
        "x.yaml y.yml on one line\nnone here\n\nz.yamlfile is no name, z.yaml is\n",
        "kubectl apply\n-f split.yaml\nKUBECTL APPLY -f upper.yaml -f twice.yaml\n",
        "",
        "no newline at the end: kubectl apply -f last.yaml",
    ],
)
def test_naming_lines_are_the_lines_a_line_by_line_search_finds(text: str) -> None:
    from rules.secret_published import _YAML_NAME, _naming_lines

    expected = [(n, line) for n, line in enumerate(text.splitlines(), 1) if _YAML_NAME.search(line)]
    assert list(_naming_lines(text)) == expected
