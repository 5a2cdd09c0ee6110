"""Moving a value into the repository's kustomize ``secretGenerator`` (K8S004).

When a Kustomization that renders the workload has a ``secretGenerator`` reading an env file
(``envs:``, or the legacy ``env:``), the value belongs in that file: kustomize builds the
Secret from it (hash-suffixed, renamed by every ``namePrefix``/``nameSuffix`` above it) and
rewrites the workload's reference to the generated name itself. The value is appended as a
``KEY=value`` line only when git ignores the file; a committed env file would put the value
in git, so the move is withheld then. A generator with only ``literals`` is left to the
report. Pure apart from asking git whether a file is ignored (once per file and run).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from fixer.model import Edit, Fix, Moved, Safety, SideFile
from fixer.secrets.sops import git_ignored
from rules import secret_workflow as sw

#: A key kustomize accepts in an env file (``validation.IsEnvVarName``).
_ENV_KEY = re.compile(r"[-._a-zA-Z][-._a-zA-Z0-9]*")
_MASK = "***"


@dataclass(frozen=True)
class GeneratorPlan:
    """The generator that takes the value, and the env file it goes into."""

    kustomization: Path  # the Kustomization that holds the generator (absolute)
    generator: sw.Generator
    env: Path | None  # the first git-ignored env file; None: every one is committed
    rendered: str  # the Secret's name once rendered, without kustomize's hash suffix
    namespace: str | None
    built: Path  # the outermost Kustomization rendering the workload (what is applied)


_IGNORED: dict[Path, bool] = {}


def _ignored(root: Path, path: Path) -> bool:
    if path not in _IGNORED:
        relative = os.path.relpath(path, root)
        _IGNORED[path] = not relative.startswith("..") and git_ignored(root, relative)
    return _IGNORED[path]


def plan(setup: sw.Setup, place: sw.Placement) -> GeneratorPlan | None:
    """The innermost generator with env files among the Kustomizations ``place`` was
    rendered through whose Secret lands in the workload's namespace, or None."""
    layers = setup.by_path
    chain = [layers[path] for path in place.via if path in layers]
    root = Path(os.path.abspath(setup.root))
    for index, layer in enumerate(chain):
        for generator in layer.generators:
            if not generator.envs:
                continue
            name, namespace = generator.name, generator.namespace
            for outer in chain[index:]:
                name = outer.prefix + name + outer.suffix
                namespace = outer.namespace or namespace
            if namespace != place.namespace:
                continue
            env = next((e for e in generator.envs if _ignored(root, e)), None)
            built = chain[-1].path
            return GeneratorPlan(layer.path, generator, env, name, namespace, built)
    return None


def usable(key: str, value: str) -> bool:
    """Whether ``key=value`` survives kustomize's env-file parsing unchanged: one line,
    no leading blank (the line is left-trimmed before the key)."""
    return bool(_ENV_KEY.fullmatch(key)) and "\n" not in value and "\r" not in value


class EnvKeyError(ValueError):
    """The env file cannot take the key. The message never contains a value."""


@dataclass(frozen=True)
class EnvMerge:
    """``SideFile.merge``: ``KEY=value`` appended to the env file, every other byte kept.
    A key already there with the same value changes nothing; with another value it is an
    error (the file is never overwritten)."""

    key: str
    value: str = field(default="", repr=False)
    preview: bool = False  # masked value, for display: no comparison

    def __call__(self, existing: str | None) -> str:
        text = existing or ""
        for line in text.splitlines():
            name, sep, current = line.lstrip().partition("=")
            if sep and name == self.key and not line.lstrip().startswith("#"):
                if self.preview or current == self.value:
                    return text
                raise EnvKeyError(f"key {self.key} already holds another value; not overwritten")
        newline = "\r\n" if "\r\n" in text else "\n"
        if text and not text.endswith("\n"):
            text += newline
        return f"{text}{self.key}={self.value}{newline}"


def as_given(manifest: Path, other: Path) -> Path:
    """``other`` (absolute) named the way ``manifest`` was given (relative stays relative)."""
    if manifest.is_absolute():
        return other
    # normpath: an overlay's env file reads overlays/prod/x.env, not app/../overlays/...
    return Path(
        os.path.normpath(manifest.parent / os.path.relpath(other, manifest.parent.absolute()))
    )


def _where(setup: sw.Setup, the_plan: GeneratorPlan) -> str:
    return f"secretGenerator {the_plan.generator.name} ({sw.shown(setup, the_plan.kustomization)})"


def fix(
    setup: sw.Setup,
    manifest: Path,
    the_plan: GeneratorPlan,
    key: str,
    value: str,
    edit: Edit,
    origin: str,
) -> Fix:
    """The value appended to the generator's git-ignored env file (``the_plan.env``, not
    None), the reference pointed at the generator: PROVEN, kustomize builds both."""
    assert the_plan.env is not None
    env = as_given(manifest, the_plan.env)
    merge = EnvMerge(key, value)
    shown = EnvMerge(key, _MASK, preview=True)
    side = SideFile(env, merge, shown, gitignore=True, key=f"generator-env|{key}|{origin}")
    where = _where(setup, the_plan)
    space = f" in namespace {the_plan.namespace}" if the_plan.namespace else ""
    rendered = f"Secret {the_plan.rendered}-<hash>{space}"
    fresh = (
        ""
        if the_plan.env.exists()
        else f"; {env.as_posix()} is new and git-ignored: every fresh clone must create it "
        "(KEY=value lines) before kustomize can build"
    )
    title = (
        f"use secretKeyRef {the_plan.generator.name}/{key}; value added to the git-ignored "
        f"env file {env.as_posix()} of {where}, rendered as {rendered}{fresh}"
    )
    moved = Moved(
        key,
        f"key {key} of the git-ignored env file {env.as_posix()} of {where}, "
        f"rendered as {rendered}"
        + ("; the file is new: every fresh clone must create it" if fresh else ""),
        f"set `{key}=<new {key} value>` in `{env.as_posix()}`, then "
        f"`kubectl apply -k {sw.shown(setup, the_plan.built.parent)}`",
        env.as_posix(),
    )
    evidence = (f"{where} reads the git-ignored {sw.shown(setup, the_plan.env)}",)
    return Fix(title, (edit,), Safety.PROVEN, (side,), evidence=evidence, moved=(moved,))


def committed_needs(setup: sw.Setup, the_plan: GeneratorPlan) -> str:
    """What a withheld move says when every env file of the generator is committed."""
    files = ", ".join(sw.shown(setup, e) for e in the_plan.generator.envs)
    return (
        f"the generator's env file is committed: {_where(setup, the_plan)} reads {files}, "
        "which git does not ignore, so the value would be committed in plain text; git-ignore "
        "it (and rotate what it holds) or use SOPS, then run tighten again"
    )
