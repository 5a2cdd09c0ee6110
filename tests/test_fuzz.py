"""Property tests: generated Dockerfiles and manifests never break the engine.

For every generated file, ``process_text(..., fix=True)`` must not raise and may only fail
with a clear reason (never an internal error); the fixed text must parse to the same
stages/documents, keep every instruction and datum the rules did not mean to change, change
no line outside an edit's reach, and a second fix must change nothing.

CI runs a fixed, derandomised set of examples without a database so results are stable;
``TIGHTEN_FUZZ_EXAMPLES=2000 TIGHTEN_FUZZ_RANDOM=1 pytest tests/test_fuzz.py`` digs deeper.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fixer.documents import dockerfile
from fixer.documents.text import SourceText
from fixer.engine import FileResult, process_text
from fixer.rule import Resolution
from fixer.settings import Settings
from tests.helpers import (
    RULES,
    collateral,
    dockerfile_problems,
    yaml_documents,
    yaml_problems,
)

pytestmark = pytest.mark.slow  # deselected by `pytest -m "not slow"`

EXAMPLES = int(os.environ.get("TIGHTEN_FUZZ_EXAMPLES", "400"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not os.environ.get("TIGHTEN_FUZZ_RANDOM"),
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

#: Errors a valid input may legitimately end with (none of them is "internal error").
CLEAR_ERRORS = ("refused",)

DIGEST = "sha256:" + "ab" * 32
#: Registry answers as the run-level look-up would give them, so pinning rules fix too.
RESOLUTIONS = {
    "nginx": Resolution(digest=DIGEST, tag="1.27.3", pinned=f"nginx:1.27.3@{DIGEST}", user=""),
    "nginx:latest": Resolution(digest=DIGEST, tag="1.27.3", pinned=f"nginx:1.27.3@{DIGEST}"),
    "ubuntu:latest": Resolution(digest=DIGEST, pinned=f"ubuntu:latest@{DIGEST}", user=""),
    "alpine": Resolution(digest=DIGEST, pinned=f"alpine@{DIGEST}", user="root"),
    "busybox": Resolution(error="timeout"),
    "registry.local:5000/team/app:1.0": Resolution(user="1000"),
}


# --- Dockerfiles ---------------------------------------------------------------------------

IMAGES = (
    "alpine",
    "alpine:3.20",
    "debian:bookworm-slim",
    "ubuntu:latest",
    "nginx",
    "python:3.12-slim",
    "gcr.io/distroless/static-debian12",
    "scratch",
    "registry.local:5000/team/app:1.0",
    f"node:22@{DIGEST}",
    "$BASE",
    "${BASE}:latest",
    "redhat/ubi9",
    "busybox",
    "mcr.microsoft.com/windows/servercore:ltsc2022",
)
USERS = ("root", "0", "1000", "app", "root:root", "0:0", "${APP_USER}", "10001:10001", "nobody")
PACKAGES = ("curl", "wget", "ca-certificates", "openssh-client", "netcat-openbsd", "git", "jq")
SECRET_ENV = (
    "ENV DB_PASSWORD=s3cr3t-Pa55",
    'ENV NODE_ENV=production DB_PASSWORD="s3cr3t Pa55" PORT=8080',
    "ENV API_KEY sk_live_4eC39HqLyjWDarjtT1zdp7dc",
    "ARG NPM_TOKEN=npm_Rk3vX9mQ2pL7sT4wY8zB1cD5fG6hJ0kN2aE4",
    "ENV GITHUB_TOKEN=ghp_16C7e42F292c6912E7710c838347Ae178B4a",
    "ENV A=1 \\\n    SECRET_KEY=abc123def456ghi789 \\\n    B=2",
    "ENV A=1 \\\n    # a comment inside\n    B=2 SECRET_KEY=abc123def456ghi789",
    "ARG AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY",
)
LOOKALIKE_ENV = (
    "ENV PASSWORD_FILE=/run/secrets/db",
    "ENV NODE_SHA256=" + "0f" * 32,
    "ARG GPG_KEY=B42F6819007F00F88E364FD4036A9C25BF357DD4",
    "ENV TOKEN=${TOKEN}",
    "ARG PASSWORD",
    "ENV PATH=/usr/local/bin:$PATH",
    "ENV DB_PASSWORD=changeme",
)
OTHER = (
    "COPY . /app",
    "WORKDIR /app",
    "EXPOSE 8080",
    'CMD ["app"]',
    "HEALTHCHECK CMD curl -f http://localhost/ || exit 1",
    'ENTRYPOINT ["wget", "-q", "-O-", "http://x"]',
    "# a comment",
    "",
    'SHELL ["/bin/bash", "-o", "pipefail", "-c"]',
    "LABEL maintainer=me",
    "ADD https://example.com/x.tar.gz /tmp/",
    "COPY --from=build0 /out /out",
    "ONBUILD RUN apt-get install -y curl",
    "VOLUME /data",
)


@st.composite
def run_lines(draw: st.DrawFn) -> str:
    pkgs = " ".join(draw(st.lists(st.sampled_from(PACKAGES), min_size=1, max_size=4)))
    more = draw(st.lists(st.sampled_from(PACKAGES), min_size=1, max_size=3))
    tab = draw(st.sampled_from(("    ", "\t", "  ")))
    forms = [
        f"RUN apt-get update && apt-get install -y --no-install-recommends {pkgs} "
        "&& rm -rf /var/lib/apt/lists/*",
        "RUN apt-get update \\\n"
        f"{tab}&& apt-get install -y \\\n"
        + "".join(f"{tab}{tab}{p} \\\n" for p in more[:-1])
        + f"{tab}{tab}# the last one\n{tab}{tab}{more[-1]} \\\n"
        f"{tab}&& rm -rf /var/lib/apt/lists/*",
        f"RUN apk add --no-cache {pkgs}",
        f"RUN apk add --no-cache --virtual .build-deps {pkgs} && make && apk del .build-deps",
        f"RUN yum install -y {pkgs} && yum clean all",
        f"RUN microdnf install -y {pkgs}; microdnf clean all",
        "RUN curl -fsSL https://example.com/install.sh | sh",
        f'RUN ["apt-get", "install", "-y", "{more[0]}"]',
        f"RUN set -eux; \\\n{tab}apt-get install -y {pkgs}; \\\n{tab}echo done",
        f"RUN <<EOF\nset -e\napt-get install -y {pkgs}\nEOF",
        f"RUN --mount=type=cache,target=/var/cache/apt apt-get install -y {pkgs}",
        f"RUN apt-get install -y {pkgs} # trailing words",
        f"RUN if true; then apt-get install -y {pkgs}; fi",
        f"RUN apt-get install -y {pkgs} \\\n\n{tab}&& echo blank line above",
    ]
    return draw(st.sampled_from(forms))


@st.composite
def stages(draw: st.DrawFn, index: int) -> list[str]:
    platform = draw(st.sampled_from(("", "--platform=$BUILDPLATFORM ")))
    alias = draw(st.sampled_from(("", f" AS build{index}", f" as build{index}")))
    lines = [f"FROM {platform}{draw(st.sampled_from(IMAGES))}{alias}"]
    body = st.one_of(
        run_lines(),
        st.sampled_from(USERS).map(lambda u: f"USER {u}"),
        st.sampled_from(SECRET_ENV),
        st.sampled_from(LOOKALIKE_ENV),
        st.sampled_from(OTHER),
    )
    lines.extend(draw(st.lists(body, max_size=8)))
    return lines


@dataclass(frozen=True)
class Layout:
    """How a generated text is laid out as bytes."""

    crlf: bool
    bom: bool
    final_newline: bool

    def encode(self, lines: list[str]) -> bytes:
        text = "\n".join(lines) + ("\n" if self.final_newline else "")
        if self.crlf:
            text = text.replace("\n", "\r\n")
        return ("\ufeff" if self.bom else "").encode() + text.encode()


layouts = st.builds(Layout, st.booleans(), st.booleans(), st.booleans())


@st.composite
def dockerfiles(draw: st.DrawFn) -> bytes:
    head = draw(
        st.lists(
            st.sampled_from(("# syntax=docker/dockerfile:1", "# escape=`", "ARG BASE=alpine")),
            max_size=2,
            unique=True,
        )
    )
    lines = list(head)
    for index in range(draw(st.integers(1, 3))):
        lines.extend(draw(stages(index)))
    if draw(st.booleans()):  # keywords are case-insensitive
        lines = [
            line[:3].lower() + line[3:] if line[:3] in ("RUN", "ENV") else line for line in lines
        ]
    return draw(layouts).encode(lines)


# --- Kubernetes manifests ------------------------------------------------------------------


@dataclass(frozen=True)
class Anchor:
    name: str
    value: Any


@dataclass(frozen=True)
class Alias:
    name: str


@dataclass(frozen=True)
class Style:
    indent: int  # 2 or 4
    indented_sequences: bool  # "- " under its key, or flush with it
    flow_containers: bool  # containers as {name: a, image: b}
    comments: bool
    quote: str  # "", "'" or '"' for string scalars


def scalar(value: Any, style: Style) -> str:
    if isinstance(value, Alias):
        return f"*{value.name}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int):
        return str(value)
    text = str(value)
    plain_ok = text and not any(c in text for c in ":#{}[],&*!|>'\"%@`") and text.strip() == text
    if style.quote == "'" or not plain_ok:
        return "'" + text.replace("'", "''") + "'"
    if style.quote == '"':
        return '"' + text + '"'
    return text


def flow(value: Any, style: Style) -> str:
    if isinstance(value, Anchor):
        return f"&{value.name} {flow(value.value, style)}"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {flow(v, style)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(flow(v, style) for v in value) + "]"
    return scalar(value, style)


def block(value: dict[str, Any], level: int, style: Style) -> list[str]:
    """A block mapping at ``level`` spaces."""
    pad, out = " " * level, []
    for key, item in value.items():
        anchor = ""
        if isinstance(item, Anchor):
            anchor, item = f" &{item.name}", item.value
        if isinstance(item, dict) and item:
            out.append(f"{pad}{key}:{anchor}")
            out.extend(block(item, level + style.indent, style))
        elif isinstance(item, list) and item:
            out.append(f"{pad}{key}:{anchor}")
            out.extend(sequence(item, level + style.indent * style.indented_sequences, style, key))
        else:
            out.append(f"{pad}{key}:{anchor} {flow(item, style)}")
    return out


def sequence(items: list[Any], level: int, style: Style, key: str) -> list[str]:
    pad, out = " " * level, []
    for item in items:
        flat = key in ("containers", "initContainers") and style.flow_containers
        if isinstance(item, dict) and item and not flat:
            inner = block(item, level + 2, style)
            out.append(f"{pad}- {inner[0].lstrip()}")
            out.extend(inner[1:])
        else:
            out.append(f"{pad}- {flow(item, style)}")
    return out


def with_comments(lines: list[str], draw: st.DrawFn) -> list[str]:
    out = []
    for line in lines:
        where = draw(st.sampled_from(("", "", "", "above", "after")))
        if where == "above":
            out.append(" " * (len(line) - len(line.lstrip())) + "# note")
        out.append(line + ("  # why" if where == "after" else ""))
    return out


SECURITY = st.fixed_dictionaries(
    {},
    optional={
        "privileged": st.sampled_from((True, False)),
        "allowPrivilegeEscalation": st.sampled_from((True, False)),
        "runAsUser": st.sampled_from((0, 1000)),
        "runAsNonRoot": st.booleans(),
        "readOnlyRootFilesystem": st.booleans(),
        "capabilities": st.fixed_dictionaries(
            {},
            optional={
                "add": st.lists(st.sampled_from(("NET_ADMIN", "SYS_ADMIN", "NET_BIND_SERVICE"))),
                "drop": st.sampled_from((["ALL"], ["NET_RAW"], [])),
            },
        ),
        "seccompProfile": st.sampled_from(({"type": "Unconfined"}, {"type": "RuntimeDefault"})),
        "procMount": st.just("Unmasked"),
    },
)
ENV_ITEMS: tuple[dict[str, Any], ...] = (
    {"name": "DB_PASSWORD", "value": "s3cr3t-Pa55"},
    {"name": "LOG_LEVEL", "value": "debug"},
    {"name": "API_KEY", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}},
    {"name": "GITHUB_TOKEN", "value": "ghp_16C7e42F292c6912E7710c838347Ae178B4a"},
    {"name": "PASSWORD_FILE", "value": "/run/secrets/db"},
)
ENV = st.lists(
    st.sampled_from(ENV_ITEMS),
    max_size=3,
    unique_by=lambda e: e["name"],
)
CONTAINER_IMAGES = ("nginx", "nginx:latest", "busybox:1.36", f"redis@{DIGEST}", "alpine", "app")


@st.composite
def containers(draw: st.DrawFn, prefix: str) -> dict[str, Any]:
    c: dict[str, Any] = {"name": f"{prefix}{draw(st.integers(0, 9))}"}
    c["image"] = draw(st.sampled_from(CONTAINER_IMAGES))
    if draw(st.booleans()):
        c["securityContext"] = draw(SECURITY)
    env = draw(ENV)
    if env:
        c["env"] = env
    if draw(st.booleans()):
        c["ports"] = [{"containerPort": 8080}]
    if draw(st.booleans()):
        c["volumeMounts"] = [{"name": "data", "mountPath": "/data"}]
    if draw(st.booleans()):
        c["args"] = ["-c", "echo hi"]
    return c


@st.composite
def pod_specs(draw: st.DrawFn) -> dict[str, Any]:
    pod: dict[str, Any] = {}
    for key in ("hostPID", "hostIPC", "hostNetwork"):
        if draw(st.integers(0, 3)) == 0:
            pod[key] = draw(st.booleans())
    if draw(st.booleans()):
        pod["securityContext"] = draw(
            st.sampled_from(({"runAsUser": 0}, {"runAsNonRoot": True}, {"fsGroup": 2000}, {}))
        )
    main = draw(st.lists(containers("c"), min_size=1, max_size=3))
    if len(main) > 1 and draw(st.booleans()):  # anchors and aliases
        first, second = main[0], main[1]
        if "securityContext" in first and draw(st.booleans()):
            first["securityContext"] = Anchor("sc", first["securityContext"])
            second["securityContext"] = Alias("sc")
        else:
            main[0] = Anchor("base", first)  # type: ignore[call-overload]
            main[1] = {"<<": Alias("base"), "name": "merged"}
    pod["containers"] = main
    if draw(st.booleans()):
        pod["initContainers"] = [draw(containers("init"))]
    if draw(st.booleans()):
        pod["volumes"] = [{"name": "data", "emptyDir": {}}]
        if draw(st.booleans()):
            pod["volumes"].append({"name": "sock", "hostPath": {"path": "/var/run/docker.sock"}})
    return pod


WRAPPERS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "Pod": lambda pod: {"apiVersion": "v1", "kind": "Pod", "spec": pod},
    "Deployment": lambda pod: {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "spec": {"selector": {"matchLabels": {"app": "x"}}, "template": {"spec": pod}},
    },
    "StatefulSet": lambda pod: {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "spec": {"serviceName": "x", "template": {"metadata": {}, "spec": pod}},
    },
    "DaemonSet": lambda pod: {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "spec": {"template": {"spec": pod}},
    },
    "Job": lambda pod: {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "spec": {"template": {"spec": pod}},
    },
    "CronJob": lambda pod: {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "spec": {"schedule": "*/5 * * * *", "jobTemplate": {"spec": {"template": {"spec": pod}}}},
    },
    "List": lambda pod: {
        "apiVersion": "v1",
        "kind": "List",
        "items": [{"apiVersion": "v1", "kind": "Pod", "spec": pod}],
    },
}
OTHER_DOCS: tuple[dict[str, Any], ...] = (
    {"apiVersion": "v1", "kind": "ConfigMap", "data": {"password": "s3cr3t", "mode": "x"}},
    {"apiVersion": "v1", "kind": "Service", "spec": {"ports": [{"port": 80}]}},
    {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "images": [{"name": "nginx", "newTag": "latest"}],
    },
)


@st.composite
def manifests(draw: st.DrawFn) -> bytes:
    style = Style(
        indent=draw(st.sampled_from((2, 4))),
        indented_sequences=draw(st.booleans()),
        flow_containers=draw(st.integers(0, 3)) == 0,
        comments=draw(st.booleans()),
        quote=draw(st.sampled_from(("", "", "'", '"'))),
    )
    docs = []
    for _ in range(draw(st.integers(1, 3))):
        doc: dict[str, Any]
        if draw(st.integers(0, 4)) == 0:
            doc = dict(draw(st.sampled_from(OTHER_DOCS)))
        else:
            kind = draw(st.sampled_from(sorted(WRAPPERS)))
            doc = WRAPPERS[kind](draw(pod_specs()))
            doc = {"apiVersion": doc.pop("apiVersion"), "kind": doc.pop("kind"),
                   "metadata": {"name": "x"}, **doc}  # fmt: skip
        lines = block(doc, 0, style)
        docs.append(with_comments(lines, draw) if style.comments else lines)
    lines = []
    for index, doc_lines in enumerate(docs):
        if index or draw(st.integers(0, 3)) == 0:
            lines.append("---")
        lines.extend(doc_lines)
    return draw(layouts).encode(lines)


# --- regressions ---------------------------------------------------------------------------
# Inputs the fuzzer once broke (each was a rule bug, fixed since): kept as plain tests.

POD = b"apiVersion: v1\nkind: Pod\nspec:\n  containers:\n"
REGRESSIONS = [
    pytest.param(
        POD + b"  - name: a\n    securityContext: &sc {}\n  - name: b\n    securityContext: *sc\n",
        Settings(),
        id="anchored-empty-securityContext",
    ),
    pytest.param(
        POD + b"  - name: a\n    securityContext:\n      capabilities: {add: [SYS_ADMIN]}\n",
        Settings(),
        id="flow-capabilities-add",
    ),
    pytest.param(
        POD + b"  - name: a\n    securityContext:\n      capabilities:\n        add:\n"
        b"        - SYS_ADMIN",
        Settings.of(profile="baseline"),
        id="trailing-add-without-final-newline",
    ),
    pytest.param(
        b"FROM alpine\n\nENV GITHUB_TOKEN=ghp_16C7e42F292c6912E7710c838347Ae178B4a",
        Settings.of(select=frozenset({"DF004"})),
        id="last-env-after-blank-line-without-final-newline",
    ),
]


@pytest.mark.parametrize(("data", "settings_"), REGRESSIONS)
def test_regressions(data: bytes, settings_: Settings) -> None:
    kind = "dockerfile" if data.startswith(b"FROM") else "kubernetes"
    check_properties(data, kind, settings_)


# --- the properties ------------------------------------------------------------------------

RULE_IDS = ("DF001", "DF002", "DF003", "DF004", "K8S001", "K8S002", "K8S003", "K8S004", "K8S005")
SETTINGS = st.builds(
    Settings.of,
    # One rule alone too: another rule's edit can hide a bug (a line added after it).
    select=st.one_of(st.none(), st.sets(st.sampled_from(RULE_IDS), min_size=1).map(frozenset)),
    profile=st.sampled_from(("baseline", "restricted", "strict")),
    safe_only=st.booleans(),
)


def fix(data: bytes, kind: str, settings_: Settings) -> FileResult:
    return process_text(
        Path("app") / ("Dockerfile" if kind == "dockerfile" else "deploy.yaml"),
        kind,
        SourceText.decode(data),
        settings_,
        rules=RULES,
        fix=True,
        resolutions=RESOLUTIONS,
        pinning=True,
    )


def check_properties(data: bytes, kind: str, settings_: Settings) -> None:
    result = fix(data, kind, settings_)  # must not raise
    assert result.error is None or result.error.startswith(CLEAR_ERRORS), result.error
    assert collateral(result) == [], collateral(result)
    if not result.changed:
        return
    assert result.source is not None
    new = result.source.encode(result.text)
    assert new.startswith(b"\xef\xbb\xbf") == data.startswith(b"\xef\xbb\xbf")
    assert new.endswith(b"\n") == data.endswith(b"\n")
    again = fix(new, kind, settings_)
    assert again.error is None, again.error
    assert not again.changed, f"not idempotent:\n{result.text}\n---- became ----\n{again.text}"
    old_text = result.source.text
    if kind == "dockerfile":
        before = dockerfile.parse(result.source).stages
        after = dockerfile.parse(SourceText(result.text)).stages
        assert len(before) == len(after)
        assert dockerfile_problems(old_text, result.text) == []
    else:
        assert len(yaml_documents(old_text)) == len(yaml_documents(result.text))
        assert yaml_problems(old_text, result.text, profile=settings_.kubernetes.profile) == []


@FUZZ
@given(data=dockerfiles(), settings_=SETTINGS)
def test_fuzz_dockerfiles(data: bytes, settings_: Settings) -> None:
    check_properties(data, "dockerfile", settings_)


@FUZZ
@given(data=manifests(), settings_=SETTINGS)
def test_fuzz_manifests(data: bytes, settings_: Settings) -> None:
    yaml_documents(SourceText.decode(data).text)  # the generator only makes valid YAML
    check_properties(data, "kubernetes", settings_)
