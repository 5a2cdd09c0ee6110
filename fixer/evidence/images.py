"""Who an image runs as, answered from the evidence at hand, cheapest first.

A behaviour-changing fix (``runAsNonRoot``, ``USER``, ``drop: [ALL]``) depends on the
image's user: the kubelet verifies ``runAsNonRoot`` only for a numeric user, and an image
that starts as root on purpose (to fix volume ownership, then step down with ``gosu``) breaks
when made non-root. ``Evidence.image_user`` answers from the registry (or the lockfile that
cached it) first, then from the curated table of well-known images. It never guesses: no
evidence is ``None``, and the fix that needed it stays a finding with what is missing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from fixer.evidence.known_images import ShippedUser, known_image

if TYPE_CHECKING:
    from fixer.evidence.resolution import Resolution

__all__ = ["Evidence", "ImageUser"]


@dataclass(frozen=True)
class ImageUser:
    """The user an image's process starts as, and how that is known."""

    #: ``config.User`` as written ("" for root: no USER); None when only the uid is known.
    user: str | None
    #: The numeric user (0 is root); None when the user is a name nothing resolved.
    uid: int | None
    #: Where the answer came from ("registry", "lockfile", "known image table", ...).
    source: str
    gid: int | None = None
    #: Programs that drop root at start (``gosu``): the image must start as root.
    steps_down: tuple[str, ...] = ()
    #: Ports below 1024 the default command binds.
    privileged_ports: tuple[int, ...] = ()
    #: A non-root account the image ships for reuse (``node`` in ``node``).
    ships: ShippedUser | None = None
    #: Files with file capabilities (``setcap``): ``drop: [ALL]`` makes exec fail.
    capabilities: tuple[str, ...] = ()

    @property
    def numeric_non_root(self) -> bool:
        """The kubelet can verify ``runAsNonRoot`` for this user."""
        return self.uid is not None and self.uid != 0

    @property
    def starts_as_root(self) -> bool:
        """Running it as non-root breaks its entrypoint or its listening port."""
        return bool(self.steps_down or self.privileged_ports)

    @property
    def shown(self) -> str:
        """The user as messages name it."""
        if self.user == "" or (self.user is None and self.uid == 0):
            return "root (no USER)" if self.user == "" else "root"
        return self.user if self.user is not None else str(self.uid)


@dataclass
class Evidence:
    """Run-level evidence handed to every rule through its context."""

    resolutions: Mapping[str, Resolution] = field(default_factory=dict)
    #: The repository model (``fixer.repository.RepositoryModel``) when the run built one.
    repository: Any = None
    #: Kustomize renders, by patch file (``rules.kustomize_rendered``): set only when the
    #: session processes the patches of a rendered overlay once the base files are done.
    rendered: Any = None

    def image_user(self, reference: str) -> ImageUser | None:
        """Who ``reference`` (as written in the file) runs as, or None when unknown."""
        return self._registry(reference) or _known(reference)

    def _registry(self, reference: str) -> ImageUser | None:
        resolution = self.resolutions.get(reference)
        if resolution is None:
            return None
        facts = resolution.image
        if facts is not None:
            return ImageUser(
                user=facts.user,
                uid=facts.uid,
                gid=facts.gid,
                source=facts.source,
                steps_down=facts.steps_down,
                capabilities=facts.capabilities,
            )
        if resolution.user is None:
            return None
        return _from_text(resolution.user, "registry")


@lru_cache(maxsize=4096)
def _known(reference: str) -> ImageUser | None:
    """The curated table's answer: a pure function of the reference, so it is kept (a
    repository names the same few images in hundreds of containers, and parsing the
    reference was most of K8S002's judgement cost)."""
    from fixer.registry.reference import InvalidReference, Reference

    try:
        ref = Reference.parse(reference)
    except InvalidReference:
        return None
    entry = known_image(ref.name)
    if entry is None:
        return None
    base = _from_text(entry.user_for(ref.tag), "known image table")
    return ImageUser(
        user=base.user,
        uid=base.uid,
        gid=base.gid,
        source=base.source,
        steps_down=(entry.steps_down_with,) if entry.steps_down_with else (),
        privileged_ports=entry.ports_for(ref.tag),
        ships=entry.ships_for(ref.tag),
    )


def _from_text(user: str, source: str) -> ImageUser:
    """``config.User`` text (``""``, ``"1000"``, ``"app"``, ``"1000:1000"``) as an answer."""
    name, _, group = user.partition(":")
    if name == "":
        return ImageUser(user, 0, source, gid=0)
    uid = int(name) if name.isdigit() else None
    gid = int(group) if group.isdigit() else None
    if name == "root":
        uid = 0
    return ImageUser(user, uid, source, gid=gid)
