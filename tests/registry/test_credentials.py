"""Credentials from a Docker config.json and credential helpers, as `docker pull` finds them."""

from __future__ import annotations

import base64
import json
import logging
import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from fixer.registry.credentials import HUB_CONFIG_KEY, Credentials, CredentialStore

from .conftest import basic_auth_entry

WriteConfig = Callable[[dict[str, object]], CredentialStore]


def helper_script(folder: Path, name: str, body: str) -> dict[str, str]:
    """A `docker-credential-<name>` on a private PATH; returns the env to use it."""
    folder.mkdir(exist_ok=True)
    script = folder / f"docker-credential-{name}"
    script.write_text("#!/bin/sh\n" + body)
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return {"PATH": f"{folder}:/usr/bin:/bin"}


def test_auth_field_and_hub_key(write_docker_config: WriteConfig) -> None:
    store = write_docker_config(
        {"auths": {HUB_CONFIG_KEY: basic_auth_entry("hubuser", "hub:pw-with-colon")}}
    )
    for host in ("docker.io", "registry-1.docker.io", "index.docker.io"):
        creds = store.get(host)
        assert creds == Credentials("hubuser", "hub:pw-with-colon")
    assert store.get("ghcr.io") is None


def test_username_password_identitytoken_and_host_spellings(
    write_docker_config: WriteConfig,
) -> None:
    store = write_docker_config(
        {
            "auths": {
                "https://ghcr.io/v1/": {"username": "u", "password": "p"},
                "quay.io": {"identitytoken": "id-tok"},
                "empty.example": {},
                "bad.example": {"auth": "%%%not base64"},
            }
        }
    )
    assert store.get("ghcr.io") == Credentials("u", "p")
    assert store.get("quay.io") == Credentials(identity_token="id-tok")
    assert store.get("empty.example") is None
    assert store.get("bad.example") is None


def test_credential_helper_wins_over_auths(tmp_path: Path) -> None:
    env = helper_script(
        tmp_path / "bin",
        "tighten-test",
        'read server\nif [ "$server" = "reg.example" ]; then\n'
        '  echo \'{"ServerURL":"reg.example","Username":"helper-user","Secret":"helper-pw"}\'\n'
        'elif [ "$server" = "tok.example" ]; then\n'
        '  echo \'{"Username":"<token>","Secret":"helper-identity"}\'\n'
        "else echo 'credentials not found in native keychain'; exit 1; fi\n",
    )
    config = tmp_path / "cfg"
    config.mkdir()
    (config / "config.json").write_text(
        json.dumps(
            {
                "credsStore": "tighten-test",
                "auths": {"fallback.example": basic_auth_entry("file-user", "file-pw")},
            }
        )
    )
    store = CredentialStore(env={"DOCKER_CONFIG": str(config), **env})
    assert store.get("reg.example") == Credentials("helper-user", "helper-pw")
    assert store.get("tok.example") == Credentials(identity_token="helper-identity")
    assert store.get("fallback.example") == Credentials("file-user", "file-pw")
    assert store.get("nothing.example") is None


def test_cred_helpers_per_host_and_missing_helper(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    env = helper_script(
        tmp_path / "bin", "per-host", 'read s\necho \'{"Username":"h","Secret":"s"}\'\n'
    )
    config = tmp_path / "cfg"
    config.mkdir()
    (config / "config.json").write_text(
        json.dumps({"credHelpers": {"a.example": "per-host", "b.example": "not-installed"}})
    )
    store = CredentialStore(env={"DOCKER_CONFIG": str(config), **env})
    assert store.get("a.example") == Credentials("h", "s")
    with caplog.at_level(logging.WARNING):
        assert store.get("b.example") is None
    assert "docker-credential-not-installed" in caplog.text


def test_helper_name_cannot_escape(tmp_path: Path) -> None:
    config = tmp_path / "cfg"
    config.mkdir()
    (config / "config.json").write_text(json.dumps({"credsStore": "../../bin/sh"}))
    assert CredentialStore(env={"DOCKER_CONFIG": str(config)}).get("x.example") is None


def test_unreadable_config_is_ignored_without_echoing_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = tmp_path / "cfg"
    config.mkdir()
    (config / "config.json").write_text('{"auths": {"x": {"auth": "c2VjcmV0"}} BROKEN')
    with caplog.at_level(logging.DEBUG):
        assert CredentialStore(env={"DOCKER_CONFIG": str(config)}).get("x") is None
    assert "c2VjcmV0" not in caplog.text and "unreadable" in caplog.text


def test_default_path_uses_docker_config_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("DOCKER_CONFIG", raising=False)
    (tmp_path / ".docker").mkdir()
    encoded = base64.b64encode(b"home:pw").decode()
    (tmp_path / ".docker" / "config.json").write_text(
        json.dumps({"auths": {"h.example": {"auth": encoded}}})
    )
    assert CredentialStore().get("h.example") == Credentials("home", "pw")
    assert os.environ["HOME"] == str(tmp_path)


def test_credentials_repr_is_redacted() -> None:
    creds = Credentials("user", "pw-Secret", "id-Secret", "reg-Secret")
    for text in (repr(creds), str(creds), f"{creds}"):
        assert "Secret" not in text and "user" not in text
