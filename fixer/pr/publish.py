"""The last step of ``tighten pr``: push the branch and open or update the pull request.

Manners, after Renovate and Dependabot:

* one branch, one pull request; force-push with a lease on the commit we saw, and stop once
  someone else has pushed to the branch (even an empty commit): ``--recreate`` overrides;
* a pull request a person closed without merging stays closed while the fixes are the same
  (the body carries a fingerprint of the fix set); ``--recreate`` or a changed fix set opens
  a new one;
* labels and reviewers go on a pull request when tighten opens it, not on every run;
* whenever a pull request exists afterwards, the last line of stdout is its URL alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TextIO

from fixer.pr import git
from fixer.pr.forge import ForgeError, GitHub, PullRequest
from fixer.pr.remediation import Remediation

__all__ = ["Plan", "publish"]

EXIT_OK = 0


@dataclass(frozen=True)
class Plan:
    branch: str
    base: str
    title: str
    message: str
    body: str
    author: git.Identity
    committer: git.Identity
    fixset: str = ""
    labels: tuple[str, ...] = ()
    reviewers: tuple[str, ...] = ()  # users, or ORG/TEAM for a team


def publish(
    wt: git.Git,
    forge: GitHub,
    push_url: str,
    plan: Plan,
    rem: Remediation,
    commits: tuple[str, str | None],
    recreate: bool,
    out: TextIO,
    err: TextIO,
) -> int:
    base_sha, branch_sha = commits
    pull = forge.open_pull(plan.branch)  # before any push: a bad token fails here
    if pull is None and not recreate:
        closed = _closed_unchanged(forge, plan)
        if closed is not None:
            out.write(
                f"pull request #{closed.number} was closed without merging and the fixes have "
                "not changed since: not opening another (--recreate does)\n"
            )
            return EXIT_OK
    stranger = None if branch_sha is None else _foreign_commit(wt, base_sha, branch_sha, plan)
    if stranger is not None and not recreate:
        err.write(
            f"notice: {plan.branch} has a commit by someone else ({stranger.sha[:12]}, "
            f"{stranger.author}); not force-pushing it (--recreate resets the branch)\n"
        )
        if pull is not None:
            out.write(f"left pull request #{pull.number} as it is: {pull.url}\n{pull.url}\n")
        return EXIT_OK
    # A foreign commit counts even when it changes nothing (an empty "ping CI" commit):
    # --recreate resets the branch to one bot commit whatever the trees say.
    pushed = branch_sha is None or stranger is not None or git.tree_of(wt, branch_sha) != rem.tree
    if pushed:
        sha = git.commit(wt, rem.tree, base_sha, plan.message, plan.author, plan.committer)
        git.push(wt, push_url, sha, plan.branch, branch_sha)
    return _open_or_update(forge, pull, plan, pushed, out, err)


def _closed_unchanged(forge: GitHub, plan: Plan) -> PullRequest | None:
    """The last pull request from the branch, if a person closed it unmerged and it held
    exactly this fix set (an older body without a fingerprint never matches)."""
    from fixer.pr.body import fixset_of

    closed = forge.last_closed_pull(plan.branch)
    if closed is None or closed.merged or not plan.fixset:
        return None
    return closed if fixset_of(closed.body) == plan.fixset else None


def _foreign_commit(wt: git.Git, base: str, tip: str, plan: Plan) -> git.Commit | None:
    """The newest commit on the branch (since the base) that the bot did not make."""
    ours = {plan.author.email.lower(), plan.committer.email.lower()}
    for commit in git.commits_between(wt, base, tip):
        if commit.author.lower() not in ours or commit.committer.lower() not in ours:
            return commit
    return None


def _open_or_update(
    forge: GitHub, pull: PullRequest | None, plan: Plan, pushed: bool, out: TextIO, err: TextIO
) -> int:
    if pull is None:
        pull = forge.create_pull(plan.branch, plan.base, plan.title, plan.body)
        out.write(f"opened pull request #{pull.number}: {pull.url}\n")
        _decorate(forge, pull, plan, err)
    elif _same(pull, plan) and pushed:
        out.write(f"updated the branch of pull request #{pull.number}: {pull.url}\n")
    elif _same(pull, plan):
        out.write(f"pull request #{pull.number} is up to date: {pull.url}\n")
    else:
        forge.update_pull(pull.number, title=plan.title, body=plan.body, base=plan.base)
        out.write(f"updated pull request #{pull.number}: {pull.url}\n")
    out.write(f"{pull.url}\n")  # the last line: scripts and the Action read it
    return EXIT_OK


def _decorate(forge: GitHub, pull: PullRequest, plan: Plan, err: TextIO) -> None:
    """Labels and reviewers for a new pull request. The pull request exists either way, so
    a refusal (an unknown reviewer, a missing label permission) is a warning, not a failure."""
    users = [r for r in plan.reviewers if "/" not in r]
    teams = [r.split("/", 1)[1] for r in plan.reviewers if "/" in r]
    try:
        if plan.labels:
            forge.add_labels(pull.number, list(plan.labels))
    except ForgeError as exc:
        err.write(f"warning: could not add labels to pull request #{pull.number}: {exc}\n")
    try:
        if users or teams:
            forge.request_reviewers(pull.number, users, teams)
    except ForgeError as exc:
        err.write(f"warning: could not add reviewers to pull request #{pull.number}: {exc}\n")


def _same(pull: PullRequest, plan: Plan) -> bool:
    def norm(text: str) -> str:
        return text.replace("\r\n", "\n").strip()

    same_text = pull.title == plan.title and norm(pull.body) == norm(plan.body)
    return same_text and pull.base in ("", plan.base)
