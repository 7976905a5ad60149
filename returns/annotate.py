"""The annotated return (…_退回标注.xlsx): for an .xlsx, the clerk's own workbook — values, types,
number formats, widths, merged cells, other sheets as they were — with a 问题清单 sheet first and
each bad cell marked; for a .csv (or a workbook this editor cannot change), a new workbook of the
values as text (`values_copy`), marked the same way.

A workbook that comes back annotated (the clerk fixed some cells and sent the copy again) loses
the earlier return's 问题清单 sheet, red fills and notes first: what it gets is this return's only.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import polars as pl

from diaodu.intake.files import RawGrid
from diaodu.returns.listing import (
    FORMULA_LEAD_PATTERN,
    SUMMARY_HEADERS,
    SUMMARY_SHEET,
    SUMMARY_WIDTHS,
    Annotation,
    notes_by_tab,
    summary_rows,
)
from diaodu.returns.package import (
    MAIN_NS,
    XML_HEAD,
    NotEditable,
    Package,
    attributes,
    element,
    prefix,
    set_attribute,
    text,
)
from diaodu.returns.sheet_marks import mark_cells, write_notes
from diaodu.returns.styles import Styles
from diaodu.returns.values_copy import values_package

WORKSHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
TAB_SELECTED = re.compile(r'\stabSelected="(?:1|true)"')


def write_annotated(path: Path, source: Path | None, findings: pl.DataFrame, grids: list[RawGrid]) -> Annotation:
    """`source`: the received bytes when they are an .xlsx to annotate in place."""
    if source is not None:
        try:
            return annotate_workbook(Package.open(source), path, findings, own_workbook=True)
        except (NotEditable, ValueError, KeyError, StopIteration):  # a layout this editor does not know
            pass
    package, sheet_names = values_package(grids)
    findings = findings.with_columns(pl.col("tab").replace(sheet_names))
    return annotate_workbook(package, path, findings, own_workbook=False)


def annotate_workbook(package: Package, target: Path, findings: pl.DataFrame, own_workbook: bool) -> Annotation:
    workbook = next(r.target for r in package.relationships("") if r.type == "officeDocument")
    styles = Styles(package, next(r.target for r in package.relationships(workbook) if r.type == "styles"))
    styles.clear_old_marks()
    sheets = _remove_summary(package, workbook)
    notes = notes_by_tab(findings)
    marked = noted = 0
    for name, part in sheets.items():
        cells = notes.get(name, {})
        if cells:
            package.write(part, mark_cells(package.read(part), list(cells), styles.marked))
            marked += len(cells)
        noted += write_notes(package, part, cells)  # also removes an earlier return's notes
    summary = _summary_sheet(findings, styles.header(), styles.quoted())
    styles.save()
    _insert_summary(package, workbook, summary, list(sheets.values()))
    package.save(target)
    return Annotation(own_workbook=own_workbook, marked=marked, noted=noted)


def _sheet_tags(xml: str) -> tuple[re.Match[str], list[str]]:
    p = re.escape(prefix(xml))
    sheets = re.search(rf"<{p}sheets\b[^>]*>(.*?)</{p}sheets>", xml, re.S)
    if sheets is None:
        raise NotEditable("workbook without sheets")
    return sheets, re.findall(rf"<{p}sheet\b[^>]*?/?>", sheets.group(1))


def _rel_id(tag: str) -> tuple[str, str]:
    """(attribute name, value) of a sheet tag's relationship id, e.g. ('r:id', 'rId1')."""
    return next((name, value) for name, value in attributes(tag).items() if name.endswith(":id"))


def _remove_summary(package: Package, workbook: str) -> dict[str, str]:
    """Removes an earlier return's 问题清单 sheet; returns the worksheets left, name → part."""
    xml = package.read(workbook)
    rels = {r.id: r for r in package.relationships(workbook)}
    _, tags = _sheet_tags(xml)
    names = [attributes(tag)["name"] for tag in tags]
    if SUMMARY_SHEET in names:
        index = names.index(SUMMARY_SHEET)
        tag = tags.pop(index)
        names.pop(index)
        rel = rels.pop(_rel_id(tag)[1])
        xml = xml.replace(tag, "", 1)
        xml = _renumber_local_names(xml, lambda old: None if old == index else old - (old > index))
        package.write(workbook, xml)
        package.remove_relationship(workbook, rel.id)
        package.remove(rel.target)
        package.parts.pop(package.rels_name(rel.target), None)
        for chain in [r for r in rels.values() if r.type == "calcChain"]:  # may name the sheet; Excel rebuilds it
            package.remove_relationship(workbook, chain.id)
            package.remove(chain.target)
    return {name: rels[_rel_id(tag)[1]].target for name, tag in zip(names, tags, strict=True)
            if rels[_rel_id(tag)[1]].type == "worksheet"}


def _renumber_local_names(xml: str, new_index: Callable[[int], int | None]) -> str:
    """Defined names that belong to one sheet (localSheetId, a position) follow their sheet; a
    name whose sheet is gone goes too."""
    def renumber(match: re.Match[str]) -> str:
        start, rest = match.group(0).split(">", 1)
        old = attributes(start).get("localSheetId")
        if old is None:
            return match.group(0)
        index = new_index(int(old))
        return "" if index is None else set_attribute(start + ">", "localSheetId", str(index)) + rest
    return element("definedName", prefix(xml)).sub(renumber, xml)


def _insert_summary(package: Package, workbook: str, summary: str, worksheets: list[str]) -> None:
    """The 问题清单 sheet first and the one shown on opening; sheet-local names shift by one."""
    part = package.free_name("xl/worksheets/sheet{}.xml")
    package.write(part, summary)
    package.add_override(part, WORKSHEET_TYPE)
    rel_id = package.add_relationship(workbook, "worksheet", part)
    xml = package.read(workbook)
    p = prefix(xml)
    sheets, tags = _sheet_tags(xml)
    sheet_id = max([int(attributes(tag).get("sheetId", 0)) for tag in tags] + [0]) + 1
    id_name = _rel_id(tags[0])[0] if tags else "r:id"
    tag = f'<{p}sheet name="{SUMMARY_SHEET}" sheetId="{sheet_id}" {id_name}="{rel_id}"/>'
    xml = xml[:sheets.start(1)] + tag + xml[sheets.start(1):]
    xml = _renumber_local_names(xml, lambda old: old + 1)
    xml = re.sub(rf"<{re.escape(p)}workbookView\b[^>]*?/?>",
                 lambda m: _first_tab(m.group(0)), xml)
    package.write(workbook, xml)
    for sheet in worksheets:  # one selected tab, else Excel opens them grouped
        _unselect(package, sheet)


def _unselect(package: Package, sheet: str) -> None:
    """Clears tabSelected in a worksheet's sheetViews, which come before its cells (decoded: the head only)."""
    data = package.parts[sheet]
    end = data.find(b"sheetData") if isinstance(data, bytes) else data.find("sheetData")
    head = data[:end if end >= 0 else len(data)]
    head_text = head.decode("utf-8") if isinstance(head, bytes) else head
    if TAB_SELECTED.search(head_text):
        unselected = TAB_SELECTED.sub("", head_text)
        rest = data[len(head):]
        package.parts[sheet] = unselected.encode("utf-8") + rest if isinstance(rest, bytes) else unselected + rest


def _first_tab(view: str) -> str:
    view = set_attribute(view, "activeTab", "0")
    return set_attribute(view, "firstSheet", "0") if "firstSheet=" in view else view


def _summary_sheet(findings: pl.DataFrame, header: int, quoted: int) -> str:
    rows = [_summary_row(1, SUMMARY_HEADERS, header, quoted)]
    rows += [_summary_row(number, values, None, quoted) for number, values in enumerate(summary_rows(findings), 2)]
    columns = "".join(f'<col min="{i}" max="{i}" width="{width}" customWidth="1"/>'
                      for i, width in enumerate(SUMMARY_WIDTHS, 1))
    return (f'{XML_HEAD}<worksheet xmlns="{MAIN_NS}"><sheetViews><sheetView tabSelected="1" workbookViewId="0">'
            '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/></sheetView></sheetViews>'
            f'<sheetFormatPr defaultRowHeight="15"/><cols>{columns}</cols><sheetData>{"".join(rows)}</sheetData>'
            '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/></worksheet>')


def _summary_row(number: int, values: list | tuple, style: int | None, quoted: int) -> str:
    cells = []
    for column, value in enumerate(values):
        ref = f"{chr(65 + column)}{number}"
        if value is None:
            continue
        if isinstance(value, int):
            cells.append(f'<c r="{ref}"><v>{value}</v></c>')
            continue
        value = str(value)
        cell_style = style if style is not None else (quoted if re.match(FORMULA_LEAD_PATTERN, value) else None)
        s = f' s="{cell_style}"' if cell_style is not None else ""
        cells.append(f'<c r="{ref}"{s} t="inlineStr"><is><t xml:space="preserve">{text(value)}</t></is></c>')
    return f'<row r="{number}">{"".join(cells)}</row>'
