"""The reference grammar (distribution/reference) and the written form of pinned refs."""

from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from fixer.registry import InvalidReference, Reference

DIGEST = "sha256:" + "ab" * 32
OTHER = "sha256:" + "cd" * 32


@pytest.mark.parametrize(
    ("text", "registry", "repository", "tag", "digest"),
    [
        ("nginx", "docker.io", "library/nginx", None, None),
        ("nginx:1.27", "docker.io", "library/nginx", "1.27", None),
        ("library/nginx:1.27", "docker.io", "library/nginx", "1.27", None),
        ("docker.io/nginx", "docker.io", "library/nginx", None, None),
        ("index.docker.io/nginx", "docker.io", "library/nginx", None, None),
        ("bitnami/redis:7", "docker.io", "bitnami/redis", "7", None),
        ("ghcr.io/org/team/app:v1", "ghcr.io", "org/team/app", "v1", None),
        ("localhost/app", "localhost", "app", None, None),
        ("localhost:5000/a/b/c", "localhost:5000", "a/b/c", None, None),
        ("127.0.0.1:5000/app:1", "127.0.0.1:5000", "app", "1", None),
        ("[::1]:5000/app:1", "[::1]:5000", "app", "1", None),
        ("registry.example.com:443/x", "registry.example.com:443", "x", None, None),
        (f"nginx@{DIGEST}", "docker.io", "library/nginx", None, DIGEST),
        (f"nginx:1.27@{DIGEST}", "docker.io", "library/nginx", "1.27", DIGEST),
        ("a/b__c/d-e--f/g.h:T_1.x-y", "docker.io", "a/b__c/d-e--f/g.h", "T_1.x-y", None),
    ],
)
def test_parse(
    text: str, registry: str, repository: str, tag: str | None, digest: str | None
) -> None:
    ref = Reference.parse(text)
    assert (ref.registry, ref.repository, ref.tag, ref.digest) == (
        registry,
        repository,
        tag,
        digest,
    )
    assert str(ref) == text  # the written form survives untouched


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("NGINX", "must be lowercase"),
        ("library/Nginx", "must be lowercase"),
        ("nginx:", "invalid tag ''"),
        ("nginx:-1", "invalid tag '-1'"),
        ("nginx:" + "a" * 129, "invalid tag"),
        ("nginx@sha256:abc", "invalid digest"),
        (f"nginx@{DIGEST.upper()}", "invalid digest"),
        ("a//b", "empty repository path component"),
        ("a/-b", "invalid repository path component '-b'"),
        ("ex ample", "whitespace"),
        ("${BASE_IMAGE}", "contains a variable"),
        ("ab" * 32, "image ID"),
        ("bad_host.com:x/app", "invalid registry host"),
        ("x/" + "a" * 260, "longer than 255"),
    ],
)
def test_invalid(text: str, message: str) -> None:
    with pytest.raises(InvalidReference, match=message.replace("$", r"\$")) as info:
        Reference.parse(text)
    assert info.value.text == text


def test_pinned_keeps_the_written_name() -> None:
    assert Reference.parse("nginx").pinned(DIGEST) == f"nginx@{DIGEST}"
    assert Reference.parse("nginx:1.27").pinned(DIGEST) == f"nginx:1.27@{DIGEST}"
    assert Reference.parse("nginx:latest").pinned(DIGEST, tag="1.27.3") == (
        f"nginx:1.27.3@{DIGEST}"
    )
    assert Reference.parse("nginx:latest").pinned(DIGEST, tag=None) == f"nginx@{DIGEST}"
    written = Reference.parse(f"docker.io/library/nginx:1.27@{OTHER}")
    assert written.pinned(DIGEST) == f"docker.io/library/nginx:1.27@{DIGEST}"
    with pytest.raises(ValueError):
        written.pinned("latest")


def test_identity_and_hub_host() -> None:
    short, long = Reference.parse("nginx:1.27"), Reference.parse("docker.io/library/nginx:1.27")
    assert short != long  # different spellings are different written references
    assert short.canonical == long.canonical == "docker.io/library/nginx:1.27"
    assert short.name == "docker.io/library/nginx"
    assert short.api_host == "registry-1.docker.io"
    assert Reference.parse("ghcr.io/x/y").api_host == "ghcr.io"
    assert Reference.parse("nginx").lookup == "latest"
    assert Reference.parse(f"nginx:1@{DIGEST}").lookup == DIGEST


component = st.from_regex(r"[a-z0-9]{1,5}(?:[._-][a-z0-9]{1,4}){0,2}", fullmatch=True)
tags = st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,10}", fullmatch=True)
hosts = st.sampled_from(["", "ghcr.io/", "localhost:5000/", "registry.example.com/"])


@settings(max_examples=60, deadline=None)
@given(hosts, st.lists(component, min_size=1, max_size=3), st.none() | tags)
def test_written_form_round_trips(host: str, path: list[str], tag: str | None) -> None:
    # Without a host, a first component with "." would itself be read as a host.
    assume(host or len(path) == 1 or "." not in path[0])
    text = host + "/".join(path) + (f":{tag}" if tag else "")
    ref = Reference.parse(text)
    assert str(ref) == text
    assert Reference.parse(ref.pinned(DIGEST)).digest == DIGEST
    assert Reference.parse(ref.canonical).canonical == ref.canonical
