"""Personal data: detection with checksums, reporting by line, and redaction into a new file."""

from __future__ import annotations

import json

import pytest

from tests.data.factories import chat
from workers.ml.data import find_pii, redact_pii, validate_and_analyse
from workers.ml.data.pii import iban_valid, luhn_valid


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("write to jane.doe+work@mail.example.co.uk today", "email"),
        ("call +44 20 7946 0958 now", "phone"),
        ("call (415) 555-2671", "phone"),
        ("ring 06 12 34 56 78", "phone"),
        ("card 4111 1111 1111 1111 exp 12/29", "card"),
        ("card 5500-0000-0000-0004", "card"),
        ("pay to GB82 WEST 1234 5698 7654 32 please", "iban"),
        ("IBAN DE89370400440532013000", "iban"),
    ],
)
def test_it_finds_personal_data(text, kind):
    assert [found[0] for found in find_pii(text)] == [kind]


@pytest.mark.parametrize(
    "text",
    [
        "order 4111 1111 1111 1112",  # fails Luhn
        "GB82 WEST 1234 5698 7654 33",  # fails mod-97
        "released on 2024-01-15 12:30",
        "pi is 3.14159265358979",
        "invoice 123456789012",  # a bare digit run is an id, not a phone
        "version 1.2.3 of the app",
        "no at sign here, example.com",
    ],
)
def test_it_ignores_lookalikes(text):
    assert find_pii(text) == []


def test_checksums():
    assert luhn_valid("4111111111111111") and not luhn_valid("4111111111111112")
    assert iban_valid("GB82WEST12345698765432") and not iban_valid("GB82WEST12345698765433")


def test_the_report_counts_findings_with_sample_lines(write_lines):
    rows = [chat(i) for i in range(10)]
    rows[2]["messages"][1]["content"] = "Mail me at ann@example.org or bob@example.org"
    rows[7]["messages"][2]["content"] = "Your card 4111 1111 1111 1111 is on file."

    report = validate_and_analyse(write_lines(rows), tokenizer=None)

    assert report.pii == {"email": {"count": 2, "lines": [3]}, "card": {"count": 1, "lines": [8]}}
    assert "pii" in [w["code"] for w in report.warnings]


def test_redaction_writes_a_new_file_and_leaves_the_original(write_lines, tmp_path):
    rows = [chat(i) for i in range(10)]
    rows[0]["messages"][1]["content"] = "I am ann@example.org, IBAN GB82 WEST 1234 5698 7654 32."
    src = write_lines(rows)
    original = src.read_bytes()

    result = redact_pii(src, tmp_path / "redacted.jsonl")

    assert src.read_bytes() == original
    assert result.redacted == {"email": 1, "iban": 1} and result.n_lines == 10
    lines = (tmp_path / "redacted.jsonl").read_text().splitlines()
    assert json.loads(lines[0])["messages"][1]["content"] == "I am [EMAIL], IBAN [IBAN]."
    assert lines[1:] == original.decode().splitlines()[1:]
    assert validate_and_analyse(tmp_path / "redacted.jsonl", tokenizer=None).pii == {}
