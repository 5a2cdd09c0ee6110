"""Building the model's indexes: one pass over the files, dictionaries keyed for look-up.

Files are read once, by kind, and dropped after their facts are taken (flat memory). Nothing
compares files with each other: every cross-file question (which Kustomization includes a
manifest, which runs a patch applies to) is a dictionary look-up.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from fixer.documents.text import SourceText
from fixer.documents.yaml import Node, YamlFile
from fixer.documents.yaml.kube import without_definitions
from fixer.repository import generators, hostwrites, links, rendered, walk, yamlfiles
from fixer.repository.builds import from_commands, is_known, norm
from fixer.repository.charts import ChartUser, ChartVolume, chart_users, chart_volumes
from fixer.repository.commands import (
    BuildCommand,
    ImageSet,
    RunCommand,
    image_sets_in_makefile,
    image_sets_in_script,
    in_makefile,
    in_script,
    runs_in_makefile,
    runs_in_script,
)
from fixer.repository.manifests import (
    ImageRename,
    Kustomization,
    compose_runs,
    kube_runs,
    parse_kustomization,
)
from fixer.repository.memo import remember
from fixer.repository.model import (
    Build,
    HostWrite,
    LinkKind,
    Run,
    ScriptRun,
    SourceKind,
    SourceVerdict,
)
from fixer.repository.names import image_key
from fixer.repository.sources import folder_verdict, generated_marker


@dataclass
class Index:
    """Everything the queries need, keyed for constant-time look-ups."""

    root: Path
    dockerfiles: set[Path] = field(default_factory=set)
    scripts: list[str] = field(default_factory=list)  # sorted, for "scripts under a folder"
    #: Persistent volumes Helm charts' values give images, by the image's last name part.
    chart_volumes: defaultdict[str, list[ChartVolume]] = field(
        default_factory=lambda: defaultdict(list)
    )
    #: The numeric users Helm charts' values run images as, by the image's last name part.
    chart_users: defaultdict[str, list[ChartUser]] = field(
        default_factory=lambda: defaultdict(list)
    )
    #: Go programs by the name of their folder (``cmd/infra/ursrv/main.go`` under ``ursrv``).
    go_mains: defaultdict[str, list[Path]] = field(default_factory=lambda: defaultdict(list))
    builds: list[Build] = field(default_factory=list)
    runs: list[Run] = field(default_factory=list)
    host_writes: list[HostWrite] = field(default_factory=list)
    #: ``docker run``s of images the same script or Makefile builds.
    script_runs: list[ScriptRun] = field(default_factory=list)
    kustomizations: dict[Path, Kustomization] = field(default_factory=dict)
    includes_file: dict[Path, list[Path]] = field(default_factory=lambda: defaultdict(list))
    includes_folder: dict[Path, list[Path]] = field(default_factory=lambda: defaultdict(list))
    patches: dict[Path, Path] = field(default_factory=dict)  # patch file -> its Kustomization
    #: image key -> (Kustomization, rename) for renames *from* / *to* that image.
    renames_from: dict[str, list[tuple[Path, ImageRename]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    renames_to: dict[str, list[tuple[Path, ImageRename]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    builds_by_image: dict[str, list[Build]] = field(default_factory=lambda: defaultdict(list))
    builds_by_dockerfile: dict[Path, list[Build]] = field(default_factory=lambda: defaultdict(list))
    runs_by_image: dict[str, list[Run]] = field(default_factory=lambda: defaultdict(list))
    runs_by_dockerfile: dict[Path, list[Run]] = field(default_factory=lambda: defaultdict(list))
    #: Positions in ``host_writes`` by each Dockerfile a write names, and by its image.
    host_writes_by_dockerfile: dict[Path, list[int]] = field(
        default_factory=lambda: defaultdict(list)
    )
    host_writes_by_image: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    script_runs_by_dockerfile: dict[Path, list[ScriptRun]] = field(
        default_factory=lambda: defaultdict(list)
    )
    not_source: dict[Path, SourceVerdict] = field(default_factory=dict)
    files_seen: int = 0
    #: Digest of every indexed file's path, size and mtime: a result that asked the model
    #: is still valid while it is unchanged (``fixer.cache``).
    digest: str = ""
    #: Manifests not parsed yet, by the image keys a line scan found in them: a manifest is
    #: parsed the first time a question names one of its images (most never are).
    pending: dict[str, list[Path]] = field(default_factory=lambda: defaultdict(list))
    #: Each YAML candidate's place in the walk, so runs keep the walk's order however late
    #: their file is parsed.
    order: dict[Path, int] = field(default_factory=dict)
    #: Runs by manifest: while indexing, those parsed at once; then a bounded memo of the
    #: manifests parsed on a question (``_parsed_runs``).
    parsed: dict[Path, list[Run]] = field(default_factory=dict)
    #: ``kustomizations_of`` answers: K8S002 asks once per workload, often many per file.
    rendered_by: dict[Path, tuple[Path, ...]] = field(default_factory=dict)
    #: Kustomization files, and YAML files whose text names a kind of the secret and GitOps
    #: workflows (``may_name_workflow_kind``), in walk order: read again only by those who
    #: ask, instead of a second walk reading every file.
    kustomization_files: list[Path] = field(default_factory=list)
    workflow_yaml: list[Path] = field(default_factory=list)
    #: The first manifest line that mounts the node's CNI configuration (``/etc/cni/net.d``):
    #: the repository ships a network plugin.
    cni_install: tuple[Path, int] | None = None
    #: Launcher templates whose steps run commands in the repository's images (Discourse's
    #: pups templates: a top-level ``run:`` list of ``- exec:`` steps).
    exec_templates: list[Path] = field(default_factory=list)
    #: (document, line, path as written) of each include that shows a file verbatim.
    doc_includes: list[tuple[Path, int, str]] = field(default_factory=list)
    #: Folders of jsonnet/Tanka environments (a ``main.jsonnet``): the manifests in their
    #: output subfolders (``gen/``, ``rendered/``...) are what ``tk export`` wrote.
    jsonnet_envs: list[Path] = field(default_factory=list)
    #: (script or Makefile, a file it writes with a generator such as ``helm template``).
    generator_outputs: list[tuple[Path, generators.Output]] = field(default_factory=list)
    #: Programs the repository's scripts, Makefiles and docs run with ``sudo``: the first
    #: (file, line) of each, by the program's file name.
    sudo_runs: dict[str, tuple[Path, int]] = field(default_factory=dict)
    #: Kustomizations a script renders into a file through another command (``kustomize
    #: build config/helm | sed ... > chart/templates/x.yaml``): (script, line, folder).
    derived: dict[Path, tuple[Path, int, str]] = field(default_factory=dict)
    #: (script or Makefile, a ``kustomize build`` bundle it writes, edited in step).
    rendering_outputs: list[tuple[Path, generators.Output]] = field(default_factory=list)
    #: (manifest, template) of the first ``# Source: chart/templates/x.yaml`` comment of
    #: each manifest that has one: what ``helm template`` writes above each object.
    helm_sources: list[tuple[Path, str]] = field(default_factory=list)
    #: Manifests that read as a tool's rendering of several objects (``kubectl kustomize
    #: config/default > dist/install.yaml``; ``rendered.looks_rendered``), in walk order.
    renderings: list[Path] = field(default_factory=list)
    #: Workloads whose fixes a rendering cannot keep in step, by file (``rendered.out_of_step``).
    out_of_step: rendered.Judged = field(default_factory=dict)
    #: Manifests parsed on a question, shared with ``usage`` (which reads their containers).
    yaml_files: yamlfiles.YamlFiles = field(default_factory=lambda: yamlfiles.YamlFiles(_yaml))

    def runs_for(self, key: str) -> list[Run]:
        """The runs of image ``key``, parsing the manifests that may hold one first."""
        waiting = self.pending.pop(key, None)
        if waiting:
            found = self.runs_by_image[key]
            for path in waiting:
                found += (r for r in self._parsed_runs(path) if _key(r) == key)
            found.sort(key=self.rank)  # stable: compose and merged runs keep their order
        return self.runs_by_image.get(key, [])

    def _parsed_runs(self, path: Path) -> list[Run]:
        known = self.parsed.get(path)
        if known is None:
            # Through the shared cache: ``usage`` reads the same file for its containers.
            known = remember(self.parsed, path, _file_runs(path, self.yaml_files.read(path)))
        return known

    def rank(self, run: Run) -> tuple[int, int]:
        at = self.order.get(run.path)
        return (0, at) if at is not None and run.base is None else (1, 0)

    def kustomizations_of(self, manifest: Path) -> list[Path]:
        """Kustomizations that render ``manifest``, nearest first, through overlays."""
        known = self.rendered_by.get(manifest)
        if known is None:
            known = remember(self.rendered_by, manifest, tuple(self._kustomizations_of(manifest)))
        return list(known)

    def _kustomizations_of(self, manifest: Path) -> list[Path]:
        queue = list(self.includes_file.get(manifest, ()))
        if not any(manifest.parent / n in self.kustomizations for n in _K_NAMES):
            queue += self.includes_folder.get(manifest.parent, ())
        found: list[Path] = []
        while queue:
            current = queue.pop(0)
            if current in found:
                continue
            found.append(current)
            queue.extend(self.includes_folder.get(current.parent, ()))
        return found


_K_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")


def build_index(
    root: Path,
    files: Iterable[Path] | None,
    *,
    include_non_source: bool = False,
    stamp: bool = True,
) -> Index:
    """Without ``stamp`` (a run with no result cache) the walked files are not stat'ed
    for ``Index.digest``, which stays empty: a fifth of the scan, before any worker starts."""
    index = Index(root)
    candidates: dict[str, list[tuple[Path, tuple[str, ...]]]] = defaultdict(list)
    seen = hashlib.blake2b(digest_size=16)
    for path, parts in _files(index, root, files, include_non_source):
        index.files_seen += 1
        if stamp:
            seen.update(_stat_line(path, parts))
        kind = walk.kind_of(parts)
        if kind == walk.DOCKERFILE:
            index.dockerfiles.add(path)
        elif kind is not None:
            candidates[kind].append((path, parts))
        if kind == walk.SCRIPT:
            index.scripts.append(str(path))
        elif kind == walk.GO_MAIN:  # not read now: only when an image runs the program
            index.go_mains[path.parent.name].append(path)
        elif kind == walk.JSONNET_MAIN:  # its name is all that counts: not read
            index.jsonnet_envs.append(path.parent)
    index.digest = seen.hexdigest() if stamp else ""
    index.scripts.sort()
    for path, _ in candidates[walk.KUSTOMIZATION]:
        _add_kustomization(index, path)
        index.kustomization_files.append(path)
    _index_manifests(index, [path for path, _ in candidates[walk.YAML]])
    for kind, handler in _HANDLERS.items():
        for path, _ in candidates[kind]:
            text = walk.read_text(path)
            if text is None:
                continue
            _note_generated(index, path, text)
            try:
                handler(index, path, text)
            except Exception:  # one odd file adds no evidence; it never stops the scan
                continue
    _mark_generated_outputs(index)
    _mark_chart_renderings(index, [path.parent for path, _ in candidates[walk.HELM_VALUES]])
    _judge_renderings(index)
    _through_links(index)
    _merge_patches(index)
    _index_answers(index)
    return index


def _files(
    index: Index, root: Path, files: Iterable[Path] | None, include_non_source: bool
) -> Iterator[tuple[Path, tuple[str, ...]]]:
    def skipped(folder: tuple[str, ...]) -> None:
        # One notice per skipped folder, not per file (vendor/ may hold thousands).
        found = folder_verdict(folder)
        where = norm(root.joinpath(*folder))
        if found is not None and not any(p in index.not_source for p in where.parents):
            index.not_source[where] = SourceVerdict(where, found[0], found[1])

    if files is None:
        yield from walk.walk(root, None if include_non_source else skipped)
        return
    for path, parts in walk.given(root, files):
        if include_non_source or folder_verdict(parts[:-1]) is None:
            yield path, parts
        else:
            skipped(parts[: _verdict_depth(parts[:-1])])


def _verdict_depth(parents: tuple[str, ...]) -> int:
    """How many leading folders it takes for ``folder_verdict`` to say "not source"."""
    for depth in range(1, len(parents) + 1):
        if folder_verdict(parents[:depth]) is not None:
            return depth
    return len(parents)


def _note_generated(index: Index, path: Path, text: str) -> None:
    marker = generated_marker(text)
    if marker is not None:
        index.not_source[path] = SourceVerdict(path, SourceKind.GENERATED, f"marked: {marker!r}")


def _yaml(text: str) -> list[Node]:
    return yamlfiles.documents(text)


#: ``sudo [-E] [VAR=x] [./]program``: the program's file name.
_SUDO = re.compile(r"(?<![\w-])sudo\s+(?:-[A-Za-z]+\s+)*(?:\w+=\S*\s+)*(?:\S*/)?([\w][\w.+-]*)")
#: Programs ``sudo`` runs that say nothing about an image's own program.
_SUDO_COMMON = frozenset(
    {"sh", "bash", "env", "make", "docker", "podman", "apt", "apt-get", "yum", "dnf", "apk"}
    | {"systemctl", "tee", "rm", "cp", "mv", "mkdir", "chmod", "chown", "install", "ln"}
    | {"kubectl", "pip", "pip3", "python", "python3", "go", "mount", "umount", "cat", "echo"}
)


def _note_sudo(index: Index, path: Path, text: str) -> None:
    """``Index.sudo_runs``: the programs ``text`` (a script, Makefile, npm scripts or a
    document, read once each) runs with ``sudo``."""
    if "sudo " not in text:
        return
    for m in _SUDO.finditer(text):
        program = m.group(1)
        if program not in _SUDO_COMMON and program not in index.sudo_runs:
            index.sudo_runs[program] = (path, text.count("\n", 0, m.start()) + 1)


def _judge_renderings(index: Index) -> None:
    """``Index.out_of_step``: only a repository with Kustomizations and a manifest that
    reads as a rendering is read again (by lines, then the few files involved parsed)."""
    if not index.renderings or not index.kustomizations:
        return
    skipped = index.not_source
    candidates = [p for p in index.renderings if p not in skipped]
    sources = [
        p
        for p in index.order
        if p not in skipped and p not in index.patches and index.kustomizations_of(p)
    ]
    if not candidates or len(sources) < 2:
        return
    with contextlib.suppress(Exception):  # evidence: a file that cannot be read says nothing
        index.out_of_step = rendered.out_of_step(
            candidates, sources, _read_whole, index.root, lambda p: derived_of(index, p)
        )


def derived_of(index: Index, manifest: Path) -> str:
    """``Makefile:311 (kustomize build config/helm/deployment | ...)`` when a script of
    the repository renders a Kustomization that includes ``manifest`` and rewrites the
    output before writing it (``Index.derived``); else ""."""
    if not index.derived:
        return ""
    for kustomization in index.kustomizations_of(manifest):
        found = index.derived.get(kustomization)
        if found is not None:
            script, line, folder = found
            return f"{_relative_to(script, index.root)}:{line} (kustomize build {folder} | ...)"
    return ""


def _read_whole(path: Path) -> YamlFile | None:
    """A rendering (or a source beside it) parsed whole, its CRDs blanked first."""
    text = walk.read_text(path, rendered.RENDERING_BYTES)
    if text is None:
        return None
    text = without_definitions(text, keep_places=True)
    docs = _yaml(text)
    return YamlFile(SourceText(text), docs) if docs else None


def _add_kustomization(index: Index, path: Path) -> None:
    text = walk.read_text(path)
    kustomization = parse_kustomization(path, _yaml(text)) if text else None
    if kustomization is None:
        return
    index.kustomizations[path] = kustomization
    for resource in kustomization.resources:
        index.includes_file[resource].append(path)
        index.includes_folder[resource].append(path)
    for patch in kustomization.patches:
        index.patches[patch] = path
    for rename in kustomization.images:
        _add_rename(index, path, rename)


def _add_rename(index: Index, kustomization: Path, rename: ImageRename) -> None:
    old, new = image_key(rename.name), image_key(rename.new_name)
    if old and new:
        index.renames_from[old].append((kustomization, rename))
        index.renames_to[new].append((kustomization, rename))


def _on_image_sets(index: Index, path: Path, sets: list[ImageSet]) -> None:
    """Renames a Makefile or script makes with ``kustomize edit set image`` in a
    Kustomization's folder, filed as if that Kustomization's ``images:`` said them: the
    image it builds is what the manifests' placeholder (kubebuilder's ``controller``)
    becomes. The folder is tried from the file's own folder, then from the root."""
    for found in sets:
        if not is_known(found.folder) or not is_known(found.new_name):
            continue
        for base in (path.parent, index.root):
            folder = norm(base / found.folder)
            kustomization = next(
                (folder / n for n in _K_NAMES if folder / n in index.kustomizations), None
            )
            if kustomization is not None:
                rename = ImageRename(found.name, found.new_name, found.line, stated_in=path)
                _add_rename(index, kustomization, rename)
                break


def _stat_line(path: Path, parts: tuple[str, ...]) -> bytes:
    try:
        st = os.stat(path)
    except OSError:
        return ("/".join(parts) + "\0-\n").encode("utf-8", "surrogateescape")
    line = f"{'/'.join(parts)}\0{st.st_size}\0{st.st_mtime_ns}\n"
    return line.encode("utf-8", "surrogateescape")


def _key(run: Run) -> str | None:
    return image_key(run.image) if run.image else None


def _manifest_runs(path: Path, text: str) -> list[Run]:
    if "apiVersion" not in text or "kind" not in text:
        return []
    docs = _yaml(text)
    return _file_runs(path, YamlFile(SourceText(text), docs) if docs else None)


def _file_runs(path: Path, doc: YamlFile | None) -> list[Run]:
    """The runs of a parsed manifest (none from a file that is not one)."""
    text = doc.source.text if doc is not None else ""
    if doc is None or "apiVersion" not in text or "kind" not in text:
        return []
    try:
        return kube_runs(path, doc)
    except Exception:  # one odd file adds no evidence; it never stops the scan
        return []


#: An ``image:`` key anywhere; the line it is on must be one a line scan can read: a
#: block-style key with a plain or simply quoted value and an optional comment.
_ANY_IMAGE = re.compile(r"""image["']?[ \t]*:""")
_LINE_IMAGE = re.compile(
    r"""[ \t]*(?:-[ \t]+)?["']?image["']?[ \t]*:[ \t]*"""
    r"""(?:"([^"\\]*)"|'([^']*)'|([^\s"'#{}\[\],&*!|>%@`][^\s#]*))[ \t]*(?:#.*)?\r?"""
)


def _line_images(text: str) -> list[str] | None:
    """Every ``image:`` value of a manifest read line by line, or None when some ``image:``
    key is written in a way only the YAML parser reads right (flow style, anchors, tags,
    escapes, block scalars, a key in a comment): that file is parsed now."""
    found = []
    for match in _ANY_IMAGE.finditer(text):
        at = match.start()
        if at and (text[at - 1].isalnum() or text[at - 1] == "_"):
            continue  # ``base_image:`` is another key
        start = text.rfind("\n", 0, at) + 1
        end = text.find("\n", at)
        line = _LINE_IMAGE.fullmatch(text, start, len(text) if end < 0 else end)
        if line is None:
            return None
        found.append(line.group(1) or line.group(2) or line.group(3) or "")
    return found


#: A top-level ``services:`` key: the YAML file is a compose file whatever its name.
_COMPOSE_ROOT = re.compile(r"(?m)^services:[ \t]*(?:#.*)?$")


_CNI_CONFIG = "/etc/cni/net.d"
#: A pups template's steps: a top-level ``run:`` list whose items ``exec:`` commands.
_PUPS_RUN = re.compile(r"(?m)^run:[ \t]*\r?\n(?:[ \t]*(?:#.*)?\r?\n)*[ \t]*- [ \t]*exec:")


def _index_manifests(index: Index, paths: list[Path]) -> None:
    """Runs of Kubernetes manifests without parsing most of them: a line scan files each
    manifest under the image keys it names, parsed on the first question about one
    (``Index.runs_for``). Kustomize patches and the objects they may patch are parsed now:
    merging a patch onto its base needs both."""
    index.order = {path: n for n, path in enumerate(paths)}
    patched: list[Run] = []
    for path in paths:
        if path in index.patches:  # kept whole here: the memo ``_parsed_runs`` fills is bounded
            index.parsed[path] = _file_runs(path, index.yaml_files.read(path))
            patched += index.parsed[path]
    names = {r.name for r in patched}
    for path in paths:
        text = walk.read_text(path)
        if text is None:
            continue
        _note_generated(index, path, text)
        if "# Source: " in text:
            _note_helm_source(index, path, text)
        if may_name_workflow_kind(text):
            index.workflow_yaml.append(path)
        if index.cni_install is None and _CNI_CONFIG in text:
            index.cni_install = (path, text.count("\n", 0, text.index(_CNI_CONFIG)) + 1)
        if "exec:" in text and "apiVersion" not in text and _PUPS_RUN.search(text):
            index.exec_templates.append(path)
        if "apiVersion" not in text and _COMPOSE_ROOT.search(text):
            # A compose file by content, not by name (``stacks/dockercoins+healthcheck.yml``)
            with contextlib.suppress(Exception):  # one odd file adds no evidence
                _on_compose(index, path, text)
            continue
        if path in index.parsed or "apiVersion" not in text or "kind" not in text:
            continue
        if rendered.looks_rendered(text):
            index.renderings.append(path)
        # A CRD's schema has ``image:`` keys the line scan cannot read (KServe's, 2 MB each,
        # were all parsed for it): it runs nothing. Blanked in place: offsets stay.
        text = without_definitions(text, keep_places=True)
        images = _line_images(text)
        if images is None or (patched and _may_be_patched(index, path, text, names)):
            index.parsed[path] = _manifest_runs(path, text)
            continue
        for key in dict.fromkeys(k for i in images if (k := image_key(i))):
            index.pending[key].append(path)
    for path in sorted(index.parsed, key=index.order.__getitem__):
        index.runs.extend(index.parsed[path])
    # Their runs are filed: the memo starts empty for the questions (no file parsed here
    # is ever pending), so the model handed to the workers does not carry them twice.
    index.parsed = {}


#: The kinds that say how a repository manages secrets and deploys itself: Sealed Secrets,
#: External Secrets, Kustomizations (Flux's too) and Argo CD Applications (and sets).
WORKFLOW_KINDS = ("SealedSecret", "ExternalSecret", "Kustomization", "Application")


def may_name_workflow_kind(text: str) -> bool:
    """Whether parsing ``text`` can find one of ``WORKFLOW_KINDS``: most YAML files of a
    repository are workloads, and composing every one of them cost more than the rest of
    K8S004. A kind spelled with escapes (``"Ext\\x65rnalSecret"``) or folded across a line
    in a quoted scalar has no literal name, so a backslash keeps the file too."""
    if "kind" not in text:
        return False
    return "\\" in text or any(word in text for word in WORKFLOW_KINDS)


def _may_be_patched(index: Index, path: Path, text: str, names: set[str | None]) -> bool:
    """The manifest is rendered by a Kustomization and names a patched object."""
    if not index.kustomizations_of(path):
        return False
    return None in names or any(n in text for n in names if n)


def _on_compose(index: Index, path: Path, text: str) -> None:
    docs = _yaml(text)
    index.builds.extend(
        b for _, s in links.compose_services(docs) if (b := links.compose_build(path, s))
    )
    index.runs.extend(compose_runs(path, docs))
    index.host_writes.extend(hostwrites.from_compose(path, docs))


def _on_skaffold(index: Index, path: Path, text: str) -> None:
    index.builds.extend(links.skaffold_builds(path, _yaml(text)))


def _on_workflow(index: Index, path: Path, text: str) -> None:
    if "build" in text:
        index.builds.extend(links.workflow_builds(path, _yaml(text), index.root, index.dockerfiles))


def _on_gitlab(index: Index, path: Path, text: str) -> None:
    if "build" in text:
        index.builds.extend(links.gitlab_builds(path, _yaml(text), index.root, index.dockerfiles))


def _on_makefile(index: Index, path: Path, text: str) -> None:
    text += _included_assignments(path, text)
    _note_sudo(index, path, text)
    _on_commands(index, path, text, LinkKind.MAKE, in_makefile, runs_in_makefile)
    if "set image" in text:
        _on_image_sets(index, path, image_sets_in_makefile(text))


#: ``include build/tools.mk`` (and ``-include``/``sinclude``): the files named, literally.
_MAKE_INCLUDE = re.compile(r"^[ ]*(?:-|s)?include[ \t]+([^$\n#]+?)[ \t]*(?:#.*)?$", re.M)
#: Included files read per Makefile, and bytes of each.
_INCLUDES = 8
_INCLUDE_BYTES = 256 * 1024


def _included_assignments(path: Path, text: str) -> str:
    """The variable assignments of the files a Makefile includes, to be read after its own
    (Tempo's recipes run ``$(TOOLS_CMD) jsonnetfmt -i ...``, and ``build/tools.mk`` says
    ``TOOLS_CMD = docker run --rm -t -v ${PWD}:/tools ...``). Recipes are left out (the
    included file is read as a Makefile of its own too), so the lines cited stay the
    Makefile's own; make expands recursive variables when a recipe runs, so an include
    placed after the recipes still counts."""
    if "include" not in text:
        return ""
    added: list[str] = []
    names = [n for m in _MAKE_INCLUDE.finditer(text) for n in m.group(1).split()]
    for name in names[:_INCLUDES]:
        included = walk.read_text(path.parent / name, _INCLUDE_BYTES)
        if included is None:
            continue
        added += [line for line in included.splitlines() if not line.startswith("\t")]
    return "\n" + "\n".join(added) + "\n" if added else ""


def _on_script(index: Index, path: Path, text: str) -> None:
    _note_sudo(index, path, text)
    if index.cni_install is None and _CNI_CONFIG in text:
        # A network plugin's installer script (kube-ovn's dist/images/install.sh writes
        # its DaemonSets, which mount the node's CNI configuration, from heredocs)
        index.cni_install = (path, text.count("\n", 0, text.index(_CNI_CONFIG)) + 1)
    _on_commands(index, path, text, LinkKind.SCRIPT, in_script, runs_in_script)
    if "set image" in text:
        _on_image_sets(index, path, image_sets_in_script(text))


def _on_commands(
    index: Index,
    path: Path,
    text: str,
    kind: LinkKind,
    builds_in: Callable[[str], list[BuildCommand]],
    runs_in: Callable[[str], list[RunCommand]],
) -> None:
    """``docker build`` links and ``docker run`` host writes of a Makefile or script (run
    from its own folder or from the repository root)."""
    commands = builds_in(text) if "build" in text else []
    folders = [path.parent, index.root]
    for output in generators.outputs(text):
        kept = index.rendering_outputs if output.in_step else index.generator_outputs
        kept.append((path, output))
    bundled = [
        found
        for found in generators.derived_builds(text, bundles=True)
        if any((base / "bundle" / "manifests").is_dir() for base in (path.parent, index.root))
    ]  # a bundle kept in the repository (MetalLB Operator's CI makes it again and diffs)
    for folder, line in generators.derived_builds(text) + bundled:
        for base in (path.parent, index.root):
            kustomization = next(
                (k for n in _K_NAMES if (k := norm(base / folder / n)) in index.kustomizations),
                None,
            )
            if kustomization is not None:
                index.derived.setdefault(kustomization, (path, line, folder))
                break
    index.builds.extend(from_commands(commands, path, kind, folders, index.dockerfiles))
    if " run" in text:
        runs = runs_in(text)
        writes, ran = hostwrites.from_commands(
            commands, runs, path, kind, folders, index.dockerfiles
        )
        index.host_writes += writes
        index.script_runs += ran


#: A fenced code block: its fence and info string; shell blocks (or untyped) are read.
_FENCE = re.compile(r"^[ \t]*(```+|~~~+)[ \t]*([\w+-]*)")
_SHELL_INFO = frozenset({"", "sh", "bash", "shell", "console", "zsh", "shell-session"})
_PROMPT = re.compile(r"^([ \t]*)[$#%][ \t]+")


def shell_blocks(text: str) -> str:
    """The shell code blocks of a Markdown text, prompts (``$ ``) taken off, every other
    line blank: line numbers stay those of the document."""
    out: list[str] = []
    fence: str | None = None
    shell = False
    for line in text.split("\n"):
        m = _FENCE.match(line)
        if fence is None and m:
            fence, shell = m.group(1), m.group(2).lower() in _SHELL_INFO
            out.append("")
        elif fence is not None and _closes(line.strip(), fence):
            fence = None
            out.append("")
        elif fence is not None and shell:
            out.append(_PROMPT.sub(r"\1", line))
        else:
            out.append("")
    return "\n".join(out)


def _closes(line: str, fence: str) -> bool:
    """A closing fence: at least as many of the opening fence's characters, nothing else."""
    return line.startswith(fence) and not line.strip(fence[0])


def _on_docs(index: Index, path: Path, text: str) -> None:
    """A README's ``docker build`` and ``docker run -v $(pwd):...`` commands are how people
    use the image (skaffold's and sock-shop's tool images are run that way)."""
    if any(marker in text for marker in _INCLUDE_MARKERS):
        for match in _INCLUDE.finditer(text):
            target = next(g for g in match.groups() if g is not None)
            line = text.count("\n", 0, match.start()) + 1
            index.doc_includes.append((path, line, target))
    _note_sudo(index, path, text)  # the whole page (its shell blocks are a part of it)
    if "docker" not in text and "podman" not in text:
        return
    _on_commands(index, path, shell_blocks(text), LinkKind.SCRIPT, in_script, runs_in_script)


#: Documentation that shows a file's text verbatim: container.training's
#: ``@@INCLUDE[k8s/haproxy.yaml]``, MkDocs snippets ``--8<-- "path"``, the Kubernetes
#: website's ``{{% code_sample file="pods/pod.yaml" %}}`` (and ``codenew``/``code``),
#: Sphinx ``literalinclude``, AsciiDoc ``include::path[]``, Jekyll ``include_relative``,
#: Jinja's ``{% include 'name.yaml' %}`` (MkDocs macros, from its snippets folder; with
#: the macros plugin's other markers ``[[% include 'x.yaml' %]]``, as external-dns writes),
#: Hugo shortcodes ``{{< include "examples/jobs/sample-job.yaml" "yaml" >}}`` (Kueue's site)
#: and Docsy's ``{{< readfile file="/examples/pod.yaml" code="true" >}}``.
_INCLUDE_MARKERS = (
    "@@INCLUDE",
    "--8<--",
    "file=",
    "include::",
    "literalinclude",
    "include_relative",
    "{% include",
    "{%- include",
    "[[% include",
    "[[%- include",
    "{{< include",
    "{{% include",
    "readfile",
)
_INCLUDE = re.compile(
    r"@@INCLUDE\[([^\]\s]+)\]"
    r"|--8<--[ \t]+[\"']([^\"'\s]+)[\"']"
    r"|\{\{[<%][ \t]*(?:code_sample|codenew|code)\b[^}]*?\bfile=\"([^\"]+)\""
    r"|\.\.[ \t]+literalinclude::[ \t]*(\S+)"
    r"|^include::([^\[\s]+)\["
    r"|\{%[ \t]*include_relative[ \t]+(\S+)"
    r"|(?:\{|\[\[)%-?[ \t]*include[ \t]+[\"']([^\"'\s]+)[\"']"
    r"|\{\{[<%]-?[ \t]*include[ \t]+\"([^\"\s]+)\""
    r"|\{\{[<%]-?[ \t]*readfile[ \t]+(?:file=)?\"([^\"\s]+)\"",
    re.MULTILINE,
)


def _on_package(index: Index, path: Path, text: str) -> None:
    """A ``package.json``'s npm scripts are shell commands (``npm run build-docker``
    runs ``docker buildx build -f docker/builder.dockerfile -t org/app:builder .``)."""
    if "docker" in text or "podman" in text:
        scripts = npm_scripts(text)
        _note_sudo(index, path, scripts)
        _on_commands(index, path, scripts, LinkKind.SCRIPT, in_script, runs_in_script)


def npm_scripts(text: str) -> str:
    """The ``scripts`` of a package.json as a shell text, each on the line of the file
    that holds it (every other line blank), so evidence cites ``package.json:line``."""
    import json

    try:
        scripts = json.loads(text).get("scripts")
    except (ValueError, AttributeError):
        return ""
    if not isinstance(scripts, dict):
        return ""
    lines = text.split("\n")
    out = [""] * len(lines)
    start = next((i for i, line in enumerate(lines) if '"scripts"' in line), 0)
    for name, value in scripts.items():
        if not isinstance(value, str):
            continue
        key = json.dumps(name)
        at = next((i for i in range(start, len(lines)) if key in lines[i]), None)
        if at is None:
            continue
        out[at] = (out[at] + "; " if out[at] else "") + value.replace("\n", " ")
    return "\n".join(out)


def _on_go_generator(index: Index, path: Path, text: str) -> None:
    index.generator_outputs += [(path, o) for o in generators.go_outputs(text)]


#: A values file that may give a component a persistent volume (most give none).
_CHART_VOLUME_HINT = re.compile(r"(?i)persist|pvc|storage:")


def _on_helm_values(index: Index, path: Path, text: str) -> None:
    if "image" not in text:
        return
    volumes = _CHART_VOLUME_HINT.search(text) is not None
    users = "runAsUser" in text
    if not (volumes or users) or not (path.parent / "Chart.yaml").is_file():
        return
    documents = _yaml(text)
    for volume in chart_volumes(path, documents) if volumes else ():
        index.chart_volumes[volume.image.rsplit("/", 1)[-1]].append(volume)
    for user in chart_users(path, documents) if users else ():
        index.chart_users[user.image.rsplit("/", 1)[-1]].append(user)


def _on_tilt(index: Index, path: Path, text: str) -> None:
    index.builds.extend(links.tilt_builds(path, text))


_HANDLERS = {
    walk.COMPOSE: _on_compose,
    walk.SKAFFOLD: _on_skaffold,
    walk.WORKFLOW: _on_workflow,
    walk.GITLAB: _on_gitlab,
    walk.MAKEFILE: _on_makefile,
    walk.SCRIPT: _on_script,
    walk.TILTFILE: _on_tilt,
    walk.DOCS: _on_docs,
    walk.PACKAGE: _on_package,
    walk.GO_GENERATOR: _on_go_generator,
    walk.HELM_VALUES: _on_helm_values,
}


def _mark_generated_outputs(index: Index) -> None:
    """Manifests a script or Makefile of the repository writes with a generator are
    generated (``fixer.repository.generators``): skipped as such, with where."""
    _mark_jsonnet_outputs(index)
    _note_rendering_outputs(index)
    if not index.generator_outputs:
        return
    writers = _Writers(index, index.generator_outputs)
    for manifest in index.order:
        if manifest in index.not_source:
            continue
        found = writers.of(manifest)
        if found is not None:
            script, output = found
            where = f"{_relative_to(script, index.root)}:{output.line}"
            reason = f"written by {where} ({output.generator})"
            index.not_source[manifest] = SourceVerdict(manifest, SourceKind.GENERATED, reason)


def _note_rendering_outputs(index: Index) -> None:
    """The ``kustomize build`` bundles a script writes are renderings whatever their size
    (Harbor Operator's ``manifests/cluster/deployment.yaml``, 3.9 MB of CRDs before the
    workloads, too large for the line scan that finds the others)."""
    if not index.rendering_outputs:
        return
    writers = _Writers(index, index.rendering_outputs)
    known = set(index.renderings)
    for manifest in index.order:
        if manifest not in known and writers.of(manifest) is not None:
            index.renderings.append(manifest)


#: ``# Source: chart/templates/deployment.yaml``: the comment ``helm template`` writes above
#: every object it renders (``chart/charts/sub/templates/...`` for a subchart's).
_HELM_SOURCE = re.compile(r"^# Source: ([\w.-]+)/((?:charts/[\w.-]+/)*templates/\S+)[ \t]*$", re.M)
_CHART_NAME = re.compile(r"^name:[ \t]*[\"']?([\w.-]+)", re.M)


def _note_helm_source(index: Index, path: Path, text: str) -> None:
    found = _HELM_SOURCE.search(text)
    if found is not None:
        index.helm_sources.append((path, f"{found.group(1)}/{found.group(2)}"))


def _mark_chart_renderings(index: Index, folders: list[Path]) -> None:
    """A manifest ``helm template`` rendered from a chart of this repository is generated:
    its ``# Source:`` comment names the chart and a template the chart has (trivy-operator's
    ``deploy/static/trivy-operator.yaml``, rendered from ``deploy/helm`` by
    ``hack/update-static.yaml.sh``). An edit of it is undone by the next rendering: the
    change belongs in the template, which tighten does not edit. A rendering of a chart the
    repository does not hold (an upstream one, applied as committed) is the source."""
    if not index.helm_sources or not folders:
        return
    charts: dict[str, list[tuple[Path, str]]] = defaultdict(list)
    for folder in folders:
        text = walk.read_text(folder / "Chart.yaml")
        named = _CHART_NAME.search(text) if text else None
        if text and named is not None:
            charts[named.group(1)].append((folder, text))
    for manifest, source in index.helm_sources:
        if manifest in index.not_source:
            continue
        name, template = source.split("/", 1)
        for folder, chart_yaml in charts.get(name, ()):
            if (folder / template).is_file() or _subchart(folder, chart_yaml, template):
                chart = _relative_to(folder, index.root) or str(folder)
                reason = (
                    f"written by helm template from the chart {chart}/ (its # Source: "
                    "comments name the chart's templates)"
                )
                index.not_source[manifest] = SourceVerdict(manifest, SourceKind.GENERATED, reason)
                break


def _subchart(folder: Path, chart_yaml: str, template: str) -> bool:
    """``charts/NAME/templates/x.yaml`` of the chart in ``folder`` (its ``Chart.yaml``
    text ``chart_yaml``) when NAME is one of its dependencies, vendored or not (Grafana's
    k8s-monitoring renders its examples' first object from the ``alloy-operator``
    dependency, downloaded at build time)."""
    parts = template.split("/")
    if len(parts) < 4 or parts[0] != "charts":
        return False
    sub = parts[1]
    if (folder / "charts" / sub).is_dir():
        return True
    dependency = rf"(?m)^[ \t-]*name:[ \t]*[\"']?{re.escape(sub)}[\"']?[ \t]*$"
    return re.search(dependency, chart_yaml) is not None


#: Subfolders of a jsonnet environment that hold what it renders (Tempo's
#: ``operations/jsonnet-compiled/microservices/gen/``, which ``tk export`` rewrites and CI
#: compares with ``git diff --exit-code``).
_RENDER_FOLDERS = frozenset(
    {"gen", "generated", "compiled", "rendered", "out", "output", "dist", "build"}
)


def _mark_jsonnet_outputs(index: Index) -> None:
    """Manifests in an output subfolder of a jsonnet environment (a folder with a
    ``main.jsonnet``) are its rendering: generated, with the environment named. Files
    beside ``main.jsonnet`` may be its inputs (``std.parseYaml(importstr ...)``): not these."""
    if not index.jsonnet_envs:
        return
    envs = set(index.jsonnet_envs)
    for manifest in index.order:
        if manifest in index.not_source:
            continue
        folder = manifest.parent
        if folder.name not in _RENDER_FOLDERS:
            continue
        for env in (folder.parent, folder.parent.parent):
            if env in envs:
                main = _relative_to(env / "main.jsonnet", index.root) or env / "main.jsonnet"
                reason = f"written by jsonnet from {main} (its {folder.name}/ folder)"
                index.not_source[manifest] = SourceVerdict(manifest, SourceKind.GENERATED, reason)
                break


class _Writers:
    """Which script line writes a manifest, asked of every manifest, without comparing
    every manifest with every output (a monorepo has scripts in every service). Each
    output is filed where a manifest it can match must lie, for a match from the root or
    from the script's folder:

    * a literal pattern (``deploy/app.yaml``) by the one path it names from each;
    * a pattern with wildcards by the folder its literal head names from each
      (``out/gen-*.yaml`` from ``svc/scripts/``: ``svc/scripts/out/``), which is then one
      of the manifest's folders (fnmatch's ``*`` crosses ``/``, so any of them);

    and for a match of the path's end (``*/`` + a pattern with a folder), by the script's
    project folder, which the manifest must be in. The filing only narrows the candidates:
    each is then checked as before, paths compared as text (``Path.relative_to`` parses
    both paths again on every call)."""

    def __init__(self, index: Index, outputs: list[tuple[Path, generators.Output]]) -> None:
        root = _folder_text(index.root)
        at_path: dict[str, list[int]] = defaultdict(list)
        in_folder: dict[str, list[int]] = defaultdict(list)
        in_project: dict[str, list[int]] = defaultdict(list)
        self._entries: list[tuple[Path, generators.Output, tuple[str, ...], str]] = []
        for n, (script, output) in enumerate(outputs):
            folder = script.parent
            project = _folder_text(folder.parent if folder != index.root else index.root)
            starts = (root, _folder_text(folder))
            self._entries.append((script, output, starts, project))
            pattern = output.pattern
            wild = min((i for i, c in enumerate(pattern) if c in "*?["), default=-1)
            for start in dict.fromkeys(starts):
                if wild < 0:
                    at_path[start + pattern.replace("/", os.sep)].append(n)
                else:
                    head = pattern[:wild]
                    in_folder[start + head[: head.rfind("/") + 1].replace("/", os.sep)].append(n)
            if "/" in pattern:
                in_project[project].append(n)
        self._at_path, self._in_folder = dict(at_path), dict(in_folder)
        self._in_project = dict(in_project)

    def of(self, manifest: Path) -> tuple[Path, generators.Output] | None:
        """The script line that writes ``manifest``: an exact match first, then one whose
        pattern matches the end of the path (``$ROOT/deploy/app.yaml``, the script's own
        root below the repository's), for a manifest of the script's own project only (the
        folder above the script's: another project's ``deploy/app.yaml`` is not its
        output)."""
        text = str(manifest)
        exact = list(self._at_path.get(text, ()))
        end: list[int] = []
        folder = text[: text.rfind(os.sep) + 1]
        while folder:  # each folder the manifest is in, up to the file system's root
            exact += self._in_folder.get(folder, ())
            end += self._in_project.get(folder, ())
            cut = folder.rfind(os.sep, 0, len(folder) - 1)
            folder = folder[: cut + 1] if cut >= 0 else ""
        for ending, candidates in ((False, exact), (True, end)):
            for n in sorted(set(candidates)) if len(candidates) > 1 else candidates:
                script, output, starts, project = self._entries[n]
                for start in starts:
                    relative = _text_under(text, start)
                    if relative is None or not generators.matches(output, relative, ending=ending):
                        continue
                    if not ending or _text_under(text, project) is not None:
                        return script, output
        return None


def _folder_text(folder: Path) -> str:
    """``folder`` as text ending with its separator (``/`` stays ``/``)."""
    text = str(folder)
    return text if text.endswith(os.sep) else text + os.sep


def _text_under(path: str, folder: str) -> str | None:
    """``path`` relative to ``folder`` (text ending with a separator), ``/`` separated; None
    when it is not below it. The same answer as ``Path.relative_to`` for normal paths."""
    if not path.startswith(folder) or len(path) == len(folder):
        return None
    relative = path[len(folder) :]
    return relative if os.sep == "/" else relative.replace(os.sep, "/")


def _through_links(index: Index) -> None:
    """Builds that name their Dockerfile through a symbolic link of the repository
    (``stacks/dockercoins -> ../dockercoins``) are filed under the Dockerfile the walk
    found. Only paths that resolve inside the repository are rewritten."""
    known = index.dockerfiles
    if all(b.dockerfile in known for b in index.builds):
        return
    root_real = Path(os.path.realpath(index.root))

    def walked(path: Path) -> Path | None:
        real = _inside(Path(os.path.realpath(path)), root_real, index.root)
        return real if real is not None and real in known else None

    for n, build in enumerate(index.builds):
        if build.dockerfile in known or (real := walked(build.dockerfile)) is None:
            continue
        context = _inside(Path(os.path.realpath(build.context)), root_real, index.root)
        index.builds[n] = replace(build, dockerfile=real, context=context or build.context)
    for n, run in enumerate(index.runs):
        if run.dockerfile is None or run.dockerfile in known:
            continue
        if (real := walked(run.dockerfile)) is not None:
            index.runs[n] = replace(run, dockerfile=real)


def _inside(real: Path, root_real: Path, root: Path) -> Path | None:
    """``real`` (a resolved path) as a path under ``root``, or None when outside it."""
    try:
        return root / real.relative_to(root_real)
    except ValueError:
        return None


def _relative_to(path: Path, folder: Path) -> str | None:
    try:
        return path.relative_to(folder).as_posix()
    except ValueError:
        return None


def _merge_patches(index: Index) -> None:
    """Patch files are not workloads: each patched container becomes a merged run (the base
    container with the patch's image/command/args) placed at the patch, when the base
    object is rendered by the Kustomization that lists the patch."""
    bases: dict[tuple[str, str | None, str], list[Run]] = defaultdict(list)
    patched: list[Run] = []
    for run in index.runs:
        target = (
            patched if run.path in index.patches else bases[(run.kind, run.name, run.container)]
        )
        target.append(run)
    # The bases of each patched key filed by the Kustomizations that render them: a patch
    # takes those of its owner, not a test of every base of its name (a monorepo's
    # services all name their Deployment ``app``: patches x bases).
    wanted = {(p.kind, p.name, p.container) for p in patched}
    owned: dict[tuple[str, str | None, str, Path], list[Run]] = defaultdict(list)
    for kind, name, container in wanted:
        for base in bases.get((kind, name, container), ()):
            for owner in dict.fromkeys(index.kustomizations_of(base.path)):
                owned[(kind, name, container, owner)].append(base)
    merged: list[Run] = []
    for patch in patched:
        owner = index.patches[patch.path]
        for base in owned.get((patch.kind, patch.name, patch.container, owner), ()):
            merged.append(_merged(base, patch))
    index.runs = [r for r in index.runs if r.path not in index.patches] + merged


def _merged(base: Run, patch: Run) -> Run:
    return replace(
        base,
        path=patch.path,
        line=patch.line,
        span=patch.span,
        image=patch.image or base.image,
        command=patch.command if patch.command is not None else base.command,
        args=patch.args if patch.args is not None else base.args,
        base=base.path,
    )


def _index_answers(index: Index) -> None:
    for build in index.builds:
        index.builds_by_dockerfile[build.dockerfile].append(build)
        for name in build.images:
            key = image_key(name)
            if key is not None:
                index.builds_by_image[key].append(build)
    for run in index.runs:
        key = image_key(run.image) if run.image else None
        if key is not None:
            index.runs_by_image[key].append(run)
        if run.dockerfile is not None:
            index.runs_by_dockerfile[run.dockerfile].append(run)
    for n, write in enumerate(index.host_writes):
        for dockerfile in dict.fromkeys(write.dockerfiles):
            index.host_writes_by_dockerfile[dockerfile].append(n)
        if write.image is not None:
            index.host_writes_by_image[write.image].append(n)
    for ran in index.script_runs:
        for dockerfile in dict.fromkeys(ran.dockerfiles):
            index.script_runs_by_dockerfile[dockerfile].append(ran)
