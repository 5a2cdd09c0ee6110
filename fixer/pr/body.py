"""Title, commit message and Markdown body of a ``tighten pr`` pull request. Pure functions.

The text is deterministic (no dates, stable order) so an unchanged run produces an unchanged
body and tighten can skip the API write. Every finding message goes through ``mask``; the
Secret instructions use placeholders, never values.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence

from fixer import __version__
from fixer.output.diff import mask
from fixer.output.docs import rule_doc
from fixer.output.sarif import HOME
from fixer.pr.remediation import Item, Remediation, SecretFile, SecretRef
from fixer.ruleset import RuleSet

__all__ = ["MARKER", "body", "commit_message", "fixset", "fixset_of", "title"]

MARKER = "<!-- tighten:pr -->"
_FIXSET = re.compile(r"<!-- tighten:fixset=(sha256:[0-9a-f]{64}) -->")
MAX_ROWS = 100
MAX_BODY = 60_000  # GitHub refuses bodies over 65,536 characters


def title(rem: Remediation) -> str:
    return f"Fix security findings with tighten ({', '.join(rem.rules)})"


def commit_message(rem: Remediation, rules: RuleSet) -> str:
    lines = [title(rem), "", f"Applied by tighten {__version__} (tighten pr):"]
    for rule in rem.rules:
        count = sum(1 for item in rem.fixed if item.rule == rule)
        lines.append(f"- {rule} {_rule_name(rule, rules)}: {count} fix{'es' * (count != 1)}")
    return mask("\n".join(lines) + "\n", rem.masks)


def fixset(rem: Remediation) -> str:
    """A fingerprint of the fixes: which rule fixed what in which file.

    Line numbers are left out, so an unrelated edit that moves a finding does not count as
    a new fix set; a fix that appears, disappears or changes does. Titles are masked first:
    a hash of a secret value would still be a clue to it.
    """
    lines = sorted(f"{item.rule}\t{item.path}\t{mask(item.text, rem.masks)}" for item in rem.fixed)
    return "sha256:" + hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


def fixset_of(text: str) -> str | None:
    """The fingerprint a pull request body carries (None: not one of ours, or older)."""
    match = _FIXSET.search(text)
    return match.group(1) if match else None


def body(rem: Remediation, rules: RuleSet) -> str:
    parts = [
        "## Security fixes by tighten",
        f"tighten found security mistakes in this repository's Dockerfiles and Kubernetes "
        f"manifests and fixed {len(rem.fixed)} of them. Each change is the smallest text edit "
        "that fixes the problem: comments, quoting and formatting are kept. Please read the "
        "notes below before merging.",
        "### Fixed",
        _table(["Rule", "File", "Line", "Fix"], [_row(i, _proven(i)) for i in rem.fixed]),
    ]
    if rem.withheld:
        parts += _withheld(rem.withheld)
    if rem.unfixed:
        rows = [[*_row(i, i.text), _cell(i.why)] for i in rem.unfixed]
        parts += ["### Not fixed", _table(["Rule", "File", "Line", "Problem", "Why"], rows)]
    if rem.errors:
        parts += ["### Files tighten could not process", _bullets(rem.errors)]
    parts += ["### Before you merge", _bullets(_risk(rule, rem, rules) for rule in rem.rules)]
    if rem.moved_secrets:
        parts += _secrets(rem.secret_files, rem.fixed)
    parts.append(_footer())
    # The hidden lines stay out of ``mask``: a short secret must not bend the fingerprint.
    hidden = f"{MARKER}\n<!-- tighten:fixset={fixset(rem)} -->\n\n"
    text = hidden + mask("\n\n".join(parts) + "\n", rem.masks)
    if len(text) > MAX_BODY:
        text = text[:MAX_BODY] + "\n\n*(truncated: run `tighten check` for the full list)*\n"
    return text


def _proven(item: Item) -> str:
    """A fixed item's title, with what proved a behaviour-changing fix safe."""
    return f"{item.text} (proven by: {item.evidence})" if item.evidence else item.text


def _withheld(items: Sequence[Item]) -> list[str]:
    rows = [[*_row(i, i.text), _cell(i.why)] for i in items]
    return [
        "### Withheld",
        "These fixes change behaviour, and tighten found no evidence that the workload would "
        "still start (or the build still finish) with them, so they are not in this pull "
        "request. Each says what it needs: once that is in the repository (or the image), the "
        "next run applies it; `tighten fix --unsafe-fixes` applies them without it.",
        _table(["Rule", "File", "Line", "Withheld fix", "Needs"], rows),
    ]


def _rule_name(rule: str, rules: RuleSet) -> str:
    found = rules.find(rule)
    return found.name if found else ""


def _risk(rule: str, rem: Remediation, rules: RuleSet) -> str:
    """The rule's own note for reviewers, else its *Fix safety* docs."""
    found = rules.find(rule)
    note = found and (found.risk or rule_doc(found).fix_safety)
    review = " (needs review)" if rule in rem.review else ""
    return f"**{rule}** {_rule_name(rule, rules)}{review}: {note or 'Review the change.'}"


def _secrets(files: Sequence[SecretFile], fixed: Sequence[Item]) -> list[str]:
    parts = [
        "### Rotate the moved credentials",
        "Secret values were moved out of files in this repository. They stay readable in "
        "the git history and in every clone and fork: **rotate each of these credentials** "
        "(issue a new value, revoke the old one) even after this pull request is merged.",
    ]
    parts += _moved_values(fixed)
    # A generator's env file is no Secret manifest: its moved values say what to run.
    described = {m.file for item in fixed for m in item.moved if m.file}
    for note in files:
        if not note.secrets and not note.publishable and _among(note.path, described):
            continue
        if note.publishable:
            if note.secrets:  # a Kustomization or ExternalSecret edit holds no Secret
                parts.append(
                    f"`{note.path}` is committed encrypted for the cluster (SOPS or Sealed "
                    "Secrets): the repository's workflow delivers it, no command to run."
                )
            continue
        if note.committed:
            state = "is committed with placeholder values (`REPLACE_ME`) only"
        else:
            state = "is **not** committed (it would hold the real values) and is git-ignored"
        parts.append(
            f"`{note.path}` {state}. Do not apply it as it is: create the real "
            "Secret in the cluster instead, for example:"
        )
        parts += [_kubectl(ref) for ref in note.secrets] or ["*(no Secret found in the file)*"]
    return parts


def _moved_values(fixed: Sequence[Item]) -> list[str]:
    """One row per moved value: where it came from, where it went, what a person runs to
    put the rotated value there (placeholders only)."""
    rows = [
        [
            item.rule,
            _code(f"{item.path}:{item.line}"),
            _code(moved.key),
            _cell(moved.destination),
            _cell(moved.command) if moved.command else "none",
        ]
        for item in fixed
        for moved in item.moved
    ]
    if not rows:
        return []
    return [
        "#### Where each moved value went",
        _table(["Rule", "From", "Key", "Now in", "Command (with the rotated value)"], rows),
    ]


def _among(path: str, files: set[str]) -> bool:
    """``path`` (from the repository root) is one of ``files`` (from where the run started)."""
    return any(path == f or path.endswith("/" + f) for f in files)


def _kubectl(ref: SecretRef) -> str:
    lines = [f"kubectl create secret generic {ref.name}"]
    if ref.namespace:
        lines.append(f"  --namespace {ref.namespace}")
    lines += [f"  --from-literal={key}='<new {key} value>'" for key in ref.keys]
    return "```sh\n" + " \\\n".join(lines) + "\n```"


def _footer() -> str:
    return (
        "---\n"
        f"<sub>Opened by [tighten]({HOME}) {__version__} (`tighten pr`). Every run brings "
        "this branch up to date with a force-push, until someone else pushes a commit to "
        "it; from then on tighten leaves the branch alone (`tighten pr --recreate` starts "
        "over). Closed without merging, this pull request is not opened again until the "
        "fixes change. To silence a finding, add `# tighten ignore=RULE` above the line.</sub>"
    )


def _row(item: Item, text: str) -> list[str]:
    return [item.rule, _code(item.path), str(item.line), _cell(text)]


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows[:MAX_ROWS]]
    if len(rows) > MAX_ROWS:
        lines.append(f"\n*... and {len(rows) - MAX_ROWS} more.*")
    return "\n".join(lines)


def _bullets(items: Iterable[str]) -> str:
    return "\n".join(f"- {_cell(item)}" for item in items)


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _code(text: str) -> str:
    fence = "``" if "`" in text else "`"
    pad = " " if fence == "``" else ""
    return f"{fence}{pad}{_cell(text)}{pad}{fence}"
