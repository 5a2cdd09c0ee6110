"""The floor plan (README, "Architecture"): no module imports one from a layer above it.

Every import counts, including the ones inside functions and under ``TYPE_CHECKING``: a
lazy import is still a dependency. A new module must be placed in a layer here.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: Top to bottom; a module may import its own layer and the ones below. The longest
#: matching prefix places a module.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("cli", ("fixer.cli", "fixer.__main__", "fixer.entry")),
    (
        "commands",
        (
            "fixer.session",
            "fixer.replay",
            "fixer.pr",
            "fixer.options",
            "fixer.option_values",
            "fixer.config",
        ),
    ),
    (
        "engine",
        (
            "fixer.engine",
            "fixer.runner",
            "fixer.parallel",
            "fixer.discover",
            "fixer.gitignored",
            "fixer.sidefiles",
            "fixer.output",
            "fixer.report",
            "fixer.pinning",
            "fixer.cache",
            "fixer.sniff",
            "fixer.overlays",
        ),
    ),
    ("rules", ("rules", "fixer.rule", "fixer.ruleset", "fixer.selectors", "fixer.suppress")),
    (
        "documents",
        (
            "fixer.documents",
            "fixer.kinds",
            "fixer.registry",
            "fixer.secrets",
            "fixer.evidence",
            "fixer.repository",
        ),
    ),
    (
        "base",
        (
            "fixer.apply",
            "fixer.write",
            "fixer.spool",
            "fixer.roots",
            "fixer.readfile",
            "fixer.interrupt",
            "fixer.gitcmd",
            "fixer.filenames",
            "fixer.tree",
        ),
    ),
    ("model", ("fixer.model", "fixer.settings", "fixer.mode", "fixer")),
)


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in ("fixer", "rules"):
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def _layer(module: str) -> int | None:
    places = [
        (len(prefix), index)
        for index, (_, prefixes) in enumerate(LAYERS)
        for prefix in prefixes
        if module == prefix or (module.startswith(prefix + ".") and prefix != "fixer")
    ]
    return max(places)[1] if places else None


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*base_parts, *([node.module] if node.module else [])])
            else:
                base = node.module or ""
            for alias in node.names:
                full = f"{base}.{alias.name}"
                found.add(full if full in modules else base)
    return {m for m in found if m.split(".")[0] in ("fixer", "rules") and m != name}


def test_every_module_has_a_layer() -> None:
    unplaced = sorted(m for m in _modules() if _layer(m) is None)
    assert unplaced == []


def test_no_module_imports_a_layer_above_it() -> None:
    modules = _modules()
    upward = []
    for name, path in sorted(modules.items()):
        own = _layer(name)
        assert own is not None
        for target in sorted(_imports(name, path, modules)):
            layer = _layer(target)
            if layer is not None and layer < own:
                upward.append(f"{name} ({LAYERS[own][0]}) -> {target} ({LAYERS[layer][0]})")
    assert upward == []


def test_the_engine_imports_no_rule() -> None:
    modules = _modules()
    offenders = [
        name
        for name, path in modules.items()
        if name.startswith("fixer")
        and any(m == "rules" or m.startswith("rules.") for m in _imports(name, path, modules))
    ]
    assert offenders == []
