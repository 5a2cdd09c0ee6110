"""Issue 12 item 4: the session split by job (kinds registry, one renderer per format,
an immutable FileResult). Moves only: these tests pin the new seams."""

from __future__ import annotations

from pathlib import Path

import pytest

from fixer.documents.text import SourceText
from fixer.engine import process_text
from fixer.kinds import DOCKERFILE, KINDS, KUBERNETES, Skipped, kind_of_name
from fixer.settings import Settings
from fixer.suppress import Suppressions
from tests.helpers import RULES


def test_every_kind_is_described_once() -> None:
    assert set(KINDS) == {DOCKERFILE, KUBERNETES}
    assert kind_of_name(DOCKERFILE).name == DOCKERFILE
    assert kind_of_name(KUBERNETES).name == KUBERNETES


def test_a_kind_parses_and_gives_its_shape() -> None:
    docker = kind_of_name(DOCKERFILE)
    doc = docker.parse(SourceText("FROM a AS build\nFROM b\n"))
    assert docker.shape(doc) == ("build", "")
    kube = kind_of_name(KUBERNETES)
    doc = kube.parse(SourceText("apiVersion: v1\nkind: Pod\n---\nkind: Service\n"))
    assert kube.shape(doc) == ("Pod", "Service")
    assert kube.holds_objects(doc)
    assert not kube.holds_objects(kube.parse(SourceText("a: 1\n")))


def test_a_helm_template_is_skipped_not_broken() -> None:
    with pytest.raises(Skipped) as caught:
        kind_of_name(KUBERNETES).parse(SourceText("kind: {{ .Values.kind }}\n"))
    assert caught.value.reason == "template"


def test_only_a_walked_manifest_needs_its_markers() -> None:
    kube = kind_of_name(KUBERNETES)
    assert kube.could_hold(b"apiVersion: v1\nkind: Pod\n")
    assert not kube.could_hold(b"name: ci\non: push\n")
    assert kind_of_name(DOCKERFILE).could_hold(b"anything")
    assert kube.absent == "no Kubernetes objects"


def test_suppressions_read_what_the_kind_says() -> None:
    """A pragma above a continued Dockerfile instruction covers all its lines; a
    Kubernetes object's annotation silences the rule for that object."""
    text = "FROM a\n# tighten ignore=DF003\nRUN a \\\n  b\n"
    doc = kind_of_name(DOCKERFILE).parse(SourceText(text))
    sup = Suppressions.of(DOCKERFILE, doc)
    assert sup._codes_at(4) == {"DF003"}
    manifest = (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  annotations:\n"
        "    ignore-check.tighten.dev/K8S002: ok\n"
    )
    sup = Suppressions.of(KUBERNETES, kind_of_name(KUBERNETES).parse(SourceText(manifest)))
    assert [codes for _, codes in sup._objects] == [{"K8S002"}]


def test_the_engine_uses_the_registry(tmp_path: Path) -> None:

    result = process_text(
        tmp_path / "ci.yaml",
        KUBERNETES,
        SourceText("name: ci\n"),
        Settings.of(offline=True),
        rules=RULES,
        fix=False,
        resolutions={},
    )
    assert result.skipped == "no Kubernetes objects"


def test_a_file_result_is_immutable(tmp_path: Path) -> None:
    import dataclasses

    from fixer.engine import FileResult

    result = FileResult(tmp_path / "Dockerfile", DOCKERFILE, error="no such file")
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.error = None  # type: ignore[misc]


def test_a_refused_fix_builds_a_new_result_and_leaves_the_found_one(tmp_path: Path) -> None:
    """A ``.json`` manifest that fixes would turn into YAML keeps its text; the result
    of the detection pass is not changed under the caller's feet."""
    text = '{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},\n'
    text += ' "spec": {"containers": [{"name": "c", "image": "nginx:1.25"}]}}\n'
    result = process_text(
        tmp_path / "pod.json",
        KUBERNETES,
        SourceText(text),
        Settings.of(offline=True),
        rules=RULES,
        fix=True,
        resolutions={},
    )
    assert result.text == text and result.fixed == [] and result.applied == []
    assert result.remaining == result.found != []
    assert "fixes not applied: the file would no longer be valid JSON" in result.notices


@pytest.mark.parametrize(
    ("fmt", "name"),
    [
        ("text", "TextRenderer"),
        ("json", "JsonRenderer"),
        ("sarif", "SarifRenderer"),
        ("github", "GithubRenderer"),
    ],
)
def test_the_session_picks_one_renderer_by_format(fmt: str, name: str) -> None:
    import io

    from fixer.mode import Mode
    from fixer.session import Session
    from fixer.settings import OutputFormat

    for given in (fmt, OutputFormat(fmt)):
        session = Session(
            Settings.of(offline=True),
            Mode.DRY_RUN,
            fmt=given,
            out=io.StringIO(),
            err=io.StringIO(),
            rules=RULES,
        )
        assert type(session.renderer).__name__ == name
        # Only the text format prints diffs, so only it has the workers compute them.
        assert session.renderer.wants_diffs == (fmt == "text")


def test_a_renderer_takes_results_and_releases_masked_output(tmp_path: Path) -> None:
    """The json renderer alone, fed one result: its document masks a value found in it."""
    import io
    import json

    from fixer.mode import Mode
    from fixer.output.console import Console
    from fixer.output.machine import JsonRenderer
    from fixer.output.renderer import End, Run
    from fixer.report import Report
    from fixer.sidefiles import SideFiles

    text = "FROM node:20\nENV DB_PASSWORD=hunter2-fake-value\n"
    result = process_text(
        tmp_path / "Dockerfile",
        DOCKERFILE,
        SourceText(text),
        Settings.of(offline=True),
        rules=RULES,
        fix=False,
        resolutions={},
    )
    out = io.StringIO()
    secrets = {value for f in result.found for value in f.masks}
    assert "hunter2-fake-value" in secrets
    report = Report(Mode.CHECK)
    report.add(result)
    run = Run(
        Mode.CHECK,
        Settings.of(offline=True),
        RULES,
        report,
        Console(out, io.StringIO()),
        out,
        secrets,
        SideFiles(),
    )
    renderer = JsonRenderer(run)
    renderer.add(result, result, stdin=False)
    renderer.release(End([], [], [], exit_code=1))
    document = json.loads(out.getvalue())
    assert document["summary"]["exit_code"] == 1
    assert {f["rule"] for f in document["findings"]} >= {"DF004"}
    assert "hunter2-fake-value" not in out.getvalue()
