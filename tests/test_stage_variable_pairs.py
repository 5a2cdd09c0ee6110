"""Stage variables read ENV/ARG pairs without their spans (``images._pairs``): the same keys
and values as ``key_values``, which is left for the rules that need the spans."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fixer.documents import dockerfile
from fixer.documents.dockerfile import key_values
from fixer.documents.dockerfile.images import Family, _pairs, family_of, root_image, stage_variables
from fixer.documents.text import SourceText


def _instruction(line: str) -> dockerfile.Instruction:
    doc = dockerfile.parse(SourceText(f"FROM x\n{line}\n"))
    return doc.instructions[-1]


def _reference(ins: dockerfile.Instruction) -> list[tuple[str, str | None]]:
    return [(kv.key, kv.value) for kv in key_values(ins)]


@pytest.mark.parametrize(
    "line",
    [
        "ENV A=1 B=2",
        "ENV A 1 2  3",
        "ENV A",
        "ENV",
        "ENV A=\"x y\" B='$z' C=a\\ b",
        "ENV A=",
        "ENV =x",
        "ENV A=1 \\\n    B=2",
        "ARG A",
        "ARG A=1 B",
        "ARG --flag=x A=1",
        'ARG A="unterminated',
        "ARG A=${B:-c} D=$E",
        "ENV A==b",
        "ENV A=b=c",
        "ENV A\tB",
    ],
)
def test_pairs_read_as_key_values(line: str) -> None:
    assert _pairs(_instruction(line)) == _reference(_instruction(line))


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(["ENV", "ARG"]),
    st.text(alphabet=" \t=ab$_{}\"'\\-:", max_size=24),
)
def test_pairs_read_as_key_values_for_any_text(keyword: str, args: str) -> None:
    ins = _instruction(f"{keyword} {args}")
    if ins.keyword != keyword:
        return  # the text ended the instruction early (a lone backslash continues it)
    assert _pairs(ins) == _reference(ins)


def test_stage_variables_leave_the_spans_unread() -> None:
    doc = dockerfile.parse(SourceText("ARG V=1\nFROM x\nARG V\nENV A=$V B=2\nUSER $A\n"))
    stage = doc.stages[0]
    assert stage_variables(doc, stage) == {"V": "1", "A": "1", "B": "2"}
    env = stage.body[1]
    assert "_key_values" not in env.__dict__  # no KeyValue (and no span) was built
    assert _pairs(env) == _reference(env)  # and once they are, they are the ones used
    assert "_key_values" in env.__dict__
    assert _pairs(env) == [("A", "$V"), ("B", "2")]


def test_root_image_is_remembered_per_stage() -> None:
    doc = dockerfile.parse(SourceText("ARG T=1\nFROM alpine:$T AS a\nFROM a\n"))
    final = doc.stages[-1]
    assert root_image(doc, final) == "alpine:1"
    assert final.__dict__["_root_image"] == "alpine:1"
    assert root_image(doc, doc.stages[0]) == "alpine:1"


@pytest.mark.parametrize("image", ["debian:12", "alpine", "scratch", "ubuntu", "x/y"])
def test_the_remembered_family_still_asks_each_document(image: str) -> None:
    linux = dockerfile.parse(SourceText(f"FROM {image}\n"))
    escaped = dockerfile.parse(SourceText(f"# escape=`\nFROM {image}\n"))
    shell = dockerfile.parse(SourceText(f'FROM {image}\nSHELL ["powershell", "-c"]\n'))
    expected = family_of(image)
    assert family_of(image, linux) is expected
    windows = Family.SCRATCH if image == "scratch" else Family.WINDOWS
    assert family_of(image, escaped) is windows
    assert family_of(image, shell) is windows
    assert family_of(image, linux) is expected
    assert family_of("mcr.microsoft.com/windows/servercore:ltsc2022", linux) is Family.WINDOWS
