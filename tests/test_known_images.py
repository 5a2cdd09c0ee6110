"""The curated table of well-known images answers by normalised repository name."""

from __future__ import annotations

from fixer.evidence.known_images import KNOWN_IMAGES, known_image
from fixer.registry.reference import Reference


def _lookup(text: str):  # type: ignore[no-untyped-def]
    ref = Reference.parse(text)
    return known_image(ref.name), ref.tag


def test_database_images_start_as_root_and_step_down() -> None:
    for image in ("postgres:16", "mysql", "mariadb:11", "mongo:8.0", "redis:7-alpine"):
        entry, _ = _lookup(image)
        assert entry is not None, image
        assert entry.starts_as_root and entry.steps_down_with == "gosu"
        assert entry.ships is not None and entry.ships.uid == 999


def test_shipped_users_and_numeric_variants() -> None:
    node, _ = _lookup("node:22-slim")
    assert node is not None and node.ships is not None and node.ships.name == "node"
    assert node.user == "" and not node.starts_as_root
    distroless, tag = _lookup("gcr.io/distroless/static-debian12:nonroot")
    assert distroless is not None and distroless.user_for(tag) == "65532"
    assert distroless.user_for("latest") == ""
    dotnet, tag = _lookup("mcr.microsoft.com/dotnet/aspnet:8.0-jammy-chiseled")
    assert dotnet is not None and dotnet.user_for(tag) == "1654"
    assert dotnet.user_for("8.0") == ""


def test_names_and_ports() -> None:
    prom, _ = _lookup("quay.io/prometheus/node-exporter:v1.8.0")
    assert prom is not None and prom.user == "nobody"
    nginx, _ = _lookup("docker.io/library/nginx:1.27")
    assert nginx is not None and nginx.privileged_ports == (80,) and nginx.starts_as_root
    assert _lookup("ghcr.io/acme/web:1.0")[0] is None


def test_every_entry_cites_its_sources() -> None:
    for entry in KNOWN_IMAGES:
        assert entry.sources and all(s.startswith("http") for s in entry.sources[:1])


def test_evidence_answers_from_the_registry_before_the_table() -> None:
    from fixer.evidence.images import Evidence
    from fixer.rule import Resolution

    evidence = Evidence({"postgres:16": Resolution(user="")})
    answer = evidence.image_user("postgres:16")
    assert answer is not None and answer.source == "registry" and answer.uid == 0
    table = Evidence({}).image_user("postgres:16")
    assert table is not None and table.source == "known image table"
    assert table.starts_as_root and table.steps_down == ("gosu",)
    numeric = Evidence({"ghcr.io/acme/web:1": Resolution(user="10001:10001")})
    web = numeric.image_user("ghcr.io/acme/web:1")
    assert web is not None and web.numeric_non_root and web.gid == 10001
    named = Evidence({"ghcr.io/acme/api:1": Resolution(user="app")}).image_user(
        "ghcr.io/acme/api:1"
    )
    assert named is not None and named.uid is None and not named.numeric_non_root
    assert Evidence({}).image_user("ghcr.io/acme/unknown:1") is None


def test_exact_entries_win_over_the_repository_wide_ones() -> None:
    """Found in a merge review: sealed-secrets runs ``bitnami/minideb`` (a root Debian base),
    which the ``bitnami/*`` entry (non-root 1001) claimed; runAsNonRoot would stop the pod."""
    minideb, tag = _lookup("bitnami/minideb:bookworm")
    assert minideb is not None and minideb.user_for(tag) == ""
    kubectl, tag = _lookup("docker.io/bitnami/kubectl:1.30")
    assert kubectl is not None and kubectl.user_for(tag) == "1001"
    wolfi, tag = _lookup("cgr.dev/chainguard/wolfi-base")
    assert wolfi is not None and wolfi.user_for(tag) == ""
    static, tag = _lookup("cgr.dev/chainguard/static:latest")
    assert static is not None and static.user_for(tag) == "65532"


def test_php_variants_apache_binds_port_80_and_alpine_ships_82() -> None:
    # Seen in GoogleContainerTools/skaffold's codelab: `USER 33:33` on php:5-apache stops
    # Apache binding port 80 in a pod.
    php, tag = _lookup("php:5-apache")
    assert php is not None and php.ports_for(tag) == (80,)
    assert php.ports_for("8.3-fpm") == () and php.ports_for(None) == ()
    ships = php.ships_for("8.3-fpm-alpine")
    assert ships is not None and (ships.uid, ships.gid) == (82, 82)
    debian = php.ships_for("8.3-fpm")
    assert debian is not None and debian.uid == 33


def test_df001_withholds_user_on_an_apache_php_image(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from fixer.engine import process_file
    from fixer.settings import Settings
    from tests.helpers import RULES

    path = tmp_path / "Dockerfile"
    path.write_text("FROM php:8.3-apache\nCOPY index.php /var/www/html/\n")
    result = process_file(path, "dockerfile", Settings(), rules=RULES, fix=True)
    assert result.text == path.read_text()  # no USER added
    (finding,) = [f for f in result.found if f.rule == "DF001"]
    assert finding.fix is not None and "port 80" in repr(finding.fix)  # withheld: why
    path.write_text("FROM php:8.3-fpm-alpine\nCOPY index.php /var/www/html/\n")
    result = process_file(path, "dockerfile", Settings(), rules=RULES, fix=True)
    assert "USER 82:82" in result.text
