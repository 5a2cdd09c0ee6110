"""The notice of a Kustomization that does not render is the same text on every run.

kubectl logs its error with a header holding the time and its process id (``E1201
03:28:58.318934   23217 run.go:72]``); quoted as it was, two runs over the same tree
printed different notices (VictoriaMetrics/operator's ``config/crd-specless``).
"""

from __future__ import annotations

import sys
from pathlib import Path

from fixer.repository import render

FAILING = (
    "import sys; "
    'sys.stderr.write(\'E1201 03:28:58.318934   23217 run.go:72] "command failed" '
    'err="accumulating resources: missing"\\n\'); sys.exit(1)'
)


def test_kubectls_log_header_is_left_out(tmp_path: Path) -> None:
    kustomization = tmp_path / "kustomization.yaml"
    kustomization.write_text("resources:\n  - ../crd\n")
    done = render._run(kustomization, tmp_path, tmp_path, [sys.executable, "-c", FAILING], 30)
    assert done.notice is not None
    assert done.notice.endswith('failed: "command failed" err="accumulating resources: missing"')
    why = done.notice.split("` failed: ", 1)[1]
    assert "23217" not in why and "03:28" not in why
