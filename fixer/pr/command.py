"""``tighten pr``: open or update one remediation pull request on GitHub, without touching
the user's working tree.

1. Find the repository, the remote's URLs, the GitHub repository and the base branch.
2. In a temporary linked worktree (always removed), check out the base branch as the remote
   has it, run the ``fix`` engine there and stage the result (``fixer.pr.remediation``).
3. Like Renovate and Dependabot, keep one branch and one pull request (``fixer.pr.publish``):
   make a commit on the base only when the branch does not already hold exactly this tree;
   force-push it with a lease on the commit we saw; stop force-pushing once someone else has
   pushed to the branch, and do not reopen a pull request a person closed unmerged while
   the fixes are the same (``--recreate`` overrides both); open the pull request, or update
   its title and body.

The token goes only to the forge's own origin over https (``fixer.pr.origin``); worktrees of
runs that were killed are removed by the next run.

The user's index, HEAD, branches, stash and files are never touched: every git command that
writes runs inside the worktree, fetched commits land in per-worktree refs, and the push
goes to the remote's URL (so no remote-tracking ref moves either). Exit codes: 0 done (or
nothing to do), 2 an error (one line on stderr).
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from fixer.output.diff import mask_diff
from fixer.pr import git, origin
from fixer.pr.forge import DEFAULT_API_URL, ForgeError, GitHub
from fixer.pr.publish import Plan, publish
from fixer.pr.remediation import Remediation, RemediationError, remediate
from fixer.ruleset import RuleSet
from fixer.settings import Settings

__all__ = ["BOT", "DEFAULT_BRANCH", "PrError", "PrOptions", "run_pr"]

BOT = "tighten[bot] <tighten@users.noreply.github.com>"
DEFAULT_BRANCH = "tighten/remediation"
TOKEN_VARIABLES = ("GITHUB_TOKEN", "GH_TOKEN")
EXIT_OK, EXIT_ERROR = 0, 2


class PrError(Exception):
    """A problem with the arguments or the repository; one line for the user."""


@dataclass(frozen=True)
class PrOptions:
    branch: str = DEFAULT_BRANCH
    base: str | None = None
    remote: str = "origin"
    repo: str | None = None
    api_url: str = DEFAULT_API_URL
    author: str = BOT
    committer: str | None = None
    recreate: bool = False
    dry_run: bool = False
    quiet: bool = False
    labels: tuple[str, ...] = ()
    reviewers: tuple[str, ...] = ()  # users, or ORG/TEAM for a team


@dataclass(frozen=True)
class Target:
    """Where the pull request goes: the repository, its remote, the forge and the base."""

    git: git.Git  # at the repository root, with the token's configuration
    fetch_url: str
    push_url: str
    forge: GitHub | None  # None with --dry-run: no API call at all
    base: str
    name: str | None  # the repository's name (not the checkout folder's), when known
    heads: Mapping[str, str] = field(default_factory=dict)  # remote branch -> commit


def run_pr(
    paths: Sequence[str],
    settings: Settings,
    options: PrOptions,
    *,
    rules: RuleSet,
    out: TextIO | None = None,
    err: TextIO | None = None,
    environ: Mapping[str, str] | None = None,
) -> int:
    """Run ``tighten pr``; every failure is one line on ``err`` and exit code 2."""
    out, err = out or sys.stdout, err or sys.stderr
    env = os.environ if environ is None else environ
    token = next((env[v] for v in TOKEN_VARIABLES if env.get(v)), "")
    try:
        return _run(paths, settings, options, token, out, err, rules)
    except (PrError, git.GitError, ForgeError, RemediationError, OSError) as exc:
        message = str(exc).replace(token, "***") if token else str(exc)
        err.write(f"error: {' '.join(message.split())}\n")
        return EXIT_ERROR


def _run(
    paths: Sequence[str],
    settings: Settings,
    opts: PrOptions,
    token: str,
    out: TextIO,
    err: TextIO,
    rules: RuleSet,
) -> int:
    if not token and not opts.dry_run:
        names = " or ".join(TOKEN_VARIABLES)
        raise PrError(f"no GitHub token: set {names} (or use --dry-run)")
    author, committer = _identities(opts)
    cwd = Path(os.getcwd())
    inside = _repository_paths(settings, cwd, git.repository_root(cwd))  # before any network
    target = connect(cwd, opts, token, err=err)
    prefix, relative_paths = _locate(cwd, target.git.cwd, paths)
    for stale in git.remove_stale_worktrees(target.git):
        err.write(f"notice: removed a stale tighten worktree left by an interrupted run: {stale}\n")
    # Named after the repository, not the checkout's folder: rules derive names from folders
    # (a Secret for a top-level Dockerfile), and CI may check every repository out as `src`.
    with git.worktree(target.git, name=target.name) as wt:
        base_sha, branch_sha = _fetch(wt, target, opts.branch)
        git.checkout(wt, base_sha)
        start = wt.cwd / prefix
        if not start.is_dir():
            raise PrError(f"folder {prefix} does not exist on {target.base}")
        settings = _into_worktree(settings, inside, wt.cwd)
        rem = remediate(wt, base_sha, start, relative_paths, settings, rules=rules, err=err)
        if not opts.quiet:
            err.write(_summary(rem, target.base) + "\n")
        if rem.tree == git.tree_of(wt, base_sha):
            out.write("nothing to fix: no pull request needed\n")
            return EXIT_OK
        plan = _plan(rem, rules, opts, target.base, author, committer)
        if opts.dry_run:
            _show(plan, mask_diff(git.diff(wt, base_sha, rem.tree), rem.masks), out)
            return EXIT_OK
        assert target.forge is not None
        commits = (base_sha, branch_sha)
        return publish(
            wt, target.forge, target.push_url, plan, rem, commits, opts.recreate, out, err
        )


def _summary(rem: Remediation, base: str) -> str:
    files = len({item.path for item in rem.fixed})
    count = len(rem.fixed)
    text = f"{count} fix{'es' * (count != 1)} in {files} file{'s' * (files != 1)} against {base}"
    if rem.rules:
        text += f" ({', '.join(rem.rules)})"
    if rem.withheld:
        text += f"; {len(rem.withheld)} withheld (see the pull request body)"
    if rem.unfixed:
        text += f"; {len(rem.unfixed)} not fixable"
    if rem.errors:
        text += f"; {len(rem.errors)} file error{'s' * (len(rem.errors) != 1)}"
    return text


def _identities(opts: PrOptions) -> tuple[git.Identity, git.Identity]:
    try:
        author = git.Identity.parse(opts.author)
        committer = git.Identity.parse(opts.committer) if opts.committer else author
    except ValueError as exc:
        raise PrError(f"--author/--committer: {exc}") from None
    return author, committer


def connect(cwd: Path, opts: PrOptions, token: str, *, err: TextIO | None = None) -> Target:
    """Resolve the remote, the GitHub repository and the base branch (no writes)."""
    root = git.repository_root(cwd)
    plain = git.Git(root)
    fetch_url = git.remote_url(plain, opts.remote)
    push_url = git.remote_url(plain, opts.remote, push=True)
    forge_origin = origin.git_origin(opts.api_url)
    config: tuple[tuple[str, str], ...] = ()
    secrets: tuple[str, ...] = (token,) if token else ()
    for url in dict.fromkeys((fetch_url, push_url)):
        refused = origin.refusal(url, forge_origin) if token else None
        if refused is None:
            more, more_secrets = git.auth_config(url, token)
            config, secrets = config + more, secrets + more_secrets
        elif origin.Origin.of(url) is not None and err is not None:
            # An http(s) remote that is not the forge (a mirror, an insteadOf rewrite):
            # git talks to it with its own credentials, never with the forge's token.
            err.write(f"notice: {refused}\n")
    repo = git.Git(root, config=config, secrets=secrets)
    forge = None if opts.dry_run else _forge(opts, fetch_url, token)
    base = opts.base or git.default_branch(repo, fetch_url)
    if not base and forge is not None:
        base = forge.default_branch()
    if not base:
        raise PrError(f"cannot tell the default branch of {opts.remote}: pass --base")
    if base == opts.branch:
        raise PrError(f"--branch {opts.branch} is the base branch; choose another name")
    heads = git.remote_heads(repo, fetch_url, [base, opts.branch])
    if base not in heads:
        raise PrError(f"branch {base} does not exist on remote {opts.remote}")
    return Target(repo, fetch_url, push_url, forge, base, _name(opts, fetch_url), heads)


def _name(opts: PrOptions, url: str) -> str | None:
    if opts.repo:
        return opts.repo.rpartition("/")[2] or None
    slug = git.parse_slug(url)
    return slug[1] if slug else None


def _forge(opts: PrOptions, url: str, token: str) -> GitHub:
    if opts.repo:
        if not re.fullmatch(r"[\w.-]+/[\w.-]+", opts.repo):
            raise PrError(f"--repo: expected OWNER/NAME, got {opts.repo!r}")
        owner, name = opts.repo.split("/")
    else:
        slug = git.parse_slug(url)
        if slug is None:
            raise PrError(
                f"cannot tell the GitHub repository from remote {opts.remote}: pass --repo OWNER/NAME"
            )
        owner, name = slug
    return GitHub(owner, name, token, opts.api_url)


def _locate(cwd: Path, root: Path, paths: Sequence[str]) -> tuple[str, list[str]]:
    """The current folder relative to the root, and the paths relative to it (all inside)."""
    prefix = os.path.relpath(cwd.resolve(), root.resolve())
    if prefix == os.pardir or prefix.startswith(os.pardir + os.sep):
        raise PrError("the current folder is outside the repository")
    relative = []
    for path in paths:
        full = os.path.normpath(os.path.join(cwd, path))
        inside = os.path.relpath(full, root)
        if inside == os.pardir or inside.startswith(os.pardir + os.sep):
            raise PrError(f"{path} is outside the repository")
        relative.append(os.path.relpath(full, cwd))
    return prefix, relative


def _repository_paths(settings: Settings, cwd: Path, root: Path) -> dict[str, str]:
    """``--secrets-dir`` and ``--lock-file`` relative to the repository root.

    A relative path means what it means in the user's checkout (from the current folder),
    not from wherever the temporary worktree happens to be; a path that leaves the
    repository is refused, since a run for a pull request writes only inside it.
    """
    found: dict[str, str] = {}
    for name in ("secrets.secrets_dir", "pinning.lock_file"):
        value = settings.value(name)
        if value is None:
            continue
        full = os.path.realpath(os.path.join(cwd, value))
        inside = os.path.relpath(full, os.path.realpath(root))
        if inside == os.pardir or inside.startswith(os.pardir + os.sep):
            raise PrError(f"{value} is outside the repository; tighten pr writes only inside it")
        found[name] = inside
    return found


def _into_worktree(settings: Settings, inside: Mapping[str, str], worktree: Path) -> Settings:
    """Settings whose paths point into the worktree: never into the user's files."""
    moved = {name: worktree / rel for name, rel in inside.items()}
    return settings.with_values(moved) if moved else settings


def _fetch(wt: git.Git, target: Target, branch: str) -> tuple[str, str | None]:
    """Fetch the base (and the branch, if it exists) into the worktree's private refs."""
    names = {target.base: "base"}
    if branch in target.heads:
        names[branch] = "branch"
    git.fetch(wt, target.fetch_url, names)
    base = wt.run("rev-parse", "--verify", f"{git.REF_PREFIX}base^{{commit}}").strip()
    tip = None
    if branch in target.heads:
        tip = wt.run("rev-parse", "--verify", f"{git.REF_PREFIX}branch^{{commit}}").strip()
    return base, tip


def _plan(
    rem: Remediation,
    rules: RuleSet,
    opts: PrOptions,
    base: str,
    author: git.Identity,
    committer: git.Identity,
) -> Plan:
    from fixer.pr import body as text

    return Plan(
        opts.branch,
        base,
        text.title(rem),
        text.commit_message(rem, rules),
        text.body(rem, rules),
        author,
        committer,
        fixset=text.fixset(rem),
        labels=opts.labels,
        reviewers=opts.reviewers,
    )


def _show(plan: Plan, diff: str, out: TextIO) -> None:
    out.write(f"branch: {plan.branch} (base: {plan.base})\n")
    out.write(f"title: {plan.title}\n")
    out.write(f"author: {plan.author}\ncommitter: {plan.committer}\n\n")
    out.write("--- commit message ---\n" + plan.message + "\n")
    out.write("--- pull request body ---\n" + plan.body + "\n")
    out.write("--- diff ---\n" + diff)
