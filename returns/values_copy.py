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
from diaodu.returns.package import Package, text
from diaodu.returns.sheet_marks import MAIN_NS, REL_NS

NOT_XML_PATTERN = r"[\x00-\x08\x0B\x0C\x0E-\x1F\x{FFFE}\x{FFFF}]"  # as package.NOT_XML, for Polars
QUOTED_STYLE = 1
OFFICE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
TYPES = "application/vnd.openxmlformats-officedocument.spreadsheetml"
STYLES = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<styleSheet xmlns="{MAIN_NS}">'
          '<fonts count="1"><font><sz val="11"/><name val="等线"/><family val="2"/><charset val="134"/></font></fonts>'
          '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/>'
          '</fill></fills><borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
          '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
          '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
          '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" quotePrefix="1"/></cellXfs>'
          '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>')


def values_package(grids: list[RawGrid]) -> tuple[Package, dict[str, str]]:
    """A workbook of the grids' text, and each grid's sheet name in it (names Excel allows)."""
    names: dict[str, str] = {}
    used = {SUMMARY_SHEET}
    for grid in grids:
        names[grid.sheet_name] = _sheet_name(grid.sheet_name, used)
    sheets = "".join(f'<sheet name="{text(name, quote=True)}" sheetId="{n}" r:id="rId{n}"/>'
                     for n, name in enumerate(names.values(), 1))
    relationships = "".join(f'<Relationship Id="rId{n}" Type="{OFFICE}/worksheet" Target="worksheets/sheet{n}.xml"/>'
                            for n in range(1, len(grids) + 1))
    overrides = "".join(f'<Override PartName="/xl/worksheets/sheet{n}.xml" ContentType="{TYPES}.worksheet+xml"/>'
                        for n in range(1, len(grids) + 1))
    head = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    parts = {
        "[Content_Types].xml": f'{head}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                               f'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
                               f'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
                               f'<Override PartName="/xl/workbook.xml" ContentType="{TYPES}.sheet.main+xml"/>'
                               f'<Override PartName="/xl/styles.xml" ContentType="{TYPES}.styles+xml"/>'
                               f"{overrides}</Types>",
        "_rels/.rels": f'{head}<Relationships xmlns="{REL_NS}"><Relationship Id="rId1" '
                       f'Type="{OFFICE}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'{head}<workbook xmlns="{MAIN_NS}" xmlns:r="{OFFICE}"><bookViews><workbookView '
                           f'activeTab="0"/></bookViews><sheets>{sheets}</sheets></workbook>',
        "xl/_rels/workbook.xml.rels": f'{head}<Relationships xmlns="{REL_NS}">{relationships}<Relationship '
                                      f'Id="rIdStyles" Type="{OFFICE}/styles" Target="styles.xml"/></Relationships>',
        "xl/styles.xml": STYLES,
    }
    package = Package({name: xml.encode("utf-8") for name, xml in parts.items()})
    for n, grid in enumerate(grids, 1):
        package.write(f"xl/worksheets/sheet{n}.xml", _sheet_xml(grid))
    return package, names


def _sheet_xml(grid: RawGrid) -> str:
    row = pl.int_range(1, pl.len() + 1, dtype=pl.Int64).cast(pl.String)
    cells = []
    for column in grid.cells.columns:
        value = pl.col(column)
        letters = re.sub(r"\d", "", grid.cell_ref(column, 1) or "")
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
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{MAIN_NS}">'
            f"<sheetData>{body}</sheetData></worksheet>")


def _sheet_name(name: str, used: set[str]) -> str:
    clean = re.sub(r"[\[\]:*?/\\]", "_", name)[:28] or "表"
    candidate, counter = clean, 2
    while candidate in used:
        candidate, counter = f"{clean[:25]}_{counter}", counter + 1
    used.add(candidate)
    return candidate
