"""A loopback proxy in front of a registry: counts requests, adds latency, injects faults
(statuses, hangs, wrong digests, tampered bodies) and can paginate tag lists."""

from __future__ import annotations

import contextlib
import http.client
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from urllib.parse import urlsplit

from .loopback import QuietHandler, serve


@dataclass(frozen=True)
class Fault:
    """What to do with one matching request instead of (or on top of) forwarding it."""

    status: int | None = None  # answer with this status instead of forwarding
    headers: dict[str, str] = field(default_factory=dict)
    hang: float = 0.0  # wait this long before doing anything (past the read timeout)
    digest: str | None = None  # forward, but replace Docker-Content-Digest ("" drops it)
    body: bytes | None = None  # forward, but replace the body
    trickle: float = 0.0  # forward, but send the whole reply one byte every `trickle` seconds


_HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "upgrade"}


class FaultProxy:
    """`tag_page_size` makes the proxy paginate tag lists with `Link` headers as registry 3
    and Docker Hub do (distribution 2.8 ignores `n` and returns every tag at once)."""

    def __init__(self, upstream: str, latency: float = 0.0, tag_page_size: int | None = None):
        self.upstream = urlsplit(upstream)
        self.latency = latency
        self.tag_page_size = tag_page_size
        self.log: list[tuple[str, str]] = []
        self._scripts: dict[tuple[str, str], list[Fault]] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = serve(self._handler_class())

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def script(self, method: str, path: str, *faults: Fault) -> None:
        """The next requests `method path` get these faults in order, then pass through;
        a path ending with "/" covers every path under it."""
        with self._lock:
            self._scripts[(method, path)] = list(faults)

    def count(self, method: str | None = None, contains: str = "") -> int:
        with self._lock:
            return sum(1 for m, p in self.log if (method in (None, m)) and contains in p)

    def reset(self) -> None:
        with self._lock:
            self.log.clear()
            self._scripts.clear()

    def stop(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def _next_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            self.log.append((method, path))
            target = urlsplit(path).path
            for (want, key), queue in self._scripts.items():
                # Exact paths, or every path under a key that ends with "/".
                hit = target == key or (key.endswith("/") and target.startswith(key))
                if want == method and hit and queue:
                    return queue.pop(0)
            return None

    def _forward(self, handler: BaseHTTPRequestHandler, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:  # fmt: skip
        conn = http.client.HTTPConnection(
            self.upstream.hostname or "", self.upstream.port, timeout=30
        )
        headers = {k: v for k, v in handler.headers.items() if k.lower() not in _HOP}
        headers["Host"] = self.upstream.netloc
        conn.request(handler.command, handler.path, body=body or None, headers=headers)
        response = conn.getresponse()
        data = response.read()
        conn.close()
        kept = [(k, v) for k, v in response.getheaders() if k.lower() not in _HOP]
        return response.status, kept, data

    def _page(
        self, path: str, headers: list[tuple[str, str]], data: bytes
    ) -> tuple[list[tuple[str, str]], bytes]:
        assert self.tag_page_size
        parts = urlsplit(path)
        query = dict(p.split("=", 1) for p in parts.query.split("&") if "=" in p)
        size = min(int(query.get("n", self.tag_page_size)), self.tag_page_size)
        listing = json.loads(data)
        tags = sorted(t for t in listing["tags"] if t > query.get("last", ""))
        listing["tags"] = tags[:size]
        kept = [(k, v) for k, v in headers if k.lower() not in ("content-length", "link")]
        if len(tags) > size:
            link = f"{parts.path}?n={size}&last={tags[size - 1]}"
            kept.append(("Link", f'<{link}>; rel="next"'))
        body = json.dumps(listing).encode()
        return [*kept, ("Content-Length", str(len(body)))], body

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(QuietHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                fault = proxy._next_fault(self.command, self.path)
                if proxy.latency:
                    time.sleep(proxy.latency)
                if fault and fault.hang:
                    proxy._stopping.wait(fault.hang)
                if fault and fault.status is not None:
                    return self._reply(fault.status, {"errors": []}, fault.headers)
                status, headers, data = proxy._forward(self, body)
                if proxy.tag_page_size and "/tags/list" in self.path and status == 200:
                    headers, data = proxy._page(self.path, headers, data)
                if fault and fault.body is not None:
                    data = fault.body
                    headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
                    headers.append(("Content-Length", str(len(data))))
                if fault and fault.digest is not None:
                    headers = [(k, v) for k, v in headers if k.lower() != "docker-content-digest"]
                    if fault.digest:
                        headers.append(("Docker-Content-Digest", fault.digest))
                self.send_response(status)
                for key, value in headers:
                    if key.lower() not in ("server", "date"):
                        self.send_header(key, value)
                if fault and fault.trickle:
                    return self._trickle(data, fault.trickle)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            def _trickle(self, data: bytes, every: float) -> None:
                # Status line and headers too: a per-read timeout never fires on this.
                buffered: list[bytes] = getattr(self, "_headers_buffer", [])
                reply = b"".join([*buffered, b"\r\n"])
                buffered.clear()
                if self.command != "HEAD":
                    reply += data
                for index in range(len(reply)):  # bounded: one pass over the reply
                    if proxy._stopping.wait(every):
                        return
                    self.wfile.write(reply[index : index + 1])
                    self.wfile.flush()

            def _safe(self) -> None:
                # The client may have given up (timeouts): then there is no one to answer.
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self._handle()

            do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = _safe

        return Handler
