"""A fake GitHub REST API on 127.0.0.1 for the ``tighten pr`` tests (no internet needed).

Implements the endpoints tighten uses (get repository, list pulls with ``head``, ``state``
and ``direction``, create pull, update pull, add labels, request reviewers), checks the ``Authorization`` header and the payloads like GitHub
does, records every request, and fails on demand (``fail("POST", "/pulls", 422)``).

It also answers git's smart-HTTP discovery request (``/info/refs``) with 404 after recording
its headers, which lets a test see the ``Authorization`` header git sends for a remote.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    payload: Any
    authorizations: list[str] = field(default_factory=list)  # every Authorization header


@dataclass
class FakeGitHub:
    token: str
    owner: str = "acme"
    name: str = "app"
    default_branch: str = "main"
    requests: list[Request] = field(default_factory=list)
    pulls: list[dict[str, Any]] = field(default_factory=list)
    failures: list[tuple[str, str, int, str]] = field(default_factory=list)
    labels: dict[int, list[str]] = field(default_factory=dict)
    reviewers: dict[int, dict[str, list[str]]] = field(default_factory=dict)
    url: str = ""

    def fail(self, method: str, path_part: str, status: int, message: str = "") -> None:
        """Answer ``status`` to every ``method`` request whose path contains ``path_part``."""
        self.failures.append((method, path_part, status, message or f"fake failure {status}"))

    def close(self, number: int, *, merged: bool = False) -> None:
        """A person closes (or merges) a pull request."""
        pull = self.pulls[number - 1]
        pull["state"] = "closed"
        pull["merged_at"] = "2024-01-01T00:00:00Z" if merged else None

    @property
    def writes(self) -> list[Request]:
        return [r for r in self.requests if r.method in ("POST", "PATCH", "PUT", "DELETE")]

    # ------------------------------------------------------------------ dispatch

    def handle(self, request: Request) -> tuple[int, Any]:
        self.requests.append(request)
        for method, part, status, message in self.failures:
            if method in (request.method, "*") and part in request.path:
                return status, {"message": message}
        if request.path.endswith("/info/refs"):
            return 404, {"message": "not a git server"}
        auth = request.headers.get("authorization", "")
        if auth not in (f"Bearer {self.token}", f"token {self.token}"):
            return 401, {"message": "Bad credentials"}
        if request.headers.get("accept") != "application/vnd.github+json":
            return 415, {"message": "wrong Accept"}
        repo = f"/repos/{self.owner}/{self.name}"
        if not request.path.startswith(repo):
            return 404, {"message": "Not Found"}
        rest = request.path[len(repo) :]
        if rest == "" and request.method == "GET":
            return 200, {
                "full_name": f"{self.owner}/{self.name}",
                "default_branch": self.default_branch,
            }
        if rest == "/pulls" and request.method == "GET":
            return 200, self._list(request.query)
        if rest == "/pulls" and request.method == "POST":
            return self._create(request.payload)
        if rest.startswith("/pulls/") and request.method == "PATCH":
            return self._update(int(rest.split("/")[2]), request.payload)
        if rest.endswith("/labels") and request.method == "POST":
            return self._label(int(rest.split("/")[2]), request.payload)
        if rest.endswith("/requested_reviewers") and request.method == "POST":
            return self._review(int(rest.split("/")[2]), request.payload)
        return 404, {"message": "Not Found"}

    def _label(self, number: int, payload: Any) -> tuple[int, Any]:
        labels = payload.get("labels") if isinstance(payload, dict) else None
        if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
            return 422, {"message": "Validation Failed"}
        found = self.labels.setdefault(number, [])
        found += [x for x in labels if x not in found]
        return 200, [{"name": x} for x in found]

    def _review(self, number: int, payload: Any) -> tuple[int, Any]:
        if not isinstance(payload, dict) or set(payload) - {"reviewers", "team_reviewers"}:
            return 422, {"message": "Validation Failed"}
        self.reviewers[number] = {k: list(v) for k, v in payload.items()}
        return 201, self.pulls[number - 1]

    def _list(self, query: dict[str, str]) -> list[dict[str, Any]]:
        owner, _, branch = query.get("head", "").partition(":")
        state = query.get("state", "open")
        found = [
            p
            for p in self.pulls
            if (not branch or (owner == self.owner and p["head"]["ref"] == branch))
            and (state == "all" or p["state"] == state)
        ]
        newest_first = query.get("sort", "created") == "created"  # GitHub's default order
        if query.get("direction", "desc" if newest_first else "asc") == "desc":
            found.reverse()
        return found[: int(query.get("per_page", "30"))]

    def _create(self, payload: Any) -> tuple[int, Any]:
        if not isinstance(payload, dict) or not all(
            isinstance(payload.get(k), str) and payload[k] for k in ("title", "head", "base")
        ):
            return 422, {"message": "Validation Failed", "errors": [{"code": "missing_field"}]}
        if any(p["head"]["ref"] == payload["head"] and p["state"] == "open" for p in self.pulls):
            message = f"A pull request already exists for {self.owner}:{payload['head']}."
            return 422, {"message": "Validation Failed", "errors": [{"message": message}]}
        number = len(self.pulls) + 1
        pull = {
            "number": number,
            "state": "open",
            "merged_at": None,
            "html_url": f"https://github.example/{self.owner}/{self.name}/pull/{number}",
            "title": payload["title"],
            "body": payload.get("body") or "",
            "head": {"ref": payload["head"]},
            "base": {"ref": payload["base"]},
        }
        self.pulls.append(pull)
        return 201, pull

    def _update(self, number: int, payload: Any) -> tuple[int, Any]:
        pull = next((p for p in self.pulls if p["number"] == number), None)
        if pull is None:
            return 404, {"message": "Not Found"}
        if not isinstance(payload, dict) or set(payload) - {"title", "body", "base", "state"}:
            return 422, {"message": "Validation Failed"}
        for key in ("title", "body", "state"):
            if key in payload:
                pull[key] = payload[key]
        if "base" in payload:
            pull["base"] = {"ref": payload["base"]}
        return 200, pull


def _handler(fake: FakeGitHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                payload = json.loads(raw) if raw else None
            except ValueError:
                payload = None
            query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            headers = {k.lower(): v for k, v in self.headers.items()}
            auths = self.headers.get_all("Authorization") or []
            request = Request(self.command, parts.path, query, headers, payload, list(auths))
            status, body = fake.handle(request)
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def serve(token: str, **kwargs: Any) -> Iterator[FakeGitHub]:
    """Run a fake on a free port of 127.0.0.1 for the ``with`` block."""
    fake = FakeGitHub(token, **kwargs)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
