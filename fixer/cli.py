"""The ``tighten`` command line. Thin: arguments -> Settings -> run -> output -> exit code.

Exit codes: 0 nothing left to report; 1 findings remain (for ``fix --dry-run``: there is a
diff, or a finding has no fix); 2 an error happened in at least one file (all other files
are still processed).
"""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from fixer import __version__

if TYPE_CHECKING:
    from fixer.ruleset import RuleSet

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


class Format(str, Enum):
    text = "text"
    json = "json"
    sarif = "sarif"
    github = "github"


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
        metavar="PATH",
        hidden=True,
    ),
]
Select = Annotated[
    str,
    typer.Option(
        "--select",
        metavar="RULES",
        help="Only these rules (ids, prefixes, names or peer ids, comma-separated).",
    ),
]
Ignore = Annotated[
    str,
    typer.Option(
        "--ignore",
        metavar="RULES",
        help="Skip these rules (ids, prefixes, names or peer ids, comma-separated).",
    ),
]
Exclude = Annotated[
    Optional[list[str]],  # noqa: UP045
    typer.Option(
        "--exclude",
        metavar="GLOB",
        help="Glob of paths to skip while walking folders (repeatable).",
    ),
]
FormatOpt = Annotated[Format, typer.Option("--format", help="Output format.")]
Quiet = Annotated[
    bool, typer.Option("--quiet", "-q", help="Only findings and errors; no summary or notices.")
]


def _non_root(param: typer.CallbackParam, value: int) -> int:
    """Reject ``--uid 0``/``--gid 0`` before any file is read: root is what DF001 and
    K8S002 remove, so no fix could ever settle on it."""
    if not 1 <= value <= 2**31 - 1:
        root = "root" if param.name == "uid" else "the root group"
        what = f"0 is {root}" if value == 0 else f"{value} is out of range"
        raise typer.BadParameter(f"{what}; expected a non-root id from 1 to {2**31 - 1}")
    return value


Uid = Annotated[
    int,
    typer.Option(
        "--uid", metavar="UID", callback=_non_root, help="UID for the non-root user DF001 adds."
    ),
]
Gid = Annotated[
    int,
    typer.Option(
        "--gid", metavar="GID", callback=_non_root, help="GID for the non-root user DF001 adds."
    ),
]


def _regexes(values: list[str] | None) -> list[str] | None:
    """Reject a bad --secret-pattern before any file is read (exit code 2)."""
    import re

    for value in values or ():
        try:
            re.compile(value)
        except re.error as exc:
            raise typer.BadParameter(
                f"{value!r} is not a valid regular expression: {exc}"
            ) from None
    return values


SecretPatterns = Annotated[
    Optional[list[str]],  # noqa: UP045
    typer.Option(
        "--secret-pattern",
        metavar="REGEX",
        help="Regex (case-insensitive) of variable names that hold secrets, for DF004/K8S004 "
        "(repeatable).",
        callback=_regexes,
    ),
]
SecretsDir = Annotated[
    Optional[Path],  # noqa: UP045
    typer.Option(
        "--secrets-dir",
        metavar="DIR",
        help="Folder for the Secret manifests DF004/K8S004 generate (default: beside the file).",
        file_okay=False,
    ),
]


class Profile(str, Enum):
    baseline = "baseline"
    restricted = "restricted"
    strict = "strict"


ProfileOpt = Annotated[
    Profile,
    typer.Option("--profile", help="Pod Security Standards level K8S002 enforces."),
]


def _codes(text: str) -> frozenset[str]:
    """Rule ids and prefixes; names and peer ids become the ids of the rules covering them."""
    from fixer.selectors import expand

    return expand(c for c in text.split(",") if c.strip())


#: Command-line parameter -> (Settings field, conversion). Parameters not listed here
#: (paths, format, quiet, dry_run, ...) are not settings.
_FIELDS: dict[str, tuple[str, Any]] = {
    "select": ("select", lambda v: _codes(v) or None),
    "ignore": ("ignore", lambda v: _codes(v)),
    "exclude": ("exclude", lambda v: tuple(v or ())),
    "profile": ("profile", lambda v: v.value),
    "pin": ("pin", lambda v: v.value),
    "secret_pattern": ("secret_patterns", lambda v: tuple(v or ())),
    "registry_mirror": ("mirrors", lambda v: _mirrors(v)),
    **{
        name: (name, lambda v: v)
        for name in (
            "safe_only",
            "unsafe_fixes",
            "uid",
            "gid",
            "secrets_dir",
            "platform",
            "jobs",
            "lock",
            "lock_file",
            "offline",
            "inspect_layers",
        )
    },
}


def _settings(ctx: typer.Context) -> Any:
    """Settings from defaults, then the config file, then the flags the user typed.

    A flag left at its default does not override the config file: the context tells which
    parameters came from the command line.
    """
    from fixer.config import ConfigError, find_config, load_config
    from fixer.selectors import UnknownRule
    from fixer.settings import Settings

    cli: dict[str, Any] = {}
    given: set[str] = set()
    for name, value in ctx.params.items():
        if name not in _FIELDS:
            continue
        field, convert = _FIELDS[name]
        try:
            cli[field] = convert(value)
        except UnknownRule as exc:  # a typo must not select nothing and pass the gate
            typer.echo(f"error: {exc.where('--' + name)}", err=True)
            raise typer.Exit(2) from None
        if getattr(ctx.get_parameter_source(name), "name", "DEFAULT") != "DEFAULT":
            given.add(field)
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
    if "select" in given and "ignore" not in given:
        merged["ignore"] = cli.get("ignore", frozenset())  # `--select X` means X
    return Settings(**merged)


def _rules() -> RuleSet:
    """The installed rules (the ``tighten.rules`` entry points): loaded here, at the edge,
    once per command, and handed down to everything that needs them."""
    from fixer.ruleset import RuleLoadError, installed

    try:
        return installed()
    except RuleLoadError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


StdinName = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--stdin-filename",
        metavar="NAME",
        help="With PATH `-`: the file name the text stands for (its kind, config, output).",
    ),
]
ConfigOpt = Annotated[
    Optional[Path],  # noqa: UP045
    typer.Option(
        "--config",
        metavar="FILE",
        help="Configuration file (.tighten.toml or pyproject.toml with [tool.tighten]); "
        "default: the nearest one above the first path.",
        exists=True,
        dir_okay=False,
    ),
]


def _mirrors(values: list[str] | None) -> tuple[tuple[str, str], ...]:
    out = []
    for value in values or ():
        source, sep, url = value.partition("=")
        if not sep or not source or not url.startswith(("http://", "https://")):
            raise typer.BadParameter(
                f"{value!r}: expected SRC=URL, e.g. docker.io=http://127.0.0.1:5000"
            )
        out.append((source, url.rstrip("/")))
    return tuple(out)


class PinMode(str, Enum):
    latest = "latest"
    all = "all"


Platform = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--platform",
        metavar="OS/ARCH",
        help="Pin this platform's manifest (os/arch[/variant]) instead of the multi-arch index.",
    ),
]
Mirrors = Annotated[
    Optional[list[str]],  # noqa: UP045
    typer.Option(
        "--registry-mirror",
        metavar="SRC=URL",
        help="Ask URL instead of registry SRC: SRC=URL (repeatable).",
    ),
]
Jobs = Annotated[
    int, typer.Option("--jobs", min=1, max=64, metavar="N", help="Registry look-ups at once.")
]
Lock = Annotated[bool, typer.Option("--lock", help="Write resolved digests to the lockfile.")]
LockFile = Annotated[
    Path,
    typer.Option("--lock-file", metavar="PATH", help="Lockfile to read (and write with --lock)."),
]
Offline = Annotated[
    bool, typer.Option("--offline", help="Never ask a registry; pin from the lockfile only.")
]
InspectLayers = Annotated[
    bool,
    typer.Option(
        "--inspect-layers",
        help="Also stream image layers (at most 200 MiB per image) for /etc/passwd, the "
        "entrypoint script and file capabilities.",
    ),
]
Pin = Annotated[
    PinMode,
    typer.Option(
        "--pin", help="latest: pin :latest and untagged images; all: every image without a digest."
    ),
]


@app.command(epilog=EXIT_CODES)
def check(
    ctx: typer.Context,
    paths: Paths = None,
    select: Select = "",
    ignore: Ignore = "",
    exclude: Exclude = None,
    format: FormatOpt = Format.text,
    quiet: Quiet = False,
    profile: ProfileOpt = Profile.restricted,
    secret_pattern: SecretPatterns = None,
    secrets_dir: SecretsDir = None,
    config: ConfigOpt = None,
    stdin_filename: StdinName = None,
) -> None:
    """Report findings as `path:line: RULE message`; change nothing.

    PATH: files or folders (default: the current folder); `-` reads stdin.
    """
    from fixer.mode import Mode
    from fixer.session import Session

    settings = _settings(ctx)
    session = Session(
        settings,
        mode=Mode.CHECK,
        fmt=format.value,
        quiet=quiet,
        stdin_filename=stdin_filename,
        rules=_rules(),
    )
    raise typer.Exit(session.execute(paths or ["."]))


@app.command(epilog=EXIT_CODES)
def fix(
    ctx: typer.Context,
    paths: Paths = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print one unified diff; change nothing.")
    ] = False,
    safe_only: Annotated[
        bool, typer.Option("--safe-only", help="Apply only fixes that cannot change behaviour.")
    ] = False,
    unsafe_fixes: Annotated[
        bool,
        typer.Option(
            "--unsafe-fixes",
            help="Also apply fixes whose evidence is missing (they say what they need).",
        ),
    ] = False,
    select: Select = "",
    ignore: Ignore = "",
    exclude: Exclude = None,
    format: FormatOpt = Format.text,
    quiet: Quiet = False,
    uid: Uid = 10001,
    gid: Gid = 10001,
    profile: ProfileOpt = Profile.restricted,
    secret_pattern: SecretPatterns = None,
    secrets_dir: SecretsDir = None,
    pin: Pin = PinMode.latest,
    platform: Platform = None,
    registry_mirror: Mirrors = None,
    jobs: Jobs = 8,
    lock: Lock = False,
    lock_file: LockFile = Path("tighten.lock"),
    offline: Offline = False,
    inspect_layers: InspectLayers = False,
    config: ConfigOpt = None,
    stdin_filename: StdinName = None,
) -> None:
    """Rewrite files in place (or print the diff with --dry-run).

    PATH: files or folders (default: the current folder). PATH `-` reads the text from stdin and writes the fixed text to stdout (for editors);
    fixes that would write a generated Secret file are not applied from stdin.
    """
    from fixer.mode import Mode
    from fixer.session import Session

    settings = _settings(ctx)
    session = Session(
        settings,
        mode=Mode.DRY_RUN if dry_run else Mode.FIX,
        fmt=format.value,
        quiet=quiet,
        stdin_filename=stdin_filename,
        rules=_rules(),
    )
    raise typer.Exit(session.execute(paths or ["."]))


@app.command()
def pr(
    ctx: typer.Context,
    paths: Paths = None,
    branch: Annotated[
        str,
        typer.Option(
            "--branch",
            metavar="BRANCH",
            help="Branch for the fixes (created or reset from the base).",
        ),
    ] = "tighten/remediation",
    base: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--base",
            metavar="BRANCH",
            help="Branch the pull request targets (default: the remote's).",
        ),
    ] = None,
    remote: Annotated[
        str, typer.Option("--remote", metavar="REMOTE", help="Git remote to fetch and push.")
    ] = "origin",
    repo: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--repo",
            metavar="OWNER/NAME",
            help="GitHub repository OWNER/NAME (default: from the remote URL).",
        ),
    ] = None,
    api_url: Annotated[
        str,
        typer.Option(
            "--api-url",
            metavar="URL",
            envvar="GITHUB_API_URL",
            help="GitHub API (Enterprise: https://HOST/api/v3).",
        ),
    ] = "https://api.github.com",
    author: Annotated[
        str,
        typer.Option("--author", metavar="'NAME <EMAIL>'", help="Commit author, 'Name <email>'."),
    ] = "tighten[bot] <tighten@users.noreply.github.com>",
    committer: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--committer",
            metavar="'NAME <EMAIL>'",
            help="Commit committer, 'Name <email>' (default: --author).",
        ),
    ] = None,
    recreate: Annotated[
        bool,
        typer.Option(
            "--recreate",
            help="Reset the branch even if someone else pushed to it, and open a pull request "
            "even if one with the same fixes was closed unmerged.",
        ),
    ] = False,
    label: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Option("--label", metavar="LABEL", help="Label for a new pull request (repeatable)."),
    ] = None,
    reviewer: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Option(
            "--reviewer",
            metavar="USER|ORG/TEAM",
            help="Reviewer for a new pull request: USER or ORG/TEAM (repeatable).",
        ),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run", help="Print branch, commit, pull request and diff; push nothing."
        ),
    ] = False,
    safe_only: Annotated[
        bool, typer.Option("--safe-only", help="Apply only fixes that cannot change behaviour.")
    ] = False,
    unsafe_fixes: Annotated[
        bool,
        typer.Option(
            "--unsafe-fixes",
            help="Also apply fixes whose evidence is missing (they say what they need).",
        ),
    ] = False,
    select: Select = "",
    ignore: Ignore = "",
    exclude: Exclude = None,
    quiet: Quiet = False,
    uid: Uid = 10001,
    gid: Gid = 10001,
    profile: ProfileOpt = Profile.restricted,
    secret_pattern: SecretPatterns = None,
    secrets_dir: SecretsDir = None,
    pin: Pin = PinMode.latest,
    platform: Platform = None,
    registry_mirror: Mirrors = None,
    jobs: Jobs = 8,
    lock: Lock = False,
    lock_file: LockFile = Path("tighten.lock"),
    offline: Offline = False,
    inspect_layers: InspectLayers = False,
    config: ConfigOpt = None,
) -> None:
    """Open or update a GitHub pull request with the fixes (token: GITHUB_TOKEN or GH_TOKEN).

    PATH: files or folders (default: the current folder).

    Works in a temporary git worktree at the remote's base branch: your files, index and
    branch are never touched. When a pull request exists afterwards, the last line of
    stdout is its URL. Exit codes: 0 done or nothing to fix, 2 error.
    """
    from fixer.pr.command import PrOptions, run_pr

    settings = _settings(ctx)
    options = PrOptions(
        branch=branch,
        base=base,
        remote=remote,
        repo=repo,
        api_url=api_url,
        author=author,
        committer=committer,
        recreate=recreate,
        dry_run=dry_run,
        quiet=quiet,
        labels=tuple(label or ()),
        reviewers=tuple(reviewer or ()),
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
