"""A small GitHub REST client for ``tighten pr``: find, open and update one pull request.

``requests`` is imported on first use so ``tighten --version`` stays fast. The token travels
only in the ``Authorization`` header (requests drops it on redirects to another host) and
is redacted from every message this module produces.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fixer import __version__

__all__ = ["DEFAULT_API_URL", "ForgeError", "GitHub", "PullRequest"]

DEFAULT_API_URL = "https://api.github.com"
_HINTS = {
    401: "bad credentials: check GITHUB_TOKEN or GH_TOKEN",
    403: "forbidden: the token needs contents: write and pull-requests: write",
    404: "not found: check --repo, or the token cannot see this repository",
}


class ForgeError(Exception):
    """The forge refused or could not be reached; the message is one token-free line."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


#: GitHub's 403 when the repository or organization does not let the workflow token open
#: pull requests ("GitHub Actions is not permitted to create or approve pull requests.").
_ACTIONS_SETTING = (
    'forbidden: enable "Allow GitHub Actions to create and approve pull requests" in the '
    "repository's (or organization's) Settings > Actions > General > Workflow permissions"
)


@dataclass(frozen=True)
class PullRequest:
    number: int
    url: str
    title: str
    body: str
    base: str
    merged: bool = False  # closed pull requests: merged, or closed by a person

    @classmethod
    def of(cls, data: dict[str, Any]) -> PullRequest:
        return cls(
            number=int(data["number"]),
            url=str(data.get("html_url") or data.get("url") or ""),
            title=str(data.get("title") or ""),
            body=str(data.get("body") or ""),
            base=str((data.get("base") or {}).get("ref") or ""),
            merged=bool(data.get("merged_at")),
        )


@dataclass(frozen=True)
class GitHub:
    """One repository on GitHub or GitHub Enterprise (``api_url`` ends in ``/api/v3``)."""

    owner: str
    name: str
    token: str = field(repr=False)
    api_url: str = DEFAULT_API_URL
    timeout: float = 30.0

    def __post_init__(self) -> None:
        from fixer.pr.origin import api_refusal

        refused = api_refusal(self.api_url)
        if refused is not None:
            raise ForgeError(refused)

    @property
    def _repo_path(self) -> str:
        return f"/repos/{self.owner}/{self.name}"

    def default_branch(self) -> str:
        data = self._request("GET", self._repo_path)
        return str(data["default_branch"])

    def open_pull(self, branch: str) -> PullRequest | None:
        """The open pull request from ``branch`` of this repository, if there is one."""
        params = {"head": f"{self.owner}:{branch}", "state": "open", "per_page": "10"}
        data = self._request("GET", f"{self._repo_path}/pulls", params=params)
        return PullRequest.of(data[0]) if data else None

    def last_closed_pull(self, branch: str) -> PullRequest | None:
        """The most recently created closed pull request from ``branch``, if any."""
        params = {
            "head": f"{self.owner}:{branch}",
            "state": "closed",
            "sort": "created",
            "direction": "desc",
            "per_page": "1",
        }
        data = self._request("GET", f"{self._repo_path}/pulls", params=params)
        return PullRequest.of(data[0]) if data else None

    def add_labels(self, number: int, labels: list[str]) -> None:
        path = f"{self._repo_path}/issues/{number}/labels"
        self._request("POST", path, payload={"labels": labels})

    def request_reviewers(self, number: int, users: list[str], teams: list[str]) -> None:
        path = f"{self._repo_path}/pulls/{number}/requested_reviewers"
        self._request("POST", path, payload={"reviewers": users, "team_reviewers": teams})

    def create_pull(self, branch: str, base: str, title: str, body: str) -> PullRequest:
        payload = {"title": title, "head": branch, "base": base, "body": body}
        return PullRequest.of(self._request("POST", f"{self._repo_path}/pulls", payload=payload))

    def update_pull(self, number: int, *, title: str, body: str, base: str) -> PullRequest:
        payload = {"title": title, "body": body, "base": base}
        path = f"{self._repo_path}/pulls/{number}"
        return PullRequest.of(self._request("PATCH", path, payload=payload))

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        payload: dict[str, Any] | None = None,
    ) -> Any:
        import requests

        url = self.api_url.rstrip("/") + path
        headers = {
            "Accept": "application/vnd.github+json",
            "Authorization": f"Bearer {self.token}",
            "User-Agent": f"tighten/{__version__}",
            "X-GitHub-Api-Version": "2022-11-28",
        }
        where = f"GitHub API {method} {path}"
        try:
            response = requests.request(
                method, url, params=params, json=payload, headers=headers, timeout=self.timeout
            )
        except requests.RequestException as exc:
            reason = type(exc).__name__
            raise ForgeError(
                self._redact(f"{where}: cannot reach {self.api_url} ({reason})")
            ) from None
        if response.status_code >= 400:
            detail = _detail(response.status_code, _json(response))
            raise ForgeError(
                self._redact(f"{where}: {response.status_code} {detail}"), response.status_code
            )
        return _json(response)

    def _redact(self, text: str) -> str:
        return text.replace(self.token, "***") if self.token else text


def _json(response: Any) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _detail(status: int, data: Any) -> str:
    """GitHub's own message (and validation errors), or a hint about what usually causes it."""
    message = str(data.get("message", "")) if isinstance(data, dict) else ""
    errors = data.get("errors") if isinstance(data, dict) else None
    if isinstance(errors, list):
        extra = [
            str(e.get("message") or e.get("code") or "") for e in errors if isinstance(e, dict)
        ]
        message = "; ".join(m for m in [message, *extra] if m)
    message = " ".join(message.split())[:300]
    hint = _HINTS.get(status, "")
    if status == 403 and "create or approve pull requests" in message.lower():
        hint = _ACTIONS_SETTING
    if hint and message:
        return f"{hint} ({message})"
    return hint or message or "request failed"
