"""Output that may quote file text, held until every secret value of the run is known.

A value found in the hundredth file may also sit in the first (the same password in two
manifests, or in a comment): masking each file's output with the values found so far would
print it in the clear before it is known to be a secret. So whatever stdout would show of
file text (``--dry-run`` diffs, ``--format github`` annotations; json and sarif are one
document anyway) is kept, unmasked, until the run ends and masked then with the full set.
The summary, progress, notices and errors (stderr) stay live: they never quote file text.

The cost is the diff text of the run in memory (3 MB for the 2,934 files of the corpus).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from typing import Any, TextIO

from fixer.output.diff import MASKED_HEADER, PatchError, mask, mask_diff, same_shape
from fixer.output.github import escape_data

#: Keys whose string values may quote file text, per structured format.
SARIF_TEXT = frozenset({"text"})  # message.text, description.text, insertedContent.text
JSON_TEXT = frozenset({"message", "title", "reason"})


def masked_diffs(
    diffs: Iterable[str], secrets: Collection[str], *, unmasked: bool = False
) -> Iterator[str | PatchError]:
    """Each held diff masked with the run's full set (hunk lines only, see ``mask_diff``),
    after a header saying it will not apply when masking changed it; a ``PatchError`` for
    a diff that masking damaged (the caller reports it and prints nothing of it). ``unmasked``
    (``--unmasked-diff``): the diffs as they are, for ``git apply``."""
    frozen = frozenset(secrets)
    for text in diffs:
        shown = text if unmasked else mask_diff(text, frozen)
        if shown == text:
            yield text
        elif same_shape(shown, text):  # masking replaces within lines: never more or fewer
            yield MASKED_HEADER + shown
        else:
            name = text.split("\n", 1)[0].removeprefix("diff --git ")
            yield PatchError(
                f"internal error: masking changed the shape of the diff ({name}); "
                "not printed (please report this)"
            )


#: The command line that writes the real patch, for messages.
UNMASKED_USE = "tighten fix --dry-run --unmasked-diff > fix.patch"


def unmasked_refusal(out: TextIO, *, dry_run: bool, fmt: str) -> str | None:
    """Why ``--unmasked-diff`` cannot run here, or None. It prints secret values, so only
    into a pipe or a file: never onto a terminal, where they would stay in the scrollback
    or a session log."""
    if not dry_run:
        return f"--unmasked-diff needs --dry-run (it prints the patch): {UNMASKED_USE}"
    if fmt != "text":
        return "--unmasked-diff prints a diff: it cannot be used with --format " + fmt
    try:
        terminal = out.isatty()
    except ValueError:  # a closed stream is no terminal
        terminal = False
    if terminal:
        return f"--unmasked-diff prints secret values: redirect stdout ({UNMASKED_USE})"
    return None


def masked_github(text: str, secrets: Collection[str]) -> str:
    """Workflow commands with the values masked in each message (after the second ``::``;
    the properties before it are paths, rule ids and numbers). The message is escaped, so
    the values are looked for escaped the same way."""
    escaped = {escape_data(value) for value in secrets if value}
    lines = text.splitlines(keepends=True)
    for i, line in enumerate(lines):
        cut = line.find("::", 2) + 2 if line.startswith("::") else 0
        if cut >= 2:
            lines[i] = line[:cut] + mask(line[cut:], escaped)
    return "".join(lines)


def masked_items(value: Any, keys: frozenset[str], secrets: Collection[str]) -> Any:
    """``value`` (json or sarif objects) with the strings under ``keys`` masked."""
    frozen = frozenset(secrets)
    if not frozen:
        return value
    return _walk(value, keys, frozen)


def _walk(value: Any, keys: frozenset[str], secrets: frozenset[str]) -> Any:
    if isinstance(value, list):
        return [_walk(item, keys, secrets) for item in value]
    if isinstance(value, dict):
        return {
            key: mask(item, secrets)
            if key in keys and isinstance(item, str)
            else _walk(item, keys, secrets)
            for key, item in value.items()
        }
    return value
