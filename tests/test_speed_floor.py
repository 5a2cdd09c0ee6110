"""Issue 16, eleventh pass: work the repository scan and the workers no longer repeat.

Behaviour only, never timings: each test checks that the faster path gives the answer
the straightforward one gave.
"""

from __future__ import annotations

import fnmatch
from pathlib import Path

from fixer.repository import RepositoryModel
from fixer.repository import index as index_module

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
spec:
  template:
    spec:
      containers:
        - name: app
          image: nginx:1.27
"""


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def _brute_force(index: index_module.Index, manifest: Path) -> tuple[Path, str] | None:
    """Every manifest against every output, paths compared with ``Path.relative_to``: the
    answer the filed look-up must give."""

    def relative(path: Path, folder: Path) -> str | None:
        try:
            return path.relative_to(folder).as_posix()
        except ValueError:
            return None

    for ending in (False, True):
        for script, output in index.generator_outputs:
            for folder in (index.root, script.parent):
                rel = relative(manifest, folder)
                if rel is None:
                    continue
                hit = rel == output.pattern or fnmatch.fnmatchcase(rel, output.pattern)
                if not hit and ending and "/" in output.pattern:
                    hit = fnmatch.fnmatchcase(rel, "*/" + output.pattern)
                if not hit:
                    continue
                project = script.parent.parent if script.parent != index.root else index.root
                if not ending or relative(manifest, project) is not None:
                    return script, output.pattern
    return None


def test_generated_manifests_are_found_by_name_as_by_comparing_every_pair(tmp_path: Path) -> None:
    """Outputs named literally (`deploy/app.yaml`), from the script's own root
    (`$ROOT/deploy/app.yaml`), through a folder pattern (`out/*`) and another project's
    file of the same name: the writers filed by file name answer as the all-pairs loop."""
    _write(
        tmp_path,
        {
            "hack/gen.sh": "#!/bin/sh\nhelm template chart > deploy/app.yaml\n",
            "proj-a/scripts/gen.sh": (
                '#!/bin/sh\nROOT="$(dirname "$0")/.."\n'
                'helm template ./chart > "$ROOT/deploy/bundle.yaml"\n'
            ),
            "tools/render.sh": "#!/bin/sh\nfor f in a b; do\n  ytt -f in > out/$f.yaml\ndone\n",
            "Makefile": "release:\n\tkustomize build config > dist/install-${VERSION}.yaml\n",
            "deploy/app.yaml": DEPLOYMENT.format(name="app"),
            "proj-a/deploy/bundle.yaml": DEPLOYMENT.format(name="a"),
            "proj-b/deploy/bundle.yaml": DEPLOYMENT.format(name="b"),
            "tools/out/a.yaml": DEPLOYMENT.format(name="out-a"),
            "dist/install-v1.yaml": DEPLOYMENT.format(name="install"),
            "other/app.yaml": DEPLOYMENT.format(name="other"),
        },
    )
    model = RepositoryModel.scan(tmp_path, stamp=False)
    index = model._index
    assert len(index.generator_outputs) >= 4
    writers = index_module._Writers(index)
    answers = {}
    for manifest in index.order:
        found = writers.of(manifest)
        expected = _brute_force(index, manifest)
        assert (found and (found[0], found[1].pattern)) == (expected or None), manifest
        answers[manifest.relative_to(tmp_path).as_posix()] = found is not None
    assert answers == {
        "deploy/app.yaml": True,
        "dist/install-v1.yaml": True,
        "other/app.yaml": False,
        "proj-a/deploy/bundle.yaml": True,
        "proj-b/deploy/bundle.yaml": False,
        "tools/out/a.yaml": True,
    }
    assert "written by hack/gen.sh:2 (helm template)" in (
        model.written_by(Path("deploy/app.yaml")) or ""
    )


def test_text_under_is_relative_to_for_normal_paths() -> None:
    folder = index_module._folder_text(Path("/repo/deploy"))
    assert index_module._text_under("/repo/deploy/app.yaml", folder) == "app.yaml"
    assert index_module._text_under("/repo/deploy/x/app.yaml", folder) == "x/app.yaml"
    assert index_module._text_under("/repo/deploy-2/app.yaml", folder) is None
    assert index_module._text_under("/repo/deploy", folder) is None
    root = index_module._folder_text(Path("/"))
    assert root == "/"
    assert index_module._text_under("/etc/app.yaml", root) == "etc/app.yaml"
