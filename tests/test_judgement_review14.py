"""Merge review of the fourteenth session: a helper image whose program works on the
folders it is told (local-path-provisioner's distroless helper makes and deletes each
volume's folder on the node) keeps root; a program built from sources cloned in the build,
or one that only reads what its flags name, still gets its USER."""

from __future__ import annotations

from pathlib import Path

from fixer.repository.goprograms import path_change
from tests.fixture_repos import REPOS, copy_repo, findings, needs, one


def test_a_program_that_makes_and_deletes_the_folders_it_is_told_keeps_root(
    tmp_path: Path,
) -> None:
    repo = copy_repo(tmp_path, "j14-review")
    found = findings(repo, "DF001")
    why = needs(found, "helper/Dockerfile", "runs as root")
    assert "helper/main.go:22 runs os.RemoveAll on the path its -p flag names" in why
    why = needs(found, "tool/Dockerfile", "runs as root")  # ``go build ./cmd/tool``
    assert "tool/cmd/tool/main.go:11 runs os.RemoveAll on the path its -dir flag names" in why
    # Built from a clone: the main.go beside the Dockerfile is not what it runs.
    assert one(found, "clone/Dockerfile", "runs as root")["fix"]["safety"] == "proven"
    # Reads the file its flag names; makes only a fixed folder of its own.
    assert one(found, "reader/Dockerfile", "runs as root")["fix"]["safety"] == "proven"


def test_path_change_reads_flag_variables_and_pointers() -> None:
    root = REPOS / "j14-review"
    helper = path_change(root / "helper" / "main.go", root)
    assert helper is not None and (helper.call, helper.flag) == ("os.RemoveAll", "p")
    assert helper.where == "helper/main.go:22"
    tool = path_change(root / "tool" / "cmd" / "tool" / "main.go", root)
    assert tool is not None and (tool.call, tool.flag) == ("os.RemoveAll", "dir")
    assert path_change(root / "reader" / "main.go", root) is None
