"""Where moved secret values went (issue 14): the PR body's per-value section, the env-file
merge of a ``secretGenerator``, its masking, and the generator parsing. Pure functions."""

from __future__ import annotations

from pathlib import Path

import pytest

from fixer.model import Moved
from fixer.pr.body import body
from fixer.pr.remediation import Item, Remediation
from fixer.sidefiles import mask_stored_values
from rules import secret_moves
from rules import secret_workflow as sw
from rules.secret_file import SecretTarget
from rules.secret_generator import EnvKeyError, EnvMerge, usable
from tests.helpers import RULES


def _remediation(*fixed: Item) -> Remediation:
    return Remediation(
        tree="0" * 40,
        fixed=fixed,
        unfixed=(),
        errors=(),
        review=frozenset(),
        secret_files=(),
        moved_secrets=True,
        masks=frozenset({"s3cr3t-value-1"}),
    )


def test_body_lists_each_moved_value_with_its_command() -> None:
    plain = secret_moves.plain(
        SecretTarget(Path("k8s/web.secrets.yaml"), "web-secrets", "shop", "web.yaml"), "DB_PASSWORD"
    )
    sops = secret_moves.sops(
        Path("k8s/web.secrets.sops.yaml"),
        SecretTarget(Path("x"), "web-secrets", None, ""),
        "API_TOKEN",
    )
    sealed = secret_moves.sealed(
        Path("k8s/web-sealed.yaml"), sw.Placement("web-secrets", "shop", ()), "KEY"
    )
    external = secret_moves.external("ExternalSecret app (k8s/es.yaml:1)", "TOKEN", "app/token")
    fixed = (
        Item("K8S004", "k8s/web.yaml", 12, "moved", moved=(plain, sops)),
        Item("K8S004", "k8s/api.yaml", 7, "moved", moved=(sealed, external)),
    )
    text = body(_remediation(*fixed), RULES)
    section = text.split("#### Where each moved value went")[1]
    assert (
        "| K8S004 | `k8s/web.yaml:12` | `DB_PASSWORD` | Secret web-secrets in namespace shop "
        "(git-ignored k8s/web.secrets.yaml) | `kubectl create secret generic web-secrets -n shop "
        "--from-literal=DB_PASSWORD='<new DB_PASSWORD value>'` |"
    ) in section
    assert "| `sops edit k8s/web.secrets.sops.yaml` |" in section
    assert "SealedSecret k8s/web-sealed.yaml for Secret shop/web-secrets | none |" in section
    assert "create the remote key app/token in the store ExternalSecret app" in section
    assert "s3cr3t-value-1" not in text


def test_body_without_moved_values_has_no_such_section() -> None:
    text = body(_remediation(Item("K8S004", "k8s/web.yaml", 12, "moved")), RULES)
    assert "Where each moved value went" not in text


def test_a_moved_value_never_shows_its_value() -> None:
    leaked = Moved("K", "Secret s3cr3t-value-1", "`echo s3cr3t-value-1`")
    text = body(_remediation(Item("K8S004", "a.yaml", 1, "moved", moved=(leaked,))), RULES)
    assert "s3cr3t-value-1" not in text  # masked like every other text of the body


def test_env_merge_appends_and_keeps_every_byte() -> None:
    merge = EnvMerge("DB_PASSWORD", "v@lue=1")
    assert merge(None) == "DB_PASSWORD=v@lue=1\n"
    assert merge("A=b") == "A=b\nDB_PASSWORD=v@lue=1\n"
    assert merge("A=b\r\n# c\r\n") == "A=b\r\n# c\r\nDB_PASSWORD=v@lue=1\r\n"
    assert merge("DB_PASSWORD=v@lue=1\n") == "DB_PASSWORD=v@lue=1\n"  # already there
    assert merge("#DB_PASSWORD=old\n") == "#DB_PASSWORD=old\nDB_PASSWORD=v@lue=1\n"


def test_env_merge_never_overwrites_another_value() -> None:
    with pytest.raises(EnvKeyError) as caught:
        EnvMerge("DB_PASSWORD", "new-value")("  DB_PASSWORD=old-value\n")
    assert "new-value" not in str(caught.value) and "old-value" not in str(caught.value)
    assert "new-value" not in repr(EnvMerge("DB_PASSWORD", "new-value"))


def test_env_lines_a_kustomize_parse_would_change_are_not_usable() -> None:
    assert usable("DB_PASSWORD", "x y")
    assert not usable("DB_PASSWORD", "two\nlines")
    assert not usable("1KEY", "x")


def test_dry_run_masks_the_values_of_an_env_file() -> None:
    assert mask_stored_values("A=one\nB=two=2\r\n") == "A=***\nB=***\r\n"
    assert mask_stored_values("kind: ConfigMap\ndata:\n  a: b\n") == (
        "kind: ConfigMap\ndata:\n  a: b\n"
    )


def test_secret_generators_are_parsed_with_their_env_files(tmp_path: Path) -> None:
    path = tmp_path / "kustomization.yaml"
    data = {
        "secretGenerator": [
            {"name": "db", "envs": ["secrets.env", "more/x.env"], "namespace": "n"},
            {"name": "old", "env": "legacy.env"},
            {"name": "lit", "literals": ["A=b"]},
            {"envs": ["nameless.env"]},
        ]
    }
    layer = sw._layer(path, data)
    assert layer.generators == (
        sw.Generator("db", "n", (tmp_path / "secrets.env", tmp_path / "more" / "x.env"), False),
        sw.Generator("old", None, (tmp_path / "legacy.env",), False),
        sw.Generator("lit", None, (), True),
    )
