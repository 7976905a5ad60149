"""Writes the generated parts of docs/*.md from what they describe, so the docs cannot drift.

Each generated part sits between `<!-- generated: NAME -->` and `<!-- end generated -->`; the rest of a
page is written by hand. `python -m docs.generate` (from the repository root) rewrites every part;
tests/test_docs.py fails while a page differs from what this writes.

Sources: the Pandera models and the template notes (schemas/models.py, schemas/templates.py), the
reference data (schemas/reference/*.csv), the cell readers (intake/cells.py), the findings document
(returns/receipts.py), and for the warehouse a fresh in-memory warehouse built by `apply_schema`: its
mart views, their columns, types and comments, and each view's .sql header comment (warehouse/mart/).
"""

from __future__ import annotations

import json
import re
import string
import sys
from collections.abc import Callable, Sequence
from datetime import date, datetime
from pathlib import Path

import duckdb
import polars as pl

from diaodu.intake.cells import as_amount, as_date, as_workdays, as_yes_no, clean_text
from diaodu.returns.receipts import findings_document
from diaodu.schemas import reference
from diaodu.schemas.findings import build_findings
from diaodu.schemas.models import PROBLEM, PROCEDURE, PROJECT, REPLY, SHEETS, SheetSpec
from diaodu.schemas.templates import NOTES_HEADER, column_notes
from diaodu.warehouse.merge import SubmissionRecord
from diaodu.warehouse.store import SQL_DIR, apply_schema

DOCS_DIR = Path(__file__).resolve().parent
BLOCK = re.compile(r"(<!-- generated: (?P<name>[\w-]+) -->\n)(?P<body>.*?)(<!-- end generated -->)", re.DOTALL)

# ---------------------------------------------------------------- submission contract (报送规范)

KIND_LABELS = {"county": "县区", "park": "园区", "bureau": "部办局"}
DTYPE_LABELS = {"Date": "日期", "Float64": "金额（万元）", "Boolean": "是/否", "Int64": "工作日数", "String": "文字"}
# Findings that tell without returning anything; every other `file.*` rule returns the whole file,
# every other rule the row. A new warning rule must be added here (the receipts show the difference).
WARNING_RULES = {
    "file.extra_columns", "file.sheet_not_allowed", "file.duplicate", "procedure.conflict",
    "project.missing_from_ledger", "procedure.missing_from_ledger",
}
RULE_GROUPS = ("file", "cell", "project", "procedure", "problem", "reply")
# How a message's placeholders read in the docs; a new placeholder must be named here.
PLACEHOLDERS = {
    "column": "〈列名〉", "value": "〈填写的值〉", "detail": "〈具体情况〉", "sheet": "〈表名〉",
    "allowed": "〈可选值〉", "hint": "〈格式说明〉", "unit_admin_code": "〈本单位行政区划代码〉",
    "other": "〈对方单位〉", "procedure": "〈手续类型〉",
}
# Spellings people use, shown with what diaodu reads them as (each must be read).
SPELLINGS: list[tuple[str, Callable[[pl.Expr], pl.Expr], list[str]]] = [
    ("日期", as_date, ["2023-01-29", "2023/1/29", "2023.1.29", "2023年1月29日", "２０２３年１月２９日",
                      "2023-01-29 00:00:00", "20230129", "44955（Excel 日期序号）"]),
    ("金额（万元）", as_amount, ["30000", "3亿元", "3亿", "3,000万元", "１２.５亿", "5000000元"]),
    ("是/否", as_yes_no, ["是", "否", "Y", "N", "√", "×"]),
    ("工作日数", as_workdays, ["20", "20个工作日", "20工作日"]),
]


def table(header: list[str], rows: Sequence[Sequence[object]]) -> str:
    def cell(value: object) -> str:
        return "" if value is None else str(value).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(value) for value in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def units_block() -> str:
    rows = [[f"`{unit.code}`", unit.name, KIND_LABELS[unit.kind], unit.admin_code or ""]
            for unit in reference.units().values()]
    return table(["代码（收件文件夹名）", "单位", "类型", "行政区划代码"], rows)


def procedures_block() -> str:
    names = {code: unit.name for code, unit in reference.units().items()}
    aliases = reference.value_aliases().get("procedure", {})
    rows = [[procedure, f"{names[owner]}（`{owner}`）",
             "、".join(alias for alias, name in aliases.items() if name == procedure)]
            for procedure, owner in reference.procedures().items()]
    return table(["手续类型", "审批部门（以其记录为准）", "也接受的写法"], rows)


def sheet_block(spec: SheetSpec) -> str:
    notes = {row[1]: row for row in column_notes(spec)}
    rows = [[f"{title}", notes[title][2], DTYPE_LABELS[str(column.dtype)], *notes[title][3:]]
            for title, column in ((column.title, column) for column in spec.columns.values())]
    return table([NOTES_HEADER[1], NOTES_HEADER[2], "类型", *NOTES_HEADER[3:]], rows)


def value_aliases_block() -> str:
    headers = {field: spec.header(field) for spec in SHEETS for field in spec.columns}
    rows = [[headers[field], alias, value]
            for field, aliases in reference.value_aliases().items() if field != "procedure"
            for alias, value in aliases.items()]
    return table(["列", "写成", "按此值接收"], rows)


def spellings_block() -> str:
    rows = []
    for kind, reader, examples in SPELLINGS:
        texts = [example.partition("（")[0] for example in examples]
        read = pl.DataFrame({"text": texts}).select(reader(clean_text("text"))).to_series().to_list()
        for example, value in zip(examples, read, strict=True):
            if value is None:
                raise ValueError(f"{example!r} is no longer read as {kind}: fix SPELLINGS or intake/cells.py")
            shown = shown_value(value)
            text, note = example.partition("（")[::2]
            rows.append([kind, f"`{text}`" + (f"（{note}" if note else ""), shown])
    return table(["类型", "写法", "读作"], rows)


def shown_value(value: object) -> str:
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        return f"{value:,.4f}".rstrip("0").rstrip(".") + " 万元"
    return str(value)


def rule_effect(rule: str) -> str:
    if rule in WARNING_RULES:
        return "提示（不退回）"
    return "整个文件退回" if rule.startswith("file.") else "该行退回"


def readable(template: str) -> str:
    fields = {name for _, name, _, _ in string.Formatter().parse(template) if name}
    unknown = fields - PLACEHOLDERS.keys()
    if unknown:
        raise ValueError(f"rules.csv uses placeholders {sorted(unknown)}: name them in PLACEHOLDERS")
    return template.format_map(PLACEHOLDERS)


def rules_block() -> str:
    messages = reference.rule_messages()
    ordered = sorted(messages, key=lambda rule: RULE_GROUPS.index(rule.split(".")[0]))
    rows = [[f"`{rule}`", rule_effect(rule), readable(messages[rule])] for rule in ordered]
    return table(["代码 (rule)", "结果", "回执中的说明（含修改方法）"], rows)


def findings_json_block() -> str:
    record = SubmissionRecord(
        submission_id="S000123-LS-1a2b3c4d", seq=123, unit_code="LS", report_date=date(2023, 1, 29),
        received_at=datetime(2023, 1, 29, 9, 12, 5), file_name="连山区1.29台账.xlsx", sha256="1a2b3c4d…",
        outcome="partial", rows_total=160, rows_accepted=159, rows_rejected=1, archive_path="", claim_key="",
        batch_id="",
    )
    findings = build_findings([dict(
        sheet="手续", row_number=12, column_name="办结日期", value=None, rule="procedure.completed_required",
        severity="error", tab="手续", cell="H12",
    )])
    return "```json\n" + json.dumps(findings_document(record, findings), ensure_ascii=False, indent=2) + "\n```\n"


# ---------------------------------------------------------------- warehouse contract

def mart_header(view: str) -> str:
    """What warehouse/mart/<view>.sql's leading comment says the view is (without its `mart.<view>:`
    label, up to a `Columns:` list: the columns' meanings are read from their COMMENT ON)."""
    lines = []
    for line in (SQL_DIR / "mart" / f"{view}.sql").read_text(encoding="utf-8").splitlines():
        text = line.removeprefix("--").strip()
        if not line.startswith("--") or text == "Columns:":
            break
        lines.append(text)
    text = " ".join(lines).removeprefix(f"mart.{view}:").strip()
    plain_word = re.match(r"[a-z]+(?![\w.])", text)  # not a name such as mart.procedure_rollup
    return text[:1].upper() + text[1:] if plain_word else text


def grain(view: str) -> str:
    found = re.search(r"Grain: (.+?)\.(?:\s|$)", mart_header(view))
    if not found:
        raise ValueError(f"warehouse/mart/{view}.sql: its header comment must state the grain (`Grain: …`)")
    return found.group(1)


def mart_columns() -> dict[str, list[tuple[str, str, str]]]:
    """View → (column, type, comment), as a fresh warehouse has them."""
    with duckdb.connect() as con:
        apply_schema(con)
        rows = con.execute(
            "SELECT table_name, column_name, data_type, coalesce(comment, '') FROM duckdb_columns() "
            "WHERE schema_name = 'mart' ORDER BY table_name, column_index").fetchall()
    views: dict[str, list[tuple[str, str, str]]] = {}
    for view, column, data_type, comment in rows:
        views.setdefault(view, []).append((column, data_type, comment))
    return views


def summary(view: str) -> str:
    """The header's first sentence: what the view is."""
    return re.split(r"(?<!e\.g)(?<!i\.e)\.(?:\s|$)", mart_header(view), maxsplit=1)[0]


def mart_index_block() -> str:
    rows = [[f"[`mart.{view}`](#mart{view})", summary(view), grain(view)] for view in mart_columns()]
    return table(["view", "what it is", "grain"], rows)


def mart_views_block() -> str:
    parts = []
    for view, columns in mart_columns().items():
        rows = [[f"`{column}`", data_type, comment] for column, data_type, comment in columns]
        parts.append(f"### mart.{view}\n\n{mart_header(view)}\n\n" + table(["column", "type", "meaning"], rows))
    return "\n".join(parts)


BLOCKS: dict[str, dict[str, Callable[[], str]]] = {
    "submission-contract.md": {
        "units": units_block,
        "procedures": procedures_block,
        "sheet-project": lambda: sheet_block(PROJECT),
        "sheet-procedure": lambda: sheet_block(PROCEDURE),
        "sheet-problem": lambda: sheet_block(PROBLEM),
        "sheet-reply": lambda: sheet_block(REPLY),
        "value-aliases": value_aliases_block,
        "spellings": spellings_block,
        "rules": rules_block,
        "findings-json": findings_json_block,
    },
    "warehouse-contract.md": {
        "mart-index": mart_index_block,
        "mart-views": mart_views_block,
    },
}


def render(page: str, text: str) -> str:
    """The page's text with every generated part rewritten; each part must be present, once."""
    blocks = BLOCKS[page]
    found = [match["name"] for match in BLOCK.finditer(text)]
    if sorted(found) != sorted(blocks):
        raise ValueError(f"docs/{page}: generated parts {sorted(found)}, expected each of {sorted(blocks)} once")
    return BLOCK.sub(lambda match: match[1] + blocks[match["name"]]() + match[4], text)


def main() -> int:
    for page in BLOCKS:
        path = DOCS_DIR / page
        text = path.read_text(encoding="utf-8")
        rendered = render(page, text)
        if rendered != text:
            path.write_text(rendered, encoding="utf-8")
            print(f"rewrote docs/{page}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
