"""Merge review of the fourteenth session: a helper image whose program works on the
folders it is told (local-path-provisioner's distroless helper makes and deletes each
volume's folder on the node) keeps root; a program built from sources cloned in the build,
or one that only reads what its flags name, still gets its USER. A builder image the
repository only copies files out of (uptime-kuma's ``builder-go``) is not given a USER
nobody would run as. netbox-docker keeps openssh-client for dulwich (its git data sources
over SSH), and a word in a comment of a copied script is no use of a program."""

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


def test_an_image_only_copied_from_gets_no_user(tmp_path: Path) -> None:
    """``acme/builder`` is used once, as ``FROM acme/builder:1 AS tools`` with no
    instruction of its own and ``COPY --from=tools``: nothing runs it, so DF001's USER is
    withheld, saying where it is used. ``acme/base`` is copied from there too, but
    ``shipped/Dockerfile`` ships it as its final stage: it keeps its proven USER."""
    repo = copy_repo(tmp_path, "j14-review")
    found = findings(repo, "DF001")
    why = needs(found, "builder/Dockerfile", "runs as root")
    assert why.startswith("a look at what runs the image: the repository only copies files")
    assert "(app/Dockerfile:1: a stage with no instruction of its own" in why
    assert one(found, "base/Dockerfile", "runs as root")["fix"]["safety"] == "proven"


def test_copied_only_stages_are_read_by_lines() -> None:
    from fixer.repository.froms import copied_only

    text = (
        "FROM acme/a AS a\n"  # only copied from
        "FROM acme/b AS b\nRUN make\n"  # has an instruction
        "FROM acme/c AS c\n"  # built on below
        "FROM c AS d\n"  # only copied from
        "FROM acme/e AS e\n"  # named, never copied from
        "FROM alpine\nCOPY --from=a /x /x\nCOPY --from=b /y /y\nCOPY --from=d /z /z\n"
    )
    assert copied_only(text) == {1, 5}
    assert copied_only("FROM acme/a AS a\n") == set()  # the last stage is the image built


def test_an_ssh_client_a_python_requirement_runs_stays(tmp_path: Path) -> None:
    """netbox-docker's builder pip-installs ``requirements-container.txt``, which lists
    dulwich: its git data sources run ``ssh`` for SSH remotes (netbox-docker #1061 added
    openssh-client for that). The same image without dulwich may lose it: the entrypoint's
    ``# Launch whatever is passed by docker`` comment is no call of docker."""
    repo = copy_repo(tmp_path, "j14-review")
    found = findings(repo, "DF003")
    kept = one(found, "netbox/Dockerfile", "openssh-client")
    assert not kept["fixable"]
    assert kept["reason"].startswith(
        "requirements-container.txt:2 lists dulwich, which runs ssh for SSH remotes"
    )
    assert one(found, "nossh/Dockerfile", "openssh-client")["fixable"]
