"""Shared secret detection and the generated Kubernetes Secret writer (DF004, K8S004).

* ``detect``: is a ``name=value`` pair a literal secret? (pure)
* ``manifest``: render or merge the generated ``v1/Secret`` manifest (pure text in, text out;
  ruamel.yaml is imported only when a manifest is rendered)
* ``gitignore``: keep the generated manifest out of git (one small look-up, one pure edit)

Only ``render_secret_manifest`` ever outputs a secret value: its result *is* the Secret.
"""

from __future__ import annotations

from fixer.secrets.detect import SecretMatch, classify, credential_kind, mask, secret_name
from fixer.secrets.gitignore import add_gitignore_line, gitignore_entry
from fixer.secrets.manifest import (
    SecretManifestError,
    placeholder_manifest,
    render_secret_manifest,
    secret_key_for,
    secret_name_for,
)

__all__ = [
    "SecretManifestError",
    "SecretMatch",
    "add_gitignore_line",
    "classify",
    "credential_kind",
    "gitignore_entry",
    "mask",
    "placeholder_manifest",
    "render_secret_manifest",
    "secret_key_for",
    "secret_name",
    "secret_name_for",
]
