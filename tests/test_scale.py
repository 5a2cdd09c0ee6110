"""The repository scan at scale: manifests are parsed on demand, answers are unchanged."""

from __future__ import annotations

import os
from collections import defaultdict
from pathlib import Path

import pytest

from fixer.documents.text import SourceText
from fixer.documents.yaml import YamlFile
from fixer.repository import RepositoryModel, walk
from fixer.repository import index as index_module
from fixer.repository.manifests import kube_runs
from fixer.repository.model import Run
from fixer.repository.names import image_key

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app{n}
spec:
  template:
    spec:
      containers:
        - name: main
          image: ghcr.io/acme/app{n}:1.0
          command: ["/serve", "--port", "{n}"]
"""

#: Manifests written every way YAML allows an image to be named; the line scan must
#: either read each one right or leave the file to the parser.
ODD_MANIFESTS = {
    "flow.yaml": (
        "apiVersion: v1\nkind: Pod\nmetadata: {name: flow}\nspec:\n"
        "  containers: [{name: a, image: 'ghcr.io/acme/odd:1'}, {name: b, image: busybox}]\n"
    ),
    "anchors.yaml": (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: anchors\nspec:\n  containers:\n"
        "    - name: a\n      image: &img ghcr.io/acme/odd:2\n    - name: b\n      image: *img\n"
    ),
    "quoted.yaml": (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: quoted\nspec:\n  containers:\n"
        '    - name: a\n      "image": "ghcr.io/acme/odd:3"  # pinned later\n'
        "    - image: 'nginx:1.27'\n      name: b\n"
    ),
    "crlf.yaml": (
        "apiVersion: v1\r\nkind: Pod\r\nmetadata:\r\n  name: crlf\r\nspec:\r\n  containers:\r\n"
        "    - name: a\r\n      image: ghcr.io/acme/odd:4\r\n"
    ),
    "comment.yaml": (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: comment\nspec:\n  containers:\n"
        "    # image: ghcr.io/acme/other\n    - name: a\n      image: >-\n        ghcr.io/acme/odd:5\n"
    ),
    "multi.yaml": (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: one\nspec:\n  containers:\n"
        "    - name: a\n      image: busybox:1.36\n---\n"
        "apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: two\nspec:\n  jobTemplate:\n"
        "    spec:\n      template:\n        spec:\n          initContainers:\n"
        "            - name: init\n              image: ghcr.io/acme/odd:6\n"
        "              args: [sync]\n"
    ),
    "escaped.yaml": (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: escaped\nspec:\n  containers:\n"
        '    - name: a\n      image: "ghcr.io/acme/od\\x64:7"\n'
    ),
}


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the YAML files the repository model parses."""
    calls = [0]
    real = index_module._yaml

    def counted(text: str) -> list[object]:
        calls[0] += 1
        return real(text)

    monkeypatch.setattr(index_module, "_yaml", counted)
    return calls


def _tree(root: Path, apps: int) -> None:
    for n in range(apps):
        folder = root / f"svc{n}"
        folder.mkdir(parents=True)
        (folder / "deploy.yaml").write_text(DEPLOYMENT.format(n=n))
        (folder / "Dockerfile").write_text("FROM alpine:3.19\nCOPY serve /serve\n")
    (root / "docker-compose.yml").write_text(
        "services:\n  app3:\n    build: svc3\n    image: ghcr.io/acme/app3\n"
    )


def test_scan_parses_no_manifest_until_a_question_names_its_image(
    tmp_path: Path, parses: list[int]
) -> None:
    _tree(tmp_path, 60)
    model = RepositoryModel.scan(tmp_path)
    assert parses[0] == 1  # the compose file: builds must be known at once
    (run,) = model.runs_of("ghcr.io/acme/app7:2.0")
    assert (run.name, run.command) == ("app7", ("/serve", "--port", "7"))
    assert parses[0] == 2  # only the one manifest that names the image
    assert model.runs_of("ghcr.io/acme/app7") == [run]
    assert parses[0] == 2  # answered once, remembered
    (build,) = model.builds_for("ghcr.io/acme/app3")
    # the manifest, parsed now, comes before the compose service, as in the walk order
    assert [r.kind for r in model.runs_of(build.images[0])] == ["Deployment", "compose"]
    assert model.runs_of("ghcr.io/acme/nothing") == []
    assert parses[0] == 3


def _parsed_runs(root: Path) -> dict[str, list[Run]]:
    """What parsing every manifest up front (the scan before this change) answers."""
    found: dict[str, list[Run]] = defaultdict(list)
    for path in sorted(root.iterdir()):
        text = walk.read_text(path) or ""  # as the scan reads it: newlines kept
        for run in kube_runs(path, YamlFile(SourceText(text), index_module._yaml(text))):
            key = image_key(run.image) if run.image else None
            if key:
                found[key].append(run)
    return found


def test_line_scan_answers_as_parsing_every_manifest_does(tmp_path: Path) -> None:
    for name, text in ODD_MANIFESTS.items():
        with open(tmp_path / name, "w", newline="") as handle:
            handle.write(text)
    expected = _parsed_runs(tmp_path)
    assert len(expected["ghcr.io/acme/odd"]) == 8 and len(expected) == 3  # + busybox, nginx
    model = RepositoryModel.scan(tmp_path)
    for key, runs in expected.items():
        assert model.runs_of(key) == runs, key
    assert model.runs_of("ghcr.io/acme/other") == []  # named in a comment only


def test_digest_follows_the_files_and_skips_cache_folders(tmp_path: Path) -> None:
    _tree(tmp_path, 2)
    first = RepositoryModel.scan(tmp_path).digest
    assert RepositoryModel.scan(tmp_path).digest == first
    cache = tmp_path / ".tighten_cache"
    cache.mkdir()
    (cache / "CACHEDIR.TAG").write_text("Signature: 8a477f597d28d172789f06886806bc55\n")
    (cache / "results.json").write_text("{}")
    assert RepositoryModel.scan(tmp_path).digest == first  # the cache changes every run
    (tmp_path / "README.md").write_text("new\n")
    second = RepositoryModel.scan(tmp_path).digest
    assert second != first
    deploy = tmp_path / "svc1" / "deploy.yaml"
    deploy.write_text(deploy.read_text().replace("--port", "--listen"))
    os.utime(deploy, ns=(1, 1))
    assert RepositoryModel.scan(tmp_path).digest not in (first, second)
