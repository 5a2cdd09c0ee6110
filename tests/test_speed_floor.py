"""Issue 16, eleventh pass: work the repository scan and the workers no longer repeat.

Behaviour only, never timings: each test checks that the faster path gives the answer
the straightforward one gave.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from fixer import readfile
from fixer.filenames import SKIP_DIRS
from fixer.repository import RepositoryModel, froms, generators
from fixer.repository import index as index_module
from fixer.repository.model import Run
from rules import secret_published
from rules import secret_workflow as sw
from tests.helpers import write_files

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
    write_files(
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
    writers = index_module._Writers(index, index.generator_outputs)
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
        model.written_by(tmp_path / "deploy/app.yaml") or ""
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
    the same files as `os.walk` gave, in path order (folders and files sorted: the first
    place naming a manifest is the one cited, whatever order the file system lists them
    in), folder links not entered and dot-folders other than `.github` skipped."""
    write_files(
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
        dirs[:] = sorted(
            d for d in dirs if d not in SKIP_DIRS and (d == ".github" or not d.startswith("."))
        )
        workflows = os.path.basename(folder) == "workflows" and ".github" in folder
        for name in sorted(files):
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
    write_files(tmp_path, files)
    model = RepositoryModel.scan(tmp_path, stamp=False)
    index = model._index
    assert len(index.generator_outputs) == 3 * services
    tried: list[str] = []
    real = generators.matches

    def counting(output: generators.Output, relative: str, *, ending: bool = False) -> bool:
        tried.append(relative)
        return real(output, relative, ending=ending)

    monkeypatch.setattr(generators, "matches", counting)
    writers = index_module._Writers(index, index.generator_outputs)
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
    write_files(tmp_path, {"README.md": readme})
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


def _services_repo(root: Path, count: int) -> None:
    """Services whose evidence crosses files: scripts that build and run each image with
    host folders, compose bind mounts, documents including files, a shared base image
    and a per-service Makefile beside each Dockerfile (``_likely_derived``)."""
    files: dict[str, str] = {
        "docs/guide.md": "".join(
            f"@@INCLUDE[../svc{i}/k8s/app.yaml]\n--8<-- 'svc{i}/Dockerfile'\n"
            for i in range(0, count, 3)
        )
        + "{% include_relative snippets/pod.yaml %}\n",
        "docs/snippets/pod.yaml": DEPLOYMENT.format(name="snippet"),
        "docker-compose.yml": "services:\n"
        + "".join(
            f"  svc{i}:\n    build: svc{i}\n    image: acme/svc{i}\n"
            f"    volumes:\n      - ./data/svc{i}:/var/lib/svc{i}\n"
            for i in range(0, count, 2)
        ),
    }
    for i in range(count):
        files[f"svc{i}/Dockerfile"] = f'FROM acme/base-{i % 4}\nCOPY app /app\nCMD ["/app"]\n'
        files[f"svc{i}/Makefile"] = "build:\n\tdocker build -t acme/svc$(N) .\n"
        files[f"svc{i}/run.sh"] = (
            f"#!/bin/sh\ndocker build -t acme/svc{i} .\n"
            f"docker run --rm -v /srv/svc{i}:/data acme/svc{i} /app --serve\n"
        )
        files[f"svc{i}/k8s/app.yaml"] = DEPLOYMENT.format(name=f"svc{i}")
    for b in range(4):
        files[f"base-{b}/Dockerfile"] = "FROM debian:12\n"
        files[f"base-{b}/Makefile"] = f"build:\n\tdocker build -t acme/base-{b} .\n"
    write_files(root, files)


def test_per_file_questions_are_looked_up_as_they_were_scanned(tmp_path: Path) -> None:
    """`host_writes_of`, `script_runs_of`, `shown_in_docs` and the Dockerfiles below a
    folder (`_likely_derived`) are filed once per repository; each answer is the one the
    scan of every run, include or Dockerfile gave."""
    _services_repo(tmp_path, 24)
    model = RepositoryModel.scan(tmp_path, stamp=False)
    index = model._index
    assert index.host_writes and index.script_runs and index.doc_includes
    seen = {"writes": 0, "runs": 0, "shown": 0, "likely": 0}
    for dockerfile in sorted(index.dockerfiles):
        path = model._abs(dockerfile)
        names = {n for b in model.build_of(path) for n in b.images}
        writes = [
            w
            for w in index.host_writes
            if path in w.dockerfiles or (w.image is not None and w.image in names)
        ]
        assert model.host_writes_of(dockerfile) == writes
        runs = [r for r in index.script_runs if path in r.dockerfiles]
        assert model.script_runs_of(dockerfile) == runs
        seen["writes"] += bool(writes)
        seen["runs"] += bool(runs)
        likely = _likely_by_scan(model, path)
        assert model._likely_derived(path) == likely
        seen["likely"] += bool(likely)
    for manifest in [*index.order, *index.dockerfiles]:
        full = model._abs(manifest)
        rel = os.path.relpath(full, model.root).replace(os.sep, "/")
        expected = None
        for document, line, target in index.doc_includes:
            written = target.replace("\\", "/")
            while written.startswith(("./", "../", "/")):
                written = written.split("/", 1)[1] if "/" in written else ""
            if not written:
                continue
            if "/" in written:
                hit = rel == written or rel.endswith("/" + written)
            else:
                hit = full == document.parent / written or (
                    full.name == written and full.parent.name in ("snippets", "includes")
                )
            if hit:
                expected = f"{os.path.relpath(document, model.root)}:{line}"
                break
        assert model.shown_in_docs(manifest) == expected, manifest
        seen["shown"] += expected is not None
    assert seen["writes"] >= 12 and seen["runs"] >= 24 and seen["shown"] >= 16
    assert seen["likely"] == 4  # each base image: the services built FROM it


def _likely_by_scan(model: RepositoryModel, path: Path) -> list[froms.Derived]:
    """``_likely_derived`` as it was: the folder's Dockerfiles found by testing every
    Dockerfile of the repository for the folder's prefix."""
    folder = path.parent.name
    if len(folder) < 3 or folder in ("docker", "build", "images", "image"):
        return []
    if not (path.parent / "Makefile").is_file():
        return []
    prefix = str(path.parent.parent).rstrip(os.sep) + os.sep
    files = [d for d in model._index.dockerfiles if str(d).startswith(prefix)]
    by_name: dict[str, list[froms.Derived]] = {}
    for key, derived in froms.index(files).items():
        if "/library/" not in key:
            by_name.setdefault(key.rsplit("/", 1)[-1], []).extend(derived)
    found = {d for d in by_name.get(folder, ()) if d.dockerfile != path}
    return sorted(found, key=lambda d: (str(d.dockerfile), d.line))


def test_external_secrets_are_placed_once_and_found_as_before(tmp_path: Path) -> None:
    """`external_for` takes the ExternalSecrets placed in each namespace once per
    repository; its answers are those of placing every ExternalSecret on every question."""
    layers, externals = [], []
    for i in range(12):
        svc = tmp_path / f"svc{i}"
        externals.append(
            sw.ExternalSecret(
                svc / "base/external.yaml", 3, f"creds{i}", None, None, (f"key{i}",), False, None
            )
        )
        layers.append(
            sw.Layer(svc / "base/kustomization.yaml", None, "", "", (svc / "base/external.yaml",))
        )
        for env in ("dev", "prod"):
            layers.append(
                sw.Layer(
                    svc / f"{env}/kustomization.yaml", f"{env}{i % 3}", "", "", (svc / "base",)
                )
            )
    setup = sw.Setup(tmp_path, tuple(layers), tuple(externals), (), None, ())

    def by_placing(namespace: str | None, key: str) -> object:
        candidates = []
        for external in setup.externals:
            for place in sw.placements(setup, external.path, external.name, external.namespace):
                if place.namespace == namespace:
                    target = external.target or place.name
                    candidates.append((external, sw.Placement(target, namespace, place.via)))
        for external, place in candidates:
            if key in external.keys:
                return external, place, True
        for external, place in candidates:
            return external, place, False
        return None

    answers = 0
    for namespace in ("dev0", "dev1", "prod2", "other", None):
        for key in ("key0", "key4", "key7", "missing"):
            found = sw.external_for(setup, namespace, key)
            assert found == by_placing(namespace, key), (namespace, key)
            answers += found is not None
    assert answers == 12


def test_patches_merge_with_the_bases_their_kustomization_renders_as_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Twenty services whose Deployments are all named `app`, each patched by two
    overlays: a patch merges with the bases its own Kustomization renders, found by
    filing the bases by Kustomization; the merged runs are those of testing every base
    of the name against every patch."""
    files: dict[str, str] = {}
    for i in range(20):
        svc = f"svc{i}/k8s"
        files[f"{svc}/base/deployment.yaml"] = DEPLOYMENT.format(name="app").replace(
            "nginx:1.27", f"ghcr.io/acme/svc{i}:1.0"
        )
        files[f"{svc}/base/kustomization.yaml"] = "resources:\n  - deployment.yaml\n"
        for env in ("dev", "prod"):
            files[f"{svc}/{env}/kustomization.yaml"] = (
                "resources:\n  - ../base\npatches:\n  - path: patch.yaml\n"
            )
            files[f"{svc}/{env}/patch.yaml"] = (
                "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\nspec:\n"
                "  template:\n    spec:\n      containers:\n        - name: app\n"
                f'          args: ["--env", "{env}"]\n'
            )
    write_files(tmp_path, files)
    real = index_module._merge_patches
    checked: list[int] = []

    def compared(index: index_module.Index) -> None:
        runs = list(index.runs)
        bases: dict[tuple[str, str | None, str], list[Run]] = {}
        patched = []
        for run in runs:
            if run.path in index.patches:
                patched.append(run)
            else:
                bases.setdefault((run.kind, run.name, run.container), []).append(run)
        merged = [
            index_module._merged(base, patch)
            for patch in patched
            for base in bases.get((patch.kind, patch.name, patch.container), ())
            if index.patches[patch.path] in index.kustomizations_of(base.path)
        ]
        expected = [r for r in runs if r.path not in index.patches] + merged
        real(index)
        assert index.runs == expected
        checked.append(len(merged))

    monkeypatch.setattr(index_module, "_merge_patches", compared)
    RepositoryModel.scan(tmp_path, stamp=False)
    assert checked == [40]  # each patch with its own service's base only


def test_the_place_cited_for_a_published_manifest_does_not_depend_on_listing_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Five guides name the same manifest: the one cited is the first in path order,
    # whether the file system lists the folders forwards or backwards (ext4 and tmpfs
    # listed one repository's guides in two different orders, and cited two guides).
    from fixer import tree

    names = ["zeta", "alpha", "mid", "beta", "omega"]
    write_files(
        tmp_path,
        {f"guide-{n}/README.md": "    kubectl apply -f deploy/app.yaml\n" for n in names}
        | {"deploy/app.yaml": DEPLOYMENT.format(name="app")},
    )
    walk = tree.walk
    cited = []
    for backwards in (False, True):

        def listed(
            top: str, backwards: bool = backwards
        ) -> Iterator[tuple[str, list[str], list[str], set[str]]]:
            for folder, dirs, files, links in walk(top):
                dirs.sort(reverse=backwards)
                files.sort(reverse=backwards)
                yield folder, dirs, files, links

        monkeypatch.setattr(tree, "walk", listed)
        secret_published._sources.cache_clear()
        secret_published._mentions.cache_clear()
        secret_published.published.cache_clear()
        cited.append(secret_published.published(tmp_path, tmp_path / "deploy" / "app.yaml"))
    secret_published._sources.cache_clear()
    secret_published._mentions.cache_clear()
    secret_published.published.cache_clear()
    assert cited == ["guide-alpha/README.md:1", "guide-alpha/README.md:1"]
