"""What a stage is built on: the base image behind stage aliases, its distro family, and
the ARG/ENV values visible in a stage."""

from __future__ import annotations

import re
from enum import Enum
from functools import lru_cache

from fixer.documents.dockerfile.model import Dockerfile, Instruction, Stage
from fixer.documents.dockerfile.words import _PAIRS as _KEY_VALUES
from fixer.documents.dockerfile.words import KeyValue, key_values, unquote, words


class Family(Enum):
    DEBIAN = "debian"  # Debian, Ubuntu and images built on them
    ALPINE = "alpine"  # Alpine, BusyBox, Wolfi: addgroup/adduser
    RHEL = "rhel"  # RHEL, UBI, CentOS, Fedora, Rocky, Alma, Amazon Linux, Oracle Linux
    DISTROLESS = "distroless"  # no shell, a built-in nonroot user 65532
    SCRATCH = "scratch"
    WINDOWS = "windows"
    UNKNOWN = "unknown"


_VAR = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?::?[-+][^}]*)?\}|([A-Za-z_][A-Za-z0-9_]*))")
_DEBIAN_TAGS = (
    "bookworm",
    "bullseye",
    "buster",
    "stretch",
    "trixie",
    "sid",
    "slim",
    "jammy",
    "focal",
    "noble",
    "bionic",
    "xenial",
    "debian",
    "ubuntu",
    "jessie",
)
_RHEL_NAMES = (
    "ubi",
    "centos",
    "fedora",
    "rockylinux",
    "almalinux",
    "amazonlinux",
    "oraclelinux",
    "rhel",
    "redhat",
    "cbl-mariner",
    "azurelinux",
    "photon",
    "clearlinux",
)
#: Official images whose default variant is Debian-based.
_DEBIAN_IMAGES = frozenset(
    [
        "debian",
        "ubuntu",
        "python",
        "node",
        "golang",
        "ruby",
        "php",
        "perl",
        "rust",
        "openjdk",
        "eclipse-temurin",
        "maven",
        "gradle",
        "nginx",
        "httpd",
        "redis",
        "postgres",
        "memcached",
        "buildpack-deps",
        "gcc",
        "elixir",
        "erlang",
        "haskell",
        "julia",
        "r-base",
        "rabbitmq",
        "mongo",
        "mariadb",
        "wordpress",
        "drupal",
        "ghost",
        "tomcat",
        "jetty",
        "haproxy",
        "traefik",
        "sonarqube",
        "jenkins/jenkins",
        "mcr.microsoft.com/dotnet/sdk",
        "mcr.microsoft.com/dotnet/aspnet",
        "mcr.microsoft.com/dotnet/runtime",
        "mcr.microsoft.com/dotnet/runtime-deps",
        "mcr.microsoft.com/devcontainers/base",
        "mcr.microsoft.com/vscode/devcontainers/base",
        "jupyter/base-notebook",
        "jupyter/minimal-notebook",
        "quay.io/jupyter/base-notebook",
        "selenium/base",
        "gcr.io/google.com/cloudsdktool/cloud-sdk",
        "google/cloud-sdk",
    ]
)


def stage_variables(doc: Dockerfile, stage: Stage) -> dict[str, str]:
    """ARG defaults (global ones re-declared in the stage, and the stage's own) and ENV.

    Worked out once per stage (a stage belongs to one document); a copy is returned."""
    known: dict[str, str] | None = stage.__dict__.get("_variables")
    if known is None:
        known = _stage_variables(doc, stage)
        stage.__dict__["_variables"] = known
    return dict(known)


def _stage_variables(doc: Dockerfile, stage: Stage) -> dict[str, str]:
    defaults = global_args(doc)
    values: dict[str, str] = {}
    for ins in stage.body:
        if ins.keyword in ("ARG", "ENV"):
            for key, value in _pairs(ins):
                if value is not None:
                    values[key] = expand(value, values) or value
                elif key in defaults:
                    values[key] = defaults[key]
    return values


def _pairs(ins: Instruction) -> list[tuple[str, str | None]]:
    """``(key, value)`` of each pair of an ENV/ARG, as ``key_values`` reads them, without
    their spans: stage variables are the first (and mostly the only) reader of most ENV and
    ARG lines, and the spans (three per pair, over a table of the instruction's offsets)
    cost more than the pairs. ``key_values``' answer is used when it is known already."""
    known = ins.__dict__.get(_KEY_VALUES)
    if known is not None:
        return [(kv.key, kv.value) for kv in known]
    text = ins.value
    spans = words(text, ins.flag_end() if ins.keyword != "ENV" else 0)
    if not spans:
        return []
    first = text[spans[0][0] : spans[0][1]]
    if ins.keyword == "ENV" and "=" not in first:
        # Legacy `ENV key value...`: the value is the rest of the arguments.
        if len(spans) == 1:
            return []
        return [(first, unquote(text[spans[1][0] : spans[-1][1]]))]
    out: list[tuple[str, str | None]] = []
    for s, e in spans:
        word = text[s:e]
        key, eq, _ = word.partition("=")
        out.append((key, unquote(word[len(key) + 1 :]) if eq else None))
    return out


def global_arg_pairs(doc: Dockerfile) -> dict[str, KeyValue]:
    """The last default of each ARG declared before the first FROM (usable in FROM lines),
    with its spans."""
    out: dict[str, KeyValue] = {}
    for ins in doc.instructions:
        if ins.keyword == "FROM":
            break
        if ins.keyword == "ARG":
            out.update({kv.key: kv for kv in key_values(ins) if kv.value is not None})
    return out


def global_args(doc: Dockerfile) -> dict[str, str]:
    """Defaults of ARGs declared before the first FROM, as values."""
    return {key: kv.value for key, kv in global_arg_pairs(doc).items() if kv.value is not None}


def expand(value: str, variables: dict[str, str]) -> str | None:
    """``value`` with ``$X``/``${X}`` replaced; None when a variable has no known value."""
    missing = False

    def sub(m: re.Match[str]) -> str:
        nonlocal missing
        name = m.group(1) or m.group(2)
        if name in variables:
            return variables[name]
        default = re.match(r"\$\{[A-Za-z_][A-Za-z0-9_]*:?-([^}]*)\}", m.group(0))
        if default:
            return default.group(1)
        missing = True
        return ""

    out = _VAR.sub(sub, value)
    return None if missing else out


def root_image(doc: Dockerfile, stage: Stage) -> str:
    """The external image a stage is ultimately built on (following ``FROM <stage>``).

    Worked out once per stage (a stage belongs to one document): DF001 and DF003 ask."""
    known: str | None = stage.__dict__.get("_root_image")
    if known is None:
        known = _root_image(doc, stage)
        stage.__dict__["_root_image"] = known
    return known


def _root_image(doc: Dockerfile, stage: Stage) -> str:
    by_name = {s.name.lower(): s for s in doc.stages if s.name}
    seen: set[int] = set()
    current = stage
    while current.image.lower() in by_name and current.index not in seen:
        seen.add(current.index)
        parent = by_name[current.image.lower()]
        if parent.index >= current.index:
            break
        current = parent
    return expand(current.image, global_args(doc)) or current.image


def family_of(image: str, doc: Dockerfile | None = None) -> Family:
    """Best guess of the distro family from the image name and tag."""
    family, by_name = _image_family(image.lower())
    if not by_name and doc is not None and _windows_document(doc):
        return Family.WINDOWS
    return family


@lru_cache(maxsize=4096)
def _image_family(ref: str) -> tuple[Family, bool]:
    """The family the (lower-case) reference names, and whether its name settles it
    (scratch, a Windows image) before the document is asked: a pure answer, remembered
    (every Dockerfile asks for its base image twice, and most bases recur)."""
    if ref == "scratch":
        return Family.SCRATCH, True
    name, tag = split_tag(ref)
    if _is_windows(name, tag, None):
        return Family.WINDOWS, True
    if "distroless" in name or (name.startswith("cgr.dev/chainguard/") and "wolfi" not in name):
        return Family.DISTROLESS, False
    last = name.rsplit("/", 1)[-1]
    if "alpine" in tag or last in ("alpine", "busybox", "wolfi-base") or "alpine" in last:
        return Family.ALPINE, False
    if any(n in name for n in _RHEL_NAMES) or any(
        t in tag for t in ("ubi", "centos", "oraclelinux", "azurelinux", "cbl-mariner")
    ):
        return Family.RHEL, False
    if any(t in tag for t in _DEBIAN_TAGS) or last in ("debian", "ubuntu"):
        return Family.DEBIAN, False
    if name.removeprefix("docker.io/").removeprefix("library/") in _DEBIAN_IMAGES:
        return Family.DEBIAN, False
    return Family.UNKNOWN, False


def split_tag(ref: str) -> tuple[str, str]:
    """``(name, tag)`` of an image reference; the digest is dropped, the tag may be ''."""
    ref = ref.partition("@")[0]
    head, _, last = ref.rpartition("/")
    if ":" in last:
        last, _, tag = last.partition(":")
        return (f"{head}/{last}" if head else last), tag
    return ref, ""


def _is_windows(name: str, tag: str, doc: Dockerfile | None) -> bool:
    if any(
        w in name or w in tag
        for w in ("nanoserver", "windowsservercore", "/windows/", "windows/servercore")
    ):
        return True
    return doc is not None and _windows_document(doc)


def _windows_document(doc: Dockerfile) -> bool:
    """A backtick escape or a Windows shell (PowerShell Core, `pwsh`, runs on Linux too);
    worked out once per document."""
    known: bool | None = doc.__dict__.get("_windows")
    if known is None:
        known = doc.escape == "`" or any(
            ins.keyword == "SHELL"
            and re.match(r'\s*\[\s*"(?:powershell|cmd)(?:\.exe)?"', ins.value, re.IGNORECASE)
            for ins in doc.instructions
        )
        doc.__dict__["_windows"] = known
    return known
