"""Listing a repository's tags: `/v2/<name>/tags/list`, following `Link` pagination for a
bounded number of pages, once per repository per client (thread-safe)."""

from __future__ import annotations

import json
import re
from urllib.parse import urljoin, urlsplit

from .memo import Memo
from .options import ClientOptions, Endpoint
from .reference import Reference
from .responses import Reply, check_status
from .results import RegistryError
from .transport import Transport

_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?', re.IGNORECASE)


def next_link(reply: Reply) -> str | None:
    """The absolute URL of the next page, if the `Link` header names one."""
    match = _NEXT.search(reply.headers.get("Link") or "")
    return urljoin(reply.url, match.group(1)) if match else None


def page_tags(reply: Reply) -> list[str]:
    try:
        data = json.loads(reply.body)
    except ValueError:
        raise RegistryError("bad response: tag list is not JSON") from None
    tags = data.get("tags") if isinstance(data, dict) else None
    return [t for t in tags or () if isinstance(t, str)]


class TagLister:
    def __init__(self, transport: Transport, options: ClientOptions) -> None:
        self._transport = transport
        self._options = options
        self._cache: Memo[tuple[str, str], tuple[str, ...]] = Memo()

    def tags(self, ref: Reference, endpoint: Endpoint) -> tuple[str, ...]:
        key = (endpoint.base_url, ref.repository)
        return self._cache.get(key, lambda: self._list(ref.repository, endpoint))

    def _list(self, repository: str, endpoint: Endpoint) -> tuple[str, ...]:
        target: str | None = f"/v2/{repository}/tags/list?n={self._options.tag_page_size}"
        found: list[str] = []
        for _ in range(self._options.max_tag_pages):
            if target is None:
                break
            reply = self._transport.request(
                "GET", endpoint, target, repository=repository, headers={}
            )
            check_status(reply)
            found.extend(page_tags(reply))
            target = next_link(reply)
            # Follow only same-origin links: a foreign host must not get our token.
            if target and _origin(target) != endpoint.origin:
                break
        return tuple(dict.fromkeys(found))


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
