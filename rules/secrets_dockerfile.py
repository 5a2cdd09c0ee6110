"""DF004: literal secrets in Dockerfile ENV and ARG instructions."""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Iterator
from pathlib import Path

from fixer.documents.dockerfile import Dockerfile, Instruction, KeyValue, key_values
from fixer.model import Edit, Finding, Fix, Safety
from fixer.rule import Context, Rule, Severity
from fixer.secrets import SecretMatch, classify, secret_name_for
from fixer.secrets.detect import may_hold_secret
from rules import secret_moves
from rules.env_removal import remove_pairs
from rules.secret_file import (
    REFERENCE_HINT,
    KeyAllocator,
    SecretTarget,
    joined,
    masks_for,
    side_file,
    source_folders,
)
from rules.secret_follow import follow
from rules.secrets_reported import instruction_secrets, is_json_form, reported_finding

_BASE_NAMES = ("dockerfile", "containerfile")

Hit = tuple[KeyValue, SecretMatch]


class SecretInDockerfile(Rule[Dockerfile]):
    """Literal secret in ENV or ARG.

    ## What it does
    Finds `ENV` pairs and `ARG` defaults, in every stage and before the first `FROM`, whose
    value is a literal secret: a value with the format of a well-known credential (GitHub,
    AWS, Slack, private keys, URLs with a password...), or a literal under a name that says
    secret (`DB_PASSWORD`, `API_KEY`, `NPM_TOKEN`). References (`${NPM_TOKEN}`), paths
    (`PASSWORD_FILE=/run/secrets/db`), checksums (`NODE_SHA256`), `GPG_KEY` fingerprints and
    visible placeholders are not reported. `--secret-pattern REGEX` adds variable names.
    Also reported, without a fix: secrets on `RUN` lines (`NAME=value` words, `--password
    VALUE`, `curl -u user:pass`, `mysql -pSECRET`, tokens and URLs with a password),
    `ONBUILD ENV`/`ARG`/`RUN`, literal `${NAME:-default}` defaults, and `ENV`/`ARG` written
    as JSON (Docker has no such form and sets a variable named like `["DB_PASSWORD`).

    ## Why is this bad?
    Everyone who can pull the image can read its `ENV` (`docker inspect`), and an `ARG`
    default is recorded in the image history and committed with the Dockerfile, in every
    stage. The value is in git history too: rotate it after the fix.

    ## Example
    ```dockerfile
    FROM node:22-slim
    ARG NPM_TOKEN=npm_Rk3vX9mQ2pL7sT4wY8zB1cD5fG6hJ0kN2aE4
    ENV NODE_ENV=production DB_PASSWORD=s3cr3t-Pa55 PORT=8080
    CMD ["node", "server.js"]
    ```
    Use instead:
    ```dockerfile
    FROM node:22-slim
    ARG NPM_TOKEN
    ENV NODE_ENV=production PORT=8080
    CMD ["node", "server.js"]
    ```
    with the values in a generated `Secret` manifest (for `web/Dockerfile`: Secret
    `web-secrets` in `web/web-secrets.secret.yaml`) that the workload references with
    `envFrom.secretRef` or `env.valueFrom.secretKeyRef`; a build step that needs the token
    gets it with `RUN --mount=type=secret,id=npm_token,env=NPM_TOKEN`.

    ## Fix safety
    Needs review: the image no longer has the variable, so the container must get it from
    the `Secret` (and a build step that used the `ARG` default needs `--secret`). The pair is
    removed with one neighbouring space; an `ENV` left with no pairs, or a legacy
    `ENV KEY value`, is removed as whole lines, and continuation lines stay valid. The
    generated file (`<folder>[-<variant>]-secrets.secret.yaml` beside the Dockerfile; in
    `--secrets-dir` the Secret and file are named after the folder path, `a/app/Dockerfile`
    -> `a-app-secrets`) is merged with an earlier one and added to `.gitignore` inside a
    git work tree; `--dry-run` shows it with the values masked. A key the Secret already
    holds with another value is never overwritten: the Dockerfile is left as it is and an
    error names the Secret and key. A value that spans continuation
    lines inside an `ENV` with other pairs is reported without a fix.

    The value follows the image: when the repository's manifests run the image the
    Dockerfile builds (skaffold, compose, CI, Makefile links; Kustomize `images:` renames),
    each container that runs it gets `env: - name: KEY, valueFrom.secretKeyRef` (added to
    its `env` list, or a new one, with the file's indentation; a container that sets `KEY`
    itself keeps it) and the value goes where K8S004 would put a value of that manifest:
    the rendered name and namespace, SOPS or a SealedSecret when the repository uses them,
    withheld under GitOps or publishing without one. Withheld too, with what it needs,
    when the image runs in several workloads or namespaces, in a Kustomize patch or a Helm
    template. When no manifest runs the image the fix is as above and says so. An `ARG`
    default is build-time only: it never follows the image.
    """

    id = "DF004"
    name = "secret-in-dockerfile"
    target = "dockerfile"
    summary = "literal secret in ENV/ARG -> generated Secret"
    safety = Safety.PROVEN
    aliases = ("SecretsUsedInArgOrEnv",)
    severity = Severity.ERROR
    security_severity = 8.5
    risk = (
        "Literal secrets were moved out of the Dockerfile. Builds and containers must now "
        "receive them at run time (a Kubernetes Secret, or a build secret)."
    )
    moves_secrets = True
    needs_repository = True

    def check(self, ctx: Context[Dockerfile]) -> Iterator[Finding]:
        patterns = ctx.settings.secrets.secret_patterns
        target: SecretTarget | None = None  # worked out for the first fix: most files have none
        keys = KeyAllocator()
        for ins in ctx.doc.instructions:
            for hit in instruction_secrets(ctx.text, ins, patterns):
                yield reported_finding(ctx, self, hit)
            if ins.keyword not in ("ENV", "ARG") or is_json_form(ins):
                continue
            if not may_hold_secret(ins.value, patterns):
                continue  # most ENV/ARG lines: no pair can be a secret
            pairs = key_values(ins)
            hits = [
                (kv, m) for kv in pairs if kv.value and (m := classify(kv.key, kv.value, patterns))
            ]
            if not hits:
                continue
            if target is None:
                target = _target(ctx)
            fix, reason = _fix(ctx, ins, pairs, hits, target, keys)
            for kv, match in hits:
                yield self._finding(ctx, ins, kv, match, fix, reason)

    def _finding(
        self,
        ctx: Context[Dockerfile],
        ins: Instruction,
        kv: KeyValue,
        match: SecretMatch,
        fix: Fix | None,
        reason: str,
    ) -> Finding:
        what = "holds a literal secret" if ins.keyword == "ENV" else "has a literal secret default"
        message = f"{ins.keyword} {kv.key} {what} ({match.kind})"
        finding = ctx.finding(self, kv.pair, message, fix=fix, reason=reason)
        assert kv.value is not None and kv.value_span is not None
        raw = ctx.text[kv.value_span.start : kv.value_span.end]
        return dataclasses.replace(finding, masks=masks_for(kv.value, raw))


def _target(ctx: Context[Dockerfile]) -> SecretTarget:
    # With --secrets-dir, a/app/Dockerfile and b/app/Dockerfile share one folder: their
    # Secrets are named a-app-secrets and b-app-secrets, not both app-secrets.
    folders = source_folders(ctx.settings, ctx.path)[:-1]
    name = secret_name_for(joined((*folders, image_name(ctx.path))))
    return SecretTarget.beside(ctx.settings, ctx.path, f"{name}.secret.yaml", name, None)


def image_name(path: Path) -> str:
    """What the Dockerfile builds, for naming its Secret: the folder's name, plus the
    variant of ``Dockerfile.<x>``, ``Dockerfile-<x>`` or ``<x>.Dockerfile``."""
    folder = Path(os.path.abspath(path)).parent.name
    lower = path.name.lower()
    variant = path.name
    for base in _BASE_NAMES:
        if lower == base:
            return folder
        if lower.startswith((base + ".", base + "-")):
            variant = path.name[len(base) + 1 :]
        elif lower.endswith("." + base):
            variant = path.name[: -len(base) - 1]
    return "-".join(p for p in (folder, variant) if p)


def _fix(
    ctx: Context[Dockerfile],
    ins: Instruction,
    pairs: list[KeyValue],
    hits: list[Hit],
    target: SecretTarget,
    keys: KeyAllocator,
) -> tuple[Fix | None, str]:
    """One fix per instruction: the pairs of one ENV must go together to stay valid."""
    data = {keys.key(target, kv.key, kv.value or ""): kv.value or "" for kv, _ in hits}
    if ins.keyword == "ARG":
        edits = [Edit.delete(kv.key_span.end, kv.pair.end) for kv, _ in hits]
    else:
        removed = remove_pairs(ctx.doc, ins, pairs, {id(kv) for kv, _ in hits})
        if removed is None:
            return None, "the value spans continuation lines; move it by hand"
        edits = removed
    origin = f"{ctx.path.as_posix()}:{ins.span.start}"
    note = needs = ""
    if ins.keyword == "ENV":
        values = {kv.key: kv.value or "" for kv, _ in hits}
        followed = follow(ctx, values, tuple(edits), origin)
        if isinstance(followed, Fix):
            return followed, ""
        if followed is not None:
            # Whatever runs the image (a compose service, a chart, a deployment elsewhere)
            # loses the variable: withheld until the value has a way back in.
            note = f"; {followed.note}"
            names = ", ".join(values)
            needs = (
                f"a manifest that runs the image and gets {names} from the Secret "
                f"({followed.note}); reference the Secret where the image runs, then apply "
                "with --unsafe-fixes"
            )
    side = side_file(target, data, origin)
    title = _title(ctx, ins, [kv for kv, _ in hits], target, ", ".join(data)) + note
    moved = tuple(secret_moves.plain(target, key) for key in data)
    safety = Safety.UNPROVEN if needs else Safety.PROVEN
    return Fix(title, tuple(edits), safety, (side,), needs=needs, moved=moved), ""


def _title(
    ctx: Context[Dockerfile],
    ins: Instruction,
    hits: list[KeyValue],
    target: SecretTarget,
    keys: str,
) -> str:
    names = ", ".join(kv.key for kv in hits)
    noun = "key" if len(hits) == 1 else "keys"
    moved = f"value moved to Secret {target.name} ({noun} {keys}) in {target.shown}"
    if ins.keyword == "ARG":
        ids = ", ".join(f"--mount=type=secret,id={kv.key.lower()},env={kv.key}" for kv in hits)
        return f"drop the default of ARG {names}; {moved}; at build time use RUN {ids}"
    used = [kv.key for kv in hits if _used_later(ctx.text, ins, kv.key)]
    note = ""
    if used:
        note = (
            f"; {', '.join(used)} is still used by a later instruction: use RUN --mount=type=secret"
        )
    return f"remove ENV {names}; {moved}: {REFERENCE_HINT}{note}"


def _used_later(text: str, ins: Instruction, key: str) -> bool:
    return (
        re.search(r"\$\{?" + re.escape(key) + r"(?![A-Za-z0-9_])", text[ins.span.end :]) is not None
    )
