"""Judging a located sheet: type the cells, run the sheet's Pandera model, and turn every failure
into a finding a clerk can act on (sheet, row as they see it, their header, value, rule, message).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandera.polars as pa
import polars as pl

from diaodu.intake.cells import clean_text, typer_for
from diaodu.intake.sheets import LocatedSheet
from diaodu.schemas import reference
from diaodu.schemas.findings import RuleError, build_findings, findings_frame
from diaodu.schemas.models import DONE, SheetSpec
from diaodu.schemas.workdays import add_workdays

# Pandera's built-in checks → the contract's rule codes.
BUILTIN_RULES = {
    "not_nullable": "cell.required",
    "isin": "cell.allowed_values",
    "str_matches": "cell.pattern",
    "greater_than": "cell.positive",
    "greater_than_or_equal_to": "cell.positive_integer",
    "field_uniqueness": "cell.unique",
}


@dataclass(frozen=True)
class SubmissionContext:
    unit: reference.Unit
    report_date: date
    city_code: str

    def columns(self) -> list[pl.Expr]:
        return [
            pl.lit(self.report_date, pl.Date).alias("report_date"),
            pl.lit(self.unit.code).alias("unit_code"),
            pl.lit(self.unit.kind).alias("unit_kind"),
            pl.lit(self.unit.admin_code, pl.String).alias("unit_admin_code"),
            pl.lit(self.city_code).alias("city_code"),
        ]


@dataclass
class SheetJudgement:
    located: LocatedSheet
    context: SubmissionContext
    typed: pl.DataFrame  # every row, typed, with row_number and context columns
    findings: pl.DataFrame  # FINDING_SCHEMA

    @property
    def spec(self) -> SheetSpec:
        return self.located.spec

    @property
    def rejected_rows(self) -> pl.Series:
        return self.findings.filter(pl.col("severity") == "error")["row_number"].unique()

    @property
    def accepted(self) -> pl.DataFrame:
        return self.typed.filter(~pl.col("row_number").is_in(self.rejected_rows.implode()))


def judge(located: LocatedSheet, context: SubmissionContext) -> SheetJudgement:
    spec = located.spec
    typed, format_rules = _typed(located)
    typed = typed.with_columns(context.columns())
    if spec.key == "procedure":  # a time limit in working days stands in for the promised date
        typed = add_workdays(typed, "accepted_date", "promised_workdays", into="promised_date")
    try:
        spec.model.validate(typed.drop(f"_bad_{name}" for name in format_rules), lazy=True)
        failures = None
    except pa.errors.SchemaErrors as errors:
        failures = errors.failure_cases
    findings = pl.concat(
        [
            _format_findings(located, typed, format_rules, context),
            _check_findings(located, typed, failures, context),
            build_findings([
                dict(sheet=spec.name, column_name=header, rule="file.extra_columns", detail=header, severity="warning")
                for header in located.extra_headers
            ]),
        ]
    )
    # One finding per cell: a value that could not be typed is not also reported as missing.
    findings = findings.unique(subset=["row_number", "column_name"], keep="first", maintain_order=True)
    return SheetJudgement(located, context, typed.drop(f"_bad_{name}" for name in format_rules), findings)


def _typed(located: LocatedSheet) -> tuple[pl.DataFrame, dict[str, str]]:
    """Typed columns named after the fields, plus `_bad_<field>` flags for cells that did not type."""
    aliases = reference.value_aliases()
    expressions, format_rules = [], {}
    for name, column in located.spec.columns.items():
        dtype = column.dtype.type
        typer, format_rule = typer_for(dtype, aliases.get(name, {}))
        if name not in located.rows.columns:
            expressions.append(pl.lit(None, dtype).alias(name))
            continue
        text = clean_text(name)
        typed = typer(text)
        expressions.append(typed.alias(name))
        if format_rule:
            format_rules[name] = format_rule
            expressions.append((text.is_not_null() & typed.is_null()).alias(f"_bad_{name}"))
    # Lazily: the optimiser computes each column's cleaned text once for all the expressions using it.
    return located.rows.lazy().select("row_number", *expressions).collect(), format_rules


def _finding_rows(located: LocatedSheet, cells: pl.DataFrame, context: SubmissionContext) -> pl.DataFrame:
    """cells: row_number, field, rule, plus optional allowed/hint/detail → errors in the unit's own words:
    its header as written, the value as it wrote it, the cell in its own sheet."""
    spec = located.spec
    failing = located.rows.filter(pl.col("row_number").is_in(cells["row_number"].implode()))
    raw = failing.unpivot(index="row_number", variable_name="field", value_name="value")
    headers = {name: located.columns.get(name, (spec.header(name), None))[0] for name in spec.columns}
    letters = {name: located.grid.column_letters(grid_column) for name, (_, grid_column) in located.columns.items()}
    return build_findings(cells.join(raw, on=["row_number", "field"], how="left").with_columns(
        sheet=pl.lit(spec.name),
        column_name=pl.col("field").replace_strict(headers, return_dtype=pl.String),
        tab=pl.lit(located.grid.sheet_name),
        cell=pl.col("field").replace_strict(letters, default=None, return_dtype=pl.String)
        + pl.col("row_number").cast(pl.String),
        unit_admin_code=pl.lit(context.unit.admin_code),
    ))


def _format_findings(
    located: LocatedSheet, typed: pl.DataFrame, format_rules: dict[str, str], context: SubmissionContext
) -> pl.DataFrame:
    cells = [
        typed.filter(pl.col(f"_bad_{name}")).select("row_number", field=pl.lit(name), rule=pl.lit(rule))
        for name, rule in format_rules.items()
    ]
    return _finding_rows(located, pl.concat(cells), context) if cells else findings_frame()


def _check_findings(
    located: LocatedSheet, typed: pl.DataFrame, failures: pl.DataFrame | None, context: SubmissionContext
) -> pl.DataFrame:
    if failures is None or failures.is_empty():
        return findings_frame()
    # Every failure of a row-level rule names its row; one without a row is a rule that could not
    # run at all (a renamed column, a typo in an expression): it must stop the file, not pass it.
    broken = failures.filter(pl.col("index").is_null())
    if not broken.is_empty():
        raise RuleError(f"the “{located.spec.name}” sheet's rules could not run: " + "; ".join(
            f"{column} / {check}: {case}" for column, check, case in broken.select("column", "check", "failure_case")
            .iter_rows()))
    columns = located.spec.columns
    allowed = {
        name: "、".join(check.statistics["allowed_values"])
        for name, column in columns.items() for check in column.checks if check.name == "isin"
    }
    hints = {name: column.metadata["hint"] for name, column in columns.items() if (column.metadata or {}).get("hint")}
    positions = typed.select("row_number").with_row_index("index").with_columns(pl.col("index").cast(pl.Int32))
    cells = (
        failures.join(positions, on="index", how="left")
        .select(
            "row_number",
            field=pl.col("column"),
            rule=pl.col("check").str.replace(r"\(.*$", "").replace(BUILTIN_RULES),
            allowed=pl.col("column").replace_strict(allowed, default=None, return_dtype=pl.String),
            hint=pl.col("column").replace_strict(hints, default=None, return_dtype=pl.String),
        )
    )
    return _finding_rows(located, cells, context)


def judge_registrations(judgement: SheetJudgement, owners: pl.DataFrame) -> None:
    """Rules that need the city's register of projects (`owners`: project_code, owner_unit):
    a project registered by another unit; a procedure or problem for a project nobody registered,
    or (from a county or park) for another unit's project. Adds the findings to the judgement."""
    unit = judgement.context.unit
    names = {code: found.name for code, found in reference.units().items()}
    rows = judgement.accepted.select("row_number", "project_code").join(owners, on="project_code", how="left")
    rows = rows.with_columns(detail=pl.col("owner_unit").replace_strict(names, default=None, return_dtype=pl.String))
    other_unit = pl.col("owner_unit").is_not_null() & (pl.col("owner_unit") != unit.code)
    if judgement.spec.key == "project":
        rules = [(other_unit, "project.owned_by_other_unit")]
    else:
        rules = [(pl.col("owner_unit").is_null(), f"{judgement.spec.key}.unknown_project")]
        if not unit.is_bureau:
            rules.append((other_unit, f"{judgement.spec.key}.not_own_project"))
    _add_findings(judgement, [(rows.filter(condition), "project_code", rule) for condition, rule in rules])


ORDER_NUMBER = r"(\d{4})\D+(\d+)\D*$"  # 葫调督〔2023〕第5号, also written [2023]5号, （2023）第5号 …


def judge_replies(judgement: SheetJudgement, orders: pl.DataFrame) -> None:
    """督办回复 rows against the orders issued (`orders`: merge.issued_order_items): the order must exist
    and have been issued by the report date, be addressed to this unit, and list the project's procedure.
    A reply that matches is stored under the order's number as issued, however the clerk wrote it."""
    unit, report_date = judgement.context.unit, judgement.context.report_date
    names = {code: found.name for code, found in reference.units().items()}
    issued = orders.filter(pl.col("issue_date") <= report_date)
    heads = issued.unique("order_no").select("order_no", "order_year", "order_seq", "unit_code")
    rows = judgement.accepted.select(
        "row_number", "project_code", "procedure",
        order_year=pl.col("order_no").str.extract(ORDER_NUMBER, 1).cast(pl.Int32, strict=False),
        order_seq=pl.col("order_no").str.extract(ORDER_NUMBER, 2).cast(pl.Int32, strict=False),
    ).join(heads.rename({"order_no": "issued_no"}), on=["order_year", "order_seq"], how="left")
    rows = rows.with_columns(detail=pl.col("unit_code").replace_strict(names, default=None, return_dtype=pl.String))
    on_order = rows.join(issued.select(issued_no="order_no", project_code="project_code", procedure="procedure",
                                       listed=pl.lit(True)), on=["issued_no", "project_code", "procedure"], how="left")
    ours = pl.col("unit_code") == unit.code
    _add_findings(judgement, [
        (rows.filter(pl.col("issued_no").is_null()), "order_no", "reply.unknown_order"),
        (rows.filter(pl.col("issued_no").is_not_null() & ~ours), "order_no", "reply.other_unit_order"),
        (on_order.filter(ours & pl.col("listed").is_null()).with_columns(detail=pl.col("issued_no")),
         "procedure", "reply.item_not_on_order"),
    ])
    canonical = rows.select("row_number", "issued_no")
    judgement.typed = judgement.typed.join(canonical, on="row_number", how="left").with_columns(
        order_no=pl.coalesce("issued_no", "order_no")).drop("issued_no")


def judge_history(judgement: SheetJudgement, previous: pl.DataFrame) -> None:
    """A procedure this unit reported 已办结 before (`previous`: project_code, procedure, status)
    may only go back to not done with a note (备注) saying why."""
    rows = judgement.accepted.join(previous, on=["project_code", "procedure"], how="inner", suffix="_before")
    backwards = rows.filter(
        (pl.col("status_before") == DONE) & (pl.col("status") != DONE) & pl.col("note").is_null()
    ).with_columns(detail=pl.lit(None, pl.String))
    _add_findings(judgement, [(backwards, "status", "procedure.status_backwards")])


def judge_ledger(judgement: SheetJudgement, reported_before: pl.DataFrame) -> None:
    """A county's or park's file is its full ledger: what it reported before (`reported_before`:
    the sheet's key columns) and leaves out now is kept as last reported, and the unit is told."""
    keys = reported_before.columns
    missing = reported_before.join(judgement.typed.select(keys).drop_nulls(), on=keys, how="anti").sort(keys)
    warnings = build_findings(missing.select(
        sheet=pl.lit(judgement.spec.name), column_name=pl.lit(judgement.spec.header("project_code")),
        value=pl.concat_str(keys, separator=" "), rule=pl.lit(f"{judgement.spec.key}.missing_from_ledger"),
        severity=pl.lit("warning"),
    ))
    judgement.findings = pl.concat([judgement.findings, warnings])


def _add_findings(judgement: SheetJudgement, rule_rows: list[tuple[pl.DataFrame, str, str]]) -> None:
    """rule_rows: (rows with row_number, detail and the other values a message names, the field to mark,
    the rule)."""
    cells = pl.concat([
        rows.select("row_number", "detail", "procedure" if "procedure" in rows.columns else pl.lit(None, pl.String)
                    .alias("procedure"), field=pl.lit(field), rule=pl.lit(rule))
        for rows, field, rule in rule_rows
    ])
    if not cells.is_empty():
        found = _finding_rows(judgement.located, cells, judgement.context)
        judgement.findings = pl.concat([judgement.findings, found])
