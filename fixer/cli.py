"""The ``tighten`` command line. Thin: arguments -> Settings -> run -> output -> exit code.

Exit codes: 0 nothing left to report; 1 findings remain (for ``fix --dry-run``: there is a
diff, or a finding has no fix); 2 an error happened in at least one file (all other files
are still processed).
"""

from __future__ import annotations

import sys
from enum import Enum
from typing import Annotated, Any, Optional

import typer

from fixer import __version__

app = typer.Typer(
    name="tighten",
    help="Find and fix security mistakes in Dockerfiles and Kubernetes manifests.\n\n"
    "Exit codes: 0 clean, 1 findings remain (or a diff exists with --dry-run), 2 error.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


class Format(str, Enum):
    text = "text"
    json = "json"


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
    typer.Argument(help="Files or folders (default: the current folder).", show_default=False),
]
Select = Annotated[
    str, typer.Option("--select", help="Only these rules (ids or prefixes, comma-separated).")
]
Ignore = Annotated[
    str, typer.Option("--ignore", help="Skip these rules (ids or prefixes, comma-separated).")
]
Exclude = Annotated[
    Optional[list[str]],  # noqa: UP045
    typer.Option("--exclude", help="Glob of paths to skip while walking folders (repeatable)."),
]
FormatOpt = Annotated[Format, typer.Option("--format", help="Output format.")]
Quiet = Annotated[
    bool, typer.Option("--quiet", "-q", help="Only findings and errors; no summary or notices.")
]
Uid = Annotated[int, typer.Option("--uid", help="UID for the non-root user DF001 adds.")]
Gid = Annotated[int, typer.Option("--gid", help="GID for the non-root user DF001 adds.")]


class Profile(str, Enum):
    baseline = "baseline"
    restricted = "restricted"
    strict = "strict"


ProfileOpt = Annotated[
    Profile,
    typer.Option("--profile", help="Pod Security Standards level K8S002 enforces."),
]


def _codes(text: str) -> frozenset[str]:
    return frozenset(c.strip().upper() for c in text.split(",") if c.strip())


def _settings(select: str, ignore: str, exclude: list[str] | None, **extra: Any) -> Any:
    from fixer.settings import Settings

    return Settings(
        select=_codes(select) or None,
        ignore=_codes(ignore),
        exclude=tuple(exclude or ()),
        **extra,
    )


@app.command()
def check(
    paths: Paths = None,
    select: Select = "",
    ignore: Ignore = "",
    exclude: Exclude = None,
    format: FormatOpt = Format.text,
    quiet: Quiet = False,
    profile: ProfileOpt = Profile.restricted,
) -> None:
    """Report findings as `path:line: RULE message`; change nothing."""
    from fixer.session import Session

    settings = _settings(select, ignore, exclude, profile=profile.value)
    session = Session(settings, mode="check", fmt=format.value, quiet=quiet)
    raise typer.Exit(session.execute(paths or ["."]))


@app.command()
def fix(
    paths: Paths = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print one unified diff; change nothing.")
    ] = False,
    safe_only: Annotated[
        bool, typer.Option("--safe-only", help="Apply only fixes that cannot change behaviour.")
    ] = False,
    select: Select = "",
    ignore: Ignore = "",
    exclude: Exclude = None,
    format: FormatOpt = Format.text,
    quiet: Quiet = False,
    uid: Uid = 10001,
    gid: Gid = 10001,
    profile: ProfileOpt = Profile.restricted,
) -> None:
    """Rewrite files in place (or print the diff with --dry-run)."""
    from fixer.session import Session

    settings = _settings(
        select, ignore, exclude, safe_only=safe_only, uid=uid, gid=gid, profile=profile.value
    )
    session = Session(settings, mode="dry-run" if dry_run else "fix", fmt=format.value, quiet=quiet)
    raise typer.Exit(session.execute(paths or ["."]))


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.stderr.write("tighten: interrupted\n")
        sys.exit(130)
