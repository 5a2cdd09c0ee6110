"""The repository stands alone: its licence and the data its tests read are in it."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
CORPUS = DATA / "corpus"


def test_license_is_the_apache_2_text() -> None:
    text = (ROOT / "LICENSE").read_text("utf-8")
    assert "Apache License\n                           Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text
    assert 'license = "Apache-2.0"' in (ROOT / "pyproject.toml").read_text("utf-8")


def test_corpus_copy_matches_its_index() -> None:
    """Every file INDEX.tsv lists is there, byte for byte (size and sha256), and nothing
    but the index, SOURCES.md and the sources' licence files is there besides."""
    with (CORPUS / "INDEX.tsv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    assert len(rows) == 2934
    for row in rows:
        data = (CORPUS / row["path"]).read_bytes()
        assert len(data) == int(row["bytes"]), row["path"]
        assert hashlib.sha256(data).hexdigest() == row["sha256"], row["path"]
    listed = {row["path"] for row in rows} | {"INDEX.tsv", "SOURCES.md"}
    others = {p.relative_to(CORPUS).as_posix() for p in CORPUS.rglob("*") if p.is_file()} - listed
    assert others, "the sources' licence files are missing"
    assert all(Path(p).name.startswith("LICENSE") and p.count("/") == 1 for p in others), others
    sources = {row["path"].split("/", 1)[0] for row in rows}
    assert {p.split("/", 1)[0] for p in others} == sources, "a source has no licence file"


def test_sarif_schema_is_kept_with_its_source() -> None:
    schema = DATA / "schemas" / "sarif-schema-2.1.0.json"
    assert '"$schema": "http://json-schema.org/draft-04/schema#"' in schema.read_text("utf-8")
    note = (DATA / "schemas" / "README.md").read_text("utf-8")
    assert "oasis-tcs/sarif-spec" in note and "LICENSE.md" in note


def test_tests_read_no_data_outside_the_repository() -> None:
    for name in ("test_corpus.py", "test_documents.py", "test_sarif.py"):
        source = (ROOT / "tests" / name).read_text("utf-8")
        assert "shared" not in source and "parents[2]" not in source, name
        assert '/ "data" /' in source, name
