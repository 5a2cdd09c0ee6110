"""HTTP to registries: one pooled session, retries with backoff, and authentication.

Per host we ping `/v2/` once to learn its challenge, so every later request goes out
authenticated the first time: one manifest request per reference, one token request per
(realm, service, scope, credentials). Transport failures become `RegistryError`; HTTP
statuses are returned for the caller to judge.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import requests
import requests.adapters

from .auth import (
    REALM_DOWNGRADE,
    Challenge,
    Token,
    TokenRequest,
    parse_token_response,
    preferred_challenge,
    pull_scope,
    realm_downgrades,
    sends_secret,
    token_request,
)
from .credentials import Credentials, CredentialStore
from .deadline import DeadlineAdapter, Watch
from .memo import Memo
from .options import ClientOptions, Endpoint
from .responses import (
    RETRY_STATUSES,
    DeadlineExceeded,
    Reply,
    classify,
    read_body,
    retry_after,
)
from .results import TIMEOUT, UNAUTHORIZED, RegistryError

#: Consumes a 200 reply's body as it streams (`requests.Response`, monotonic deadline)
#: instead of it being read into memory; what it returns becomes `Reply.body`.
BodyReader = Callable[[requests.Response, float], bytes]

log = logging.getLogger(__name__)

_ANONYMOUS = Challenge("anonymous")
RECENT_TOKEN = 10.0  # seconds


def _identity(challenge: Challenge) -> tuple[str, str, str]:
    return (challenge.scheme, challenge.realm, challenge.params.get("service", ""))


class Transport:
    def __init__(
        self,
        options: ClientOptions,
        credentials: CredentialStore,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.options = options
        self._credentials = credentials
        self._sleep = sleep
        self._clock = clock
        self._session = requests.Session()
        adapter = DeadlineAdapter(
            pool_connections=options.pool_size, pool_maxsize=options.pool_size
        )
        self._session.mount("https://", adapter)
        self._session.mount("http://", adapter)
        self._session.headers["User-Agent"] = options.user_agent
        self._challenges: Memo[str, Challenge | RegistryError] = Memo()
        self._tokens: Memo[tuple[str, str, str, str], Token | RegistryError] = Memo()
        self._count_lock = threading.Lock()
        self.requests_sent = 0

    def close(self) -> None:
        self._session.close()

    def request(
        self,
        method: str,
        endpoint: Endpoint,
        target: str,
        *,
        repository: str,
        headers: Mapping[str, str] | None = None,
        limit: int | None = None,
        reader: BodyReader | None = None,
    ) -> Reply:
        """Send an authenticated request; `target` is a path (`/v2/...`) or a full URL.
        With `reader`, a 200 reply's body goes to it as it streams (each attempt anew)."""
        url = target if "://" in target else endpoint.url(target)
        challenge = self._challenge(endpoint)
        auth, token = self._authorization(endpoint, challenge, repository)
        reply = self._send(method, url, _merge(headers, auth), limit=limit, reader=reader)
        if reply.status != 401:
            return reply
        # Tokens expire and registries may challenge only some paths: learn, renew, retry once.
        fresh = preferred_challenge(reply.headers.get("WWW-Authenticate"))
        if fresh is None or not self._worth_retry(challenge, fresh, token):
            return reply
        self._challenges.put(endpoint.base_url, fresh)
        if token is not None:
            self._tokens.discard(self._token_key(endpoint, fresh, repository), token)
        auth, token = self._authorization(endpoint, fresh, repository)
        if auth is None:
            return reply
        return self._send(method, url, _merge(headers, auth), limit=limit, reader=reader)

    def _worth_retry(self, used: Challenge, fresh: Challenge, token: Token | None) -> bool:
        """Retry after a 401 only if we learned a new challenge or our token may be stale;
        a token issued moments ago and refused means no access, and asking again would not
        change that."""
        if _identity(fresh) != _identity(used):
            return True
        return token is not None and self._clock() - token.obtained_at > RECENT_TOKEN

    # -- authentication -------------------------------------------------------------------

    def _challenge(self, endpoint: Endpoint) -> Challenge:
        found = self._challenges.get(endpoint.base_url, lambda: self._ping(endpoint))
        if isinstance(found, RegistryError):
            raise found.clone()
        return found

    def _ping(self, endpoint: Endpoint) -> Challenge | RegistryError:
        # Failures are remembered too: a dead host fails every reference at once.
        try:
            reply = self._send("GET", endpoint.url("/v2/"), {})
        except RegistryError as err:
            return err
        if reply.status == 401:
            return preferred_challenge(reply.headers.get("WWW-Authenticate")) or _ANONYMOUS
        return _ANONYMOUS

    def _creds(self, endpoint: Endpoint) -> Credentials | None:
        return self._credentials.get(endpoint.credential_host)

    def _authorization(
        self, endpoint: Endpoint, challenge: Challenge, repository: str
    ) -> tuple[str | None, Token | None]:
        creds = self._creds(endpoint)
        if challenge.scheme == "basic":
            return (creds.basic_header() if creds and creds.has_basic else None), None
        if challenge.scheme != "bearer":
            return None, None
        if creds is not None and creds.registry_token:
            return f"Bearer {creds.registry_token}", None
        if sends_secret(creds) and realm_downgrades(endpoint.base_url, challenge.realm):
            # Refused rather than asked anonymously: without the credentials the answer
            # would be a misleading "unauthorized" or "not found". With no credentials
            # nothing secret travels, and the anonymous flow goes ahead.
            raise RegistryError(REALM_DOWNGRADE)
        key = self._token_key(endpoint, challenge, repository)
        token = self._tokens.get(
            key,
            lambda: self._token_or_error(challenge, pull_scope(repository), creds),
            lambda t: isinstance(t, RegistryError) or t.fresh(self._clock()),
        )
        if isinstance(token, RegistryError):
            raise token.clone()
        return token.header, token

    def _token_key(
        self, endpoint: Endpoint, challenge: Challenge, repository: str
    ) -> tuple[str, str, str, str]:
        service = challenge.params.get("service", "")
        return (challenge.realm, service, pull_scope(repository), endpoint.credential_host)

    def _token_or_error(
        self, challenge: Challenge, scope: str, creds: Credentials | None
    ) -> Token | RegistryError:
        # A refusal is remembered for the run: N look-ups in one repository with wrong
        # credentials cost one token request, not N.
        try:
            return self._fetch_token(challenge, scope, creds)
        except RegistryError as err:
            return err

    def _fetch_token(self, challenge: Challenge, scope: str, creds: Credentials | None) -> Token:
        request = token_request(challenge, scope, creds)
        reply = self._send_token(request)
        if request.is_oauth and reply.status in (404, 405):
            log.debug("token realm has no OAuth2 endpoint; using the GET token flow")
            request = token_request(challenge, scope, creds, oauth=False)
            reply = self._send_token(request)
        if reply.status in (401, 403):
            raise RegistryError(UNAUTHORIZED, status=reply.status)
        if reply.status != 200:
            raise RegistryError(f"bad response: token server HTTP {reply.status}")
        log.debug("got a token for %s", scope)
        return parse_token_response(reply.body, self._clock())

    def _send_token(self, request: TokenRequest) -> Reply:
        return self._send(
            request.method,
            request.url,
            dict(request.headers),
            params=request.params,
            data=request.form,
            limit=self.options.manifest_limit,
        )

    # -- HTTP with retries ----------------------------------------------------------------

    def _send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        *,
        params: Any = None,
        data: Any = None,
        limit: int | None = None,
        reader: BodyReader | None = None,
    ) -> Reply:
        # One deadline for the request as a whole: every attempt and every wait included.
        until = time.monotonic() + self.options.deadline
        attempts = self.options.retries + 1
        for attempt in range(attempts):
            last = attempt == attempts - 1
            try:
                reply = self._once(method, url, headers, params, data, (limit, reader), until)
            except requests.RequestException as exc:
                reason, retry = classify(exc)
                log.debug("%s %s failed: %s", method, _safe(url), reason)
                if last or not retry:
                    raise RegistryError(reason) from None
                self._wait(self._backoff(attempt), until)
                continue
            if reply.status not in RETRY_STATUSES or last:
                return reply
            wait = retry_after(reply.headers.get("Retry-After"))
            log.debug("%s %s: HTTP %d, retrying", method, _safe(url), reply.status)
            self._wait(min(self._backoff(attempt) if wait is None else wait, self._cap), until)
        raise AssertionError("unreachable")

    def _wait(self, seconds: float, until: float) -> None:
        """Sleep before a retry, unless the retry would start past the deadline."""
        if time.monotonic() + seconds >= until:
            raise self._timed_out()
        self._sleep(seconds)

    def _timed_out(self) -> RegistryError:
        return RegistryError(f"{TIMEOUT}: timed out after {self.options.deadline:g} s")

    @property
    def _cap(self) -> float:
        return self.options.max_retry_wait

    def _backoff(self, attempt: int) -> float:
        base = self.options.backoff * (2.0**attempt)
        return min(base * (1 + random.random() / 4), self._cap)  # jitter spreads retries

    def _once(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        params: Any,
        data: Any,
        body: tuple[int | None, BodyReader | None],
        until: float,
    ) -> Reply:
        with self._count_lock:
            self.requests_sent += 1
        timeout = (self.options.connect_timeout, self.options.read_timeout)
        left = until - time.monotonic()
        if left <= 0:
            raise self._timed_out()
        watch = Watch(left)
        try:
            with watch, self._session.request(
                method, url, headers=dict(headers), params=params, data=data,
                timeout=timeout, stream=True, allow_redirects=True,
            ) as response:  # fmt: skip
                content = self._body(method, response, body, until)
                return Reply(response.status_code, response.headers, content, response.url)
        except (requests.RequestException, DeadlineExceeded):
            # A cut socket surfaces as whatever error the read was in: the deadline names it.
            if watch.expired or time.monotonic() >= until:
                raise self._timed_out() from None
            raise

    def _body(
        self,
        method: str,
        response: requests.Response,
        how: tuple[int | None, BodyReader | None],
        until: float,
    ) -> bytes:
        limit, reader = how
        if method == "HEAD":
            return b""
        if reader is not None and response.status_code == 200:
            return reader(response, until)
        # An error page is read whole (it is small) even on a streamed request.
        return read_body(response, limit or self.options.body_limit, until)


def _merge(headers: Mapping[str, str] | None, auth: str | None) -> dict[str, str]:
    merged = dict(headers or {})
    if auth:
        merged["Authorization"] = auth
    return merged


def _safe(url: str) -> str:
    # URLs carry no secrets (credentials go in headers and forms) but keep logs short.
    return url.split("?", 1)[0]
