"""Image facts in `tighten.lock`, per digest and platform:

    "facts": {"sha256:...": {"references": ["app:1.2"],
                             "platforms": {"linux/amd64": {"config": {...}, "layers": {...}}}}}

A digest names immutable content, so facts recorded for it never go stale; `references`
remembers which references (as written) pointed at it when the facts were read, so an
`--offline` run can answer for a reference that was not pinned. The entrypoint script's
text and read notices are never written: only what was derived from them.

Like every lockfile field, each value is checked on read with the same checks that
filter registry answers; anything else (an unknown key, a wrong type, a control
character, an oversized list) makes the entry an error (`ValueError` with the reason).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from .imageconfig import (
    MAX_ENV,
    MAX_LABELS,
    MAX_PATH,
    MAX_PORTS,
    ImageConfig,
    valid_argv,
    valid_env_name,
    valid_label,
    valid_path,
    valid_port,
    valid_text,
    valid_user,
)
from .imagefacts import (
    MAX_ACCOUNTS,
    MAX_CAPABILITY_PATHS,
    STEP_DOWN,
    ImageFacts,
    LayerFacts,
    valid_id,
    valid_name,
)
from .manifest import Platform
from .reference import InvalidReference, Reference

MAX_REFERENCES = 256
_CONFIG_KEYS = {"user", "entrypoint", "cmd", "exposed_ports", "labels", "working_dir", "env_names"}
_LAYER_KEYS = {"users", "groups", "entrypoint", "steps_down", "capabilities", "complete"}


@dataclass(frozen=True)
class FactsEntry:
    """Facts recorded for one digest: per platform, and the references that named it."""

    references: tuple[str, ...] = ()
    platforms: tuple[tuple[str, ImageFacts], ...] = ()

    def get(self, platform: str) -> ImageFacts | None:
        return dict(self.platforms).get(platform)

    def to_json(self) -> dict[str, Any]:
        return {
            "references": sorted(self.references),
            "platforms": {name: facts_json(facts) for name, facts in sorted(self.platforms)},
        }


def stored(facts: ImageFacts) -> ImageFacts:
    """The facts as the lockfile keeps them (no script text, no notices)."""
    layers = facts.layers
    if layers is not None:
        layers = replace(layers, entrypoint_text=None, notices=())
    return replace(facts, layers=layers, source="lockfile")


def facts_json(facts: ImageFacts) -> dict[str, Any]:
    c = facts.config
    out: dict[str, Any] = {
        "config": {
            "user": c.user,
            "entrypoint": list(c.entrypoint) if c.entrypoint is not None else None,
            "cmd": list(c.cmd) if c.cmd is not None else None,
            "exposed_ports": list(c.exposed_ports),
            "labels": dict(c.labels),
            "working_dir": c.working_dir,
            "env_names": list(c.env_names),
        }
    }
    if facts.layers is not None:
        f = facts.layers
        out["layers"] = {
            "users": {name: [uid, gid] for name, uid, gid in f.users},
            "groups": dict(f.groups),
            "entrypoint": f.entrypoint,
            "steps_down": list(f.steps_down),
            "capabilities": list(f.capabilities),
            "complete": f.complete,
        }
    return out


def read_entry(digest: str, value: object) -> FactsEntry:
    """One `facts` entry, validated; raises ValueError with a short reason."""
    data = _object(value, {"references", "platforms"}, "facts entry")
    refs = data["references"]
    if not isinstance(refs, list) or len(refs) > MAX_REFERENCES:
        raise ValueError("references must be a list")
    for ref in refs:
        if not isinstance(ref, str):
            raise ValueError("a reference is not a string")
        try:
            Reference.parse(ref)
        except InvalidReference as exc:
            raise ValueError(f"invalid reference ({exc.reason})") from None
    platforms = data["platforms"]
    if not isinstance(platforms, dict) or not platforms:
        raise ValueError("platforms must be a non-empty object")
    read = tuple(sorted((_platform(k), _facts(digest, k, v)) for k, v in platforms.items()))
    return FactsEntry(tuple(sorted(set(refs))), read)


def _platform(text: object) -> str:
    try:
        ok = isinstance(text, str) and str(Platform.parse(text)) == text
    except ValueError:
        ok = False
    if not ok:
        raise ValueError("invalid platform")
    return str(text)


def _object(value: object, keys: set[str], what: str, optional: set[str] = set()) -> dict[str, Any]:  # noqa: B006
    if not isinstance(value, dict):
        raise ValueError(f"{what} must be an object")
    have = set(value)
    if not keys - optional <= have <= keys:
        raise ValueError(f"{what} must have exactly the keys {', '.join(sorted(keys))}")
    return value


def _facts(digest: str, platform: str, value: object) -> ImageFacts:
    data = _object(value, {"config", "layers"}, "platform facts", optional={"layers"})
    layers = _layers(data["layers"]) if "layers" in data else None
    return ImageFacts(digest, platform, _config(data["config"]), layers, source="lockfile")


def _config(value: object) -> ImageConfig:
    c = _object(value, _CONFIG_KEYS, "config")
    user, workdir, labels = c["user"], c["working_dir"], c["labels"]
    if user is not None and not valid_user(user):
        raise ValueError("invalid user")
    for key in ("entrypoint", "cmd"):
        if c[key] is not None and not (isinstance(c[key], list) and valid_argv(c[key])):
            raise ValueError(f"invalid {key}")
    if not valid_text(workdir, MAX_PATH):
        raise ValueError("invalid working_dir")
    if not isinstance(labels, dict) or len(labels) > MAX_LABELS:
        raise ValueError("invalid labels")
    if not all(valid_label(k, v) for k, v in labels.items()):
        raise ValueError("invalid label")
    return ImageConfig(
        user=user,
        entrypoint=tuple(c["entrypoint"]) if c["entrypoint"] is not None else None,
        cmd=tuple(c["cmd"]) if c["cmd"] is not None else None,
        exposed_ports=_strings(c["exposed_ports"], valid_port, MAX_PORTS, "exposed_ports"),
        labels=tuple(sorted(labels.items())),
        working_dir=workdir,
        env_names=_strings(c["env_names"], valid_env_name, MAX_ENV, "env_names"),
    )


def _layers(value: object) -> LayerFacts:
    f = _object(value, _LAYER_KEYS, "layers")
    users, groups, entrypoint = f["users"], f["groups"], f["entrypoint"]
    if not isinstance(users, dict) or len(users) > MAX_ACCOUNTS:
        raise ValueError("invalid users")
    for name, ids in users.items():
        if not (valid_name(name) and isinstance(ids, list) and len(ids) == 2):
            raise ValueError("invalid user entry")
        if not all(valid_id(i) for i in ids):
            raise ValueError("invalid uid or gid")
    if not isinstance(groups, dict) or len(groups) > MAX_ACCOUNTS:
        raise ValueError("invalid groups")
    if not all(valid_name(k) and valid_id(v) for k, v in groups.items()):
        raise ValueError("invalid group entry")
    if entrypoint is not None and not valid_path(entrypoint):
        raise ValueError("invalid entrypoint path")
    if not isinstance(f["complete"], bool):
        raise ValueError("complete must be true or false")
    signals = _strings(f["steps_down"], STEP_DOWN.__contains__, len(STEP_DOWN), "steps_down")
    return LayerFacts(
        users=tuple(sorted((n, ids[0], ids[1]) for n, ids in users.items())),
        groups=tuple(sorted(groups.items())),
        entrypoint=entrypoint,
        steps_down=tuple(s for s in STEP_DOWN if s in signals),
        capabilities=_strings(f["capabilities"], valid_path, MAX_CAPABILITY_PATHS, "capabilities"),
        complete=f["complete"],
    )


def _strings(value: object, check: Any, most: int, what: str) -> tuple[str, ...]:
    if not isinstance(value, list) or len(value) > most:
        raise ValueError(f"invalid {what}")
    if not all(isinstance(item, str) and check(item) for item in value):
        raise ValueError(f"invalid {what} item")
    return tuple(sorted(set(value)))
