"""``RepositoryModel``: the repository as evidence for a fix's assumptions.

Built once per run by ``RepositoryModel.scan`` (one walk, linear in the file count), then
asked questions by image name or Dockerfile. Questions about a Dockerfile's contents parse
that one Dockerfile on first use and remember the answer. Nothing here raises on a bad
file: an unreadable or unparsable file simply contributes no evidence.
"""

from __future__ import annotations

import bisect
import os
import re
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

from fixer.documents.dockerfile import parse as parse_dockerfile
from fixer.documents.text import SourceText
from fixer.documents.yaml import YamlFile
from fixer.repository import copies as cp
from fixer.repository import froms, tools, walk
from fixer.repository.builds import norm
from fixer.repository.goprograms import (
    CommandRunner,
    PathChange,
    RelativeWrite,
    command_runner,
    path_change,
    relative_write,
)
from fixer.repository.index import Index, build_index, derived_of
from fixer.repository.manifests import ImageRename, Kustomization
from fixer.repository.memo import remember
from fixer.repository.model import (
    Build,
    Copies,
    Evidence,
    HostWrite,
    LinkKind,
    Origin,
    Run,
    ScriptRun,
    SourceKind,
    SourceVerdict,
)
from fixer.repository.names import image_key
from fixer.repository.nearest import MAX_EXACT, nearest
from fixer.repository.rendered import Holders, identities
from fixer.repository.sources import read_head, verdict

#: Listing a copied folder stops here: the answer is evidence, not an inventory.
MAX_LISTED = 1000
_SCRIPT_SUFFIXES = (".sh", ".bash")
T = TypeVar("T", Build, Run)


_MAKEFILES = ("Makefile", "makefile", "GNUmakefile")


class RepositoryModel:
    """Answers about builds, runs, copied files and source-ness of one repository."""

    def __init__(self, index: Index) -> None:
        self._index = index
        #: What a relative path asked about is relative to (``asked_from``).
        self._base = index.root
        self._yaml_objects: Holders | None = None
        #: The same, over the files marked generated only (``generated_copies``).
        self._generated_objects: Holders | None = None
        #: Image key -> the Dockerfile stages built FROM it (``derived_from``), read once.
        self._froms: dict[str, list[froms.Derived]] | None = None
        #: ``_likely_derived``: per folder, the FROM names of the Dockerfiles below it.
        self._near_froms: dict[Path, dict[str, list[froms.Derived]]] = {}
        #: ``derived_from`` answers by absolute Dockerfile path.
        self._derived: dict[Path, tuple[froms.Derived, ...]] = {}
        self._analyses: dict[tuple[Path, str | None], cp.Analysis | None] = {}
        self._paths: dict[Path, Path] = {}
        #: The Dockerfile a rule is reading, parsed: asked about it, the model need not
        #: read and parse it again (one slot: it is always the file being processed).
        self._current: tuple[Path, Any] | None = None
        #: image key last parts -> keys, built on the first ``runs_named``.
        self._by_last_name: dict[str, list[str]] | None = None
        #: ``shown_in_docs``: the documents' includes by the file name they end with.
        self._includes_by_name: dict[str, list[tuple[Path, int, str]]] | None = None
        #: ``_likely_derived``: every Dockerfile, sorted by its path as text (a folder's
        #: are a range of it).
        self._sorted_dockerfiles: list[Path] | None = None
        #: ``build_of`` answers by absolute Dockerfile path (the builds never change).
        self._builds_of: dict[Path, tuple[Build, ...]] = {}
        #: ``entrypoint_script`` answers by (Dockerfile, target, context): DF001 and the
        #: tool rules ask about the same build, and each ask tries up to seven image paths.
        self._entrypoints: dict[tuple[Path, str | None, Path], Path | None] = {}
        #: Whether a path (a context folder joined with a copied source) is a folder: the
        #: same few sources are asked about for every image path tried.
        self._dirs: dict[str, bool] = {}

    @classmethod
    def scan(
        cls,
        root: Path,
        files: Iterable[Path] | None = None,
        *,
        include_non_source: bool = False,
        stamp: bool = True,
    ) -> RepositoryModel:
        """Index ``root`` (or just ``files``, e.g. ``git ls-files``). Test data and vendored
        folders are not read unless ``include_non_source``; each gets a notice instead.
        Without ``stamp`` there is no ``digest`` (a run without the result cache)."""
        root = Path(os.path.abspath(root))
        return cls(build_index(root, files, include_non_source=include_non_source, stamp=stamp))

    # --- facts about the scan ------------------------------------------------------------

    @property
    def root(self) -> Path:
        return self._index.root

    @property
    def dockerfiles(self) -> tuple[Path, ...]:
        return tuple(sorted(self._index.dockerfiles))

    @property
    def kustomizations(self) -> tuple[Kustomization, ...]:
        """Every Kustomization the scan read, in path order (``render.judged`` picks)."""
        return tuple(self._index.kustomizations[p] for p in sorted(self._index.kustomizations))

    def workflow_files(self) -> tuple[tuple[Path, ...], tuple[Path, ...]]:
        """The Kustomization files, and the YAML files that may name a secret or GitOps
        workflow kind (``index.may_name_workflow_kind``), each in walk order."""
        index = self._index
        return tuple(index.kustomization_files), tuple(index.workflow_yaml)

    def network_plugin(self) -> str:
        """``path:line`` of the first manifest that mounts the node's CNI configuration
        (the repository ships a network plugin), or ""."""
        found = self._index.cni_install
        if found is None:
            return ""
        return f"{os.path.relpath(found[0], self.root)}:{found[1]}"

    @property
    def files_seen(self) -> int:
        return self._index.files_seen

    @property
    def digest(self) -> str:
        """Changes whenever a file the scan walked is added, removed or written (empty when
        the scan was made without ``stamp``)."""
        return self._index.digest

    @property
    def notices(self) -> tuple[str, ...]:
        """One line per skipped folder / generated file / patch file, in path order."""
        verdicts = [*self._index.not_source.values(), *map(self.is_source, self._index.patches)]
        shown = (
            replace(v, path=self._shown(v.path), reason=self._shown_reason(v)) for v in verdicts
        )
        return tuple(v.notice for v in sorted(shown, key=lambda v: str(v.path)))

    def _shown(self, path: Path) -> Path:
        """``path`` relative to the root, as notices show it."""
        rel = os.path.relpath(path, self.root)
        return path if rel.startswith("..") else Path(rel)

    def _shown_reason(self, found: SourceVerdict) -> str:
        owner = self._index.patches.get(found.path)
        return f"listed in {self._shown(owner)}" if owner else found.reason

    # --- builds ---------------------------------------------------------------------------

    def builds_for(self, image_name: str, manifest: Path | None = None) -> list[Build]:
        """Builds producing ``image_name`` (tag/digest ignored), also through a Kustomize
        ``images:`` rename in either direction; ``manifest`` limits renames to the
        Kustomizations that render that manifest."""
        key = image_key(image_name)
        if key is None:
            return []
        found = list(self._index.builds_by_image.get(key, ()))
        scope = set(self.kustomizations_of(manifest)) if manifest is not None else None
        for kustomization, rename in self._index.renames_from.get(key, ()):
            if scope is None or kustomization in scope:
                found += self._renamed_builds(rename.new_name, kustomization, rename)
        for kustomization, rename in self._index.renames_to.get(key, ()):
            if scope is None or kustomization in scope:
                found += self._renamed_builds(rename.name, kustomization, rename)
        return _unique(found)

    def _renamed_builds(self, name: str, kustomization: Path, rename: ImageRename) -> list[Build]:
        key = image_key(name)
        via = Origin(rename.stated_in or kustomization, rename.line, LinkKind.KUSTOMIZE)
        return [replace(b, via=via) for b in self._index.builds_by_image.get(key or "", ())]

    def build_of(self, dockerfile: Path) -> list[Build]:
        """How ``dockerfile`` is built; a Dockerfile nothing links is built from its own
        folder (``LinkKind.DEFAULT``, image unknown)."""
        path = self._abs(dockerfile)
        known = self._builds_of.get(path)
        if known is None:  # asked several times per Dockerfile (DF001 alone asks four)
            known = tuple(self._index.builds_by_dockerfile.get(path, ())) or (
                self._default_build(path),
            )
            remember(self._builds_of, path, known)
        return list(known)

    def _default_build(self, path: Path) -> Build:
        """The build of a Dockerfile nothing links: from its own folder, unless what it
        copies is only found from the repository root (KFP's cache deployer, built from the
        root by a workflow's matrix: ``ADD backend/src/cache/deployer/* ...`` beside
        ``backend/src/cache/deployer/Dockerfile``)."""
        build = Build.default(path)
        if path.parent == self.root:
            return build
        try:
            analysis = self._analysis(build)
            if analysis is None:
                return build
            sources = cp.context_sources(analysis, analysis.shipped, None, lambda _rel: False)
        except Exception:  # evidence is optional: the folder stays the context
            return build
        sources = [s for s in sources if s != cp.WHOLE and "$" not in s]
        if not sources:
            return build
        if any(_found(path.parent, s) for s in sources):
            return build
        if all(_found(self.root, s) for s in sources):
            return replace(build, context=norm(self.root))
        return build

    def unbuilt_last_stage(self, dockerfile: Path, last: str | None, stages: set[str]) -> str:
        """Why the last stage of ``dockerfile`` is not what the repository ships: every
        build of it the repository runs names a ``--target`` that is one of its earlier
        ``stages`` (uptime-kuma builds ``--target release`` and ``--target pr-test2``; its
        last stage uploads a CI artifact). Empty when a build ships the last stage, when a
        target is not known (a variable, a name the file lacks) or nothing builds it."""
        builds = self._index.builds_by_dockerfile.get(self._abs(dockerfile), ())
        if not builds:
            return ""
        last = (last or "").lower()
        shown: list[str] = []
        for build in builds:
            target = (build.target or "").lower()
            if not target or target == last or target not in stages:
                return ""
            where = f"{os.path.relpath(build.origin.path, self.root)}:{build.origin.line}"
            shown.append(f"--target {build.target} ({where})")
        listed = ", ".join(dict.fromkeys(shown[:3]))
        more = f" and {len(shown) - 3} more" if len(shown) > 3 else ""
        return f"the repository builds it only as earlier stages: {listed}{more}"

    def yaml_paths(self) -> tuple[Path, ...]:
        """Every YAML file the scan walked (manifests or not), in walk order."""
        return tuple(self._index.order)

    def derived_from(self, dockerfile: Path) -> list[froms.Derived]:
        """Stages of the repository's other Dockerfiles built FROM an image ``dockerfile``
        is built as (matched by name: ``make base`` tags ``acme/base``, another Dockerfile
        says ``FROM acme/base:1``), in path order. The Dockerfiles are read on the first
        question whose Dockerfile has a known image name."""
        path = self._abs(dockerfile)
        known = self._derived.get(path)
        if known is None:  # DF001 asks up to three times per Dockerfile
            known = remember(self._derived, path, tuple(self._derived_from(path)))
        return list(known)

    def _derived_from(self, path: Path) -> list[froms.Derived]:
        builds = self.build_of(path)
        keys = {k for b in builds for n in b.images if (k := image_key(n))}
        if not keys:
            return self._likely_derived(path)
        if self._froms is None:
            self._froms = froms.index(self._index.dockerfiles)
        tags = _known_tags(builds)
        found = {
            d
            for k in sorted(keys)
            for d in self._froms.get(k, ())
            if d.dockerfile != path and (k not in tags or d.tag is None or d.tag in tags[k])
        }
        return sorted(found, key=lambda d: (str(d.dockerfile), d.line))

    def _likely_derived(self, path: Path) -> list[froms.Derived]:
        """For a Dockerfile its folder's Makefile builds under a name nothing here expands
        (a shared Makefile's ``-t strimzi/$(PROJECT_NAME)``, included): the stages of the
        Dockerfiles beside it (below the folder above its own) built FROM an organisation's
        image named after its folder (``FROM strimzi/base`` for ``docker-images/base/``;
        official library images never count). A likely match only ever withholds. The
        Dockerfiles of each such folder are read once, on its first question."""
        folder = path.parent.name
        if len(folder) < 3 or folder in ("docker", "build", "images", "image"):
            return []
        if not any(os.path.isfile(path.parent / name) for name in _MAKEFILES):
            return []  # built by make in its folder, under a name make computes: else none
        near = path.parent.parent
        by_name = self._near_froms.get(near)
        if by_name is None:
            prefix = str(near).rstrip(os.sep) + os.sep
            if self._sorted_dockerfiles is None:
                self._sorted_dockerfiles = sorted(self._index.dockerfiles, key=str)
            files = _starting_with(self._sorted_dockerfiles, prefix, key=str)
            by_name = {}
            for key, derived in froms.index(files).items():
                if "/library/" not in key:
                    by_name.setdefault(key.rsplit("/", 1)[-1], []).extend(derived)
            remember(self._near_froms, near, by_name)
        found = {d for d in by_name.get(folder, ()) if d.dockerfile != path}
        return sorted(found, key=lambda d: (str(d.dockerfile), d.line))

    # --- runs -----------------------------------------------------------------------------

    def runs_of(self, image_name: str) -> list[Run]:
        """Containers and compose services running ``image_name``, also where a manifest
        names another image that a Kustomization rendering it renames to this one."""
        key = image_key(image_name)
        if key is None:
            return []
        found = list(self._index.runs_for(key))
        for kustomization, rename in self._index.renames_to.get(key, ()):
            via = Origin(rename.stated_in or kustomization, rename.line, LinkKind.KUSTOMIZE)
            for run in self._index.runs_for(image_key(rename.name) or ""):
                # A run merged from a patch is rendered where its base object is.
                if kustomization in self.kustomizations_of(run.base or run.path):
                    found.append(replace(run, via=via))
        return _unique(found)

    def host_writes_of(self, dockerfile: Path) -> list[HostWrite]:
        """Runs of the image ``dockerfile`` builds that write host folders (``docker run
        -v``, compose bind mounts), matched by Dockerfile or by image name."""
        path = self._abs(dockerfile)
        names = {n for b in self.build_of(path) for n in b.images}
        index = self._index  # filed by Dockerfile and image at the scan (``_index_answers``)
        found = set(index.host_writes_by_dockerfile.get(path, ()))
        for name in names:
            found.update(index.host_writes_by_image.get(name, ()))
        return [index.host_writes[n] for n in sorted(found)]  # in the order of the scan

    def script_runs_of(self, dockerfile: Path) -> list[ScriptRun]:
        """The ``docker run``s of scripts and Makefiles that build ``dockerfile``'s image."""
        return list(self._index.script_runs_by_dockerfile.get(self._abs(dockerfile), ()))

    def runs_named(self, last_names: Collection[str]) -> list[Run]:
        """Runs of every image whose last path part is one of ``last_names`` (``web`` for
        ``ghcr.io/acme/web``), in walk order; only the manifests naming one are parsed."""
        if not last_names:
            return []
        index = self._index
        if self._by_last_name is None:
            # The keys never change after the scan (parsing a pending manifest only moves
            # its runs under a key it was already filed by), so one pass serves every ask.
            by_name: dict[str, list[str]] = {}
            for k in dict.fromkeys([*index.pending, *index.runs_by_image]):
                last = k.rsplit("/", 1)[-1]
                by_name.setdefault(last, []).append(k)
                plain = _ARCH_SUFFIX.sub("", last)  # ``edgesite-agent-amd64``: one per arch
                if plain and plain != last:
                    by_name.setdefault(plain, []).append(k)
            self._by_last_name = by_name
        keys = [k for name in last_names for k in self._by_last_name.get(name, ())]
        found = {id(r): r for k in keys for r in index.runs_for(k)}
        return sorted(found.values(), key=index.rank)

    def runs_built_from(self, dockerfile: Path) -> list[Run]:
        """Compose services that build ``dockerfile`` themselves (``build:``)."""
        return list(self._index.runs_by_dockerfile.get(self._abs(dockerfile), ()))

    @property
    def runs(self) -> tuple[Run, ...]:
        """Every container and compose service the scan found (see ``usage.running``)."""
        return tuple(self._index.runs)

    def yaml_file(self, path: Path) -> YamlFile | None:
        """``path`` parsed, shared with the index's own parse of a manifest on a question
        (cached by size and time; None when unreadable or not YAML)."""
        return self._index.yaml_files.read(path)

    def kustomizations_of(self, manifest: Path) -> list[Path]:
        """Kustomizations that include ``manifest`` (listing it, or its folder), nearest
        first, followed through overlays that include those Kustomizations' folders."""
        return self._index.kustomizations_of(self._abs(manifest))

    # --- what a build ships ---------------------------------------------------------------

    def copied_files(self, build: Build) -> Copies:
        """Context files and folders the shipped stage copies in (see ``Copies``)."""
        analysis = self._analysis(build)
        if analysis is None:
            return Copies((), False)
        sources = cp.context_sources(analysis, analysis.shipped, None, self._is_dir(build))
        paths: list[Path] = []
        for source in sources:
            if source == cp.WHOLE:
                continue
            if any(c in source for c in "*?["):
                paths.extend(sorted(build.context.glob(source))[:MAX_LISTED])
            elif (build.context / source).exists():
                paths.append(norm(build.context / source))
        return Copies(tuple(dict.fromkeys(paths)), cp.WHOLE in sources)

    def entrypoint_script(self, build: Build) -> Path | None:
        """The context file that ENTRYPOINT/CMD runs, when the build copies it in."""
        key = (build.dockerfile, build.target, build.context)
        if key in self._entrypoints:
            return self._entrypoints[key]
        return remember(self._entrypoints, key, self._entrypoint_script(build))

    def _entrypoint_script(self, build: Build) -> Path | None:
        analysis = self._analysis(build)
        word = cp.program(analysis.entry) if analysis else None
        if analysis is None or word is None:
            return None
        workdir = analysis.workdirs.get(analysis.shipped, "/")
        for candidate in cp.image_candidates(word, workdir):
            for source in cp.context_sources(
                analysis, analysis.shipped, candidate, self._is_dir(build)
            ):
                path = build.context / source
                if source != cp.WHOLE and path.is_file():
                    return norm(path)
        return None

    def uses_tool(self, build: Build, tool: str) -> list[Evidence]:
        """Where the image's runtime may call ``tool``: scripts the build copies in, and the
        commands of containers/services that run the image."""
        found: list[Evidence] = []
        entry = self.entrypoint_script(build)
        for script in self._shipped_scripts(build, entry):
            text = walk.read_text(script)
            if text is not None:
                why = (
                    "the entrypoint script" if script == entry else "a script copied into the image"
                )
                found += tools.in_script(script, text, tool, why)
        for template in self._index.exec_templates:
            text = walk.read_text(template)
            if text is not None:
                why = "a launcher template (run: ... exec:) that runs in the repository's images"
                found += tools.in_script(template, text, tool, why)
        runs = [r for name in build.images for r in self.runs_of(name)]
        runs += self._index.runs_by_dockerfile.get(build.dockerfile, ())
        found += tools.in_runs(nearest(_unique(runs), build.dockerfile, MAX_EXACT), tool)
        return found

    def _shipped_scripts(self, build: Build, entry: Path | None) -> list[Path]:
        copied = self.copied_files(build)
        scripts: list[Path] = [entry] if entry else []
        folders = [build.context] if copied.whole_context else []
        for path in copied.paths:
            if path.is_dir():
                folders.append(path)
            elif path.name.endswith(_SCRIPT_SUFFIXES) or _has_shebang(path):
                scripts.append(path)
        for folder in folders:
            scripts += self._scripts_under(folder)
        return list(dict.fromkeys(scripts))

    def _scripts_under(self, folder: Path) -> list[Path]:
        """Indexed shell scripts below ``folder``: a range of the sorted list, no scan."""
        prefix = str(folder).rstrip(os.sep) + os.sep
        return [Path(s) for s in _starting_with(self._index.scripts, prefix)]

    # --- source or not --------------------------------------------------------------------

    def copies_of(self, path: Path) -> list[Path]:
        """Other YAML files of the repository that hold an object (kind and name) the file
        ``path`` holds: a bundle concatenated from it, or the source it was cut from."""
        full = self._abs(path)
        holders = self._holders()
        objects = holders.objects_of(full)
        if objects is None:  # not a file of the scan: read it for its objects
            objects = list(dict.fromkeys(identities(walk.read_text(full) or "")))
        found = (other for o in objects for other in holders.holding(*o) if other != full)
        return list(dict.fromkeys(found))

    def generated_copies(self, path: Path, objects: Iterable[tuple[str, str]]) -> list[str]:
        """For each object (kind, name) of the manifest ``path`` that a generated YAML file
        of the repository also holds: ``"<file> (marked: ...) holds <Kind>/<name>"``, the
        file shown relative to the root."""
        full = self._abs(path)
        if self._generated_objects is None:  # only the marked files: few, and read once
            generated = (
                p
                for p, v in self._index.not_source.items()
                if v.kind is SourceKind.GENERATED and p in self._index.order
            )
            self._generated_objects = Holders(generated)
        found: list[str] = []
        for kind, name in dict.fromkeys(objects):
            for other in self._generated_objects.holding(kind, name):
                verdict = self._index.not_source[other]
                if other != full:
                    rel = os.path.relpath(other, self.root)
                    found.append(f"{rel} ({verdict.reason}) holds {kind}/{name}")
        return found

    def run_with_sudo(self, program: str) -> tuple[Path, int] | None:
        """Where a script, Makefile or doc of the repository first runs ``program`` (a
        file name) with ``sudo``; None when none does."""
        return self._index.sudo_runs.get(program)

    def derived_rendering(self, path: Path) -> str:
        """``Makefile:311 (kustomize build config/helm/deployment | ...)`` when a script
        of the repository renders a Kustomization that includes the manifest ``path`` and
        rewrites the output before writing it (``generators.derived_builds``); else ""."""
        return derived_of(self._index, self._abs(path))

    def out_of_step(self, path: Path) -> dict[tuple[str, str], str]:
        """Workloads of the manifest ``path`` whose fixes a rendered copy cannot keep in
        step (``rendered.out_of_step``, judged by the scan), each with what its fixes need."""
        if not self._index.out_of_step:
            return {}
        return self._index.out_of_step.get(self._abs(path), {})

    def _holders(self) -> Holders:
        """Which of the scan's YAML files hold which objects (``fixer.repository.rendered``),
        read on the first question."""
        if self._yaml_objects is None:
            self._yaml_objects = Holders(self._index.order)
        return self._yaml_objects

    def patch_owner(self, path: Path) -> Path | None:
        """The Kustomization that lists ``path`` as a patch (``is_source`` without reading
        anything: asked of every manifest of a run)."""
        patches = self._index.patches
        return patches.get(self._abs(path)) if patches else None

    def shown_in_docs(self, path: Path) -> str | None:
        """``slides/k8s/configuration.md:451`` when a document of the repository shows the
        file's text verbatim (an include directive naming it: the path as written matches
        the file's path from the root or its ending; a bare name, a file beside the
        document); None when none does."""
        if not self._index.doc_includes:
            return None
        full = self._abs(path)
        rel = os.path.relpath(full, self.root).replace(os.sep, "/")
        if self._includes_by_name is None:
            # Every hit below names the file: filed by the name, each file is compared
            # with the includes of its name only (not every include of the documentation).
            by_name: dict[str, list[tuple[Path, int, str]]] = defaultdict(list)
            for document, line, target in self._index.doc_includes:
                written = target.replace("\\", "/")
                while written.startswith(("./", "../", "/")):
                    written = written.split("/", 1)[1] if "/" in written else ""
                if written:
                    by_name[written.rsplit("/", 1)[-1]].append((document, line, written))
            self._includes_by_name = dict(by_name)
        for document, line, written in self._includes_by_name.get(full.name, ()):
            if "/" in written:
                hit = rel == written or rel.endswith("/" + written)
            else:  # beside the document, or in the documentation's snippets folder
                hit = full == document.parent / written or (
                    full.name == written and full.parent.name in _SNIPPET_FOLDERS
                )
            if hit:
                return f"{os.path.relpath(document, self.root)}:{line}"
        return None

    def chart_volumes(self, names: Iterable[str]) -> list[str]:
        """What the repository's Helm charts say about persistent volumes of images whose
        last name part is one of ``names`` (see ``fixer.repository.charts``)."""
        found = [v for n in dict.fromkeys(names) for v in self._index.chart_volumes.get(n, ())]
        return [v.sign(self.root) for v in found]

    def chart_users(self, names: Iterable[str]) -> list[tuple[int, int | None, str]]:
        """(uid, gid, where) of each ``runAsUser`` the repository's Helm charts give an
        image whose last name part is one of ``names`` (see ``fixer.repository.charts``)."""
        found = [u for n in dict.fromkeys(names) for u in self._index.chart_users.get(n, ())]
        return [
            (u.uid, u.gid, f"{os.path.relpath(u.values, self.root)}:{u.line} ({u.option})")
            for u in found
        ]

    def go_relative_write(self, name: str) -> RelativeWrite | None:
        """Where the Go program a binary called ``name`` is built from writes by default
        relative to its working folder (``fixer.repository.goprograms``)."""
        main = self._go_main(name)
        return relative_write(main, self.root) if main is not None else None

    def go_command_runner(self, name: str) -> CommandRunner | None:
        """Where the Go program a binary called ``name`` is built from runs shell commands
        it is given (``sh -c`` of a value): the tools of its image are for those commands
        (``fixer.repository.goprograms``)."""
        main = self._go_main(name)
        return command_runner(main, self.root) if main is not None else None

    def go_path_change(self, name: str, main: Path | None = None) -> PathChange | None:
        """Where the Go program a binary called ``name`` is built from (or whose
        ``main.go`` is ``main``) creates, removes or chowns a path a flag names
        (``fixer.repository.goprograms``)."""
        main = main if main is not None else self._go_main(name)
        return path_change(main, self.root) if main is not None else None

    def _go_main(self, name: str) -> Path | None:
        """The ``main.go`` of the program a binary called ``name`` is built from (a folder
        of that name: ``cmd/infra/stcrashreceiver/``); None when none or several match."""
        found = self._index.go_mains.get(name, [])
        return found[0] if len(found) == 1 else None

    def written_by(self, path: Path) -> str | None:
        """``written by scripts/gen.sh:31 (helm template)`` when a script or Makefile of the
        repository writes ``path`` with a generator (``fixer.repository.generators``)."""
        index = self._index
        if not index.generator_outputs and not index.jsonnet_envs and not index.helm_sources:
            return None
        known = self._index.not_source.get(self._abs(path))
        if known is None or not known.reason.startswith("written by "):
            return None
        return known.reason

    def is_source(self, path: Path) -> SourceVerdict:
        """Source, test data, vendored, generated or a Kustomize patch, with the reason."""
        full = self._abs(path)
        owner = self._index.patches.get(full)
        if owner is not None:
            return SourceVerdict(full, SourceKind.KUSTOMIZE_PATCH, f"listed in {owner}")
        known = self._index.not_source.get(full)
        if known is not None:
            return known
        rel = os.path.relpath(full, self.root)
        parts = tuple(rel.split(os.sep)) if not rel.startswith("..") else (full.name,)
        return verdict(full, parts, read_head(full) if full.is_file() else None)

    # --- helpers --------------------------------------------------------------------------

    def asked_from(self, folder: Path) -> None:
        """Relative paths asked about are relative to ``folder`` from now on (else to the
        root). A run sets its current folder: its paths are the targets as the user named
        them and what rules join to them, so ``tighten check .`` in ``deploy/`` asks about
        ``app.yaml`` there, not at the root (where the model then answered about another
        file, or none)."""
        self._base = Path(os.path.abspath(folder))
        self._paths.clear()

    def _abs(self, path: Path) -> Path:
        """``path`` absolute and normal; a relative one from ``asked_from``'s folder."""
        known = self._paths.get(path)
        if known is None:
            full = path if path.is_absolute() else self._base / path
            text = str(full)
            normal = os.path.normpath(text)
            known = full if normal == text else Path(normal)  # ``norm``, without a new Path
            remember(self._paths, path, known)
        return known

    def reading(self, dockerfile: Path, doc: Any) -> None:
        """``doc`` is ``dockerfile`` parsed, as a rule reads it now: questions about that
        Dockerfile use it instead of reading and parsing the file again."""
        self._current = (self._abs(dockerfile), doc)

    def _analysis(self, build: Build) -> cp.Analysis | None:
        key = (build.dockerfile, build.target)
        if key in self._analyses:
            return self._analyses[key]
        current = self._current
        doc = current[1] if current is not None and current[0] == build.dockerfile else None
        return remember(self._analyses, key, _analyse(build, doc))

    def _is_dir(self, build: Build) -> cp.IsDir:
        context = build.context
        known = self._dirs

        def is_dir(rel: str) -> bool:
            key = f"{context}\0{rel}"
            answer = known.get(key)
            if answer is None:
                answer = remember(known, key, (context / rel).is_dir())
            return answer

        return is_dir


#: An architecture a project names each image after (``kubeedge/edgesite-agent-amd64``,
#: ``pause-arm64``): the image is the same program's, built once per architecture.
_ARCH_SUFFIX = re.compile(
    r"[-_](?:amd64|arm64|arm|armv[67]|arm32v[67]|arm64v8|ppc64le|s390x|386|x86_64|aarch64)$"
)


def _found(context: Path, source: str) -> bool:
    """A COPY source exists in ``context`` (a glob matches something)."""
    if any(c in source for c in "*?["):
        return next(iter(context.glob(source.lstrip("/"))), None) is not None
    return (context / source.lstrip("/")).exists()


def _analyse(build: Build, doc: Any = None) -> cp.Analysis | None:
    if doc is None:
        text = walk.read_text(build.dockerfile)
        if text is None:
            return None
        try:
            doc = parse_dockerfile(SourceText(text))
        except Exception:  # an odd Dockerfile gives no evidence; it never stops the caller
            return None
    try:
        return cp.analyse(doc, build.target)
    except Exception:
        return None


def _known_tags(builds: list[Build]) -> dict[str, set[str]]:
    """Image key -> every tag the builds give it, for the keys whose every build names
    its tags in full (uptime-kuma builds ``louislam/uptime-kuma:builder-go`` from one file
    and ``:base2`` from another: a ``FROM louislam/uptime-kuma:base2`` derives from the
    second only). A key with a computed tag, or built as ``latest`` (which builds tag
    again: ``docker tag acme/base acme/base:1``), is left out: any tag may be it."""
    tags: dict[str, set[str]] = {}
    unknown: set[str] = set()
    for build in builds:
        keys = {k for n in build.images if (k := image_key(n))}
        if not build.tags:
            unknown |= keys
            continue
        for written in build.tags:
            key = image_key(written)
            tag = froms.tag_of(written)
            if key is None or tag in (None, "latest"):  # latest is often tagged again
                unknown |= keys
                continue
            tags.setdefault(key, set()).add(tag)
    return {k: v for k, v in tags.items() if k not in unknown}


#: Folders documentation tools include bare file names from (MkDocs macros' include_dir,
#: Jekyll's _includes, Hugo's partials).
_SNIPPET_FOLDERS = frozenset({"snippets", "includes", "_includes", "partials"})


def _has_shebang(path: Path) -> bool:
    if path.suffix:
        return False
    return read_head(path).startswith("#!")


def _unique(items: list[T]) -> list[T]:
    return list(dict.fromkeys(items))


_S = TypeVar("_S")


def _starting_with(
    items: Sequence[_S], prefix: str, key: Callable[[_S], str] | None = None
) -> list[_S]:
    """The items of the sorted ``items`` whose text (``key``, else the item) starts with
    ``prefix``: a range found by bisection, not a scan of every item. Those texts sort
    from ``prefix`` to just before ``prefix`` with its last character the next one."""
    end = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    text: Callable[[Any], str] = key if key is not None else str
    low = bisect.bisect_left(items, prefix, key=text)
    return list(items[low : bisect.bisect_left(items, end, key=text)])
