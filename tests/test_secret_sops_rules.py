"""The pure parts of the SOPS workflow: which ``.sops.yaml`` creation rule covers a path, and
the surgical ``resources:`` edit that lists a committed Secret in a Kustomization."""

from __future__ import annotations

import pytest

from fixer.secrets.sops import creation_rule, is_encrypted
from rules.secret_resources import AddResource

CONFIG = """\
creation_rules:
  - path_regex: clusters/.*\\.yaml$
    pgp: ABCDEF0123456789
  - path_regex: apps/.*\\.sops\\.yaml$
    encrypted_regex: ^(data|stringData)$
    age: age1aaa, age1bbb
  - key_groups:
      - age: [age1ccc]
"""


def test_first_matching_rule_wins_with_its_recipients() -> None:
    rule = creation_rule(CONFIG, "apps/shop/deploy.secrets.sops.yaml")
    assert rule is not None and rule.index == 1
    assert rule.age == ("age1aaa", "age1bbb") and rule.encrypted_regex == "^(data|stringData)$"
    catch_all = creation_rule(CONFIG, "apps/shop/deploy.secrets.enc.yaml")
    assert catch_all is not None and catch_all.index == 2 and catch_all.age == ("age1ccc",)
    assert creation_rule("creation_rules: [{path_regex: x/}]", "apps/a.yaml") is None
    assert creation_rule(": not yaml [", "apps/a.yaml") is None


def test_encrypted_text_is_recognised() -> None:
    assert is_encrypted("a: ENC[x]\nsops:\n    age: []\n")
    assert not is_encrypted("kind: Secret\nstringData:\n  sops: x\n")


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (
            "kind: Kustomization\nresources:\n  - deploy.yaml  # web\n\nnamespace: shop\n",
            "kind: Kustomization\nresources:\n  - deploy.yaml  # web\n  - s.sops.yaml\n\n"
            "namespace: shop\n",
        ),
        (
            "kind: Kustomization\r\nresources:\r\n- a.yaml\r\n",
            "kind: Kustomization\r\nresources:\r\n- a.yaml\r\n- s.sops.yaml\r\n",
        ),
        ("resources: [a.yaml, b.yaml]\n", "resources: [a.yaml, b.yaml, s.sops.yaml]\n"),
        ("resources: []\n", "resources: [s.sops.yaml]\n"),
        (
            "kind: Kustomization\nnamespace: shop",
            "kind: Kustomization\nnamespace: shop\nresources:\n  - s.sops.yaml\n",
        ),
        ("resources:\n  - ./s.sops.yaml\n", "resources:\n  - ./s.sops.yaml\n"),
    ],
)
def test_resource_is_listed_surgically(before: str, after: str) -> None:
    assert AddResource("s.sops.yaml")(before) == after
