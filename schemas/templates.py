"""Blank templates for units, generated from the Pandera models: the headers, the allowed values
as drop-down lists, and a notes sheet (填报说明) that reads like the contract."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import xlsxwriter
from xlsxwriter.format import Format

from diaodu.schemas.models import PROBLEM, PROCEDURE, PROJECT, REPLY, SheetSpec

TEMPLATE_ROWS = 1000
TEMPLATES = {
    "县区园区报送模板.xlsx": (PROJECT, PROCEDURE, PROBLEM, REPLY),
    "部办局报送模板.xlsx": (PROCEDURE,),
}


def allowed_values(spec: SheetSpec, field: str) -> list[str] | None:
    column = spec.columns[field]
    if column.dtype.type == pl.Boolean:
        return ["是", "否"]
    return next((list(check.statistics["allowed_values"]) for check in column.checks if check.name == "isin"), None)


def write_templates(out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    return [_write(out_dir / name, specs) for name, specs in TEMPLATES.items()]


def _write(path: Path, specs: tuple[SheetSpec, ...]) -> Path:
    workbook = xlsxwriter.Workbook(path, {"strings_to_formulas": False, "strings_to_urls": False})
    title = workbook.add_format({"bold": True, "font_size": 14, "align": "center"})
    header = workbook.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True})
    required_header = workbook.add_format({"bold": True, "bg_color": "#FCE4D6", "border": 1, "text_wrap": True})
    date_format = workbook.add_format({"num_format": "yyyy-mm-dd"})
    for spec in specs:
        sheet = workbook.add_worksheet(spec.name)
        fields = list(spec.columns)
        sheet.merge_range(0, 0, 0, len(fields) - 1, f"百日攻坚项目前期手续台账（{spec.name}）", title)
        sheet.write_string(1, 0, "填报单位：          填报日期：    年  月  日")
        for index, field in enumerate(fields):
            required = field in spec.required_fields and not spec.columns[field].nullable
            sheet.write_string(2, index, spec.header(field), required_header if required else header)
            sheet.set_column(index, index, max(12, 2 * len(spec.header(field)) + 2),
                             date_format if spec.columns[field].dtype.type == pl.Date else None)
            choices = allowed_values(spec, field)
            if choices:
                sheet.data_validation(3, index, 3 + TEMPLATE_ROWS, index, {
                    "validate": "list", "source": choices,
                    "error_title": "请从下拉列表选择", "error_message": "只能填写：" + "、".join(choices),
                })
        sheet.freeze_panes(3, 0)
    _write_notes(workbook, specs, header)
    workbook.close()
    return path


NOTES_HEADER = ["表", "列", "是否必填", "可选值", "说明", "也接受的列名"]


def column_notes(spec: SheetSpec) -> list[list[str]]:
    """One row per column of a sheet (NOTES_HEADER): what the 填报说明 sheet and
    docs/submission-contract.md tell a clerk about it."""
    rows = []
    for field, column in spec.columns.items():
        if field not in spec.required_fields:
            required = "选填（可不设此列）"
        else:
            required = "按规则" if column.nullable else "必填"
        choices = allowed_values(spec, field)
        rows.append([
            spec.name, column.title, required, "、".join(choices) if choices else "",
            column.description or "", "、".join((column.metadata or {}).get("aliases", [])),
        ])
    return rows


def _write_notes(workbook: xlsxwriter.Workbook, specs: tuple[SheetSpec, ...], header: Format) -> None:
    notes = workbook.add_worksheet("填报说明")
    notes.write_row(0, 0, NOTES_HEADER, header)
    row = 1
    for spec in specs:
        for values in column_notes(spec):
            notes.write_row(row, 0, values)
            row += 1
    row += 1
    for line in (
        "1. 每个文件只对应一个填报日期，写在表头上方“填报日期：2023年1月29日”一行，或增加“填报日期”列。",
        "2. 日期可写 2023-01-29、2023/1/29、2023年1月29日；金额单位为万元，也可写“3亿元”“3,000万元”。",
        "3. 县区、园区每次报送本单位完整台账；同一填报日期再次报送，以新文件为准。",
        "4. 有问题的行会退回，并在回执和标注文件中说明原因；其他行正常接收。",
        "5. 收到督办单的单位，在下次报送时填写“督办回复”表，逐项回复督办单所列事项；未收到督办单的可删去该表。",
    ):
        notes.write_string(row, 0, line)
        row += 1
    notes.set_column(0, 1, 14)
    notes.set_column(2, 3, 22)
    notes.set_column(4, 5, 40)
