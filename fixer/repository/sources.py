"""Which files are the user's own source: not test data, vendored code or generated output.

Fixing a golden test file breaks the test that compares against it; fixing vendored or
generated files is undone by the next vendoring or generation run. Verdicts come from the
path (folder names) and from the first lines of the file (generator markers), never from a
whole read.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from fixer.repository.model import SourceKind, SourceVerdict

#: Folder names whose whole subtree is test data or someone else's code.
TEST_DATA_DIRS = frozenset(
    {"testdata", "_testdata", "test-data", "test_data", "__fixtures__", "golden", "__snapshots__"}
    # Workloads applied to a development cluster to exercise the product (the Kubernetes
    # dashboard's hack/test-resources/: crashing, pending and log-flooding pods)
    | {"test-resources", "test_resources", "testresources"}
    # Kyverno's policy tests: the CLI's ``.kyverno-test/`` and Chainsaw's ``.chainsaw-test/``
    # hold the pods each policy must accept or reject
    | {".kyverno-test", ".chainsaw-test", "kyverno-test", "chainsaw-test"}
    # Test doubles and their inputs (linkerd's controller/proxy-injector/fake/data/)
    | {"fake", "fakes", "mocks"}
    | {"conformance"}  # a conformance suite's inputs (Gateway API's conformance/base)
    # Golden outputs a test compares a rendering with (Headlamp's Helm chart test renders
    # each case into charts/headlamp/tests/expected_templates/ and diffs it)
    | {"expected", "expected_templates", "expected-templates", "expected_output"}
    | {"expected-output", "expected_outputs", "expected-outputs"}
    # Integration test suites' environments (authelia's internal/suites/: compose files,
    # manifests and mock images its Go tests start)
    | {"suites", "testsuites", "test-suites"}
)
VENDOR_DIRS = frozenset({"vendor", "third_party", "third-party", "thirdparty"})
#: ``fixtures`` is test data only below a test folder (``test/fixtures``): elsewhere the word
#: may name the product's own seed data.
_TEST_DIRS = frozenset({"test", "tests", "__tests__", "testing", "spec", "specs", "e2e"})
#: A folder named after a project and its full release version (consul-k8s keeps Gateway
#: API's webhook and conformance manifests in ``gateway-api-0.7.1-custom/``): someone
#: else's files, copied at that version.
_RELEASE_COPY = re.compile(r"^[A-Za-z][\w.]*(?:-[A-Za-z]\w*)*-v?\d+\.\d+\.\d+(?:[-+][\w.]+)?$")
#: A folder named after a full release version (litmus keeps the manifests of every release
#: it published, ``mkdocs/docs/2.0.0/`` to ``3.28.0/``, applied by URL): frozen copies. Two
#: numbers alone (docker-library's ``8.3/``, ``8.6-rc/``) name a maintained line, which is
#: source; ``3.0-beta1`` is one pre-release.
_VERSION_FOLDER = re.compile(
    r"^v?\d+\.\d+(?:\.\d+(?:[-+][\w.]+)?|-(?:alpha|beta|rc|pre)\.?\d+)$", re.IGNORECASE
)
#: Folders of deliberately insecure workloads: attacks a detection tool is shown catching
#: (tetragon's ``docs/.../02_attack_files/privileged.yaml``), exploits, vulnerable apps.
_ATTACK = re.compile(r"(?:^|[-_.])(?:attacks?|exploits?|malicious|vulnerable)(?:$|[-_.])")
#: Generated markers read within the first lines / bytes of a file.
HEAD_LINES = 5
HEAD_BYTES = 1024
_MARKERS = re.compile(
    r"DO NOT EDIT|[Cc]ode generated|@generated|\bGENERATED\b|\b[Aa]uto-?generated\b"
)
#: Every ``_MARKERS`` match holds one of these (a quick scan before the line-by-line one).
_MARKER_HINTS = ("DO NOT EDIT", "enerated", "ENERATED")
#: A comment: ``#`` (YAML, shell, Dockerfile, Make) at line start or after a blank (in YAML
#: ``a#b`` is part of a value), ``//``, ``/*``, ``*``, ``<!--``, ``--``, ``;``.
_COMMENT = re.compile(r"(?:^|\s)#(.*)$|^\s*(?://|/\*|\*|<!--|--|;)(.*)$")


def folder_verdict(parts: Sequence[str]) -> tuple[SourceKind, str] | None:
    """The verdict implied by the folders of a path relative to the repository root."""
    for index, part in enumerate(parts):
        lower = part.lower()
        if lower in TEST_DATA_DIRS:
            return SourceKind.TEST_DATA, f"under {'/'.join(parts[: index + 1])}/"
        if lower in VENDOR_DIRS:
            return SourceKind.VENDORED, f"under {'/'.join(parts[: index + 1])}/"
        if _VERSION_FOLDER.match(part):
            where = "/".join(parts[: index + 1])
            return (
                SourceKind.VENDORED,
                f"under {where}/ (a published release: the folder is named after its version)",
            )
        if index < len(parts) - 1 and _RELEASE_COPY.match(part):
            where = "/".join(parts[: index + 1])
            return (
                SourceKind.VENDORED,
                f"under {where}/ (a copy of a release: its name has a version)",
            )
        if _ATTACK.search(lower):
            where = "/".join(parts[: index + 1])
            return (
                SourceKind.TEST_DATA,
                f"under {where}/ (attack demonstrations: insecure on purpose)",
            )
        if lower in ("fixtures", "fixture") and any(p.lower() in _TEST_DIRS for p in parts[:index]):
            return SourceKind.TEST_DATA, f"under {'/'.join(parts[: index + 1])}/"
        # Maven and Gradle keep test inputs in ``src/test/resources`` (Strimzi's system
        # tests apply the manifests there to throwaway clusters).
        if lower == "resources" and [p.lower() for p in parts[max(0, index - 2) : index]] == [
            "src",
            "test",
        ]:
            return SourceKind.TEST_DATA, f"under {'/'.join(parts[: index + 1])}/"
    return None


def skip_folder(name: str, parents: Sequence[str]) -> bool:
    """True for a folder the walk need not enter (its files are never source)."""
    return folder_verdict((*parents, name)) is not None


def generated_marker(text: str) -> str | None:
    """The comment line that marks ``text`` as generated, looking at the head only."""
    head = text[:HEAD_BYTES]
    if not any(hint in head for hint in _MARKER_HINTS):
        return None  # most files: no comment of the head can hold a marker
    for line in head.splitlines()[:HEAD_LINES]:
        comment = _COMMENT.search(line)
        if comment is None:
            continue
        body = comment.group(1) if comment.group(1) is not None else comment.group(2) or ""
        if _MARKERS.search(body):
            return line.strip()[:120]
    return None


def verdict(path: Path, rel_parts: Sequence[str], head: str | None) -> SourceVerdict:
    """The verdict of one file from its relative folders and (if read) its head text."""
    found = folder_verdict(rel_parts[:-1])
    if found is not None:
        return SourceVerdict(path, found[0], found[1])
    marker = generated_marker(head) if head else None
    if marker is not None:
        return SourceVerdict(path, SourceKind.GENERATED, f"marked: {marker!r}")
    return SourceVerdict(path, SourceKind.SOURCE)


def read_head(path: Path) -> str:
    """The first bytes of a file as text; empty when it cannot be read or is not a regular
    file (never blocks on a FIFO)."""
    from fixer.readfile import read_regular

    try:
        return read_regular(path, HEAD_BYTES).decode("utf-8", "replace")
    except OSError:
        return ""
