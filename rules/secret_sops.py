"""Moving a value into the repository's SOPS workflow (K8S004 with a ``.sops.yaml``).

When a creation rule of the repository's ``.sops.yaml`` covers a file beside the manifest
and names recipients, the value goes into a Secret in that file, encrypted by ``sops`` with
those public keys when the fix is written; the file is committed (never git-ignored) and
listed in the Kustomization that renders the workload, so the Secret reaches the cluster
the way the repository's other Secrets do (Flux decrypts it with ``decryption.provider:
sops``). The plan is pure apart from reading ``.sops.yaml`` and asking git and PATH.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fixer.model import Edit, Fix, Safety, SideFile
from fixer.secrets import mask
from fixer.secrets.sops import CreationRule, SopsMerge, creation_rule, git_ignored, sops_binary
from rules import secret_workflow as sw
from rules.secret_file import SecretMerge, SecretTarget, safe_file_name
from rules.secret_resources import resource_side_file

#: File names tried beside the manifest, in order, until a creation rule covers one: the
#: conventions of Flux's and the SOPS documentation's examples.
_NAMES = (
    "{stem}.secrets.sops.yaml",
    "{stem}.secrets.enc.yaml",
    "{stem}-secret.sops.yaml",
    "{stem}-secret.enc.yaml",
    "{stem}-secret.yaml",
    "secrets/{stem}.yaml",
)


@dataclass(frozen=True)
class SopsPlan:
    """Where the encrypted Secret goes and what lists it."""

    path: Path  # as the manifest's path was given
    relative: str  # from the repository root (the folder of .sops.yaml)
    rule: CreationRule
    kustomization: Path | None  # the innermost Kustomization rendering the workload


_CONFIG: dict[Path, str | None] = {}


def _config(path: Path) -> str | None:
    if path not in _CONFIG:
        try:
            _CONFIG[path] = path.read_text("utf-8")
        except (OSError, UnicodeDecodeError):
            _CONFIG[path] = None
    return _CONFIG[path]


def plan(setup: sw.Setup, manifest: Path, via: tuple[Path, ...]) -> SopsPlan | None:
    """The SOPS move for ``manifest`` (rendered through the Kustomizations ``via``,
    innermost first), or None: no ``.sops.yaml``, no rule with recipients covers a file
    beside it that git would not ignore, or no ``sops`` to run."""
    text = _config(setup.sops) if setup.sops is not None else None
    if text is None or sops_binary() is None:
        return None
    root = Path(os.path.abspath(setup.root))
    folder = Path(os.path.abspath(manifest)).parent
    for pattern in _NAMES:
        name = pattern.format(stem=safe_file_name(manifest.stem))
        relative = Path(os.path.relpath(folder / name, root)).as_posix()
        if relative.startswith(".."):
            return None
        rule = creation_rule(text, relative)
        if rule is None or not rule.recipients or git_ignored(root, relative):
            continue
        kustomization = via[0] if via else None
        return SopsPlan(manifest.parent / name, relative, rule, kustomization)
    return None


def _as_given(manifest: Path, other: Path) -> Path:
    """``other`` (absolute) named the way ``manifest`` was given (relative stays relative)."""
    if manifest.is_absolute():
        return other
    base = Path(os.path.abspath(manifest.parent))
    return manifest.parent / os.path.relpath(other, base)


def side_files(
    setup: sw.Setup,
    manifest: Path,
    the_plan: SopsPlan,
    target: SecretTarget,
    data: dict[str, str],
    origin: str,
) -> tuple[SideFile, ...]:
    """The encrypted Secret and, when a Kustomization renders the workload, its listing."""
    root = Path(os.path.abspath(setup.root))
    values = tuple(data.items())
    masked = tuple((k, mask(v)) for k, v in values)
    render = SecretMerge(target.name, target.namespace, values, manifest.name)
    preview = SecretMerge(target.name, target.namespace, masked, manifest.name, True)
    secrets = tuple(v for _, v in values)
    merge = SopsMerge(root, the_plan.relative, render, secrets)
    shown = SopsMerge(root, the_plan.relative, preview, preview=True)
    key = "|".join(["sops", target.name, target.namespace or "", ",".join(sorted(data)), origin])
    sides = [SideFile(the_plan.path, merge, shown, gitignore=False, key=key, publishable=True)]
    if the_plan.kustomization is not None:
        kustomization = _as_given(manifest, the_plan.kustomization)
        sides.append(resource_side_file(kustomization, the_plan.path))
    return tuple(sides)


def _flux_decrypts(deployer: sw.Deployer) -> bool:
    """True when the Flux Kustomization at ``deployer`` sets ``decryption.provider: sops``."""
    import yaml

    try:
        text = deployer.path.read_text("utf-8")
        docs = list(yaml.compose_all(text, Loader=yaml.CSafeLoader))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return False
    for node in docs:
        if node is None or node.start_mark.line + 1 != deployer.line:
            continue
        data: Any = yaml.safe_load(yaml.serialize(node))
        spec = data.get("spec") if isinstance(data, dict) else None
        decryption = spec.get("decryption") if isinstance(spec, dict) else None
        return isinstance(decryption, dict) and decryption.get("provider") == "sops"
    return False


def fix(
    setup: sw.Setup,
    manifest: Path,
    the_plan: SopsPlan,
    target: SecretTarget,
    key: str,
    edit: Edit,
    sides: tuple[SideFile, ...],
) -> Fix:
    """The fix: PROVEN when nothing but committing stands between the value and the
    cluster; withheld when a Flux Kustomization deploys it without decrypting."""
    rule = the_plan.rule
    listed = (
        f", listed in {sw.shown(setup, the_plan.kustomization)}"
        if the_plan.kustomization is not None
        else ""
    )
    title = (
        f"use secretKeyRef {target.name}/{key}; value encrypted with SOPS into "
        f"{the_plan.path.as_posix()} (creation rule {rule.index + 1} of .sops.yaml, "
        f"{len(rule.recipients)} recipient(s)){listed}: commit it"
    )
    evidence = [f".sops.yaml creation rule {rule.index + 1} covers {the_plan.relative}"]
    deployer = sw.deployer_of(setup, manifest)
    if deployer is not None and deployer.kind.startswith("Flux"):
        where = f"{deployer.kind} ({sw.shown(setup, deployer.path)}:{deployer.line})"
        if not _flux_decrypts(deployer):
            needs = (
                f"{where} to decrypt it: it has no spec.decryption.provider: sops, so the "
                "encrypted Secret would reach the cluster unreadable and the pod fail with "
                "CreateContainerConfigError; add decryption (provider sops, secretRef to the "
                "age key), then apply this fix with --unsafe-fixes"
            )
            return Fix(title, (edit,), Safety.UNPROVEN, sides, needs=needs)
        title += f"; {where} decrypts it (decryption.provider: sops)"
        evidence.append(f"{where} decrypts with sops")
    elif deployer is not None:
        title += (
            f"; {deployer.kind} ({sw.shown(setup, deployer.path)}:{deployer.line}) needs a "
            "SOPS plugin to decrypt it (KSOPS as a kustomize generator, or helm-secrets)"
        )
    return Fix(title, (edit,), Safety.PROVEN, sides, evidence=tuple(evidence))
