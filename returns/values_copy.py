"""The workbook to annotate when there is none to keep (a .csv, or a workbook the editor cannot
change): the cells exactly as read, as text — a .csv has no types, and guessing them would change
what the clerk wrote (codes with leading zeros, 2023.1.5). Text Excel would run once edited (a
leading = + - @) is quoted. The sheet XML is built with Polars expressions: 1.1 M cells in well
under a second."""

from __future__ import annotations

import re

import polars as pl

from diaodu.intake.files import RawGrid
from diaodu.returns.listing import FORMULA_LEAD_PATTERN, SUMMARY_SHEET
from diaodu.returns.package import MAIN_NS, OFFICE_RELS_NS, XML_HEAD, Package, text

NOT_XML_PATTERN = r"[\x00-\x08\x0B\x0C\x0E-\x1F\x{FFFE}\x{FFFF}]"  # as package.NOT_XML, for Polars
QUOTED_STYLE = 1
TYPES = "application/vnd.openxmlformats-officedocument.spreadsheetml"
CONTENT_TYPES_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
STYLES = (f'{XML_HEAD}<styleSheet xmlns="{MAIN_NS}">'
          '<fonts count="1"><font><sz val="11"/><name val="等线"/><family val="2"/><charset val="134"/></font></fonts>'
          '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/>'
          '</fill></fills><borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
          '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
          '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
          '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" quotePrefix="1"/></cellXfs>'
          '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>')


def values_package(grids: list[RawGrid]) -> tuple[Package, dict[str, str]]:
    """A workbook of the grids' text, and each grid's sheet name in it (names Excel allows)."""
    package = Package({
        "[Content_Types].xml": f'{XML_HEAD}<Types xmlns="{CONTENT_TYPES_NS}"><Default Extension="rels" '
                               'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                               '<Default Extension="xml" ContentType="application/xml"/></Types>',
        "xl/styles.xml": STYLES,
    })
    package.add_relationship("", "officeDocument", "xl/workbook.xml")
    package.add_override("xl/workbook.xml", f"{TYPES}.sheet.main+xml")
    package.add_relationship("xl/workbook.xml", "styles", "xl/styles.xml")
    package.add_override("xl/styles.xml", f"{TYPES}.styles+xml")
    names: dict[str, str] = {}
    used = {SUMMARY_SHEET}
    sheets = []
    for number, grid in enumerate(grids, 1):
        names[grid.sheet_name] = name = _sheet_name(grid.sheet_name, used)
        part = f"xl/worksheets/sheet{number}.xml"
        package.write(part, _sheet_xml(grid))
        package.add_override(part, f"{TYPES}.worksheet+xml")
        rel_id = package.add_relationship("xl/workbook.xml", "worksheet", part)
        sheets.append(f'<sheet name="{text(name, quote=True)}" sheetId="{number}" r:id="{rel_id}"/>')
    package.write("xl/workbook.xml", f'{XML_HEAD}<workbook xmlns="{MAIN_NS}" xmlns:r="{OFFICE_RELS_NS}">'
                                     '<bookViews><workbookView activeTab="0"/></bookViews>'
                                     f'<sheets>{"".join(sheets)}</sheets></workbook>')
    return package, names


def _sheet_xml(grid: RawGrid) -> str:
    row = pl.int_range(1, pl.len() + 1, dtype=pl.Int64).cast(pl.String)
    cells = []
    for column in grid.cells.columns:
        value = pl.col(column)
        letters = grid.column_letters(column)
        escaped = (value.str.replace_all("&", "&amp;", literal=True).str.replace_all("<", "&lt;", literal=True)
                .str.replace_all(">", "&gt;", literal=True).str.replace_all(NOT_XML_PATTERN, "\ufffd"))
        quoted = value.str.contains(FORMULA_LEAD_PATTERN)
        style = pl.when(quoted).then(pl.lit(f' s="{QUOTED_STYLE}"')).otherwise(pl.lit(""))
        cells.append(pl.when(value.is_not_null()).then(pl.concat_str(
            pl.lit(f'<c r="{letters}'), row, pl.lit('"'), style, pl.lit(' t="inlineStr"><is><t xml:space="preserve">'),
            escaped, pl.lit("</t></is></c>"))))
    rows = grid.cells.select(pl.concat_str(pl.lit('<row r="'), row, pl.lit('">'),
                                           pl.concat_str(cells, ignore_nulls=True) if cells else pl.lit(""),
                                           pl.lit("</row>")).str.join(""))
    body = rows.item() if grid.cells.height else ""
    return (f'{XML_HEAD}<worksheet xmlns="{MAIN_NS}">'
            f"<sheetData>{body}</sheetData></worksheet>")


def _sheet_name(name: str, used: set[str]) -> str:
    clean = re.sub(r"[\[\]:*?/\\]", "_", name)[:28] or "表"
    candidate, counter = clean, 2
    while candidate in used:
        candidate, counter = f"{clean[:25]}_{counter}", counter + 1
    used.add(candidate)
    return candidate
