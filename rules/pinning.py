"""DF002 and K8S003: image references that are not pinned to a digest.

Both rules name the references they want pinned through ``references``; the session resolves
every reference of the run at once (lockfile first, then the registries) and fills
``ctx.resolutions`` before any fix is built. ``check`` never asks a registry, so there the
findings are ``pending``: fixable by ``tighten fix``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from fixer.documents import yaml as y
from fixer.documents.dockerfile import Dockerfile, KeyValue, Stage
from fixer.documents.dockerfile.images import expand, global_arg_pairs, global_args
from fixer.documents.yaml import Node, YamlFile, kube
from fixer.documents.yaml.edit import insert_into_mapping, replace_scalar, value_span
from fixer.model import Edit, Finding, Safety, Span
from fixer.registry.reference import InvalidReference, Reference, pin_text
from fixer.rule import Context, ReferenceAt, Resolution, Rule, Severity
from fixer.settings import PinPolicy

#: The digest the documentation examples are written with (the doc test resolves every
#: reference to it, with no version tag).
EXAMPLE_DIGEST = "sha256:" + "0123456789abcdef" * 4

_WHOLE_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")
_KUSTOMIZE_KINDS = frozenset({"Kustomization", "Component"})

#: Builds the edits of a fix from the digest and the reference to write.
EditsFor = Callable[[str, str], Sequence[Edit]]


def parse_reference(text: str) -> Reference | None:
    """The parsed reference, or None for text that is not one. Remembered: the same few
    images recur across a repository's files (5,852 references, 421 distinct texts over
    the corpus), and a ``Reference`` is a frozen value."""
    try:
        return _PARSED[text]
    except KeyError:
        pass
    try:
        ref: Reference | None = Reference.parse(text)
    except InvalidReference:
        ref = None  # a variable, a template or a typo: nothing a registry can answer
    if len(text) <= _PARSED_LENGTH and len(_PARSED) < _PARSED_SIZE:
        _PARSED[text] = ref
    return ref


#: Parsed references by text, at most this many this long (bounded memory per worker; a
#: valid reference is shorter).
_PARSED_SIZE = 20_000
_PARSED_LENGTH = 512
_PARSED: dict[str, Reference | None] = {}


def is_unpinned(ref: Reference, pin: PinPolicy) -> bool:
    """No digest, and a tag that moves: ``latest``/none, or any tag with ``--pin all``."""
    return ref.digest is None and (pin is PinPolicy.ALL or ref.tag in (None, "latest"))


def pinned_text(ref: Reference, res: Resolution, digest: str) -> str:
    """What to write: always ``name:tag@digest`` (the version tag found, else the user's
    tag, ``latest`` for none), so Renovate and Dependabot can keep the pin current. Built
    here from the answer's tag and digest, never copied, and checked to read back as that
    one reference; raises ``InvalidReference`` otherwise."""
    return pin_text(ref, digest, res.tag)


def pin_finding(
    rule: Rule[Any],
    ctx: Context[Any],
    ref: Reference,
    anchor: Span,
    message: str,
    edits_for: EditsFor,
) -> Finding:
    """The finding for one unpinned reference: pending in ``check``, fixed with the
    registry's answer in ``fix``, not fixable (with the registry's reason) when it failed."""
    if not ctx.pinning:
        return ctx.finding(rule, anchor, message, pending=True)
    res = ctx.resolutions.get(str(ref))
    if res is None or res.error or not res.digest:
        why = res.error if res is not None and res.error else "no answer for this image"
        return ctx.finding(rule, anchor, message, reason=f"registry: {why}")
    try:
        pinned = pinned_text(ref, res, res.digest)
    except InvalidReference as exc:
        # Defence in depth: a lockfile or registry answer must never add text to the file.
        return ctx.finding(rule, anchor, message, reason=f"registry: {exc.reason}")
    # A platform's own manifest narrows a multi-arch image to one architecture.
    safety = Safety.PROVEN if ctx.settings.pinning.platform else rule.safety
    return ctx.finding(
        rule,
        anchor,
        message,
        edits=edits_for(res.digest, pinned),
        title=f"pin {ref} to {pinned}",
        safety=safety,
    )


def _replace_at(span: Span) -> EditsFor:
    return lambda _digest, pinned: [Edit(span, pinned)]


# --- DF002 --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Base:
    """An unpinned base image and the exact text that holds it (inside any quotes)."""

    stage: Stage
    ref: Reference
    text_span: Span
    arg: str | None = None  # the global ARG whose default is the image


class UnpinnedBaseImage(Rule[Dockerfile]):
    """Base image not pinned to a digest.

    ## What it does
    Finds `FROM` instructions whose image has no tag or the `latest` tag, and no digest
    (with `--pin all`, any tag without a digest), and pins them to the digest the registry
    serves for that tag today. Build stages (`FROM build`), `scratch` and references that
    already carry a digest are left alone. `FROM ${BASE}` whose global `ARG BASE=...` default
    is an unpinned image pins the `ARG`'s default in place; images assembled from several
    variables (`${REGISTRY}/app:${TAG}`) or from an `ARG` without a default are skipped.

    ## Why is this bad?
    A tag is a pointer that the image's publisher moves: `latest` today is not `latest`
    tomorrow, so two builds of the same commit can ship different operating systems and
    libraries, and a compromised or broken upload reaches you on the next build. A digest
    names exactly one image; updates then arrive as reviewable diffs (Renovate and
    Dependabot update digests).

    ## Example
    ```dockerfile
    FROM golang:latest AS build
    COPY . /src
    RUN cd /src && go build -o /app .

    FROM --platform=linux/amd64 alpine
    COPY --from=build /app /app
    ```
    Use instead:
    ```dockerfile
    FROM golang:latest@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef AS build
    COPY . /src
    RUN cd /src && go build -o /app .

    FROM --platform=linux/amd64 alpine:latest@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
    COPY --from=build /app /app
    ```
    A tag is always written beside the digest: the version tag that points at the same
    digest when the registry has one (`golang:1.23.4@sha256:...`), else the tag you wrote
    (`latest` for an untagged image). The pin stays readable, and Renovate and Dependabot
    (which cannot update a digest without a tag) keep both up to date.

    ## Fix safety
    Safe: the digest is the one the tag points at when the fix runs, so the next build uses
    the same image it would have used anyway; only later moves of the tag stop arriving
    silently. With `--platform` the digest of that platform's manifest is written instead of
    the multi-platform index, which narrows the image to one architecture: that fix needs
    review. Only the image word changes (`--platform=` flags and `AS name` are kept). A
    reference the registry cannot resolve is reported and never touched. Build arguments
    given on the command line (`--build-arg BASE=...`) still override a pinned `ARG` default.
    """

    id = "DF002"
    name = "unpinned-base-image"
    target = "dockerfile"
    summary = "FROM :latest / untagged -> digest"
    safety = Safety.SAFE
    aliases = ("DL3006", "DL3007", "CKV_DOCKER_7")
    severity = Severity.WARNING
    security_severity = 3.0
    risk = (
        "The base image is pinned to a digest, so it no longer picks up updates by itself: "
        "let a bot (Renovate, Dependabot) update the digest."
    )

    def check(self, ctx: Context[Dockerfile]) -> Iterator[Finding]:
        for base in _bases(ctx):
            what = f"{base.ref} (ARG {base.arg})" if base.arg else str(base.ref)
            yield pin_finding(
                self,
                ctx,
                base.ref,
                base.stage.image_span,
                f"base image {what} is not pinned to a digest",
                _replace_at(base.text_span),
            )

    def references(self, ctx: Context[Dockerfile]) -> Iterator[ReferenceAt]:
        for base in _bases(ctx):
            yield ReferenceAt(str(base.ref), base.stage.image_span)


def _bases(ctx: Context[Dockerfile]) -> Iterator[_Base]:
    args = global_arg_pairs(ctx.doc)
    earlier: set[str] = set()
    for stage in ctx.doc.stages:
        base = _base(ctx, stage, args, earlier)
        if base is not None:
            yield base
        if stage.name:
            earlier.add(stage.name.lower())


def _base(
    ctx: Context[Dockerfile], stage: Stage, args: dict[str, KeyValue], earlier: set[str]
) -> _Base | None:
    image, span, arg = stage.image, stage.image_span, None
    whole = _WHOLE_VAR.fullmatch(image)
    if whole:
        arg = whole.group(1) or whole.group(2)
        kv = args.get(arg)
        if kv is None or kv.value is None or kv.value_span is None:
            return None  # no default: the image comes from the build command
        image, found = kv.value, _unquoted(ctx.doc.text, kv.value_span, kv.value)
        if found is None or "$" in image:
            _notice_built(ctx, stage)
            return None
        span = found
    elif "$" in image:
        _notice_built(ctx, stage)
        return None
    elif ctx.doc.text[span.start : span.end] != image:
        return None  # the word is split by a line continuation: not one editable range
    if image.lower() == "scratch" or image.lower() in earlier:
        return None
    ref = parse_reference(image)
    if ref is None or not is_unpinned(ref, ctx.settings.pinning.pin):
        return None
    return _Base(stage, ref, span, arg)


def _unquoted(text: str, span: Span, value: str) -> Span | None:
    """The span of ``value`` inside its raw text (quotes kept outside); None when escapes
    or continuations make the raw text differ from the value."""
    raw = text[span.start : span.end]
    if raw == value:
        return span
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "\"'" and raw[1:-1] == value:
        return Span(span.start + 1, span.end - 1)
    return None


def _notice_built(ctx: Context[Dockerfile], stage: Stage) -> None:
    """An image assembled from variables cannot be pinned in place: say so once."""
    expanded = expand(stage.image, global_args(ctx.doc))
    ref = parse_reference(expanded) if expanded else None
    if ref is None or not is_unpinned(ref, ctx.settings.pinning.pin):
        return
    note = (
        f"DF002: FROM at line {stage.from_.line} builds {ref} from variables; "
        "pin it where the values are set"
    )
    if note not in ctx.notices:
        ctx.notices.append(note)


# --- K8S003 -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Image:
    """An unpinned image value; for a Kustomization entry, also its ``newTag`` key."""

    ref: Reference
    node: Node
    label: str
    entry: Node | None = None


class UnpinnedImage(Rule[YamlFile]):
    """Container image not pinned to a digest.

    ## What it does
    Finds the `image` of containers, init containers and ephemeral containers in every
    workload kind (Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob, ...,
    items of a `List`) that has no tag or the `latest` tag, and no digest (with `--pin all`,
    any tag without a digest), and pins it to the digest the registry serves today. In a
    `Kustomization` (apiVersion `kustomize.config.k8s.io/*`), an `images` entry with
    `newTag: latest` gets a `digest:` beside its `newTag` (which becomes the version tag
    when one is found); Kustomize renders the two as `name:tag@digest`.

    ## Why is this bad?
    A tag moves: every node that pulls `nginx:latest` may run a different image, a rollback
    does not bring the old code back, and a compromised upload reaches the cluster on the
    next pod restart. A digest names exactly one image, so what was reviewed is what runs.

    ## Example
    ```yaml
    apiVersion: v1
    kind: Pod
    metadata:
      name: web
    spec:
      containers:
        - name: app
          image: "nginx:latest"
    ```
    Use instead:
    ```yaml
    apiVersion: v1
    kind: Pod
    metadata:
      name: web
    spec:
      containers:
        - name: app
          image: "nginx:latest@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
    ```
    A tag is always written beside the digest: the version tag that points at the same
    digest when the registry has one (`nginx:1.27.3@sha256:...`), else the tag you wrote
    (`latest` for an untagged image), so Renovate and Dependabot can keep the pin current.

    ## Fix safety
    Safe: the digest is the one the tag points at when the fix runs, so the next rollout
    starts the image it would have started anyway. (Without a `latest` tag Kubernetes'
    default `imagePullPolicy` becomes `IfNotPresent`, which for an immutable digest pulls the
    same bytes.) With `--platform` the digest of that platform's manifest is written, which
    narrows the image to one architecture: that fix needs review. The value keeps its quote
    style; a reference the registry cannot resolve is reported and never touched.
    Kustomization entries without `newTag` take their tag from the resources (checked
    there), so they are left alone.
    """

    id = "K8S003"
    name = "unpinned-image"
    target = "kubernetes"
    summary = "image :latest / untagged -> digest"
    safety = Safety.SAFE
    aliases = ("latest-tag", "CKV_K8S_14", "CKV_K8S_43")
    severity = Severity.WARNING
    security_severity = 3.0
    risk = (
        "Images are pinned to digests, so they no longer pick up updates by themselves: let a"
        " bot (Renovate, Dependabot) update the digests."
    )

    def check(self, ctx: Context[YamlFile]) -> Iterator[Finding]:
        for image in _images(ctx):
            yield pin_finding(
                self,
                ctx,
                image.ref,
                value_span(image.node, ctx.doc.text),
                f"{image.label} {image.ref} is not pinned to a digest",
                _image_edits(ctx, image),
            )

    def references(self, ctx: Context[YamlFile]) -> Iterator[ReferenceAt]:
        for image in _images(ctx):
            yield ReferenceAt(str(image.ref), value_span(image.node, ctx.doc.text))


def _images(ctx: Context[YamlFile]) -> Iterator[_Image]:
    pin = ctx.settings.pinning.pin
    for container in kube.all_containers(ctx.doc):
        node = y.get(container.node, "image")
        ref = _scalar_reference(node)
        if ref is not None and is_unpinned(ref, pin):
            yield _Image(ref, node, f"{container.label} image")
    for obj in kube.objects(ctx.doc):
        if obj.kind in _KUSTOMIZE_KINDS and obj.api_version.startswith("kustomize.config.k8s.io/"):
            yield from _kustomize_images(obj, pin)


def _scalar_reference(node: Node | None) -> Reference | None:
    if not y.is_scalar(node) or node.style in ("|", ">") or not isinstance(node.value, str):
        return None
    return parse_reference(node.value)


def _kustomize_images(obj: kube.KubeObject, pin: PinPolicy) -> Iterator[_Image]:
    """``images:`` entries that choose a moving tag (``newTag: latest``) and no digest."""
    entries = y.get(obj.node, "images")
    if not y.is_sequence(entries):
        return
    for index, entry in enumerate(entries.value):
        if not y.is_mapping(entry) or y.get(entry, "digest") is not None:
            continue
        name = y.scalar(y.get(entry, "newName")) or y.scalar(y.get(entry, "name"))
        tag_node, tag_key = y.get(entry, "newTag"), y.key_node(entry, "newTag")
        tag = y.scalar(tag_node)
        if not name or tag is None or tag_key is None or y.is_alias_of(tag_node, entry):
            continue
        ref = parse_reference(f"{name}:{tag}")
        if ref is not None and is_unpinned(ref, pin):
            label = f"{obj.kind} images[{index}]"
            yield _Image(ref, tag_node, label, entry)


def _image_edits(ctx: Context[YamlFile], image: _Image) -> EditsFor:
    def edits(digest: str, pinned: str) -> list[Edit]:
        if image.entry is None:
            return [replace_scalar(image.node, pinned, ctx.style, ctx.text)]
        # Kustomize (4.5.3 and later) renders `newTag` with `digest` as `name:tag@digest`:
        # the tag stays beside the digest (the version tag when one was found).
        tag = Reference.parse(pinned).tag
        found = [] if tag in (None, image.ref.tag) else [tag]
        return [
            *(replace_scalar(image.node, t, ctx.style, ctx.text) for t in found),
            insert_into_mapping(ctx.doc, image.entry, {"digest": digest}, ctx.style),
        ]

    return edits
