"""Every rule tighten knows, one module per rule family.

``all_rules`` is the ``tighten.rules`` entry point (pyproject.toml): the CLI loads it and
hands the rules down; nothing in ``fixer`` imports this package.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from fixer.rule import Rule


@cache
def all_rules() -> tuple[Rule[Any], ...]:
    """One instance of every rule, in id order (imported on first use, not at start-up)."""
    from rules.automount import AutomountServiceAccountToken
    from rules.host import HostNamespaces
    from rules.nonroot import NonRootUser
    from rules.pinning import UnpinnedBaseImage, UnpinnedImage
    from rules.pragmas import UnknownSuppression
    from rules.privileged import PrivilegedContainer
    from rules.secrets_dockerfile import SecretInDockerfile
    from rules.secrets_kube import SecretInEnv
    from rules.security_context import SecurityContext
    from rules.tools import NetworkTools

    rules: list[Rule[Any]] = [
        NonRootUser(),
        PrivilegedContainer(),
        SecurityContext(),
        HostNamespaces(),
        NetworkTools(),
        SecretInDockerfile(),
        SecretInEnv(),
        UnpinnedBaseImage(),
        UnpinnedImage(),
        UnknownSuppression(),
        AutomountServiceAccountToken(),
    ]
    return tuple(sorted(rules, key=lambda r: r.id))
