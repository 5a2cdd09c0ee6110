"""``copies.context_sources`` for one image path skips the copies that land elsewhere in the
image (their folder checks included); the edge cases are copies a too-eager skip would
lose: into the root, a glob destination, a folder above the path, a trailing slash, and a
``COPY --from`` of a stage that copied the file in."""

from __future__ import annotations

import pytest

from fixer.documents import dockerfile
from fixer.documents.text import SourceText
from fixer.repository import copies


def _sources(text: str, image_path: str, folders: frozenset[str] = frozenset()) -> list[str]:
    analysis = copies.analyse(dockerfile.parse(SourceText(text)))
    assert analysis is not None
    return copies.context_sources(analysis, analysis.shipped, image_path, folders.__contains__)


def test_a_copy_elsewhere_in_the_image_is_not_looked_at() -> None:
    asked: list[str] = []

    def is_dir(rel: str) -> bool:
        asked.append(rel)
        return rel == "web"

    text = "FROM x\nCOPY web static/ /srv/\nCOPY entry.sh /usr/local/bin/\n"
    analysis = copies.analyse(dockerfile.parse(SourceText(text)))
    assert analysis is not None
    found = copies.context_sources(analysis, analysis.shipped, "/usr/local/bin/entry.sh", is_dir)
    assert found == ["entry.sh"]
    assert asked == ["entry.sh"]  # the copies into /srv were never resolved


@pytest.mark.parametrize(
    ("text", "image_path", "folders", "expected"),
    [
        ("FROM x\nCOPY bin /\n", "/entry.sh", {"bin"}, ["bin/entry.sh"]),
        ("FROM x\nCOPY . /\n", "/usr/bin/run", set(), ["usr/bin/run"]),
        ("FROM x\nCOPY tools /usr\n", "/usr/local/bin/run", {"tools"}, ["tools/local/bin/run"]),
        ("FROM x\nCOPY run.sh /app/\n", "/app/", set(), ["run.sh"]),
        ("FROM x\nCOPY run.sh /app/\n", "/app/run.sh/", set(), ["run.sh"]),
        ("FROM x\nCOPY scripts/*.sh /app/\n", "/app/go.sh", set(), ["scripts/go.sh"]),
        ("FROM x\nCOPY s/*.sh /a*/\n", "/abc/go.sh", set(), ["s/go.sh"]),
        ("FROM x\nCOPY run.sh /app\n", "/app", set(), ["run.sh"]),
        ("FROM x\nCOPY run.sh /app\n", "/ap", set(), []),
        ("FROM x\nCOPY run.sh /app\n", "/apple", set(), []),
        (
            "FROM x AS b\nCOPY src /build/src\nFROM y\nCOPY --from=b /build /opt\n",
            "/opt/src/main.sh",
            {"src"},
            ["src/main.sh"],
        ),
    ],
)
def test_copies_that_reach_the_path_are_all_found(
    text: str, image_path: str, folders: set[str], expected: list[str]
) -> None:
    assert _sources(text, image_path, frozenset(folders)) == expected
