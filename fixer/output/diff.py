"""Git-style unified diffs that ``git apply`` accepts (CRLF, missing final newline, new files)."""

from __future__ import annotations

import bisect
import difflib
import os
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from fixer.output.text import display_path

NO_NEWLINE = "\\ No newline at end of file\n"
#: Up to this many lines (old + new, besides the lines both share at the start and the
#: end) difflib matches them; above it, lines found once in each file anchor the diff first
#: (see ``_matching_blocks``).
ANCHOR_ABOVE = 4000


def diff_path(path: Path) -> str:
    """The path as ``git apply`` expects it from the current folder."""
    text = display_path(path)
    if os.path.isabs(text):
        return text.lstrip("/")
    return os.path.normpath(text).replace(os.sep, "/")


_GIT_ESCAPES = {"\n": "\\n", "\t": "\\t", "\r": "\\r", '"': '\\"', "\\": "\\\\"}
#: What makes git quote a name: a control character, DEL, a quote or a backslash.
_GIT_QUOTED = re.compile(r'[\x00-\x1f\x7f"\\]')


def _git_quoted(name: str) -> str:
    """``name`` as git writes it in diff headers: C-quoted when it holds a control
    character, a quote or a backslash (a newline in a name would start a fake header)."""
    if not _GIT_QUOTED.search(name):
        return name
    body = "".join(
        _GIT_ESCAPES.get(c) or (f"\\{ord(c):03o}" if ord(c) < 0x20 or ord(c) == 0x7F else c)
        for c in name
    )
    return f'"{body}"'


def split_lines(text: str) -> list[str]:
    """Lines split on LF only (as git does), each keeping its line ending."""
    if not text:
        return []
    parts = text.split("\n")
    lines = [p + "\n" for p in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def unified_diff(path: str, old: str | None, new: str, *, context: int = 3) -> str:
    """A diff from ``old`` (None: the file is new) to ``new`` for ``path`` (posix, relative)."""
    if old == new:
        return ""
    a_path, b_path = _git_quoted(f"a/{path}"), _git_quoted(f"b/{path}")
    header = [f"diff --git {a_path} {b_path}\n"]
    if old is None:
        header.append("new file mode 100644\n")
    body = list(_hunks(split_lines(old or ""), split_lines(new), context))
    if not body:
        return ""
    before = "/dev/null" if old is None else a_path
    header += [f"--- {before}\n", f"+++ {b_path}\n"]
    return "".join(header + body)


def _hunks(a: list[str], b: list[str], context: int) -> Iterator[str]:
    for line in _diff_lines(a, b, context):
        if line.startswith("@@") or line.endswith("\n"):
            yield line
        else:
            yield line + "\n" + NO_NEWLINE


def _diff_lines(a: list[str], b: list[str], context: int) -> Iterator[str]:
    """difflib's unified hunks (without its ---/+++ lines).

    The lines the two texts share at both ends (all but the few a fix touches) are matched
    as they are, and difflib matches only what lies between: it compares every line with
    every other, which was most of the cost of a diff."""
    head = 0
    most = min(len(a), len(b))
    while head < most and a[head] == b[head]:
        head += 1
    tail = 0
    while tail < most - head and a[-1 - tail] == b[-1 - tail]:
        tail += 1
    if len(a) + len(b) - 2 * (head + tail) <= ANCHOR_ABOVE:
        blocks = _trimmed_blocks(a, b, head, tail)
    else:
        # difflib alone is quadratic on a long file of similar documents (every Deployment
        # of a 40,000-document file has the same lines): lines that occur once in each file
        # anchor the match first (as patience diff does), difflib matches between them.
        blocks = _matching_blocks(a, b)
    for group in _Blocks(a, b, blocks).get_grouped_opcodes(context):
        first, last = group[0], group[-1]
        yield f"@@ -{_range(first[1], last[2])} +{_range(first[3], last[4])} @@\n"
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                yield from (" " + line for line in a[i1:i2])
                continue
            yield from ("-" + line for line in a[i1:i2])
            yield from ("+" + line for line in b[j1:j2])


def _range(start: int, stop: int) -> str:
    """A hunk range as difflib writes it (``start,length``; an empty range names the line
    before it)."""
    beginning, length = start + 1, stop - start
    if length == 1:
        return str(beginning)
    if not length:
        beginning -= 1
    return f"{beginning},{length}"


class _Blocks(difflib.SequenceMatcher[str]):
    """difflib's matcher given its matching blocks (its opcodes and hunk grouping follow
    from them), without indexing the second text's lines, which nothing here asks."""

    def __init__(self, a: list[str], b: list[str], blocks: list[difflib.Match]) -> None:
        super().__init__(None, [], [], autojunk=False)
        self.a, self.b = a, b
        self._blocks = blocks

    def get_matching_blocks(self) -> list[difflib.Match]:
        return self._blocks


def _trimmed_blocks(a: list[str], b: list[str], head: int, tail: int) -> list[difflib.Match]:
    """The matching blocks of two texts that share their first ``head`` and last ``tail``
    lines: those as they are, difflib's between them."""
    middle = difflib.SequenceMatcher(
        None, a[head : len(a) - tail], b[head : len(b) - tail], autojunk=False
    )
    blocks = [(0, 0, head)] if head else []
    blocks += [(head + i, head + j, n) for i, j, n in middle.get_matching_blocks() if n]
    if tail:
        blocks.append((len(a) - tail, len(b) - tail, tail))
    return [difflib.Match(*m) for m in _merged(blocks)] + [difflib.Match(len(a), len(b), 0)]


def _matching_blocks(a: list[str], b: list[str]) -> list[difflib.Match]:
    blocks: list[tuple[int, int, int]] = []
    i0 = j0 = 0
    for i, j in [*_anchors(a, b), (len(a), len(b))]:
        gap = difflib.SequenceMatcher(None, a[i0:i], b[j0:j], autojunk=False)
        blocks.extend((i0 + x, j0 + y, n) for x, y, n in gap.get_matching_blocks() if n)
        if i < len(a):
            blocks.append((i, j, 1))
        i0, j0 = i + 1, j + 1
    return [difflib.Match(*m) for m in _merged(blocks)] + [difflib.Match(len(a), len(b), 0)]


def _anchors(a: Sequence[str], b: Sequence[str]) -> list[tuple[int, int]]:
    """Pairs (i, j) of lines unique in both files, the longest run in order in both."""
    count_a, count_b = Counter(a), Counter(b)
    where_b = {line: j for j, line in enumerate(b) if count_b[line] == 1}
    pairs = [
        (i, where_b[line]) for i, line in enumerate(a) if count_a[line] == 1 and line in where_b
    ]
    # Longest increasing subsequence in j (patience sorting): tails[k] is the index into
    # ``pairs`` of the smallest j ending an increasing run of length k + 1.
    tails: list[int] = []
    tail_js: list[int] = []
    before: list[int] = []
    for index, (_, j) in enumerate(pairs):
        k = bisect.bisect_left(tail_js, j)
        before.append(tails[k - 1] if k else -1)
        if k == len(tails):
            tails.append(index)
            tail_js.append(j)
        else:
            tails[k], tail_js[k] = index, j
    run: list[tuple[int, int]] = []
    index = tails[-1] if tails else -1
    while index >= 0:
        run.append(pairs[index])
        index = before[index]
    return run[::-1]


def _merged(blocks: list[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
    """Adjacent matching blocks joined, as difflib reports them."""
    out: list[tuple[int, int, int]] = []
    for i, j, n in blocks:
        if out and out[-1][0] + out[-1][2] == i and out[-1][1] + out[-1][2] == j:
            out[-1] = (out[-1][0], out[-1][1], out[-1][2] + n)
        else:
            out.append((i, j, n))
    return out


def mask(text: str, secrets: set[str] | frozenset[str]) -> str:
    """``text`` with every secret value replaced by ``***`` (longest first)."""
    for value in sorted(secrets, key=len, reverse=True):
        if value:
            text = text.replace(value, "***")
    return text


def mask_diff(text: str, secrets: set[str] | frozenset[str]) -> str:
    """``mask`` for unified diffs: hunk lines only, so that a short secret that also occurs
    in a path or a line number (``12``, ``mysql``) leaves file headers and ``@@`` intact."""
    ordered = [v for v in sorted(secrets, key=len, reverse=True) if v]
    if not any(v in text for v in ordered):
        return text  # nothing to hide (the usual case: the set grows over a whole run)
    out: list[str] = []
    in_hunk = False
    for line in text.splitlines(keepends=True):
        if line.startswith("diff --git "):  # hunk lines start with " ", "+", "-" or "\\"
            in_hunk = False
        elif line.startswith("@@ "):
            in_hunk = True
            out.append(line)
            continue
        if in_hunk:
            for value in ordered:  # as ``mask`` does, sorted once per diff, not per line
                line = line.replace(value, "***")
        out.append(line)
    return "".join(out)


#: Put before a masked diff (``git apply`` skips text before ``diff --git``): masked lines
#: no longer match the file, so the patch cannot apply, and the reader should know why.
MASKED_HEADER = (
    "# tighten: secret values in the next diff are masked as ***: it will not apply; "
    "`tighten fix --dry-run --unmasked-diff > fix.patch` writes the patch that applies\n"
)


class PatchError(ValueError):
    """An emitted diff that does not say what the fix did (a bug in the diff writer)."""


def checked_diff(path: str, old: str | None, new: str) -> str:
    """``unified_diff``, parsed back with unidiff and applied to ``old`` in memory: it must
    give ``new`` exactly, or ``PatchError``. A patch printed for ``git apply`` is checked
    by a second parser before anyone pipes it into their tree."""
    text = unified_diff(path, old, new)
    if text and patched(text, old or "") != new:
        raise PatchError("the diff does not turn the file into the fixed text")
    return text


def patched(diff: str, old: str) -> str:
    """``old`` with the one-file ``diff`` applied, as unidiff reads the diff."""
    from unidiff.errors import UnidiffParseError
    from unidiff.patch import PatchSet

    try:
        files = PatchSet(diff)
    except UnidiffParseError as exc:
        raise PatchError(f"unidiff cannot read the diff: {exc}") from None
    if len(files) != 1:
        raise PatchError(f"the diff holds {len(files)} files, not 1")
    lines, out, at = split_lines(old), [], 0
    for hunk in files[0]:
        start = hunk.source_start - 1 if hunk.source_length else hunk.source_start
        if start < at:
            raise PatchError("hunks overlap or go backwards")
        out += lines[at:start]
        at = start
        for line, value in _hunk_lines(hunk):
            if line.is_added:
                out.append(value)
                continue
            if at >= len(lines) or lines[at] != value:
                raise PatchError(f"line {at + 1} of the diff does not match the file")
            if line.is_context:
                out.append(value)
            at += 1
    return "".join(out + lines[at:])


def _hunk_lines(hunk: Any) -> Iterator[tuple[Any, str]]:
    """(line, its text): the line before a "No newline" marker loses its ``\\n``."""
    items = list(hunk)
    for i, line in enumerate(items):
        if line.line_type not in "+- ":
            continue  # the marker itself
        value: str = line.value
        after = items[i + 1] if i + 1 < len(items) else None
        if after is not None and after.line_type == "\\":
            value = value.removesuffix("\n")
        yield line, value


def same_shape(masked: str, diff: str) -> bool:
    """Whether masking kept the diff's structure: the same files, hunks and line counts
    (a value is replaced within a line, so nothing else may change)."""
    from unidiff.errors import UnidiffParseError
    from unidiff.patch import PatchSet

    try:
        ours, theirs = (PatchSet(text, metadata_only=True) for text in (masked, diff))
    except UnidiffParseError:
        return False
    return _shape(ours) == _shape(theirs)


def _shape(files: Any) -> list[tuple[Any, ...]]:
    return [
        (
            f.path,
            h.source_start,
            h.source_length,
            h.target_start,
            h.target_length,
            h.added,
            h.removed,
        )
        for f in files
        for h in f
    ]
