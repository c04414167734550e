"""Conversion of CSV, TSV, XLSX, JSON arrays and flat JSONL into chat JSONL, with previews,
row-level errors and refusals of files that are not what they claim to be."""

from __future__ import annotations

import json
import zipfile

import openpyxl
import pytest

from workers.ml.data import ColumnMapping, Limits, convert_to_chat_jsonl, preview, validate_and_analyse

MAPPING = {"user": "question", "assistant": "answer"}


def read_jsonl(path):
    return [json.loads(line) for line in open(path, encoding="utf-8")]


def xlsx(path, rows):
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    workbook.save(path)
    return path


def test_csv_becomes_chat_jsonl_that_validates(tmp_path):
    src = tmp_path / "qa.csv"
    src.write_text("question,answer\n" + "".join(f"What is {i}?,It is {i}.\n" for i in range(12)))

    result = convert_to_chat_jsonl(src, tmp_path / "out.jsonl", mapping=MAPPING)

    assert result.status == "ok" and (result.n_rows, result.n_examples) == (12, 12)
    assert read_jsonl(result.path)[0] == {
        "messages": [{"role": "user", "content": "What is 0?"}, {"role": "assistant", "content": "It is 0."}]
    }
    assert validate_and_analyse(result.path, tokenizer=None).ok


def test_a_fixed_system_prompt_or_a_system_column(tmp_path):
    src = tmp_path / "qa.tsv"
    src.write_text("sys\tquestion\tanswer\nBe terse.\tHi\tHello\n\tHey\tYo\n")

    fixed = convert_to_chat_jsonl(src, tmp_path / "a.jsonl", mapping={**MAPPING, "system_prompt": "Be kind."})
    column = convert_to_chat_jsonl(src, tmp_path / "b.jsonl", mapping={**MAPPING, "system": "sys"})

    assert [row["messages"][0]["content"] for row in read_jsonl(fixed.path)] == ["Be kind.", "Be kind."]
    # an empty system cell means no system message for that row
    assert [len(row["messages"]) for row in read_jsonl(column.path)] == [3, 2]
    assert fixed.source_format == "tsv"


def test_a_mapping_cannot_have_both_system_kinds():
    with pytest.raises(ValueError):
        ColumnMapping(user="q", assistant="a", system="s", system_prompt="Be kind.")


def test_csv_errors_name_the_line_and_column(tmp_path):
    # the quoted cell spans lines 3-4, so the empty answer after it is on line 5
    src = tmp_path / "qa.csv"
    src.write_text('question,answer\nHi,Hello\n"multi\nline",ok\nHey,\n,\nYo,Sup\n')

    result = convert_to_chat_jsonl(src, tmp_path / "out.jsonl", mapping=MAPPING)

    assert result.status == "error" and result.n_examples == 3
    assert [(e["code"], e["line"], e["column"]) for e in result.errors] == [("empty_cell", 5, "answer")]
    assert read_jsonl(result.path)[1]["messages"][0]["content"] == "multi\nline"


def test_an_unknown_column_is_refused_before_writing(tmp_path):
    src = tmp_path / "qa.csv"
    src.write_text("q,a\nHi,Hello\n")

    result = convert_to_chat_jsonl(src, tmp_path / "out.jsonl", mapping=MAPPING)

    assert result.path is None and not (tmp_path / "out.jsonl").exists()
    assert result.error_counts == {"unknown_column": 1}
    assert "q, a" in result.errors[0]["message"]


def test_invalid_utf8_rows_are_reported_and_skipped(tmp_path):
    src = tmp_path / "latin1.csv"
    src.write_bytes("question,answer\nCaf\xe9?,Oui\nTea?,Yes\n".encode("latin-1"))

    result = convert_to_chat_jsonl(src, tmp_path / "out.jsonl", mapping=MAPPING)

    assert [(e["code"], e["line"]) for e in result.errors] == [("invalid_utf8", 2)]
    assert result.n_examples == 1


def test_xlsx_rows_are_numbered_like_excel(tmp_path):
    src = xlsx(
        tmp_path / "qa.xlsx", [["question", "answer"], ["Hi", "Hello"], [None, None], ["Count?", 42.0], ["Hm", None]]
    )

    result = convert_to_chat_jsonl(src, tmp_path / "out.jsonl", mapping=MAPPING)

    assert [(e["code"], e["line"], e["column"]) for e in result.errors] == [("empty_cell", 5, "answer")]
    assert [row["messages"][1]["content"] for row in read_jsonl(result.path)] == ["Hello", "42"]


def test_json_arrays_are_streamed_and_errors_carry_lines(tmp_path):
    items = [{"question": f"Q{i}", "answer": f"A{i}"} for i in range(3)] + [{"question": "Q", "answer": {"x": 1}}]
    src = tmp_path / "qa.json"
    src.write_text("[\n" + ",\n".join(json.dumps(item) for item in items) + "\n]\n")

    result = convert_to_chat_jsonl(src, tmp_path / "out.jsonl", mapping=MAPPING, limits=Limits(max_line_bytes=64))

    assert result.n_examples == 3
    assert [(e["code"], e["line"], e["column"]) for e in result.errors] == [("content_not_string", 5, "answer")]


def test_a_truncated_json_array_writes_nothing(tmp_path):
    src = tmp_path / "qa.json"
    src.write_text('[{"question": "Q", "answer": "A"},\n {"question": "Q2", "ans')

    result = convert_to_chat_jsonl(src, tmp_path / "out.jsonl", mapping=MAPPING)

    assert result.path is None and not (tmp_path / "out.jsonl").exists()
    assert [(e["code"], e["line"]) for e in result.errors] == [("invalid_json", 2)]


def test_flat_jsonl_objects_convert_too(tmp_path):
    src = tmp_path / "qa.jsonl"
    src.write_text('{"question": "Q", "answer": "A"}\n{"question": "Q2"}\n')

    result = convert_to_chat_jsonl(src, tmp_path / "out.jsonl", mapping=MAPPING)

    assert result.n_examples == 1
    assert [(e["code"], e["line"], e["column"]) for e in result.errors] == [("unknown_column", 2, "answer")]


def test_preview_shows_columns_rows_and_a_suggested_mapping(tmp_path):
    src = xlsx(
        tmp_path / "qa.xlsx",
        [["Instructions", "Prompt", "Response", "id"]] + [["Be nice", f"Q{i}", f"A{i}", i] for i in range(9)],
    )

    shown = preview(src, n=3)

    assert shown.format == "xlsx" and shown.errors == []
    assert shown.columns == ["Instructions", "Prompt", "Response", "id"]
    assert shown.rows[2] == {"Instructions": "Be nice", "Prompt": "Q2", "Response": "A2", "id": "2"}
    assert shown.suggested_mapping == {"system": "Instructions", "user": "Prompt", "assistant": "Response"}
    assert json.dumps(shown.to_dict())


@pytest.mark.parametrize(
    ("name", "content", "declared", "code"),
    [
        ("data.csv", b"PK\x03\x04" + b"\x00" * 64, "csv", "binary_file"),
        ("data.xlsx", b"question,answer\nHi,Hello\n", "xlsx", "wrong_format"),
        ("data.csv", b'[{"question": "Hi"}]', "csv", "wrong_format"),
        ("data.csv", bytes(range(256)) * 8, None, "binary_file"),
        ("data.csv", b"", None, "empty_file"),
    ],
)
def test_content_sniffing_refuses_wrong_extensions_and_garbage(tmp_path, name, content, declared, code):
    src = tmp_path / name
    src.write_bytes(content)

    shown = preview(src, declared)
    result = convert_to_chat_jsonl(src, tmp_path / "out.jsonl", mapping=MAPPING, source_format=declared)

    assert [e["code"] for e in shown.errors] == [code]
    assert result.error_counts == {code: 1} and result.path is None


def test_a_workbook_saved_as_csv_is_detected(tmp_path):
    src = xlsx(tmp_path / "data.csv", [["question", "answer"], ["Hi", "Hello"]])

    result = convert_to_chat_jsonl(src, tmp_path / "out.jsonl", mapping=MAPPING, source_format="csv")

    assert result.error_counts == {"wrong_format": 1}
    assert "Excel" in result.errors[0]["message"]


def test_an_xlsx_zip_bomb_is_refused_before_parsing(tmp_path):
    src = xlsx(tmp_path / "bomb.xlsx", [["question", "answer"], ["Hi", "Hello"]])
    # 64 MiB of one repeated byte compresses ~1000:1 into the workbook's sheet
    with zipfile.ZipFile(src, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/media/padding.xml", b" " * (64 * 1024 * 1024))

    result = convert_to_chat_jsonl(src, tmp_path / "out.jsonl", mapping=MAPPING)

    assert result.error_counts == {"file_too_large": 1}
    assert "zip bomb" in result.errors[0]["message"]


def test_an_xlsx_over_the_size_limit_is_refused(tmp_path):
    src = xlsx(tmp_path / "big.xlsx", [["question", "answer"]] + [[f"Q{i}", f"A{i}"] for i in range(2000)])

    result = convert_to_chat_jsonl(
        src, tmp_path / "out.jsonl", mapping=MAPPING, limits=Limits(max_uncompressed_bytes=20_000)
    )

    assert result.error_counts == {"file_too_large": 1}


def test_row_limit(tmp_path):
    src = tmp_path / "qa.csv"
    src.write_text("question,answer\n" + "Hi,Hello\n" * 20)

    result = convert_to_chat_jsonl(src, tmp_path / "out.jsonl", mapping=MAPPING, limits=Limits(max_rows=10))

    assert [(e["code"], e["line"]) for e in result.errors] == [("too_many_rows", 12)]
    assert result.path is None


@pytest.mark.parametrize(("name", "content"), [("qa.csv", "question,answer\n"), ("qa.json", "[ ]")])
def test_a_file_without_data_rows_is_empty(tmp_path, name, content):
    src = tmp_path / name
    src.write_text(content)

    result = convert_to_chat_jsonl(src, tmp_path / "out.jsonl", mapping=MAPPING)

    assert result.error_counts == {"empty_file": 1} and result.path is None
