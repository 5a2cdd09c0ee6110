"""The ``tighten`` command line. Thin: arguments -> Settings -> run -> output -> exit code.

Exit codes: 0 nothing left to report; 1 findings remain (for ``fix --dry-run``: there is a
diff, or a finding has no fix); 2 an error happened in at least one file (all other files
are still processed).
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional, TypeVar

import typer

from fixer import __version__

if TYPE_CHECKING:
    from fixer.mode import Mode
    from fixer.ruleset import RuleSet
    from fixer.settings import Settings

_F = TypeVar("_F", bound=Callable[..., None])

EXIT_CODES = (
    "Exit codes: 0 nothing left to report; 1 findings remain (with --dry-run: there is a "
    "diff, or a finding has no fix); 2 an error in at least one file or registry look-up."
)

app = typer.Typer(
    name="tighten",
    help="Find and fix security mistakes in Dockerfiles and Kubernetes manifests.\n\n"
    "Exit codes: 0 clean, 1 findings remain (or a diff exists with --dry-run), 2 error.",
    add_completion=False,
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"tighten {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """Find and fix security mistakes in Dockerfiles and Kubernetes manifests."""


Paths = Annotated[
    Optional[list[str]],  # noqa: UP045 - typer needs Optional on Python 3.10
    # Hidden from the Arguments list, which would print its type (`<list[str]>`); the
    # usage line shows `[PATH]...` and each command's help says what PATH is.
    typer.Argument(
        help="Files or folders (default: the current folder).",
        show_default=False,
        metavar="[PATH]...",  # typer 0.28 shows a metavar that starts with [ as it is
        hidden=True,
    ),
]


def takes_options(command: str) -> Callable[[_F], _F]:
    """Give a command function the parameters ``fixer.options`` lists for ``command``.

    The function is written ``def name(ctx, paths, **values)``; typer reads the signature
    set here, so each option's flags, type, default, help and metavar come from the one
    table, and ``values`` receives them by name.
    """
    from fixer.options import for_command

    def attach(func: _F) -> _F:
        signature = inspect.signature(func, eval_str=True)
        fixed = [p for p in signature.parameters.values() if p.kind is not p.VAR_KEYWORD]
        generated = [
            inspect.Parameter(
                o.name, inspect.Parameter.KEYWORD_ONLY, default=o.default, annotation=o.parameter()
            )
            for o in for_command(command)
        ]
        parameters = fixed + generated
        func.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
        func.__annotations__ = {p.name: p.annotation for p in parameters}
        return func

    return attach


def _settings(ctx: typer.Context, command: str) -> Settings:
    """Settings from defaults, then the config file, then the flags the user typed.

    A flag left at its default does not override the config file: the context tells which
    parameters came from the command line.
    """
    from fixer.config import ConfigError, find_config, load_config
    from fixer.options import for_command
    from fixer.selectors import UnknownRule
    from fixer.settings import Settings

    cli: dict[str, Any] = {}
    given: set[str] = set()
    for option in for_command(command):
        if option.setting is None:
            continue
        try:
            cli[option.setting] = option.from_flag(ctx.params[option.name])
        except UnknownRule as exc:  # a typo must not select nothing and pass the gate
            typer.echo(f"error: {exc.where(option.flags[0])}", err=True)
            raise typer.Exit(2) from None
        if getattr(ctx.get_parameter_source(option.name), "name", "DEFAULT") != "DEFAULT":
            given.add(option.setting)
    paths = ctx.params.get("paths") or ["."]
    if paths[0] == "-":
        paths = [ctx.params.get("stdin_filename") or "."]
    try:
        found = ctx.params.get("config") or find_config(Path(paths[0]))
        from_file = load_config(found) if found is not None else {}
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    merged = {**{k: v for k, v in cli.items() if k not in from_file}, **from_file}
    merged.update({k: v for k, v in cli.items() if k in given})
    if "selection.select" in given and "selection.ignore" not in given:
        merged["selection.ignore"] = cli.get("selection.ignore", frozenset())  # `--select X`
    return Settings.of(merged)


def _rules() -> RuleSet:
    """The installed rules (the ``tighten.rules`` entry points): loaded here, at the edge,
    once per command, and handed down to everything that needs them."""
    from fixer.ruleset import RuleLoadError, installed

    try:
        return installed()
    except RuleLoadError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


@app.command(epilog=EXIT_CODES)
@takes_options("check")
def check(ctx: typer.Context, paths: Paths = None, **values: Any) -> None:
    """Report findings as `path:line: RULE message`; change nothing.

    PATH: files or folders (default: the current folder); `-` reads stdin.
    """
    from fixer.mode import Mode

    settings = _settings(ctx, "check")
    raise typer.Exit(
        _execute(
            settings,
            Mode.CHECK,
            paths or ["."],
            fmt=values["format"].value,
            quiet=values["quiet"],
            stdin_filename=values["stdin_filename"],
        )
    )


def _execute(settings: Settings, mode: Mode, paths: list[str], **session: Any) -> int:
    """Run a ``check`` or ``fix`` session over ``paths``. A ``check`` whose tree has not
    changed since the last identical run is answered from the cache before the rules load
    (``fixer.replay.quick``); otherwise the repository scan begins in a forked child before
    they load (``fixer.session.start_scan``), and a run that never asks for it (stdin, a
    replay of some files, an error) ends it."""
    from fixer.replay import quick
    from fixer.settings import OutputFormat

    # Answered from the last identical run before the rules load, when it can be.
    fmt = OutputFormat(session["fmt"])
    code, place = quick(settings, mode, paths, fmt=fmt, quiet=session["quiet"])
    if code is not None:
        return code
    from fixer.session import Session, start_scan

    scan = start_scan(settings, paths, mode)
    try:
        rules = _rules()
        run = Session(settings, mode=mode, rules=rules, early_scan=scan, stamped=place, **session)
        return run.execute(paths)
    finally:
        if scan is not None:
            scan.__exit__()


@app.command(epilog=EXIT_CODES)
@takes_options("fix")
def fix(ctx: typer.Context, paths: Paths = None, **values: Any) -> None:
    """Rewrite files in place (or print the diff with --dry-run).

    Safe fixes are always applied; fixes that change behaviour only when the evidence proves
    the workload still works. The others are withheld: their findings stay open (exit 1)
    and say what they need; --unsafe-fixes applies them anyway.

    PATH: files or folders (default: the current folder). PATH `-` reads the text from stdin and writes the fixed text to stdout (for editors);
    fixes that would write a generated Secret file are not applied from stdin.
    """
    from fixer.mode import Mode

    settings = _settings(ctx, "fix")
    raise typer.Exit(
        _execute(
            settings,
            Mode.DRY_RUN if values["dry_run"] else Mode.FIX,
            paths or ["."],
            fmt=values["format"].value,
            quiet=values["quiet"],
            stdin_filename=values["stdin_filename"],
            unmasked_diff=values["unmasked_diff"],
        )
    )


@app.command()
@takes_options("pr")
def pr(ctx: typer.Context, paths: Paths = None, **values: Any) -> None:
    """Open or update a GitHub pull request with the fixes (token: GITHUB_TOKEN or GH_TOKEN).

    PATH: files or folders (default: the current folder).

    Works in a temporary git worktree at the remote's base branch: your files, index and
    branch are never touched. When a pull request exists afterwards, the last line of
    stdout is its URL. Exit codes: 0 done or nothing to fix, 2 error.
    """
    from fixer.pr.command import PrOptions, run_pr

    settings = _settings(ctx, "pr")
    options = PrOptions(
        branch=values["branch"],
        base=values["base"],
        remote=values["remote"],
        repo=values["repo"],
        api_url=values["api_url"],
        author=values["author"],
        committer=values["committer"],
        recreate=values["recreate"],
        dry_run=values["dry_run"],
        quiet=values["quiet"],
        labels=tuple(values["label"] or ()),
        reviewers=tuple(values["reviewer"] or ()),
    )
    raise typer.Exit(run_pr(paths or ["."], settings, options, rules=_rules()))


@app.command("rules")
def rules_command() -> None:
    """List every rule: id, name, whether its fix can change behaviour, what it fixes."""
    from fixer.output.docs import table

    typer.echo(table(_rules().rules), nl=False)


@app.command("explain")
def explain_command(
    rule: Annotated[
        str,
        typer.Argument(
            metavar="RULE",
            help="Rule id (DF003), name (network-tools) or a peer check it covers (DL3002).",
            hidden=True,  # like PATH: the docstring says what RULE is, without `<str>`
        ),
    ],
) -> None:
    """Print a rule's documentation: what it does, why, an example, fix safety.

    RULE: an id (DF003), a name (network-tools) or a peer check it covers (DL3002,
    CKV_K8S_20, privilege-escalation-container).
    """
    from fixer.output.docs import explain
    from fixer.selectors import rule_for, suggest

    found = rule_for(rule)
    if found is None:
        hint = suggest(rule)
        also = f"did you mean {hint}? " if hint else ""
        typer.echo(f"error: unknown rule {rule!r} ({also}`tighten rules` lists them)", err=True)
        raise typer.Exit(2)
    if found.id != rule.strip().upper() and found.name != rule.strip():
        typer.echo(f"{rule} is covered by {found.id} {found.name}.\n")
    typer.echo(explain(found), nl=False)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.stderr.write("tighten: interrupted\n")
        sys.exit(130)
