"""``fixer.tree.walk``: what ``os.walk`` gives, plus which files are links."""

from __future__ import annotations

import os
from pathlib import Path

from fixer import tree


def _make(root: Path) -> None:
    for folder in ("a/b/c", "a/d", "e", "z"):
        (root / folder).mkdir(parents=True)
    for file in ("top.yaml", "a/Dockerfile", "a/b/x.yaml", "a/b/c/y.yml", "e/f", "z/last"):
        (root / file).write_text("x")
    os.symlink(root / "a" / "Dockerfile", root / "e" / "link")  # a linked file
    os.symlink(root / "a", root / "e" / "folder-link")  # a linked folder: listed, not entered
    os.symlink(root / "missing", root / "e" / "dangling")


def test_same_folders_names_and_order_as_os_walk(tmp_path: Path) -> None:
    _make(tmp_path)
    ours = [(f, sorted(d), sorted(n)) for f, d, n, _ in tree.walk(tmp_path)]
    theirs = [(f, sorted(d), sorted(n)) for f, d, n in os.walk(tmp_path)]
    assert ours == theirs


def test_links_are_named_without_asking_the_disk_again(tmp_path: Path) -> None:
    _make(tmp_path)
    found = {Path(f).name: links for f, _, _, links in tree.walk(tmp_path)}
    assert found["e"] == {"link", "dangling"}
    assert all(not links for name, links in found.items() if name != "e")


def test_pruned_folders_are_not_entered_and_the_rest_keep_their_order(tmp_path: Path) -> None:
    _make(tmp_path)
    seen = []
    for folder, dirs, _, _ in tree.walk(tmp_path):
        seen.append(os.path.relpath(folder, tmp_path))
        dirs[:] = sorted(d for d in dirs if d != "b")
    assert seen == [".", "a", "a/d", "e", "z"]


def test_an_unreadable_folder_goes_to_onerror(tmp_path: Path) -> None:
    errors: list[OSError] = []
    assert list(tree.walk(tmp_path / "nope", onerror=errors.append)) == []
    assert len(errors) == 1 and isinstance(errors[0], FileNotFoundError)
