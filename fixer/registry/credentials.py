"""Registry credentials from the Docker CLI configuration, as `docker pull` finds them.

Order, as the Docker CLI does it: the credential helper for the host (`credHelpers`, else
`credsStore`) when it has an entry, else the `auths` entry (`auth` = base64 user:pass, or
`username`/`password`, plus `identitytoken`). Docker Hub's key is
`https://index.docker.io/v1/`. Secrets never reach a repr, a log line or an error message.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
import re
import subprocess
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .reference import DOCKER_HUB, DOCKER_HUB_API

log = logging.getLogger(__name__)

HUB_CONFIG_KEY = "https://index.docker.io/v1/"
_HUB_HOSTS = frozenset({DOCKER_HUB, DOCKER_HUB_API, "index.docker.io"})
_HELPER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_TOKEN_USERNAME = "<token>"  # a helper's way of saying "Secret is an identity token"
HELPER_TIMEOUT = 10.0

Runner = Callable[..., "subprocess.CompletedProcess[str]"]


@dataclass(frozen=True)
class Credentials:
    """What to authenticate with. `identity_token` is an OAuth2 refresh token (Docker's
    `identitytoken`); `registry_token` is a bearer token to send as is."""

    username: str = field(default="", repr=False)
    password: str = field(default="", repr=False)
    identity_token: str = field(default="", repr=False)
    registry_token: str = field(default="", repr=False)

    @property
    def has_basic(self) -> bool:
        return bool(self.username and self.password)

    def basic_header(self) -> str:
        raw = f"{self.username}:{self.password}".encode()
        return "Basic " + base64.b64encode(raw).decode("ascii")

    def __repr__(self) -> str:
        return "Credentials(<redacted>)"

    __str__ = __repr__


def config_key(host: str) -> str:
    """The key Docker uses for `host` in config.json and for credential helpers."""
    return HUB_CONFIG_KEY if host in _HUB_HOSTS else host


def default_config_path(env: Mapping[str, str] = os.environ) -> Path:
    folder = env.get("DOCKER_CONFIG")
    return (Path(folder) if folder else Path.home() / ".docker") / "config.json"


class CredentialStore:
    """Looks credentials up once per host (thread-safe) from a Docker config file."""

    def __init__(
        self,
        config_path: Path | None = None,
        *,
        env: Mapping[str, str] | None = None,
        runner: Runner = subprocess.run,
    ) -> None:
        self._env = dict(os.environ if env is None else env)
        self._path = config_path or default_config_path(self._env)
        self._runner = runner
        self._lock = threading.Lock()
        self._config: dict[str, Any] | None = None
        self._cache: dict[str, Credentials | None] = {}

    def __repr__(self) -> str:
        return f"CredentialStore({str(self._path)!r})"

    def get(self, host: str) -> Credentials | None:
        with self._lock:
            if host not in self._cache:
                self._cache[host] = self._lookup(config_key(host))
            return self._cache[host]

    def _lookup(self, key: str) -> Credentials | None:
        config = self._load()
        helper = _helper_for(config, key)
        if helper:
            found = self._from_helper(helper, key)
            if found:
                return found
        return _from_auths(config.get("auths"), key)

    def _load(self) -> dict[str, Any]:
        if self._config is None:
            self._config = _read_config(self._path)
        return self._config

    def _from_helper(self, helper: str, key: str) -> Credentials | None:
        program = f"docker-credential-{helper}"
        try:
            done = self._runner(
                [program, "get"],
                input=key,
                capture_output=True,
                text=True,
                timeout=HELPER_TIMEOUT,
                env=self._env,
                check=False,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            log.warning("credential helper %s failed to run (%s)", program, type(exc).__name__)
            return None
        if done.returncode != 0:
            # Its output may echo secrets: report the exit status only.
            log.debug("credential helper %s has no entry (exit %d)", program, done.returncode)
            return None
        return _parse_helper_output(done.stdout, program)


def _read_config(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        # Never echo the content: it holds secrets.
        log.warning("ignoring unreadable Docker config %s (%s)", path, type(exc).__name__)
        return {}
    return data if isinstance(data, dict) else {}


def _helper_for(config: Mapping[str, Any], key: str) -> str | None:
    helpers = config.get("credHelpers")
    name = helpers.get(key) if isinstance(helpers, dict) else None
    name = name or config.get("credsStore")
    if isinstance(name, str) and _HELPER_NAME.fullmatch(name):
        return name
    return None


def _parse_helper_output(stdout: str, program: str) -> Credentials | None:
    try:
        data = json.loads(stdout)
        username, secret = str(data.get("Username", "")), str(data.get("Secret", ""))
    except (ValueError, AttributeError):
        log.warning("credential helper %s printed something that is not JSON", program)
        return None
    if not secret:
        return None
    if username == _TOKEN_USERNAME:
        return Credentials(identity_token=secret)
    return Credentials(username=username, password=secret)


def _hostname(key: str) -> str:
    # Docker's ConvertToHostname: drop the scheme and any path.
    for scheme in ("http://", "https://"):
        if key.startswith(scheme):
            key = key[len(scheme) :]
    return key.split("/", 1)[0]


def _from_auths(auths: object, key: str) -> Credentials | None:
    if not isinstance(auths, dict):
        return None
    entry = auths.get(key)
    if entry is None:
        wanted = _hostname(key)
        entry = next((v for k, v in auths.items() if _hostname(k) == wanted), None)
    return _entry_credentials(entry) if isinstance(entry, dict) else None


def _entry_credentials(entry: Mapping[str, Any]) -> Credentials | None:
    username = str(entry.get("username") or "")
    password = str(entry.get("password") or "")
    encoded = entry.get("auth")
    if isinstance(encoded, str) and encoded:
        try:
            decoded = base64.b64decode(encoded, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            log.warning("ignoring an 'auth' value in the Docker config that is not base64")
        else:
            username, _, password = decoded.partition(":")
    found = Credentials(
        username=username,
        password=password,
        identity_token=str(entry.get("identitytoken") or ""),
        registry_token=str(entry.get("registrytoken") or ""),
    )
    if found.has_basic or found.identity_token or found.registry_token:
        return found
    return None
