"""Issue 13, Dockerfile classes: DF001 withholds USER from root-start images and reuses the
user the image is meant to run as; DF003 keeps tools the repository still runs and makes a
toolbox image's suppression obvious. Each case asserts what is withheld and what is fixed."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from fixer.documents.dockerfile import Dockerfile, parse
from fixer.documents.text import SourceText
from fixer.evidence.images import Evidence
from fixer.model import Finding, Safety
from fixer.repository import RepositoryModel
from fixer.rule import Context
from fixer.settings import Settings
from rules.nonroot import NonRootUser
from rules.tools import NetworkTools

REPOS = Path(__file__).resolve().parent.parent / "fixtures" / "repos"


def _check(
    rule: NonRootUser | NetworkTools, path: Path, repository: RepositoryModel | None = None
) -> list[Finding]:
    doc: Dockerfile = parse(SourceText(path.read_text()))
    ctx = Context(doc, path, Settings(), evidence=Evidence(repository=repository))
    return list(rule.check(ctx))


def _text_check(rule: NonRootUser | NetworkTools, tmp_path: Path, text: str) -> list[Finding]:
    path = tmp_path / "Dockerfile"
    path.write_text(text)
    return _check(rule, path)


def _tighten(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fixer", *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


# --- DF001: root-start images keep root; the fix is offered with what it needs ------------


def test_entrypoint_stepping_down_withholds_user(tmp_path: Path) -> None:
    [finding] = _check(NonRootUser(), REPOS / "j3-rootstart" / "Dockerfile")
    assert finding.fix is not None
    assert finding.fix.safety is Safety.UNPROVEN
    assert "docker-entrypoint.sh:5 runs setpriv" in finding.fix.needs
    assert "--unsafe-fixes" in finding.fix.needs
    assert finding.fix.withheld_note.startswith("fix withheld: needs proof the image starts")


def test_cli_leaves_root_start_image_and_unsafe_fixes_applies(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(REPOS / "j3-rootstart", repo)
    before = (repo / "Dockerfile").read_text()
    out = _tighten("fix", "--select", "DF001", ".", cwd=repo)
    assert out.returncode == 1, out.stdout + out.stderr
    assert (repo / "Dockerfile").read_text() == before
    out = _tighten("fix", "--select", "DF001", "--unsafe-fixes", ".", cwd=repo)
    assert "USER 10001:10001\nENTRYPOINT" in (repo / "Dockerfile").read_text()


@pytest.mark.parametrize(
    ("text", "sign"),
    [
        ("FROM postgres:16\nCOPY init.sql /docker-entrypoint-initdb.d/\n", "steps down with gosu"),
        ("FROM nginx:1.27\nCOPY site /usr/share/nginx/html\n", "listens on port 80"),
        ('FROM debian:12\nCOPY app /app\nEXPOSE 443\nCMD ["/app"]\n', "EXPOSE 443 at line 3"),
        (
            'FROM debian:12\nRUN apt-get install -y openssh-server\nCMD ["/usr/sbin/sshd", "-D"]\n',
            "installs openssh-server",
        ),
        ('FROM debian:12\nCOPY app /app\nVOLUME /data\nCMD ["/app"]\n', "VOLUME /data at line 3"),
        ('FROM alpine:3\nRUN apk add su-exec\nCMD ["su-exec", "app", "/app"]\n', "su-exec"),
        # A CI builder that drives the host's daemon (skaffold's Dockerfile.lts, Cloud
        # Build community builders): a non-root user cannot use the socket it is given.
        (
            "FROM debian:12\nRUN apt-get update && apt-get install -y docker.io jq\n",
            "line 2 installs docker.io, a Docker client",
        ),
        ("FROM ubuntu:24.04\nRUN apt-get install -y docker-ce-cli\n", "installs docker-ce-cli"),
        # A tool image whose command drives the daemon (kind, buildpacks' pack).
        (
            'FROM alpine:3\nCOPY pack /usr/local/bin/pack\nENTRYPOINT ["/usr/local/bin/pack"]\n',
            "its command /usr/local/bin/pack runs pack, a client of the Docker daemon",
        ),
        # skaffold's docs previewer (deploy/docs-v2): hugo writes resources/ and its lock
        # file into /app/docs, which WORKDIR made as root.
        (
            "FROM alpine:3 AS hugo\nRUN wget -O- https://example.com/hugo.tgz | tar xz\n"
            "FROM node:20\nWORKDIR /app/docs\nCOPY --from=hugo /hugo /usr/local/bin/\n",
            "line 5 ships hugo, a site generator that writes into the site folder",
        ),
        (
            'FROM ruby:3\nRUN gem install jekyll bundler\nCMD ["jekyll", "serve"]\n',
            "line 2 ships jekyll",
        ),
    ],
)
def test_root_start_signs_withhold_user(tmp_path: Path, text: str, sign: str) -> None:
    [finding] = _text_check(NonRootUser(), tmp_path, text)
    assert finding.fix is not None
    assert finding.fix.safety is Safety.UNPROVEN
    assert sign in finding.fix.needs


@pytest.mark.parametrize(
    ("script", "sign"),
    [
        # skaffold's deploy/buildpacks: `pack` is the default command of the entrypoint.
        (
            'set -e\nif [ -z "$(command -v "$1")" ]; then\n  set -- pack "$@"\nfi\nexec "$@"\n',
            "the entrypoint entrypoint.sh:4 runs pack, a client of the Docker daemon",
        ),
        ("exec /usr/bin/docker compose up\n", "entrypoint.sh:2 runs docker"),
        # The script a shell runs is read like any entrypoint script.
        ('chown -R app /data\nexec gosu app "$@"\n', "entrypoint.sh:3 runs gosu"),
    ],
)
def test_a_script_run_by_a_shell_entrypoint_is_read(tmp_path: Path, script: str, sign: str) -> None:
    (tmp_path / "entrypoint.sh").write_text("#!/bin/sh\n" + script)
    text = 'FROM alpine:3\nCOPY entrypoint.sh /entrypoint.sh\nENTRYPOINT ["/bin/sh", "/entrypoint.sh"]\n'
    [finding] = _text_check(NonRootUser(), tmp_path, text)
    assert finding.fix is not None and finding.fix.safety is Safety.UNPROVEN
    assert sign in finding.fix.needs  # line numbers count the shebang


@pytest.mark.parametrize(
    "text",
    [
        # hugo only builds the site; the shipped stage serves the output.
        "FROM alpine:3 AS site\nRUN apk add hugo\nCOPY . /src\nRUN hugo -s /src\n"
        'FROM debian:12\nCOPY --from=site /src/public /srv\nCMD ["/app"]\n',
        # The previewer's folder is given away: the user it names can write it.
        'FROM node:20\nRUN apt-get install -y hugo\nCOPY --chown=1000:1000 . /site\nCMD ["hugo"]\n',
        # A script that names docker without running it.
        'FROM debian:12\nCOPY entrypoint.sh /e.sh\nENTRYPOINT ["sh", "/e.sh"]\n',
    ],
    ids=["builder-stage", "chowned", "docker-in-text"],
)
def test_site_generators_and_daemon_tools_do_not_over_refuse(tmp_path: Path, text: str) -> None:
    (tmp_path / "entrypoint.sh").write_text('#!/bin/sh\necho "run me with docker run"\nexec /app\n')
    [finding] = _text_check(NonRootUser(), tmp_path, text)
    assert finding.fix is not None
    assert "site generator" not in finding.fix.needs and "Docker daemon" not in finding.fix.needs


def test_a_docker_named_tool_that_is_no_client_does_not_withhold(tmp_path: Path) -> None:
    text = 'FROM debian:12\nRUN pip install docker-compose-lint docker.iolib\nCMD ["/app"]\n'
    [finding] = _text_check(NonRootUser(), tmp_path, text)
    assert finding.fix is not None and finding.fix.safety is Safety.PROVEN


def test_plain_app_still_gets_a_proven_user(tmp_path: Path) -> None:
    text = 'FROM debian:12\nCOPY app /app\nEXPOSE 8080\nCMD ["/app"]\n'
    [finding] = _text_check(NonRootUser(), tmp_path, text)
    assert finding.fix is not None
    assert finding.fix.safety is Safety.PROVEN
    assert finding.fix.evidence
    assert not finding.fix.needs


def test_low_port_with_setcap_is_proven(tmp_path: Path) -> None:
    text = (
        "FROM debian:12\nCOPY app /app\nRUN setcap cap_net_bind_service=+ep /app\n"
        'EXPOSE 80\nCMD ["/app"]\n'
    )
    [finding] = _text_check(NonRootUser(), tmp_path, text)
    assert finding.fix is not None and finding.fix.safety is Safety.PROVEN


def test_chowned_volume_is_proven(tmp_path: Path) -> None:
    text = (
        'FROM debian:12\nRUN mkdir /data && chown 10001:10001 /data\nVOLUME /data\nCMD ["/app"]\n'
    )
    [finding] = _text_check(NonRootUser(), tmp_path, text)
    assert finding.fix is not None and finding.fix.safety is Safety.PROVEN
    assert "USER 10001:10001" in finding.fix.edits[0].content


# --- DF001: the user the image is meant to run as -----------------------------------------


def test_base_running_non_root_has_no_finding(tmp_path: Path) -> None:
    for base in (
        "cgr.dev/chainguard/static:latest",
        "gcr.io/distroless/base:nonroot@sha256:" + "a" * 64,
    ):
        assert _text_check(NonRootUser(), tmp_path, f"FROM {base}\nCOPY app /app\n") == []


def test_useradd_with_build_argument_out_of_scope_uses_its_number(tmp_path: Path) -> None:
    text = (
        "FROM debian:12 AS base\nARG UID=1500\nRUN useradd -u ${UID} app\n"
        'FROM base\nCOPY app /app\nCMD ["/app"]\n'
    )
    [finding] = _text_check(NonRootUser(), tmp_path, text)
    assert finding.fix is not None and finding.fix.safety is Safety.PROVEN
    [edit] = finding.fix.edits  # no second --uid
    assert edit.content == "USER 1500\n"


def test_useradd_with_unknown_build_argument_is_withheld(tmp_path: Path) -> None:
    text = "FROM debian:12 AS base\nARG UID\nRUN useradd -u ${UID} app\nFROM base\nCOPY app /app\n"
    [finding] = _text_check(NonRootUser(), tmp_path, text)
    assert finding.fix is not None and finding.fix.safety is Safety.UNPROVEN
    assert "declare `ARG UID` in the final stage" in finding.fix.needs
    assert all("--uid" not in e.content for e in finding.fix.edits)


def test_named_owner_without_number_is_reused_by_name(tmp_path: Path) -> None:
    text = 'FROM debian:12\nCOPY --chown=www app /srv/app\nCMD ["/srv/app"]\n'
    [finding] = _text_check(NonRootUser(), tmp_path, text)
    assert finding.fix is not None and finding.fix.edits[0].content == "USER www\n"


def test_php_base_reuses_www_data(tmp_path: Path) -> None:
    text = "FROM php:8.3-fpm\nCOPY . /var/www/html\n"
    [finding] = _text_check(NonRootUser(), tmp_path, text)
    assert finding.fix is not None and finding.fix.edits[0].content.endswith("USER 33:33\n")


# --- DF003: the repository's scripts and manifests still run the tool ----------------------


def test_tools_used_by_build_context_scripts_and_manifests_are_kept() -> None:
    root = REPOS / "j3-buildctx"
    model = RepositoryModel.scan(root)
    found = {
        f.message.split(" ", 1)[0]: f
        for f in _check(NetworkTools(), root / "build" / "Dockerfile", model)
    }
    assert found["curl"].fix is None
    assert (
        found["curl"].reason == "scripts/warm-cache.sh:3: a script copied into the image calls curl"
    )
    assert found["wget"].fix is None
    assert found["wget"].reason.startswith("deploy/cronjob.yaml:")
    assert 'CronJob/nightly-report container "report" calls wget' in found["wget"].reason
    fix = found["netcat-openbsd"].fix  # nothing runs it: still removed, with the evidence
    assert fix is not None and fix.safety is Safety.PROVEN
    assert fix.evidence and "repository" in fix.evidence[0]


def test_without_repository_whole_context_copy_is_unproven(tmp_path: Path) -> None:
    text = 'FROM debian:12\nRUN apt-get install -y curl\nCOPY . /app\nCMD ["/app/run"]\n'
    [finding] = _text_check(NetworkTools(), tmp_path, text)
    assert finding.fix is not None and finding.fix.safety is Safety.UNPROVEN
    assert "`COPY .` at line 3" in finding.fix.needs


def test_plain_tool_removal_stays_proven(tmp_path: Path) -> None:
    text = 'FROM debian:12\nRUN apt-get install -y curl\nCOPY app /app\nCMD ["/app"]\n'
    [finding] = _text_check(NetworkTools(), tmp_path, text)
    assert finding.fix is not None and finding.fix.safety is Safety.PROVEN


# --- DF003: images whose tools are the product ----------------------------------------------


def test_toolbox_label_withholds_and_shows_the_ignore_line(tmp_path: Path) -> None:
    [finding] = _check(NetworkTools(), REPOS / "j3-toolbox" / "Dockerfile")
    assert finding.fix is not None and finding.fix.safety is Safety.UNPROVEN
    assert "`# tighten ignore=DF003` on the line above line 3" in finding.fix.needs
    assert (
        'LABEL org.opencontainers.image.description at line 2 says "troubleshooting"'
        in finding.fix.needs
    )
    repo = tmp_path / "repo"
    shutil.copytree(REPOS / "j3-toolbox", repo)
    before = (repo / "Dockerfile").read_text()
    assert _tighten("fix", "--select", "DF003", ".", cwd=repo).returncode == 1
    assert (repo / "Dockerfile").read_text() == before
    # The suggested line silences it.
    lines = before.splitlines(keepends=True)
    lines.insert(2, "# tighten ignore=DF003\n")
    (repo / "Dockerfile").write_text("".join(lines))
    assert _tighten("check", "--select", "DF003", ".", cwd=repo).returncode == 0


@pytest.mark.parametrize(
    ("install", "sign"),
    [
        ("build-essential curl jq", "line 2 installs build-essential: a build environment"),
        ("curl docker.io", "line 2 installs docker.io: a build environment"),
        ("openjdk-21-jdk curl", "line 2 installs openjdk-21-jdk: a build environment"),
    ],
)
def test_a_build_environment_keeps_its_network_tools(
    tmp_path: Path, install: str, sign: str
) -> None:
    # skaffold's CI builder image (deploy/skaffold/Dockerfile.deps): its Makefile, run in
    # the image by a Cloud Build step, downloads with curl.
    text = f"FROM debian:12\nRUN apt-get update && apt-get install -y {install}\n"
    [finding] = _text_check(NetworkTools(), tmp_path, text)
    assert finding.fix is not None and finding.fix.safety is Safety.UNPROVEN
    assert sign in finding.fix.needs


def test_a_runtime_jre_is_no_build_environment(tmp_path: Path) -> None:
    text = "FROM debian:12\nRUN apt-get install -y openjdk-21-jre-headless curl\n"
    [finding] = _text_check(NetworkTools(), tmp_path, text)
    assert finding.fix is not None and finding.fix.safety is Safety.PROVEN


def test_readme_naming_the_tool_marks_the_product(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text(
        "# netbox\n\nThe image includes curl and dig for debugging.\n"
    )
    text = 'FROM alpine:3.20\nRUN apk add --no-cache curl\nCMD ["sh"]\n'
    [finding] = _text_check(NetworkTools(), tmp_path, text)
    assert finding.fix is not None and finding.fix.safety is Safety.UNPROVEN
    assert 'README.md:3 says "debugging"' in finding.fix.needs


def test_readme_of_an_app_does_not_withhold(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("Debug the service with curl localhost:8080/debug.\n")
    text = 'FROM alpine:3.20\nRUN apk add --no-cache curl\nCMD ["sh"]\n'
    [finding] = _text_check(NetworkTools(), tmp_path, text)
    assert finding.fix is not None and finding.fix.safety is Safety.PROVEN


def test_an_unknown_base_image_may_already_run_as_non_root(tmp_path: Path) -> None:
    """Merge review (opentelemetry-demo): grafana/k6 runs as its own user k6; with its
    config unread, a new USER is offered, not applied. Known root bases are still fixed."""
    text = 'FROM grafana/k6:1.0\nCOPY script.js .\nENTRYPOINT ["k6"]\n'
    [finding] = _text_check(NonRootUser(), tmp_path, text)
    assert finding.fix is not None and finding.fix.safety is Safety.UNPROVEN
    assert finding.fix.needs.startswith(
        "the user the base image grafana/k6:1.0 runs as (its config was not read)"
    )
    text = 'FROM python:3.12-slim\nCOPY app.py .\nCMD ["python", "app.py"]\n'
    [finding] = _text_check(NonRootUser(), tmp_path, text)
    assert finding.fix is not None and finding.fix.safety is Safety.PROVEN


@pytest.mark.parametrize(
    ("ini", "cmd", "sign"),
    [
        # robot-shop's payment service: uWSGI drops to uid 1 itself, so it must start as root.
        (
            "[uwsgi]\nsocket = 0.0.0.0:8080\nuid = 1\ngid = 1\n",
            '["uwsgi", "--ini", "payment.ini"]',
            "CMD at line 5 runs uwsgi, whose payment.ini sets uid = 1",
        ),
        ("[uwsgi]\n", '["uwsgi", "--ini", "payment.ini", "--uid", "www-data"]', "with --uid"),
        ("", "gunicorn --user app -b :8080 app:app", "runs gunicorn with --user"),
    ],
)
def test_a_server_that_switches_users_itself_keeps_root(
    tmp_path: Path, ini: str, cmd: str, sign: str
) -> None:
    (tmp_path / "payment.ini").write_text(ini)
    text = f"FROM python:3.12\nWORKDIR /app\nCOPY payment.ini /app/\nEXPOSE 8080\nCMD {cmd}\n"
    [finding] = _text_check(NonRootUser(), tmp_path, text)
    assert finding.fix is not None and finding.fix.safety is Safety.UNPROVEN
    assert sign in finding.fix.needs and "switches users itself" in finding.fix.needs


def test_a_server_that_keeps_its_user_still_gets_one(tmp_path: Path) -> None:
    (tmp_path / "app.ini").write_text("[uwsgi]\nsocket = 0.0.0.0:8080\nprocesses = 2\n")
    text = 'FROM python:3.12\nCOPY app.ini /app/\nCMD ["uwsgi", "--ini", "/app/app.ini"]\n'
    [finding] = _text_check(NonRootUser(), tmp_path, text)
    assert finding.fix is not None and finding.fix.safety is Safety.PROVEN


@pytest.mark.parametrize(
    ("text", "sign"),
    [
        # Docker's multi-stage Go example (and dapr's quickstarts): the binary in /root.
        (
            "FROM golang:1.24 AS build\nWORKDIR /src\nCOPY . .\nRUN go build -o app .\n"
            "FROM debian:bookworm-slim\nWORKDIR /root/\nCOPY --from=build /src/app .\n"
            'CMD ["./app"]\n',
            "WORKDIR /root/ at line 6 is in root's home",
        ),
        (
            'FROM alpine:3.20\nARG HOME=/root\nWORKDIR $HOME/app\nCOPY app .\nCMD ["./app"]\n',
            "WORKDIR $HOME/app at line 3 is in root's home",
        ),
        (
            'FROM alpine:3.20\nWORKDIR /srv\nCOPY app /root/app\nCMD ["/root/app"]\n',
            "the command runs /root/app, in root's home",
        ),
    ],
)
def test_a_command_in_roots_home_keeps_root(tmp_path: Path, text: str, sign: str) -> None:
    """/root is mode 700 in the base images: a non-root USER cannot enter it, so the
    container fails before its program starts ("chdir ... permission denied")."""
    [finding] = _text_check(NonRootUser(), tmp_path, text)
    assert finding.fix is not None and finding.fix.safety is Safety.UNPROVEN
    assert sign in finding.fix.needs
    assert finding.fix.needs.startswith("the image's files moved out of /root")


@pytest.mark.parametrize(
    "text",
    [
        'FROM scratch\nWORKDIR /root\nCOPY app .\nCMD ["./app"]\n',  # the build makes /root
        'FROM debian:bookworm-slim\nWORKDIR /root\nRUN chmod 755 /root\nCOPY app .\nCMD ["./app"]\n',
        'FROM debian:bookworm-slim\nWORKDIR /rootfs\nCOPY app .\nCMD ["./app"]\n',
    ],
)
def test_a_readable_workdir_still_gets_a_user(tmp_path: Path, text: str) -> None:
    [finding] = _text_check(NonRootUser(), tmp_path, text)
    assert finding.fix is not None and finding.fix.safety is Safety.PROVEN, (
        finding.fix and finding.fix.needs
    )


def _base_repo(tmp_path: Path, app: str) -> Path:
    """A repository whose Makefile builds base/ as myorg/base, and app/ FROM it."""
    (tmp_path / "base").mkdir()
    (tmp_path / "app").mkdir()
    (tmp_path / "base" / "Dockerfile").write_text(
        "FROM alpine:3.20\nRUN apk add --no-cache ca-certificates\n"
    )
    (tmp_path / "app" / "Dockerfile").write_text(app)
    (tmp_path / "Makefile").write_text(
        "base:\n\tdocker build -t myorg/base:latest base\n"
        "app: base\n\tdocker build -t myorg/app app\n"
    )
    return tmp_path


def test_a_base_image_whose_derived_build_runs_steps_keeps_root(tmp_path: Path) -> None:
    """jaeger-like: the repository builds its own base image; a Dockerfile built FROM it
    RUNs apk add as the user it inherits, which a non-root USER in the base would break."""
    app = (
        "FROM myorg/base:latest\nRUN apk add --no-cache python3\nCOPY app.py /app/\n"
        'USER 10001\nCMD ["python3", "/app/app.py"]\n'
    )
    repo = _base_repo(tmp_path, app)
    out = _tighten("fix", "--offline", "--no-cache", "--select", "DF001", ".", cwd=repo)
    assert out.returncode == 1, out.stderr
    assert "app/Dockerfile:2 would run as the user this sets" in out.stdout
    assert "USER" not in (repo / "base" / "Dockerfile").read_text()


def test_a_base_image_whose_derived_builds_only_copy_still_gets_a_user(tmp_path: Path) -> None:
    app = 'FROM myorg/base:latest\nCOPY app /app\nUSER 10001\nCMD ["/app"]\n'
    repo = _base_repo(tmp_path, app)
    out = _tighten("fix", "--offline", "--no-cache", "--select", "DF001", ".", cwd=repo)
    assert "USER 10001:10001" in (repo / "base" / "Dockerfile").read_text(), out.stdout


def test_a_derived_stage_that_switches_to_root_first_does_not_hold_the_base(tmp_path: Path) -> None:
    app = (
        "FROM myorg/base:latest\nUSER root\nRUN apk add --no-cache python3\n"
        'USER 10001\nCMD ["python3"]\n'
    )
    repo = _base_repo(tmp_path, app)
    _tighten("fix", "--offline", "--no-cache", "--select", "DF001", ".", cwd=repo)
    assert "USER 10001:10001" in (repo / "base" / "Dockerfile").read_text()


_APP_SERVICE = (
    "FROM python:3.12-slim\nCOPY sshd_config /etc/ssh/\n"
    "RUN apt-get update && apt-get install -y --no-install-recommends {packages}\n"
    'EXPOSE 2222 8000\nCMD ["/usr/bin/supervisord"]\n'
)


def test_tools_beside_a_kept_ssh_server_are_withheld(tmp_path: Path) -> None:
    """azure-voting-app-redis' App Service image: sshd runs (its sshd_config is copied in)
    so people log in, and curl and wget were installed for them: removing them is offered,
    not applied."""
    (tmp_path / "sshd_config").write_text(
        "# This is ssh server systemwide configuration file.\nPort 2222\n"
    )
    text = _APP_SERVICE.format(packages="openssh-server vim curl wget")
    found = _text_check(NetworkTools(), tmp_path, text)
    by_tool = {f.message.split(" ", 1)[0]: f for f in found}
    assert by_tool["openssh-server"].fix is None
    for tool in ("curl", "wget"):
        fix = by_tool[tool].fix
        assert fix is not None and fix.safety is Safety.UNPROVEN
        assert "it keeps an SSH server (openssh-server: COPY at line 2" in fix.needs


def test_tools_without_an_ssh_server_are_still_removed(tmp_path: Path) -> None:
    (tmp_path / "sshd_config").write_text("Port 2222\n")
    [curl] = _text_check(NetworkTools(), tmp_path, _APP_SERVICE.format(packages="vim curl"))
    assert curl.fix is not None and curl.fix.safety is Safety.PROVEN


def test_a_variant_of_an_image_whose_sibling_declares_its_data_volume_keeps_root(
    tmp_path: Path,
) -> None:
    """minio's Dockerfile.scratch ships the same server as its Dockerfile, which declares
    VOLUME /data: the scratch variant's new user could write no data folder at all."""
    (tmp_path / "Dockerfile.release").write_text(
        'FROM minio/minio:latest\nVOLUME ["/data"]\nCMD ["minio"]\n'
    )
    [finding] = _text_check(
        NonRootUser(), tmp_path, 'FROM scratch\nCOPY minio /minio\nCMD ["/minio"]\n'
    )
    assert finding.fix is not None and finding.fix.safety is Safety.UNPROVEN
    assert 'Dockerfile.release ships the same program (minio) with VOLUME ["/data"]' in (
        finding.fix.needs
    )


def test_siblings_are_read_once_per_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A folder of many Dockerfiles: each one's sibling check reads the folder once, not
    every sibling again (6,000 Dockerfiles in one folder took minutes)."""
    from fixer.repository import walk
    from rules import nonroot_judge

    reads: list[Path] = []

    def counted(path: Path, limit: int = walk.MAX_BYTES) -> str | None:
        reads.append(path)
        return walk.read_text(path, limit)

    monkeypatch.setattr(nonroot_judge, "read_text", counted)
    text = 'FROM debian:bookworm-slim\nCMD ["app"]\n'
    for n in range(30):
        (tmp_path / f"Dockerfile.{n:02d}").write_text(text)
    for n in range(30):
        _check(NonRootUser(), tmp_path / f"Dockerfile.{n:02d}")
    assert len(reads) <= 30, len(reads)


def test_a_sibling_that_ships_another_program_does_not_hold_the_user(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile.db").write_text(
        'FROM postgres:16\nVOLUME /var/lib/db\nCMD ["postgres"]\n'
    )
    [finding] = _text_check(NonRootUser(), tmp_path, 'FROM scratch\nCOPY web /web\nCMD ["/web"]\n')
    assert finding.fix is not None and finding.fix.safety is Safety.PROVEN
