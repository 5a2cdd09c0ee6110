"""Build links stated by skaffold, compose, GitHub workflows, GitLab CI and Tiltfiles.

Each reader takes one parsed file and returns ``Build`` values with paths resolved the way
the tool resolves them (skaffold and compose: relative to the file's folder, the Dockerfile
relative to the context; build-push-action: relative to the workspace root; Tilt: relative
to the Tiltfile). Anything unexpected is skipped, never raised.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Collection, Iterator
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

from fixer.documents import yaml as y
from fixer.documents.yaml import Node
from fixer.repository.builds import from_commands, is_known, make_build
from fixer.repository.commands import in_script
from fixer.repository.model import Build, LinkKind, Origin
from fixer.repository.names import expand_shell
from fixer.repository.sources import github_slug

_ENV_EXPRESSION = re.compile(r"\$\{\{\s*env\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
_STEP_TAGS = re.compile(r"\$\{\{\s*steps\.([A-Za-z0-9_-]+)\.outputs\.tags\s*\}\}")
_TILT_CALL = re.compile(r"\b(?:docker_build|docker_build_with_restart)\s*\(")


def line_of(node: Node) -> int:
    return int(node.start_mark.line) + 1


def _str(node: Node | None) -> str | None:
    value = y.scalar(node)
    return value if value else None


def _items(node: Node | None) -> Iterator[Node]:
    yield from node.value if y.is_sequence(node) else ()


def skaffold_builds(path: Path, docs: list[Node]) -> list[Build]:
    """``build.artifacts[]`` (and each profile's) with a Docker build."""
    found: list[Build] = []
    for doc in docs:
        sections = [y.get(doc, "build")]
        sections += [y.get(p, "build") for p in _items(y.get(doc, "profiles"))]
        for artifact in (a for s in sections for a in _items(y.get(s, "artifacts"))):
            docker = y.get(artifact, "docker")
            others = ("buildpacks", "jib", "bazel", "ko", "custom", "kaniko")
            if docker is None and any(y.get(artifact, k) is not None for k in others):
                continue
            image = _str(y.get(artifact, "image"))
            context = path.parent / (_str(y.get(artifact, "context")) or ".")
            dockerfile = context / (_str(y.get(docker, "dockerfile")) or "Dockerfile")
            origin = Origin(path, line_of(artifact), LinkKind.SKAFFOLD)
            target = _str(y.get(docker, "target"))
            build = make_build(dockerfile, context, [image or ""], origin, target)
            if y.get(artifact, "sync") is not None:
                build = replace(build, synced=True)
            found.append(build)
    return found


def compose_build(path: Path, service: Node) -> Build | None:
    """The build of one compose service (``build:`` as a string or a mapping), with
    ``${VAR}`` taken from the ``.env`` file beside the compose file, as compose does."""
    build = y.get(service, "build")
    if build is None or y.get(build, "dockerfile_inline") is not None:
        return None
    env = compose_env(path.parent)

    def text(node: Node | None) -> str | None:
        value = _str(node)
        return expand_shell(value, env.get) if value is not None and "$" in value else value

    if y.is_scalar(build):
        context_text, dockerfile_text, target = text(build), None, None
    else:
        context_text = text(y.get(build, "context"))
        dockerfile_text = text(y.get(build, "dockerfile"))
        target = text(y.get(build, "target"))
    context_text = context_text or "."
    if not is_known(context_text) or "://" in context_text:
        return None
    context = path.parent / context_text
    dockerfile = context / (dockerfile_text or "Dockerfile")
    image = text(y.get(service, "image"))
    origin = Origin(path, line_of(build), LinkKind.COMPOSE)
    return make_build(dockerfile, context, [image or ""], origin, target)


#: ``KEY=value`` lines of a compose ``.env`` file (quotes optional, ``#`` comments).
_ENV_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$")


@lru_cache(maxsize=64)
def compose_env(folder: Path) -> dict[str, str]:
    """The variables of the ``.env`` file in a compose project's folder (empty if none)."""
    from fixer.repository.walk import read_text

    text = read_text(folder / ".env") or ""
    found: dict[str, str] = {}
    for line in text.splitlines():
        match = _ENV_LINE.match(line)
        if match is None or line.lstrip().startswith("#"):
            continue
        name, value = match.groups()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        found[name] = value
    return found


def compose_services(docs: list[Node]) -> Iterator[tuple[str, Node]]:
    for doc in docs:
        services = y.get(doc, "services")
        for key, service in y.pairs(services) if y.is_mapping(services) else ():
            if y.is_scalar(key) and y.is_mapping(service):
                yield key.value, service


def _env(node: Node | None) -> dict[str, str]:
    return {
        k.value: v.value
        for k, v in (y.pairs(node) if y.is_mapping(node) else ())
        if y.is_scalar(k) and y.is_scalar(v)
    }


def workflow_builds(
    path: Path, docs: list[Node], root: Path, dockerfiles: Collection[Path]
) -> list[Build]:
    """docker/build-push-action steps, a repository's own build action given a Dockerfile
    (``uses: ./.github/workflows/template-publish-image`` with ``dockerfile:``), once per
    entry of the job's matrix, and ``run:`` steps calling ``docker build``."""
    found: list[Build] = []
    for doc in docs:
        env = _env(y.get(doc, "env"))
        for _, job in y.pairs(y.get(doc, "jobs")) if y.is_mapping(y.get(doc, "jobs")) else ():
            job_env = {**env, **_env(y.get(job, "env"))}
            steps = list(_items(y.get(job, "steps")))
            combos: list[dict[str, str]] | None = None
            for step in steps:
                uses = _str(y.get(step, "uses")) or ""
                if uses.startswith("docker/build-push-action@") or _local_build(step, uses):
                    if combos is None:
                        combos = _matrix(y.get(y.get(job, "strategy"), "matrix"))
                    for matrix in combos:
                        build = _push_action(path, step, steps, root, job_env, matrix)
                        found.extend([build] if build else [])
                run = y.get(step, "run")
                if y.is_scalar(run) and "build" in run.value:
                    folder = root / (_str(y.get(step, "working-directory")) or ".")
                    found.extend(_script_node(path, run, {**job_env}, [folder], dockerfiles))
    return list(dict.fromkeys(found))


def _local_build(step: Node, uses: str) -> bool:
    """A step running an action of the repository itself that is given a Dockerfile to
    build (Kubeflow Trainer's ``template-publish-image``: ``dockerfile:``, ``image:``)."""
    if not uses.startswith("./"):
        return False
    inputs = y.get(step, "with")
    return y.is_mapping(inputs) and _str(y.get(inputs, "dockerfile")) is not None


#: ``${{ github.repository }}`` (``owner/name``) and ``${{ github.repository_owner }}``.
_REPOSITORY_EXPRESSION = re.compile(r"\$\{\{\s*github\.repository(_owner)?\s*\}\}")
#: At most this many entries of one job's matrix are read (each a build to link).
MAX_MATRIX = 64
_MATRIX_EXPRESSION = re.compile(r"\$\{\{\s*matrix\.([A-Za-z0-9_-]+)\s*\}\}")


def _matrix(node: Node | None) -> list[dict[str, str]]:
    """The scalar values of each entry of a job's ``strategy.matrix``: its ``include``
    entries, else every combination of its lists; ``[{}]`` without one."""
    if not y.is_mapping(node):
        return [{}]
    include = [
        {k.value: v.value for k, v in y.pairs(item) if y.is_scalar(k) and y.is_scalar(v)}
        for item in _items(y.get(node, "include"))
        if y.is_mapping(item)
    ]
    if include:
        return include[:MAX_MATRIX]
    combos: list[dict[str, str]] = [{}]
    for key, values in y.pairs(node):
        if not y.is_scalar(key) or key.value in ("include", "exclude"):
            continue
        scalars = [v.value for v in _items(values) if y.is_scalar(v)]
        if scalars:
            combos = [{**c, key.value: v} for c in combos for v in scalars][:MAX_MATRIX]
    return combos


def _push_action(
    path: Path,
    step: Node,
    steps: list[Node],
    root: Path,
    env: dict[str, str],
    matrix: dict[str, str] | None = None,
) -> Build | None:
    values = matrix or {}
    slug = github_slug(root)

    def text(key: str) -> str | None:
        value = _str(y.get(y.get(step, "with"), key))
        if value is not None and "matrix." in value:
            value = _MATRIX_EXPRESSION.sub(lambda m: values.get(m.group(1), m.group(0)), value)
        if value is not None and slug and "github.repository" in value:
            owner = slug.split("/", 1)[0]
            value = _REPOSITORY_EXPRESSION.sub(lambda m: owner if m.group(1) else slug, value)
        return value

    context_text = text("context") or "."
    file_text = text("file") or text("dockerfile")
    if "${{" in context_text or (file_text and "${{" in file_text) or "://" in context_text:
        return None
    context = root / context_text
    dockerfile = root / file_text if file_text else context / "Dockerfile"
    tags: list[str] = []
    named = text("tags") or text("image") or text("images") or ""
    for raw in re.split(r"[\n,]", named):
        tag = _ENV_EXPRESSION.sub(lambda m: env.get(m.group(1), m.group(0)), raw.strip())
        step_id = _STEP_TAGS.fullmatch(tag)
        tags.extend(_metadata_images(steps, step_id.group(1)) if step_id else [tag])
    origin = Origin(path, line_of(step), LinkKind.WORKFLOW)
    return make_build(dockerfile, context, tags, origin, text("target"))


def _metadata_images(steps: list[Node], step_id: str) -> list[str]:
    """The ``images`` input of the docker/metadata-action step whose tags are used."""
    for step in steps:
        uses = _str(y.get(step, "uses")) or ""
        if _str(y.get(step, "id")) == step_id and uses.startswith("docker/metadata-action@"):
            images = _str(y.get(y.get(step, "with"), "images")) or ""
            names = [line.split(",")[0].strip() for line in images.splitlines()]
            return [n.removeprefix("name=") for n in names if n] or ["${{ unknown }}"]
    return ["${{ unknown }}"]


def _script_node(
    path: Path,
    node: Node,
    known: dict[str, str],
    folders: list[Path],
    dockerfiles: Collection[Path],
    kind: LinkKind = LinkKind.WORKFLOW,
) -> list[Build]:
    """Build commands in a YAML scalar holding shell lines, with file lines."""
    first = line_of(node) + (1 if node.style in ("|", ">") else 0) - 1
    commands = in_script(node.value, known)
    builds = from_commands(commands, path, kind, folders, dockerfiles)
    return [replace(b, origin=Origin(path, first + b.origin.line, kind)) for b in builds]


def gitlab_builds(
    path: Path, docs: list[Node], root: Path, dockerfiles: Collection[Path]
) -> list[Build]:
    """``docker build`` lines in the jobs' ``script``/``before_script`` lists."""
    found: list[Build] = []
    for doc in docs:
        known = _env(y.get(doc, "variables"))
        for _, job in y.pairs(doc) if y.is_mapping(doc) else ():
            job_known = {**known, **_env(y.get(job, "variables"))}
            for key in ("before_script", "script", "after_script"):
                lines = y.get(job, key)
                for item in [lines] if y.is_scalar(lines) else list(_items(lines)):
                    if y.is_scalar(item) and "build" in item.value:
                        found.extend(
                            _script_node(
                                path, item, job_known, [root], dockerfiles, LinkKind.GITLAB
                            )
                        )
    return found


def tilt_builds(path: Path, text: str) -> list[Build]:
    """``docker_build('img', 'ctx', dockerfile='...', target='...')`` calls with literal
    arguments (Starlark reads like Python for these calls)."""
    found: list[Build] = []
    assigned: dict[str, list[str]] = {}  # ``dockerfile = 'tilt.dockerfile'``, each value
    for name, _, value in _TILT_ASSIGN.findall(text) if "=" in text else ():
        assigned.setdefault(name, []).append(value)
    for match in _TILT_CALL.finditer(text):
        call = _call_text(text, match.end() - 1)
        try:
            tree = ast.parse("f" + call, mode="eval").body
        except (SyntaxError, ValueError):
            continue
        if not isinstance(tree, ast.Call):
            continue
        args = dict(zip(("ref", "context"), tree.args, strict=False))
        args.update({k.arg: k.value for k in tree.keywords if k.arg})
        values = {k: v.value for k, v in args.items() if isinstance(v, ast.Constant)}
        context_text = values.get("context")
        if not isinstance(context_text, str):
            continue
        context = path.parent / context_text
        named = args.get("dockerfile")
        dockerfile_texts: list[object] = [values.get("dockerfile")]
        if isinstance(named, ast.Name):  # a variable set to one file or another
            dockerfile_texts = list(dict.fromkeys(assigned.get(named.id, []))) or [None]
        ref = values.get("ref")
        target = values.get("target")
        line = text.count("\n", 0, match.start()) + 1
        origin = Origin(path, line, LinkKind.TILT)
        tags = [ref] if isinstance(ref, str) else ["${{ unknown }}"]
        # live_update's sync() copies changed files into the running container, as its user.
        synced = "live_update" in args and "sync(" in call
        for dockerfile_text in dockerfile_texts:
            dockerfile = (
                path.parent / dockerfile_text
                if isinstance(dockerfile_text, str)
                else context / "Dockerfile"
            )
            build = make_build(
                dockerfile, context, tags, origin, target if isinstance(target, str) else None
            )
            found.append(replace(build, synced=True) if synced else build)
    return found


#: A Starlark assignment of a string literal at the start of a line.
_TILT_ASSIGN = re.compile(r"(?m)^[ \t]*([A-Za-z_]\w*)[ \t]*=[ \t]*([\"'])([^\"'\n]+)\2[ \t]*$")


def _call_text(text: str, open_paren: int, limit: int = 4000) -> str:
    """The balanced ``( ... )`` starting at ``open_paren`` (bounded; strings respected)."""
    depth, quote, i = 0, "", open_paren
    end = min(len(text), open_paren + limit)
    while i < end:
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return text[open_paren : i + 1]
        i += 1
    return text[open_paren:end]
