"""The whole-line prefilters of DF004/K8S004 (``may_hold_secrets``, ``may_hold_secret``):
they skip splitting and judging a line's words only when that could find nothing. Each case
hides a secret where a naive text test would miss it (quotes, backslashes, camelCase names,
a non-ASCII separator, line continuations) and checks the real rule still reports it."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from fixer.documents.dockerfile import literal, parse, words
from fixer.documents.text import SourceText
from fixer.engine import process_text
from fixer.secrets.commands import command_secrets, default_secrets, may_hold_secrets
from fixer.secrets.detect import hints_secret, may_hold_secret, name_kind
from fixer.settings import Settings
from rules.secrets_reported import instruction_secrets
from tests.helpers import RULES

VALUE = "Zq7-Vb2-Kx9m"  # a literal with no secret-name word in it (no "pass", "key"...)
TOKEN = "ghp_" + "aB3" * 12


def full_analysis(line: str) -> bool:
    """What ``_run_secrets`` finds in a shell-form command line without the prefilter."""
    spans = words(line)
    found = [literal(line[s:e]) for s, e in spans]
    if any(True for _ in command_secrets(found)):
        return True
    return any(
        any(True for _ in default_secrets("", line[s:e]))
        for (s, e), word in zip(spans, found, strict=True)
        if word is None
    )


def run_findings(dockerfile: str) -> list[str]:
    doc = parse(SourceText(dockerfile))
    return [
        hit.message for ins in doc.instructions for hit in instruction_secrets(dockerfile, ins, ())
    ]


HIDDEN = [
    f'curl "-u" admin:{VALUE} https://example.com/x',
    f'curl -u"admin:{VALUE}" https://example.com/x',
    f'c"url" -u admin:{VALUE} https://example.com/x',
    f'"/usr/bin/curl" --user=admin:{VALUE} https://example.com/x',
    f'mysql "-p{VALUE}" -e "select 1"',
    f"mariadb-dump -p{VALUE} app",
    f'echo gh"p_"{TOKEN[4:]} > /out',
    f"echo g\\hp_{TOKEN[4:]} > /out",
    f'git clone "https://app:{VALUE}"@example.com/x.git',
    f'export DB_PA"SS"WORD={VALUE} && ./migrate',
    f"export API\\KEY={VALUE} && ./migrate",
    f"./tool --apiKey {VALUE} init",
    f"export SIGNING\u212aKEY={VALUE}",  # str.lower() turns the Kelvin sign into "k"
    f'psql "${{DB_PASSWORD:-{VALUE}}}"',
    f"sshpass -p {VALUE} ssh host true",
    "curl -X POST https://hooks.slack.com/services/T0000/B0000/" + "aB3" * 8,
]


@pytest.mark.parametrize("line", HIDDEN)
def test_a_hidden_secret_passes_the_run_prefilter(line: str) -> None:
    assert full_analysis(line), "the case must hold a secret the word analysis finds"
    assert may_hold_secrets(line)
    assert run_findings(f"FROM alpine:3.19\nRUN {line}\n")


def test_a_secret_after_a_line_continuation_is_reported() -> None:
    text = f"FROM alpine:3.19\nRUN apk add curl && \\\n    curl -u \\\n  admin:{VALUE} https://x\n"
    assert run_findings(text) == ["RUN passes a literal secret (password) in curl -u"]


@pytest.mark.parametrize(
    "line",
    [
        "apt-get update && apt-get install -y --no-install-recommends curl ca-certificates",
        "curl -fsSL https://deb.nodesource.com/setup_20.x | bash - && rm -rf /var/lib/apt/lists/*",
        'useradd -u 1000 -m app && echo "app ALL=(ALL) NOPASSWD" > /dev/null',  # no curl
        "pip install --no-cache-dir -r requirements.txt && python -m compileall /app",
        "mysql --version",
    ],
)
def test_ordinary_command_lines_skip_the_word_analysis(line: str) -> None:
    assert not full_analysis(line)
    assert not may_hold_secrets(line) or "NOPASSWD" in line
    assert not may_hold_secrets(line.replace("NOPASSWD", "NOPW"))


def test_user_patterns_always_pass_the_prefilters() -> None:
    assert not may_hold_secrets("make build") and may_hold_secrets("make build", ("BUILD",))
    assert not may_hold_secret("A=b") and may_hold_secret("A=b", ("A",))


def _quoted(word: str, rng: random.Random) -> str:
    """``word`` written another way the shell reads the same (or nearly: a backslash)."""
    if not word:
        return word
    choice = rng.randrange(5)
    cut = rng.randrange(len(word) + 1)
    if choice == 0:
        return f'"{word}"'
    if choice == 1:
        return f"{word[:cut]}''{word[cut:]}"
    if choice == 2:
        return f'{word[:cut]}"{word[cut:]}"'
    if choice == 3 and cut < len(word):
        return f"{word[:cut]}\\{word[cut:]}"
    return word


POOL = [
    "curl", "/usr/bin/curl", "mysql", "mariadb", "sshpass", "echo", "tool", "export", "env",
    "sh", "-c", "&&", ";", "|", "-u", "--user", "-p", f"-p{VALUE}", "--password", "--api-key",
    "--token-ttl", "--disabled-password", "--accessKey", f"admin:{VALUE}", VALUE, TOKEN,
    f"DB_PASSWORD={VALUE}", f"apiKey={VALUE}", f"SIGNING-KEY={VALUE}", f"NAME={VALUE}",
    f"--db_pwd={VALUE}", f"https://app:{VALUE}@db/x", "https://example.com/x", "AKIA" + "Z7Q2" * 4,
    f"${{API_TOKEN:-{VALUE}}}", "${HOME}", f"x${{CREDS-{VALUE}}}", "300", "fake",
]  # fmt: skip


def test_the_run_prefilter_never_hides_what_the_word_analysis_finds() -> None:
    rng = random.Random(20261129)
    found = 0
    for _ in range(3000):
        line = " ".join(_quoted(rng.choice(POOL), rng) for _ in range(rng.randrange(1, 7)))
        if full_analysis(line):
            found += 1
            assert may_hold_secrets(line), line
    assert found > 800  # the cases are not vacuous


def test_every_secret_name_holds_a_hint() -> None:
    rng = random.Random(7)
    parts = ["db", "API", "Key", "KEYS", "pass", "Token", "signing", "x", "2", "_", "-", ".",
             "\u212a", "Secret", "creds", "PWD", "access", "Id", "file", "Auth"]  # fmt: skip
    named = 0
    for _ in range(20000):
        name = "".join(rng.choice(parts) for _ in range(rng.randrange(1, 5)))
        if name_kind(name) is not None:
            named += 1
            assert hints_secret(name), name
    assert named > 2000


def dockerfile_findings(text: str) -> list[str]:
    settings = Settings.of(select=("DF004",), offline=True)
    result = process_text(
        Path("Dockerfile"), "dockerfile", SourceText(text), settings,
        rules=RULES, fix=False, resolutions={},
    )  # fmt: skip
    return [f.message for f in result.found]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (f'ENV "DB_PASS"WORD={VALUE}', "holds a literal secret (password)"),
        (f"ARG API\\KEY={VALUE}", "has a literal secret default (api-key)"),
        (f'ENV NOTE="{TOKEN[:3]}"\\{TOKEN[3:]}', "holds a literal secret (github-token)"),
        (f"ENV URL=x${{DB_PASSWORD:-{VALUE}}}", "${...:-default} (password)"),
        (f"ENV SIGNING\u212aKEY {VALUE}", "holds a literal secret (signing-key)"),
    ],
)
def test_env_and_arg_secrets_pass_the_pair_prefilter(line: str, message: str) -> None:
    found = dockerfile_findings(f"FROM alpine:3.19\n{line}\n")
    assert len(found) == 1 and message in found[0], found


def test_env_without_a_hint_is_not_reported() -> None:
    assert not may_hold_secret("NODE_ENV=production PATH=/app/bin:$PATH")
    assert dockerfile_findings("FROM alpine:3.19\nENV NODE_ENV=production PATH=/x:$PATH\n") == []


POD = """apiVersion: v1
kind: Pod
metadata:
  name: db
spec:
  containers:
  - name: a
    image: curlimages/curl:8
    command: ["curl"]
    args: ["-fsS", "-u", "admin:{value}", "https://example.com/x"]
  - name: b
    image: mysql:8
    command: ["sh", "-c", "mysql -uroot -p'{value}' app && echo ok"]
  - name: c
    image: alpine:3
    command: ["sh", "-c", "apk add curl && curl -fsSL https://example.com/x"]
"""


def test_kubernetes_command_lines_pass_the_prefilter_across_items() -> None:
    settings = Settings.of(select=("K8S004",), offline=True)
    text = POD.format(value=VALUE)
    result = process_text(
        Path("pod.yaml"), "kubernetes", SourceText(text), settings,
        rules=RULES, fix=False, resolutions={},
    )  # fmt: skip
    assert [f.message.split(" passes ")[0] for f in result.found] == [
        'Pod/db container "a" args',
        'Pod/db container "b" command',
    ]
    assert not may_hold_secrets("sh -c apk add curl && curl -fsSL https://example.com/x")
