"""Marks on one worksheet of a clerk's workbook: bad cells get the mark's cell format, and a note
(legacy comment, what Excel and WPS show on hover) by the return's author. Notes by that author
are the return's own: on a workbook that comes back they are removed first; the clerk's own notes
are kept, and a bad cell that already has one keeps it (the mark and 问题清单 still say it).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from diaodu.returns.package import (
    MAIN_NS,
    OFFICE_RELS_NS,
    XML_HEAD,
    NotEditable,
    Package,
    attributes,
    element,
    prefix,
    text,
)

AUTHOR = "调度退回标注"
MAX_NOTES = 2000  # notes are heavy in Excel; a file this bad is read from the 问题清单 sheet
COMMENTS_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.comments+xml"
VML_TYPE = "application/vnd.openxmlformats-officedocument.vmlDrawing"
CELL_REF = re.compile(r"([A-Z]+)(\d+)")
# CT_Worksheet's children that come after legacyDrawing: a new one goes before the first of them.
AFTER_LEGACY_DRAWING = ("legacyDrawingHF", "drawingHF", "picture", "oleObjects", "controls", "webPublishItems",
                        "tableParts", "extLst")


def column_number(letters: str) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - 64
    return number


def mark_cells(xml: str, refs: list[str], marked: Callable[[int], int]) -> str:
    """The sheet with each cell of `refs` given `marked(its format)`; cells or rows that are not in
    the file (a required cell left empty) are added, in order."""
    p = prefix(xml)
    opening = re.search(rf"<{re.escape(p)}sheetData\b[^>]*?(/?)>", xml)
    if opening is None:
        raise NotEditable("no sheetData")
    data_start = opening.end()
    if opening.group(1):  # <sheetData/>: opened and closed, rows go between
        data_start = opening.start() + len(f"<{p}sheetData>")
        xml = f"{xml[:opening.start()]}<{p}sheetData></{p}sheetData>{xml[opening.end():]}"
    data_end = xml.index(f"</{p}sheetData>", data_start)
    rows = {int(m.group(1)): m.start()
            for m in re.compile(rf'<{re.escape(p)}row\b[^>]*?\sr="(\d+)"').finditer(xml, data_start, data_end)}
    if len(rows) != xml.count(f"<{p}row", data_start, data_end):
        raise NotEditable("rows without a row number")
    wanted: dict[int, list[str]] = {}
    for ref in refs:
        wanted.setdefault(_row_column(ref)[0] + 1, []).append(ref)
    numbers = sorted(rows)
    edits: list[tuple[int, int, str]] = []
    for number, cells in wanted.items():
        if number not in rows:
            later = next((rows[n] for n in numbers if n > number), data_end)
            edits.append((later, later, f'<{p}row r="{number}">{_new_cells(p, cells, marked)}</{p}row>'))
            continue
        start = rows[number]
        tag_end = xml.index(">", start) + 1
        if xml[tag_end - 2] == "/":
            edits.append((start, tag_end, f"{xml[start:tag_end - 2].rstrip()}>{_new_cells(p, cells, marked)}</{p}row>"))
        else:
            edits += _cell_edits(xml, p, tag_end, xml.index(f"</{p}row>", tag_end), cells, marked)
    pieces, position = [], 0
    for start, end, replacement in sorted(edits, key=lambda edit: (edit[0], edit[1])):
        pieces += [xml[position:start], replacement]
        position = end
    return "".join([*pieces, xml[position:]])


def _new_cells(p: str, refs: list[str], marked: Callable[[int], int]) -> str:
    ordered = sorted(refs, key=lambda ref: _row_column(ref)[1])
    return "".join(f'<{p}c r="{ref}" s="{marked(0)}"/>' for ref in ordered)


def _cell_edits(xml: str, p: str, low: int, high: int, refs: list[str],
                marked: Callable[[int], int]) -> list[tuple[int, int, str]]:
    edits, missing = [], set(refs)
    starts: list[tuple[int, int]] = []  # (column number, position) of every cell of the row
    for cell in re.compile(rf"<{re.escape(p)}c\b[^>]*?>").finditer(xml, low, high):
        ref = attributes(cell.group(0)).get("r")
        if ref is None:
            raise NotEditable("a cell without a reference")
        starts.append((_row_column(ref)[1], cell.start()))
        if ref in missing:
            missing.discard(ref)
            style = int(attributes(cell.group(0)).get("s", "0"))
            edits.append((cell.start(), cell.end(), _with_style(cell.group(0), marked(style))))
    for ref in missing:
        column = _row_column(ref)[1]
        position = next((at for number, at in starts if number > column), high)
        edits.append((position, position, _new_cells(p, [ref], marked)))
    return edits


def _with_style(tag: str, style: int) -> str:
    if re.search(r'\ss="\d*"', tag):
        return re.sub(r'(\ss=")\d*(")', rf"\g<1>{style}\g<2>", tag, count=1)
    end = len(tag) - (2 if tag.endswith("/>") else 1)
    return f'{tag[:end]} s="{style}"{tag[end:]}'


def write_notes(package: Package, part: str, notes: dict[str, str]) -> int:
    """Replaces the return's notes on the worksheet `part` with `notes` (cell → text), keeping the
    clerk's own; returns how many of `notes` were written."""
    relationships = {r.id: r for r in package.relationships(part)}
    comments = next((r for r in relationships.values() if r.type == "comments"), None)
    authors, kept, removed = _existing_notes(package, comments.target) if comments else ([], [], [])
    if not notes and not removed:
        return 0
    xml = package.read(part)
    legacy = re.search(rf'<{re.escape(prefix(xml))}legacyDrawing\b[^>]*?\b(\w+:)?id="([^"]*)"[^>]*/>', xml)
    vml = relationships.get(legacy.group(2)) if legacy else None
    written = dict(list(((ref, note) for ref, note in notes.items() if ref not in kept))[:MAX_NOTES])
    if comments is None:
        target = package.free_name("xl/comments{}.xml")
        package.write(target, f'{XML_HEAD}<comments xmlns="{MAIN_NS}">'
                              "<authors></authors><commentList></commentList></comments>")
        package.add_override(target, COMMENTS_TYPE)
        package.add_relationship(part, "comments", target)
        comments = next(r for r in package.relationships(part) if r.type == "comments")
    _write_comments(package, comments.target, authors, kept, written)
    if vml is None:
        target = package.free_name("xl/drawings/vmlDrawing{}.vml")
        package.write(target, _VML_HEAD.format(block=len(package.parts)))
        package.add_default("vml", VML_TYPE)
        rel_id = package.add_relationship(part, "vmlDrawing", target)
        xml = _with_legacy_drawing(xml, rel_id)
        package.write(part, xml)
        vml = next(r for r in package.relationships(part) if r.id == rel_id)
    _write_shapes(package, vml.target, removed + list(written), written)
    return len(written)


def _existing_notes(package: Package, target: str) -> tuple[list[str], list[str], list[str]]:
    """(authors, cells of the clerk's notes, cells of the return's old notes) of a comments part."""
    xml = package.read(target)
    p = prefix(xml)
    authors = [re.sub(r"<[^>]*>", "", a) for a in element("author", p).findall(xml)]
    kept, removed = [], []
    for comment in element("comment", p).findall(xml):
        values = attributes(comment.split(">", 1)[0])
        index = int(values.get("authorId", "-1"))
        ours = 0 <= index < len(authors) and authors[index] == AUTHOR
        (removed if ours else kept).append(values.get("ref", ""))
    return authors, kept, removed


def _write_comments(package: Package, target: str, authors: list[str], kept: list[str],
                    written: dict[str, str]) -> None:
    xml = package.read(target)
    p = prefix(xml)
    if AUTHOR not in authors:
        author = f"<{p}author>{AUTHOR}</{p}author>"
        xml = re.sub(rf"<{re.escape(p)}authors/>", f"<{p}authors></{p}authors>", xml, count=1)
        xml = xml.replace(f"</{p}authors>", author + f"</{p}authors>", 1)
        authors = [*authors, AUTHOR]
    theirs = [c for c in element("comment", p).findall(xml) if attributes(c.split(">", 1)[0]).get("ref") in kept]
    ours = [f'<{p}comment ref="{ref}" authorId="{authors.index(AUTHOR)}"><{p}text><{p}t xml:space="preserve">'
            f"{text(note)}</{p}t></{p}text></{p}comment>" for ref, note in written.items()]
    listing = f"<{p}commentList>{''.join(theirs + ours)}</{p}commentList>"
    xml = re.sub(rf"<{re.escape(p)}commentList\b[^>]*?(?:/>|>.*?</{re.escape(p)}commentList>)",
                 lambda _: listing, xml, count=1, flags=re.S)
    package.write(target, xml)


def _with_legacy_drawing(xml: str, rel_id: str) -> str:
    p = prefix(xml)
    declared = re.search(rf'xmlns:(\w+)="{OFFICE_RELS_NS}"', xml[:4096])
    id_attribute = (f'{declared.group(1)}:id="{rel_id}"' if declared
                    else f'xmlns:rl="{OFFICE_RELS_NS}" rl:id="{rel_id}"')
    tag = f"<{p}legacyDrawing {id_attribute}/>"
    tail_start = max(xml.rfind(f"</{p}sheetData>"), 0)  # rfind: the tail, not 40 MB of cells
    later = [at for name in AFTER_LEGACY_DRAWING if (at := xml.find(f"<{p}{name}", tail_start)) >= 0]
    position = min(later) if later else xml.rindex(f"</{p}worksheet>")
    return xml[:position] + tag + xml[position:]


_SHAPE_TYPE = (
    '<v:shapetype id="_x0000_t202" coordsize="21600,21600" o:spt="202" path="m,l,21600r21600,l21600,xe">'
    '<v:stroke joinstyle="miter"/><v:path gradientshapeok="t" o:connecttype="rect"/></v:shapetype>')
_VML_HEAD = (
    '<xml xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" '
    'xmlns:x="urn:schemas-microsoft-com:office:excel"><o:shapelayout v:ext="edit"><o:idmap v:ext="edit" '
    'data="{block}"/></o:shapelayout>' + _SHAPE_TYPE + "</xml>")


def _write_shapes(package: Package, target: str, replaced: list[str], written: dict[str, str]) -> None:
    """The VML drawing with the note shapes of `replaced` cells removed and one added per note."""
    xml = package.read(target)
    at = {_row_column(ref) for ref in replaced}

    def keep(shape: re.Match[str]) -> str:
        row = re.search(r"<x:Row>(\d+)</x:Row>", shape.group(0))
        column = re.search(r"<x:Column>(\d+)</x:Column>", shape.group(0))
        if 'ObjectType="Note"' not in shape.group(0) or row is None or column is None:
            return shape.group(0)
        return "" if (int(row.group(1)), int(column.group(1))) in at else shape.group(0)

    xml = re.sub(r"<v:shape\b[^>]*>.*?</v:shape>", keep, xml, flags=re.S)
    if 'id="_x0000_t202"' not in xml:
        xml = re.sub(r"(<xml\b[^>]*>)", lambda m: m.group(1) + _SHAPE_TYPE, xml, count=1)
    first = max([int(n) for n in re.findall(r'id="_x0000_s(\d+)"', xml)] + [1024 * (len(package.parts) + 1)]) + 1
    shapes = [_shape(first + number, *_row_column(ref)) for number, ref in enumerate(written)]
    package.write(target, xml.replace("</xml>", "".join(shapes) + "</xml>", 1))


def _row_column(ref: str) -> tuple[int, int]:
    """0-based (row, column) of a cell reference such as D12 (as VML notes count them)."""
    found = CELL_REF.fullmatch(ref)
    if found is None:
        raise NotEditable(f"not a cell reference: {ref}")
    return int(found.group(2)) - 1, column_number(found.group(1)) - 1


def _shape(shape_id: int, row: int, column: int) -> str:
    return (f'<v:shape id="_x0000_s{shape_id}" type="#_x0000_t202" style="position:absolute;margin-left:80pt;'
            'margin-top:2pt;width:240pt;height:80pt;z-index:1;visibility:hidden" fillcolor="#ffffe1" '
            'o:insetmode="auto"><v:fill color2="#ffffe1"/><v:shadow on="t" color="black" obscured="t"/>'
            '<v:path o:connecttype="none"/><v:textbox style="mso-direction-alt:auto"><div style="text-align:left">'
            '</div></v:textbox><x:ClientData ObjectType="Note"><x:MoveWithCells/><x:SizeWithCells/>'
            f"<x:Anchor>{column + 1}, 15, {max(row - 1, 0)}, 10, {column + 5}, 15, {row + 4}, 4</x:Anchor>"
            f"<x:AutoFill>False</x:AutoFill><x:Row>{row}</x:Row><x:Column>{column}</x:Column></x:ClientData>"
            "</v:shape>")
