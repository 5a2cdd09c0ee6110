"""The registry's answer about one image reference, as the rules see it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fixer.registry.imagefacts import ImageFacts

__all__ = ["Resolution"]


@dataclass(frozen=True)
class Resolution:
    """What the registry said about one image reference (filled in before fixes are built)."""

    digest: str | None = None
    tag: str | None = None  # a version tag that points at the same digest
    user: str | None = None  # the image config's User, when it was read
    error: str | None = None  # why the registry could not answer ("timeout", "not found")
    pinned: str | None = None  # the reference to write: the user's name, tag, @digest
    #: Config (and, with ``--inspect-layers``, layer) facts, from the registry or the
    #: lockfile; None when they could not be read. ``user`` mirrors ``image.user``.
    image: ImageFacts | None = None
