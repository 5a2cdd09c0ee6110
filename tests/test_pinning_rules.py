"""DF002 and K8S003 beyond the golden pairs: check mode, references, registry failures,
safety, the documentation examples, and the run-level query collection."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from fixer.documents.text import SourceText
from fixer.engine import FileResult, collect_queries, process_text, text_queries
from fixer.model import Safety
from fixer.output.json import finding_object
from fixer.registry import Reference
from fixer.rule import Context, Resolution, Rule
from fixer.settings import Settings
from rules.pinning import EXAMPLE_DIGEST, UnpinnedBaseImage, UnpinnedImage
from tests.helpers import RULES

DIGEST = "sha256:" + "ab" * 32

DOCKERFILE = """\
ARG BASE=python:latest
ARG TAG=latest
# hadolint ignore=DL3007
FROM private.example/secret:latest AS quiet
FROM ${BASE} AS build
FROM build AS test
FROM scratch AS empty
FROM docker.io/library/nginx:latest AS web
FROM example.com/app:${TAG}
FROM localhost:5000/team/app:1.0
"""

MANIFEST = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
        - name: app
          image: nginx
        - name: side
          image: 'redis:7.4'
---
apiVersion: v1
kind: Pod
metadata:
  name: quiet
  annotations:
    ignore-check.tighten.dev/K8S003: "vendored"
spec:
  containers:
    - name: app
      image: private.example/secret
---
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
images:
  - name: app
    newName: ghcr.io/acme/app
    newTag: latest
"""


def run(
    text: str,
    kind: str,
    *,
    resolutions: dict[str, Resolution] | None = None,
    pinning: bool = True,
    fix: bool = True,
    **settings: Any,
) -> FileResult:
    rule = "DF002" if kind == "dockerfile" else "K8S003"
    result = process_text(
        Path("Dockerfile" if kind == "dockerfile" else "k.yaml"),
        kind,
        SourceText(text),
        Settings.of(select=frozenset({rule}), **settings),
        rules=RULES,
        fix=fix,
        resolutions=resolutions or {},
        pinning=pinning,
    )
    assert result.error is None, result.error
    return result


def context(text: str, kind: str, **settings: Any) -> Context[Any]:
    from fixer.documents import dockerfile, yaml

    source = SourceText(text)
    doc = dockerfile.parse(source) if kind == "dockerfile" else yaml.parse(source)
    return Context(doc, Path("x"), Settings.of(**settings))


def refs_of(rule: Rule[Any], ctx: Context[Any]) -> list[str]:
    return [wanted.reference for wanted in rule.references(ctx)]


def looked_up(text: str, kind: str, **settings: Any) -> set[str]:
    """What the engine asks registries for: the rules' references minus suppressed ones."""
    path = Path("Dockerfile" if kind == "dockerfile" else "k.yaml")
    return text_queries(path, kind, SourceText(text), Settings.of(**settings), RULES).digests


# -- what gets looked up ------------------------------------------------------------------


def test_dockerfile_references_are_expanded_and_skip_stages_scratch_and_suppressed() -> None:
    refs = refs_of(UnpinnedBaseImage(), context(DOCKERFILE, "dockerfile"))
    assert refs == [
        "private.example/secret:latest",
        "python:latest",
        "docker.io/library/nginx:latest",
    ]
    # The engine applies suppressions before any registry look-up.
    assert looked_up(DOCKERFILE, "dockerfile") == {
        "python:latest",
        "docker.io/library/nginx:latest",
    }


def test_pin_all_adds_tagged_references() -> None:
    assert looked_up(DOCKERFILE, "dockerfile", pin="all") == {
        "python:latest",
        "docker.io/library/nginx:latest",
        "localhost:5000/team/app:1.0",
    }


def test_kube_references_include_kustomize_entries_and_skip_suppressed_objects() -> None:
    refs = refs_of(UnpinnedImage(), context(MANIFEST, "kubernetes"))
    assert refs == ["nginx", "private.example/secret", "ghcr.io/acme/app:latest"]
    assert looked_up(MANIFEST, "kubernetes") == {"nginx", "ghcr.io/acme/app:latest"}
    assert looked_up(MANIFEST, "kubernetes", pin="all") == {
        "nginx",
        "redis:7.4",
        "ghcr.io/acme/app:latest",
    }


def test_reference_keys_are_what_the_session_keys_answers_by() -> None:
    ctx = context(DOCKERFILE, "dockerfile", pin="all")
    for ref in refs_of(UnpinnedBaseImage(), ctx):
        assert str(Reference.parse(ref)) == ref


def test_collect_queries_gathers_both_rules_over_files(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(DOCKERFILE)
    (tmp_path / "k.yaml").write_text(MANIFEST)
    files = [(tmp_path / "Dockerfile", "dockerfile"), (tmp_path / "k.yaml", "kubernetes")]
    queries = collect_queries(files, Settings.of(select=frozenset({"DF002", "K8S003"})), RULES)
    assert queries.digests == {
        "python:latest",
        "docker.io/library/nginx:latest",
        "nginx",
        "ghcr.io/acme/app:latest",
    }


# -- check mode, fix mode, failures --------------------------------------------------------


def test_check_mode_findings_are_pending_and_json_says_fixable() -> None:
    result = run(DOCKERFILE, "dockerfile", pinning=False, fix=False)
    assert [f.line for f in result.found] == [5, 8]
    for finding in result.found:
        assert finding.fix is None and finding.pending and finding.fixable
        assert finding_object(finding)["fixable"] is True
    assert (
        result.found[0].message == "base image python:latest (ARG BASE) is not pinned to a digest"
    )
    assert result.found[1].message == (
        "base image docker.io/library/nginx:latest is not pinned to a digest"
    )


def test_kube_messages_name_the_container() -> None:
    result = run(MANIFEST, "kubernetes", pinning=False, fix=False)
    assert [f.message for f in result.found] == [
        'Deployment/web container "app" image nginx is not pinned to a digest',
        "Kustomization images[0] ghcr.io/acme/app:latest is not pinned to a digest",
    ]


def test_registry_error_leaves_the_image_and_gives_the_reason() -> None:
    answers = {
        "python:latest": Resolution(error="timeout"),
        "docker.io/library/nginx:latest": Resolution(
            digest=DIGEST, tag="1.27.3", pinned=f"docker.io/library/nginx:1.27.3@{DIGEST}"
        ),
    }
    result = run(DOCKERFILE, "dockerfile", resolutions=answers)
    assert "ARG BASE=python:latest\n" in result.text
    assert f"FROM docker.io/library/nginx:1.27.3@{DIGEST} AS web\n" in result.text
    [left] = result.remaining
    assert left.fix is None and not left.pending and left.reason == "registry: timeout"


def test_missing_answer_is_not_fixable() -> None:
    result = run("FROM nginx\n", "dockerfile", resolutions={})
    [left] = result.remaining
    assert result.text == "FROM nginx\n"
    assert left.reason == "registry: no answer for this image"


def test_pinned_text_keeps_a_tag_beside_the_digest() -> None:
    answers = {"nginx": Resolution(digest=DIGEST, tag="1.27.3")}
    assert run("FROM nginx\n", "dockerfile", resolutions=answers).text == (
        f"FROM nginx:1.27.3@{DIGEST}\n"
    )
    # No version tag found: the tag as written stays, `latest` for an untagged image.
    answers = {"nginx:latest": Resolution(digest=DIGEST)}
    assert run("FROM nginx:latest\n", "dockerfile", resolutions=answers).text == (
        f"FROM nginx:latest@{DIGEST}\n"
    )
    answers = {"nginx": Resolution(digest=DIGEST, pinned=f"nginx@{DIGEST}")}
    assert run("FROM nginx\n", "dockerfile", resolutions=answers).text == (
        f"FROM nginx:latest@{DIGEST}\n"
    )


@pytest.mark.parametrize(
    ("platform", "safety"), [(None, Safety.SAFE), ("linux/arm64", Safety.PROVEN)]
)
def test_platform_pins_need_review(platform: str | None, safety: Safety) -> None:
    answers = {"nginx": Resolution(digest=DIGEST)}
    result = run("FROM nginx\n", "dockerfile", resolutions=answers, platform=platform)
    [fix] = result.applied
    assert fix.safety is safety
    if platform:
        skipped = run(
            "FROM nginx\n", "dockerfile", resolutions=answers, platform=platform, safe_only=True
        )
        assert not skipped.changed


def test_variables_built_image_gives_a_notice_not_a_finding() -> None:
    from fixer.documents import dockerfile
    from fixer.engine import _Detector

    text = "ARG REG=docker.io\nARG TAG=latest\nFROM ${REG}/library/app:${TAG}\n"
    doc = dockerfile.parse(SourceText(text))
    detector = _Detector(
        Path("Dockerfile"), "dockerfile", doc.source, Settings(), [UnpinnedBaseImage()], {}
    )
    assert detector.detect(doc) == []
    assert detector.notices == [
        "DF002: FROM at line 3 builds docker.io/library/app:latest from variables; "
        "pin it where the values are set"
    ]


def test_shared_arg_default_is_pinned_once() -> None:
    text = "ARG BASE=nginx\nFROM $BASE AS a\nFROM ${BASE}\n"
    result = run(text, "dockerfile", resolutions={"nginx": Resolution(digest=DIGEST)})
    assert result.text == f"ARG BASE=nginx:latest@{DIGEST}\nFROM $BASE AS a\nFROM ${{BASE}}\n"
    assert len(result.found) == 2 and result.remaining == []


def test_tagged_anchor_keeps_its_properties() -> None:
    text = (
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n"
        "  - name: a\n    image: !!str &img 'nginx'\n  - name: b\n    image: *img\n"
    )
    result = run(text, "kubernetes", resolutions={"nginx": Resolution(digest=DIGEST)})
    assert f"image: !!str &img 'nginx:latest@{DIGEST}'\n" in result.text
    assert result.text.endswith("image: *img\n")


# -- the documentation examples ------------------------------------------------------------

_BLOCK = re.compile(r"```(\w+)\n(.*?)```", re.DOTALL)


@pytest.mark.parametrize("rule_id", ["DF002", "K8S003"])
def test_doc_example_is_what_the_rule_writes(rule_id: str) -> None:
    rule = RULES.find(rule_id)
    assert rule is not None and rule.__doc__
    doc = rule.__doc__
    for section in ("## What it does", "## Why is this bad?", "## Example", "## Fix safety"):
        assert section in doc
    example = doc.split("## Example", 1)[1].split("## Fix safety", 1)[0]
    (lang, before), (_, after) = _BLOCK.findall(example)[:2]
    before, after = _dedent(before), _dedent(after)
    kind = "dockerfile" if lang == "dockerfile" else "kubernetes"
    ctx = context(before, kind)
    answers = {ref: Resolution(digest=EXAMPLE_DIGEST) for ref in refs_of(rule, ctx)}
    assert answers
    assert run(before, kind, resolutions=answers).text == after


def _dedent(block: str) -> str:
    import textwrap

    return textwrap.dedent(block)


def test_offline_without_a_lockfile_answers_every_reference_without_asking(tmp_path: Path) -> None:
    """`fix --offline` with no lockfile: the session skips the pass that collects image
    references; every reference gets the answer a look-up would have given."""
    from fixer.pinning import Unanswered, unanswered

    lock = tmp_path / "tighten.lock"
    settings = Settings.of(offline=True, lock_file=lock)
    nothing = unanswered(settings)
    assert isinstance(nothing, Unanswered) and nothing  # truthy although empty
    answer = nothing.get("alpine:3.20")
    assert answer is not None and answer.error == f"not in lockfile ({lock} does not exist)"
    assert nothing.get("${BASE_IMAGE}") is None  # a variable: never asked about
    assert unanswered(Settings.of(lock_file=lock)) is None  # online: look up
    lock.write_text("")
    assert unanswered(settings) is None  # a lockfile to read


def test_fix_offline_without_a_lockfile_reports_as_the_look_up_did(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM alpine:latest\nRUN true\n")
    out = subprocess.run(
        [sys.executable, "-m", "fixer", "fix", "--offline", "--select", "DF002", "."],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert "not in lockfile (tighten.lock does not exist)" in out.stdout + out.stderr
