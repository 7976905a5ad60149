"""The asset graph: submissions (inbox → judged → merged → returns) → the rollup tables and mart views
(warehouse_assets.py) → daily_briefing (per report date)."""

import warnings
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import dagster as dg
import polars as pl

from diaodu.dispatch import briefing_dir, write_briefing
from diaodu.dispatch import data as dispatch_data
from diaodu.dispatch import leaders as dispatch_leaders
from diaodu.dispatch import supervision as dispatch_supervision
from diaodu.ingest.batch import BatchResult, process_batch
from diaodu.intake.inbox import claim, leftover_claims, quarantine, scan_inbox
from diaodu.pipelines.notices import record_returned
from diaodu.pipelines.partitions import daily_report_dates
from diaodu.pipelines.resources import DiaoduSettings
from diaodu.pipelines.warehouse_assets import DAILY_ROLLUP, views_read_by
from diaodu.returns.receipts import OUTCOME_LABELS
from diaodu.schemas import reference
from diaodu.schemas.reference import local_today

# Single-run backfills are what make a 100-day backfill one run instead of 100 processes; the
# parameter is marked beta, which we accept knowingly rather than print at every load.
warnings.filterwarnings("ignore", message="Parameter `backfill_policy`", category=dg.BetaWarning)


class IngestConfig(dg.Config):
    """Which inbox files this run processes, as `<UNIT>/<file name>`; None: every file waiting."""

    files: list[str] | None = None
    notify: bool = True  # record notices of returned files (a replay tells nobody again)


@dg.asset(
    group_name="ingest",
    kinds={"polars", "duckdb"},
    # Markdown in the UI: a path with <UNIT> in a code span, or it is taken for an HTML tag and vanishes.
    description="Every new file in `inbox/<UNIT>/`: read, judged by the Pandera contract, valid rows merged "
    "into the warehouse, a receipt and the returned rows written to `outbox/<UNIT>/`.",
    check_specs=[
        dg.AssetCheckSpec("no_rows_returned", asset="submissions",
                          description="Every row of this run's files was accepted."),
        dg.AssetCheckSpec("no_files_returned_whole", asset="submissions",
                          description="No file of this run was returned whole (unreadable, wrong unit, no date …)."),
        # Blocking: a bug of ours turns the run red and today's rollup waits for the next run.
        dg.AssetCheckSpec("no_unforeseen_errors", asset="submissions", blocking=True,
                          description="No file met a failure of ours (a bug, a rule that could not run). Such a "
                                      "file is kept out whole, its unit told the data office knows; the traceback "
                                      "is in this run's log and in core.submission.internal_error."),
    ],
)
def submissions(
    context: dg.AssetExecutionContext, config: IngestConfig, settings: DiaoduSettings,
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
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
        notices = record_returned(context, con, result.records, result.returns, settings.root) if config.notify else 0
    for where, trace in result.unforeseen:
        context.log.error(f"Unforeseen error, {where}:\n{trace}")
    if result.resumed:
        context.log.warning(f"Finished {result.resumed} file(s) that a killed run had merged but not returned")
    yield dg.MaterializeResult(metadata=_ingest_metadata(result, quarantined) | {"notices_recorded": notices})
    yield from _ingest_checks(result)


def _ingest_metadata(result: BatchResult, quarantined: list[Path]) -> dict[str, int | dg.MetadataValue]:
    metadata: dict[str, int | dg.MetadataValue] = {
        "files": len(result.records),
        "rows_accepted": sum(r.rows_accepted for r in result.records),
        "rows_returned": sum(r.rows_rejected for r in result.records),
        "quarantined": len(quarantined),
    }
    if result.records:
        units = reference.units()
        metadata["by_unit"] = _table(pl.DataFrame([
            {"单位": units[r.unit_code].name, "单位代码": r.unit_code, "文件": r.file_name,
             "填报日期": r.report_date.isoformat() if r.report_date else None, "结果": OUTCOME_LABELS[r.outcome],
             "接收行": r.rows_accepted, "退回行": r.rows_rejected} for r in result.records],
            schema={"单位": pl.String, "单位代码": pl.String, "文件": pl.String, "填报日期": pl.String,
                    "结果": pl.String, "接收行": pl.Int64, "退回行": pl.Int64}))
    errors = result.findings.filter(pl.col("severity") == "error")
    if not errors.is_empty():
        metadata["returned_rows_preview"] = _table(errors.head(20).select(
            pl.col("unit_code").replace_strict({code: unit.name for code, unit in reference.units().items()},
                                               default=pl.col("unit_code")).alias("单位"),
            pl.col("sheet").alias("表"), pl.col("row_number").alias("行"), pl.col("column_name").alias("列"),
            pl.col("value").cast(pl.String).alias("值"), pl.col("message").alias("问题")))
        metadata["returned_by_rule"] = dg.MetadataValue.json(
            dict(errors.group_by("rule").len().sort("len", descending=True).iter_rows()))
    return metadata


def _table(frame: pl.DataFrame) -> dg.TableMetadataValue:
    """A frame as Dagster table metadata: the UI shows it as a table, columns typed."""
    schema = dg.TableSchema(columns=[dg.TableColumn(name, "int" if dtype.is_integer() else "string")
                                     for name, dtype in frame.schema.items()])
    return dg.MetadataValue.table([dg.TableRecord(row) for row in frame.rows(named=True)], schema)


def _ingest_checks(result: BatchResult) -> Iterator[dg.AssetCheckResult]:
    rows_returned = {r.submission_id: r.rows_rejected for r in result.records if r.rows_rejected}
    whole = [f"{r.unit_code}/{r.file_name}" for r in result.records if r.outcome == "returned"]
    yield dg.AssetCheckResult(
        check_name="no_rows_returned", passed=not rows_returned, severity=dg.AssetCheckSeverity.WARN,
        metadata={"rows_returned": sum(rows_returned.values()), "submissions": dg.MetadataValue.json(rows_returned)},
    )
    yield dg.AssetCheckResult(
        check_name="no_unforeseen_errors", passed=not result.unforeseen, severity=dg.AssetCheckSeverity.ERROR,
        metadata={"files": dg.MetadataValue.json([where for where, _ in result.unforeseen])},
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
    deps=[DAILY_ROLLUP, *views_read_by("\n".join(Path(str(module.__file__)).read_text(encoding="utf-8")
                                                 for module in (dispatch_data, dispatch_supervision,
                                                                dispatch_leaders)))],
    description="The 一日一调简报 of the report date, from the mart views: an HTML page (self-contained, prints "
    "on A4) and a workbook with the same tables, in outbox/dispatch/<date>/.",
)
def daily_briefing(context: dg.AssetExecutionContext, settings: DiaoduSettings) -> Iterator[dg.MaterializeResult]:
    days = [date.fromisoformat(key) for key in context.partition_keys]
    with settings.warehouse().reading() as con:  # the published marts, as any reader sees them
        written = [(as_of, write_briefing(con, as_of, briefing_dir(settings.outbox, as_of))) for as_of in days]
        orders = [path for as_of in days for path in dispatch_supervision.write_orders(con, as_of, settings.outbox)]
        leaders = [path for as_of in days for path in dispatch_leaders.write_leader_pages(con, as_of, settings.outbox)]
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
        "supervision_order_files": len(orders),
        "leader_page_files": len(leaders),
    })
