"""How the repository's own manifests use an image it builds: who runs it, with which
settings, and which scripts those containers run.

``model.runs_of`` answers by exact image name. Real repositories often push under one name
and deploy under another (``gcr.io/k8s-staging-npd/node-problem-detector`` is promoted to
``registry.k8s.io/node-problem-detector/node-problem-detector``), or build with a Makefile
nothing can expand. A container whose image has the same *last name* as the build's images
(or, for a build nothing names, as its ENTRYPOINT program or its folder) is reported too,
marked ``exact=False``: good enough to withhold a fix, never to prove one.

A container's scripts are followed into ConfigMaps: a word of its command, args,
``lifecycle`` or probe ``exec`` under a ConfigMap volume's mount path names a key, read
from a ConfigMap manifest's ``data:`` or a Kustomize ``configMapGenerator`` file.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

from fixer.documents import yaml as y
from fixer.documents.yaml import Node, YamlFile, kube
from fixer.documents.yaml.kube import Container
from fixer.filenames import TEST_ROOTS
from fixer.repository import tools, walk
from fixer.repository.builds import norm
from fixer.repository.model import Build, Evidence, LinkKind, Run
from fixer.repository.nearest import MAX_EXACT, MAX_LOOSE, nearest
from fixer.repository.repository import RepositoryModel
from fixer.repository.sources import folder_verdict

#: Last names too common to say two images are the same one.
_GENERIC = frozenset(
    {"app", "api", "web", "server", "service", "backend", "frontend", "worker", "main", "image"}
    # Interpreters and init wrappers name the language or the runtime, not the image:
    # ``python email_server.py`` is not the ``python:3.11-alpine`` of another folder.
    | {"python", "python3", "node", "nodejs", "java", "ruby", "perl", "php", "bash", "dotnet"}
    | {"deno", "npm", "yarn", "tini", "dumb-init", "sh", "uvicorn", "gunicorn", "nginx"}
    # Placeholders of documentation: ``docker buildx build -t username/repo:tag``.
    | {"repo", "repository", "image-name", "imagename", "my-image", "myimage", "my-app", "myapp"}
)
#: Folders whose name says nothing about the image built there.
_PLAIN_FOLDERS = frozenset({"build", "docker", "deploy", "images", "image", "dockerfiles", "."})
#: Folders holding tests (``*/testing/`` included): an image built only there is a test's.
#: The same names as the top-level folders whose manifests are test resources.
TEST_FOLDERS = TEST_ROOTS
_EXEC_PLACES = (
    ("lifecycle", "postStart", "exec", "command"),
    ("lifecycle", "preStop", "exec", "command"),
    ("livenessProbe", "exec", "command"),
    ("readinessProbe", "exec", "command"),
    ("startupProbe", "exec", "command"),
)
_MAX_SCRIPT = 256 * 1024


@dataclass(frozen=True)
class Running:
    """A container of the repository's manifests that runs the build's image."""

    run: Run
    container: Container
    #: Matched by image name (or a Kustomize rename / compose ``build:``), not by a likely name.
    exact: bool

    @property
    def where(self) -> str:
        return f"{self.run.path}:{self.run.line}"


def likely_names(build: Build, program: str | None, root: Path) -> tuple[str, ...]:
    """Last names an image of ``build`` may be deployed under: its images' own, or where
    it names none that says anything (``username/repo`` in a development guide), its
    ENTRYPOINT program's and its folder's."""
    names = [n.rsplit("/", 1)[-1] for n in build.images] + list(build.partial_names)
    names = [n for n in names if len(n) >= 4 and n.lower() not in _GENERIC]
    if not names:
        if program:
            names.append(program.rsplit("/", 1)[-1])
        own = dockerfile_own_name(build.dockerfile.name)
        if own and own.lower() not in _VARIANTS:  # ``Dockerfile-cni-plugin``: linkerd's
            names.append(own)
        parent = build.dockerfile.parent
        folder = parent.name
        # The root folder's name is the clone's, which need not be the project's: its
        # Go module names the project (``github.com/org/nfs-subdir-external-provisioner``).
        if folder not in _PLAIN_FOLDERS and parent != root:
            names.append(folder)
        elif parent == root:
            names += _module_name(root)
    return tuple(n for n in dict.fromkeys(names) if len(n) >= 4 and n.lower() not in _GENERIC)


#: Names of a Dockerfile's variant, not of an image (``Dockerfile.alpine``, ``.prod``).
_VARIANTS = frozenset(
    {"alpine", "debian", "ubuntu", "slim", "prod", "production", "release", "local"}
    | {"build", "builder", "base", "devel", "debug", "test", "tests", "windows", "linux"}
    | {"multiarch", "arm64", "amd64", "distroless", "rootless", "scratch", "minimal", "final"}
)


#: The image a Dockerfile's own name names: ``Dockerfile-NAME``, ``Dockerfile.NAME``,
#: ``NAME.Dockerfile`` (not a variant such as ``Dockerfile.dev``: see ``_VARIANTS``).
_DOCKERFILE_NAME = re.compile(r"(?i)Dockerfile[-.]([\w.-]+)|([\w.-]+)\.dockerfile")


def dockerfile_own_name(file_name: str) -> str:
    """The name a Dockerfile's file name gives (``cni-plugin`` for ``Dockerfile-cni-plugin``,
    ``build-tools`` for ``build-tools.dockerfile``), or ""."""
    named = _DOCKERFILE_NAME.fullmatch(file_name)
    return next((g for g in named.groups() if g), "") if named is not None else ""


_MODULE = re.compile(r"^module\s+\"?([^\s\"]+)", re.MULTILINE)


@lru_cache(maxsize=8)
def _module_name(root: Path) -> tuple[str, ...]:
    """The last segment of the Go module at the repository root (its major-version suffix
    dropped), or nothing."""
    try:
        with open(root / "go.mod", "rb") as handle:
            text = handle.read(4096).decode("utf-8", "replace")
    except OSError:
        return ()
    m = _MODULE.search(text)
    if m is None:
        return ()
    parts = [p for p in m.group(1).split("/") if p and not re.fullmatch(r"v\d+", p)]
    return (parts[-1],) if parts else ()


def _runs(model: RepositoryModel, build: Build, program: str | None) -> list[tuple[Run, bool]]:
    """Runs of ``build``'s image, each with whether it is matched by name: exact matches
    first, then likely ones (each bounded, nearest first: ``MAX_EXACT``, ``MAX_LOOSE``)."""
    exact = [r for name in build.images for r in model.runs_of(name)]
    exact += model.runs_built_from(build.dockerfile)
    exact = nearest(list(dict.fromkeys(exact)), build.dockerfile, MAX_EXACT)
    names = set(likely_names(build, program, model.root))
    loose = [r for r in model.runs_named(names) if r not in exact]
    tails = _tails(names) - names
    if tails:  # beside the Dockerfile only: a manifest there names its image shorter
        folder = str(build.dockerfile.parent) + os.sep
        loose += [
            r
            for r in model.runs_named(tails)
            if r not in exact and r not in loose and str(r.path).startswith(folder)
        ]
    loose = nearest(loose, build.dockerfile, MAX_LOOSE)
    return [*((r, True) for r in exact), *((r, False) for r in loose)]


def _tails(names: set[str]) -> set[str]:
    """The names' endings of two dash-separated parts or more (10 characters at least):
    Inspektor Gadget's Makefile tags ``inspektor-gadget-kube-container-collection``, and
    the ``deploy.yaml`` beside its Dockerfile runs ``gadget-kube-container-collection``."""
    found: set[str] = set()
    for name in names:
        parts = name.split("-")
        for start in range(1, len(parts) - 1):
            tail = "-".join(parts[start:])
            if len(tail) >= 10:
                found.add(tail)
    return found


def runs_of_build(model: RepositoryModel, build: Build, program: str | None = None) -> list[Run]:
    """Every run of ``build``'s image the repository's manifests and compose files state,
    by name or by a likely one (``_runs``)."""
    return [run for run, _ in _runs(model, build, program)]


def running(model: RepositoryModel, build: Build, program: str | None = None) -> list[Running]:
    """Containers of the repository's manifests running ``build``'s image (``_runs``)."""
    found: list[Running] = []
    for run, is_exact in _runs(model, build, program):
        container = _container(model, run)
        if container is not None:
            found.append(Running(run, container, is_exact))
    return list({(f.run.path, f.run.span): f for f in found}.values())


def socket_mounts(
    model: RepositoryModel, build: Build, program: str | None = None
) -> list[tuple[Run, int, str, bool]]:
    """Compose services running ``build``'s image with a container runtime's socket bound
    into them: each run, the volume's line, the host path, and whether the image is
    matched by name (else by a likely name: enough to withhold, never to prove)."""
    return [
        (run, line, source, is_exact)
        for run, is_exact in _runs(model, build, program)
        for line, source in run.sockets
    ]


def tool_uses(
    model: RepositoryModel, build: Build, tool: str, program: str | None = None
) -> list[Evidence]:
    """Calls of ``tool`` by the containers running the image beyond what
    ``model.uses_tool`` reads: likely-named containers' commands, ``lifecycle``/probe
    ``exec`` commands, and scripts they run from ConfigMaps."""
    found: list[Evidence] = []
    pattern = tools.word_pattern(tool)
    for item in running(model, build, program):
        run = item.run
        if not item.exact:
            named = f" (its image {run.image} is named like the one this Dockerfile builds)"
            found += [replace(e, reason=e.reason + named) for e in tools.in_runs([run], tool)]
        for place, words in _execs(item.container):
            if any(pattern.search(w) for w in words):
                found.append(Evidence(run.path, place, f"{run.label} runs {tool} in an exec"))
        for script, config_map, origin, text, offset in _config_scripts(model, item):
            why = f"{script} (ConfigMap {config_map}, run by {run.label})"
            for hit in tools.in_script(origin, text, tool, why):
                found.append(Evidence(hit.path, hit.line + offset, hit.reason))
    return list(dict.fromkeys(found))


def test_only(model: RepositoryModel, dockerfile: Path) -> str | None:
    """Why ``dockerfile`` builds a test's image, or None: it sits under a test folder and
    nothing outside test folders builds, pushes or runs what it builds."""
    folder = _test_folder(model.root, dockerfile)
    if folder is None:
        return None
    builds = model.build_of(dockerfile)
    for build in builds:
        if (
            build.origin.kind is not LinkKind.DEFAULT
            and _test_folder(model.root, build.origin.path) is None
            and not _local_build(build)
        ):
            return None
        for item in running(model, build):
            if item.exact and _test_folder(model.root, item.run.path) is None:
                return None
    linked = [b.origin for b in builds if b.origin.kind is not LinkKind.DEFAULT]
    local = next((b for b in builds if _local_build(b)), None)
    how = (
        f"built only by {_rel(model.root, linked[0].path)}:{linked[0].line}"
        if linked
        else "nothing builds it"
    )
    tail = "no manifest, compose file, workflow or Makefile outside test folders ships or runs it"
    if local is not None:  # a root Makefile target that builds and runs the tests
        where = f"{_rel(model.root, local.origin.path)}:{local.origin.line}"
        what = "local" if local.origin.kind in (LinkKind.MAKE, LinkKind.SCRIPT) else "test"
        how = f"{where} builds it as a {what} image ({', '.join(local.images or local.partial_names) or 'untagged'})"
        tail = "nothing outside test folders ships it"
    where = (
        f"its name says so ({folder})" if folder == dockerfile.name else f"it is under {folder}/"
    )
    return f"a test image: {where} and {how}; {tail}"


def _local_build(build: Build) -> bool:
    """A Makefile or script build whose tags are bare local names (``docker build -t
    demo-telemetry-tests ./test/telemetry``): built to run here, not to be pushed; or any
    build whose images are all named as tests (skaffold's ``e2e-tests``)."""
    local = build.origin.kind in (LinkKind.MAKE, LinkKind.SCRIPT) and not any(
        "/" in name for name in build.images
    )
    names = [name.rsplit("/", 1)[-1] for name in build.images] + list(build.partial_names)
    named = bool(names) and all(_TEST_WORD.search(name) for name in names)
    return local or named


#: A name that says test: ``e2e-tests``, ``ui_tests``, ``integration-test``.
_TEST_WORD = re.compile(r"(?:^|[-_.])(?:e2e|tests?|integration|smoke)(?:$|[-_.])", re.IGNORECASE)


def _test_folder(root: Path, path: Path) -> str | None:
    if root.is_absolute() and path.is_absolute():  # else the answer depends on the cwd
        return _absolute_test_folder(root, path)
    return _folder_of_tests(root, path)


@lru_cache(maxsize=4096)
def _absolute_test_folder(root: Path, path: Path) -> str | None:
    """A pure answer, remembered: DF001 asks once per file, and again per run it reads."""
    return _folder_of_tests(root, path)


def _folder_of_tests(root: Path, path: Path) -> str | None:
    rel = os.path.relpath(path, root)
    if rel.startswith(".."):
        return None
    *parts, name = rel.split(os.sep)
    for index, part in enumerate(parts):
        lower = part.lower()
        tests = lower in TEST_FOLDERS or bool(_TEST_FOLDER.search(lower))
        if tests or folder_verdict(parts[: index + 1]) is not None:
            return "/".join(parts[: index + 1])
    if _TEST_DOCKERFILE.search(name) or _TEST_COMPOSE.search(name):
        return name  # ``Dockerfile.test``, ``compose.tests.yml``: the file says what it is
    return None


#: A compose file named for tests: keel's ``compose.tests.yml`` builds ``Dockerfile.tests``
#: and keeps the container up for ``go test`` runs in it.
_TEST_COMPOSE = re.compile(
    r"(?i)^(?:docker-)?compose[-_.](?:e2e|tests?|integration|ci)(?:[-_.][\w.-]*)?\.ya?ml$"
)


#: Folder names made of a test word and another (``e2e-test``, ``integration_tests``,
#: ``test-e2e``, ``testcontainers``: tailscale's SSH test images).
_TEST_FOLDER = re.compile(
    r"(?:^|[-_.])(?:e2e|tests?)(?:$|[-_.])|^(?:e2e|tests?)[-_]?(?:containers?|images?|env|infra|"
    r"harness|bed|suites?|utils?)$"
)
#: Dockerfile names that say test: ``Dockerfile.test``, ``Dockerfile-e2e``, ``test.Dockerfile``,
#: ``Dockerfile.integration-tests``.
_TEST_DOCKERFILE = re.compile(
    r"(?i)^(?:dockerfile[-_.](?:e2e|tests?|integration(?:[-_]tests?)?|smoke)(?:[-_.]\w+)?|"
    r"(?:e2e|tests?|integration|smoke)[-_.]?\w*\.dockerfile)$"
)


def _rel(root: Path, path: Path) -> str:
    rel = os.path.relpath(path, root)
    return str(path) if rel.startswith("..") else rel


# --- the container behind a run -----------------------------------------------------------


def _container(model: RepositoryModel, run: Run) -> Container | None:
    if run.kind == "compose":
        return None
    doc = _manifest(model, run.path)
    if doc is None:
        return None
    return next(
        (c for c in kube.evidence_containers(doc) if c.node.start_mark.index == run.span.start),
        None,
    )


def _manifest(model: RepositoryModel, path: Path) -> YamlFile | None:
    """A manifest read again for the settings the run index does not keep (cached by
    size and time: the same few files answer every question of one run, and the index's
    own parse of a manifest it reads on first question is the same entry)."""
    return model.yaml_file(path)


def _execs(c: Container) -> Iterator[tuple[int, tuple[str, ...]]]:
    for place in _EXEC_PLACES:
        node = y.get_path(c.node, *place)
        if y.is_sequence(node):
            words = tuple(i.value for i in node.value if y.is_scalar(i))
            yield node.start_mark.line + 1, words


def _words(item: Running) -> list[str]:
    run = item.run
    words = [*(run.command or ()), *(run.args or ())]
    for _, more in _execs(item.container):
        words += more
    return words


# --- scripts from ConfigMaps ----------------------------------------------------------------


@dataclass(frozen=True)
class _Mount:
    path: str  # mount path in the container
    config_map: str
    sub_path: str | None
    items: tuple[tuple[str, str], ...]  # (path in the volume, key)


def _mounts(c: Container) -> list[_Mount]:
    volumes: dict[str, tuple[str, tuple[tuple[str, str], ...]]] = {}
    seq = y.get(c.pod.node, "volumes")
    for volume in seq.value if y.is_sequence(seq) else []:
        name = y.scalar(y.get(volume, "name"))
        sources = [y.get(volume, "configMap")]
        projected = y.get_path(volume, "projected", "sources")
        sources += (
            [y.get(s, "configMap") for s in projected.value] if y.is_sequence(projected) else []
        )
        for source in sources:
            cm = y.scalar(y.get(source, "name"))
            if name and cm:
                volumes[name] = (cm, tuple(_items(source)))
    found: list[_Mount] = []
    mounts = y.get(c.node, "volumeMounts")
    for m in mounts.value if y.is_sequence(mounts) else []:
        volume = volumes.get(y.scalar(y.get(m, "name")) or "")
        path = y.scalar(y.get(m, "mountPath"))
        if volume and path:
            found.append(
                _Mount(path.rstrip("/"), volume[0], y.scalar(y.get(m, "subPath")), volume[1])
            )
    return found


def _items(source: Node | None) -> Iterator[tuple[str, str]]:
    seq = y.get(source, "items")
    for item in seq.value if y.is_sequence(seq) else []:
        key, path = y.scalar(y.get(item, "key")), y.scalar(y.get(item, "path"))
        if key and path:
            yield path, key


def _keys_run(item: Running, mount: _Mount) -> list[str]:
    """ConfigMap keys the container's words name under ``mount``."""
    keys: list[str] = []
    for word in _words(item):
        for found in re.findall(rf"{re.escape(mount.path)}(/[\w.@+-]+)?", word):
            if mount.sub_path is not None:
                keys.append(mount.sub_path)
            elif found:
                name = found.lstrip("/")
                keys.append(dict(mount.items).get(name, name))
    return list(dict.fromkeys(keys))


def _config_scripts(
    model: RepositoryModel, item: Running
) -> Iterator[tuple[str, str, Path, str, int]]:
    """``(path in the container, ConfigMap, file holding it, its text, line offset)`` of each
    ConfigMap script the container names."""
    for mount in _mounts(item.container):
        for key in _keys_run(item, mount):
            shown = f"{mount.path}/{key}" if mount.sub_path is None else mount.path
            found = _from_manifests(model, item.run, mount.config_map, key)
            found = found or _from_generators(model, item.run, mount.config_map, key)
            if found is not None:
                origin, text, offset = found
                yield shown, mount.config_map, origin, text, offset


def _scope(model: RepositoryModel, run: Run) -> list[Path]:
    """Manifest files a ConfigMap of ``run`` may be in: its own, its folder's, and the
    resources of the Kustomizations rendering it."""
    manifest = run.base or run.path
    files = [manifest, run.path]
    folders = [manifest.parent]
    for kustomization in model.kustomizations_of(manifest):
        folders.append(kustomization.parent)
        files += _resources(model, kustomization)
    for folder in folders:
        try:
            files += sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml"))
        except OSError:
            continue
    return list(dict.fromkeys(norm(f) for f in files if f.is_file()))


def _resources(model: RepositoryModel, kustomization: Path) -> list[Path]:
    doc = _manifest(model, kustomization)
    entries = y.get(doc.documents[0], "resources") if doc and doc.documents else None
    return [
        kustomization.parent / i.value
        for i in (entries.value if y.is_sequence(entries) else [])
        if y.is_scalar(i) and i.value
    ]


def _from_manifests(
    model: RepositoryModel, run: Run, name: str, key: str
) -> tuple[Path, str, int] | None:
    for path in _scope(model, run):
        doc = _manifest(model, path)
        for obj in kube.objects(doc) if doc is not None else ():
            if obj.kind != "ConfigMap" or obj.name != name:
                continue
            value = y.get_path(obj.node, "data", key)
            if y.is_scalar(value):
                block = value.style in ("|", ">")
                return path, value.value, value.start_mark.line + (1 if block else 0)
    return None


def _from_generators(
    model: RepositoryModel, run: Run, name: str, key: str
) -> tuple[Path, str, int] | None:
    for kustomization in model.kustomizations_of(run.base or run.path):
        doc = _manifest(model, kustomization)
        root = doc.documents[0] if doc and doc.documents else None
        generators = y.get(root, "configMapGenerator")
        for generator in generators.value if y.is_sequence(generators) else []:
            if y.scalar(y.get(generator, "name")) != name:
                continue
            files = y.get(generator, "files")
            for entry in files.value if y.is_sequence(files) else []:
                text = y.scalar(entry) or ""
                given, _, source = text.rpartition("=") if "=" in text else ("", "", text)
                if (given or Path(source).name) == key:
                    path = norm(kustomization.parent / source)
                    content = walk.read_text(path)
                    if content is not None:
                        return path, content[:_MAX_SCRIPT], 0
    return None
