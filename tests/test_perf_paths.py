"""Where check's time went (issue 16, second pass): the work that is no longer repeated.

Behaviour only, never timings: each test counts the calls of the costly step through the
real function (composing YAML, parsing an image reference) and checks the answer stays
the same.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from fixer.evidence.images import Evidence
from fixer.registry import reference
from fixer.repository import RepositoryModel
from rules import secret_workflow as sw

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web{n}
spec:
  template:
    spec:
      containers:
        - name: web
          image: nginx:1.27
"""
EXTERNAL = """\
apiVersion: external-secrets.io/v1beta1
kind: ExternalSecret
metadata:
  name: db
spec:
  target:
    name: db-credentials
  data:
    - secretKey: password
      remoteRef: {key: prod/db, property: password}
"""
KUSTOMIZATION = """\
namespace: shop
namePrefix: prod-
resources:
  - deploy0.yaml
"""


@pytest.fixture
def composed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The texts ``yaml.compose_all`` is asked to compose, in order."""
    seen: list[str] = []
    real = yaml.compose_all

    def counting(stream: str, *args: object, **kwargs: object) -> object:
        seen.append(stream)
        return real(stream, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(yaml, "compose_all", counting)
    return seen


def test_secret_setup_composes_only_files_that_can_hold_evidence(
    tmp_path: Path, composed: list[str]
) -> None:
    for n in range(20):
        (tmp_path / f"deploy{n}.yaml").write_text(DEPLOYMENT.format(n=n))
    (tmp_path / "external.yaml").write_text(EXTERNAL)
    (tmp_path / "kustomization.yaml").write_text(KUSTOMIZATION)
    (tmp_path / "notes.yaml").write_text("title: no kind here\n")
    files = RepositoryModel.scan(tmp_path).workflow_files()  # one walk, reading each file once
    composed.clear()

    setup = sw._scan(tmp_path, *files)

    assert len(composed) == 2  # the Kustomization and the ExternalSecret, no workload
    assert [e.target for e in setup.externals] == ["db-credentials"]
    assert [(layer.namespace, layer.prefix) for layer in setup.layers] == [("shop", "prod-")]


def test_secret_setup_still_finds_a_kind_spelled_with_escapes(
    tmp_path: Path, composed: list[str]
) -> None:
    escaped = EXTERNAL.replace("kind: ExternalSecret", 'kind: "Ext\\x65rnalSecret"')
    (tmp_path / "external.yaml").write_text(escaped)
    (tmp_path / "deploy.yaml").write_text(DEPLOYMENT.format(n=0))
    files = RepositoryModel.scan(tmp_path).workflow_files()
    composed.clear()

    setup = sw._scan(tmp_path, *files)

    assert [e.name for e in setup.externals] == ["db"]
    assert len(composed) == 1


def test_known_image_user_is_worked_out_once_per_reference(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    parsed: list[str] = []
    real = reference.Reference.parse.__func__  # type: ignore[attr-defined]

    def counting(cls: type[reference.Reference], text: str) -> reference.Reference:
        parsed.append(text)
        return real(cls, text)  # type: ignore[no-any-return]

    monkeypatch.setattr(reference.Reference, "parse", classmethod(counting))
    evidence = Evidence()
    image = "docker.io/library/postgres:16.3-perf-paths"  # not asked by any other test
    answers = [evidence.image_user(image) for _ in range(5)]
    answers.append(Evidence().image_user(image))  # another run's evidence, same table

    assert parsed.count(image) == 1
    assert answers[0] is not None and answers[0].steps_down == ("gosu",)  # root, steps down
    assert all(a == answers[0] for a in answers)


#: A Deployment K8S002 has a fix for (its deferred plan is built in both commands).
PRIVILEGED_WEB = (
    DEPLOYMENT.format(n="") + "          securityContext:\n            privileged: true\n"
)


@pytest.mark.parametrize("fix", [False, True], ids=["check", "fix"])
def test_a_file_leaves_no_reference_cycle_behind(tmp_path: Path, fix: bool) -> None:
    """A processed file's node tree is freed when its result is dropped, by reference
    counting: a cycle through it (K8S002's plan once held itself through a closure) kept
    every tree until the collector's next full pass, which cost a fifth of check's CPU."""
    import gc

    from fixer.engine import process_file
    from fixer.ruleset import installed
    from fixer.settings import Settings

    path = tmp_path / "web.yaml"
    path.write_text(PRIVILEGED_WEB)
    settings = Settings.of(offline=True)
    rules = installed()
    # ``check`` leaves deferred fixes unbuilt (edits=False), as the CLI does.
    process_file(path, "kubernetes", settings, rules=rules, fix=fix, edits=fix)  # memos
    gc.collect()
    gc.disable()
    try:
        result = process_file(path, "kubernetes", settings, rules=rules, fix=fix, edits=fix)
        assert any(f.rule == "K8S002" for f in result.found)
        del result
        assert gc.collect() == 0
    finally:
        gc.enable()


@pytest.mark.parametrize(
    ("path", "cwd"),
    [
        ("/work/repo/k8s/app.yaml", "/work/repo"),
        ("/tmp/corpus/Dockerfile", "/work/repo"),  # outside: shown whole
        ("/work/repository/Dockerfile", "/work/repo"),  # a sibling sharing a prefix
        ("/work/repo", "/work/repo"),  # the folder itself
        ("/work/repo/./a/../Dockerfile", "/work/repo"),  # not normal: relpath decides
        ("/work/repo//Dockerfile", "/work/repo"),
        ("/srv/Dockerfile", "/"),  # the root folder
        ("/work/repo/Dockerfile", "/work/repo/"),
    ],
)
def test_shown_paths_skip_relpath_without_changing_what_is_shown(path: str, cwd: str) -> None:
    """The fast paths of ``display_path`` (below or outside the current folder, both
    already normal) show what ``os.path.relpath`` would: relative inside, whole outside."""
    import os

    from fixer.output.text import display_path

    rel = os.path.relpath(path, cwd)
    expected = path if rel.startswith("..") else rel
    assert display_path(Path(path), cwd) == expected
