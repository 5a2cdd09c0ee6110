"""Decide whether a name/value pair holds a literal secret: pure functions, no I/O.

Two independent signals, used by DF004 (Dockerfile ENV/ARG) and K8S004 (container env):

* the **value** has the format of a well-known credential (``credential_kind``): reported
  whatever the name, because such strings are never anything but credentials;
* the **name** says secret (``secret_name``) *and* the value is a literal a build or a
  cluster would really use: not empty, not a variable reference, not a path, not a flag,
  not a visible placeholder.

What counts as a placeholder (not reported): values that are visibly not a value, i.e.
``<your-token>``, ``{{ .Values.x }}``, mask characters (``xxx``, ``***``, ``...``), marker
words (``TODO``, ``TBD``, ``FIXME``, ``REPLACE_ME``, ``PLACEHOLDER``, ``REDACTED``, ``null``,
``none``), values made only of words that call them a stand-in (``build-time-dummy``,
``fake_key``; not ``hunter2-fake-value``) and SHOUTY template tokens (``INSERT_ETCD_TOKEN``,
``HF_TOKEN``, ``SECRET``, ``nvapi-NVKEY``). Weak but working literals (``changeme``,
``password``, ``postgres``, ``yourpassword``, ``123456``) *are* reported: an image or a
cluster built from the file uses them as they are. Single characters and booleans (``0``,
``1``, ``yes``) are flags, not secrets (``MYSQL_ALLOW_EMPTY_PASSWORD=1``); numbers of two
digits or more are reported.

AWS secret access keys have no prefix: a lone 40-character base64 string is just as likely
a git SHA, a GPG fingerprint or a checksum, so the value alone never reports. Under a secret
name any literal reports anyway; the 40-character shape only refines the label.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

__all__ = [
    "SecretMatch",
    "classify",
    "credential_kind",
    "hints_secret",
    "is_literal",
    "mask",
    "may_hold_secret",
    "name_kind",
    "name_words",
    "secret_name",
]


@dataclass(frozen=True)
class SecretMatch:
    """Why a pair was judged secret. Deliberately carries no value, so it can be logged."""

    kind: str  # short label: "password", "github-token", "private-key", ...
    reason: str  # one sentence for the report; names the variable, never the value


def mask(value: str) -> str:
    """What tool output shows instead of a secret: never its length, prefix or suffix."""
    del value
    return "***"


# ----------------------------------------------------------------------------- names

_SEPARATORS = re.compile(r"[^A-Za-z0-9]+")
# camelCase and ACRONYMCase boundaries; digits stay with the letters before them (OAUTH2).
_WORD = re.compile(r"[A-Z]+[0-9]*(?![a-z])|[A-Z]?[a-z]+[0-9]*|[0-9]+")


def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


# The last word says the variable *describes* a secret (where it is, how long it lives...).
_DESCRIPTIVE_LAST = _wordset(
    """FILE FILES FILENAME PATH PATHS DIR DIRS DIRECTORY FOLDER URL URLS URI ENDPOINT HOST
    HOSTNAME ADDR ADDRESS PORT USER USERNAME USERS LOGIN NAME NAMES VERSION SHA SHA1
    SHA256 SHA384 SHA512 MD5 CHECKSUM HASH DIGEST FINGERPRINT ID IDS REF REFS KEYREF
    SECRETREF TYPE MODE METHOD FORMAT ALGORITHM ALG PROVIDER SOURCE HEADER PREFIX SUFFIX
    FIELD SCOPE SCOPES AUDIENCE ISSUER LOCATION NAMESPACE MOUNT KIND POLICY LABEL
    SELECTOR ENV VAR ARN REGION BUCKET MANAGER BACKEND STORE ENGINE DRIVER HANDLER
    PLUGIN CLASS MODULE STRATEGY AGE"""
)
# Anywhere in the name: a quantity or an on/off switch about the secret, not the secret.
_QUALIFIERS = _wordset(
    """MAX MIN NUM COUNT LIMIT SIZE LENGTH LEN TTL TIMEOUT EXPIRY EXPIRE EXPIRES EXPIRATION
    LIFETIME DURATION INTERVAL SECONDS MINUTES HOURS DAYS ALLOW ENABLE ENABLED DISABLE
    DISABLED USE REQUIRE REQUIRED SKIP RANDOM GENERATE EMPTY PER SECOND MINUTE HOUR DAY"""
)
_NOT_PASS = frozenset({"BYPASS", "COMPASS", "ENCOMPASS", "SURPASS", "TRESPASS", "ASKPASS"})
# Whole names known to hold an identifier, not a credential, despite their words.
_NOT_SECRET_SUFFIXES = ("INITIAL_CLUSTER_TOKEN",)  # etcd: seeds cluster/member ids
# Words that make the following KEY a secret: API_KEY -> "api-key", LICENSE_KEY, ...
_KEY_QUALIFIERS = _wordset(
    """API ACCESS PRIVATE SECRET AUTH LICENSE SIGNING ENCRYPTION MASTER ACCOUNT SHARED
    SESSION"""
)
_KEY_WORDS = {q + k: f"{q.lower()}-key" for q in _KEY_QUALIFIERS for k in ("KEY", "KEYS")}
_CREDENTIAL_WORDS = frozenset({"CREDENTIAL", "CREDENTIALS", "CREDS"})


def _words(name: str) -> list[str]:
    return [w.upper() for part in _SEPARATORS.split(name) for w in _WORD.findall(part)]


def _word_kind(word: str, following: str) -> str | None:
    """The secret category one name word announces (``following`` is the next word)."""
    if word in _KEY_WORDS:
        return _KEY_WORDS[word]
    if word in _KEY_QUALIFIERS and following in ("KEY", "KEYS"):
        return f"{word.lower()}-key"
    if any(p in word for p in ("PASSWORD", "PASSWD", "PASSPHRASE")):
        return "password"
    if (word.endswith("PASS") and word not in _NOT_PASS) or word.endswith("PWD"):
        return "password"
    if word.endswith(("SECRET", "SECRETS")):
        return "secret"
    if word.endswith(("TOKEN", "TOKENS")):
        return "token"
    if word in _CREDENTIAL_WORDS:
        return "credentials"
    return None


@lru_cache(maxsize=4096)  # pure; the same names (PATH, NODE_ENV...) recur in every file
def _name_kind(name: str) -> str | None:
    upper = name.upper()
    if upper in ("PWD", "OLDPWD") or upper.endswith(_NOT_SECRET_SUFFIXES):  # PWD: work dirs
        return None
    words = _words(name)
    if not words or words[-1] in _DESCRIPTIVE_LAST or _QUALIFIERS.intersection(words):
        return None
    for word, following in zip(words, [*words[1:], ""], strict=True):
        kind = _word_kind(word, following)
        if kind:
            return kind
    return None


@lru_cache(maxsize=64)
def _compiled(patterns: tuple[str, ...]) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(p, re.IGNORECASE) for p in patterns)


def _custom_match(name: str, extra_patterns: Sequence[str]) -> bool:
    """User patterns are explicit, so they skip the built-in exclusions (``*_FILE``...)."""
    return any(p.search(name) for p in _compiled(tuple(extra_patterns)))


def secret_name(name: str, extra_patterns: Sequence[str] = ()) -> bool:
    """True when the variable name says it holds a secret (``DB_PASSWORD``, ``apiKey``)."""
    return _name_kind(name) is not None or _custom_match(name, extra_patterns)


# ----------------------------------------------------------------------------- values

_B = r"(?<![A-Za-z0-9_])"  # token start: not glued to a longer word
_E = r"(?![A-Za-z0-9_])"
_FORMATS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(pattern))
    for kind, pattern in (
        ("private-key", r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----"),
        ("aws-access-key-id", r"(?<![A-Z0-9])(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Z0-9])"),
        ("github-token", _B + r"(?:gh[pousr]_[A-Za-z0-9]{36,251}|github_pat_\w{60,})" + _E),
        ("gitlab-token", _B + r"gl(?:pat|dt|rt|ptt)-[A-Za-z0-9_-]{20,}"),
        ("slack-token", _B + r"(?:xox[abprs]|xapp)-[A-Za-z0-9-]{10,}"),
        ("slack-webhook", r"https://hooks\.slack\.com/(?:services|workflows|triggers)/\S{20,}"),
        ("stripe-live-key", _B + r"[sr]k_live_[A-Za-z0-9]{20,}" + _E),
        ("google-api-key", _B + r"AIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])"),
        ("npm-token", _B + r"npm_[A-Za-z0-9]{36}" + _E),
        ("pypi-token", _B + r"pypi-AgE[A-Za-z0-9_-]{50,}"),
        ("huggingface-token", _B + r"hf_[A-Za-z0-9]{34,}" + _E),
        ("openai-api-key", _B + r"sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}T3BlbkFJ"),
        ("anthropic-api-key", _B + r"sk-ant-[a-z]{3,6}\d{2}-[A-Za-z0-9_-]{80,}"),
        ("sendgrid-api-key", _B + r"SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}" + _E),
        ("dockerhub-token", _B + r"dckr_pat_[A-Za-z0-9_-]{20,}"),
        ("digitalocean-token", _B + r"do[opr]_v1_[a-f0-9]{64}" + _E),
        ("nvidia-api-key", _B + r"nvapi-[A-Za-z0-9_-]{60,}"),
        ("azure-storage-key", r"(?:AccountKey|SharedAccessKey)=[A-Za-z0-9+/]{40,}={0,2}"),
    )
)
_JWT = re.compile(_B + r"(eyJ[A-Za-z0-9_-]{8,})\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*")
_URL_CREDENTIALS = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s:/?#@]*:([^\s/?#@]+)@")
# ``Server=db;User Id=app;Password=...`` and ``jdbc:...?user=app&password=...``
_CONNECTION_PASSWORD = re.compile(r"(?:^|[;?&\s])(?:password|pwd)=([^;&\s]+)", re.IGNORECASE)
_DOC_EXAMPLE = re.compile(r"EXAMPLE", re.IGNORECASE)  # AWS documents AKIAIOSFODNN7EXAMPLE
_FILLER = re.compile(r"[xX*.#?_-]+|0+")


_PREFIX = re.compile(r"(?:[A-Za-z]+(?:_[a-z]+)?[_-]|AKIA|ASIA|ABIA|ACCA|AIza)")


def _is_fake(token: str) -> bool:
    """Documentation examples and masked tokens (``ghp_xxxx…``) are not credentials."""
    prefix = _PREFIX.match(token)
    body = token[prefix.end() :] if prefix else token
    return bool(_DOC_EXAMPLE.search(token) or _FILLER.fullmatch(body))


def _jwt_header_has_alg(part: str) -> bool:
    import base64  # only for values that already look like a JWT: keeps import cheap
    import binascii
    import json

    try:
        header = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    except (binascii.Error, ValueError):  # UnicodeDecodeError and JSONDecodeError included
        return False
    return isinstance(header, dict) and "alg" in header


# Every pattern above (formats, JWT, URL and connection-string credentials) contains one of
# these literal anchors: a value with none of them holds no credential, and one search
# answers that for the vast majority of words (most of a RUN line).
_FORMAT_ANCHORS = (
    r"-----BEGIN|AKIA|ASIA|ABIA|ACCA|gh[pousr]_|github_pat_|gl(?:pat|dt|rt|ptt)-|xox|xapp-|"
    r"k_live_|AIza|npm_|pypi-AgE|hf_|sk-|SG\.|dckr_pat_|do[opr]_v1_|nvapi-|AccountKey=|"
    r"SharedAccessKey=|eyJ"
)
_ANCHORS = re.compile(_FORMAT_ANCHORS + r"|://|(?i:password|pwd)=")


def credential_kind(value: str) -> str | None:
    """The kind of well-known credential found in ``value`` (anywhere in it), else None."""
    if not _ANCHORS.search(value):
        return None
    for kind, pattern in _FORMATS:
        for found in pattern.finditer(value):
            if not _is_fake(found.group(0)):
                return kind
    if any(_jwt_header_has_alg(m.group(1)) for m in _JWT.finditer(value)):
        return "jwt"
    if any(_is_literal(m.group(1), "") for m in _URL_CREDENTIALS.finditer(value)):
        return "url-credentials"
    if any(_is_literal(m.group(1), "") for m in _CONNECTION_PASSWORD.finditer(value)):
        return "connection-string"
    return None


# ----------------------------------------------------------------------------- literals

# A value that is (or embeds) a reference gets its secret from elsewhere: shell/Dockerfile
# ``$X``/``${X...}``, Kubernetes ``$(X)``, Windows ``%X%``, PowerShell ``$env:X``, templates.
# Bare ``$X`` counts only as the whole value: ``P@ss$word`` is a literal in a manifest.
_REFERENCE = re.compile(r"\$[A-Za-z_]\w*|%[A-Za-z_]\w*%|\$env:\w+", re.IGNORECASE)
_EMBEDDED_REFERENCE = re.compile(r"\$\{[^}]*\}|\$\([A-Za-z_][\w.-]*\)|\{\{.*?\}\}|\$\{\{")
_PATH = re.compile(r"(?:/|\./|\.\./|~/)[\w.@-]*(?:/[\w.@-]*)*|[A-Za-z]:[\\/]\S*|file:\S+")
_RANDOM = re.compile(r"(?=.*[a-z])(?=.*[A-Z])(?=.*[0-9])[\w.@-]{16,}")
_FILE_NAME = re.compile(
    r"[\w.-]+(?:/[\w.-]+)*\.(?:json|ya?ml|pem|key|crt|cer|der|p8|p12|pfx|jks|keystore|"
    r"txt|env|ini|conf|cfg|properties|toml|xml)",
    re.IGNORECASE,
)  # ``key.json``, ``secrets/db.txt``: a file holding the secret, named relatively
_SECRET_STORE = re.compile(
    r"arn:aws[\w-]*:(?:secretsmanager|ssm|kms):|projects/[^/\s]+/secrets/|"
    r"(?:vault|op|sm|gsm|akv|keyvault|awssm|gcpsm)://|vault:",
    re.IGNORECASE,
)
_ANGLE_PLACEHOLDER = re.compile(r"<[A-Za-z_][^<>]*>")
_MARKERS = _wordset(
    """todo tbd fixme replaceme replace placeholder redacted null none nil undefined na
    unset"""
)
_FLAGS = _wordset("true false yes no on off")
# SHOUTY template token, optionally behind a lower-case vendor prefix (``nvapi-NVKEY``).
_SHOUTY = re.compile(r"(?:[a-z][a-z0-9]*[-_])?([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*)")
_SHOUTY_WORDS = ("KEY", "TOKEN", "SECRET", "PASSWORD", "PASSWD", "CREDENTIAL", "VALUE")
# An instruction to the reader as a separate word: ``your-token``, ``insert token here``.
_INSTRUCTION = re.compile(r"(?:^|[\s_-])(?:your|replace|insert|enter)(?:[\s_-]|$)", re.IGNORECASE)
# A value made only of words that say it stands in for a secret: paperless-ngx runs
# Django's ``collectstatic`` with ``PAPERLESS_SECRET_KEY=build-time-dummy`` (the step needs
# a key, not a secret one). Any other word keeps it a literal (``hunter2-fake-value``).
_STAND_IN = _wordset("dummy fake")
_STAND_IN_WORDS = _wordset(
    """dummy fake build time buildtime only for not a real secret key token password pass
    value placeholder test testing ci"""
)
_WORDS = re.compile(r"[\s_.-]+")


def _stand_in(value: str) -> bool:
    words = [w for w in _WORDS.split(value.lower()) if w]
    return any(w in _STAND_IN for w in words) and all(w in _STAND_IN_WORDS for w in words)


def _is_placeholder(value: str, name: str) -> bool:
    if value.lower() == name.lower() or _INSTRUCTION.search(value) or _stand_in(value):
        return True
    if _ANGLE_PLACEHOLDER.search(value) or _FILLER.fullmatch(value):
        return True
    if re.sub(r"[^a-z]", "", value.lower()) in _MARKERS and not re.search(r"\d", value):
        return True
    shouty = _SHOUTY.fullmatch(value)
    if not shouty:
        return False
    core = shouty.group(1)
    # ``A_B`` reads as a variable name; an all-letter word naming the secret reads as a label.
    return "_" in core or (core.isalpha() and any(w in core for w in _SHOUTY_WORDS))


def _is_path(text: str) -> bool:
    """A file path or URI; a random segment (``/9xQ…``) is base64 that happens to start
    with a slash, which 1 in 64 base64 secrets does."""
    if _FILE_NAME.fullmatch(text):
        return True
    return bool(_PATH.fullmatch(text)) and not any(_RANDOM.fullmatch(p) for p in text.split("/"))


def _is_literal(value: str, name: str) -> bool:
    """True when ``value`` is a literal that would really be used as the secret."""
    text = value.strip()
    if len(text) < 2 or text.lower() in _FLAGS:
        return False
    if _REFERENCE.fullmatch(text) or _EMBEDDED_REFERENCE.search(text):
        return False
    if _is_path(text) or _SECRET_STORE.match(text) or _IMAGE_REFERENCE.fullmatch(text):
        return False
    return not _is_placeholder(text, name)


#: A container image on a registry host, with a tag or digest: Operator Lifecycle Manager's
#: ``RELATED_IMAGE_che_tls_secrets_creation_job: quay.io/eclipse/che-tls-secret-creator:9f9d4a6``
#: names an image whose name says secret, not a secret.
_IMAGE_REFERENCE = re.compile(
    r"[a-z0-9-]+(?:\.[a-z0-9-]+)+(?::\d+)?(?:/[a-z0-9]+(?:[._-]+[a-z0-9]+)*)+"
    r"(?::[\w][\w.-]{0,127}(?:@sha256:[0-9a-f]{64})?|@sha256:[0-9a-f]{64})"
)


# ----------------------------------------------------------------------------- classify

_AWS_SECRET_SHAPE = re.compile(r"[A-Za-z0-9/+]{40}")


def _label(name: str, kind: str, value: str) -> str:
    words = set(_words(name))
    aws_secret = "SECRET" in words and ("AWS" in words or {"ACCESS", "KEY"} <= words)
    if aws_secret and _AWS_SECRET_SHAPE.fullmatch(value.strip()):
        return "aws-secret-access-key"
    return kind


def classify(name: str, value: str, extra_patterns: Sequence[str] = ()) -> SecretMatch | None:
    """Judge one ``name=value`` pair; None when it is not a literal secret."""
    kind = credential_kind(value)
    if kind:
        return SecretMatch(kind, f"the value of {name} has the format of a {kind}")
    name_kind = _name_kind(name)
    if name_kind is None and _custom_match(name, extra_patterns):
        name_kind = "custom-pattern"
    if name_kind is None or not _is_literal(value, name):
        return None
    label = _label(name, name_kind, value)
    return SecretMatch(label, f"the name {name} says {name_kind} and the value is a literal")


# ----------------------------------------------------------------------------- for commands


def name_words(name: str) -> list[str]:
    """The upper-case words of a variable or option name (``apiKey`` -> API, KEY)."""
    return _words(name)


def name_kind(name: str) -> str | None:
    """The secret category a name announces (``DB_PASSWORD`` -> "password"), else None."""
    return _name_kind(name)


def is_literal(value: str, name: str = "") -> bool:
    """True when ``value`` is a literal that would really be used as a secret."""
    return _is_literal(value, name)


# Every name ``_name_kind`` reports holds one of these words, case aside: PASSWORD, PASSWD,
# PASSPHRASE and ...PASS, ...PWD, ...SECRET(S), ...TOKEN(S), CREDENTIAL(S)/CREDS, or a key
# qualifier then KEY with only separators between (``API_KEY``, ``apiKey``, ``APIKEYS``).
_NAME_WORDS = ("pass", "pwd", "secret", "token", "cred")
_KEY_NAME = re.compile(  # on ASCII-lowered text: separators are any other character
    "(?:" + "|".join(sorted(q.lower() for q in _KEY_QUALIFIERS)) + ")[^a-z0-9]*key"
)
_ASCII_LOWER = str.maketrans(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz"
)  # str.lower turns a few other letters into ASCII ones (the Kelvin sign into ``k``)
# What a credential format leaves in any text holding it. ``://`` alone would admit every
# download URL: a URL credential (``://user:pass@``) has an ``@`` after it with no blank
# between, and a Slack webhook names its host.
_FORMAT_HINT = re.compile(_FORMAT_ANCHORS + r"|://[^\s@]*@|hooks\.slack\.com/")


def hints_secret(text: str) -> bool:
    """False when no part of ``text`` can be a value ``credential_kind`` reports or a name
    ``name_kind`` reports: then ``classify`` (without extra patterns) reports no name and
    value cut from it. A few substring tests, where judging every word costs a lot more."""
    if _FORMAT_HINT.search(text):
        return True
    lower = text.lower() if text.isascii() else text.translate(_ASCII_LOWER)
    if any(word in lower for word in _NAME_WORDS):
        return True
    return "key" in lower and _KEY_NAME.search(lower) is not None


# Quote removal only deletes quotes and backslashes (``"gh"p_...`` -> ``ghp_...``): deleting
# every one of them from a line leaves each word's value in one piece, so what a word holds
# after quote removal the stripped line holds too (no hint has a quote or backslash in it).
QUOTING = str.maketrans("", "", "\\\"'")


def may_hold_secret(text: str, extra_patterns: Sequence[str] = ()) -> bool:
    """False when ``classify`` reports no name and value cut from the words of ``text``
    after quote removal: checked on the whole line at once, before splitting it. User
    patterns can name anything, so with them it is always True."""
    return bool(extra_patterns) or hints_secret(text.translate(QUOTING))
