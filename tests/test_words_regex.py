"""``words`` is a regular expression now; it must split exactly as the character loop it
replaced (kept here as the reference) on every input, quotes and escapes included."""

from __future__ import annotations

import random

from fixer.documents.dockerfile.words import words


def reference_words(text: str, start: int = 0) -> list[tuple[int, int]]:
    """Shell-like word boundaries in ``text`` (quotes and backslash escapes respected)."""
    out: list[tuple[int, int]] = []
    i, n = start, len(text)
    while i < n:
        while i < n and text[i] in " \t":
            i += 1
        if i >= n:
            break
        begin, quote = i, ""
        while i < n and (quote or text[i] not in " \t"):
            ch = text[i]
            if ch == "\\" and quote != "'" and i + 1 < n:
                i += 2
                continue
            if quote and ch == quote:
                quote = ""
            elif not quote and ch in "\"'":
                quote = ch
            i += 1
        out.append((begin, i))
    return out


def test_words_split_as_the_reference_loop_on_random_texts() -> None:
    alphabet = ["a", "b", " ", "\t", '"', "'", "\\", "\n", "$", "="]
    rng = random.Random(1)
    for _ in range(50_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 14)))
        start = rng.randint(0, len(text))
        assert words(text, start) == reference_words(text, start), (text, start)


def test_words_examples() -> None:
    text = 'apt-get install -y "a b" c\\ d \'e f\' "unterminated x'
    got = [text[s:e] for s, e in words(text)]
    assert got == ["apt-get", "install", "-y", '"a b"', "c\\ d", "'e f'", '"unterminated x']
