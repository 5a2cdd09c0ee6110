"""What a file is, by its name: Dockerfile, manifest candidate, or neither; and the
folders that never hold the user's own files. Pure string tests, used by discovery, the
repository scan and the rules alike (so it sits below all of them)."""

from __future__ import annotations

#: Folders that hold tooling, dependencies or history, never the user's own manifests.
SKIP_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".bzr",
        "node_modules",
        "bower_components",
        "__pycache__",
        ".venv",
        "venv",
        ".tox",
        ".nox",
        ".mypy_cache",
        ".ruff_cache",
        ".pytest_cache",
        ".terraform",
        ".direnv",
        ".eggs",
        "site-packages",
        ".idea",
    }
)
YAML_SUFFIXES = (".yaml", ".yml")


#: ``Dockerfile.<x>`` files that are not Dockerfiles (BuildKit's per-file ignore, notes).
_NOT_DOCKERFILES = (".dockerignore", ".md", ".txt", ".orig", ".rej", ".bak", ".swp")


def is_dockerfile_name(name: str) -> bool:
    """``Dockerfile``, ``Containerfile``, ``Dockerfile.*``, ``Dockerfile-*``, ``*.Dockerfile``,
    ``*.dockerfile``: case as written (``dockerfile.py`` is a Python module)."""
    if name.endswith(_NOT_DOCKERFILES):
        return False
    return (
        name in ("Dockerfile", "Containerfile", "dockerfile")
        or name.startswith(("Dockerfile.", "Dockerfile-", "Containerfile.", "Containerfile-"))
        or name.endswith((".Dockerfile", ".dockerfile", ".Containerfile", ".containerfile"))
    )


def kind_of(name: str, *, explicit: bool = False) -> str | None:
    """What a file holds, by its name. A ``.json`` file the user named is a manifest
    candidate (kubectl reads JSON; so does the YAML parser), never a Dockerfile; found
    while walking it is not looked at (``package.json`` and friends are not manifests)."""
    if is_dockerfile_name(name):
        return "dockerfile"
    lower = name.lower()
    if lower.endswith(YAML_SUFFIXES) or (explicit and lower.endswith(".json")):
        return "kubernetes"
    return None


#: Top-level folders whose manifests are test resources (applied by e2e suites, compared
#: by tests), not the workloads a reviewer ships (``fixer.discover``; only at the top of the
#: walked tree: a `test` environment overlay, `overlays/test/`, is a real deployment), and
#: folders anywhere whose images are tests' (``fixer.repository.usage``).
TEST_ROOTS = frozenset(
    {"test", "tests", "e2e", "testing", "integration", "acceptance", "__tests__"}
    # DirectPV's ``functests/`` (the manifests its functional test scripts apply)
    | {"functests", "functional-tests", "functional_tests", "e2e-tests", "e2e_tests"}
    | {"integration-tests", "integration_tests"}
)
