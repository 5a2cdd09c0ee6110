"""HTTP replies and how to judge them: statuses, `Retry-After`, transport failures."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime

import requests
import urllib3.exceptions

from .results import (
    CONNECTION_FAILED,
    DENIED,
    NOT_FOUND,
    RATE_LIMITED,
    TIMEOUT,
    UNAUTHORIZED,
    RegistryError,
)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class Reply:
    status: int
    headers: Mapping[str, str] = field(repr=False)
    body: bytes = field(repr=False)
    url: str


def retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` value (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def classify(exc: requests.RequestException) -> tuple[str, bool]:
    """(reason, worth retrying) for a transport exception."""
    if isinstance(exc, requests.exceptions.SSLError):
        return "connection failed: TLS error", False
    if isinstance(exc, requests.Timeout):
        return TIMEOUT, True
    cause = exc.args[0] if exc.args else None
    if isinstance(cause, (urllib3.exceptions.ReadTimeoutError, TimeoutError)):
        return TIMEOUT, True
    if isinstance(exc, requests.exceptions.InvalidURL | requests.exceptions.InvalidSchema):
        return "bad request: invalid URL", False
    reason = getattr(cause, "reason", None)
    name_error = getattr(urllib3.exceptions, "NameResolutionError", ())
    if name_error and isinstance(reason, name_error) and "Name or service not known" in str(reason):
        # The host does not exist (or there is no DNS at all): asking again cannot help.
        return f"{CONNECTION_FAILED}: cannot resolve host", False
    return CONNECTION_FAILED, True


def check_status(reply: Reply) -> None:
    """Map a non-200 reply to a short reason."""
    status = reply.status
    if status == 200:
        return
    reason = {404: NOT_FOUND, 401: UNAUTHORIZED, 403: DENIED, 429: RATE_LIMITED}.get(status)
    if reason is None:
        kind = "server error" if status >= 500 else "bad response"
        reason = f"{kind}: HTTP {status}"
    raise RegistryError(reason, status=status)


def read_body(response: requests.Response, limit: int, until: float | None = None) -> bytes:
    """The body, at most `limit` bytes; past the monotonic time `until`, a timeout (the
    socket is also cut at the deadline, see `deadline.py`: this check covers a server that
    keeps sending just fast enough)."""
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_content(64 * 1024):
        size += len(chunk)
        if size > limit:
            raise RegistryError(f"bad response: body larger than {limit} bytes")
        if until is not None and time.monotonic() > until:
            raise DeadlineExceeded()
        chunks.append(chunk)
    return b"".join(chunks)


class DeadlineExceeded(Exception):
    """A request ran past its overall deadline (turned into a timeout by the transport)."""
