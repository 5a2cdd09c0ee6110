"""YAML: ``nodes`` (the parsed file and node accessors), ``edit`` (rendering and single
edits in the file's style), ``patch`` (grouped edits to one mapping), ``kube`` (Kubernetes
objects, pod specs, containers). The names below, from ``nodes``, are the package's public
surface: callers write ``from fixer.documents import yaml as y`` and ``y.get(...)``."""

from fixer.documents.yaml.nodes import (
    MAX_EXPANDED_NODES,
    Node,
    TemplateError,
    YamlError,
    YamlFile,
    children,
    compose_all,
    expanded_size,
    get,
    get_path,
    is_alias_of,
    is_mapping,
    is_null,
    is_scalar,
    is_sequence,
    key_node,
    may_alias,
    pairs,
    parse,
    scalar,
    span,
    truthy,
)

__all__ = [
    "MAX_EXPANDED_NODES",
    "Node",
    "TemplateError",
    "YamlError",
    "YamlFile",
    "children",
    "compose_all",
    "expanded_size",
    "get",
    "get_path",
    "is_alias_of",
    "is_mapping",
    "is_null",
    "is_scalar",
    "is_sequence",
    "key_node",
    "may_alias",
    "pairs",
    "parse",
    "scalar",
    "span",
    "truthy",
]
