"""Git-style unified diffs that ``git apply`` accepts (CRLF, missing final newline, new files)."""

from __future__ import annotations

import bisect
import difflib
import os
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path

from fixer.output.text import display_path

NO_NEWLINE = "\\ No newline at end of file\n"
#: Up to this many lines (old + new) difflib diffs the whole file, as it always did; above
#: it, lines found once in each file anchor the diff first (see ``_AnchoredMatcher``).
ANCHOR_ABOVE = 4000


def diff_path(path: Path) -> str:
    """The path as ``git apply`` expects it from the current folder."""
    text = display_path(path)
    if os.path.isabs(text):
        return text.lstrip("/")
    return os.path.normpath(text).replace(os.sep, "/")


_GIT_ESCAPES = {"\n": "\\n", "\t": "\\t", "\r": "\\r", '"': '\\"', "\\": "\\\\"}


def _git_quoted(name: str) -> str:
    """``name`` as git writes it in diff headers: C-quoted when it holds a control
    character, a quote or a backslash (a newline in a name would start a fake header)."""
    if not any(c in _GIT_ESCAPES or ord(c) < 0x20 or ord(c) == 0x7F for c in name):
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
    """difflib's unified hunks (without its ---/+++ lines)."""
    if len(a) + len(b) <= ANCHOR_ABOVE:
        yield from list(difflib.unified_diff(a, b, lineterm="\n", n=context))[2:]
        return
    for group in _AnchoredMatcher(a, b).get_grouped_opcodes(context):
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


class _AnchoredMatcher(difflib.SequenceMatcher[str]):
    """difflib's matcher, anchored first on lines that occur once in each file (as
    patience diff does), with difflib matching only the short stretches between anchors.

    difflib alone is quadratic on a long file of similar documents (every Deployment of a
    40,000-document file has the same lines); anchors make the diff n log n there.
    """

    def __init__(self, a: list[str], b: list[str]) -> None:
        super().__init__(None, a, b, autojunk=False)
        self._blocks = _matching_blocks(a, b)

    def get_matching_blocks(self) -> list[difflib.Match]:
        return self._blocks


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
