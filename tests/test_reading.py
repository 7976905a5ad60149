"""Reading what people really send: encodings, title rows, aliases, messy cells, unreadable files."""

from __future__ import annotations

import csv
import io
from datetime import date

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from diaodu.ingest.judge import SubmissionContext, judge
from diaodu.intake.cells import as_amount, as_date, clean_text
from diaodu.intake.files import FileRejected, _csv_cells, read_grids
from diaodu.intake.sheets import locate
from diaodu.schemas import reference
from tests.conftest import PROCEDURE_HEADER, write_csv

LS = SubmissionContext(reference.units()["LS"], date(2023, 1, 29), "211400")


def typed(function, values: list[str | None]) -> list:
    frame = pl.DataFrame({"raw": values}, schema={"raw": pl.String})
    return frame.select(function(clean_text("raw"))).to_series().to_list()


def test_dates_as_people_write_them():
    values = ["2023-01-29", "2023/1/29", "2023.1.29", "2023年1月29日", "２０２３年１月２９日", "44955",
              "2023-01-29 00:00:00", " 2023-1-29\n", "20230129"]
    assert typed(as_date, values) == [date(2023, 1, 29)] * len(values)
    assert typed(as_date, ["2023-02-30", "下周", "12", None]) == [None] * 4


def test_amounts_to_wan_yuan():
    assert typed(as_amount, ["3亿元", "3亿", "30000", "3,000万元", "１２.５亿", "2.5 亿"]) == [
        30000.0, 30000.0, 30000.0, 3000.0, 125000.0, 25000.0]
    assert typed(as_amount, ["三亿", "3亿美元", None]) == [None, None, None]


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8", "utf-8-sig"])
def test_csv_encodings_are_detected_and_decoded_strictly(tmp_path, encoding):
    path = write_csv(tmp_path / "连山区手续.csv", [
        ["连山区百日攻坚项目前期手续台账"], ["填报单位：连山区  填报日期：2023年1月29日"], PROCEDURE_HEADER,
        ["2022-211402-26-03-000001", "节能审查", "是", "办理中", "2023-02-10", "", "", ""],
    ], encoding=encoding)
    (grid,) = read_grids(path, 10**7, path.name)
    sheet = locate(grid)
    assert sheet.spec.name == "手续" and sheet.header_row == 3
    assert sheet.report_dates == [date(2023, 1, 29)] and sheet.unit_names == ["连山区"]
    judgement = judge(sheet, LS)
    assert judgement.findings.is_empty()
    assert judgement.accepted.select("procedure", "status").row(0) == ("能评", "正办理")


def test_bytes_that_fit_no_encoding_are_returned_with_their_position(tmp_path):
    path = tmp_path / "坏.csv"
    path.write_bytes("项目代码,手续类型\n".encode() + b"\x81\xff\xfe\n")
    with pytest.raises(FileRejected) as rejected:
        read_grids(path, 10**7, path.name)
    assert rejected.value.rule == "file.encoding" and "第 2 行" in rejected.value.detail


@pytest.mark.parametrize(("name", "content", "rule"), [
    ("空.csv", b"", "file.empty"),
    ("旧表.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "file.old_xls"),
    ("加密.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "file.unreadable"),
    ("坏.xlsx", b"PK\x03\x04 this is not really a zip", "file.unreadable"),
    ("说明.docx", b"PK\x03\x04", "file.unsupported_type"),
])
def test_unreadable_files_become_findings_not_crashes(tmp_path, name, content, rule):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(FileRejected) as rejected:
        read_grids(path, 10**7, name)
    assert rejected.value.rule == rule


def test_missing_required_column_names_the_columns(tmp_path):
    path = write_csv(tmp_path / "手续.csv", [["项目代码", "手续类型", "办理状态"], ["2022-211402-26-03-000001", "立项", "待办"]])
    (grid,) = read_grids(path, 10**7, path.name)
    with pytest.raises(FileRejected) as rejected:
        locate(grid)
    assert rejected.value.rule == "file.missing_columns" and "是否应办" in rejected.value.detail


def test_cell_findings_name_row_column_value_and_rule(tmp_path):
    path = write_csv(tmp_path / "手续.csv", [["填报日期：2023-01-29"], PROCEDURE_HEADER,
        ["2022-211402-26-03-000001", "立项", "是", "已办结", "", "2023-01-20", "2023-01-10", ""],
        ["2022-211402-26-03-000001", "能评", "是", "正办理", "", "", "", ""],
        ["2022-211402-26-03-000001", "环评", "是", "已办结", "", "", "下月", ""]])
    (grid,) = read_grids(path, 10**7, path.name)
    findings = judge(locate(grid), LS).findings
    got = set(findings.select("row_number", "column_name", "rule").iter_rows())
    assert got == {
        (3, "受理日期", "procedure.accepted_after_completed"),
        (4, "承诺办结日期", "procedure.promised_required"),
        (5, "办结日期", "cell.format.date"),
    }
    assert findings.filter(pl.col("row_number") == 3)["cell"].item() == "F3"
    assert "不能晚于" in findings.filter(pl.col("row_number") == 3)["message"].item()


def test_a_time_limit_in_working_days_gives_the_promised_date(tmp_path):
    header = ["项目代码", "手续类型", "是否应办", "办理状态", "受理日期", "承诺时限"]
    path = write_csv(tmp_path / "手续.csv", [["填报日期：2023-01-29"], header,
        ["2022-211402-26-03-000001", "环评", "是", "正办理", "2023-01-20", "3个工作日"],   # across 春节 and 调休
        ["2022-211402-26-03-000001", "能评", "是", "正办理", "", "20"],
        ["2022-211402-26-03-000001", "安评", "是", "正办理", "2023-01-20", "二十天"]])
    (grid,) = read_grids(path, 10**7, path.name)
    judgement = judge(locate(grid), LS)
    assert judgement.accepted.select("procedure", "promised_date").rows() == [("环评", date(2023, 1, 30))]
    assert set(judgement.findings.select("row_number", "column_name", "rule").iter_rows()) == {
        (4, "承诺时限", "procedure.time_limit_needs_accepted"), (5, "承诺时限", "cell.format.integer"),
        (5, "承诺办结日期", "procedure.promised_required")}


def _fields(frame: pl.DataFrame) -> list[list[str]]:
    """Rows of non-empty fields up to the last one: the two CSV readers differ only in padding and in
    "" versus null for an empty field, which nothing downstream tells apart."""
    rows = [[cell or "" for cell in row] for row in frame.iter_rows()]
    return [row[:max((i + 1 for i, cell in enumerate(row) if cell), default=0)] for row in rows]


CSV_FIELD = st.one_of(st.text(alphabet='ab,"\n\r 填报：2０２3-', max_size=6), st.sampled_from(["", "已办结", "1.5亿元"]))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(CSV_FIELD, min_size=1, max_size=6), min_size=1, max_size=8))
def test_the_fast_csv_reader_reads_what_pythons_csv_module_reads(rows):
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerows(rows)
    text = buffer.getvalue()
    expected = [[cell for cell in row] for row in csv.reader(io.StringIO(text, newline=""))]
    expected = [row[:max((i + 1 for i, cell in enumerate(row) if cell), default=0)] for row in expected]
    assert _fields(_csv_cells(text)) == expected


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet='ab,"\n\r 填', max_size=40))
def test_any_text_reads_as_pythons_csv_module_reads_it(text):
    expected = [row[:max((i + 1 for i, cell in enumerate(row) if cell), default=0)]
                for row in csv.reader(io.StringIO(text, newline=""))]
    fields = _fields(_csv_cells(text))
    assert fields == expected or (not any(expected) and not any(fields))  # blank either way


def test_stray_quotes_do_not_swallow_the_next_row():
    text = 'h1,h2\nA1,"a"b"c\nA2,d"\nA3,e\n'
    assert _fields(_csv_cells(text)) == [["h1", "h2"], ["A1", 'ab"c'], ["A2", 'd"'], ["A3", "e"]]


def test_a_quoted_line_break_is_one_cell():
    frame = _csv_cells('项目代码,备注\n2022-211402-26-03-000001,"第一行\n第二行,含逗号"\n')
    assert frame.row(1)[:2] == ("2022-211402-26-03-000001", "第一行\n第二行,含逗号")
