"""Issue 16, eleventh pass: work the repository scan and the workers no longer repeat.

Behaviour only, never timings: each test checks that the faster path gives the answer
the straightforward one gave.
"""

from __future__ import annotations

import fnmatch
import os
from pathlib import Path

import pytest

from fixer import readfile
from fixer.filenames import SKIP_DIRS
from fixer.repository import RepositoryModel, generators
from fixer.repository import index as index_module
from rules import secret_published
from rules import secret_workflow as sw

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


def test_a_read_asks_for_the_files_size_and_still_sees_it_grow(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reads are sized by ``fstat`` (one call, no chunk-sized buffer), yet a file longer
    than ``fstat`` said (it grew meanwhile), a file whose size says nothing (``/proc``) and
    one larger than a chunk are read whole; the cap still refuses."""
    for size in (0, 1, 4096, readfile._CHUNK + 7, 3 * readfile._CHUNK):
        path = tmp_path / f"f{size}"
        data = os.urandom(size)
        path.write_bytes(data)
        assert readfile.read_capped(path) == data
        assert readfile.read_regular(path, 10) == data[:10]
    grown = tmp_path / "grown"
    grown.write_bytes(b"x" * 5000)
    real_fstat = os.fstat

    def stale(fd: int) -> os.stat_result:  # the size before the file grew
        info = real_fstat(fd)
        fields = list(info)
        fields[6] = 100  # st_size
        return os.stat_result(fields)

    monkeypatch.setattr(os, "fstat", stale)
    assert readfile.read_capped(grown) == b"x" * 5000
    monkeypatch.undo()
    assert b"Name:" in readfile.read_regular("/proc/self/status", 1 << 16)
    with pytest.raises(readfile.Refused):
        readfile.read_capped(tmp_path / f"f{3 * readfile._CHUNK}", readfile._CHUNK)


def test_published_sources_walk_as_os_walk_does(tmp_path: Path) -> None:
    """The documents and automation files `published` reads come from `fixer.tree.walk`:
    the same files, in the same order, as `os.walk` gave, folder links not entered and
    dot-folders other than `.github` skipped."""
    _write(
        tmp_path,
        {
            "README.md": "kubectl apply -f deploy/app.yaml\n",
            "docs/install.rst": "kubectl apply -f https://x/y.yaml\n",
            "Makefile": "deploy:\n\tkubectl apply -f deploy/app.yaml\n",
            "hack/e2e.sh": "kubectl apply -f test/pod.yaml\n",
            ".github/workflows/release.yml": "on: push\n",
            ".hidden/notes.md": "apply -f x.yaml\n",
            "vendor/lib/README.md": "not read\n",
            "deploy/app.yaml": DEPLOYMENT.format(name="app"),
        },
    )
    (tmp_path / "linked").symlink_to(tmp_path / "docs")
    expected = []
    for folder, dirs, files in os.walk(tmp_path):
        dirs[:] = [
            d for d in dirs if d not in SKIP_DIRS and (d == ".github" or not d.startswith("."))
        ]
        workflows = os.path.basename(folder) == "workflows" and ".github" in folder
        for name in files:
            document = name.lower().endswith(secret_published._DOC_SUFFIXES) or (
                workflows and name.endswith((".yml", ".yaml"))
            )
            if document or secret_published._automation(name):
                expected.append((Path(folder) / name, document))
    found = secret_published._sources.__wrapped__(tmp_path)
    assert list(found) == expected
    names = {p.relative_to(tmp_path).as_posix() for p, _ in found}
    assert {"README.md", "docs/install.rst", "Makefile", "hack/e2e.sh"} <= names
    assert ".github/workflows/release.yml" in names
    assert ".hidden/notes.md" not in names


def test_a_monorepo_of_generating_services_compares_each_manifest_with_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Forty services, each with scripts writing a literal output (`deploy/rendered.yaml`,
    the same name in every service), a wildcard one (`out/gen-*.yaml`) and one named from
    the service's own root (`$ROOT/deploy/bundle-*.yaml`): the same verdicts as the
    all-pairs loop, and the patterns tried for each manifest do not grow with the number
    of services (the all-pairs loop tried every output for every manifest)."""
    services = 40
    files: dict[str, str] = {}
    for i in range(services):
        svc = f"services/svc{i:02d}"
        files[f"{svc}/scripts/render.sh"] = (
            "#!/bin/sh\nhelm template ./chart > deploy/rendered.yaml\n"
            "ytt -f in > out/gen-${ENV}.yaml\n"
            'ROOT="$(dirname "$0")/.."\nhelm template ./chart > "$ROOT/deploy/bundle-${V}.yaml"\n'
        )
        files[f"{svc}/scripts/deploy/rendered.yaml"] = DEPLOYMENT.format(name=f"r{i}")
        files[f"{svc}/scripts/out/gen-dev.yaml"] = DEPLOYMENT.format(name=f"g{i}")
        files[f"{svc}/deploy/bundle-1.yaml"] = DEPLOYMENT.format(name=f"b{i}")
        files[f"{svc}/deploy/app.yaml"] = DEPLOYMENT.format(name=f"a{i}")
    _write(tmp_path, files)
    model = RepositoryModel.scan(tmp_path, stamp=False)
    index = model._index
    assert len(index.generator_outputs) == 3 * services
    tried: list[str] = []
    real = generators.matches

    def counting(output: generators.Output, relative: str, *, ending: bool = False) -> bool:
        tried.append(relative)
        return real(output, relative, ending=ending)

    monkeypatch.setattr(generators, "matches", counting)
    writers = index_module._Writers(index)
    written = set()
    for manifest in index.order:
        found = writers.of(manifest)
        expected = _brute_force(index, manifest)
        assert (found and (found[0], found[1].pattern)) == (expected or None), manifest
        if found is not None:
            written.add(manifest.relative_to(tmp_path).as_posix().split("/", 2)[2])
    assert written == {
        "scripts/deploy/rendered.yaml",
        "scripts/out/gen-dev.yaml",
        "deploy/bundle-1.yaml",
    }
    assert len(tried) <= 12 * len(index.order)  # all pairs: 4 x 120 outputs per manifest


def _chains_by_search(setup: sw.Setup, start: Path) -> list[tuple[sw.Layer, ...]]:
    """The chains as found before: every layer of the repository searched at each step."""
    stack: list[tuple[Path, tuple[sw.Layer, ...]]] = [(start, ())]
    chains: list[tuple[sw.Layer, ...]] = []
    while stack and len(chains) < sw.MAX_CHAINS:
        current, chain = stack.pop()
        wanted = current.parent if current.name in sw._K_NAMES else current
        parents = [
            layer
            for layer in setup.layers
            if wanted in layer.resources and layer not in chain and layer.path != current
        ]
        if not parents:
            chains.append(chain)
        stack += [(layer.path, (*chain, layer)) for layer in parents]
    return chains


def test_kustomize_chains_are_looked_up_as_they_were_searched(tmp_path: Path) -> None:
    """Thirty services with a base and two overlays each, plus a shared overlay listing
    every service's base: the chains from each manifest are those the search over every
    layer found, in the same order, and the layers that include a folder are filed once."""
    layers = []
    for i in range(30):
        svc = tmp_path / f"svc{i}"
        base = sw.Layer(svc / "base/kustomization.yaml", None, "", "", (svc / "base/app.yaml",))
        layers.append(base)
        for env in ("dev", "prod"):
            overlay = svc / f"overlays/{env}/kustomization.yaml"
            layers.append(sw.Layer(overlay, env, f"{env}-", "", (svc / "base", svc / "base")))
    everything = tuple(tmp_path / f"svc{i}" / "base" for i in range(30))
    layers.append(sw.Layer(tmp_path / "all/kustomization.yaml", "all", "", "", everything))
    setup = sw.Setup(tmp_path, tuple(layers), (), (), None, ())
    for i in range(30):
        start = tmp_path / f"svc{i}" / "base" / "app.yaml"
        assert list(sw._chains(setup, start)) == _chains_by_search(setup, start)
        assert len(list(sw._chains(setup, start))) == 3
    assert [layer.namespace for layer in setup.including[tmp_path / "svc3" / "base"]] == [
        "dev",
        "prod",
        "all",
    ]
    assert setup.by_path[tmp_path / "all/kustomization.yaml"].namespace == "all"


def test_kustomize_applied_finds_the_first_line_as_the_scan_of_every_line_did(
    tmp_path: Path,
) -> None:
    """A README applying every overlay after a line with a variable folder (a pattern):
    the answer is the first line in the documents' order that names an asked folder,
    literal or pattern, as comparing each asked folder with every line gave."""
    readme = "kubectl apply -k svc7/overlays/$ENV\n"
    readme += "".join(f"kubectl apply -k svc{i}/overlays/prod\n" for i in range(50))
    _write(tmp_path, {"README.md": readme})
    root = tmp_path.resolve()
    secret_published._kustomize_targets.cache_clear()
    secret_published._kustomize_index.cache_clear()

    def by_scan(folders: list[Path]) -> str | None:
        wanted = [f.resolve().relative_to(root).as_posix() for f in folders]
        for pattern, where in secret_published._kustomize_targets(root):
            if any(w == pattern or fnmatch.fnmatchcase(w, pattern) for w in wanted):
                return where
        return None

    cases = [
        [root / "svc7/overlays/prod"],  # the pattern on line 1 comes first
        [root / "svc9/overlays/prod"],
        [root / "svc9/overlays/prod", root / "svc3/overlays/prod"],
        [root / "svc7/overlays/dev"],
        [root / "svc77/overlays/prod"],
        [root / "other"],
    ]
    for folders in cases:
        assert secret_published.kustomize_applied(root, folders) == by_scan(folders), folders
    assert secret_published.kustomize_applied(root, cases[0]) == "README.md:1"
    assert secret_published.kustomize_applied(root, cases[2]) == "README.md:5"
    assert secret_published.kustomize_applied(root, cases[4]) is None
