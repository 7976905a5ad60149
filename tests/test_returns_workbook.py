"""The annotated return is the clerk's own workbook with marks added, and a copy that comes back is
marked afresh; receipts and notices say exactly what was done and name what they are about."""

from __future__ import annotations

import io
import shutil
import zipfile
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill

from tests.conftest import query
from tests.corpus import LS_A, LS_B, PROCEDURE, csv_bytes, dated, drop, ingest, procedure

DATE_FORMAT = 'yyyy"年"m"月"d"日"'
RED = "FFC7CE"


def clerks_workbook() -> bytes:
    """A county's 手续 sheet as a clerk keeps it: a merged, styled title row, real date cells in a
    Chinese date format, widths, a note of their own, and a second sheet nobody asked for."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "手续"
    title, dateline = dated()
    sheet.append(title)
    sheet.merge_cells("A1:J1")
    sheet["A1"].font = Font(bold=True, size=16)
    sheet.append(dateline)
    sheet.append(PROCEDURE)
    sheet.append([LS_A, "立项", "是", "已办结", None, None, date(2023, 1, 20), "葫发改备〔2023〕1号", "备案", None])
    sheet.append([LS_A, "能评", "是", "已办结", date(2023, 2, 10), None, date(2023, 2, 3), None, None, None])  # G5 late
    sheet.append([LS_B, "环评", "是", "正办理", "2023-02-30", None, None, None, None, None])  # E6 no such day
    for row in sheet.iter_rows(min_row=4, min_col=5, max_col=7):
        for cell in row:
            cell.number_format = DATE_FORMAT
    sheet.column_dimensions["A"].width = 28
    sheet.column_dimensions["H"].width = 24
    sheet["H4"].comment = Comment("文号待核", "张三")
    notes = workbook.create_sheet("说明")
    notes.append(["本表由连山区发改局填报", 12.5])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def submit(data_dir: Path, name: str, content: bytes, unit: str = "LS") -> tuple[str, Path]:
    """Drops a file, runs ingest; returns (submission id, 连山区's outbox)."""
    drop(data_dir, unit, name, content)
    assert ingest(data_dir).success
    (submission_id,), = query(data_dir, "SELECT submission_id FROM core.submission ORDER BY seq DESC LIMIT 1")
    return submission_id, data_dir / "outbox" / "LS"


def returned(outbox: Path, submission_id: str, kind: str = "退回标注.xlsx") -> list[Path]:
    return list(outbox.glob(f"*{submission_id}_{kind}"))


def is_marked(cell) -> bool:
    return cell.fill.fill_type == "solid" and cell.fill.fgColor.rgb.endswith(RED)


@pytest.fixture
def data_dir(baseline, tmp_path) -> Path:
    data_dir = tmp_path / "data"
    shutil.copytree(baseline, data_dir)
    return data_dir


def test_the_returned_copy_is_the_clerks_workbook_with_marks(data_dir):
    submission_id, outbox = submit(data_dir, "连山区台账.xlsx", clerks_workbook())
    cells = set(query(data_dir, "SELECT cell FROM core.finding WHERE submission_id = ? AND severity = 'error'",
                      [submission_id]))
    assert cells == {("G5",), ("E6",)}
    (annotated,) = returned(outbox, submission_id)
    workbook = openpyxl.load_workbook(annotated)
    assert workbook.sheetnames == ["问题清单", "手续", "说明"] and workbook.active.title == "问题清单"
    sheet = workbook["手续"]
    assert sheet["G4"].value == datetime(2023, 1, 20) and sheet["G4"].number_format == DATE_FORMAT
    assert sheet["G5"].value == datetime(2023, 2, 3) and sheet["G5"].number_format == DATE_FORMAT  # marked: a date
    assert sheet.column_dimensions["A"].width == 28 and sheet.column_dimensions["H"].width == 24
    assert "A1:J1" in {str(merged) for merged in sheet.merged_cells.ranges} and sheet["A1"].font.b
    assert [is_marked(sheet[ref]) for ref in ("G5", "E6", "G4", "A5")] == [True, True, False, False]
    assert "晚于填报日期" in sheet["G5"].comment.text and sheet["E6"].comment is not None
    assert sheet["H4"].comment.text == "文号待核"  # the clerk's own note stays
    assert [list(row) for row in workbook["说明"].values] == [["本表由连山区发改局填报", 12.5]]
    listing = list(workbook["问题清单"].values)
    assert listing[0][:4] == ("表", "工作表", "单元格", "行号") and {row[2] for row in listing[1:]} == {"G5", "E6"}
    receipt = returned(outbox, submission_id, "回执.txt")[0].read_text(encoding="utf-8-sig")
    assert "即您报送的工作簿" in receipt and "2 个问题单元格已标红并附批注" in receipt


def test_a_copy_returned_twice_has_one_list_and_only_the_current_marks(data_dir):
    first_id, outbox = submit(data_dir, "连山区台账.xlsx", clerks_workbook())
    (first,) = returned(outbox, first_id)
    workbook = openpyxl.load_workbook(first)  # the clerk fixes E6 in the returned copy, leaves G5, adds a fill
    workbook["手续"]["E6"] = "2023-02-28"
    workbook["手续"]["J4"].fill = PatternFill("solid", fgColor="FFFF00")
    buffer = io.BytesIO()
    workbook.save(buffer)
    second_id, _ = submit(data_dir, "连山区台账（已改）.xlsx", buffer.getvalue())
    (second,) = returned(outbox, second_id)
    workbook = openpyxl.load_workbook(second)
    assert workbook.sheetnames == ["问题清单", "手续", "说明"]
    assert {row[2] for row in list(workbook["问题清单"].values)[1:]} == {"G5"}
    sheet = workbook["手续"]
    assert is_marked(sheet["G5"]) and not is_marked(sheet["E6"]) and sheet["E6"].comment is None
    assert sheet["J4"].fill.fgColor.rgb.endswith("FFFF00")  # the clerk's own fill stays
    assert sheet["G5"].comment.text.count("晚于填报日期") == 1
    assert sheet["H4"].comment.text == "文号待核"
    # The same copy sent again untouched: still one list, the same marks.
    third_id, _ = submit(data_dir, "连山区台账（再报）.xlsx", second.read_bytes())
    (third,) = returned(outbox, third_id)
    workbook = openpyxl.load_workbook(third)
    assert workbook.sheetnames == ["问题清单", "手续", "说明"]
    assert [is_marked(workbook["手续"][ref]) for ref in ("G5", "E6")] == [True, False]


def test_a_file_returned_whole_gets_no_copy_and_its_receipt_claims_no_marks(data_dir):
    submission_id, outbox = submit(data_dir, "台账.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512)
    assert not returned(outbox, submission_id)
    receipt = returned(outbox, submission_id, "回执.txt")[0].read_text(encoding="utf-8-sig")
    assert "xlsx" in receipt and "标注" not in receipt and "标红" not in receipt


def test_a_csv_gets_a_copy_of_its_text_and_the_receipt_says_so(data_dir):
    content = csv_bytes(dated() + [PROCEDURE, procedure(LS_A, "能评", status="已办结", completed="2023-02-03"),
                                   procedure("=1+2", "立项", number="@SUM(1)")])
    submission_id, outbox = submit(data_dir, "连山区手续[1].csv", content)
    (annotated,) = returned(outbox, submission_id)
    workbook = openpyxl.load_workbook(annotated)
    assert workbook.sheetnames == ["问题清单", "连山区手续_1_"]
    sheet = workbook["连山区手续_1_"]
    assert sheet["G4"].value == "2023-02-03" and is_marked(sheet["G4"]) and "晚于" in sheet["G4"].comment.text
    assert sheet["A3"].value == "项目代码" and not is_marked(sheet["A3"])
    # Text Excel would run once edited is quoted: the clerk's, and ours in 问题清单.
    assert [(sheet[ref].value, sheet[ref].data_type, sheet[ref].quotePrefix, is_marked(sheet[ref]))
            for ref in ("A5", "H5")] == [("=1+2", "s", True, True), ("@SUM(1)", "s", True, False)]
    listed = [row for row in workbook["问题清单"].iter_rows(min_row=2) if row[2].value == "A5"]
    assert listed and all(row[5].value == "=1+2" and row[5].quotePrefix for row in listed)
    with zipfile.ZipFile(annotated) as parts:  # a package Excel opens: .rels in their own namespace
        rels = [parts.read(name) for name in parts.namelist() if name.endswith(".rels")]
    assert len(rels) == 3 and all(b'xmlns="http://schemas.openxmlformats.org/package/2006/relationships"' in r
                                  for r in rels)
    receipt = returned(outbox, submission_id, "回执.txt")[0].read_text(encoding="utf-8-sig")
    assert "单元格均为文本" in receipt


def test_a_verification_notice_names_the_project(data_dir):
    content = csv_bytes(dated(unit="市发改委") + [PROCEDURE, procedure(
        LS_A, "立项", status="已办结", completed="2023-01-21", number="葫发改备〔2023〕1号", mode="备案")])
    submission_id, outbox = submit(data_dir, "发改委手续.csv", content, unit="FGW")
    (notice,) = outbox.glob(f"*{submission_id}_调度核实通知.txt")
    assert f"项目“测试项目”（{LS_A}）“立项”手续" in notice.read_text(encoding="utf-8-sig")


def test_marks_reach_cells_and_rows_the_file_does_not_have():
    """A required cell left empty is often not in the file at all: it is added, in order."""
    from diaodu.returns.sheet_marks import mark_cells

    xml = ('<worksheet xmlns="main"><sheetData><row r="2"><c r="A2" s="3"><v>1</v></c><c r="C2"/></row>'
           '<row r="5" ht="20"/></sheetData></worksheet>')
    marked = mark_cells(xml, ["B2", "A2", "D5", "B4"], lambda style: 100 + style)
    assert marked == ('<worksheet xmlns="main"><sheetData><row r="2"><c r="A2" s="103"><v>1</v></c>'
                      '<c r="B2" s="100"/><c r="C2"/></row><row r="4"><c r="B4" s="100"/></row>'
                      '<row r="5" ht="20"><c r="D5" s="100"/></row></sheetData></worksheet>')
    assert mark_cells('<worksheet><sheetData/></worksheet>', ["A1"], lambda style: 7) == (
        '<worksheet><sheetData><row r="1"><c r="A1" s="7"/></row></sheetData></worksheet>')
