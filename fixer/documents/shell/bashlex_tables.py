"""bashlex without its start-up cost: its parser tables, stored.

bashlex bundles a copy of PLY that builds the LALR tables of its bash grammar on every
import (it never reads a ``parsetab``): 0.13 to 0.2 s, paid again by every worker process
of a run that asks bashlex for a second opinion (``bashlex_agrees``). The tables depend only
on the grammar, so they are stored next to this module (``bashlex_tables.json``, written by
``python -m fixer.documents.shell.bashlex_tables``) with a digest of the grammar they were
built from. ``load`` imports bashlex with PLY's table builder answered from that file when
the installed grammar has the same digest; any other bashlex builds its tables as usual.
``tests/test_shell.py`` checks the stored tables against freshly built ones.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

TABLES = Path(__file__).with_name("bashlex_tables.json")


def load() -> ModuleType:
    """The ``bashlex`` module, imported with its stored tables when they fit."""
    loaded = sys.modules.get("bashlex")
    if loaded is not None:
        return loaded
    # The package's __init__ imports its parser, which builds the tables: the package is
    # created first, its table builder replaced, then the __init__ run.
    spec = importlib.util.find_spec("bashlex")
    if spec is None or spec.loader is None:
        raise ImportError("bashlex is not installed")
    package = importlib.util.module_from_spec(spec)
    sys.modules["bashlex"] = package
    try:
        yacc: Any = importlib.import_module("bashlex.yacc")
    except BaseException:
        _forget()
        raise
    builder = yacc.LRTable
    stored = _stored()

    class StoredTable(builder):  # type: ignore[misc, valid-type]
        """PLY's LR table, from the stored file when the grammar is the one it was built
        from (what ``LRParser`` and ``bind_callables`` read of it is set here)."""

        def __init__(self, grammar: Any, log: Any = None) -> None:
            if stored is None or stored.get("grammar") != grammar_digest(grammar):
                super().__init__(grammar, log)
                return
            self.grammar = grammar
            self.log = log or yacc.NullLogger()
            self.lr_productions = grammar.Productions
            self.lr_action = {n: dict(row) for n, row in enumerate(stored["action"])}
            self.lr_goto = {n: dict(row) for n, row in enumerate(stored["goto"])}
            self.lr_goto_cache: dict[Any, Any] = {}
            self.lr0_cidhash: dict[Any, Any] = {}
            self._add_count = 0
            self.sr_conflict = self.rr_conflict = 0
            self.conflicts: list[Any] = []
            self.sr_conflicts: list[Any] = []
            self.rr_conflicts: list[Any] = []

    yacc.LRTable = StoredTable
    try:
        spec.loader.exec_module(package)
    except BaseException:
        _forget()
        raise
    finally:
        yacc.LRTable = builder
    return package


def _forget() -> None:
    """A failed import leaves no half-made bashlex behind (the next ``import`` retries)."""
    for name in [n for n in sys.modules if n == "bashlex" or n.startswith("bashlex.")]:
        del sys.modules[name]


def grammar_digest(grammar: Any) -> str:
    """What the tables depend on: every production (with its precedence), the
    precedence table and the start symbol."""
    parts = [[str(p), list(p.prec)] for p in grammar.Productions if p is not None]
    precedence = sorted((k, list(v)) for k, v in grammar.Precedence.items())
    text = json.dumps([parts, precedence, grammar.Start], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _stored() -> dict[str, Any] | None:
    try:
        with open(TABLES, encoding="utf-8") as handle:
            value = json.load(handle)
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def built() -> dict[str, Any]:
    """The tables the installed bashlex builds, in the stored file's form."""
    bashlex = load()
    from bashlex import yacc

    parser = bashlex.parser.yaccparser
    grammar = _grammar_of(bashlex, yacc)
    table = yacc.LRTable(grammar)
    states = len(table.lr_action)
    assert sorted(table.lr_action) == list(range(states))
    assert len(parser.action) == states
    return {
        "grammar": grammar_digest(grammar),
        "action": [sorted(table.lr_action[n].items()) for n in range(states)],
        "goto": [sorted(table.lr_goto.get(n, {}).items()) for n in range(states)],
    }


def _grammar_of(bashlex: ModuleType, yacc: ModuleType) -> Any:
    """The grammar bashlex's parser module declares, built as ``yacc.yacc`` builds it."""
    module = bashlex.parser
    pdict = {k: getattr(module, k) for k in dir(module)}
    info = yacc.ParserReflect(pdict, log=yacc.NullLogger())
    info.get_all()
    info.validate_all()
    grammar = yacc.Grammar(info.tokens)
    for term, assoc, level in info.preclist:
        grammar.set_precedence(term, assoc, level)
    for funcname, gram in info.grammar:
        file, line, prodname, syms = gram
        grammar.add_production(prodname, syms, funcname, file, line)
    grammar.set_start(info.start)
    return grammar


if __name__ == "__main__":  # regenerate after a bashlex upgrade changed its grammar
    TABLES.write_text(json.dumps(built(), separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"wrote {TABLES}")
