"""The briefing as one self-contained HTML page: inline CSS and SVG, nothing loaded from anywhere,
laid out to print on A4 (table headers repeat on every page, rows and charts never split).
Every text that came from a submission goes through html.escape."""

from __future__ import annotations

from html import escape
from typing import Any

from diaodu.dispatch.fonts import SANS, SERIF
from diaodu.dispatch.tables import Block, Column, Figure, KeyFigure, Paragraph, Section, Table, cell_text

CSS = f"""
@page {{ size: A4; margin: 13mm 12mm 14mm 12mm; }}
* {{ box-sizing: border-box; }}
html {{ -webkit-print-color-adjust: exact; print-color-adjust: exact; }}
body {{ font-family: {SANS}; font-size: 10pt; line-height: 1.5; color: #1a1a1a; margin: 0 auto;
        max-width: 186mm; padding: 6mm 0; background: #fff; }}
@media print {{ body {{ padding: 0; }} }}
.masthead {{ text-align: center; padding-bottom: 2.5mm; border-bottom: 2.2pt solid #c00000; }}
.masthead h1 {{ font-family: {SERIF}; color: #c00000; font-size: 19pt; line-height: 1.35; margin: 0;
                font-weight: 700; letter-spacing: 0.02em; }}
.masthead h1 .date {{ display: block; font-size: 13pt; letter-spacing: 0; }}
.rule {{ border-top: 0.6pt solid #c00000; margin-top: 0.8mm; }}
.meta {{ display: flex; justify-content: space-between; font-size: 8.5pt; color: #444; margin: 1.5mm 0 3mm; }}
h2 {{ font-size: 12.5pt; margin: 5mm 0 2mm; padding-left: 2.2mm; border-left: 3.5pt solid #c00000;
      break-after: avoid; page-break-after: avoid; }}
h3 {{ font-size: 10.5pt; margin: 3mm 0 1.2mm; break-after: avoid; page-break-after: avoid; }}
h3 .count {{ font-weight: normal; color: #555; font-size: 9pt; }}
p {{ margin: 1.2mm 0; text-align: justify; }}
p.lead {{ text-indent: 2em; }}
p.alert {{ border: 1.2pt solid #c00000; background: #fdecea; color: #b00000; font-weight: 700;
           padding: 1.8mm 3mm; break-inside: avoid; }}
p.note {{ color: #555; font-size: 8.5pt; }}
.figures {{ display: grid; grid-template-columns: repeat(4, 1fr); border: 0.8pt solid #999; margin: 2mm 0;
            break-inside: avoid; }}
.figure {{ padding: 1.5mm 2.5mm; border-right: 0.5pt solid #ccc; border-bottom: 0.5pt solid #ccc; }}
.figure:nth-child(4n) {{ border-right: none; }}
.figure .label {{ font-size: 8.5pt; color: #555; }}
.figure .value {{ font-size: 16pt; font-weight: 700; line-height: 1.2; }}
.figure .detail {{ font-size: 8pt; color: #555; }}
.figure.red .value {{ color: #c62828; }} .figure.yellow .value {{ color: #b07d00; }}
.figure.green .value {{ color: #2e7d32; }}
figure {{ margin: 2mm 0 3mm; break-inside: avoid; page-break-inside: avoid; }}
figcaption {{ font-size: 8pt; color: #666; text-align: center; }}
table {{ width: 100%; border-collapse: collapse; font-size: 8.3pt; line-height: 1.3; margin: 1mm 0 2mm; }}
thead {{ display: table-header-group; }}
tr {{ break-inside: avoid; page-break-inside: avoid; }}
th, td {{ border: 0.5pt solid #9a9a9a; padding: 1.1mm 1.4mm; vertical-align: top; }}
th {{ background: #eef1f5; font-weight: 700; text-align: center; white-space: nowrap; }}
td.num, td.date {{ text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }}
td.seq {{ text-align: center; color: #666; white-space: nowrap; }}
td.tag, td.flag {{ text-align: center; white-space: nowrap; }}
td.short {{ white-space: nowrap; }}
tr.red td:first-child {{ box-shadow: inset 2.5pt 0 0 #c62828; }}
tr.yellow td:first-child {{ box-shadow: inset 2.5pt 0 0 #f0b400; }}
.dot {{ display: inline-block; width: 7pt; height: 7pt; border-radius: 50%; margin-right: 2pt;
        vertical-align: -0.5pt; }}
.dot.红 {{ background: #c62828; }} .dot.黄 {{ background: #f0b400; }} .dot.绿 {{ background: #2e7d32; }}
.up {{ color: #2e7d32; }} .down {{ color: #c62828; }}
.more {{ font-size: 8.5pt; color: #555; margin: 0 0 2mm; }}
footer {{ margin-top: 6mm; padding-top: 1.5mm; border-top: 0.5pt solid #999; font-size: 8pt; color: #666; }}
"""

NUMERIC = {"int", "change", "rate", "points", "money"}


def _cell(value: Any, column: Column, report_year: int) -> str:  # a frame cell: its type follows column.kind
    kind = column.kind
    text = escape(cell_text(value, kind, report_year))
    if kind == "light" and value:
        return f'<td class="tag"><span class="dot {escape(value)}"></span>{text}</td>'
    if kind in ("change", "points") and value:
        return f'<td class="num {"up" if value > 0 else "down"}">{text}</td>'
    css = "num" if kind in NUMERIC else kind if kind in ("date", "flag") else "wide" if column.wide else "short"
    return f'<td class="{css}">{text}</td>'


def _table(table: Table, report_year: int) -> str:
    total = table.frame.height
    head = f'<h3>{escape(table.title)} <span class="count">（{total}）</span></h3>'
    if not total:
        return head + f'<p class="note">{escape(table.empty)}</p>'
    rows = table.records(table.html_rows)
    header = ("<th>序号</th>" if table.numbered else "") + "".join(
        f"<th>{escape(c.label)}</th>" for c in table.page_columns)
    body = []
    for number, record in enumerate(rows, start=1):
        cells = "".join(_cell(record[c.key], c, report_year) for c in table.page_columns)
        tone = f' class="{table.tone}"' if table.tone else ""
        seq = f'<td class="seq">{number}</td>' if table.numbered else ""
        body.append(f"<tr{tone}>{seq}{cells}</tr>")
    more = ""
    if len(rows) < total:
        more = (f'<p class="more">以上为前 {len(rows)} 项，共 {total} 项；完整清单见同目录 xlsx 附表'
                f"“{escape(table.sheet)}”。</p>")
    return (head + f'<table data-sheet="{escape(table.sheet)}"><thead><tr>{header}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table>" + more)


def _figures(figures: list[KeyFigure]) -> str:
    cells = []
    for f in figures:
        tone = f" {f.tone}" if f.tone else ""
        detail = f'<div class="detail">{escape(f.detail)}</div>' if f.detail else ""
        cells.append(f'<div class="figure{tone}"><div class="label">{escape(f.label)}</div>'
                     f'<div class="value">{escape(f.value)}</div>{detail}</div>')
    return f'<div class="figures">{"".join(cells)}</div>'


def _block(block: Block, report_year: int) -> str:
    if isinstance(block, Paragraph):
        css = {"alert": ' class="alert"', "note": ' class="note"', "lead": ' class="lead"'}.get(block.tone, "")
        return f"<p{css}>{escape(block.text)}</p>"
    if isinstance(block, Figure):
        # The SVG is generated here (dispatch.charts), its texts already escaped.
        return f"<figure>{block.svg}<figcaption>{escape(block.caption)}</figcaption></figure>"
    if isinstance(block, Table):
        return _table(block, report_year) if block.on_page else ""
    if isinstance(block, list):
        return _figures(block)
    raise TypeError(f"unknown block {type(block).__name__}")


def render_page(title: str, heading: str, date_line: str, meta_left: str, meta_right: str,
                alerts: list[Paragraph], sections: list[Section], footer: str, report_year: int) -> str:
    parts = [
        "<!DOCTYPE html>",
        '<html lang="zh-CN"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>",
        f'<header class="masthead"><h1>{escape(heading)}<span class="date">{escape(date_line)}</span></h1></header>',
        '<div class="rule"></div>',
        f'<div class="meta"><span>{escape(meta_left)}</span><span>{escape(meta_right)}</span></div>',
        *(_block(alert, report_year) for alert in alerts),
    ]
    for section in sections:
        parts.append(f"<section><h2>{escape(section.title)}</h2>")
        parts += [_block(block, report_year) for block in section.blocks]
        parts.append("</section>")
    parts.append(f"<footer>{escape(footer)}</footer></body></html>")
    return "\n".join(parts)
