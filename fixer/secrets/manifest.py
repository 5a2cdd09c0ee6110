"""The generated Kubernetes Secret that holds values moved out of Dockerfiles and manifests.

Pure text in, text out. ruamel.yaml renders our own document (correct quoting, PEM blocks as
literal scalars) and is imported lazily, off the ``check`` path. A file that already exists
is never re-serialised as a whole: it is split into documents at ``---`` lines, only the
tighten-generated Secret with the same name/namespace is re-rendered, and every other byte
stays as the user wrote it.

Every value is written so that a YAML 1.1 loader (PyYAML, kubectl's sigs.k8s.io/yaml) reads
back exactly the string we were given: single-line values are always double-quoted (``yes``,
``1:20`` or ``012`` would otherwise become a bool or a number), multi-line values are literal
block scalars, and the result is loaded back and compared before it is returned.

Errors are ``SecretManifestError`` with messages that name documents and keys, never values.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ruamel.yaml import YAML

__all__ = [
    "MANAGED_BY_LABEL",
    "MANAGER",
    "PLACEHOLDER",
    "SOURCE_ANNOTATION",
    "SecretManifestError",
    "placeholder_manifest",
    "render_secret_manifest",
    "secret_key_for",
    "secret_name_for",
]

MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGER = "tighten"
SOURCE_ANNOTATION = "tighten.dev/source"  # where the values came from; comma-separated
PLACEHOLDER = "REPLACE_ME"
FALLBACK_NAME = "app-secrets"

_KEY = re.compile(r"[-._a-zA-Z0-9]+")
_LABEL = r"[a-z0-9](?:[-a-z0-9]*[a-z0-9])?"
_SUBDOMAIN = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")
_NAMESPACE = re.compile(_LABEL)
_DOC_START = re.compile(r"---(?:[ \t]|\r?\n|$)")
_DOC_END = re.compile(r"\.\.\.(?:[ \t]|\r?\n|$)")
_BARE_MARKER = re.compile(r"(?:---|\.\.\.)[ \t]*(?:#.*)?\r?\n?")


class SecretManifestError(ValueError):
    """The Secret cannot be written. The message never contains a secret value."""


# ----------------------------------------------------------------------------- names


def secret_name_for(base: str) -> str:
    """A DNS-1123 subdomain ``<base>-secrets`` from an image, folder or workload name.

    Paths and image references use their last component without tag or digest
    (``ghcr.io/acme/web:1.2`` -> ``web-secrets``); empty results fall back to ``app-secrets``.
    """
    last = re.split(r"[/\\]", base.strip().rstrip("/\\"))[-1]
    last = last.split("@", 1)[0].split(":", 1)[0]
    text = re.sub(r"[^a-z0-9.-]+", "-", last.lower())
    text = re.sub(r"-*\.[-.]*", ".", text)  # every dot-separated label starts/ends alnum
    text = re.sub(r"-{2,}", "-", text).strip(".-")
    suffix = "" if text.endswith(("secret", "secrets")) else "-secrets"
    text = text[: 253 - len(suffix)].rstrip(".-")
    return f"{text}{suffix}" if text else FALLBACK_NAME


def valid_secret_key(key: str) -> bool:
    """Kubernetes' rule for Secret and ConfigMap keys."""
    return (
        bool(_KEY.fullmatch(key))
        and len(key) <= 253
        and key not in (".", "..")
        and not (key.startswith(".."))
    )


def secret_key_for(env_name: str) -> str:
    """A valid Secret key for an environment variable name (invalid characters -> ``_``)."""
    key = re.sub(r"[^-._a-zA-Z0-9]", "_", env_name)[:253].lstrip(".")
    return key or "value"


def _check_target(name: str, namespace: str | None, keys: Iterable[str]) -> None:
    if len(name) > 253 or not _SUBDOMAIN.fullmatch(name):
        raise SecretManifestError(f"invalid Secret name {name!r} (need a DNS-1123 subdomain)")
    if namespace is not None and (len(namespace) > 63 or not _NAMESPACE.fullmatch(namespace)):
        raise SecretManifestError(f"invalid namespace {namespace!r} (need a DNS-1123 label)")
    for key in keys:
        if not valid_secret_key(key):
            raise SecretManifestError(f"invalid Secret key {key!r} (allowed: [-._a-zA-Z0-9]+)")


# ----------------------------------------------------------------------------- rendering


def _yaml() -> YAML:
    from ruamel.yaml import YAML

    yaml = YAML()  # round-trip: keeps comments of a generated Secret the user annotated
    yaml.width = 1 << 16  # never fold long tokens across lines
    yaml.preserve_quotes = True  # a merged file keeps "yes" quoted, so it stays a string
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def _plain(text: str) -> Any:
    """``text`` as ruamel should emit it so that a YAML 1.1 loader reads the same string."""
    import yaml
    from ruamel.yaml.scalarstring import DoubleQuotedScalarString

    try:
        same = yaml.load(text, Loader=yaml.CSafeLoader) == text
    except yaml.YAMLError:
        same = False
    return text if same else DoubleQuotedScalarString(text)


def _styled(value: str, literal: bool = True) -> Any:
    """Secret values: literal block for multi-line text, double quotes for everything else."""
    from ruamel.yaml.scalarstring import DoubleQuotedScalarString, LiteralScalarString

    printable = all(line.replace("\t", " ").isprintable() for line in value.split("\n"))
    if literal and "\n" in value and printable:
        return LiteralScalarString(value)
    return DoubleQuotedScalarString(value)


def _dump(document: Any) -> str:
    import io

    out = io.StringIO()
    _yaml().dump(document, out)
    return out.getvalue()


def _set_values(document: Any, data: Mapping[str, str], literal: bool) -> None:
    from ruamel.yaml.comments import CommentedMap

    if not isinstance(document.get("stringData"), dict):
        document["stringData"] = CommentedMap()
    for key, value in data.items():
        document["stringData"][_plain(key)] = _styled(value, literal)


def _reads_back(text: str, data: Mapping[str, str]) -> bool:
    import yaml

    try:
        loaded = yaml.load(text, Loader=yaml.CSafeLoader)
    except yaml.YAMLError:
        return False
    string_data = loaded.get("stringData") if isinstance(loaded, dict) else None
    return isinstance(string_data, dict) and all(string_data.get(k) == v for k, v in data.items())


def _render_values(document: Any, data: Mapping[str, str]) -> str:
    """Dump ``document`` with ``data`` set, proven to load back to exactly ``data``."""
    for literal in (True, False):  # literal blocks are the readable choice; quotes the safe one
        _set_values(document, data, literal)
        text = _dump(document)
        if _reads_back(text, data):
            return text
    raise SecretManifestError("internal error: rendered Secret does not load back unchanged")


def _header(source: str | None, placeholder: bool) -> str:
    origin = " ".join(source.split()) if source else "Dockerfiles and manifests"  # one line
    if placeholder:
        return (
            f"# Generated by tighten: the Secret that {origin} now expects, without values.\n"
            f"# Put the real values in the cluster, not here: each {PLACEHOLDER} marks one key.\n"
        )
    return (
        f"# Generated by tighten: secret values moved out of {origin}.\n"
        "# Keep this file out of version control; apply it before the workload.\n"
    )


def _new_document(name: str, namespace: str | None, source: str | None) -> Any:
    from ruamel.yaml.comments import CommentedMap

    metadata = CommentedMap(name=_plain(name))
    if namespace is not None:
        metadata["namespace"] = _plain(namespace)
    metadata["labels"] = CommentedMap({MANAGED_BY_LABEL: MANAGER})
    if source:
        metadata["annotations"] = CommentedMap({SOURCE_ANNOTATION: _plain(source)})
    document = CommentedMap(apiVersion="v1", kind="Secret", metadata=metadata)
    document["type"] = "Opaque"
    return document


def _add_source(document: Any, source: str | None) -> None:
    from ruamel.yaml.comments import CommentedMap

    if not source:
        return
    metadata = document["metadata"]
    if not isinstance(metadata.get("annotations"), dict):
        metadata["annotations"] = CommentedMap()
    known = str(metadata["annotations"].get(SOURCE_ANNOTATION) or "")
    sources = [s for s in (p.strip() for p in known.split(",")) if s]
    if source not in sources:
        metadata["annotations"][SOURCE_ANNOTATION] = _plain(", ".join([*sources, source]))


# ----------------------------------------------------------------------------- merging


def _segments(text: str) -> list[str]:
    """Split at document markers; ``"".join(result) == text``.

    A ``---`` or ``...`` line at column 0 always ends a document in YAML (it cannot occur
    inside a scalar), so a line scan finds the same boundaries a parser would.
    """
    segments: list[str] = []
    current: list[str] = []
    for line in text.splitlines(keepends=True):
        if _DOC_START.match(line) and current:
            segments.append("".join(current))
            current = []
        current.append(line)
        if _DOC_END.match(line):
            segments.append("".join(current))
            current = []
    if current:
        segments.append("".join(current))
    return segments


def _quiet_load(load: Callable[[], Any], message: str) -> Any:
    """Run a YAML load; on failure raise ``message`` alone.

    Parser errors quote the text, which may hold secrets: the original exception is neither
    chained nor kept as context, so no traceback or log line can show it.
    """
    with contextlib.suppress(Exception):
        return load()
    raise SecretManifestError(message)


def _identity(segment: str, number: int) -> tuple[str, str | None, bool] | None:
    """(name, namespace, managed by tighten) when the segment is a Secret, else None."""
    import yaml

    loaded = _quiet_load(
        lambda: yaml.load(segment, Loader=yaml.CSafeLoader),
        f"existing manifest: document {number} is not valid YAML",
    )
    if not isinstance(loaded, dict) or loaded.get("kind") != "Secret":
        return None
    metadata = loaded.get("metadata")
    if not isinstance(metadata, dict):
        return None
    labels = metadata.get("labels")
    managed = isinstance(labels, dict) and labels.get(MANAGED_BY_LABEL) == MANAGER
    return str(metadata.get("name")), metadata.get("namespace"), managed


def _split_markers(segment: str) -> tuple[str, str, str]:
    """(leading marker line, body, trailing marker line) so ruamel sees a bare document."""
    lines = segment.splitlines(keepends=True)
    head = lines.pop(0) if lines and _DOC_START.match(lines[0]) else ""
    tail = lines.pop() if lines and _DOC_END.match(lines[-1]) else ""
    if (head and not _BARE_MARKER.fullmatch(head)) or (tail and not _BARE_MARKER.fullmatch(tail)):
        raise SecretManifestError("existing Secret: content on a document marker line")
    return head, "".join(lines), tail


def _stored(document: Any, key: str) -> str | None:
    """The value the Secret holds for ``key`` (``stringData`` wins, as in the API server);
    None when absent. A ``data`` value that is not base64 of UTF-8 reads as ``\0``, which
    equals no value we write, so it is never replaced."""
    import base64
    import binascii

    for field_name in ("stringData", "data"):
        values = document.get(field_name)
        if not isinstance(values, dict) or key not in values:
            continue
        value = str(values[key] if values[key] is not None else "")
        if field_name == "stringData":
            return value
        try:
            return base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            return "\0"
    return None


def _new_values(document: Any, data: Mapping[str, str], where: str, mode: str) -> dict[str, str]:
    """The part of ``data`` to write: a key the Secret already holds keeps its value.

    ``mode`` "check": the same value again is fine (a re-run), a different one raises;
    "keep": existing keys are left alone (placeholders, masked previews). A stored
    ``REPLACE_ME`` is not a value, so a real one replaces it.
    """
    out: dict[str, str] = {}
    for key, value in data.items():
        stored = _stored(document, key)
        if stored is None or stored == PLACEHOLDER:
            out[key] = value
        elif mode == "check" and stored != value:
            raise SecretManifestError(
                f"{where} already holds key {key!r} with a different value; "
                "not overwriting it (rename one of the variables, or remove the old key)"
            )
    return out


def _merged_segment(
    segment: str, data: Mapping[str, str], source: str | None, where: str, mode: str
) -> str:
    head, body, tail = _split_markers(segment)
    newline = "\r\n" if "\r\n" in body else "\n"
    document = _quiet_load(
        lambda: _yaml().load(body.replace("\r\n", "\n")),
        "existing Secret could not be loaded for merging",
    )
    data = _new_values(document, data, where, mode)
    _add_source(document, source)
    text = _render_values(document, data)
    return head + text.replace("\n", newline) + tail


def _append(existing: str, rendered: str) -> str:
    """``existing`` untouched, then our document, in the file's newline style."""
    newline = "\r\n" if "\r\n" in existing else "\n"
    if not existing.strip():
        return rendered.replace("\n", newline)
    text = existing if existing.endswith("\n") else existing + newline
    return text + "---" + newline + rendered.replace("\n", newline)


def _merge(
    existing: str,
    name: str,
    namespace: str | None,
    data: Mapping[str, str],
    source: str | None,
    mode: str,
) -> str | None:
    """``existing`` with our Secret updated in place; None when the file has no such Secret."""
    segments = _segments(existing)
    for number, segment in enumerate(segments):
        identity = _identity(segment, number + 1)
        if identity is None or identity[:2] != (name, namespace):
            continue
        if not identity[2]:
            raise SecretManifestError(
                f"Secret {name!r} already exists and is not managed by tighten "
                f"(label {MANAGED_BY_LABEL}={MANAGER}); not overwriting it"
            )
        where = f"Secret {name!r}" + (f" in namespace {namespace!r}" if namespace else "")
        segments[number] = _merged_segment(segment, data, source, where, mode)
        return "".join(segments)
    return None


# ----------------------------------------------------------------------------- public


def render_secret_manifest(
    name: str,
    namespace: str | None,
    data: Mapping[str, str],
    existing: str | None = None,
    *,
    source: str | None = None,
    placeholder: bool = False,
    preview: bool = False,
) -> str:
    """The ``v1/Secret`` manifest holding ``data`` (as ``stringData``), as YAML text.

    With ``existing`` (the current text of the target file), returns that file updated: the
    tighten-managed Secret with the same name and namespace gets the new keys; without one,
    the Secret is appended as a new document. A value is never replaced by another: a key
    the Secret already holds with a different value raises ``SecretManifestError`` (the
    same value again, from a re-run, is fine). All other documents, comments and bytes are
    left exactly as they were. A Secret of the same name that tighten does not manage
    raises ``SecretManifestError``. ``source`` (e.g. the Dockerfile's path) is recorded in
    an annotation. ``placeholder`` and ``preview`` (masked values, for display) leave keys
    that already exist alone instead of comparing values.
    """
    _check_target(name, namespace, data)
    if existing is not None:
        mode = "keep" if placeholder or preview else "check"
        merged = _merge(existing, name, namespace, data, source, mode)
        if merged is not None:
            return merged
    document = _new_document(name, namespace, source)
    rendered = _header(source, placeholder) + _render_values(document, data)
    return rendered if existing is None else _append(existing, rendered)


def placeholder_manifest(
    name: str,
    namespace: str | None,
    keys: Iterable[str],
    existing: str | None = None,
    *,
    source: str | None = None,
) -> str:
    """The same Secret with every value replaced by ``REPLACE_ME``: safe to commit in a PR."""
    data = dict.fromkeys(keys, PLACEHOLDER)
    return render_secret_manifest(name, namespace, data, existing, source=source, placeholder=True)
