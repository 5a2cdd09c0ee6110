"""How the repository gets its Secrets into the cluster: evidence for DF004/K8S004 fixes.

A moved secret must reach the cluster the way the repository's other Secrets do. This module
reads, once per repository (the repository model's root), the few files that say how:

* Kustomizations: ``namespace``, ``namePrefix``, ``nameSuffix`` and what they include, so
  the generated Secret carries the namespace and final name the workload is rendered with;
* GitOps deployers (Flux ``Kustomization``/``GitRepository``, Argo CD ``Application``): they
  apply what is in git, never a git-ignored Secret;
* ``ExternalSecret`` objects: the Secret (``target.name``) and keys they already provide;
* ``.sops.yaml`` and ``SealedSecret`` objects (reported as the workflow a value should use).

Pure answers over a frozen ``Setup``; the only reads are in ``setup_of`` (cached per root).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

_K_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
_FLUX_KINDS = {
    ("kustomize.toolkit.fluxcd.io", "Kustomization"),
    ("source.toolkit.fluxcd.io", "GitRepository"),
}
_ARGO_KINDS = {("argoproj.io", "Application"), ("argoproj.io", "ApplicationSet")}
#: At most this many Kustomization chains are followed from one manifest (diamonds of
#: overlays multiply them; more than this is not a layout one Secret name can serve).
MAX_CHAINS = 32


@dataclass(frozen=True)
class Generator:
    """One ``secretGenerator`` entry of a Kustomization: the Secret it makes and from what."""

    name: str
    namespace: str | None
    envs: tuple[Path, ...]  # ``envs:`` files (and the legacy ``env:`` one), absolute
    literals: bool  # it has ``literals:`` (reported by K8S004, never edited)


@dataclass(frozen=True)
class Layer:
    """One Kustomization's name and namespace transformers, and what it includes."""

    path: Path
    namespace: str | None
    prefix: str
    suffix: str
    resources: tuple[Path, ...]
    generators: tuple[Generator, ...] = ()


@dataclass(frozen=True)
class ExternalSecret:
    """An ``ExternalSecret``: the Secret it creates and the keys it is known to fill."""

    path: Path
    line: int
    name: str
    namespace: str | None
    target: str | None  # spec.target.name; None: the ExternalSecret's own (rendered) name
    keys: tuple[str, ...]
    data_from: bool  # spec.dataFrom: keys decided by the remote store, unknown here
    remote_key: str | None  # remoteRef.key shared by every data entry that has a property


@dataclass(frozen=True)
class Deployer:
    """A GitOps object that applies a folder of this repository to a cluster."""

    path: Path
    line: int
    kind: str  # "Flux Kustomization", "Argo CD Application", ...
    folder: Path | None  # the deployed folder; None: not known (the whole repository)

    def __str__(self) -> str:
        return f"{self.kind} at {self.path}:{self.line}"


@dataclass(frozen=True)
class Setup:
    """The secret-workflow facts of one repository."""

    root: Path
    layers: tuple[Layer, ...]
    externals: tuple[ExternalSecret, ...]
    deployers: tuple[Deployer, ...]
    sops: Path | None
    sealed: tuple[Path, ...]

    @cached_property
    def including(self) -> dict[Path, list[Layer]]:
        """The layers that list each resource (a file, or a Kustomization's folder), in
        the order of ``layers``: a chain's next layers are looked up, not searched for
        among every Kustomization of the repository (quadratic in a monorepo)."""
        found: dict[Path, list[Layer]] = {}
        for layer in self.layers:
            for resource in dict.fromkeys(layer.resources):
                found.setdefault(resource, []).append(layer)
        return found

    @cached_property
    def by_path(self) -> dict[Path, Layer]:
        """Each layer by its Kustomization file."""
        return {layer.path: layer for layer in self.layers}

    @cached_property
    def externals_in(self) -> dict[str | None, list[tuple[ExternalSecret, Placement]]]:
        """The ``ExternalSecret`` objects rendered into each namespace, each with the
        Secret it fills there, in the order of ``externals``: placed once per repository,
        not again for every secret value asked about (quadratic in a monorepo)."""
        found: dict[str | None, list[tuple[ExternalSecret, Placement]]] = {}
        for external in self.externals:
            for place in placements(self, external.path, external.name, external.namespace):
                target = Placement(external.target or place.name, place.namespace, place.via)
                found.setdefault(place.namespace, []).append((external, target))
        return found


@dataclass(frozen=True)
class Placement:
    """Where a Secret named ``name`` in a manifest ends up once rendered."""

    name: str
    namespace: str | None
    via: tuple[Path, ...]  # the Kustomizations that rendered it, innermost first


_CACHE: dict[Path, Setup] = {}


def setup_of(repository: Any) -> Setup | None:
    """The facts of the repository the model scanned (None: no model in this run)."""
    if repository is None:
        return None
    root = Path(repository.root)
    if root not in _CACHE:
        _CACHE[root] = _scan(root, *repository.workflow_files())
    return _CACHE[root]


def _scan(root: Path, kustomizations: Sequence[Path], candidates: Sequence[Path]) -> Setup:
    """The facts, from the files the repository model's one walk found: Kustomizations,
    and the YAML files whose text may name a workflow kind (most of a repository is
    neither, and reading every file again cost more than the rest of K8S004)."""
    from fixer.repository import walk

    layers: list[Layer] = []
    externals: list[ExternalSecret] = []
    deployers: list[Deployer] = []
    sealed: list[Path] = []
    for path in kustomizations:
        if _test_resource(_parts(root, path)):
            continue
        text = walk.read_text(path)
        for node in _documents(text) if text else ():
            data = _plain(node)
            if isinstance(data, dict):
                layers.append(_layer(path, data))
            break
    for path in candidates:
        if _test_resource(_parts(root, path)):
            continue
        text = walk.read_text(path)
        if not text:
            continue
        documents = _documents(text)
        if not documents and "{{" in text:
            deployers += _templated_deployers(path, text)
        for node in documents:
            _classify(path, node, _plain(node), root, externals, deployers, sealed)
    sops = root / ".sops.yaml"
    return Setup(
        root,
        tuple(layers),
        tuple(externals),
        tuple(deployers),
        sops if sops.is_file() else None,
        tuple(dict.fromkeys(sealed)),
    )


def _parts(root: Path, path: Path) -> tuple[str, ...]:
    return Path(os.path.relpath(path, root)).parts


#: Top-level folders whose YAML is test input, never how the repository deploys itself
#: (an Argo CD Application in a test fixture deploys nothing of this repository).
_TEST_ROOTS = frozenset({"test", "tests", "e2e", "testing", "integration", "__tests__", "fixtures"})


def _test_resource(parts: tuple[str, ...]) -> bool:
    return len(parts) > 1 and parts[0].lower() in _TEST_ROOTS


# ``apiVersion: argoproj.io/v1alpha1`` then ``kind: Application`` (either order, a few
# lines apart) in a file that only a template engine can read.
_TEMPLATED_GITOPS = re.compile(
    r"^\s*apiVersion:\s*[\"']?(argoproj\.io|kustomize\.toolkit\.fluxcd\.io)/\S*"
    r"(?:\n.*){0,3}?\n\s*kind:\s*[\"']?(Application|ApplicationSet|Kustomization)\b",
    re.MULTILINE,
)


def _templated_deployers(path: Path, text: str) -> list[Deployer]:
    """GitOps objects in a Helm (or other) template: what they deploy is decided when the
    template is rendered, so they count as deploying any folder of the repository (an Argo
    CD "app of apps" chart listing the repository's examples)."""
    found = []
    for match in _TEMPLATED_GITOPS.finditer(text):
        group, kind = match.groups()
        if (group == "argoproj.io") != (kind != "Kustomization"):
            continue  # a Flux Kustomization is fluxcd's; Applications are Argo CD's
        tool = "Argo CD" if group == "argoproj.io" else "Flux"
        line = text.count("\n", 0, match.start()) + 1
        found.append(
            Deployer(path, line, f"{tool} {kind} (a template: its paths are not read)", None)
        )
    return found[:1]


def _documents(text: str) -> list[Any]:
    import yaml

    from fixer.documents import yaml as y
    from fixer.documents.yaml.kube import without_definitions

    text = without_definitions(text, keep_places=True)  # CRDs deploy nothing; lines kept
    try:
        docs = y.compose_all(text)  # libyaml with the memoised tag resolver
    except yaml.YAMLError:
        return []
    if y.may_alias(text) and any(y.expanded_size(d) > y.MAX_EXPANDED_NODES for d in docs):
        return []  # an alias bomb gives no evidence
    return docs


def _plain(node: Any) -> Any:
    """A composed node as plain Python values (strings, lists, dicts)."""
    import yaml

    if isinstance(node, yaml.MappingNode):
        return {_plain(k): _plain(v) for k, v in node.value if isinstance(k, yaml.ScalarNode)}
    if isinstance(node, yaml.SequenceNode):
        return [_plain(v) for v in node.value]
    return node.value


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _layer(path: Path, data: dict[str, Any]) -> Layer:
    resources = []
    for key in ("resources", "bases", "components"):
        for entry in data.get(key) or ():
            if isinstance(entry, str) and "://" not in entry and "github.com" not in entry:
                resources.append(Path(os.path.normpath(path.parent / entry)))
    return Layer(
        path,
        _text(data.get("namespace")),
        _text(data.get("namePrefix")) or "",
        _text(data.get("nameSuffix")) or "",
        tuple(resources),
        tuple(_generators(path, data.get("secretGenerator"))),
    )


def _generators(path: Path, entries: Any) -> Iterator[Generator]:
    """The ``secretGenerator`` entries that have a name; env file paths are relative to
    the Kustomization's folder (kustomize refuses ones outside it, so no check here)."""
    for entry in entries if isinstance(entries, list) else ():
        name = _text(entry.get("name")) if isinstance(entry, dict) else None
        if name is None:
            continue
        listed = entry.get("envs")
        files = [e for e in (listed if isinstance(listed, list) else ()) if _text(e)]
        if _text(entry.get("env")):  # kustomize's legacy single-file spelling
            files.append(entry["env"])
        envs = tuple(Path(os.path.normpath(path.parent / f)) for f in files)
        yield Generator(name, _text(entry.get("namespace")), envs, bool(entry.get("literals")))


def _classify(
    path: Path,
    node: Any,
    data: Any,
    root: Path,
    externals: list[ExternalSecret],
    deployers: list[Deployer],
    sealed: list[Path],
) -> None:
    if not isinstance(data, dict):
        return
    group = str(data.get("apiVersion") or "").split("/")[0]
    kind = str(data.get("kind") or "")
    line = node.start_mark.line + 1
    if kind == "SealedSecret" and group == "bitnami.com":
        sealed.append(path)
    elif kind == "ExternalSecret" and group == "external-secrets.io":
        externals.append(_external(path, line, data))
    elif (group, kind) in _FLUX_KINDS:
        spec = data.get("spec") or {}
        folder = _text(spec.get("path")) if kind == "Kustomization" else None
        if kind == "Kustomization":  # a GitRepository alone deploys nothing
            deployers.append(Deployer(path, line, f"Flux {kind}", _folder(root, folder)))
    elif (group, kind) in _ARGO_KINDS:
        deployers += [
            Deployer(path, line, f"Argo CD {kind}", _folder(root, f)) for f in _argo_paths(data)
        ]


def _folder(root: Path, folder: str | None) -> Path | None:
    return Path(os.path.normpath(root / folder.lstrip("/"))) if folder else None


def _argo_paths(data: dict[str, Any]) -> list[str | None]:
    spec = data.get("spec") or {}
    if data.get("kind") == "ApplicationSet":
        spec = (spec.get("template") or {}).get("spec") or {}
    sources = [spec.get("source") or {}, *(spec.get("sources") or [])]
    paths = [_text(s.get("path")) for s in sources if isinstance(s, dict) and s]
    return paths or [None]


def _external(path: Path, line: int, data: dict[str, Any]) -> ExternalSecret:
    meta = data.get("metadata") or {}
    spec = data.get("spec") or {}
    entries = [e for e in spec.get("data") or () if isinstance(e, dict)]
    keys = tuple(k for e in entries if (k := _text(e.get("secretKey"))))
    refs = [e.get("remoteRef") or {} for e in entries]
    remote = {r.get("key") for r in refs if isinstance(r, dict) and r.get("property")}
    return ExternalSecret(
        path,
        line,
        str(meta.get("name") or ""),
        _text(meta.get("namespace")),
        _text((spec.get("target") or {}).get("name")),
        keys,
        bool(spec.get("dataFrom")),
        remote.pop() if len(remote) == 1 else None,
    )


# --- answers ------------------------------------------------------------------------------


def placements(setup: Setup, manifest: Path, name: str, namespace: str | None) -> list[Placement]:
    """Every distinct (name, namespace) a Secret called ``name`` in ``manifest`` gets through
    the Kustomizations that render it (one per chain of overlays); the name as written and
    ``namespace`` when no Kustomization includes it. Kustomize's ``namespace:`` replaces the
    object's, the outermost one winning; prefixes and suffixes add up outward."""
    found: dict[tuple[str, str | None], Placement] = {}
    for chain in _chains(setup, Path(os.path.abspath(manifest))):
        final, space = name, namespace
        for layer in chain:
            final = layer.prefix + final + layer.suffix
            space = layer.namespace or space
        found.setdefault((final, space), Placement(final, space, tuple(c.path for c in chain)))
    return list(found.values())


def rendering_folders(setup: Setup, manifest: Path) -> list[Path]:
    """The folders of every Kustomization that renders ``manifest``, through any chain of
    overlays, innermost first."""
    found: dict[Path, None] = {}
    for chain in _chains(setup, Path(os.path.abspath(manifest))):
        for layer in chain:
            found[layer.path.parent] = None
    return list(found)


def _chains(setup: Setup, start: Path) -> Iterator[tuple[Layer, ...]]:
    """Chains of Kustomizations from ``start`` outward (innermost first); ``()`` when
    none includes it. A manifest is included when listed; a Kustomization when its folder
    is listed."""
    stack: list[tuple[Path, tuple[Layer, ...]]] = [(start, ())]
    count = 0
    while stack and count < MAX_CHAINS:
        current, chain = stack.pop()
        wanted = current.parent if current.name in _K_NAMES else current
        parents = [
            layer
            for layer in setup.including.get(wanted, ())
            if layer not in chain and layer.path != current
        ]
        if not parents:
            count += 1
            yield chain
        stack += [(layer.path, (*chain, layer)) for layer in parents]


def deployer_of(setup: Setup, manifest: Path) -> Deployer | None:
    """The GitOps object that deploys ``manifest`` (its folder holds the manifest, or it
    names no folder this repository can resolve), or None."""
    full = Path(os.path.abspath(manifest))
    for deployer in setup.deployers:
        if deployer.folder is None or deployer.folder in (full, *full.parents):
            return deployer
    return None


def external_for(
    setup: Setup, namespace: str | None, key: str
) -> tuple[ExternalSecret, Placement, bool] | None:
    """The ``ExternalSecret`` rendered into ``namespace`` that provides ``key`` (True), or
    the first one there that could take it as a new ``data`` entry (False)."""
    candidates = setup.externals_in.get(namespace, [])
    for external, place in candidates:
        if key in external.keys:
            return external, place, True
    for external, place in candidates:
        return external, place, False
    return None


def workflow_hint(setup: Setup) -> str:
    """The setup a person should move the value into, named from what the repository has."""
    if setup.sops is not None:
        return f"encrypt it with SOPS (rules in {shown(setup, setup.sops)}) and commit it"
    if setup.sealed:
        return f"seal it with kubeseal like {shown(setup, setup.sealed[0])} and commit it"
    return "set up SOPS, Sealed Secrets or an ExternalSecret for it"


def shown(setup: Setup, path: Path) -> str:
    """``path`` relative to the repository root, as messages name evidence."""
    rel = os.path.relpath(path, setup.root)
    return path.as_posix() if rel.startswith("..") else Path(rel).as_posix()
