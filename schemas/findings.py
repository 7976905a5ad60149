"""Findings: what is wrong in a unit's file (an error: the row or the file goes back) or worth telling
(a warning), in the unit's own words. Every finding is built here, its message filled in from the
rule's Chinese text in `reference/rules.csv`, for a whole frame of findings at once."""

from __future__ import annotations

import string

import polars as pl

from diaodu.schemas import reference

FINDING_SCHEMA = {
    "sheet": pl.String,
    "row_number": pl.Int32,
    "column_name": pl.String,
    "value": pl.String,
    "rule": pl.String,
    "message": pl.String,
    "severity": pl.String,  # error: the row is returned; warning: told, nothing returned
    "tab": pl.String,  # the worksheet tab (or .csv name) in the unit's own file
    "cell": pl.String,  # the cell in the unit's own sheet, e.g. D12
}
# A message's placeholders are the finding's columns ({column} is the header as written) or extra
# columns the caller passes (allowed, hint, detail, other, unit_admin_code).
PLACEHOLDER_COLUMNS = {"column": "column_name"}


class RuleError(RuntimeError):
    """A rule of ours that could not run (a check that raised, a rule code without a message): a bug
    for the data office to see, never a finding for the clerk, and never a silently passing rule."""


def findings_frame(rows: list[dict] | None = None) -> pl.DataFrame:
    """Findings given whole (message included); none: an empty frame of the findings' schema."""
    return pl.DataFrame(rows or [], schema=FINDING_SCHEMA)


def build_findings(rows: pl.DataFrame | list[dict]) -> pl.DataFrame:
    """Findings from `rule` plus any finding columns and message values; `severity` defaults to error.
    Each rule's message is assembled as one Polars expression: no formatting row by row."""
    if isinstance(rows, list):
        rows = pl.DataFrame(rows, infer_schema_length=None)
    if rows.is_empty():
        return findings_frame()
    templates = reference.rule_messages()
    rules = rows["rule"].unique(maintain_order=True).to_list()
    unknown = [rule for rule in rules if rule not in templates]
    if unknown:
        raise RuleError(f"rule code(s) without a message in rules.csv: {', '.join(map(str, unknown))}")
    defaults = {"severity": pl.lit("error")}
    rows = rows.with_columns(
        defaults.get(name, pl.lit(None, dtype)).alias(name)
        for name, dtype in FINDING_SCHEMA.items() if name not in rows.columns and name != "message"
    )
    message = None
    for rule in rules:
        text = _message_expr(templates[rule], rows.columns)
        message = (pl.when if message is None else message.when)(pl.col("rule") == rule).then(text)
    assert message is not None  # rows is not empty
    return rows.select(
        pl.col(name).cast(dtype) if name != "message" else message.otherwise(None).alias("message")
        for name, dtype in FINDING_SCHEMA.items()
    )


def _message_expr(template: str, columns: list[str]) -> pl.Expr:
    """A rule's message template as an expression over the findings' columns (a missing value: blank)."""
    parts: list[pl.Expr] = []
    for literal, placeholder, _, _ in string.Formatter().parse(template):
        if literal:
            parts.append(pl.lit(literal))
        if placeholder is not None:
            name = PLACEHOLDER_COLUMNS.get(placeholder, placeholder)
            parts.append(pl.col(name).cast(pl.String).fill_null("") if name in columns else pl.lit(""))
    return pl.concat_str(parts) if parts else pl.lit("")
