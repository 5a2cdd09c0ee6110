"""DF001's and the repository model's shortcuts answer exactly as the long way did: each
prefilter only skips texts its regex cannot match, and each memo is keyed by everything its
answer depends on."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

from fixer.documents import yaml as y
from fixer.documents.dockerfile import parent_stages, parse
from fixer.documents.text import SourceText
from fixer.evidence.images import Evidence
from fixer.model import Finding, Safety
from fixer.repository import RepositoryModel, sources, usage, walk, yamlfiles
from fixer.rule import Context
from fixer.settings import Settings
from rules import nonroot_judge as judge
from rules.nonroot import NonRootUser


def _names(pattern: re.Pattern[str]) -> list[str]:
    """The alternatives of a pattern's one capturing group (``(a|b|c)``)."""
    group = re.search(r"\(([^()?]+)\)", pattern.pattern)
    assert group is not None
    return group.group(1).split("|")


def _check(path: Path, repository: RepositoryModel | None = None) -> list[Finding]:
    doc = parse(SourceText(path.read_text()))
    ctx = Context(doc, path, Settings(), evidence=Evidence(repository=repository))
    return list(NonRootUser().check(ctx))


def test_every_step_down_and_sshd_name_holds_a_hint() -> None:
    # The prefilter skips a text holding no hint: a name without one would go unseen.
    for name in _names(judge.STEP_DOWN):
        assert any(hint in name for hint in judge._STEP_DOWN_HINTS), name
    for name in _names(judge._SSHD):
        assert any(hint in name for hint in judge._SSHD_HINTS), name


@pytest.mark.parametrize(
    ("instruction", "sign"),
    [
        ('CMD ["s6-svscan", "/etc/s6"]', "CMD at line 2 runs s6-svscan"),
        ('ENTRYPOINT ["chpst", "-u", "app", "/app"]', "ENTRYPOINT at line 2 runs chpst"),
        ("CMD /usr/sbin/dropbear -F", "CMD at line 2 runs dropbear"),
        ("RUN apk add --no-cache su-exec", "line 2 installs su-exec"),
        ("RUN apt-get install -y openssh-server", "line 2 installs openssh-server"),
    ],
)
def test_prefiltered_instructions_still_give_their_sign(
    tmp_path: Path, instruction: str, sign: str
) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text(f"FROM debian:bookworm-slim\n{instruction}\n")
    [finding] = _check(path)
    assert finding.fix is not None and finding.fix.safety is Safety.UNPROVEN
    assert sign in finding.fix.needs


def test_entrypoint_script_step_down_past_a_line_continuation(tmp_path: Path) -> None:
    # The whole script is scanned for a hint first; the line that has it is then found.
    (tmp_path / "entry.sh").write_text(
        '#!/bin/sh\n# gosu is mentioned in a comment only\nset -e \\\n  -u\nexec setuidgid app "$@"\n'
    )
    path = tmp_path / "Dockerfile"
    path.write_text(
        'FROM debian:bookworm-slim\nCOPY entry.sh /entry.sh\nENTRYPOINT ["/entry.sh"]\n'
    )
    [finding] = _check(path, RepositoryModel.scan(tmp_path))
    assert finding.fix is not None
    assert "the entrypoint entry.sh:5 runs setuidgid" in finding.fix.needs


def test_owners_memo_is_per_document(tmp_path: Path) -> None:
    first = parse(SourceText("FROM alpine\nRUN chown -R web /srv\n"))
    second = parse(SourceText("FROM alpine\nRUN useradd api && chown api /srv\n"))
    for doc, user in [(first, "web"), (second, "api"), (first, "web")]:
        chain = parent_stages(doc, doc.stages[-1])
        found = judge.owners(chain, doc)
        assert [o.user for o in found] == [user]
        found.clear()  # the caller's list is its own: the memo keeps its answer
        assert [o.user for o in judge.owners(chain, doc)] == [user]


def test_is_dir_memo_is_per_context(tmp_path: Path) -> None:
    # The same source name is a folder in one build context and a file in the other.
    (tmp_path / "a" / "bin").mkdir(parents=True)
    (tmp_path / "a" / "bin" / "start.sh").write_text("#!/bin/sh\n")
    (tmp_path / "a" / "Dockerfile").write_text(
        'FROM alpine\nCOPY bin /usr/local/bin/\nENTRYPOINT ["start.sh"]\n'
    )
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "bin").write_text("#!/bin/sh\n")
    (tmp_path / "b" / "Dockerfile").write_text(
        'FROM alpine\nCOPY bin /usr/local/bin/\nENTRYPOINT ["/usr/local/bin/bin"]\n'
    )
    model = RepositoryModel.scan(tmp_path)
    (a,) = model.build_of(tmp_path / "a" / "Dockerfile")
    (b,) = model.build_of(tmp_path / "b" / "Dockerfile")
    for _ in range(2):  # the second ask is answered from the memo
        assert model.entrypoint_script(a) == tmp_path / "a" / "bin" / "start.sh"
        assert model.entrypoint_script(b) == tmp_path / "b" / "bin"


_DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web}}
spec:
  template:
    spec:
      containers:
        - name: web
          image: ghcr.io/acme/web:1
          securityContext: {{runAsUser: {uid}}}
"""


def test_manifest_parsed_once_and_read_again_when_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parses: list[str] = []
    real = yamlfiles.documents

    def counted(text: str) -> list[y.Node]:
        parses.append(text)
        return real(text)

    monkeypatch.setattr(yamlfiles, "documents", counted)
    manifest = tmp_path / "deploy.yaml"
    manifest.write_text(_DEPLOYMENT.format(uid=1000))
    model = RepositoryModel.scan(tmp_path)
    assert parses == []  # the line scan filed it under its image
    [run] = model.runs_named(["web"])  # parsed on this first question
    container = usage._container(model, run)  # the same parse: not composed again
    assert len(parses) == 1
    assert container is not None
    assert y.scalar(y.get_path(container.node, "securityContext", "runAsUser")) == "1000"
    before = model.yaml_file(manifest)
    manifest.write_text(_DEPLOYMENT.format(uid=20000))
    stat = manifest.stat()
    os.utime(manifest, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    after = model.yaml_file(manifest)  # changed since: read again
    assert after is not None and after is not before and len(parses) == 2
    assert "runAsUser: 20000" in after.text
    # Another model (another run) parses for itself.
    RepositoryModel.scan(tmp_path).runs_named(["web"])
    assert len(parses) == 3


@pytest.mark.parametrize(
    "marker",
    [
        "DO NOT EDIT",
        "Code generated",
        "code generated",
        "@generated",
        "GENERATED",
        "autogenerated",
        "Auto-generated",
        "AutoGenerated",
    ],
)
def test_generated_marker_hints_keep_every_marker(marker: str) -> None:
    # The hint scan must never drop a head the marker regex would find a marker in.
    assert sources._MARKERS.search(marker) is None or any(
        hint in marker for hint in sources._MARKER_HINTS
    )
    text = f"# {marker} by a tool\napiVersion: v1\n"
    expected = f"# {marker} by a tool" if sources._MARKERS.search(marker) else None
    assert sources.generated_marker(text) == expected


def test_walk_gives_each_file_its_relative_parts(tmp_path: Path) -> None:
    for rel in ["a/b/c/deploy.yaml", "a/x.sh", "top.yaml", "a/vendor/v.yaml", "d/e/Dockerfile"]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x\n")
    skipped: list[tuple[str, ...]] = []
    found = [
        (str(p.relative_to(tmp_path)), parts) for p, parts in walk.walk(tmp_path, skipped.append)
    ]
    assert found == [
        ("top.yaml", ("top.yaml",)),
        ("a/x.sh", ("a", "x.sh")),
        ("a/b/c/deploy.yaml", ("a", "b", "c", "deploy.yaml")),
        ("d/e/Dockerfile", ("d", "e", "Dockerfile")),
    ]
    assert skipped == [("a", "vendor")]


@pytest.mark.parametrize(
    ("body", "signed"),
    [
        ("EXPOSE 80\n", True),
        # setcap is searched on the first EXPOSE, over the whole file: a later line counts.
        ("EXPOSE 80\nRUN setcap cap_net_bind_service=+ep /usr/bin/app\n", False),
        ("EXPOSE 8080\nEXPOSE 443\n", True),
    ],
)
def test_low_port_sign_with_setcap_anywhere(tmp_path: Path, body: str, signed: bool) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text(f"FROM debian:bookworm-slim\n{body}")
    [finding] = _check(path)
    assert finding.fix is not None
    assert ("a port below 1024 needs root" in finding.fix.needs) is signed


def test_the_capability_prefilter_answers_as_the_regex() -> None:
    from rules.nonroot_judge import _CAPABLE, _capable

    cases = [
        "RUN setcap cap_net_bind_service=+ep /usr/bin/app",
        "RUN SETCAP 'CAP_NET_BIND_SERVICE+ep' /app",
        "# Net_Bind_Service is added in the manifest",
        "RUN xsetcapx && echo",  # no word boundary: no match
        "EXPOSE 80",
        "RUN \u017fetcap cap_net_raw+ep /app",  # the long s folds onto s: only the regex knows
    ]
    for text in cases:
        assert _capable(text) is bool(_CAPABLE.search(text)), text
    assert _capable(cases[-1])  # non-ASCII text is never prefiltered away


def test_a_fix_withheld_early_never_asks_the_later_reasons(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A test's image is withheld for being one: the signs that an image needs root (the
    # costliest evidence) and whether it has a command are then never worked out.
    import rules.nonroot as nonroot

    folder = tmp_path / "tests" / "e2e"
    folder.mkdir(parents=True)
    dockerfile = folder / "Dockerfile"
    dockerfile.write_text('FROM debian:bookworm-slim\nCMD ["run-tests"]\n')

    def never(*args: object) -> list[str]:
        raise AssertionError("asked")

    monkeypatch.setattr(nonroot, "root_start_signs", never)
    monkeypatch.setattr(nonroot, "_no_command", never)
    (finding,) = _check(dockerfile, RepositoryModel.scan(tmp_path, stamp=False))
    assert finding.fix is not None and finding.fix.safety is Safety.UNPROVEN
    assert finding.fix.needs.startswith("a test image: it is under tests/")


def test_each_reason_is_the_one_the_eager_judgement_gave(tmp_path: Path) -> None:
    # The same Dockerfiles judged with every reason worked out first (as before) and
    # with the reasons asked in order: the same fix, needs and evidence.
    import rules.nonroot as nonroot

    cases = {
        "tests/Dockerfile": 'FROM debian:bookworm-slim\nCMD ["t"]\n',
        "base/Dockerfile": "FROM debian:bookworm-slim\nRUN apt-get update\n",
        "svc/Dockerfile": 'FROM debian:bookworm-slim\nCOPY app /app\nCMD ["/app"]\n',
        "root/Dockerfile": 'FROM debian:bookworm-slim\nWORKDIR /root\nCOPY . .\nCMD ["./x"]\n',
        "gosu/Dockerfile": (
            "FROM debian:bookworm-slim\nRUN apt-get install -y gosu\n"
            'ENTRYPOINT ["gosu", "app", "/app"]\n'
        ),
        ".devcontainer/Dockerfile": "FROM mcr.microsoft.com/devcontainers/base:bookworm\n",
        "unknown/Dockerfile": 'FROM acme/private-base:1\nCMD ["/app"]\n',
    }
    for name, text in cases.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    repository = RepositoryModel.scan(tmp_path, stamp=False)

    class Eager(nonroot._Reasons):
        def __init__(self, *args: Any) -> None:
            super().__init__(*args)
            for name in dir(nonroot._Reasons):
                getattr(self, name)  # every reason worked out before the first is asked

    for name in cases:
        lazy = _check(tmp_path / name, repository)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(nonroot, "_Reasons", Eager)
            eager = _check(tmp_path / name, repository)
        assert lazy == eager, name
        assert [(f.fix.needs, f.fix.evidence) for f in lazy if f.fix] == [
            (f.fix.needs, f.fix.evidence) for f in eager if f.fix
        ], name
    needs = [f.fix.needs for n in cases for f in _check(tmp_path / n, repository) if f.fix]
    assert len({n.split(":")[0].split("(")[0] for n in needs}) >= 4  # several reasons met
