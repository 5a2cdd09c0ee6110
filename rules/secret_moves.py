"""Where a K8S004 fix moved a value, and what a person runs to put the rotated value
there (``fixer.model.Moved``): one small function per destination, so the ``tighten pr``
body can list each moved value without reading fix titles. Never a value; commands use a
``<new KEY value>`` placeholder.
"""

from __future__ import annotations

from pathlib import Path

from fixer.model import Moved
from rules import secret_workflow as sw
from rules.secret_file import SecretTarget


def _space(namespace: str | None) -> str:
    return f" in namespace {namespace}" if namespace else ""


def plain(target: SecretTarget, key: str) -> Moved:
    """The git-ignored generated Secret: a person creates the Secret in the cluster."""
    namespace = f" -n {target.namespace}" if target.namespace else ""
    command = (
        f"kubectl create secret generic {target.name}{namespace} "
        f"--from-literal={key}='<new {key} value>'"
    )
    where = f"Secret {target.name}{_space(target.namespace)} (git-ignored {target.shown})"
    return Moved(key, where, f"`{command}`", target.shown)


def sops(path: Path, target: SecretTarget, key: str) -> Moved:
    """The committed SOPS-encrypted Secret: edited in place with the private key."""
    where = f"Secret {target.name}{_space(target.namespace)}, SOPS-encrypted in {path.as_posix()}"
    return Moved(key, where, f"`sops edit {path.as_posix()}`", path.as_posix())


def sealed(path: Path, place: sw.Placement, key: str) -> Moved:
    """The committed SealedSecret: the controller creates the Secret, nothing to run."""
    where = f"SealedSecret {path.as_posix()} for Secret {place.namespace}/{place.name}"
    return Moved(key, where, "", path.as_posix())


def provided(where: str, key: str) -> Moved:
    """A key the ExternalSecret already fills from its store: nothing moved anywhere."""
    return Moved(key, f"{where}, which already provides it (the store holds the value)")


def external(where: str, key: str, stored: str) -> Moved:
    """A new ``data`` entry of the ExternalSecret: the remote key must be created."""
    command = f"create the remote key {stored} in the store {where} reads"
    return Moved(key, f"{where}, new key {key} from remote key {stored}", command)
