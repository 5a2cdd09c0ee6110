"""A run started outside the repository's root asks the model about the right files.

The targets' paths are relative to the current folder, as the user named them; the
repository model took a relative path as relative to the repository's root. From the
root the two agree; from a subfolder (`tighten check .` in `deploy/`) or from above the
repository (`tighten check repo`) every model question about a relative path named
another file: K8S004 did not see that a bundle README tells people to apply holds the
same object, and said why it withheld the move from another, weaker clue.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.fixture_repos import tighten

APP = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: shop
spec:
  template:
    spec:
      containers:
        - name: app
          image: ghcr.io/acme/shop:1.0
          env:
            - name: DB_PASSWORD
              value: s3cr3t-hunter-xyz
"""
README = """\
# Shop

```sh
kubectl apply -f https://raw.githubusercontent.com/acme/shop/main/bundle/complete-demo.yaml
```
"""


def _repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    (repo / "deploy").mkdir(parents=True)
    (repo / "bundle").mkdir()
    (repo / "deploy" / "app.yaml").write_text(APP)
    (repo / "bundle" / "complete-demo.yaml").write_text(APP)
    (repo / "README.md").write_text(README)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    return repo


def _needs(cwd: Path, target: str) -> str:
    out = tighten("check", "--no-cache", "--format", "json", "--select", "K8S004", target, cwd=cwd)
    assert out.returncode == 1, out.stderr
    found = json.loads(out.stdout)["findings"]
    [app] = [f for f in found if f["path"].endswith("deploy/app.yaml") or f["path"] == "app.yaml"]
    needs: str = app["fix"]["needs"]
    return needs


def test_the_same_reason_from_the_root_a_subfolder_and_above(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    from_root = _needs(repo, ".")
    assert "README.md:4 (through bundle/complete-demo.yaml, which holds the same object)" in (
        from_root
    )
    assert _needs(tmp_path, "repo") == from_root.replace(
        "deploy/app.secrets.yaml", "repo/deploy/app.secrets.yaml"
    )
    assert _needs(repo / "deploy", ".") == from_root.replace(
        "deploy/app.secrets.yaml", "app.secrets.yaml"
    )
