"""Which files a run looks at: explicit paths as given, directories walked."""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from fixer import tree
from fixer.filenames import SKIP_DIRS, TEST_ROOTS, kind_of


@dataclass(frozen=True)
class NotSource:
    """Why a file found while walking is not the user's own source, so the run skips it.

    ``kind`` is "test data", "vendored", "generated" or "kustomize patch"; ``where`` is what
    the notice groups by: the folder (``deploy/testdata/``), the generator marker, or the
    Kustomization that lists the patch. A named file whose content is neither a Dockerfile
    nor a manifest has kind ``NOT_CONFIG`` and its own one-line notice as ``where``.
    """

    kind: str
    where: str


TEST_DATA = "test data"
VENDORED = "vendored"
GENERATED = "generated"
PATCH = "kustomize patch"
#: A named file that is not a Dockerfile or a Kubernetes manifest by its content.
NOT_CONFIG = "not a Dockerfile or manifest"
#: How much of a named file its content is judged by (Dockerfiles are far smaller).
_HEAD_BYTES = 256 * 1024


@dataclass(frozen=True, slots=True)
class Target:
    """A file to process. ``explicit``: the user named it (so it is never skipped silently).

    ``not_source`` is set (only with ``discover(..., source_only=True)``, and never for a
    file the user named) when the file is test data, vendored, generated or a patch; for
    a named file, when its content is not what tighten reads (``NOT_CONFIG``)."""

    #: The file's path as text: a ``Path`` per target, with its parts and cached string,
    #: cost 480 bytes held all run (14 MB at 30,000 files, counted in every worker); the
    #: slots save each target's attribute dictionary (3 MB more at 30,000).
    where: str
    kind: str
    explicit: bool
    error: str | None = None
    not_source: NotSource | None = None

    @property
    def path(self) -> Path:
        return Path(self.where)


def discover(
    paths: Sequence[str],
    exclude: Sequence[str] = (),
    *,
    source_only: bool = False,
    force_exclude: bool = False,
    respect_gitignore: bool = True,
) -> Iterator[Target]:
    """Targets in a stable order; a path that does not exist yields a target with an error.

    A named file is judged by its content (``fixer.sniff.judge_named``): one that is not a
    Dockerfile or a manifest comes with ``not_source`` set and is never edited. Walking
    skips what git ignores (``respect_gitignore``; one git process per folder walked).
    ``force_exclude`` (ruff's flag): ``exclude`` applies to named paths too, and so does
    git's ignore list (one git process for all of them).

    With ``source_only``, files found while walking below a test-data or vendored folder
    (relative to the folder named: naming ``testdata/`` checks it) come with ``not_source``
    set; they are still yielded, so the run can count and name them.

    A symlinked file is checked but never written through (``fixer.write`` refuses it, and
    the session reports it). So that a link never hides the file it points to, duplicates
    are dropped in favour of the real file: while walking, links come after their folder's
    other files; a link to a file already taken is dropped, and a real file named after a
    link to it is still processed (it is the one that gets fixed).
    """
    files: set[str] = set()  # real paths of regular files yielded
    links: set[str] = set()  # real paths that linked files yielded lead to
    if force_exclude:
        paths = _not_excluded(paths, exclude, respect_gitignore)
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found: Iterator[tuple[Target, str, bool]] = _walk(
                path, exclude, source_only, respect_gitignore
            )
        elif not path.exists() and not path.is_symlink():
            missing = Target(os.fspath(path), "", True, "no such file or directory")
            found = iter([(missing, os.path.realpath(path), False)])
        else:
            found = iter([(_named(path), os.path.realpath(path), path.is_symlink())])
        for target, key, linked in found:
            if key in files or (linked and key in links):
                continue
            (links if linked else files).add(key)
            yield target


def _named(path: Path) -> Target:
    """A file the user named: its kind by name, confirmed (or, for a name that says
    nothing, decided) by its head. An unreadable file is left to the engine to report."""
    from fixer.documents.text import SourceText
    from fixer.readfile import read_regular
    from fixer.sniff import judge_named

    by_name = kind_of(path.name, explicit=True)
    try:
        head = read_regular(path, _HEAD_BYTES)  # never blocks on a FIFO
        if len(head) == _HEAD_BYTES:  # judge whole lines only
            head = head[: head.rfind(b"\n") + 1]
        content = judge_named(by_name, SourceText.decode(head).text)
    except (OSError, ValueError):  # unreadable, binary, not UTF-8: process_file says so
        return Target(os.fspath(path), by_name or "dockerfile", True)
    refused = NotSource(NOT_CONFIG, content.refused) if content.refused else None
    return Target(os.fspath(path), content.kind, True, not_source=refused)


def _not_excluded(paths: Sequence[str], exclude: Sequence[str], gitignore: bool) -> list[str]:
    """``--force-exclude``: the named paths neither ``exclude`` nor git ignores. A named
    path is matched as if walked from the current folder: each folder on its way, then
    itself (``--exclude testdata`` drops ``pkg/testdata/pod.yaml``)."""
    from fixer.gitignored import ignored_named

    kept = [p for p in paths if not _excluded_path(p, exclude)]
    ignored = ignored_named(kept) if gitignore else frozenset()
    return [p for p in kept if p not in ignored]


def _excluded_path(raw: str, patterns: Sequence[str]) -> bool:
    if not patterns:
        return False
    rel = os.path.relpath(os.path.abspath(raw))
    if rel.split(os.sep, 1)[0] == os.pardir:  # outside the current folder: as given
        rel = os.path.abspath(raw).lstrip(os.sep)
    parts = rel.split(os.sep)
    return any(_excluded("/".join(parts[: i + 1]), patterns) for i in range(len(parts)))


def _walk(
    root: Path, exclude: Sequence[str], source_only: bool = False, gitignore: bool = True
) -> Iterator[tuple[Target, str, bool]]:
    """Targets under ``root`` with their real paths (the key that removes duplicates) and
    whether they are symlinks; what git ignores is skipped silently (``gitignore``)."""
    from fixer.gitignored import NOTHING, ignored_under

    def on_error(exc: OSError) -> None:
        errors.append(exc)

    ignored = ignored_under(root) if gitignore else NOTHING
    errors: list[OSError] = []
    real_root = os.path.realpath(root)
    verdicts: dict[str, NotSource | None] = {}  # folder -> its verdict, inherited downwards
    # Folders with a Dockerfile template a generator of theirs renders: every Dockerfile
    # below them is its output (``_dockerfile_template``).
    templates: dict[str, tuple[NotSource, frozenset[str]]] = {}
    # Deeper tests/ folders that hold a test suite: their manifests are its resources.
    suites: dict[str, NotSource] = {}
    # Each subfolder's relative and real path, known from its parent's (``relpath`` and
    # ``normpath`` per folder cost more than the walk itself over thousands of folders).
    below: dict[str, tuple[str, str]] = {}
    for folder, dirs, files, links in tree.walk(root, onerror=on_error):
        known = below.pop(folder, None)
        if known is not None:
            rel_folder, real_folder = known
        else:
            rel_folder = os.path.relpath(folder, root)
            # the walk does not enter linked folders, so only a linked file needs realpath
            # (a system call per path component: slow over thousands of files).
            real_folder = os.path.normpath(os.path.join(real_root, rel_folder))
        not_source = _folder_verdict(folder, rel_folder, verdicts, files) if source_only else None
        if source_only and not_source is None and rel_folder != os.curdir:
            not_source = _version_copy(folder, dirs) or _other_project(
                folder, rel_folder, files, dirs
            )
            if not_source is not None:
                verdicts[folder] = not_source  # and every folder below it
        test_manifests = _test_folder(root, rel_folder) if source_only else None
        if test_manifests is None and suites:
            test_manifests = _in_suite(folder, suites)
        if source_only and not_source is None:
            _test_folders_below(folder, rel_folder, files, dirs, verdicts, suites)
        dirs[:] = sorted(
            d
            for d in dirs
            if d not in SKIP_DIRS
            and not _excluded(_join(rel_folder, d), exclude)
            and not ignored.folder(_join(rel_folder, d))
        )
        for d in dirs:
            rel = d if rel_folder == os.curdir else os.path.join(rel_folder, d)
            below[os.path.join(folder, d)] = (rel, os.path.join(real_folder, d))
        if source_only and not_source is None and _TEMPLATE_HINT in "".join(files):
            rendered = _dockerfile_template(folder, files)
            if rendered is not None:
                templates[folder] = rendered
        linked: list[tuple[Target, str, bool]] = []
        releases = _release_copies(files) if source_only and not not_source else None
        cases = _policy_cases(folder, files) if source_only and not not_source else None
        for name in sorted(files):
            kind = kind_of(name)
            rel = _join(rel_folder, name)
            if kind is None or _excluded(rel, exclude) or ignored.file(rel):
                continue
            path = os.path.join(folder, name)
            skip = not_source or (test_manifests if kind == "kubernetes" else None)
            if skip is None and templates and name in ("Dockerfile", "Containerfile"):
                skip = _rendered_from(folder, templates)
            if skip is None and releases and name in releases:
                skip = NotSource(VENDORED, _release_place(folder))
            if skip is None and cases is not None and kind == "kubernetes":
                skip = cases
            target = Target(path, kind, False, not_source=skip)
            if name in links:
                linked.append((target, os.path.realpath(path), True))
            else:
                yield target, os.path.join(real_folder, name), False
        yield from linked  # after the folder's real files, so a link to one of them is dropped
        while errors:
            exc = errors.pop()
            failed = Path(exc.filename or folder)
            error = Target(os.fspath(failed), "", True, exc.strerror or str(exc))
            yield error, os.path.realpath(failed), False


#: A Dockerfile template: ``Dockerfile.tmpl`` (caddy-docker, rendered by gomplate),
#: ``Dockerfile-debian.template`` (docker-library's apply-templates.sh), ``.j2``, ``.in``.
_DOCKERFILE_TEMPLATE = re.compile(
    r"^(?:Dockerfile|Containerfile)[-.\w]*\.(?:template|tmpl|tpl|j2|jinja2?|in)$"
)
_TEMPLATE_HINT = "file."  # every such name has "file." in it (a quick test per folder)
#: Files of the template's folder that may render it: a Makefile, scripts, other templates.
_RENDERERS = re.compile(r"^(?:GNUmakefile|[Mm]akefile|.+\.(?:mk|sh|bash|py|tmpl|template))$")


def _dockerfile_template(folder: str, files: list[str]) -> tuple[NotSource, frozenset[str]] | None:
    """Generated, for the files named ``Dockerfile`` below ``folder`` (a template's output,
    not the ``Dockerfile.base`` fragments it reads): a Dockerfile template there that a
    Makefile or script beside it names (caddy-docker's Makefile renders ``Dockerfile.tmpl``
    into ``2.11/alpine/Dockerfile`` and the other variants with gomplate). An edit of a
    rendered file is undone by the next render: the template is the source. With the
    verdict, the words of the renderer: the folders it writes are among them, or are named
    after versions."""
    names = [name for name in files if _DOCKERFILE_TEMPLATE.match(name)]
    if not names:
        return None
    for name in sorted(files):
        if name in names or not _RENDERERS.match(name):
            continue
        try:
            with open(os.path.join(folder, name), "rb") as handle:
                text = handle.read(256 * 1024).decode("utf-8", "replace")
        except OSError:
            continue
        named = next((template for template in names if template in text), None)
        if named is not None:
            shown = _shown_folder(folder)
            where = named if shown in ("./", "/") else shown + named
            words = frozenset(re.findall(r"[\w.-]+", text))
            return NotSource(GENERATED, f"rendered from {where} by {name}"), words
    return None


#: A folder named after a version (``2.11``, ``32``, ``17-alpine``): a rendered variant.
_VERSION_FOLDER = re.compile(r"^v?\d+(?:\.\d+)*(?:[-_][\w.]+)?$")


def _rendered_from(
    folder: str, templates: dict[str, tuple[NotSource, frozenset[str]]]
) -> NotSource | None:
    """The template verdict of a folder above ``folder`` (not ``folder`` itself: a
    Dockerfile beside its template is the project's own), when the first folder below the
    template's is named after a version or named by its renderer (an example's own
    Dockerfile elsewhere in the tree is not the template's output)."""
    parent = os.path.dirname(folder)
    while parent and parent != folder:
        found = templates.get(parent)
        if found is not None:
            first = os.path.basename(folder)
            if _VERSION_FOLDER.match(first) or first in found[1]:
                return found[0]
            return None
        folder, parent = parent, os.path.dirname(parent)
    return None


#: Unit test files: Go's ``x_test.go``, Python's ``test_x.py`` / ``x_test.py``, JavaScript's
#: and TypeScript's ``x.test.ts`` / ``x.spec.js``.
_TEST_FILE = re.compile(
    r"^(?:.+_test\.go|test_.+\.py|.+_test\.py|.+\.(?:test|spec)\.[cm]?[jt]sx?)$"
)
_FIXTURE_DIRS = ("fixtures", "fixture", "__fixtures__")


def _test_folders_below(
    folder: str,
    rel_folder: str,
    files: list[str],
    dirs: list[str],
    verdicts: dict[str, NotSource | None],
    suites: dict[str, NotSource],
) -> None:
    """Test data, decided here for a subfolder before the walk enters it: a Helm chart's
    ``tests/`` (beside its ``Chart.yaml``); the manifests of a deeper ``tests/`` that holds
    a test suite (``_suite_folder``, kept in ``suites``); a test folder's ``data/`` or ``resources/``; a ``fixtures/``
    folder beside unit tests, which holds their inputs and expected outputs
    (ingress2gateway's ``pkg/i2gw/providers/nginx/fixtures/``, read by the package's
    ``converter_test.go``), deliberately odd ones included; and what a ``vendir.yml`` syncs.
    Decided here rather than by the path alone (``sources.folder_verdict``), these folders
    are still read by the repository model: a test image copies scripts in from them."""
    if "vendir.yml" in files:  # folders vendir syncs from elsewhere: someone else's files
        for child, source in _vendir_folders(folder, dirs):
            verdicts[child] = NotSource(
                VENDORED, f"{_shown_folder(child)} (vendir.yml syncs it from {source})"
            )
    tests = [d for d in dirs if d.lower() in ("tests", "test")]
    for name in tests:
        child = os.path.join(folder, name)
        if "Chart.yaml" in files:  # a Helm chart's own tests (helm-unittest, test workloads)
            verdicts[child] = NotSource(TEST_DATA, f"{_shown_folder(child)} (the chart's tests)")
        elif rel_folder != os.curdir and (suite := _suite_folder(child)):
            # Its manifests, as a top-level test folder's (its Dockerfiles are judged as
            # test images by DF001).
            where = f"{_shown_folder(child)} (a test suite: its {suite}/)"
            suites[child] = NotSource(TEST_DATA, where)
    if os.path.basename(folder).lower() in ("tests", "test"):
        # A test folder's inputs (kubewarden's crates/kwctl/tests/data/, which its e2e
        # tests feed to policies).
        for name in (d for d in dirs if d.lower() in ("data", "resources")):
            child = os.path.join(folder, name)
            verdicts[child] = NotSource(TEST_DATA, _shown_folder(child))
    fixtures = [d for d in dirs if d.lower() in _FIXTURE_DIRS]
    if not fixtures:
        return
    test = next((name for name in sorted(files) if _TEST_FILE.match(name)), None)
    if test is None:
        return
    for name in fixtures:
        child = os.path.join(folder, name)
        where = _shown_folder(child)
        verdicts[child] = NotSource(TEST_DATA, f"{where} (inputs of the tests beside it: {test})")


def _in_suite(folder: str, suites: dict[str, NotSource]) -> NotSource | None:
    """The verdict of the test suite folder ``folder`` is in (or is), if any."""
    while True:
        found = suites.get(folder)
        if found is not None:
            return found
        parent = os.path.dirname(folder)
        if not parent or parent == folder:
            return None
        folder = parent


def _suite_folder(folder: str) -> str:
    """The subfolder that makes a deeper ``tests/`` a test suite's root (HAProxy's ingress
    controller keeps ``deploy/tests/`` with ``e2e/``, ``integration/`` and the manifests
    ``create.sh`` applies to its kind cluster): "" for a product's own ``tests/``."""
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return ""
    return next((n for n in names if n.lower() in _DEEP_TEST_FOLDERS), "")


#: What vendir.yml syncs a directory from: ``githubRelease: {slug: ...}``, ``git: {url:
#: ...}``, ``helmChart: {name: ...}``, ``http: {url: ...}``, ``image: {url: ...}``.
_VENDIR_SOURCE = re.compile(r"^\s*(?:slug|url|name):[ \t]*['\"]?([^'\"\s#]+)")


def _vendir_folders(folder: str, dirs: list[str]) -> list[tuple[str, str]]:
    """(folder, source) of each directory a ``vendir.yml`` syncs (kapp-controller's package
    examples: ``directories: [{path: upstream, contents: [{githubRelease: {slug:
    Dynatrace/dynatrace-operator}}]}]``): the next ``vendir sync`` replaces what is there.
    Read by lines: a directory's ``path`` is the key at its list item's indentation."""
    try:
        with open(os.path.join(folder, "vendir.yml"), "rb") as handle:
            text = handle.read(64 * 1024).decode("utf-8", "replace")
    except OSError:
        return []
    items: list[list[str]] = []  # [path, source] of each directory
    item: int | None = None  # the indentation of the directories' keys
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        indent = len(line) - len(line.lstrip(" "))
        if item is None:
            if stripped == "directories:":
                item = -1
            continue
        if item == -1:
            if not stripped.startswith("- "):
                break
            item = indent + 2
        starts = stripped.startswith("- ") and indent == item - 2
        if indent < item and not starts:
            break  # the end of the directories list
        if starts:
            items.append(["", ""])
            stripped, indent = stripped[2:], item
        if not items:
            continue
        if indent == item and stripped.startswith("path:"):
            items[-1][0] = stripped[5:].strip().strip("'\"")
        elif not items[-1][1] and (m := _VENDIR_SOURCE.match(stripped)):
            items[-1][1] = m.group(1)
    found: list[tuple[str, str]] = []
    for path, source in items:
        if path and path not in (".", "./") and ".." not in path.split("/"):
            child = os.path.join(folder, os.path.normpath(path))  # as the walk joins
            found.append((child, source or "another source"))
    return found


def _folder_verdict(
    folder: str, rel_folder: str, verdicts: dict[str, NotSource | None], files: list[str]
) -> NotSource | None:
    """Test data, vendored, or generated by a marker file: decided once per folder (the walk
    goes top-down, so the parent's verdict is known and a whole subtree shares the folder
    that decided it)."""
    from fixer.repository.model import SourceKind
    from fixer.repository.sources import folder_verdict

    if verdicts.get(folder) is not None:
        return verdicts[folder]  # decided by the folder above (``_test_folders_below``)

    parent = verdicts.get(os.path.dirname(folder))
    if rel_folder == ".":
        parent = _insecure_on_purpose(folder, files)
    if parent is not None or rel_folder == ".":
        verdicts[folder] = parent
        return parent
    found = folder_verdict(tuple(rel_folder.split(os.sep)))
    verdict = None
    if found is not None:
        kind = TEST_DATA if found[0] is SourceKind.TEST_DATA else VENDORED
        verdict = NotSource(kind, _shown_folder(folder))
    elif (records := _design_records(folder, files)) is not None:
        verdict = records
    elif (plan := _test_plan(folder, files)) is not None:
        verdict = plan
    else:
        marker = next((name for name in files if _MARKER_FILE.fullmatch(name)), None)
        if marker is not None:
            verdict = NotSource(GENERATED, f"under {_shown_folder(folder)} (marked by {marker})")
    verdicts[folder] = verdict
    return verdict


#: Folders of design proposals (Velero's ``design/``, a ``proposals/`` or ``keps/`` folder).
_DESIGN_DIRS = frozenset({"design", "designs", "proposals", "proposal", "keps", "rfcs", "adr"})


def _design_records(folder: str, files: list[str]) -> NotSource | None:
    """Test data when the folder holds design proposals: its own files are mostly Markdown
    (two at least). A proposal's manifests (Velero's ``design/CLI/PoC/``) record what was
    proposed then; the project runs what its own folders hold, and nobody edits a record.
    A ``design/`` folder of an application (a design system's ``package.json`` and one
    README) is not one."""
    if os.path.basename(folder).lower() not in _DESIGN_DIRS:
        return None
    notes = sum(1 for name in files if name.lower().endswith((".md", ".markdown", ".rst")))
    if notes < 2 or notes * 2 <= len(files):
        return None
    return NotSource(TEST_DATA, f"{_shown_folder(folder)} (design proposals: records)")


#: The file that drives a folder of test resources: Grafana's helm-chart-toolbox
#: ``test-plan.yaml``, KUTTL's ``kuttl-test.yaml``, Chainsaw's ``chainsaw-test.yaml``.
_TEST_PLANS = frozenset(
    {"test-plan.yaml", "testplan.yaml", "kuttl-test.yaml", "chainsaw-test.yaml"}
)


def _test_plan(folder: str, files: list[str]) -> NotSource | None:
    """Test data when a ``test/`` or ``tests/`` folder holds a test plan: the workloads
    beside it and below it (``dependencies/``) are what the test applies (k8s-monitoring's
    ``docs/examples/*/test/``, one per example)."""
    if os.path.basename(folder).lower() not in ("test", "tests"):
        return None
    plan = next((name for name in sorted(files) if name.lower() in _TEST_PLANS), None)
    if plan is None:
        return None
    return NotSource(TEST_DATA, f"{_shown_folder(folder)} (resources {plan} applies)")


#: A project's own licence, and the files only a project's own root holds: its CI and
#: release configuration.
_LICENSE = re.compile(r"(?i)(?:LICENSE|LICENCE|COPYING)(?:[.-][\w.-]*)?")
_PROJECT_FILES = frozenset(
    {".travis.yml", "appveyor.yml", ".appveyor.yml", ".goreleaser.yml", ".goreleaser.yaml"}
    | {".gitlab-ci.yml", "azure-pipelines.yml", ".cirrus.yml", "Jenkinsfile"}
)
_PROJECT_DIRS = frozenset({".github", ".circleci", ".gitlab"})


def _other_project(
    folder: str, rel_folder: str, files: list[str], dirs: list[str]
) -> NotSource | None:
    """Vendored when a folder below the root holds another project's root: a licence of
    its own beside that project's CI or release configuration (fluent-bit's
    ``lib/cmetrics/`` with its ``.github/`` and ``appveyor.yml``; cluster-autoscaler's
    ``cloudprovider/bizflycloud/gobizfly/``, the vendor's SDK with its
    ``.goreleaser.yml``). Its files are that project's, fixed upstream. A folder whose
    name already says so (``gateway-api-0.7.1-custom``) keeps that reason."""
    from fixer.repository.sources import folder_verdict

    if folder_verdict((*rel_folder.split(os.sep), "-")) is not None:
        return None
    licence = next((name for name in sorted(files) if _LICENSE.fullmatch(name)), None)
    if licence is None:
        return None
    own = sorted(n for n in files if n in _PROJECT_FILES) + sorted(
        f"{d}/" for d in dirs if d in _PROJECT_DIRS
    )
    if not own:
        return None
    return NotSource(
        VENDORED,
        f"{_shown_folder(folder)} (a copy of another project: its own {licence} and {own[0]})",
    )


#: A README that says the whole repository is insecure on purpose (OWASP WrongSecrets:
#: "intentionally vulnerable code and configuration files with real and fake secrets"; a
#: CTF, a training range): its secrets and privileges are the exercise.
_ON_PURPOSE = re.compile(
    r"(?i)\b(?:intentionally|deliberately|purposely|purposefully)\s+(?:vulnerable|insecure)\b"
    r"|\b(?:vulnerable|insecure)\s+(?:by design|on purpose)\b"
)
_README_HEAD = 64 * 1024


def _insecure_on_purpose(folder: str, files: list[str]) -> NotSource | None:
    """Test data (attack demonstrations) when the README of the walked folder says the
    repository is intentionally vulnerable; None otherwise."""
    from fixer.readfile import read_regular

    name = next((f for f in files if f.lower() in ("readme.md", "readme", "readme.rst")), None)
    if name is None:
        return None
    try:
        text = read_regular(os.path.join(folder, name), _README_HEAD).decode("utf-8", "replace")
    except OSError:
        return None
    m = _ON_PURPOSE.search(text)
    if m is None:
        return None
    return NotSource(
        TEST_DATA, f'{_shown_folder(folder)} ({name} says "{m.group(0)}": insecure on purpose)'
    )


#: A manifest named after a release version: ``litmus-operator-v3.31.0.yaml``.
_VERSIONED = re.compile(r"^(.*?)[-_.]v?(\d+\.\d+(?:\.\d+)?(?:-[A-Za-z][\w.]*)?)\.(?:ya?ml|json)$")


#: The same with underscores, after a ``v``: aws-load-balancer-controller's
#: ``docs/install/v2_2_4_full.yaml`` and ``config/samples/install_v2_0_0_rc3.yaml``.
_VERSIONED_UNDERSCORE = re.compile(
    r"^(.*?)(?:^|(?<=[-_.]))v(\d+_\d+(?:_\d+)?(?:_(?:rc|alpha|beta)\d*)?)"
    r"((?:[-_][A-Za-z]\w*)?)\.(?:ya?ml|json)$"
)


def _versioned(name: str) -> tuple[str, str] | None:
    """(the file's name without its version, the version) for a file named after one."""
    m = _VERSIONED.match(name)
    if m is not None:
        return m.group(1), m.group(2)
    m = _VERSIONED_UNDERSCORE.match(name)
    if m is not None:
        return f"{m.group(1)}\0{m.group(3)}", m.group(2)
    return None


def _release_copies(files: list[str]) -> set[str]:
    """Manifests of a folder that are published releases: named after their version, with
    other versions of the same file beside them (litmus keeps every release's operator
    manifest, ``litmus-operator-v1.8.0.yaml`` to ``-v3.31.0.yaml``, applied by URL). Each
    is frozen once released; the unversioned ``-latest``/``-ci`` files stay source."""
    if len(files) < 2:
        return set()
    versions: dict[str, set[str]] = {}
    names: dict[str, list[str]] = {}
    for name in files:
        found = _versioned(name) if "." in name else None
        if found is not None:
            stem, version = found
            versions.setdefault(stem, set()).add(version)
            names.setdefault(stem, []).append(name)
    return {n for stem, found in versions.items() if len(found) >= 2 for n in names[stem]}


#: A folder named after a release line (``v0.19``, ``1.2``): a documentation site's copy
#: of its pages for that release when what it holds is also beside it.
_RELEASE_LINE = re.compile(r"^v?\d+\.\d+$")


def _version_copy(folder: str, dirs: list[str]) -> NotSource | None:
    """Kueue's site keeps ``static/v0.19/examples/`` beside ``static/examples/``: the
    examples as they were at that release, frozen, which the pages of that release show.
    A folder named after a release line whose subfolders repeat ones beside it is such a
    copy (docker-library's ``8.3/bookworm/`` is not: nothing named ``bookworm`` is beside
    ``8.3/``)."""
    name = os.path.basename(folder)
    if not _RELEASE_LINE.match(name) or not dirs:
        return None
    parent = os.path.dirname(folder)
    repeated = next((d for d in sorted(dirs) if os.path.isdir(os.path.join(parent, d))), None)
    if repeated is None:
        return None
    where = f"{_shown_folder(folder)} (a copy for release {name}: {repeated}/ is beside it)"
    return NotSource(VENDORED, where)


#: A manifest named as a case a policy must reject: Gatekeeper library's
#: ``samples/<constraint>/example_disallowed.yaml``. (Kyverno's ``bad-pod.yaml`` lives in its
#: test folders; ``bad``, ``rejected`` or ``violations`` alone also name real things, such as
#: a ``bad-gateway-page.yaml`` or a ``violations-exporter.yaml``: ``bad`` counts only before
#: the kind of object it names.)
_NEGATIVE_CASE = re.compile(
    r"(?i)(?:^|[-_.])(?:disallowed|non-?compliant)(?:[-_.][\w.-]*)?\.ya?ml$"
    # ``bad`` before the kind of object it is (Gatekeeper's example/resources/
    # ``bad_pod_namespaceselector.yaml``): the object a constraint must refuse.
    r"|^bad[-_](?:pods?|deployments?|ns|namespaces?|resources?|examples?|samples?)"
    r"(?:[-_.][\w.-]*)?\.ya?ml$"
)


#: A folder of cases a policy demonstration must reject, and its accepted counterpart
#: (Gatekeeper's ``demo/agilebank/bad_resources/`` and ``good_resources/``, applied one by
#: one on stage to show which the admission webhook refuses).
_NEGATIVE_PREFIXES = ("bad", "invalid", "disallowed", "noncompliant", "non-compliant", "rejected")
_POSITIVE_PREFIXES = ("good", "valid", "allowed", "compliant", "accepted")
_CASE_KINDS = "resources|examples|manifests|pods|objects|cases|samples|inputs|workloads"
_NEGATIVE_FOLDER = re.compile(rf"(?i)^(?:{'|'.join(_NEGATIVE_PREFIXES)})([-_])({_CASE_KINDS})$")
_POSITIVE_FOLDER = re.compile(rf"(?i)^(?:{'|'.join(_POSITIVE_PREFIXES)})([-_])({_CASE_KINDS})$")


def _policy_cases(folder: str, files: list[str]) -> NotSource | None:
    """The manifests of a folder that holds a case a policy must reject are a policy's test
    cases, the accepted ones beside it (``example_allowed.yaml``) too: the suite expects
    each to pass or fail as written, so a fix breaks the test (or makes a "disallowed"
    sample pass the policy it demonstrates). So are the folders named for such cases
    (``bad_resources/``), and their accepted counterpart beside one (``good_resources/``)."""
    negative = next((n for n in sorted(files) if _NEGATIVE_CASE.search(n)), None)
    if negative is not None:
        return NotSource(TEST_DATA, f"{_shown_folder(folder)} (policy test cases: {negative})")
    name = os.path.basename(folder)
    if _NEGATIVE_FOLDER.match(name):
        return NotSource(
            TEST_DATA, f"{_shown_folder(folder)} (policy test cases: rejected on purpose)"
        )
    positive = _POSITIVE_FOLDER.match(name)
    if positive is None:
        return None
    parent = os.path.dirname(folder)
    for prefix in _NEGATIVE_PREFIXES:
        sibling = f"{prefix}{positive.group(1)}{positive.group(2)}"
        if os.path.isdir(os.path.join(parent, sibling)):
            return NotSource(
                TEST_DATA,
                f"{_shown_folder(folder)} (policy test cases: the accepted ones beside {sibling}/)",
            )
    return None


def _release_place(folder: str) -> str:
    return f"{_shown_folder(folder)} (release copies: files named after their versions)"


#: A file that marks its whole folder as not to be edited: Strimzi's ``install/`` and
#: ``examples/`` hold the last release's copies (``DO_NOT_EDIT.md``; the editable files are
#: under ``packaging/``).
_MARKER_FILE = re.compile(r"(?i)do[_-]?not[_-]?edit(?:\.(?:md|txt|rst))?")


def _test_folder(root: str | Path, rel_folder: str) -> NotSource | None:
    """Test resources: manifests under a top-level test folder, or under a deeper folder
    whose name can only mean tests (``integration/``, ``e2e/``: linkerd2-proxy-init's
    ``proxy-init/integration/iptables/iptablestest-lab.yaml``, which ``http_test.go``
    beside it applies). A deeper ``test/`` or ``tests/`` may be a Helm chart's test hooks
    or a product's own folder: not that."""
    if rel_folder == ".":
        return None
    parts = rel_folder.split(os.sep)
    if parts[0].lower() in TEST_ROOTS:
        return NotSource(TEST_DATA, _shown_folder(os.path.join(root, parts[0])))
    for depth, part in enumerate(parts[1:], 2):
        if part.lower() in _DEEP_TEST_FOLDERS:
            return NotSource(TEST_DATA, _shown_folder(os.path.join(root, *parts[:depth])))
    return None


#: Folder names that mean tests wherever they are.
_DEEP_TEST_FOLDERS = frozenset(
    {"integration", "e2e", "e2e-tests", "integration-tests", "functional-tests", "e2e-test"}
)


def _shown_folder(folder: str) -> str:
    from fixer.output.text import shown_path

    return shown_path(Path(folder)).rstrip("/") + "/"


#: File names Kustomize reads as a Kustomization.
KUSTOMIZATION_NAMES = frozenset({"kustomization.yaml", "kustomization.yml", "Kustomization"})


def kustomize_patches(targets: Sequence[Target]) -> dict[str, str]:
    """Patch files listed by the Kustomizations among ``targets``: absolute path -> the
    Kustomization (as displayed). A patch is a partial object merged onto a base, never a
    workload of its own. Cheap: only the Kustomizations are read (they are small)."""
    import yaml

    from fixer.output.text import shown_path
    from fixer.repository.manifests import parse_kustomization

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    patches: dict[str, str] = {}
    for target in targets:
        if os.path.basename(target.where) not in KUSTOMIZATION_NAMES or target.error:
            continue
        path = Path(os.path.abspath(target.where))
        try:
            first = next(iter(yaml.compose_all(path.read_text("utf-8"), Loader=loader)), None)
            found = parse_kustomization(path, [first]) if first is not None else None
        except Exception:  # an unreadable or odd Kustomization lists no patches
            continue
        for patch in found.patches if found else ():
            patches.setdefault(str(patch), shown_path(target.path))
    return patches


def mark_patches(
    targets: Sequence[Target], verdict: Callable[[Target], NotSource | None] | None = None
) -> list[Target]:
    """``targets`` with ``not_source`` set on the Kustomize patches (and on whatever
    ``verdict``, the repository model's answer, says is not source). Named files are
    never marked: what the user names is what the user gets checked."""
    patches = kustomize_patches(targets)
    out = []
    for target in targets:
        if not target.explicit and target.not_source is None and not target.error:
            owner = patches.get(os.path.abspath(target.where))
            found = NotSource(PATCH, owner) if owner else verdict(target) if verdict else None
            if found is not None:
                target = replace(target, not_source=found)
        out.append(target)
    return out


def _join(folder: str, name: str) -> str:
    return name if folder == "." else f"{folder}/{name}".replace(os.sep, "/")


def _excluded(rel: str, patterns: Sequence[str]) -> bool:
    """``--exclude`` globs match the path relative to the walked folder, or any part of it."""
    base = rel.rsplit("/", 1)[-1]
    return any(
        fnmatch.fnmatchcase(rel, p)
        or fnmatch.fnmatchcase(base, p)
        or fnmatch.fnmatchcase(rel, p.rstrip("/") + "/*")
        for p in patterns
    )
