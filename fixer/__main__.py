"""``python -m fixer``: the ``tighten`` command.

``-m`` puts the current folder first on ``sys.path``; a repository being checked may have
folders of its own named ``rules`` or ``fixer`` (Prometheus keeps its Go package
``rules/`` at its root), which would then shadow tighten's packages. The current folder is
dropped from the path unless it is where tighten itself is imported from (a checkout).
"""

import os
import sys

_HOME = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_FIRST = os.path.abspath(sys.path[0] or os.curdir) if sys.path else _HOME
if _FIRST != _HOME and os.path.abspath(os.curdir) == _FIRST:
    del sys.path[0]

from fixer.entry import main  # noqa: E402

main()
