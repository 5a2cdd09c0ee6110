"""The repository model's answers: pure, frozen values.

Every answer says where it came from (a file and a line) so a withheld or applied fix can
cite its evidence, and a reviewer can check it in one click.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from fixer.model import Span


class LinkKind(Enum):
    """Which kind of file linked a Dockerfile to an image name."""

    SKAFFOLD = "skaffold"
    COMPOSE = "compose"
    WORKFLOW = "workflow"  # GitHub Actions: docker/build-push-action or a `run:` step
    GITLAB = "gitlab"  # .gitlab-ci.yml script lines
    MAKE = "make"
    SCRIPT = "script"
    TILT = "tilt"
    KUSTOMIZE = "kustomize"  # an `images:` entry renaming the image (see ``Build.via``)
    DEFAULT = "default"  # nothing links the Dockerfile: its folder is the context


@dataclass(frozen=True)
class Origin:
    """Where a link was read: ``path:line`` of the file that states it, and its kind."""

    path: Path
    line: int
    kind: LinkKind

    def __str__(self) -> str:
        return f"{self.path}:{self.line} ({self.kind.value})"


@dataclass(frozen=True)
class Build:
    """One way the repository builds an image from a Dockerfile.

    ``images`` are normalised repository names without tag or digest, as written
    (``ghcr.io/acme/web``, ``web``); ``unknown_tags`` counts the tags the link names that
    could not be resolved (``${{ }}`` expressions, undefined variables): evidence that the
    build produces more images than ``images`` lists. ``via`` is set when the answer was
    found through a Kustomize ``images:`` rename rather than by the image's own name.
    """

    dockerfile: Path
    context: Path
    images: tuple[str, ...]
    origin: Origin
    target: str | None = None
    unknown_tags: int = 0
    via: Origin | None = None
    #: Built with ``--output``: the files are exported (``docker build -o .``), never run.
    exported: bool = False
    #: Skaffold syncs changed files into its running containers (the artifact's ``sync:``).
    synced: bool = False
    #: The tags the build names, as written, when every one is known (``acme/app:base``);
    #: empty when any is computed (``${VERSION}``), so that no tag can be ruled out.
    tags: tuple[str, ...] = ()
    #: The last path parts of the tags whose registry or owner is unknown
    #: (``lvm-localpv-e2e`` of ``${IMAGE_ORG}/lvm-localpv-e2e:ci``): a likely name.
    partial_names: tuple[str, ...] = ()

    @classmethod
    def default(cls, dockerfile: Path) -> Build:
        """A Dockerfile nothing links: built from its own folder, image unknown."""
        return cls(dockerfile, dockerfile.parent, (), Origin(dockerfile, 1, LinkKind.DEFAULT))


@dataclass(frozen=True)
class Run:
    """A container (or compose service) that runs an image.

    ``command``/``args`` follow Kubernetes meaning (they replace the image's ENTRYPOINT and
    CMD); for a compose service ``command`` is its ``entrypoint:`` and ``args`` its
    ``command:``. ``line`` is where the command (else args, else the container) starts.
    ``dockerfile`` is set for a compose service that is built in place (``build:``).
    A run read from a Kustomize patch carries the patch's place and the ``base`` manifest
    it was merged onto; ``via`` is set when found through a Kustomize ``images:`` rename.
    """

    path: Path
    kind: str
    name: str | None
    namespace: str | None
    container: str
    init: bool
    image: str
    command: tuple[str, ...] | None
    args: tuple[str, ...] | None
    span: Span
    line: int
    dockerfile: Path | None = None
    base: Path | None = None
    via: Origin | None = None
    #: A compose service's ``healthcheck.test`` words and its line: run in the container.
    check: tuple[str, ...] = ()
    check_line: int = 0
    #: A compose service's volumes that bind a container runtime's socket (the line of
    #: each, and its host path): woodpecker's agent runs pipelines through
    #: ``/var/run/docker.sock``.
    sockets: tuple[tuple[int, str], ...] = ()
    #: A compose service's ``privileged: true`` line (0: not privileged): Kepler's compose
    #: file runs its exporter privileged to read the node's RAPL counters.
    privileged_line: int = 0

    @property
    def label(self) -> str:
        """How evidence names it: ``CronJob/nightly container "sync"``."""
        what = "init container" if self.init else "container"
        if self.kind == "compose":
            return f'compose service "{self.container}"'
        return f'{self.kind}/{self.name or "?"} {what} "{self.container}"'


@dataclass(frozen=True)
class ScriptRun:
    """A ``docker run`` in a script or Makefile of an image the same file builds:
    ``program`` is what it runs there ("" for the image's own command)."""

    dockerfiles: tuple[Path, ...]
    origin: Origin
    program: str


@dataclass(frozen=True)
class HostWrite:
    """A container run on a workstation or in CI with host folders mounted into it
    (``docker run -v $(pwd):/src``, a compose service's ``./out:/out`` volume) and no
    ``--user``/``user:``: the files it writes there belong to the image's user.

    ``dockerfiles`` are the Dockerfiles that build its image, as far as the same file
    says (a ``docker build -f src/$1/Dockerfile -t "$1-tool"`` above ``docker run "$1-tool"``
    matches every ``src/*/Dockerfile``); ``image`` is its name when the run states it.
    """

    dockerfiles: tuple[Path, ...]
    image: str | None
    origin: Origin
    mounts: tuple[str, ...]

    @property
    def shown_mounts(self) -> str:
        """``the host folder a computed path``, ``the host folders a computed path and a
        computed path/.cache/lint``: each mount once, a part the file computes (``$PWD``,
        ``$(shell pwd)``) said so."""
        shown = list(dict.fromkeys(m.replace("\x00", "a computed path") for m in self.mounts))
        if len(shown) == 1:
            return f"the host folder {shown[0]}"
        return f"the host folders {', '.join(shown[:-1])} and {shown[-1]}"


@dataclass(frozen=True)
class Evidence:
    """A place in the repository that supports (or refutes) an assumption."""

    path: Path
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.reason}"


@dataclass(frozen=True)
class Copies:
    """What a build copies in from its context.

    ``whole_context`` marks ``COPY . <dest>`` (or ``/``): every file of the context may be
    in the image, and listing them would be thousands of paths. ``paths`` are the files and
    folders named explicitly (globs resolved against the context).
    """

    paths: tuple[Path, ...]
    whole_context: bool


class SourceKind(Enum):
    SOURCE = "source"
    TEST_DATA = "test data"
    VENDORED = "vendored"
    GENERATED = "generated"
    KUSTOMIZE_PATCH = "kustomize patch"


@dataclass(frozen=True)
class SourceVerdict:
    """Whether a file is the user's own source, and if not why (for the skip notice)."""

    path: Path
    kind: SourceKind
    reason: str = ""

    @property
    def is_source(self) -> bool:
        return self.kind is SourceKind.SOURCE

    @property
    def notice(self) -> str:
        """One line for the run's notices; empty for a source file."""
        if self.is_source:
            return ""
        if self.kind is SourceKind.KUSTOMIZE_PATCH:
            return f"{self.path}: read as a patch merged onto its base ({self.reason})"
        return f"{self.path}: skipped, {self.kind.value} ({self.reason}); --include-generated checks it"
