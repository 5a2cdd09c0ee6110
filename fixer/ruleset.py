"""The rules of a run: loaded once at the edge (the CLI) and handed down as one value.

The engine never imports ``rules``: the rule packages are found through the
``tighten.rules`` entry-point group (``rules:all_rules`` is the built-in one), so the
engine, the outputs and ``tighten pr`` only ever see the ``RuleSet`` they are given.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fixer.rule import Rule
from fixer.settings import Settings

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

GROUP = "tighten.rules"
#: The installed rules named without loading them: a line per entry point, and the
#: top-level modules their code lives in (see ``installed_identity``).
Identity = tuple[str, frozenset[str]]


class RuleLoadError(Exception):
    """The rules could not be loaded (a broken install or plug-in); one line for the user."""


@dataclass(frozen=True)
class RuleSet:
    """Rules in id order, with the look-ups every layer needs."""

    rules: tuple[Rule[Any], ...]
    #: The installed set (``installed``) carries what ``installed_identity`` says of it:
    #: the result cache keys it by its entry points, which a run reads without loading it.
    identity: Identity | None = field(default=None, compare=False)
    _by_target: dict[str, tuple[Rule[Any], ...]] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        ordered = tuple(sorted(self.rules, key=lambda r: r.id))
        object.__setattr__(self, "rules", ordered)
        seen: dict[str, str] = {}
        for rule in ordered:
            for key in {rule.id.upper(), rule.name.upper()}:
                if key in seen:
                    raise RuleLoadError(f"two rules are called {key}: {seen[key]} and {rule.id}")
                seen[key] = rule.id

    def __iter__(self) -> Iterator[Rule[Any]]:
        return iter(self.rules)

    def __len__(self) -> int:
        return len(self.rules)

    def for_target(self, target: str) -> tuple[Rule[Any], ...]:
        """The rules for one kind of document ("dockerfile", "kubernetes"), with those
        that read every kind (target ``any``), in id order."""
        found = self._by_target.get(target)
        if found is None:
            found = tuple(r for r in self.rules if r.target in (target, "any"))
            self._by_target[target] = found
        return found

    def find(self, wanted: str) -> Rule[Any] | None:
        """The rule with this id (any case), name, or peer alias (DL3002, CKV_K8S_16)."""
        key = wanted.upper()
        for match in (
            lambda r: r.id == key,
            lambda r: r.name.upper() == key,
            lambda r: key in (a.upper() for a in r.aliases),
        ):
            found = next((r for r in self.rules if match(r)), None)
            if found is not None:
                return found
        return None

    def enabled(self, target: str, settings: Settings, path: Path) -> list[Rule[Any]]:
        """The rules that run on one file: selected, not ignored (per path too)."""
        return [
            r
            for r in self.for_target(target)
            if settings.selection.rule_enabled_at(r.id, path) and _wanted(r, settings)
        ]

    def offered(self, settings: Settings) -> tuple[Rule[Any], ...]:
        """The rules a run's report describes (SARIF ``driver.rules``): every default rule,
        whatever the selection, and the opt-in ones the selection names."""
        return tuple(r for r in self.rules if _wanted(r, settings))


def _wanted(rule: Rule[Any], settings: Settings) -> bool:
    """An opt-in rule runs only when the selection names it (a prefix is not enough)."""
    if not rule.opt_in:
        return True
    chosen = settings.selection.select or frozenset()
    return rule.id in chosen or rule.name.upper() in chosen


@cache
def installed() -> RuleSet:
    """Every rule of every installed ``tighten.rules`` entry point, loaded once per process:
    by the CLI, which hands the set down, and by the selector checks at the same edge."""
    found: list[Rule[Any]] = []
    points = _points()
    if not points:
        raise RuleLoadError(
            f"no rules installed (entry-point group {GROUP!r} is empty): reinstall tighten"
        )
    for point in points:
        try:
            factory: Callable[[], Iterable[Rule[Any]]] = point.load()
            rules = list(factory())
        except Exception as exc:  # a broken plug-in is named, never a traceback
            raise RuleLoadError(
                f"cannot load rules {point.name!r} ({point.value}): {type(exc).__name__}: {exc}"
            ) from exc
        found.extend(rules)
    return RuleSet(tuple(found), identity=_identity(points))


def installed_identity() -> Identity:
    """The installed rules, named without loading them: a line per ``tighten.rules`` entry
    point (its name, what it loads, its distribution and version), and the top-level
    modules their code lives in (the result cache stamps those files)."""
    return _identity(_points())


def _points() -> list[EntryPoint]:
    from importlib.metadata import entry_points

    return sorted(entry_points(group=GROUP), key=lambda p: p.name)


def _identity(points: list[EntryPoint]) -> Identity:
    lines, modules = [], set()
    for point in points:
        dist = point.dist
        source = f"{dist.name} {dist.version}" if dist is not None else ""
        lines.append(f"{point.name}\0{point.value}\0{source}\n")
        modules.add(point.module.split(".")[0])
    return "".join(lines), frozenset(modules)
