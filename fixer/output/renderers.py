"""The renderer of each ``--format``."""

from __future__ import annotations

from fixer.output.machine import GithubRenderer, JsonRenderer, SarifRenderer
from fixer.output.plain import TextRenderer
from fixer.settings import OutputFormat

RENDERERS: dict[
    OutputFormat, type[TextRenderer | JsonRenderer | SarifRenderer | GithubRenderer]
] = {
    OutputFormat.TEXT: TextRenderer,
    OutputFormat.JSON: JsonRenderer,
    OutputFormat.SARIF: SarifRenderer,
    OutputFormat.GITHUB: GithubRenderer,
}


def shows_edits(fmt: OutputFormat) -> bool:
    """The format shows the edits of the fixes a ``check`` offers (``Renderer.wants_edits``,
    known before any renderer is made)."""
    return RENDERERS[fmt].wants_edits
