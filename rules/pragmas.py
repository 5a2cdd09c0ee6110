"""TGT001: a tighten suppression that names no rule (ruff's RUF100 for unknown codes)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fixer.model import Finding, Safety
from fixer.rule import Context, Rule
from fixer.selectors import in_pragma, suggest
from fixer.suppress import own_codes


class UnknownSuppression(Rule[Any]):
    """Suppression names an unknown rule.

    ## What it does
    Checks every `# tighten ignore=...` and `# tighten global ignore=...` comment, and every
    `ignore-check.tighten.dev/<rule>` annotation, for names that are not a rule id
    (`DF001`), a rule name (`non-root-user`) or a peer check a rule covers (`DL3002`),
    written exactly as `tighten rules` prints them. The peers' own pragmas
    (`# hadolint ignore=`, `#checkov:skip=`, kube-linter annotations) name the peers'
    checks and are not judged.

    ## Why is this bad?
    A misspelt suppression silences nothing, so the finding it was meant for comes back
    and nobody knows why; or it was meant to record a decision that now records nothing.
    Pragmas take whole ids: `# tighten ignore=DF` and `# tighten ignore=df001` silence
    nothing either.

    ## Example
    ```dockerfile
    FROM debian:bookworm-slim
    # tighten ignore=DF009
    USER root
    ```
    Use instead:
    ```dockerfile
    FROM debian:bookworm-slim
    # tighten ignore=DF001
    USER root
    ```

    ## Fix safety
    No fix: which rule was meant is a decision for a person (the message suggests the
    closest one). Select it away like any rule (`--ignore TGT001`), or silence one line
    with `# tighten ignore=TGT001`.
    """

    id = "TGT001"
    name = "unknown-suppression"
    target = "any"  # every file kind: comments and annotations
    summary = "unknown rule in a tighten pragma or annotation -> reported (no fix)"
    safety = Safety.SAFE
    aliases = ()

    def check(self, ctx: Context[Any]) -> Iterator[Finding]:
        for named in own_codes(ctx.doc):
            if in_pragma(named.code):
                continue
            where = "annotation" if named.annotation else "pragma"
            hint = suggest(named.code)
            message = f"unknown rule {named.code!r} in a tighten {where}: it silences nothing"
            if hint:
                message += f" (did you mean {hint}?)"
            yield ctx.finding(self, named.span, message)
