"""What a text is when no file name says so (``tighten check -`` without ``--stdin-filename``).

Decided from the first line that is neither blank nor a comment: a Dockerfile starts with an
instruction (``FROM``/``ARG`` first by the grammar; any keyword is accepted, for fragments),
a YAML manifest with a key, a document marker, a directive, a sequence item or JSON.
"""

from __future__ import annotations

import re

DOCKERFILE = "dockerfile"
KUBERNETES = "kubernetes"

_INSTRUCTION = re.compile(
    r"(?:FROM|ARG|RUN|CMD|LABEL|MAINTAINER|EXPOSE|ENV|ADD|COPY|ENTRYPOINT|VOLUME|USER"
    r"|WORKDIR|ONBUILD|STOPSIGNAL|HEALTHCHECK|SHELL)(?:\s|$)",
    re.IGNORECASE,
)
_YAML = re.compile(r"---|\.\.\.|%YAML|%TAG|[{\[]|-(?:\s|$)|[^\s#][^#]*?:(?:\s|$)")


def kind_of_text(text: str) -> str:
    """``dockerfile`` or ``kubernetes``; a text that looks like neither is read as a
    Dockerfile (what stdin meant before this guess existed)."""
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if _INSTRUCTION.match(stripped):
            return DOCKERFILE
        return KUBERNETES if _YAML.match(stripped) else DOCKERFILE
    return DOCKERFILE
