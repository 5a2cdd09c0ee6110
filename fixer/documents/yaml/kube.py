"""Kubernetes objects inside a YAML file: workloads, their pod specs and containers."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from fixer.documents.yaml import nodes as y

if TYPE_CHECKING:
    from fixer.documents.yaml.nodes import Node, YamlFile

#: Where each workload kind keeps its pod spec.
POD_SPEC_PATHS: dict[str, tuple[str, ...]] = {
    "Pod": ("spec",),
    "PodTemplate": ("template", "spec"),
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "ReplicationController": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
    "Rollout": ("spec", "template", "spec"),  # Argo Rollouts
}
CONTAINER_KEYS = ("initContainers", "containers", "ephemeralContainers")
#: Kinds whose objects are not workloads even when shaped like one.
_NOT_WORKLOADS = frozenset({"CustomResourceDefinition"})
#: Built-in kinds whose API validation requires every container's image: an object of one
#: without it cannot be applied as it is (a Kustomize patch that no kustomization lists, a
#: fragment merged by a tool). Custom kinds may leave the image to their operator.
_IMAGE_REQUIRED = frozenset(POD_SPEC_PATHS) - {"Rollout"}
#: ``doc.cache`` key: the file's parts of objects are left out of ``pod_specs``.
WHOLE_ONLY = "kube.whole_only"


#: A document separator, and a document whose own kind is CustomResourceDefinition.
_SEPARATOR = re.compile(r"(?m)^---[ \t]*\r?\n")
_DEFINITION = re.compile(r"(?m)^kind:[ \t]*[\"']?CustomResourceDefinition[\"']?[ \t]*\r?$")


def without_definitions(text: str, *, keep_places: bool = False) -> str:
    """``text`` without its CustomResourceDefinition documents: OpenAPI schemas that no rule
    reads (no workload, no secret, no deployer), and most of an operator's YAML by size
    (7.5 of each of KServe's 7.6 MB renders). With ``keep_places`` each is left as blank
    lines of spaces, so every other document keeps its lines and character offsets."""
    if "CustomResourceDefinition" not in text or _DEFINITION.search(text) is None:
        return text
    parts = _SEPARATOR.split(text)
    separators = _SEPARATOR.findall(text)
    if keep_places:
        kept = [_BLANK.sub(" ", d) if _DEFINITION.search(d) else d for d in parts]
        return kept[0] + "".join(s + d for s, d in zip(separators, kept[1:], strict=True))
    return "---\n".join(d for d in parts if _DEFINITION.search(d) is None)


_BLANK = re.compile(r"[^\r\n]")


@dataclass(frozen=True)
class KubeObject:
    """One Kubernetes object (a document, or an item of a ``List``)."""

    node: Node
    kind: str
    api_version: str
    name: str | None
    namespace: str | None

    @property
    def metadata(self) -> Node | None:
        return y.get(self.node, "metadata")

    def annotation(self, key: str) -> str | None:
        return y.scalar(y.get_path(self.node, "metadata", "annotations", key))


@dataclass(frozen=True)
class PodSpec:
    obj: KubeObject
    node: Node
    path: tuple[str, ...]


@dataclass(frozen=True)
class Container:
    pod: PodSpec
    node: Node
    key: str  # containers / initContainers / ephemeralContainers
    index: int

    @property
    def name(self) -> str:
        return y.scalar(y.get(self.node, "name")) or f"{self.key}[{self.index}]"

    @property
    def label(self) -> str:
        """How messages name the container: ``Deployment/web container "app"``."""
        kind = "init container" if self.key == "initContainers" else "container"
        if self.key == "ephemeralContainers":
            kind = "ephemeral container"
        return f'{self.pod.obj.kind}/{self.pod.obj.name or "?"} {kind} "{self.name}"'


def is_object(node: Node | None) -> bool:
    """A mapping with scalar ``apiVersion`` and ``kind``."""
    return (
        y.is_mapping(node)
        and y.scalar(y.get(node, "apiVersion")) is not None
        and y.scalar(y.get(node, "kind")) is not None
    )


def is_kubernetes(doc: YamlFile) -> bool:
    return any(is_object(root) for root in doc.documents)


def objects(doc: YamlFile) -> Iterator[KubeObject]:
    """Every object in the file, ``List`` items included.

    Found once per parsed file and kept in ``doc.cache``: every K8S rule (and suppression)
    walks them. A fix pass parses a new ``YamlFile``, so nothing stale survives an edit.
    """
    found = doc.cache.get("kube.objects")
    if found is None:
        found = doc.cache["kube.objects"] = tuple(
            obj for root in doc.documents for obj in _objects(root)
        )
    return iter(found)


def _objects(node: Node) -> Iterator[KubeObject]:
    if not is_object(node):
        return
    kind = y.scalar(y.get(node, "kind")) or ""
    items = y.get(node, "items")
    if kind.endswith("List") and y.is_sequence(items):
        for item in items.value:
            yield from _objects(item)
        return
    meta = y.get(node, "metadata")
    yield KubeObject(
        node=node,
        kind=kind,
        api_version=y.scalar(y.get(node, "apiVersion")) or "",
        name=y.scalar(y.get(meta, "name")),
        namespace=y.scalar(y.get(meta, "namespace")),
    )


def pod_spec(obj: KubeObject) -> PodSpec | None:
    """The object's pod spec: known kinds by their path, other kinds (Knative, operators)
    when ``spec.template.spec`` or a CronJob-like path holds ``containers``."""
    if obj.kind in _NOT_WORKLOADS:
        return None
    paths = (
        [POD_SPEC_PATHS[obj.kind]]
        if obj.kind in POD_SPEC_PATHS
        else [
            POD_SPEC_PATHS["Deployment"],
            POD_SPEC_PATHS["CronJob"],
        ]
    )
    for path in paths:
        node = y.get_path(obj.node, *path)
        if y.is_mapping(node) and (
            obj.kind in POD_SPEC_PATHS or y.is_sequence(y.get(node, "containers"))
        ):
            return PodSpec(obj, node, path)
    return None


def pod_specs(doc: YamlFile) -> Iterator[PodSpec]:
    """The pod spec of every workload in the file (cached like ``objects``); with
    ``doc.cache[WHOLE_ONLY]`` set, not those of parts of objects (``partial_objects``)."""
    found = doc.cache.get("kube.pod_specs")
    if found is None:
        specs = (pod_spec(obj) for obj in objects(doc))
        whole = doc.cache.get(WHOLE_ONLY, False)
        found = doc.cache["kube.pod_specs"] = tuple(
            s for s in specs if s is not None and not (whole and _partial(s))
        )
    return iter(found)


def _partial(pod: PodSpec) -> bool:
    return pod.obj.kind in _IMAGE_REQUIRED and (
        _imageless(pod.node) is not None or not y.is_sequence(y.get(pod.node, "containers"))
    )


def _imageless(pod: Node) -> str | None:
    """The name of the pod spec's first container without an ``image`` key, if any."""
    for key in CONTAINER_KEYS:
        seq = y.get(pod, key)
        if not y.is_sequence(seq):
            continue
        for index, node in enumerate(seq.value):
            if y.is_mapping(node) and y.get(node, "image") is None:
                return y.scalar(y.get(node, "name")) or f"{key}[{index}]"
    return None


def partial_objects(doc: YamlFile) -> Iterator[str]:
    """A line for each built-in workload of the file with a container that has no image:
    the API server would refuse it as it is, so it is a part of an object (a patch, a
    fragment), not a workload to judge or change whole."""
    for obj in objects(doc):
        pod = pod_spec(obj)
        if pod is None or not _partial(pod):
            continue
        imageless = _imageless(pod.node)
        what = f'container "{imageless}" has no image' if imageless else "it has no containers"
        yield (
            f"{obj.kind}/{obj.name or '?'}: {what}, so this is a part of an object (a patch, "
            "a fragment) that cannot be applied as it is; left unchanged"
        )


def containers(pod: PodSpec) -> Iterator[Container]:
    for key in CONTAINER_KEYS:
        seq = y.get(pod.node, key)
        if not y.is_sequence(seq):
            continue
        for index, node in enumerate(seq.value):
            if y.is_mapping(node):
                yield Container(pod, node, key, index)


def all_containers(doc: YamlFile) -> Iterator[Container]:
    """Every container of every workload (cached like ``objects``; not per pod spec: a
    pod spec holding its containers, which point back to it, would be a reference cycle
    that only the garbage collector frees)."""
    found = doc.cache.get("kube.all_containers")
    if found is None:
        found = doc.cache["kube.all_containers"] = tuple(
            c for pod in pod_specs(doc) for c in pod_containers(doc, pod)
        )
    return iter(found)


def evidence_containers(doc: YamlFile) -> Iterator[Container]:
    """``all_containers``, and the containers of pod templates nested deeper in objects
    no rule rewrites (a JobSet's ``replicatedJobs``, Kubeflow Trainer's runtimes,
    ``pytorchReplicaSpecs``): what the repository runs, for the evidence of the rules that
    judge an image. Cached like ``all_containers``."""
    found = doc.cache.get("kube.evidence_containers")
    if found is None:
        nested = (
            Container(pod, node, key, index)
            for obj in objects(doc)
            if pod_spec(obj) is None and obj.kind not in _NOT_WORKLOADS
            for pod in _nested_pod_specs(obj)
            for key in CONTAINER_KEYS
            for index, node in enumerate(_sequence(y.get(pod.node, key)))
            if y.is_mapping(node)
        )
        found = doc.cache["kube.evidence_containers"] = (*all_containers(doc), *nested)
    return iter(found)


#: How deep a nested pod template is looked for (Trainer's runtimes: spec, template,
#: spec, replicatedJobs, N, template, spec, template, spec).
_NESTED_DEPTH = 12


def _nested_pod_specs(obj: KubeObject) -> Iterator[PodSpec]:
    """Mappings of ``obj`` under a ``spec`` that hold a ``containers`` list of mappings
    with an ``image``: pod specs, however deep the kind keeps them."""
    pending: list[tuple[Node, tuple[str, ...]]] = [(obj.node, ())]
    while pending:
        node, path = pending.pop()
        if len(path) > _NESTED_DEPTH:
            continue
        if y.is_mapping(node):
            items = _sequence(y.get(node, "containers"))
            if path and items and all(y.is_mapping(i) and y.get(i, "image") for i in items):
                yield PodSpec(obj, node, path)
                continue
            for key, value in reversed(node.value):
                name = y.scalar(key) or ""
                if name not in ("metadata", "status") and not y.is_scalar(value):
                    pending.append((value, (*path, name)))
        elif y.is_sequence(node):
            for index, item in reversed(list(enumerate(node.value))):
                pending.append((item, (*path, str(index))))


def _sequence(node: Node | None) -> list[Node]:
    return list(node.value) if y.is_sequence(node) else []


def pod_containers(doc: YamlFile, pod: PodSpec) -> tuple[Container, ...]:
    """``containers(pod)``, built once per file (``all_containers``, K8S002 and K8S005
    each walk a pod's containers; a ``Container`` costs a frozen dataclass each time).

    Kept in ``doc.cache`` by the pod spec's id, with the pod spec itself: it stays alive
    while remembered, so its id is never another's, and ``is`` tells a different pod spec
    (one not from ``pod_specs``) apart. Nothing here points back to the file."""
    memo = doc.cache.get("kube.pod_containers")
    if memo is None:
        memo = doc.cache["kube.pod_containers"] = {}
    entry = memo.get(id(pod))
    if entry is None or entry[0] is not pod:
        entry = memo[id(pod)] = (pod, tuple(containers(pod)))
    return entry[1]
