"""validate_and_analyse: every error code at the right line, file-level refusals, and the
harmless variations (CRLF, BOM, blank lines) that must pass."""

from __future__ import annotations

import io
import json
import tracemalloc

import pytest

from tests.data.factories import chat
from workers.ml.data import ISSUE_CODES, validate_and_analyse

USER = {"role": "user", "content": "Hi"}
ANSWER = {"role": "assistant", "content": "Hello"}

# (bad line, expected code): each is inserted as line 5 of an otherwise valid file.
BAD_LINES = [
    ('{"messages": [', "invalid_json"),
    ("[1, 2]", "invalid_json"),
    ("not json at all", "invalid_json"),
    ({"conversation": []}, "missing_messages"),
    ({"messages": []}, "missing_messages"),
    ({"messages": "hi"}, "missing_messages"),
    ({"messages": [{"content": "Hi"}, ANSWER]}, "message_missing_key"),
    ({"messages": [USER, {"role": "assistant"}]}, "message_missing_key"),
    ({"messages": [USER, ANSWER], "id": 7}, "unrecognized_key"),
    ({"messages": [USER, {**ANSWER, "tool_calls": []}]}, "unrecognized_key"),
    ({"messages": [{"role": "tool", "content": "x"}, ANSWER]}, "unknown_role"),
    ({"messages": [{"role": "user", "content": [{"type": "text", "text": "Hi"}]}, ANSWER]}, "content_not_string"),
    ({"messages": [USER, {"role": "assistant", "content": None}]}, "content_not_string"),
    ({"messages": [{"role": "system", "content": "Be brief."}, USER]}, "no_assistant_message"),
    ({"messages": [USER, {**ANSWER, "weight": 0}]}, "no_assistant_message"),
    ({"messages": [USER, {"role": "assistant", "content": "  \n"}]}, "empty_content"),
    ({"messages": [USER, {**ANSWER, "weight": 2}]}, "invalid_weight"),
    ({"messages": [USER, {**ANSWER, "weight": True}]}, "invalid_weight"),
    ({"messages": [{**USER, "weight": 1}, ANSWER]}, "invalid_weight"),
    ('{"messages": [{"role": "user", "content": "\\ud800"}, {"role": "assistant", "content": "x"}]}', "invalid_utf8"),
    ({"prompt": "Hi", "completion": "Hello"}, "mixed_formats"),
]


@pytest.mark.parametrize(("bad", "code"), BAD_LINES, ids=[f"{code}-{i}" for i, (_, code) in enumerate(BAD_LINES)])
def test_it_reports_each_bad_line_with_its_code_and_line(write_lines, valid_rows, bad, code):
    path = write_lines(valid_rows[:4] + [bad] + valid_rows[4:])

    report = validate_and_analyse(path, tokenizer=None)

    assert report.status == "error"
    assert report.error_counts == {code: 1}
    assert [(e["code"], e["line"]) for e in report.errors] == [(code, 5)]
    assert report.errors[0]["message"]
    assert report.n_examples == 12


def test_every_reported_code_is_documented():
    assert {code for _, code in BAD_LINES} <= set(ISSUE_CODES)


def test_a_valid_chat_file_is_ok(write_lines, valid_rows):
    report = validate_and_analyse(write_lines(valid_rows), tokenizer=None)

    assert report.ok, report.errors
    assert report.format == "chat"
    assert (report.n_lines, report.n_examples) == (12, 12)
    assert json.loads(json.dumps(report.to_dict()))["status"] == "ok"


def test_it_accepts_prompt_completion_files(write_lines):
    rows = [{"prompt": f"Q{i}", "completion": f"A{i}"} for i in range(10)]

    report = validate_and_analyse(write_lines(rows), tokenizer=None)

    assert report.ok and report.format == "prompt_completion"


def test_prompt_completion_lines_need_both_keys(write_lines):
    rows = [{"prompt": f"Q{i}", "completion": f"A{i}"} for i in range(10)] + [{"prompt": "Q"}]

    report = validate_and_analyse(write_lines(rows), tokenizer=None)

    assert [(e["code"], e["line"]) for e in report.errors] == [("missing_key", 11)]


def test_crlf_bom_and_blank_lines_are_accepted(tmp_path, valid_rows):
    body = "\r\n\r\n".join(json.dumps(row) for row in valid_rows) + "\r\n\r\n"
    path = tmp_path / "windows.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + body.encode())

    report = validate_and_analyse(path, tokenizer=None)

    assert report.ok, report.errors
    assert report.n_examples == 12


def test_line_numbers_count_blank_lines(write_lines, valid_rows):
    path = write_lines(valid_rows[:2] + ["", ""] + ["{oops"] + valid_rows[2:])

    report = validate_and_analyse(path, tokenizer=None)

    assert report.errors[0]["line"] == 5


def test_a_truncated_file_fails_at_its_last_line(tmp_path, valid_rows):
    text = "".join(json.dumps(row) + "\n" for row in valid_rows)
    path = tmp_path / "cut.jsonl"
    path.write_text(text[: len(text) - 25])

    report = validate_and_analyse(path, tokenizer=None)

    [error] = report.errors
    assert (error["code"], error["line"]) == ("invalid_json", 12)
    assert "cut off" in error["message"]


def test_invalid_utf8_is_reported_at_its_line(tmp_path, valid_rows):
    lines = [json.dumps(row).encode() for row in valid_rows]
    lines[6] = lines[6].replace(b"plus", b"pl\xffus")
    path = tmp_path / "latin.jsonl"
    path.write_bytes(b"\n".join(lines))

    report = validate_and_analyse(path, tokenizer=None)

    assert [(e["code"], e["line"]) for e in report.errors] == [("invalid_utf8", 7)]


def test_utf16_files_are_refused_with_a_hint(tmp_path, valid_rows):
    path = tmp_path / "utf16.jsonl"
    path.write_bytes("\n".join(json.dumps(row) for row in valid_rows).encode("utf-16"))

    report = validate_and_analyse(path, tokenizer=None)

    assert report.error_counts == {"invalid_utf8": 1}
    assert "UTF-16" in report.errors[0]["message"]


@pytest.mark.parametrize(
    ("content", "code", "words"),
    [
        (b"", "empty_file", "empty"),
        (b"\n\n  \n", "empty_file", "blank lines"),
        (bytes(range(256)) * 40, "binary_file", "binary"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "binary_file", "PNG"),
        (b"%PDF-1.7\n...", "binary_file", "PDF"),
        (b'[{"messages": []}]', "wrong_format", "JSON array"),
    ],
)
def test_it_refuses_files_that_are_not_jsonl(tmp_path, content, code, words):
    path = tmp_path / "upload.jsonl"
    path.write_bytes(content)

    report = validate_and_analyse(path, tokenizer=None)

    assert report.status == "error"
    assert report.error_counts == {code: 1}
    assert report.errors[0]["line"] is None
    assert words in report.errors[0]["message"]


def test_an_excel_file_renamed_to_jsonl_is_refused(tmp_path):
    import openpyxl

    workbook = openpyxl.Workbook()
    workbook.active.append(["prompt", "answer"])
    path = tmp_path / "data.jsonl"
    workbook.save(path)

    report = validate_and_analyse(path, tokenizer=None)

    assert report.error_counts == {"binary_file": 1}
    assert "Excel" in report.errors[0]["message"]


def test_too_few_examples_is_a_file_error(write_lines, valid_rows):
    report = validate_and_analyse(write_lines(valid_rows[:9]), tokenizer=None)

    assert [(e["code"], e["line"]) for e in report.errors] == [("too_few_examples", None)]


def test_a_giant_line_is_skipped_without_reading_it_into_memory(tmp_path, valid_rows):
    giant = '{"messages": [{"role": "user", "content": "' + "x" * (24 * 1024 * 1024) + '"}]}'
    path = tmp_path / "giant.jsonl"
    path.write_text(
        "\n".join([json.dumps(r) for r in valid_rows[:3]] + [giant] + [json.dumps(r) for r in valid_rows[3:]])
    )

    tracemalloc.start()
    report = validate_and_analyse(path, tokenizer=None, max_line_bytes=1024 * 1024)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()

    assert [(e["code"], e["line"]) for e in report.errors] == [("line_too_long", 4)]
    assert report.n_examples == 12
    assert peak < 8 * 1024 * 1024, f"peak {peak / 2**20:.1f} MiB for a 24 MiB line"


def test_errors_are_capped_but_counted_exactly(write_lines, valid_rows):
    path = write_lines(valid_rows + ["{bad"] * 250)

    report = validate_and_analyse(path, tokenizer=None, error_cap=100)

    assert report.error_counts == {"invalid_json": 250}
    assert len(report.errors) == 100 and report.errors_truncated
    assert [e["line"] for e in report.errors] == list(range(13, 113))


def test_it_reads_from_an_open_binary_stream(valid_rows):
    stream = io.BytesIO("".join(json.dumps(r) + "\n" for r in valid_rows).encode())

    report = validate_and_analyse(stream, tokenizer=None)

    assert report.ok and report.n_examples == 12
    assert not stream.closed


def test_too_many_tokens_is_reported_at_the_long_line(write_lines, valid_rows, tokenizer):
    long_row = chat(99, answer="word " * 400)
    path = write_lines(valid_rows[:7] + [long_row] + valid_rows[7:])

    report = validate_and_analyse(path, tokenizer=tokenizer, max_seq_len=128)

    assert [(e["code"], e["line"]) for e in report.errors] == [("too_many_tokens", 8)]
    assert report.stats["over_limit"] == 1
    assert "128" in report.errors[0]["message"]
