"""Image references per the Docker reference grammar (distribution/reference).

    reference  := name [ ":" tag ] [ "@" digest ]
    name       := [ domain "/" ] path-component [ "/" path-component ]*
    domain     := host [ ":" port ]    (first component with "." or ":", or "localhost")

A `Reference` keeps the name exactly as the user wrote it (`written_name`) so a pinned
rewrite changes only the tag/digest part: `nginx` stays `nginx`, never
`docker.io/library/nginx`. Equality includes that spelling (a reference is what the user
wrote); `canonical` identifies the image itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

DOCKER_HUB = "docker.io"
DOCKER_HUB_API = "registry-1.docker.io"
_HUB_ALIASES = frozenset({"index.docker.io"})
DEFAULT_TAG = "latest"
NAME_MAX = 255

_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|-+)"
_PATH_COMPONENT = re.compile(rf"{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*", re.ASCII)
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = re.compile(
    rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?",
    re.ASCII,
)
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,127}", re.ASCII)
_DIGEST = re.compile(r"[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+", re.ASCII)
_HEX_LENGTHS = {"sha256": 64, "sha384": 96, "sha512": 128}
_IMAGE_ID = re.compile(r"[a-f0-9]{64}", re.ASCII)


class InvalidReference(ValueError):
    """The text is not a valid image reference; the message says which part and why."""

    def __init__(self, text: str, reason: str):
        super().__init__(f"invalid image reference {text!r}: {reason}")
        self.text = text
        self.reason = reason


class _Keep(Enum):
    TAG = "keep"


KEEP_TAG = _Keep.TAG


def is_valid_tag(text: str) -> bool:
    """Up to 128 letters, digits, `_`, `.` or `-`, not starting with `.` or `-`."""
    return _TAG.fullmatch(text) is not None


def is_valid_digest(text: str) -> bool:
    """True for `algorithm:hex` digests, with the exact hex length for sha256/384/512."""
    if not _DIGEST.fullmatch(text):
        return False
    algorithm, _, encoded = text.partition(":")
    expected = _HEX_LENGTHS.get(algorithm)
    if expected is None:
        return len(encoded) >= 32
    return len(encoded) == expected and all(c in "0123456789abcdef" for c in encoded)


def is_registered_digest(text: str) -> bool:
    """A valid digest whose algorithm has a known length (sha256, sha384, sha512): what a
    lockfile may hold, since those are the only ones a registry computes."""
    return is_valid_digest(text) and text.partition(":")[0] in _HEX_LENGTHS


@dataclass(frozen=True)
class Reference:
    """A parsed reference. `registry` is canonical (`docker.io`), `repository` the full path
    on that registry (`library/nginx`); `written_name` is the name part as written."""

    registry: str
    repository: str
    tag: str | None = None
    digest: str | None = None
    written_name: str = ""

    @classmethod
    def parse(cls, text: str) -> Reference:
        _check_text(text)
        rest, at, digest = text.partition("@")
        if at and not is_valid_digest(digest):
            raise InvalidReference(text, f"invalid digest {digest!r} (expected sha256:<64 hex>)")
        name, tag = _split_tag(rest)
        if tag is not None and not _TAG.fullmatch(tag):
            raise InvalidReference(
                text,
                f"invalid tag {tag!r}: up to 128 letters, digits, '_', '.' or '-', "
                "not starting with '.' or '-'",
            )
        registry, path = _split_registry(text, name)
        return cls(registry, path, tag, digest or None, name)

    @property
    def name(self) -> str:
        """Canonical full name: `docker.io/library/nginx`."""
        return f"{self.registry}/{self.repository}"

    @property
    def canonical(self) -> str:
        """Canonical full reference; the identity of the image regardless of spelling."""
        return _render(self.name, self.tag, self.digest)

    @property
    def api_host(self) -> str:
        """The host that serves the registry API (`registry-1.docker.io` for Docker Hub)."""
        return DOCKER_HUB_API if self.registry == DOCKER_HUB else self.registry

    @property
    def lookup(self) -> str:
        """What to ask the registry for: the digest, else the tag (`latest` when absent)."""
        return self.digest or self.tag or DEFAULT_TAG

    def pinned(self, digest: str, tag: str | _Keep | None = KEEP_TAG) -> str:
        """The written name with `:tag@digest`; `tag=None` writes `name@digest`."""
        if not is_valid_digest(digest):
            raise ValueError(f"not a digest: {digest!r}")
        chosen = self.tag if tag is KEEP_TAG else tag
        return _render(self.written_name, chosen, digest)

    def __str__(self) -> str:
        return _render(self.written_name, self.tag, self.digest)


def written_tag(ref: Reference, found: str | None) -> str:
    """The tag to write beside a digest. Renovate and Dependabot cannot update a digest
    without a tag, so there always is one: the user's own version tag; for `latest` or no
    tag, the version tag `found` for the same digest, else the user's tag (`latest` when
    there was none)."""
    if ref.tag and ref.tag != DEFAULT_TAG:
        return ref.tag
    return found or ref.tag or DEFAULT_TAG


def pin_text(ref: Reference, digest: str, found: str | None) -> str:
    """`name:tag@digest` for `ref` (its name as written), checked to read back as exactly
    that one reference: the tag and digest may come from a lockfile or a registry, and
    this text goes into the user's file. Raises `InvalidReference` otherwise."""
    tag = written_tag(ref, found)
    text = _render(ref.written_name, tag, digest)
    try:
        back = Reference.parse(text)
    except InvalidReference as exc:
        raise InvalidReference(text, f"refused to write it: {exc.reason}") from None
    if (back.written_name, back.tag, back.digest) != (ref.written_name, tag, digest):
        raise InvalidReference(text, "refused to write it: it reads back as another reference")
    return text


def _render(name: str, tag: str | None, digest: str | None) -> str:
    return name + (f":{tag}" if tag else "") + (f"@{digest}" if digest else "")


def _check_text(text: str) -> None:
    if not text:
        raise InvalidReference(text, "empty")
    if "$" in text:
        raise InvalidReference(text, "contains a variable; it cannot be resolved")
    if any(c.isspace() for c in text):
        raise InvalidReference(text, "contains whitespace")
    if _IMAGE_ID.fullmatch(text):
        raise InvalidReference(text, "a 64-character hex string is an image ID, not a name")


def _split_tag(rest: str) -> tuple[str, str | None]:
    # A ":" after the last "/" starts the tag; an earlier one is a registry port.
    colon = rest.rfind(":")
    if colon > rest.rfind("/"):
        return rest[:colon], rest[colon + 1 :]
    return rest, None


def _split_registry(text: str, name: str) -> tuple[str, str]:
    if len(name) > NAME_MAX:
        raise InvalidReference(text, f"name longer than {NAME_MAX} characters")
    first, slash, remainder = name.partition("/")
    # Uppercase is invalid in paths, so an uppercase first component must be a host.
    is_host = slash and (
        any(c in first for c in ".:") or first == "localhost" or first.lower() != first
    )
    if is_host:
        if not _DOMAIN.fullmatch(first):
            raise InvalidReference(text, f"invalid registry host {first!r}")
        registry, path = first, remainder
    else:
        registry, path = DOCKER_HUB, name
    _check_path(text, path)
    if registry in _HUB_ALIASES:
        registry = DOCKER_HUB
    if registry == DOCKER_HUB and "/" not in path:
        path = f"library/{path}"
    return registry, path


def _check_path(text: str, path: str) -> None:
    for component in path.split("/"):
        if _PATH_COMPONENT.fullmatch(component):
            continue
        if not component:
            raise InvalidReference(text, "empty repository path component")
        if _PATH_COMPONENT.fullmatch(component.lower()):
            raise InvalidReference(text, "repository name must be lowercase")
        raise InvalidReference(
            text,
            f"invalid repository path component {component!r}: lowercase letters and "
            "digits, separated by '.', '_', '__' or '-'",
        )
