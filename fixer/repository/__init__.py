"""The repository model: evidence from the whole repository for judging a fix.

Which Dockerfile builds which image (skaffold, compose, GitHub workflows, GitLab CI,
Makefiles, scripts, Tiltfiles, Kustomize renames), what each build copies in, which script
its entrypoint runs, which manifests run each image and with which commands, and which files
are not the user's source (test data, vendored, generated, Kustomize patches).

    model = RepositoryModel.scan(Path("."))
    for build in model.builds_for("ghcr.io/acme/web"):
        evidence = model.uses_tool(build, "curl")
"""

from fixer.repository.model import (
    Build,
    Copies,
    Evidence,
    LinkKind,
    Origin,
    Run,
    SourceKind,
    SourceVerdict,
)
from fixer.repository.repository import RepositoryModel

__all__ = [
    "Build",
    "Copies",
    "Evidence",
    "LinkKind",
    "Origin",
    "RepositoryModel",
    "Run",
    "SourceKind",
    "SourceVerdict",
]
