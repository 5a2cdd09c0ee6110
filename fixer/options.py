"""Every option of ``check``, ``fix`` and ``pr``, described once.

The command-line parameters (``fixer.cli``), the config keys and their validation
(``fixer.config``) and the Settings fields they fill are all derived from ``OPTIONS``:
adding an option is one record here (and a Settings field when it is a setting).

The order of ``OPTIONS`` is the order of each command's ``--help``.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from fixer import option_values as v
from fixer.settings import FailureThreshold, OutputFormat, PinPolicy, Profile

CHECK, FIX, PR = "check", "fix", "pr"
_RUN = frozenset({CHECK, FIX, PR})
_CHANGE = frozenset({FIX, PR})


@dataclass(frozen=True)
class Option:
    """One option: its flags, value, help, config key and the Settings field it fills
    (``setting`` is ``group.field``, e.g. ``pinning.platform``).

    ``flags`` empty: a config key only. ``setting`` None: a flag that steers the command
    (format, dry run, the pull request) without being a setting.
    """

    name: str  # the Python parameter name typer passes the value under
    flags: tuple[str, ...]
    kind: Any  # the type typer parses the flag into
    default: Any
    help: str
    commands: frozenset[str] = _RUN
    metavar: str | None = None
    setting: str | None = None
    #: Flag value (as typer parsed it) -> Settings value.
    from_flag: Callable[[Any], Any] = v.same
    config: str | None = None
    #: TOML value -> Settings value; raises TypeError with the phrase the user reads.
    from_config: Callable[[Any], Any] = v.same
    #: A path in the config file is relative to the file's folder.
    relative: bool = False
    #: More ``typer.Option`` arguments (callback, bounds, path checks, envvar).
    typer: Mapping[str, Any] = field(default_factory=dict)

    def parameter(self) -> Any:
        """The typer annotation for this option's parameter."""
        extra = dict(self.typer)
        if self.kind in (Path, Optional[Path]):  # noqa: UP045
            extra.setdefault("path_type", Path)  # typer < 0.29 would hand over a str
        info = typer.Option(*self.flags, help=self.help, metavar=self.metavar, **extra)
        return Annotated[self.kind, info]


_RULES = "RULES"
_LIST = Optional[list[str]]  # noqa: UP045 - typer needs Optional on Python 3.10
_DRY_RUN = "--dry-run"
_SAFE_ONLY = "Apply only fixes that cannot change behaviour."
_UNSAFE = (
    "Also apply the fixes withheld for lack of evidence: they change behaviour and "
    "nothing proved the workload still works with them (each says what it needs)."
)
_ID = {"callback": v.non_root}

OPTIONS: tuple[Option, ...] = (
    # `tighten pr` only: where the pull request goes and who writes it.
    Option(
        "branch",
        ("--branch",),
        str,
        "tighten/remediation",
        "Branch for the fixes (created or reset from the base).",
        frozenset({PR}),
        metavar="BRANCH",
    ),
    Option(
        "base",
        ("--base",),
        Optional[str],  # noqa: UP045
        None,
        "Branch the pull request targets (default: the remote's).",
        frozenset({PR}),
        metavar="BRANCH",
    ),
    Option(
        "remote",
        ("--remote",),
        str,
        "origin",
        "Git remote to fetch and push.",
        frozenset({PR}),
        metavar="REMOTE",
    ),
    Option(
        "repo",
        ("--repo",),
        Optional[str],  # noqa: UP045
        None,
        "GitHub repository OWNER/NAME (default: from the remote URL).",
        frozenset({PR}),
        metavar="OWNER/NAME",
    ),
    Option(
        "api_url",
        ("--api-url",),
        str,
        "https://api.github.com",
        "GitHub API (Enterprise: https://HOST/api/v3).",
        frozenset({PR}),
        metavar="URL",
        typer={"envvar": "GITHUB_API_URL"},
    ),
    Option(
        "author",
        ("--author",),
        str,
        "tighten[bot] <tighten@users.noreply.github.com>",
        "Commit author, 'Name <email>'.",
        frozenset({PR}),
        metavar="'NAME <EMAIL>'",
    ),
    Option(
        "committer",
        ("--committer",),
        Optional[str],  # noqa: UP045
        None,
        "Commit committer, 'Name <email>' (default: --author).",
        frozenset({PR}),
        metavar="'NAME <EMAIL>'",
    ),
    Option(
        "recreate",
        ("--recreate",),
        bool,
        False,
        "Reset the branch even if someone else pushed to it, and open a pull request "
        "even if one with the same fixes was closed unmerged.",
        frozenset({PR}),
    ),
    Option(
        "label",
        ("--label",),
        _LIST,
        None,
        "Label for a new pull request (repeatable).",
        frozenset({PR}),
        metavar="LABEL",
    ),
    Option(
        "reviewer",
        ("--reviewer",),
        _LIST,
        None,
        "Reviewer for a new pull request: USER or ORG/TEAM (repeatable).",
        frozenset({PR}),
        metavar="USER|ORG/TEAM",
    ),
    # What the run changes.
    Option(
        "dry_run",
        (_DRY_RUN,),
        bool,
        False,
        "Print one unified diff; change nothing.",
        frozenset({FIX}),
    ),
    Option(
        "unmasked_diff",
        ("--unmasked-diff",),
        bool,
        False,
        "With --dry-run: print the real patch, secret values unmasked, for `git apply` "
        "(refused when stdout is a terminal: redirect it to a file or a pipe).",
        frozenset({FIX}),
    ),
    Option(
        "dry_run",
        (_DRY_RUN,),
        bool,
        False,
        "Print branch, commit, pull request and diff; push nothing.",
        frozenset({PR}),
    ),
    Option(
        "safe_only",
        ("--safe-only",),
        bool,
        False,
        _SAFE_ONLY,
        _CHANGE,
        setting="fixes.safe_only",
        config="safe-only",
        from_config=v.boolean,
    ),
    Option(
        "unsafe_fixes",
        ("--unsafe-fixes",),
        bool,
        False,
        _UNSAFE,
        _CHANGE,
        setting="fixes.unsafe_fixes",
        config="unsafe-fixes",
        from_config=v.boolean,
    ),
    # Which rules and files.
    Option(
        "select",
        ("--select",),
        str,
        "",
        "Only these rules (ids, prefixes, names or peer ids, comma-separated).",
        metavar=_RULES,
        setting="selection.select",
        from_flag=v.selected,
        config="select",
        from_config=v.codes,
    ),
    Option(
        "ignore",
        ("--ignore",),
        str,
        "",
        "Skip these rules (ids, prefixes, names or peer ids, comma-separated).",
        metavar=_RULES,
        setting="selection.ignore",
        from_flag=v.comma_codes,
        config="ignore",
        from_config=v.codes,
    ),
    Option(
        "exclude",
        ("--exclude",),
        _LIST,
        None,
        "Glob of paths to skip while walking folders (repeatable).",
        metavar="GLOB",
        setting="selection.exclude",
        from_flag=v.listed,
        config="exclude",
        from_config=v.str_list,
    ),
    Option(
        "include_generated",
        ("--include-generated",),
        bool,
        False,
        "Also check files found in folders that are not source: test data (testdata/, "
        "test/fixtures/), vendored code (vendor/, third_party/) and generated files "
        "(DO NOT EDIT). Files named on the command line are always checked.",
        setting="selection.include_generated",
        config="include-generated",
        from_config=v.boolean,
    ),
    Option(
        "force_exclude",
        ("--force-exclude",),
        bool,
        False,
        "Apply --exclude (and .gitignore) to files named on the command line too, as "
        "pre-commit names them.",
        setting="selection.force_exclude",
        config="force-exclude",
        from_config=v.boolean,
    ),
    Option(
        "no_respect_gitignore",
        ("--no-respect-gitignore",),
        bool,
        False,
        "Also walk what git ignores (by default, walking a folder in a git work tree skips "
        "what git ignores; named files are checked unless --force-exclude).",
        setting="selection.respect_gitignore",
        from_flag=lambda given: not given,
        config="respect-gitignore",
        from_config=v.boolean,
    ),
    Option(
        "per_file_ignores",
        (),
        None,
        None,
        "Rules to skip in files matching a glob (relative to the config file's folder).",
        frozenset(),
        setting="selection.per_path_ignores",
        config="per-file-ignores",
        from_config=v.per_file,
    ),
    # Output.
    Option(
        "format",
        ("--format",),
        OutputFormat,
        OutputFormat.TEXT,
        "Output format.",
        frozenset({CHECK, FIX}),
    ),
    Option(
        "quiet",
        ("--quiet", "-q"),
        bool,
        False,
        "Only findings and errors; no summary or notices.",
    ),
    Option(
        "exit_zero",
        ("--exit-zero",),
        bool,
        False,
        "Exit 0 even when findings remain (errors still exit 2).",
        frozenset({CHECK, FIX}),
        setting="output.exit_zero",
        config="exit-zero",
        from_config=v.boolean,
    ),
    Option(
        "failure_threshold",
        ("--failure-threshold",),
        FailureThreshold,
        FailureThreshold.NOTE,
        "Least rule severity that fails the run (exit 1); none: findings never do.",
        frozenset({CHECK, FIX}),
        setting="output.failure_threshold",
        config="failure-threshold",
        from_config=v.choice(FailureThreshold),
    ),
    # What the fixes write.
    Option(
        "uid",
        ("--uid",),
        int,
        10001,
        "UID for the non-root user DF001 adds.",
        _CHANGE,
        metavar="UID",
        setting="user.uid",
        config="uid",
        from_config=v.integer(1, v.MAX_ID),
        typer=_ID,
    ),
    Option(
        "gid",
        ("--gid",),
        int,
        10001,
        "GID for the non-root user DF001 adds.",
        _CHANGE,
        metavar="GID",
        setting="user.gid",
        config="gid",
        from_config=v.integer(1, v.MAX_ID),
        typer=_ID,
    ),
    Option(
        "profile",
        ("--profile",),
        Profile,
        Profile.RESTRICTED,
        "Pod Security Standards level K8S002 enforces.",
        setting="kubernetes.profile",
        config="profile",
        from_config=v.choice(Profile),
    ),
    Option(
        "tools",
        (),
        None,
        None,
        "Network and debug tools DF003 strips from the shipped stage.",
        frozenset(),
        setting="dockerfile.tools",
        config="tools",
        from_config=v.str_list,
    ),
    Option(
        "secret_pattern",
        ("--secret-pattern",),
        _LIST,
        None,
        "Regex (case-insensitive) of variable names that hold secrets, for DF004/K8S004 "
        "(repeatable).",
        metavar="REGEX",
        setting="secrets.secret_patterns",
        from_flag=v.listed,
        config="secret-patterns",
        from_config=v.patterns,
        typer={"callback": v.regexes},
    ),
    Option(
        "secrets_dir",
        ("--secrets-dir",),
        Optional[Path],  # noqa: UP045
        None,
        "Folder for the Secret manifests DF004/K8S004 generate (default: beside the file).",
        metavar="DIR",
        setting="secrets.secrets_dir",
        config="secrets-dir",
        from_config=v.string,
        relative=True,
        typer={"file_okay": False},
    ),
    Option(
        "sealed_secrets_cert",
        ("--sealed-secrets-cert",),
        Optional[Path],  # noqa: UP045
        None,
        "Sealed Secrets controller certificate (kubeseal --fetch-cert) that K8S004 seals "
        "moved values with (default: a *.pem certificate in the repository).",
        metavar="FILE",
        setting="secrets.sealed_secrets_cert",
        config="sealed-secrets-cert",
        from_config=v.string,
        relative=True,
        typer={"dir_okay": False},
    ),
    # Pinning and the registries.
    Option(
        "pin",
        ("--pin",),
        PinPolicy,
        PinPolicy.LATEST,
        "latest: pin :latest and untagged images; all: every image without a digest.",
        _CHANGE,
        setting="pinning.pin",
        config="pin",
        from_config=v.choice(PinPolicy),
    ),
    Option(
        "platform",
        ("--platform",),
        Optional[str],  # noqa: UP045
        None,
        "Pin this platform's manifest (os/arch[/variant]) instead of the multi-arch index.",
        _CHANGE,
        metavar="OS/ARCH",
        setting="pinning.platform",
        config="platform",
        from_config=v.string,
    ),
    Option(
        "registry_mirror",
        ("--registry-mirror",),
        _LIST,
        None,
        "Ask URL instead of registry SRC: SRC=URL (repeatable).",
        _CHANGE,
        metavar="SRC=URL",
        setting="pinning.mirrors",
        from_flag=v.mirror_flags,
        config="registry-mirrors",
        from_config=v.mirrors,
    ),
    Option(
        "jobs",
        ("--jobs",),
        int,
        8,
        "Registry look-ups at once.",
        _CHANGE,
        metavar="N",
        setting="pinning.jobs",
        config="jobs",
        from_config=v.integer(1, 64),
        typer={"min": 1, "max": 64},
    ),
    Option(
        "lock",
        ("--lock",),
        bool,
        False,
        "Write resolved digests to the lockfile.",
        _CHANGE,
        setting="pinning.lock",
    ),
    Option(
        "lock_file",
        ("--lock-file",),
        Path,
        Path("tighten.lock"),
        "Lockfile to read (and write with --lock).",
        _CHANGE,
        metavar="PATH",
        setting="pinning.lock_file",
        config="lock-file",
        from_config=v.string,
        relative=True,
    ),
    Option(
        "offline",
        ("--offline",),
        bool,
        False,
        "Never ask a registry; pin from the lockfile only.",
        _CHANGE,
        setting="pinning.offline",
    ),
    Option(
        "inspect_layers",
        ("--inspect-layers",),
        bool,
        False,
        "Also stream image layers (at most 200 MiB per image) for /etc/passwd, the "
        "entrypoint script and file capabilities.",
        _CHANGE,
        setting="pinning.inspect_layers",
        config="inspect-layers",
        from_config=v.boolean,
    ),
    # The result cache.
    Option(
        "no_cache",
        ("--no-cache",),
        bool,
        False,
        "Check every file afresh: neither read nor write the result cache.",
        frozenset({CHECK, FIX}),
        setting="caching.cache",
        from_flag=operator.not_,  # the flag says no; the setting says whether to cache
        config="cache",
        from_config=v.boolean,
    ),
    Option(
        "cache_dir",
        ("--cache-dir",),
        Optional[Path],  # noqa: UP045
        None,
        "Folder of the result cache (default: .tighten_cache at the project root).",
        frozenset({CHECK, FIX}),
        metavar="DIR",
        setting="caching.cache_dir",
        config="cache-dir",
        from_config=v.string,
        relative=True,
        typer={"file_okay": False},
    ),
    # Where the input and the configuration come from.
    Option(
        "config",
        ("--config",),
        Optional[Path],  # noqa: UP045
        None,
        "Configuration file (.tighten.toml or pyproject.toml with [tool.tighten]); "
        "default: the nearest one above the first path.",
        metavar="FILE",
        typer={"exists": True, "dir_okay": False},
    ),
    Option(
        "stdin_filename",
        ("--stdin-filename",),
        Optional[str],  # noqa: UP045
        None,
        "With PATH `-`: the file name the text stands for (its kind, config, output).",
        frozenset({CHECK, FIX}),
        metavar="NAME",
    ),
)


def for_command(command: str) -> Iterator[Option]:
    """The options ``command`` takes, in help order."""
    return (o for o in OPTIONS if command in o.commands)


def config_keys() -> dict[str, Option]:
    """Config key -> option (kebab-case keys, as in ruff)."""
    return {o.config: o for o in OPTIONS if o.config is not None}
