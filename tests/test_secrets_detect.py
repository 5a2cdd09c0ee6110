"""The shared secret detector: names, well-known credential formats, literals, masking.

Every credential-looking value is built in code from obviously fake parts, so no
real-looking secret is committed as a literal (push protection, scanners).
"""

from __future__ import annotations

import base64
import json

import pytest

from fixer.secrets import SecretMatch, classify, credential_kind, mask, secret_name


def b64url(obj: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")


FAKE = "aB3" * 30  # mixed-case alphanumerics, sliced to each format's length
PEM = "-----BEGIN {}PRIVATE KEY-----\n" + "QUJD" * 16 + "\n-----END {}PRIVATE KEY-----\n"
JWT = b64url({"alg": "HS256", "typ": "JWT"}) + "." + b64url({"sub": "1"}) + "." + FAKE[:43]

CREDENTIALS = [
    ("aws-access-key-id", "AKIA" + "Z7Q2" * 4),
    ("aws-access-key-id", "ASIA" + "Z7Q2" * 4),
    ("github-token", "ghp_" + FAKE[:36]),
    ("github-token", "gho_" + FAKE[:36]),
    ("github-token", "ghu_" + FAKE[:36]),
    ("github-token", "ghs_" + FAKE[:36]),
    ("github-token", "ghr_" + FAKE[:36]),
    ("github-token", "github_pat_" + FAKE[:22] + "_" + FAKE[:59]),
    ("gitlab-token", "glpat-" + FAKE[:20]),
    ("slack-token", "xoxb-" + "1234567890-" + FAKE[:24]),
    ("slack-token", "xoxp-" + "1234567890-" + FAKE[:24]),
    ("slack-webhook", "https://hooks.slack.com/services/T0000/B0000/" + FAKE[:24]),
    ("stripe-live-key", "sk_live_" + FAKE[:24]),
    ("stripe-live-key", "rk_live_" + FAKE[:24]),
    ("google-api-key", "AIza" + FAKE[:35]),
    ("private-key", PEM.format("", "")),
    ("private-key", PEM.format("RSA ", "RSA ")),
    ("private-key", PEM.format("OPENSSH ", "OPENSSH ")),
    ("private-key", PEM.format("EC ", "EC ")),
    ("private-key", PEM.format("ENCRYPTED ", "ENCRYPTED ")),
    ("jwt", JWT),
    ("npm-token", "npm_" + FAKE[:36]),
    ("pypi-token", "pypi-AgE" + FAKE[:60]),
    ("huggingface-token", "hf_" + FAKE[:34]),
    ("openai-api-key", "sk-proj-" + FAKE[:20] + "T3BlbkFJ" + FAKE[:20]),
    ("anthropic-api-key", "sk-ant-api03-" + FAKE[:90]),
    ("sendgrid-api-key", "SG." + FAKE[:22] + "." + FAKE[:43]),
    ("dockerhub-token", "dckr_pat_" + FAKE[:27]),
    ("digitalocean-token", "dop_v1_" + "0123456789abcdef" * 4),
    ("nvidia-api-key", "nvapi-" + FAKE[:64]),
    ("azure-storage-key", "DefaultEndpointsProtocol=https;AccountKey=" + FAKE[:86] + "=="),
    ("url-credentials", "postgres://app:" + "s3cr3t" + "@db:5432/app"),
    ("url-credentials", "redis://:" + "hunter22" + "@cache:6379/0"),
    ("connection-string", "Server=db;User Id=app;Password=" + "s3cr3t" + ";"),
    ("connection-string", "jdbc:mysql://db:3306/app?user=app&password=" + "s3cr3t"),
]


@pytest.mark.parametrize(("kind", "value"), CREDENTIALS, ids=[k for k, _ in CREDENTIALS])
def test_credential_kind_finds_every_format(kind: str, value: str) -> None:
    assert credential_kind(value) == kind
    assert credential_kind(f"Bearer {value} ") == kind  # found inside a longer value
    match = classify("UNRELATED_SETTING", value)
    assert match is not None and match.kind == kind


@pytest.mark.parametrize(
    "value",
    [
        "",
        "AKIAIOSFODNN7EXAMPLE",  # AWS's documented example key
        "AKIA" + "Z7Q2" * 6,  # too long to be a key id
        "ghp_" + "x" * 36,  # masked
        "ghp_" + FAKE[:20],  # too short
        "sk_test_" + FAKE[:24],  # Stripe test keys move no money
        "7169605F62C751356D054A26A821E680E5FA6305",  # GPG fingerprint
        "0123456789abcdef0123456789abcdef01234567",  # git SHA-1
        "wJalr" + "X" * 35,  # 40 chars, AWS-secret-shaped, but no name says so
        "eyJhbGciOiJIUzI1NiJ9notajwt",
        b64url({"typ": "JWT"}) + "." + b64url({"sub": "1"}) + ".sig",  # header without alg
        "https://user@example.com/",
        "postgres://app:${DB_PASSWORD}@db/app",
        "postgres://app:$(DB_PASSWORD)@db/app",
        "https://user:<password>@example.com/",
        "Server=db;Password=${DB_PASSWORD};",
        "Server=db;Integrated Security=true;",
        "-----BEGIN CERTIFICATE-----",
        "-----BEGIN PUBLIC KEY-----",
    ],
)
def test_credential_kind_ignores_lookalikes(value: str) -> None:
    assert credential_kind(value) is None


@pytest.mark.parametrize(
    "name",
    [
        "PASSWORD",
        "DB_PASSWORD",
        "dbPassword",
        "db.password",
        "db-password",
        "Logging__Db__Password",
        "MYSQL_ROOT_PASSWORD",
        "PGPASSWORD",
        "MYSQL_PWD",
        "DB_PASSWD",
        "DATA_SOURCE_PASS",
        "LDAP_ROOTPASS",
        "userPass",
        "GPG_KEY_PASSPHRASE",
        "SECRET",
        "CLIENT_SECRET",
        "clientSecret",
        "JWT_SECRET",
        "SECRET_KEY_BASE",
        "DJANGO_SECRET_KEY",
        "aws_secret_access_key",
        "AWS_SECRET_ACCESS_KEY",
        "TOKEN",
        "GITHUB_TOKEN",
        "authToken",
        "VAULT_TOKEN",
        "API_KEY",
        "APIKEY",
        "apiKey",
        "X_API_KEYS",
        "ACCESS_KEY",
        "MINIO_ACCESS_KEY",
        "PRIVATE_KEY",
        "privateKey",
        "CREDENTIALS",
        "DOCKER_CREDS",
        "AUTH_KEY",
        "LICENSE_KEY",
        "NEW_RELIC_LICENSE_KEY",
        "ENCRYPTION_KEY",
        "SIGNING_KEY",
        "STORAGE_ACCOUNT_KEY",
    ],
)
def test_secret_names(name: str) -> None:
    assert secret_name(name)


@pytest.mark.parametrize(
    "name",
    [
        "PWD",
        "OLDPWD",
        "PATH",
        "TOKENIZER_PATH",
        "TOKENIZERS_PARALLELISM",
        "PASSWORD_FILE",
        "MYSQL_ROOT_PASSWORD_FILE",
        "SECRET_NAME",
        "ALLOYDB_SECRET_NAME",
        "SECRET_VERSION",
        "SECRET_ID",
        "TOKEN_URL",
        "OAUTH_TOKEN_URI",
        "TOKEN_ENDPOINT",
        "SECRETS_DIR",
        "CREDENTIALS_PATH",
        "VAULT_HOST",
        "TOKEN_SERVICE_PORT",
        "DB_PASSWORD_USER",
        "API_KEY_USERNAME",
        "TOKEN_SHA256",
        "PASSWORD_SHA",
        "PASSWORD_CHECKSUM",
        "PASSWORD_HASH",
        "OAUTH_CLIENT_ID",
        "AWS_ACCESS_KEY_ID",
        "ENCRYPTION_KEY_ID",
        "SECRET_KEYREF",
        "TOKEN_REF",
        "PASSWORD_ENABLED",
        "PASSWORD_MIN_LENGTH",
        "TOKEN_TTL",
        "TOKEN_EXPIRY",
        "SESSION_TOKEN_TIMEOUT",
        "ACCESS_TOKEN_EXPIRE_MINUTES",
        "MAX_TOTAL_TOKENS",
        "MAX_BATCH_PREFILL_TOKENS",
        "MYSQL_ALLOW_EMPTY_PASSWORD",
        "MYSQL_RANDOM_ROOT_PASSWORD",
        "GPG_KEY",
        "GPG_KEYS",
        "JENKINS_GPG_KEY",
        "TLS_KEY",
        "PUBLIC_KEY",
        "DefaultProcess__Filters__0__Key",
        "PYTHON_GET_PIP_SHA256",
        "PHP_VERSION",
        "KEEPASSXC_VERSION",
        "OAUTH2_PROXY_VERSION",
        "DOCKER_AUTH_VERSION",
        "POSTGRES_HOST_AUTH_METHOD",
        "USE_GKE_GCLOUD_AUTH_PLUGIN",
        "DOTNET_GENERATE_ASPNET_CERTIFICATE",
        "PROXY_BYPASS",
        "GIT_ASKPASS",
        "COMPASS_HOME",
        "PASSENGER_APP_ENV",
        "TOKEN_TYPE",
        "ETCD_INITIAL_CLUSTER_TOKEN",
        "SECRETS_MANAGER",
        "",
        "___",
    ],
)
def test_not_secret_names(name: str) -> None:
    assert not secret_name(name)


def test_extra_patterns_are_case_insensitive_and_explicit() -> None:
    assert not secret_name("DEPLOY_PIN")
    assert secret_name("DEPLOY_PIN", [r"_pin$"])
    # a user's pattern wins over the built-in exclusions
    assert secret_name("CERT_FILE", ["cert"])
    match = classify("DEPLOY_PIN", "4711", [r"_PIN$"])
    assert match == SecretMatch("custom-pattern", match.reason if match else "")


# Values a Dockerfile or manifest really carries under a secret name, that are not secrets.
NOT_LITERAL = [
    ("MYSQL_ROOT_PASSWORD", ""),
    ("MYSQL_ROOT_PASSWORD", "   "),
    ("ACTIVESTATE_API_KEY", "$ACTIVESTATE_API_KEY"),
    ("DB_PASSWORD", "${DB_PASSWORD}"),
    ("DB_PASSWORD", "${DB_PASSWORD:-}"),
    ("DB_PASSWORD", "${DB_PASSWORD:-changeme}"),
    ("DB_PASSWORD", "${DB_PASSWORD:?set it}"),
    ("DATA_SOURCE_PASS", "$(POSTGRES_PASSWORD)"),
    ("DB_PASSWORD", "%DB_PASSWORD%"),
    ("DB_PASSWORD", "$env:DB_PASSWORD"),
    ("DB_PASSWORD", "{{ .Values.db.password }}"),
    ("GITHUB_TOKEN", "${{ secrets.GITHUB_TOKEN }}"),
    ("DB_PASSWORD", "prefix-${SUFFIX}"),
    ("HF_TOKEN", "<your-token>"),
    ("OAUTH2_PROXY_CLIENT_SECRET", "<Client Secret>"),
    ("OAUTH2_PROXY_COOKIE_SECRET", "SECRET"),
    ("HF_TOKEN", "HF_TOKEN"),
    ("hf_token", "hf_token"),
    ("NGC_API_KEY", "nvapi-NVKEY"),
    ("GOOGLE_API_KEY", "GOOGLE_API_KEY_VAL"),
    ("ETCD_DISCOVERY_TOKEN", "INSERT_ETCD_DISCOVERY_TOKEN"),
    ("API_KEY", "REPLACE_ME"),
    ("API_KEY", "replace-me"),
    ("API_KEY", "your-api-key"),
    ("API_KEY", "insert token here"),
    ("API_KEY", "TODO"),
    ("API_KEY", "tbd"),
    ("API_KEY", "FIXME"),
    ("API_KEY", "placeholder"),
    ("PAPERLESS_SECRET_KEY", "build-time-dummy"),  # paperless-ngx's collectstatic step
    # Operator Lifecycle Manager's related images (Eclipse Che): an image, not a secret
    (
        "RELATED_IMAGE_che_tls_secrets_creation_job",
        "quay.io/eclipse/che-tls-secret-creator:9f9d4a6",
    ),
    ("SECRET_SYNC_IMAGE", "registry.example.com:5000/team/sync@sha256:" + "a" * 64),
    ("API_KEY", "fake_key"),
    ("DB_PASSWORD", "dummy"),
    ("API_KEY", "<redacted>"),
    ("API_KEY", "null"),
    ("API_KEY", "None"),
    ("API_KEY", "n/a"),
    ("API_KEY", "xxx"),
    ("API_KEY", "XXXXXXXX"),
    ("API_KEY", "***"),
    ("API_KEY", "..."),
    ("REDIS_PASSWORD", "1"),
    ("REDIS_PASSWORD", "0"),
    ("DB_PASSWORD", "true"),
    ("DB_PASSWORD", "no"),
    ("DB_PASSWORD", "x"),
    ("GOOGLE_APPLICATION_CREDENTIALS", "/var/secrets/google/key.json"),
    ("GOOGLE_APPLICATION_CREDENTIALS", "key.json"),
    ("SSL_KEY_PASSWORD", "secrets/keystore.txt"),
    ("SE_JAVA_SSL_TRUST_STORE_PASSWORD", "/opt/selenium/secrets/server.pass"),
    ("SE_HTTPS_PRIVATE_KEY", "/opt/selenium/secrets/tls.key"),
    ("DB_PASSWORD", "./password.txt"),
    ("DB_PASSWORD", "~/.pgpass"),
    ("DB_PASSWORD", "C:\\secrets\\db.txt"),
    ("DB_PASSWORD", "C:/secrets/db"),
    ("DB_PASSWORD", "file:///run/secrets/db"),
    ("DB_PASSWORD", "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf"),
    ("DB_PASSWORD", "projects/acme/secrets/db/versions/latest"),
    ("DB_PASSWORD", "vault:secret/data/db#password"),
    ("DB_PASSWORD", "op://vault/db/password"),
]


@pytest.mark.parametrize(("name", "value"), NOT_LITERAL)
def test_name_match_needs_a_literal_value(name: str, value: str) -> None:
    assert secret_name(name)
    assert classify(name, value) is None


# Values under names that are not secret: measured in /work/shared/corpus.
CORPUS_NON_SECRETS = [
    ("GPG_KEY", "A035C8C19219BA821ECEA86B64E628F8D684696D"),
    ("GPG_KEYS", "1198C0117593497A5EC5C199286AF1F9897469DC 39B641343D8C104B2B146DC3F9C39DC0B9"),
    ("PYTHON_SHA256", "c3d8b7e1a2f4" * 5 + "abcd"),
    ("PHP_URL", "https://www.php.net/distributions/php-8.3.0.tar.xz"),
    ("PHP_ASC_URL", "https://www.php.net/distributions/php-8.3.0.tar.xz.asc"),
    ("PYTHON_GET_PIP_SHA256", "0" * 10 + "f" * 54),
    ("MYSQL_ROOT_PASSWORD_FILE", "/run/secrets/mysql-root"),
    ("SECRET_ID", "bq-readonly-key"),
    ("SECRET_VERSION", "latest"),
    ("ALLOYDB_SECRET_NAME", "ALLOYDB_SECRET_NAME_VAL"),
    ("MAX_TOTAL_TOKENS", "2048"),
    ("TLS_KEY", "/etc/tls/tls.key"),
    ("TLS_RELAY_CLIENT_KEY_FILE", "/var/lib/hubble-ui/certs/client.key"),
    ("DOCKER_AUTH_VERSION", "1.5.0"),
    ("TOR_FINGERPRINT", "0x4E2C6E8793298290"),
    ("POWERSHELL_DISTRIBUTION_CHANNEL", "PSDocker-DotnetSDK-Debian-12"),
    ("MODEL_ID", "meta-llama/Meta-Llama-3-8B-Instruct"),
    ("DefaultProcess__Filters__0__Key", "ProcessId"),
    ("OAUTH_PROVIDER", "github"),
    ("PWD", "/home/user/project"),
    ("PATH", "/usr/local/bin:/usr/bin"),
]


@pytest.mark.parametrize(("name", "value"), CORPUS_NON_SECRETS)
def test_corpus_style_non_secrets(name: str, value: str) -> None:
    assert classify(name, value) is None


# Weak but working literals are secrets: the image or the cluster really uses them.
LITERALS = [
    ("MYSQL_ROOT_PASSWORD", "password", "password"),
    ("POSTGRES_PASSWORD", "postgres", "password"),
    ("MYSQL_ROOT_PASSWORD", "changeme", "password"),
    ("MYSQL_ROOT_PASSWORD", "CHANGEME", "password"),
    ("MYSQL_ROOT_PASSWORD", "yourpassword", "password"),
    ("MYSQL_ROOT_PASSWORD", "123456", "password"),
    ("MYSQL_ROOT_PASSWORD", "PASSWORD1", "password"),
    ("WSREP_SST_PASSWORD", "sst", "password"),
    ("DB_PASSWORD", "P@ss$word", "password"),  # a literal in a manifest: no ``$(...)``
    ("DB_PASSWORD", "  spaced out  ", "password"),
    ("SECRET_KEY", "/9j4KzQx7Lm2Pq8RtY3vWn5Bc1Df6Gh0", "secret-key"),  # base64, not a path
    ("SECRET_KEY", "/abc+def/ghi=", "secret-key"),
    ("LDAP_ROOTPASS", "fsociety", "password"),
    ("DB_PASSWORD", "dummyPass9", "password"),  # stand-in words count only on their own
    ("DB_PASSWORD", "fakeroo42", "password"),
    ("DB_PASSWORD", "hunter2-fake-value", "password"),  # and only as the whole value
    ("DB_PASSWORD", "s3cr3t.k3y/xyz", "password"),  # no tag or digest: not an image
    ("API_TOKEN", "my-fake-token", "token"),
    ("MINIO_ACCESS_KEY", "minio", "access-key"),
    ("MINIO_SECRET_KEY", "minio123", "secret-key"),
    ("ACCESS_KEY", "8312341g-5678-abcd-4a2b2c-33bcsd655", "access-key"),
    ("LICENSE_KEY", "lgNv" + "GyhnUKpa" + "5PJi", "license-key"),
    ("GITHUB_TOKEN", "abc123def456", "token"),
    ("apiKey", "k-" + FAKE[:30], "api-key"),
    ("CREDENTIALS", "user:pass", "credentials"),
    ("AWS_SECRET_ACCESS_KEY", "wJalr" + "Q" * 30 + "/K7MD", "aws-secret-access-key"),
    ("aws_secret_access_key", FAKE[:40], "aws-secret-access-key"),
    ("AWS_SECRET_ACCESS_KEY", "short-but-literal", "secret"),
]


@pytest.mark.parametrize(("name", "value", "kind"), LITERALS)
def test_literal_secrets(name: str, value: str, kind: str) -> None:
    match = classify(name, value)
    assert match is not None
    assert match.kind == kind
    assert name in match.reason


def test_value_format_wins_over_name() -> None:
    token = "ghp_" + FAKE[:36]
    assert classify("GITHUB_TOKEN", token) == SecretMatch(
        "github-token", "the value of GITHUB_TOKEN has the format of a github-token"
    )
    # even under a name that is excluded, or a value form that would otherwise be skipped
    assert classify("TOKEN_FILE", token) is not None
    assert classify("DB_PASSWORD", "${DB_PASSWORD:-" + token + "}") is not None


def test_match_never_carries_the_value() -> None:
    canary = "canary-Zq9x"  # a literal no name, kind or reason text could contain by chance
    cases = [("SETTING", v) for _, v in CREDENTIALS] + [(n, canary) for n, _, _ in LITERALS]
    for name, value in cases:
        match = classify(name, value)
        assert match is not None
        assert value.strip() not in repr(match)
        assert value.strip() not in match.reason
    assert [f.name for f in SecretMatch.__dataclass_fields__.values()] == ["kind", "reason"]


def test_match_is_frozen() -> None:
    match = SecretMatch("password", "r")
    with pytest.raises(AttributeError):
        match.kind = "x"  # type: ignore[misc]


@pytest.mark.parametrize("value", ["", "a", "hunter2", "ghp_" + FAKE[:36], "x" * 10_000])
def test_mask_reveals_nothing(value: str) -> None:
    assert mask(value) == "***"


@pytest.mark.parametrize(
    "value", ["\x00", "\u2028", "$", "${", "$(", "{{", "<", "-----BEGIN", "eyJ" + "." * 20]
)
def test_odd_values_never_raise(value: str) -> None:
    classify("DB_PASSWORD", value)
    credential_kind(value)
