"""Kubernetes schema validation for tests, listing every error (kubernetes-validate stops at
the first one, and fixtures omit required fields such as a Deployment's selector)."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

VERSION = "1.30.0"


@cache
def _validator(kind: str, api_version: str) -> Any:
    import jsonschema
    from kubernetes_validate import utils
    from referencing import Registry, Resource

    group = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    version = [
        v for v in utils.all_versions() if utils.major_minor(v) <= utils.major_minor(VERSION)
    ][-1]
    folder = f"v{version}-local-strict"
    try:
        schema = utils.schema_contents(
            f"kubernetes-json-schema/{folder}/{kind.lower()}-{group}.json", VERSION
        )
    except FileNotFoundError:
        return None  # a custom resource: no schema to hold it to
    defs = utils.schema_contents(f"kubernetes-json-schema/{folder}/_definitions.json", VERSION)
    registry = Resource.from_contents(defs) @ (Resource.from_contents(schema) @ Registry())
    return jsonschema.validators.Draft202012Validator(schema, registry=registry)


def schema_errors(obj: dict[str, Any]) -> set[str]:
    """Every schema error of one object, as `path: message` strings."""
    validator = _validator(str(obj.get("kind")), str(obj.get("apiVersion")))
    if validator is None:
        return set()
    return {
        "/".join(map(str, e.absolute_path)) + ": " + e.message for e in validator.iter_errors(obj)
    }


def objects(docs: list[Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for doc in docs:
        if (
            isinstance(doc, dict)
            and str(doc.get("kind", "")).endswith("List")
            and isinstance(doc.get("items"), list)
        ):
            out.extend(objects(doc["items"]))
        elif isinstance(doc, dict) and "kind" in doc:
            out.append(doc)
    return out
