"""The asset graph: submissions (inbox → judged → merged → returns) → the rollup tables and mart views
(warehouse_assets.py) → daily_briefing (per report date)."""

import warnings
from datetime import date
from pathlib import Path

import dagster as dg
import polars as pl

from diaodu.dispatch import briefing_dir, write_briefing
from diaodu.dispatch import data as dispatch_data
from diaodu.intake.batch import BatchResult, process_batch
from diaodu.intake.inbox import claim, leftover_claims, quarantine, scan_inbox
from diaodu.pipelines.partitions import daily_report_dates
from diaodu.pipelines.warehouse_assets import DAILY_ROLLUP, views_read_by
from diaodu.pipelines.resources import DiaoduSettings
from diaodu.schemas.reference import local_today
from diaodu.returns.receipts import OUTCOME_LABELS
from diaodu.schemas import reference

# Single-run backfills are what make a 100-day backfill one run instead of 100 processes; the
# parameter is marked beta, which we accept knowingly rather than print at every load.
warnings.filterwarnings("ignore", message="Parameter `backfill_policy`", category=dg.BetaWarning)


class IngestConfig(dg.Config):
    """Which inbox files this run processes, as `<UNIT>/<file name>`; None: every file waiting."""

    files: list[str] | None = None


@dg.asset(
    group_name="ingest",
    kinds={"polars", "duckdb"},
    description="Every new file in inbox/<UNIT>/: read, judged by the Pandera contract, valid rows merged "
    "into the warehouse, a receipt and the returned rows written to outbox/<UNIT>/.",
    check_specs=[
        dg.AssetCheckSpec("no_rows_returned", asset="submissions",
                          description="Every row of this run's files was accepted."),
        dg.AssetCheckSpec("no_files_returned_whole", asset="submissions",
                          description="No file of this run was returned whole (unreadable, wrong unit, no date …)."),
    ],
)
def submissions(context: dg.AssetExecutionContext, config: IngestConfig, settings: DiaoduSettings):
    waiting, strays = scan_inbox(settings.inbox)
    wanted = None if config.files is None else set(config.files)
    quarantined = quarantine(strays, settings.root)
    for path in quarantined:
        context.log.warning(f"Quarantined {path.name}: not in a known unit's folder, or not a regular file")
    with settings.warehouse().writing() as con:
        # Claims left by a killed run first, then this run's files, taken out of the inbox.
        claims = leftover_claims(settings.root) + [
            claimed for item in waiting
            if (wanted is None or f"{item.unit_code}/{item.name}" in wanted) and (claimed := claim(item, settings.root))
        ]
        result = process_batch(claims, con, settings.root, settings.max_file_bytes, local_today(), context.run.run_id)
    if result.resumed:
        context.log.warning(f"Finished {result.resumed} file(s) that a killed run had merged but not returned")
    yield dg.MaterializeResult(metadata=_ingest_metadata(result, quarantined))
    yield from _ingest_checks(result)


def _ingest_metadata(result: BatchResult, quarantined: list) -> dict:
    metadata = {
        "files": len(result.records),
        "rows_accepted": sum(r.rows_accepted for r in result.records),
        "rows_returned": sum(r.rows_rejected for r in result.records),
        "quarantined": len(quarantined),
    }
    if result.records:
        lines = ["| 单位 | 文件 | 填报日期 | 结果 | 接收行 | 退回行 |", "|---|---|---|---|---|---|"]
        for r in result.records:
            unit = reference.units()[r.unit_code].name
            lines.append(f"| {unit} ({r.unit_code}) | {r.file_name} | {r.report_date or '—'} | "
                         f"{OUTCOME_LABELS[r.outcome]} | {r.rows_accepted} | {r.rows_rejected} |")
        metadata["by_unit"] = dg.MetadataValue.md("\n".join(lines))
    errors = result.findings.filter(pl.col("severity") == "error")
    if not errors.is_empty():
        preview = errors.head(20).select("unit_code", "sheet", "row_number", "column_name", "value", "message")
        lines = ["| 单位 | 表 | 行 | 列 | 值 | 问题 |", "|---|---|---|---|---|---|"]
        lines += ["| " + " | ".join("" if v is None else str(v).replace("|", "/") for v in row) + " |"
                  for row in preview.iter_rows()]
        metadata["returned_rows_preview"] = dg.MetadataValue.md("\n".join(lines))
        metadata["returned_by_rule"] = dg.MetadataValue.json(
            dict(errors.group_by("rule").len().sort("len", descending=True).iter_rows()))
    return metadata


def _ingest_checks(result: BatchResult):
    rows_returned = {r.submission_id: r.rows_rejected for r in result.records if r.rows_rejected}
    whole = [f"{r.unit_code}/{r.file_name}" for r in result.records if r.outcome == "returned"]
    yield dg.AssetCheckResult(
        check_name="no_rows_returned", passed=not rows_returned, severity=dg.AssetCheckSeverity.WARN,
        metadata={"rows_returned": sum(rows_returned.values()), "submissions": dg.MetadataValue.json(rows_returned)},
    )
    yield dg.AssetCheckResult(
        check_name="no_files_returned_whole", passed=not whole, severity=dg.AssetCheckSeverity.WARN,
        metadata={"files": dg.MetadataValue.json(whole)},
    )


@dg.asset(
    group_name="dispatch",
    kinds={"duckdb", "html", "excel"},
    partitions_def=daily_report_dates,
    backfill_policy=dg.BackfillPolicy.single_run(),
    # The views its queries name, and the step that reports them (views have no step of their own).
    deps=[DAILY_ROLLUP, *views_read_by(Path(dispatch_data.__file__).read_text(encoding="utf-8"))],
    description="The 一日一调简报 of the report date, from the mart views: an HTML page (self-contained, prints "
    "on A4) and a workbook with the same tables, in outbox/dispatch/<date>/.",
)
def daily_briefing(context: dg.AssetExecutionContext, settings: DiaoduSettings):
    days = [date.fromisoformat(key) for key in context.partition_keys]
    with settings.warehouse().reading() as con:  # the published marts, as any reader sees them
        written = [(as_of, write_briefing(con, as_of, briefing_dir(settings.outbox, as_of))) for as_of in days]
    for as_of, files in written:
        if files.calendar_fallback:
            context.log.warning(f"{as_of}: the briefing says its lights were judged partly on the "
                                "Monday–Friday fallback")
    files = written[-1][1]  # metadata speaks for the last day of a range
    lines = ["| 指标 | 数值 | 说明 |", "|---|---|---|"]
    lines += [f"| {f.label} | {f.value} | {f.detail.replace('|', '/')} |" for f in files.figures]
    yield dg.MaterializeResult(metadata={
        "html": dg.MetadataValue.path(str(files.html)),
        "xlsx": dg.MetadataValue.path(str(files.xlsx)),
        "headline": dg.MetadataValue.md("\n".join(lines)),
        "red": files.red,
        "yellow": files.yellow,
        "calendar_fallback": files.calendar_fallback,
    })
