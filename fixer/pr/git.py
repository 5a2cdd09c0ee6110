"""The git operations of ``tighten pr``: remotes, worktrees, commits and pushes.

Every command goes through ``fixer.gitcmd.Git`` (clean environment, no hooks, no prompts,
configuration in the environment, tokens redacted).
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import socket
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from fixer.gitcmd import Git, GitError

__all__ = [
    "Commit",
    "Git",
    "GitError",
    "Identity",
    "auth_config",
    "parse_slug",
    "remove_stale_worktrees",
    "repository_root",
    "worktree",
]

#: Per-worktree refs live under the worktree's admin folder and vanish with it.
REF_PREFIX = "refs/worktree/tighten/"
#: How tighten's temporary worktrees are recognised: the folder and the lock reason.
_HOLDER_PREFIX = "tighten-pr-"
_LOCK_REASON = "tighten pr (pid {pid} on {host})"
_LOCK_PATTERN = re.compile(r"tighten pr \(pid (?P<pid>\d+) on (?P<host>[^)]*)\)")


@dataclass(frozen=True)
class Identity:
    """An author or committer, ``Name <email>``."""

    name: str
    email: str

    @classmethod
    def parse(cls, text: str) -> Identity:
        match = re.fullmatch(r"\s*([^<>\n]*?)\s*<([^<>\s]+)>\s*", text)
        if not match or not match.group(1):
            raise ValueError(f"expected 'Name <email>', got {text!r}")
        return cls(match.group(1), match.group(2))

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


@dataclass(frozen=True)
class Commit:
    sha: str
    author: str  # e-mail addresses: what identifies a committer
    committer: str


# ----------------------------------------------------------------------------- remotes


def repository_root(cwd: Path) -> Path:
    out = Git(cwd).attempt("rev-parse", "--show-toplevel")
    if not out or not out.strip():
        raise GitError(f"not inside a git working tree: {cwd}")
    return Path(out.strip())


def remote_url(git: Git, remote: str, *, push: bool = False) -> str:
    """The remote's URL as git resolves it (insteadOf applied); local paths made absolute."""
    flags = ("--push",) if push else ()
    out = git.attempt("remote", "get-url", *flags, remote)
    if out is None:
        raise GitError(f"no git remote named {remote!r}")
    url = out.strip()
    if _is_local_path(url) and not os.path.isabs(url):
        url = os.path.normpath(os.path.join(git.cwd, url))
    return url


def _is_local_path(url: str) -> bool:
    return "://" not in url and not re.match(r"^[^/]+:", url)


def auth_config(url: str, token: str | None) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...]]:
    """Configuration that sends ``token`` to an HTTPS remote, and the strings to redact.

    The header is scoped to the remote's scheme and host. The empty value first resets any
    header configured before (actions/checkout persists its own, and two Authorization
    headers make GitHub refuse the request).
    """
    if not token:
        return (), ()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return (), (token,)
    host = parts.hostname + (f":{parts.port}" if parts.port else "")
    key = f"http.{parts.scheme}://{host}/.extraheader"
    basic = base64.b64encode(f"x-access-token:{token}".encode()).decode("ascii")
    header = f"AUTHORIZATION: basic {basic}"
    return ((key, ""), (key, header)), (token, basic)


def parse_slug(url: str) -> tuple[str, str] | None:
    """``(owner, name)`` from an https, ssh or scp-like (``git@host:o/r.git``) remote URL."""
    if "://" in url:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https", "ssh", "git", "git+ssh", "ssh+git"):
            return None
        path = parts.path
    else:
        scp = re.fullmatch(r"(?:[^@/:]+@)?[^/:]+:(?!//)(.+)", url)
        if not scp:
            return None
        path = scp.group(1)
    pieces = [p for p in path.split("/") if p]
    if len(pieces) < 2:
        return None
    name = pieces[-1].removesuffix(".git")
    return (pieces[-2], name) if name else None


def default_branch(git: Git, url: str) -> str | None:
    """The branch the remote's HEAD points at (``git ls-remote --symref URL HEAD``)."""
    out = git.run("ls-remote", "--symref", url, "HEAD")
    match = re.search(r"^ref: refs/heads/(\S+)\tHEAD$", out, re.MULTILINE)
    return match.group(1) if match else None


def remote_heads(git: Git, url: str, branches: Sequence[str]) -> dict[str, str]:
    """Commit of each branch that exists on the remote."""
    refs = [f"refs/heads/{b}" for b in branches]
    out = git.run("ls-remote", url, *refs)
    found: dict[str, str] = {}
    for line in out.splitlines():
        sha, _, ref = line.partition("\t")
        if ref in refs:
            found[ref.removeprefix("refs/heads/")] = sha
    return found


def fetch(git: Git, url: str, branches: Mapping[str, str]) -> None:
    """Fetch ``{branch: local name}`` into per-worktree refs; no remote-tracking ref moves."""
    specs = [f"+refs/heads/{b}:{REF_PREFIX}{name}" for b, name in branches.items()]
    git.run(
        "fetch", "--quiet", "--no-tags", "--no-write-fetch-head", "--no-recurse-submodules",
        "--refmap=", url, *specs,
    )  # fmt: skip


# ----------------------------------------------------------------------------- worktree


@contextmanager
def worktree(git: Git, *, name: str | None = None) -> Iterator[Git]:
    """A detached, empty linked worktree in a private temp folder, always removed; its
    folder is called ``name`` (default: like the checkout)."""
    if git.attempt("rev-parse", "--verify", "--quiet", "HEAD^{commit}") is None:
        raise GitError("the repository has no commit yet (a linked worktree needs one)")
    holder = Path(tempfile.mkdtemp(prefix=_HOLDER_PREFIX))
    # Rules derive names from folders (a Dockerfile at the top gets a Secret named after
    # its folder), so the folder's name is the caller's choice.
    top = Path(git.run("rev-parse", "--show-toplevel").strip()).name
    safe = name if name and re.fullmatch(r"[\w][\w.-]*", name) else None
    path = holder / (safe or top or "worktree")
    # Locked with a reason naming this process: `git worktree prune` leaves it alone while
    # we run, and the next run can tell that a worktree is ours and that its run died.
    reason = _LOCK_REASON.format(pid=os.getpid(), host=socket.gethostname())
    try:
        git.run(
            "worktree", "add", "--quiet", "--detach", "--no-checkout",
            "--lock", "--reason", reason, str(path), "HEAD",
        )  # fmt: skip
        try:
            yield git.at(path)
        finally:
            if git.attempt("worktree", "remove", "--force", "--force", str(path)) is None:
                shutil.rmtree(path, ignore_errors=True)
                git.attempt("worktree", "prune")
    finally:
        shutil.rmtree(holder, ignore_errors=True)


def remove_stale_worktrees(git: Git) -> list[Path]:
    """Remove the worktrees of tighten runs that died (kill -9, power loss): only ours,
    recognised by folder and lock reason, and only when that process is gone."""
    removed = []
    for path, reason in _locked_worktrees(git):
        match = _LOCK_PATTERN.fullmatch(reason)
        if not match or not path.parent.name.startswith(_HOLDER_PREFIX):
            continue  # not ours: a person's or another tool's worktree
        if match.group("host") != socket.gethostname() or _alive(int(match.group("pid"))):
            continue
        if git.attempt("worktree", "remove", "--force", "--force", str(path)) is None:
            git.attempt("worktree", "unlock", str(path))  # its folder is gone: prune it
            git.attempt("worktree", "prune")
        shutil.rmtree(path.parent, ignore_errors=True)
        removed.append(path)
    return removed


def _locked_worktrees(git: Git) -> Iterator[tuple[Path, str]]:
    path = None
    for line in git.run("worktree", "list", "--porcelain").splitlines():
        if line.startswith("worktree "):
            path = Path(line.removeprefix("worktree "))
        elif line.startswith("locked ") and path is not None:
            yield path, line.removeprefix("locked ")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def checkout(wt: Git, rev: str) -> None:
    wt.run("checkout", "--quiet", "--force", "--detach", rev)


def stage_all(wt: Git) -> str:
    """Stage every change in the worktree and return the tree it makes."""
    wt.run("add", "--all")
    return wt.run("write-tree").strip()


def tree_of(git: Git, rev: str) -> str:
    return git.run("rev-parse", "--verify", "--quiet", f"{rev}^{{tree}}").strip()


def changed_paths(git: Git, old: str, new: str) -> list[str]:
    out = git.run("diff-tree", "-r", "-z", "--name-only", "--no-renames", old, new)
    return [p for p in out.split("\0") if p]


def blob(git: Git, rev: str, path: str) -> bytes | None:
    """The file's bytes at ``rev``, or None when it does not exist there."""
    try:
        return git.bytes("cat-file", "blob", f"{rev}:{path}")
    except GitError:
        return None


def diff(git: Git, old: str, new: str) -> str:
    return git.run("diff", "--no-color", "--no-ext-diff", "--no-textconv", old, new)


def commit(
    wt: Git, tree: str, parent: str, message: str, author: Identity, committer: Identity
) -> str:
    """A commit object made with plumbing: no hooks, no signing prompt, no user config."""
    env = {
        "GIT_AUTHOR_NAME": author.name,
        "GIT_AUTHOR_EMAIL": author.email,
        "GIT_COMMITTER_NAME": committer.name,
        "GIT_COMMITTER_EMAIL": committer.email,
    }
    out = wt.run(
        "commit-tree", "--no-gpg-sign", tree, "-p", parent, "-F", "-", env=env, input=message
    )
    return out.strip()


def commits_between(git: Git, base: str, tip: str) -> list[Commit]:
    """Commits reachable from ``tip`` and not from ``base``, newest first."""
    out = git.run("rev-list", "--no-commit-header", "--format=%H%x00%ae%x00%ce", f"{base}..{tip}")
    found = []
    for line in out.splitlines():
        sha, author, committer = [*line.split("\0"), "", ""][:3]
        found.append(Commit(sha, author, committer))
    return found


def push(git: Git, url: str, sha: str, branch: str, expected: str | None) -> None:
    """Force-push ``sha`` to ``branch`` only if the remote still has ``expected`` there
    (None: the branch must not exist yet)."""
    lease = f"--force-with-lease=refs/heads/{branch}:{expected or ''}"
    try:
        git.run(
            "push",
            "--quiet",
            "--no-verify",
            "--porcelain",
            lease,
            url,
            f"{sha}:refs/heads/{branch}",
        )
    except GitError as exc:
        match = re.search(r"\[(?:remote )?rejected\].*", exc.detail)
        reason = match.group(0).strip() if match else str(exc).removeprefix("git push: ")
        raise GitError(f"push to {git.redact(url)} rejected: {reason}", exc.detail) from None
