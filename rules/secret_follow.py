"""DF004 follows the image: the manifests that run it get the removed ``ENV`` from a Secret.

Removing ``ENV DB_PASSWORD=...`` from a Dockerfile takes the variable away from every pod
that runs the image. The repository model says which manifests run the image the Dockerfile
builds (also through Kustomize ``images:`` renames); each such container gets an ``env``
entry with ``valueFrom.secretKeyRef`` (``rules.secret_envref``, a side-file merge), and the
value goes where K8S004 would put a value of that manifest: the same Secret name, namespace
and Kustomize name transforms, SOPS or sealing when the repository uses them, withheld under
GitOps or publishing without one (``rules.secrets_kube``, ``rules.secret_sops``,
``rules.secret_sealed``). Whatever cannot be proven is offered with what it needs.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fixer.documents.dockerfile import Dockerfile
from fixer.model import Edit, Fix, Safety, SideFile
from fixer.rule import Context
from fixer.secrets import secret_name_for
from fixer.secrets.manifest import secret_key_for
from rules import secret_moves, secret_sealed, secret_sops
from rules import secret_workflow as sw
from rules.secret_envref import AddEnvRef, Found, Where, plan
from rules.secret_file import SecretTarget, joined, side_file, source_folders


@dataclass(frozen=True)
class NoRun:
    """No manifest of the repository runs the image: the value cannot follow it, so the
    removal is offered (withheld) with this note."""

    note: str


def follow(
    ctx: Context[Dockerfile],
    values: dict[str, str],
    edits: tuple[Edit, ...],
    origin: str,
) -> Fix | NoRun | None:
    """The fix that removes ``edits`` from the Dockerfile and moves ``values`` (variable ->
    value) into the Secret of the manifests running its image; None without a repository
    model (today's fix)."""
    repository = ctx.evidence.repository
    if repository is None:
        return None
    images = sorted({i for b in repository.build_of(ctx.path) for i in b.images})
    runs = _unique(r for image in images for r in repository.runs_of(image) if r.kind != "compose")
    if not runs:
        what = "image " + ", ".join(images) if images else "the image it builds (no build names it)"
        note = f"no manifest in the repository runs {what}"
        composed = _unique(
            [
                *(r for i in images for r in repository.runs_of(i) if r.kind == "compose"),
                *repository.runs_built_from(ctx.path),
            ]
        )
        for run in composed[:1]:  # it runs there today with the value the image holds
            where = os.path.relpath(run.path, repository.root)
            note += f"; {where}:{run.line} runs it ({run.label})"
        return NoRun(note)
    setup = sw.setup_of(repository)
    assert setup is not None
    names = ", ".join(values)
    withheld = _unprovable(setup, runs)
    if withheld:
        title = f"remove ENV {names}; the manifests running the image need it from a Secret"
        return Fix(title, edits, Safety.UNPROVEN, needs=withheld + "; move the value by hand")
    run = runs[0]
    manifest = _given(ctx.path, Path(run.path))
    target = _target(ctx, manifest, run)
    places = sw.placements(setup, Path(run.path), target.name, target.namespace)
    provided = _provided(ctx, setup, runs, places[0], values, edits)
    if provided is not None:
        return provided
    fix = _placed(ctx, setup, manifest, target, places[0], values, edits, origin)
    if isinstance(fix, str):
        title = f"remove ENV {names}; {_where(runs)} need it from a Secret"
        return Fix(title, edits, Safety.UNPROVEN, needs=fix)
    ref = target.name if _renamed_by_kustomize(fix) else places[0].name
    envs, notes, problem = _env_side_files(ctx, runs, values, ref)
    if problem:
        title = f"remove ENV {names}; {_where(runs)} need it from a Secret"
        return Fix(title, edits, Safety.UNPROVEN, needs=problem + "; add the env entry by hand")
    title = f"remove ENV {names}; {_where(runs)}: {fix.title}{notes}"
    return dataclasses.replace(fix, title=title, edits=edits, side_files=(*fix.side_files, *envs))


def _provided(
    ctx: Context[Dockerfile],
    setup: sw.Setup,
    runs: list[Any],
    place: sw.Placement,
    values: dict[str, str],
    edits: tuple[Edit, ...],
) -> Fix | None:
    """Every value's key is one an ExternalSecret serving the workload's namespace already
    fills: the containers reference that Secret and no value is written anywhere (the
    store holds it). None when any key is not provided that way."""
    found = [sw.external_for(setup, place.namespace, secret_key_for(v)) for v in values]
    if not found or any(f is None or not f[2] for f in found):
        return None
    targets = {(f[1].name, f[1].namespace) for f in found if f is not None}
    if len(targets) != 1:
        return None  # the keys come from different Secrets: one reference name would not do
    external, secret, _ = found[0]  # type: ignore[misc]
    envs, notes, problem = _env_side_files(ctx, runs, values, secret.name)
    if problem:
        return None
    where = f"ExternalSecret {external.name} ({_shown(setup, external.path)}:{external.line})"
    keys = ", ".join(secret_key_for(v) for v in values)
    title = (
        f"remove ENV {', '.join(values)}; {_where(runs)}: use secretKeyRef {secret.name}/{keys}, "
        f"which {where} already provides; the literal is dropped (rotate it: the store holds "
        f"the value){notes}"
    )
    moved = tuple(secret_moves.provided(where, secret_key_for(v)) for v in values)
    evidence = (f"{where} provides key {keys}",)
    return Fix(title, edits, Safety.PROVEN, tuple(envs), evidence=evidence, moved=moved)


def _unprovable(setup: sw.Setup, runs: list[Any]) -> str:
    """What keeps the move from being proven before any Secret is planned, or ''."""
    for run in runs:
        if run.base is not None:
            return f"{run.label} is set by a Kustomize patch ({_shown(setup, run.path)})"
        if _helm_template(Path(run.path)):
            return f"{run.label} is in a Helm template ({_shown(setup, run.path)})"
    workloads = {(r.path, r.kind, r.name, r.namespace) for r in runs}
    if len(workloads) > 1:
        listed = "; ".join(
            f"{kind}/{name} in {_shown(setup, path)}" for path, kind, name, _ in sorted(workloads)
        )
        return f"one Secret for the value: several workloads run the image ({listed})"
    run = runs[0]
    places = sw.placements(setup, Path(run.path), secret_name_for(run.name or ""), run.namespace)
    if len(places) > 1:
        shown = "; ".join(f"{p.name} in namespace {p.namespace or '(none)'}" for p in places)
        return (
            "one name for the Secret: the Kustomizations that render "
            f"{_shown(setup, run.path)} give it different names or namespaces ({shown})"
        )
    return ""


def _placed(
    ctx: Context[Dockerfile],
    setup: sw.Setup,
    manifest: Path,
    target: SecretTarget,
    place: sw.Placement,
    values: dict[str, str],
    edits: tuple[Edit, ...],
    origin: str,
) -> Fix | str:
    """The Secret side files and safety K8S004 would give a value of ``manifest`` (the
    fix's edits are the Dockerfile's), or what keeps it from being moved."""
    from rules.secrets_kube import command, gitops_needs, published_needs, rendered_needs

    data = {secret_key_for(v): value for v, value in values.items()}
    keys = ", ".join(data)
    placed = dataclasses.replace(target, name=place.name, namespace=place.namespace)
    for key in data:
        external = sw.external_for(setup, placed.namespace, key)
        if external is not None:
            where = f"ExternalSecret {external[0].name} ({_shown(setup, external[0].path)})"
            return (
                f"the value in the store {where} reads: the repository's Secrets in namespace "
                f"{placed.namespace or '(none)'} come from it; add key {key} there by hand"
            )
    encrypted = secret_sops.plan(setup, manifest, place.via)
    if encrypted is not None:
        sides = secret_sops.side_files(setup, manifest, encrypted, target, data, origin)
        fixed = secret_sops.fix(setup, manifest, encrypted, target, keys, edits[0], sides)
        moved = tuple(secret_moves.sops(encrypted.path, placed, k) for k in data)
        return dataclasses.replace(fixed, moved=moved)
    sealed = secret_sealed.plan(ctx.settings, setup, manifest, place)
    if sealed is not None:
        plain = side_file(placed, data, origin)
        sides = secret_sealed.side_files(setup, manifest, sealed, target, place, data)
        fixed = secret_sealed.fix(
            setup, sealed, place, keys, edits[0], (*sides, plain), placed.shown
        )
        moved = tuple(secret_moves.sealed(sealed.path, place, k) for k in data)
        return dataclasses.replace(fixed, moved=moved)
    where = f" in namespace {placed.namespace}" if placed.namespace else ""
    title = (
        f"use secretKeyRef {placed.name}/{keys}; value moved to {placed.shown}: create "
        f"Secret {placed.name}{where} before the workload ({command(placed)})"
    )
    moved = tuple(secret_moves.plain(placed, k) for k in data)
    fix = Fix(title, edits, Safety.PROVEN, (side_file(placed, data, origin),), moved=moved)
    deployer = sw.deployer_of(setup, manifest)
    needs = (
        gitops_needs(setup, deployer, placed)
        if deployer is not None
        else rendered_needs(setup, manifest, place, placed)
        or published_needs(ctx.evidence.repository, manifest, placed)
    )
    return dataclasses.replace(fix, safety=Safety.UNPROVEN, needs=needs) if needs else fix


def _renamed_by_kustomize(fix: Fix) -> bool:
    """SOPS: the encrypted Secret is listed in the Kustomization, which renames it and the
    reference alike, so the reference keeps the name as written."""
    return any(".sops." in s.path.name or s.key.startswith("sops|") for s in fix.side_files)


def _env_side_files(
    ctx: Context[Dockerfile], runs: list[Any], values: dict[str, str], secret: str
) -> tuple[list[SideFile], str, str]:
    """One merge per container and variable; notes for containers that keep their own
    setting; what keeps an entry from being added (empty when nothing)."""
    sides: list[SideFile] = []
    notes: list[str] = []
    for run in runs:
        manifest = _given(ctx.path, Path(run.path))
        text = _read(Path(run.path))
        where = Where.of(run)
        for variable in values:
            key = secret_key_for(variable)
            found: Found | str = (
                plan(text, where, variable, secret, key) if text is not None else "unreadable"
            )
            if isinstance(found, str):
                return [], "", f"the env of {where.label} in {manifest.as_posix()}: {found}"
            if found.other:
                notes.append(f"; {where.label} sets {variable} itself: left as it is")
                continue
            merge = AddEnvRef(where, variable, secret, key)
            side_key = f"env|{manifest.as_posix()}|{where.label}|{variable}|{secret}|{key}"
            sides.append(
                SideFile(manifest, merge, merge, gitignore=False, key=side_key, publishable=True)
            )
    return sides, "".join(notes), ""


def _target(ctx: Context[Dockerfile], manifest: Path, run: Any) -> SecretTarget:
    """The Secret K8S004 would write for a value of ``run``'s workload."""
    folders = source_folders(ctx.settings, manifest)
    file_name = f"{joined((*folders, manifest.stem))}.secrets.yaml"
    name = secret_name_for(run.name or "")
    target = SecretTarget.beside(ctx.settings, manifest, file_name, name, run.namespace)
    # The value came from the Dockerfile: the Secret's source annotation names it.
    source = os.path.relpath(os.path.abspath(ctx.path), os.path.abspath(target.path.parent))
    return dataclasses.replace(target, source=Path(source).as_posix())


def _where(runs: list[Any]) -> str:
    labels = ", ".join(run.label for run in runs)
    files = ", ".join(sorted({os.path.basename(run.path) for run in runs}))
    return f"{labels} ({files}) gets it"


def _helm_template(path: Path) -> bool:
    return path.parent.name == "templates" and (path.parent.parent / "Chart.yaml").is_file()


def _given(origin: Path, other: Path) -> Path:
    """``other`` (absolute) named the way ``origin`` was given: relative to the current
    folder when ``origin`` is relative."""
    if origin.is_absolute():
        return other
    return Path(os.path.normpath(os.path.relpath(other)))


def _shown(setup: sw.Setup, path: Any) -> str:
    return sw.shown(setup, Path(path))


def _read(path: Path) -> str | None:
    try:
        return path.read_text("utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _unique(runs: Any) -> list[Any]:
    seen: dict[tuple[Any, ...], Any] = {}
    for run in runs:
        seen.setdefault((run.path, run.kind, run.name, run.namespace, run.container), run)
    return list(seen.values())
