"""K8S004: literal secrets in container environment variables."""

from __future__ import annotations

import dataclasses
import os
import re
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fixer.documents import yaml as y
from fixer.documents.yaml import Node, YamlFile, kube
from fixer.documents.yaml.edit import Style, content_end, render_block, render_flow
from fixer.model import Edit, Finding, Fix, Safety
from fixer.repository.sources import read_head
from fixer.repository.walk import read_text
from fixer.rule import Context, Rule, Severity
from fixer.secrets import SecretMatch, classify, secret_name_for
from fixer.secrets.commands import command_secrets, may_hold_secrets
from fixer.secrets.detect import name_kind
from fixer.secrets.manifest import secret_key_for
from rules import secret_generator, secret_moves, secret_sealed, secret_sops
from rules import secret_workflow as sw
from rules.secret_external import external_key_side_file
from rules.secret_file import (
    KeyAllocator,
    SecretTarget,
    joined,
    masks_for,
    side_file,
    source_folders,
)
from rules.secret_published import kustomize_applied, published
from rules.secret_workflow import deployer_of, external_for, placements, setup_of
from rules.secrets_reported import Reported, item_words, reported_finding


@dataclass(frozen=True)
class _Entry:
    """One ``env`` item with a literal secret ``value``."""

    container: kube.Container
    item: Node
    name: str
    key_node: Node | None  # the item's own ``value`` key; None when it comes from a merge
    value: Node
    match: SecretMatch


class SecretInEnv(Rule[YamlFile]):
    """Literal secret in a container's environment.

    ## What it does
    Finds `env` entries of containers, init containers and ephemeral containers of every
    workload kind whose literal `value` is a secret: a value with the format of a well-known
    credential, or a literal under a name that says secret (`DB_PASSWORD`, `API_KEY`).
    Entries that already use `valueFrom`, references (`$(OTHER_VAR)`), paths and visible
    placeholders are not reported. `--secret-pattern REGEX` adds variable names.
    Literal secrets in `command` and `args` (`--password=...`, `--token VALUE`,
    `DB_PASSWORD=...` words, `mysql -pSECRET`, `curl -u user:pass`, tokens) are reported
    without a fix.

    ## Why is this bad?
    Anyone who can read the manifest (the repository, `kubectl get -o yaml`, every CI log
    that prints it) can read the secret; Secrets at least have their own RBAC, can be
    encrypted at rest and rotated without editing the workload.

    ## Example
    ```yaml
    apiVersion: v1
    kind: Pod
    metadata:
      name: web
    spec:
      containers:
        - name: app
          image: example/app:1.0
          env:
            - name: LOG_LEVEL
              value: info
            - name: DB_PASSWORD
              value: "s3cr3t-Pa55"  # rotated yearly
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
          image: example/app:1.0
          env:
            - name: LOG_LEVEL
              value: info
            - name: DB_PASSWORD
              valueFrom:
                secretKeyRef:
                  name: web-secrets
                  key: DB_PASSWORD  # rotated yearly
    ```
    with the value in the generated `Secret` `web-secrets`, in `example.secrets.yaml` beside
    `example.yaml`.

    ## Fix safety
    Needs review: the Secret must exist in the cluster before the workload is applied. The
    `value` key is replaced in place (block or flow style, the file's indentation, comments
    kept); the values go to one `Secret` per workload and namespace, `<workload>-secrets`,
    in `<manifest>.secrets.yaml` beside the manifest (or in `--secrets-dir`, as
    `<folder path>-<manifest>.secrets.yaml`), merged with an earlier one and added to
    `.gitignore` inside a git work tree; a key already holding another value is never
    overwritten (the manifest stays as it is, with an error). `--dry-run` masks the
    values. An entry defined through a YAML anchor or merge key is reported without a fix.

    The value follows the repository's secret workflow. The Secret gets the namespace and
    name the workload is rendered with (the object's namespace, else the outermost
    Kustomization's `namespace:`; every `namePrefix`/`nameSuffix` on the way), and the fix
    says the exact command (`kubectl apply -n <namespace> -f <file>`); the git-ignored file is
    never listed in `resources:`. A key an `ExternalSecret` in that namespace already
    provides is referenced with no value written anywhere; else the fix that adds a `data`
    entry to that `ExternalSecret` is withheld until the remote key exists (the pod would fail
    with CreateContainerConfigError; it names the key to create; `--unsafe-fixes` applies
    it, keeping the value in the git-ignored file meanwhile). A manifest deployed by Flux
    or Argo CD keeps its value (fix withheld: the git-ignored Secret would never reach the
    cluster). Plaintext secrets in a Kustomization's `secretGenerator` `literals` are
    reported. When a Kustomization that renders the workload has a `secretGenerator` with a
    git-ignored env file (`envs:`, or the legacy `env:`), the value is appended there as
    `KEY=value` (the file created owner-only when missing; a fresh clone must create it too)
    and the reference names the generator, which kustomize renames with its hash; a
    committed env file is never written (fix withheld).

    With a `.sops.yaml` creation rule (age or PGP recipients) covering a file beside the
    manifest, the Secret goes there encrypted by `sops` (public keys only; the plaintext goes
    through stdin), is committed (never git-ignored) and listed in the `resources:` of the
    Kustomization that renders the workload: proven, also under Flux when its Kustomization
    decrypts (`decryption.provider: sops`; withheld when it does not). With SealedSecret
    objects and the controller's certificate (`--sealed-secrets-cert`, else the repository's
    one `*.pem`/`*.crt`), the value is sealed offline (kubeseal's format, strict scope) for
    the rendered name and namespace into a committed `SealedSecret` listed the same way; the
    plaintext stays in the git-ignored Secret file.
    """

    id = "K8S004"
    name = "secret-in-env"
    target = "kubernetes"
    summary = "literal secret env value -> secretKeyRef"
    safety = Safety.PROVEN
    aliases = ("env-var-secret",)
    severity = Severity.ERROR
    security_severity = 8.5
    risk = (
        "Literal secret values in `env` now come from a Secret (`secretKeyRef`): the Secret "
        "must exist in the namespace before the workload starts."
    )
    moves_secrets = True
    needs_repository = True

    def check(self, ctx: Context[YamlFile]) -> Iterator[Finding]:
        keys: KeyAllocator | None = None  # read for the first finding: most files have none
        for container in kube.all_containers(ctx.doc):
            for entry in _entries(container, ctx.settings.secrets.secret_patterns):
                if keys is None:
                    keys = _referenced_keys(ctx.doc)
                yield self._finding(ctx, entry, keys)
            for hit in _command_secrets(ctx.text, container, ctx.settings.secrets.secret_patterns):
                yield reported_finding(ctx, self, hit)
        for hit in _generator_literals(ctx.doc, ctx.settings.secrets.secret_patterns):
            yield reported_finding(ctx, self, hit)

    def _finding(self, ctx: Context[YamlFile], entry: _Entry, keys: KeyAllocator) -> Finding:
        value = entry.value
        span = y.span(value)
        message = (
            f"{entry.container.label} env {entry.name} holds a literal secret ({entry.match.kind})"
        )
        fix, reason = _fix(ctx, entry, keys)
        default = _project_default(ctx, entry)
        if fix is not None and default and fix.safety is not Safety.UNPROVEN:
            fix = dataclasses.replace(fix, safety=Safety.UNPROVEN, needs=default)
        finding = ctx.finding(self, span, message, fix=fix, reason=reason)
        raw = ctx.text[span.start : span.end]
        return dataclasses.replace(finding, masks=masks_for(value.value, raw))


def _referenced_keys(doc: YamlFile) -> KeyAllocator:
    """Keys the file's env entries already read from Secrets (moved by an earlier pass or
    run): a new value never takes one of them."""
    keys = KeyAllocator()
    for container in kube.all_containers(doc):
        env = y.get(container.node, "env")
        for item in env.value if y.is_sequence(env) else ():
            ref = y.get_path(item, "valueFrom", "secretKeyRef")
            name, key = y.scalar(y.get(ref, "name")), y.scalar(y.get(ref, "key"))
            if name is not None and key is not None:
                keys.reserve(name, container.pod.obj.namespace, key)
    return keys


def _entries(container: kube.Container, patterns: tuple[str, ...]) -> Iterator[_Entry]:
    env = y.get(container.node, "env")
    if not y.is_sequence(env):
        return
    for item in env.value:
        name = y.scalar(y.get(item, "name"))
        value = y.get(item, "value")
        if name is None or not y.is_scalar(value) or y.get(item, "valueFrom") is not None:
            continue
        match = classify(name, value.value, patterns)
        if match is not None:
            yield _Entry(container, item, name, y.key_node(item, "value"), value, match)


COMMAND_REASON = (
    "the program needs the value: put it in a Secret and pass it as $(VAR) from an env "
    "entry with valueFrom.secretKeyRef"
)


def _command_secrets(
    text: str, container: kube.Container, patterns: tuple[str, ...]
) -> Iterator[Reported]:
    """Literal secrets in ``command`` and ``args``, read as one command line."""
    items: list[tuple[str, Node]] = []
    for field_name in ("command", "args"):
        seq = y.get(container.node, field_name)
        for item in seq.value if y.is_sequence(seq) else ():
            if y.is_scalar(item) and isinstance(item.value, str):
                items.append((field_name, item))
    if not items or not may_hold_secrets(" ".join(item.value for _, item in items), patterns):
        return  # most containers: no word of the command line can hold a secret
    words: list[str | None] = []
    owners: list[tuple[str, Node]] = []
    for field_name, item in items:
        item_words_ = item_words(item.value)
        words += item_words_
        owners += [(field_name, item)] * len(item_words_)
    for hit in command_secrets(words, patterns):
        field_name, node = owners[hit.index]
        span = y.span(node)
        message = (
            f"{container.label} {field_name} passes a literal secret ({hit.kind}) in {hit.what}"
        )
        raw = text[span.start : span.end]
        yield Reported(span, message, COMMAND_REASON, hit.value, raw)


GENERATOR_REASON = (
    "kustomize writes this value into the rendered Secret and it is committed here: move "
    "the line to a git-ignored env file listed under the generator's envs: (KEY=value lines)"
)


def _generator_literals(doc: YamlFile, patterns: tuple[str, ...]) -> Iterator[Reported]:
    """Plaintext secrets in a Kustomization's ``secretGenerator`` ``literals``."""
    for document in doc.documents:
        if y.scalar(y.get(document, "kind")) != "Kustomization":
            continue
        generators = y.get(document, "secretGenerator")
        for generator in generators.value if y.is_sequence(generators) else ():
            name = y.scalar(y.get(generator, "name")) or "?"
            literals = y.get(generator, "literals")
            for item in literals.value if y.is_sequence(literals) else ():
                text = y.scalar(item)
                if not isinstance(text, str) or "=" not in text:
                    continue
                key, value = text.split("=", 1)
                match = classify(key, value, patterns) if value else None
                if match is None:
                    continue
                span = y.span(item)
                message = (
                    f"secretGenerator {name} literal {key} holds a plaintext secret ({match.kind})"
                )
                raw = doc.text[span.start : span.end]
                yield Reported(span, message, GENERATOR_REASON, value, raw)


def _target(ctx: Context[YamlFile], entry: _Entry) -> SecretTarget:
    obj = entry.container.pod.obj
    name = secret_name_for(obj.name or "")
    # With --secrets-dir, x/deploy.yaml and y/deploy.yaml write x-deploy.secrets.yaml and
    # y-deploy.secrets.yaml: a workload without a namespace keeps its own Secret.
    file_name = f"{joined((*source_folders(ctx.settings, ctx.path), ctx.path.stem))}.secrets.yaml"
    return SecretTarget.beside(ctx.settings, ctx.path, file_name, name, obj.namespace)


def _fix(ctx: Context[YamlFile], entry: _Entry, keys: KeyAllocator) -> tuple[Fix | None, str]:
    key_node, item = entry.key_node, entry.item
    outside = key_node is None or y.is_alias_of(item, entry.container.node)
    if outside or y.is_alias_of(entry.value, item):
        return None, "the value is defined through a YAML anchor or merge key; move it by hand"
    target = _target(ctx, entry)
    setup = setup_of(ctx.evidence.repository)
    if setup is None:
        return _moved(ctx, entry, keys, key_node, target), ""
    places = placements(setup, ctx.path, target.name, target.namespace)
    if len(places) > 1:
        shown = "; ".join(
            f"{p.name} in namespace {p.namespace or '(none)'} via "
            + ", ".join(sw.shown(setup, v) for v in p.via)
            for p in places
        )
        needs = (
            "one name for the Secret: the Kustomizations that render this manifest give it "
            f"different names or namespaces ({shown}); move the value by hand"
        )
        fix = _moved(ctx, entry, keys, key_node, target)
        return dataclasses.replace(fix, safety=Safety.UNPROVEN, needs=needs), ""
    placed = dataclasses.replace(target, name=places[0].name, namespace=places[0].namespace)
    external = external_for(setup, placed.namespace, secret_key_for(entry.name))
    if external is not None:
        return _to_external(ctx, entry, keys, key_node, placed, external, setup), ""
    generated = secret_generator.plan(setup, places[0])
    if generated is not None and secret_generator.usable(
        secret_key_for(entry.name), entry.value.value
    ):
        return _to_generator(ctx, entry, keys, key_node, placed, generated, setup), ""
    encrypted = secret_sops.plan(setup, ctx.path, places[0].via)
    if encrypted is not None:
        return _to_sops(ctx, entry, keys, key_node, target, encrypted, setup), ""
    sealed = secret_sealed.plan(ctx.settings, setup, ctx.path, places[0])
    if sealed is not None:
        return _to_sealed(ctx, entry, keys, key_node, placed, places[0], sealed, setup), ""
    fix = _moved(ctx, entry, keys, key_node, placed)
    deployer = deployer_of(setup, ctx.path)
    if deployer is None:
        rendered = rendered_needs(setup, ctx.path, places[0], placed)
        if rendered:
            return dataclasses.replace(fix, safety=Safety.UNPROVEN, needs=rendered), ""
        fix = _unless_published(ctx, fix, placed)
        if fix.safety is not Safety.UNPROVEN:
            needs = _pointless_move(ctx, entry)
            if needs:
                fix = dataclasses.replace(fix, safety=Safety.UNPROVEN, needs=needs)
        return fix, ""
    needs = gitops_needs(setup, deployer, placed)
    return dataclasses.replace(fix, safety=Safety.UNPROVEN, needs=needs), ""


def _pointless_move(ctx: Context[YamlFile], entry: _Entry) -> str:
    """What a move needs when it would hide nothing: the value stays in the repository
    anyway (in plain sight as a user name, or in a published manifest). Empty otherwise."""
    shown = _in_plain_sight(ctx, entry)
    if shown:
        return (
            f"a reason to move it: the same value stays in {shown} (a default credential), "
            "so moving it hides nothing while the file comes to need a Secret to start; "
            "change the credential, or apply with --unsafe-fixes"
        )
    kept = kept_elsewhere(ctx.evidence.repository, ctx.path, entry.value.value)
    if kept:
        return (
            f"a reason to move it: the same value stays in {kept}, so moving this copy "
            "hides nothing while the file comes to need a Secret to start; move both "
            "together, or apply with --unsafe-fixes"
        )
    return ""


def _in_plain_sight(ctx: Context[YamlFile], entry: _Entry) -> str:
    """``"this file at line <n> as <NAME>, which is not a secret"`` when another ``env`` item of the
    same container holds the same literal under a name that says nothing secret: a default
    credential whose password is its user name (``PGUSER: sg``, ``PGPASSWORD: sg``) stays
    in the file whatever happens to this copy. Empty otherwise."""
    value = entry.value.value
    env = y.get(entry.container.node, "env")
    for item in env.value if y.is_sequence(env) else ():
        other = y.get(item, "value")
        name = y.scalar(y.get(item, "name")) or ""
        if item is entry.item or not y.is_scalar(other) or other.value != value:
            continue
        if name and name_kind(name) is None:
            line = ctx.doc.lines.line_of(other.start_mark.index)
            return f"this file at line {line} as {name}, which is not a secret"
    return ""


def kept_elsewhere(repository: Any, manifest: Path, value: str) -> str:
    """``path:line`` of another YAML file of the repository that holds ``value`` as a
    secret-named env value (or as the password of a URL) and that the repository publishes,
    so the value stays in git whatever happens to this copy (deploy-sourcegraph's migrator
    Job repeats the databases' default passwords of its published base manifests). Empty
    when there is none. Only asked before a move is applied; nothing is printed."""
    if repository is None or len(value) < 2:
        return ""
    full = Path(os.path.abspath(manifest))
    quoted = re.escape(value)
    entry = re.compile(rf"^\s*value:\s*(['\"]?){quoted}\1\s*$")
    url = re.compile(rf"://[^:/\s@]+:{quoted}@")
    for other in _published_yaml(repository):
        if other == full:
            continue
        text = read_text(other)
        if text is None or value not in text:
            continue
        lines = text.split("\n")  # numbered as the findings are (LF only)
        for number, line in enumerate(lines, 1):
            if value not in line:
                continue
            named = entry.match(line) and _secret_named(lines[number - 2] if number > 1 else "")
            if named or url.search(line):
                rel = os.path.relpath(other, repository.root)
                return f"{rel}:{number}, which is published (so its value is kept there)"
    return ""


#: The repository's published YAML files, found once per repository model.
_PUBLISHED: weakref.WeakKeyDictionary[Any, list[Path]] = weakref.WeakKeyDictionary()


def _published_yaml(repository: Any) -> list[Path]:
    """The YAML files of the scan that the repository publishes (only those keep a value
    whatever tighten does), in walk order."""
    found = _PUBLISHED.get(repository)
    if found is None:
        root = repository.root
        found = [p for p in repository.yaml_paths() if published(root, p) is not None]
        _PUBLISHED[repository] = found
    return found


def _secret_named(line: str) -> bool:
    """The line before a ``value:`` names a secret variable (``- name: PGPASSWORD``)."""
    found = re.match(r"^\s*-?\s*name:\s*['\"]?([\w.-]+)", line)
    return found is not None and name_kind(found.group(1)) is not None


def rendered_needs(
    setup: sw.Setup, manifest: Path, place: sw.Placement, placed: SecretTarget
) -> str:
    """Why a git-ignored Secret cannot serve a manifest that the repository's own
    automation renders with Kustomize (DF004 too): a Makefile target, script, workflow or
    README that runs ``kubectl apply -k`` / ``kustomize build`` on a Kustomization that
    renders it (argo-workflows' ``make start`` applies its quick-start in CI). That run has
    a fresh clone and no Secret, and listing the git-ignored file in ``resources:`` would
    make the build itself fail. Empty when no Kustomization renders it, or none is run.
    """
    if not place.via:
        return ""
    where = kustomize_applied(setup.root, sw.rendering_folders(setup, manifest))
    if where is None:
        return ""
    first = sw.shown(setup, place.via[0])
    return (
        f"a way for Secret {placed.name} into what Kustomize renders: {where} renders a "
        f"Kustomization that lists this manifest ({first}), and the git-ignored "
        f"{placed.shown} is in no clone but yours, so that run makes pods that fail with "
        f"CreateContainerConfigError; {sw.workflow_hint(setup)}, or apply with "
        "--unsafe-fixes and create the Secret where it runs"
    )


def gitops_needs(setup: sw.Setup, deployer: sw.Deployer, placed: SecretTarget) -> str:
    """Why a git-ignored Secret cannot serve a manifest a GitOps tool deploys (DF004 too)."""
    return (
        f"a way for Secret {placed.name} to reach the cluster: this manifest is deployed by "
        f"{deployer.kind} ({sw.shown(setup, deployer.path)}:{deployer.line}), which applies "
        f"only what is committed, never the git-ignored {placed.shown}, so the pod would fail "
        f"with CreateContainerConfigError; {sw.workflow_hint(setup)}, or create the Secret "
        f"by hand ({command(placed)}) before applying this fix with --unsafe-fixes"
    )


def _unless_published(ctx: Context[YamlFile], fix: Fix, placed: SecretTarget) -> Fix:
    """Withheld when the repository tells others to apply this file as it is (a README's
    ``kubectl apply -f <raw URL>``, a release workflow that ships it): the git-ignored
    Secret would exist on none of their clusters."""
    needs = published_needs(ctx.evidence.repository, ctx.path, placed)
    if needs is None:
        return fix
    return dataclasses.replace(fix, safety=Safety.UNPROVEN, needs=needs)


def published_needs(repository: Any, manifest: Path, placed: SecretTarget) -> str | None:
    """Why a git-ignored Secret cannot serve a manifest the repository publishes (DF004 too);
    None when it publishes none."""
    where = published(repository.root, manifest) if repository is not None else None
    if where is None and repository is not None:
        # A file concatenated from this one (sock-shop's complete-demo.yaml from manifests/*,
        # which CI checks is in sync) is published: the copies must keep the same value.
        for copy in repository.copies_of(manifest):
            found = published(repository.root, copy)
            if found is not None:
                shown = os.path.relpath(copy, repository.root)
                where = f"{found} (through {shown}, which holds the same object)"
                break
    if where is not None:
        where = f"{where} names it for others to apply as it is"
    else:
        where = _example(repository.root if repository is not None else None, manifest)
    if where is None:
        return None
    return (
        f"a way for Secret {placed.name} to reach the clusters this file is applied to: "
        f"{where}, and the git-ignored "
        f"{placed.shown} is in nobody's copy, so their pods would fail with "
        "CreateContainerConfigError; publish a Secret manifest to create first (or keep "
        "a clearly fake value), or apply this fix with --unsafe-fixes"
    )


#: Folders of manifests that people copy and apply as they are.
_EXAMPLE_FOLDERS = frozenset(
    {"example", "examples", "sample", "samples", "demo", "demos", "quickstart", "quickstarts"}
    | {"quick-start", "getting-started", "tutorial", "tutorials"}
)


#: Folders of a developer's own setup (Loki's ``config/overlays/development`` with MinIO's
#: ``minio123``, Kubernetes projects' ``hack/``): every contributor applies them as they
#: are, so a value moved to a git-ignored file breaks the setup for all but its mover.
_DEVELOPMENT_FOLDERS = frozenset({"development", "dev", "local", "hack", "sandbox", "playground"})


def _example(root: Path | None, manifest: Path) -> str | None:
    """``it sits under examples/, ...`` when a folder of the manifest's path (from the
    repository root) says it is an example; None otherwise."""
    if root is None:
        return None  # the folders above a repository are the user's, not the project's
    try:
        parts = Path(os.path.abspath(manifest)).parent.relative_to(os.path.abspath(root)).parts
    except ValueError:
        return None
    for depth, part in enumerate(parts):
        lower = part.lower()
        words = set(re.split(r"[-_.]", lower))
        example = lower in _EXAMPLE_FOLDERS or bool(words & _EXAMPLE_WORDS)
        if example or lower in _DEVELOPMENT_FOLDERS:
            folder = "/".join(parts[: depth + 1])
            what = "an example" if example else "a development setup"
            return f"it sits under {folder}/, {what} people apply as it is"
    name = manifest.name.lower()
    if any(word in name for word in _EXAMPLE_NAMES):
        return f"its name ({manifest.name}) says it is an example people apply as it is"
    return _said_development(manifest)


#: A head comment saying the manifest is a development setup (mattermost-operator's
#: ``resources/minio.yaml``: "prepared for development and testing purposes and should
#: not be used in production environment").
_DEVELOPMENT_SAID = re.compile(
    r"(?i)\b(?:for (?:local )?(?:development|testing|dev)\b|development and testing|"
    r"not (?:be )?used in production|not for production|applied locally)"
)


def _said_development(manifest: Path) -> str | None:
    """``its comment at line N says ...`` when a comment of the manifest's head says it is
    for development or testing; None otherwise."""
    for number, line in enumerate(read_head(manifest).splitlines()[:_HEAD_LINES], 1):
        text = line.strip()
        if not text.startswith("#"):
            if text and text != "---":
                break
            continue
        m = _DEVELOPMENT_SAID.search(text)
        if m is not None:
            return (
                f'its comment at line {number} says it is "{m.group(0)}", a development '
                "setup people apply as it is"
            )
    return None


_HEAD_LINES = 20


def _project_default(ctx: Context[YamlFile], entry: _Entry) -> str:
    """What a move needs when the value is the project's own name (litmus' install
    manifests: ``ADMIN_PASSWORD: litmus``, the default its documentation gives everyone):
    a default, not a secret, and every copy of the manifest needs it. Empty otherwise."""
    repository = ctx.evidence.repository
    value = entry.value.value if isinstance(entry.value.value, str) else ""
    if repository is None or len(value) < 4:
        return ""
    project = Path(os.path.abspath(repository.root)).name.lower()
    if value.lower() not in (project, project.replace("-", ""), project.split("-")[0]):
        return ""
    return (
        "a new default: the value is the project's own name (its repository folder's), "
        "a default its "
        "documentation gives everyone, and a git-ignored Secret would leave every other "
        "copy of this manifest without it; generate it at install time, or apply with "
        "--unsafe-fixes"
    )


#: Words of a compound folder name that say example (``sample-application-under-test``).
_EXAMPLE_WORDS = frozenset({"example", "examples", "sample", "samples", "demo", "demos"})
#: File names of manifests people apply as they are (``litmus-getting-started.yaml``).
_EXAMPLE_NAMES = ("getting-started", "getting_started", "quickstart", "quick-start", "demo")


def command(target: SecretTarget) -> str:
    """The exact command that creates the generated Secret where the workload looks."""
    namespace = f" -n {target.namespace}" if target.namespace else ""
    return f"kubectl apply{namespace} -f {target.shown}"


def _moved(
    ctx: Context[YamlFile], entry: _Entry, keys: KeyAllocator, key_node: Node, target: SecretTarget
) -> Fix:
    """Today's fix: the value goes to the git-ignored generated Secret ``target``."""
    key = keys.key(target, entry.name, entry.value.value)
    ref = {"secretKeyRef": {"name": target.name, "key": key}}
    edit = _value_from(ctx.doc, entry.item, key_node, entry.value, ref, ctx.style)
    side = side_file(target, {key: entry.value.value}, f"{ctx.path.as_posix()}:{edit.span.start}")
    where = f" in namespace {target.namespace}" if target.namespace else ""
    title = (
        f"use secretKeyRef {target.name}/{key}; value moved to {target.shown}: "
        f"create Secret {target.name}{where} before the workload ({command(target)})"
    )
    moved = secret_moves.plain(target, key)
    return Fix(title, (edit,), Safety.PROVEN, (side,), moved=(moved,))


def _to_generator(
    ctx: Context[YamlFile],
    entry: _Entry,
    keys: KeyAllocator,
    key_node: Node,
    placed: SecretTarget,
    generated: secret_generator.GeneratorPlan,
    setup: sw.Setup,
) -> Fix:
    """The value goes to the git-ignored env file of the generator that renders the
    workload's Secrets; withheld (today's move, unapplied) when that file is committed."""
    if generated.env is None:
        fix = _moved(ctx, entry, keys, key_node, placed)
        needs = secret_generator.committed_needs(setup, generated)
        return dataclasses.replace(fix, safety=Safety.UNPROVEN, needs=needs)
    name = generated.generator.name
    key = keys.key(dataclasses.replace(placed, name=name), entry.name, entry.value.value)
    ref = {"secretKeyRef": {"name": name, "key": key}}
    edit = _value_from(ctx.doc, entry.item, key_node, entry.value, ref, ctx.style)
    origin = f"{ctx.path.as_posix()}:{edit.span.start}"
    value = entry.value.value
    return secret_generator.fix(setup, ctx.path, generated, key, value, edit, origin)


def _to_sops(
    ctx: Context[YamlFile],
    entry: _Entry,
    keys: KeyAllocator,
    key_node: Node,
    target: SecretTarget,
    encrypted: secret_sops.SopsPlan,
    setup: sw.Setup,
) -> Fix:
    """The value goes into a SOPS-encrypted Secret, committed and listed beside the
    workload: the Secret keeps the name as written (``target``), since the Kustomization
    that lists it renames it and the reference alike."""
    key = keys.key(target, entry.name, entry.value.value)
    ref = {"secretKeyRef": {"name": target.name, "key": key}}
    edit = _value_from(ctx.doc, entry.item, key_node, entry.value, ref, ctx.style)
    origin = f"{ctx.path.as_posix()}:{edit.span.start}"
    data = {key: entry.value.value}
    sides = secret_sops.side_files(setup, ctx.path, encrypted, target, data, origin)
    fix = secret_sops.fix(setup, ctx.path, encrypted, target, key, edit, sides)
    return dataclasses.replace(fix, moved=(secret_moves.sops(encrypted.path, target, key),))


def _to_sealed(
    ctx: Context[YamlFile],
    entry: _Entry,
    keys: KeyAllocator,
    key_node: Node,
    placed: SecretTarget,
    place: sw.Placement,
    sealed: secret_sealed.SealPlan,
    setup: sw.Setup,
) -> Fix:
    """The value is sealed into a committed SealedSecret for the name and namespace the
    workload is rendered with (which the reference uses: kustomize does not rename a
    reference to a Secret that only a SealedSecret creates), and kept in the git-ignored
    Secret file."""
    value = entry.value.value
    key = keys.key(placed, entry.name, value)
    ref = {"secretKeyRef": {"name": placed.name, "key": key}}
    edit = _value_from(ctx.doc, entry.item, key_node, entry.value, ref, ctx.style)
    written = _target(ctx, entry)
    plain = side_file(placed, {key: value}, f"{ctx.path.as_posix()}:{edit.span.start}")
    sides = secret_sealed.side_files(setup, ctx.path, sealed, written, place, {key: value})
    fix = secret_sealed.fix(setup, sealed, place, key, edit, (*sides, plain), placed.shown)
    return dataclasses.replace(fix, moved=(secret_moves.sealed(sealed.path, place, key),))


def _to_external(
    ctx: Context[YamlFile],
    entry: _Entry,
    keys: KeyAllocator,
    key_node: Node,
    placed: SecretTarget,
    found: tuple[sw.ExternalSecret, sw.Placement, bool],
    setup: sw.Setup,
) -> Fix:
    """Reference the Secret an ExternalSecret fills: the key it already provides (no value
    written anywhere), or a new ``data`` entry added to it."""
    external, place, provides = found
    key = secret_key_for(entry.name)
    ref = {"secretKeyRef": {"name": place.name, "key": key}}
    edit = _value_from(ctx.doc, entry.item, key_node, entry.value, ref, ctx.style)
    where = f"ExternalSecret {external.name} ({sw.shown(setup, external.path)}:{external.line})"
    if provides:
        title = (
            f"use secretKeyRef {place.name}/{key}, which {where} already provides; "
            "the literal is dropped (rotate it: the store holds the value)"
        )
        moved = secret_moves.provided(where, key)
        evidence = (f"{where} provides key {key}",)
        return Fix(title, (edit,), Safety.PROVEN, evidence=evidence, moved=(moved,))
    remote, prop = (external.remote_key, key) if external.remote_key else (_remote(key), None)
    stored = f"{remote} (property {prop})" if prop else remote
    kept = dataclasses.replace(placed, name=place.name, namespace=place.namespace)
    side = side_file(kept, {key: entry.value.value}, f"{ctx.path.as_posix()}:{edit.span.start}")
    added = external_key_side_file(external.path, external.name, key, remote, prop)
    keys.key(kept, entry.name, entry.value.value)
    title = (
        f"use secretKeyRef {place.name}/{key}; key {key} added to {where}: create the remote "
        f"key {stored} in its store; until then the value is kept in the git-ignored "
        f"{kept.shown} (do not apply it; delete it once the store has the value)"
    )
    # Until the store holds the remote key, External Secrets cannot fill the new key and
    # the pod fails with CreateContainerConfigError: tighten cannot see the store, so the
    # move is offered, not applied.
    needs = (
        f"the remote key {stored} in the store {where} reads: until it exists, the Secret "
        f"{place.name} has no key {key} and the pod fails with CreateContainerConfigError; "
        "create it, then apply this fix with --unsafe-fixes"
    )
    moved = secret_moves.external(where, key, stored)
    return Fix(title, (edit,), Safety.UNPROVEN, (added, side), needs=needs, moved=(moved,))


def _remote(key: str) -> str:
    """A remote key name for ``key`` when the ExternalSecret shows no convention."""
    return key.lower().replace("_", "-")


def _value_from(
    doc: YamlFile,
    item: Node,
    key_node: Node,
    value: Node,
    ref: dict[str, dict[str, str]],
    style: Style,
) -> Edit:
    """Replace ``value: <literal>`` by ``valueFrom: ...`` where it stands: flow syntax in
    a flow mapping, block lines indented from the ``value`` key otherwise. Whatever follows
    the literal on its line (a comment) stays."""
    start, end = key_node.start_mark.index, content_end(value, doc)
    if item.flow_style:
        return Edit.replace(start, end, "valueFrom: " + render_flow(ref, style.quote))
    column = key_node.start_mark.column
    lines = render_block({"valueFrom": ref}, column, style)
    content = lines[0][column:] + "".join(style.newline + line for line in lines[1:])
    return Edit.replace(start, end, content)
