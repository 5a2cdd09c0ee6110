"""Which files a run reads (issue 15): named files are judged by their content, walking
skips what git ignores, and ``--force-exclude`` applies the excludes to named files."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from fixer.discover import NOT_CONFIG, discover
from fixer.filenames import is_dockerfile_name
from fixer.sniff import DOCKERFILE, KUBERNETES, judge_named

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "data" / "corpus"
DOCKERFILE_TEXT = 'FROM debian:bookworm-slim\nCOPY app /app\nCMD ["/app"]\n'
POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
    - name: web
      image: nginx:1.27@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
      securityContext:
        privileged: true
"""
#: Files a name pattern takes for a Dockerfile; tighten-fix appended USER to the first two.
NOT_DOCKERFILES = {
    "dockerfile.py": '"""Build helpers."""\nimport os\nfrom os import path\n\nprint(path)\n',
    "dockerfile-build.sh": "#!/bin/sh\nset -eu\ndocker build -t app .\n",
    "Dockerfile.j2": "FROM {{ base_image }}\nRUN apt-get install -y {{ packages }}\n",
    "dockerfile_gen.py": "from __future__ import annotations\n\nFROM = 'x'\n",
}

REAL_DOCKERFILES = {
    "comments and FROM only": "# base image for the app\n\nFROM alpine:3.20\n",
    "parser directives": "# syntax=docker/dockerfile:1\n# escape=`\nFROM mcr.microsoft.com/windows"
    "/servercore:ltsc2022\nRUN powershell -Command `\n    Write-Host hi\n",
    "heredoc": "# syntax=docker/dockerfile:1\nFROM alpine\nRUN <<EOF\nset -e\napk add curl\n"
    "echo done > /x\nEOF\nCOPY <<-CONF /etc/app.conf\n\tkey = value\n\tCONF\nUSER 10001\n",
    "lower-case instructions": "from alpine as build\nrun echo hi\nfrom scratch\n"
    "copy --from=build /x /x\n",
    "ARG before FROM": "ARG BASE=alpine:3.20\nFROM ${BASE} AS base\nRUN echo hi \\\n"
    "  # a comment inside a continuation\n  && echo there\n",
    "go template in a RUN": "FROM docker:27\nRUN docker inspect -f '{{.Id}}' x || true\n",
    "quoted image": 'FROM "node:8.15"\nCOPY . .\n',
}


@pytest.mark.parametrize("text", REAL_DOCKERFILES.values(), ids=list(REAL_DOCKERFILES))
def test_real_dockerfiles_are_accepted(text: str) -> None:
    assert judge_named(DOCKERFILE, text).refused is None
    assert judge_named(None, text).kind == DOCKERFILE  # a name that says nothing


@pytest.mark.parametrize("name", list(NOT_DOCKERFILES))
def test_scripts_and_templates_are_refused(name: str) -> None:
    refused = judge_named(DOCKERFILE, NOT_DOCKERFILES[name]).refused
    assert refused is not None and refused.startswith("not a Dockerfile")


@pytest.mark.parametrize(
    ("text", "kind", "refused"),
    [
        (POD, KUBERNETES, False),
        ('{"apiVersion": "v1", "kind": "List", "items": []}', KUBERNETES, False),
        ("name: ci\non: push\njobs: {}\n", KUBERNETES, True),
        ("services:\n  web:\n    image: nginx\n", KUBERNETES, True),
    ],
)
def test_named_yaml_must_hold_kubernetes_objects(text: str, kind: str, refused: bool) -> None:
    content = judge_named(KUBERNETES, text)
    assert content.kind == kind and (content.refused is not None) is refused


def test_a_name_that_says_nothing_is_decided_by_content(tmp_path: Path) -> None:
    (tmp_path / "pod.conf").write_text(POD)
    (tmp_path / "build.conf").write_text(DOCKERFILE_TEXT)
    (tmp_path / "notes.conf").write_text("just some notes\n")
    found = {t.path.name: t for t in discover([str(p) for p in sorted(tmp_path.iterdir())])}
    assert found["pod.conf"].kind == KUBERNETES and found["pod.conf"].not_source is None
    assert found["build.conf"].kind == DOCKERFILE and found["build.conf"].not_source is None
    notes = found["notes.conf"].not_source
    assert notes is not None and notes.kind == NOT_CONFIG


def test_containerfile_and_empty_files_are_not_refused(tmp_path: Path) -> None:
    (tmp_path / "Containerfile").write_text("# podman\nfrom fedora:40\n")
    (tmp_path / "Dockerfile.empty").write_text("")  # the engine reports "empty file"
    found = list(discover([str(p) for p in sorted(tmp_path.iterdir())]))
    assert [t.not_source for t in found] == [None, None]


@pytest.mark.slow
def test_no_corpus_dockerfile_is_refused() -> None:
    names = sorted(p for p in CORPUS.rglob("*") if p.is_file() and is_dockerfile_name(p.name))
    assert len(names) > 1000
    refused = [
        f"{t.path.relative_to(CORPUS)}: {t.not_source.where}"
        for t in discover([str(p) for p in names])
        if t.not_source is not None
    ]
    assert refused == []


# --- the CLI: named files, .gitignore, --force-exclude --------------------------------


def tighten(*args: str, cwd: Path, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    base = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "fixer", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**base, **(env or {})},
        check=False,
        timeout=120,
    )
    return done.returncode, done.stdout, done.stderr


@pytest.mark.slow
def test_fix_never_edits_a_named_file_that_is_not_a_dockerfile(tmp_path: Path) -> None:
    for name, text in NOT_DOCKERFILES.items():
        (tmp_path / name).write_text(text)
    (tmp_path / "ci.yml").write_text("name: ci\non: push\njobs: {}\n")
    (tmp_path / "Dockerfile").write_text(DOCKERFILE_TEXT)
    named = [*NOT_DOCKERFILES, "ci.yml", "Dockerfile"]
    code, _, err = tighten("fix", "--offline", *named, cwd=tmp_path)
    for name, text in NOT_DOCKERFILES.items():
        assert (tmp_path / name).read_text() == text, name
        assert f"notice: {name}: not a Dockerfile" in err
    assert (tmp_path / "ci.yml").read_text() == "name: ci\non: push\njobs: {}\n"
    assert "notice: ci.yml: not a Kubernetes manifest" in err
    assert "USER 10001:10001" in (tmp_path / "Dockerfile").read_text()
    assert code in (0, 1), err


def _git_repo(root: Path) -> None:
    subprocess.run(["git", "init", "-q", str(root)], check=True, timeout=30)
    (root / ".gitignore").write_text("build/\n*.gen.yaml\n")
    for rel, text in {
        "Dockerfile": DOCKERFILE_TEXT,
        "build/Dockerfile": DOCKERFILE_TEXT,
        "build/deep/pod.yaml": POD,
        "deploy/pod.yaml": POD,
        "deploy/pod.gen.yaml": POD,
    }.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)


def _paths(err_and_out: str) -> set[str]:
    """The files findings were reported for (``path:line: RULE ...``)."""
    return {
        line.split(":", 1)[0]
        for line in err_and_out.splitlines()
        if ": K8S" in line or ": DF" in line
    }


@pytest.mark.slow
def test_walking_skips_what_git_ignores(tmp_path: Path) -> None:
    _git_repo(tmp_path)
    _, out, _ = tighten("check", ".", cwd=tmp_path)
    assert _paths(out) == {"Dockerfile", "deploy/pod.yaml"}
    _, out, _ = tighten("check", "--no-respect-gitignore", ".", cwd=tmp_path)
    assert _paths(out) == {
        "Dockerfile",
        "build/Dockerfile",
        "build/deep/pod.yaml",
        "deploy/pod.yaml",
        "deploy/pod.gen.yaml",
    }
    (tmp_path / ".tighten.toml").write_text("respect-gitignore = false\n")
    _, out, _ = tighten("check", "deploy", cwd=tmp_path)
    assert _paths(out) == {"deploy/pod.yaml", "deploy/pod.gen.yaml"}


@pytest.mark.slow
def test_named_ignored_files_are_checked_unless_force_exclude(tmp_path: Path) -> None:
    _git_repo(tmp_path)
    named = ("Dockerfile", "build/Dockerfile", "deploy/pod.gen.yaml")
    _, out, _ = tighten("check", *named, cwd=tmp_path)
    assert _paths(out) == set(named)
    _, out, _ = tighten("check", "--force-exclude", *named, cwd=tmp_path)
    assert _paths(out) == {"Dockerfile"}


@pytest.mark.slow
def test_force_exclude_applies_exclude_to_named_files(tmp_path: Path) -> None:
    for rel in ("Dockerfile", "legacy/Dockerfile", "svc/testdata/Dockerfile"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(DOCKERFILE_TEXT)
    named = ("Dockerfile", "legacy/Dockerfile", "./svc/testdata/Dockerfile")
    excludes = ("--exclude", "legacy", "--exclude", "testdata")
    _, out, _ = tighten("check", *excludes, *named, cwd=tmp_path)
    assert _paths(out) == {"Dockerfile", "legacy/Dockerfile", "svc/testdata/Dockerfile"}
    _, out, _ = tighten("check", *excludes, "--force-exclude", *named, cwd=tmp_path)
    assert _paths(out) == {"Dockerfile"}
    (tmp_path / ".tighten.toml").write_text('exclude = ["legacy"]\nforce-exclude = true\n')
    _, out, _ = tighten("check", *named, cwd=tmp_path)
    assert _paths(out) == {"Dockerfile", "svc/testdata/Dockerfile"}


def _git_logger(tmp_path: Path) -> tuple[dict[str, str], Path]:
    """A ``git`` first on PATH that logs each call, then runs the real one."""
    real = shutil.which("git")
    assert real is not None
    bin_dir, log = tmp_path / "bin", tmp_path / "git.log"
    bin_dir.mkdir()
    wrapper = bin_dir / "git"
    wrapper.write_text(f'#!/bin/sh\necho "$*" >> "{log}"\nexec "{real}" "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    return {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}, log


@pytest.mark.slow
def test_one_git_process_per_walk_not_per_file(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    _git_repo(repo)
    for i in range(40):
        (repo / f"svc{i}" / "pod.yaml").parent.mkdir()
        (repo / f"svc{i}" / "pod.yaml").write_text(POD)
    env, log = _git_logger(tmp_path)
    _, out, _ = tighten("check", "--select", "K8S001", ".", cwd=repo, env=env)
    assert len(_paths(out)) == 41
    calls = log.read_text().splitlines()
    assert [c for c in calls if "ls-files" in c or "check-ignore" in c] == [
        "ls-files -z --others --ignored --exclude-standard --directory"
    ]


@pytest.mark.slow
def test_no_git_or_no_work_tree_means_no_filtering(tmp_path: Path) -> None:
    plain = tmp_path / "plain"  # a .gitignore outside any work tree means nothing to git
    plain.mkdir()
    (plain / ".gitignore").write_text("build/\n")
    (plain / "build").mkdir()
    (plain / "build" / "Dockerfile").write_text(DOCKERFILE_TEXT)
    code, out, err = tighten("check", ".", cwd=plain)
    assert _paths(out) == {"build/Dockerfile"} and "error" not in err
    repo = tmp_path / "repo"
    _git_repo(repo)
    empty = tmp_path / "empty-bin"  # no git on PATH at all
    empty.mkdir()
    code, out, err = tighten("check", ".", cwd=repo, env={"PATH": str(empty)})
    assert "build/Dockerfile" in _paths(out) and "error" not in err, err
    assert code == 1
