"""The warehouse as Dagster sees it: the rollup tables, written in one step and one transaction per span
of report dates (`daily_rollup`, checked before each commit), and each mart view an asset whose
dependencies are parsed from its SQL (warehouse/views.py, the same parse that orders their creation)."""

from collections.abc import Iterator
from datetime import date

import dagster as dg
import duckdb

from diaodu.pipelines.partitions import daily_report_dates
from diaodu.pipelines.resources import DiaoduSettings
from diaodu.schemas.reference import local_now
from diaodu.warehouse.rollup import ROLLUP_TABLES, RollupCheckFailed, SpanChecks, city_completion, materialise_days
from diaodu.warehouse.store import sql
from diaodu.warehouse.views import MartView, header_comment, mart_views, relations_read

SUBMISSIONS = dg.AssetKey("submissions")
# rollup.rollup_run, one row per materialised report date (when, on which calendar, up to which file):
# the asset users know as the day's rollup; the three status tables are written in the same step.
DAILY_ROLLUP = dg.AssetKey("daily_rollup")
ROLLUP_RELATIONS = {f"rollup.{table}": dg.AssetKey(["rollup", table]) for table in ROLLUP_TABLES} | {
    "rollup.rollup_run": DAILY_ROLLUP}
RollupEvent = dg.MaterializeResult | dg.AssetCheckResult | dg.AssetMaterialization
SINGLE_RUN = dg.BackfillPolicy.single_run()  # a 100-day backfill is one run, not 100 processes


def asset_key_of(relation: str) -> dg.AssetKey | None:
    """The asset that writes a warehouse relation; None for reference data, which every writer loads
    from schemas/reference (ref.calendar: the rollup step, for the dates it needs)."""
    schema, _ = relation.split(".")
    if schema == "ref":
        return None
    if schema == "core":
        return SUBMISSIONS
    return ROLLUP_RELATIONS.get(relation) or dg.AssetKey(relation.split("."))


def dependencies(relations: frozenset[str], own: dg.AssetKey | None = None) -> list[dg.AssetKey]:
    return sorted({key for relation in relations if (key := asset_key_of(relation)) and key != own},
                  key=lambda key: key.to_user_string())


def _rollup_spec(relation: str, key: dg.AssetKey) -> dg.AssetSpec:
    table = relation.removeprefix("rollup.")
    return dg.AssetSpec(
        key, group_name="warehouse", kinds={"duckdb", "table"},
        deps=dependencies(relations_read(sql(f"rollup/{table}.sql")), own=key),
        description=header_comment(sql(f"ddl/rollup_{table}.sql")),
        metadata={"dagster/table_name": relation},
    )


def _grain_check(table: str) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(
        "one_row_per_grain", asset=ROLLUP_RELATIONS[f"rollup.{table}"], blocking=True,
        description="One row per report date × the table's grain, checked in the transaction before it "
                    "commits (instead of a key index); on failure nothing is published.")


ROLLUP_CHECKS = [
    dg.AssetCheckSpec("calendar_known", asset=DAILY_ROLLUP,
                      description="The lights were judged on the official calendar or an override, "
                                  "never on the Monday–Friday fallback."),
    dg.AssetCheckSpec("counts_add_up", asset=ROLLUP_RELATIONS["rollup.procedure_status"], blocking=True,
                      description="For every unit and procedure: done + in progress + pending = required, "
                                  "checked in the transaction before it commits; on failure nothing is published."),
    *map(_grain_check, ROLLUP_TABLES),
]


@dg.multi_asset(
    name="daily_rollup",
    specs=[_rollup_spec(relation, key) for relation, key in ROLLUP_RELATIONS.items()],
    check_specs=ROLLUP_CHECKS,
    can_subset=False,  # one transaction writes them together
    partitions_def=daily_report_dates,
    backfill_policy=SINGLE_RUN,
    description="The state of every campaign project, procedure and problem as of the report date, re-judged "
    "against that date (lights move even when nobody reports); feeds the mart views.",
)
def daily_rollup(context: dg.AssetExecutionContext, settings: DiaoduSettings) -> Iterator[RollupEvent]:
    days = [date.fromisoformat(key) for key in context.partition_keys]
    as_of = days[-1]  # metadata speaks for the last day of a range
    try:
        with settings.warehouse().writing() as con:
            by_day = materialise_days(con, days, settings.yellow_workdays, local_now())
            summary = _rollup_summary(con, as_of) | {"days_materialised": dg.MetadataValue.int(len(days))}
            tables = _table_metadata(con, "rollup", as_of)
            views = _table_metadata(con, "mart", as_of)
    except RollupCheckFailed as failed:
        yield from _check_results(failed.checks)
        raise dg.Failure(
            description=f"The rollup of {failed.checks.first}–{failed.checks.last} failed its checks and was "
                        "rolled back: the published warehouse keeps its last good state, no briefing is written "
                        "(see the failed checks).") from failed
    sources = sorted({source for day_sources in by_day.values() for source in day_sources})
    if "fallback" in sources:
        context.log.warning(f"{as_of}: lights judged partly on the Monday–Friday fallback calendar: a year the "
                            "official calendar and schemas/reference/workday_overrides.csv do not know")
    for relation, key in ROLLUP_RELATIONS.items():
        metadata = tables[relation.removeprefix("rollup.")]
        yield dg.MaterializeResult(asset_key=key, metadata=metadata | (summary if key == DAILY_ROLLUP else {}))
    yield dg.AssetCheckResult(asset_key=DAILY_ROLLUP, check_name="calendar_known", passed="fallback" not in sources,
                              severity=dg.AssetCheckSeverity.WARN, metadata={"sources": ",".join(sources)})
    # Every span passed before it committed (a failing one raises above).
    yield from _check_results(SpanChecks(days[0], as_of, dict.fromkeys(ROLLUP_TABLES, 0), 0))
    for spec in VIEW_SPECS:  # what each view shows now that the tables are published
        view = views[spec.key.path[-1]]
        yield dg.AssetMaterialization(spec.key, metadata=view | {"as_of_date": summary["as_of_date"]})


def _check_results(checks: SpanChecks) -> Iterator[dg.AssetCheckResult]:
    dates = {"report_dates": f"{checks.first}..{checks.last}"}
    yield dg.AssetCheckResult(asset_key=ROLLUP_RELATIONS["rollup.procedure_status"], check_name="counts_add_up",
                              passed=checks.unbalanced_rows == 0,
                              metadata=dates | {"unbalanced_rows": checks.unbalanced_rows})
    for table, extra in checks.extra_rows.items():
        yield dg.AssetCheckResult(asset_key=ROLLUP_RELATIONS[f"rollup.{table}"], check_name="one_row_per_grain",
                                  passed=extra == 0, metadata=dates | {"extra_rows": extra})


def _rollup_summary(con: duckdb.DuckDBPyConnection, as_of: date) -> dict[str, dg.MetadataValue]:
    """The day's headline for the run page: city completion by procedure, lights, campaign projects."""
    lines = ["| 手续 | 应办 | 已办结 | 正办理 | 待办 | 办结率 |", "|---|---|---|---|---|---|"]
    lines += [f"| {p} | {r} | {d} | {i} | {w} | {'—' if rate is None else f'{rate:.2%}'} |"
              for p, r, d, i, w, rate in city_completion(con, as_of)]
    lights = con.execute("SELECT green, yellow, red FROM mart.light_rollup WHERE as_of_date = ? "
                         "AND unit_code = 'CITY'", [as_of]).fetchall() or [(0, 0, 0)]
    projects, sources = con.execute(
        "SELECT (SELECT count(*) FILTER (WHERE is_campaign) FROM rollup.project_status WHERE as_of_date = $day), "
        "(SELECT calendar_sources FROM rollup.rollup_run WHERE as_of_date = $day)", {"day": as_of}).fetchall()[0]
    return {
        "as_of_date": dg.MetadataValue.text(as_of.isoformat()),
        "campaign_projects": dg.MetadataValue.int(projects),
        "city_completion": dg.MetadataValue.md("\n".join(lines)),
        "lights_green_yellow_red": dg.MetadataValue.json(list(lights[0])),
        "calendar_sources": dg.MetadataValue.text(sources or ""),
    }


def _table_metadata(con: duckdb.DuckDBPyConnection, schema: str, as_of: date) -> dict[str, dict[str, dg.MetadataValue]]:
    """Per relation of a schema: its columns from the DuckDB catalog (with their COMMENT ON text) and, when
    it has an as_of_date column, its rows of the report date. A view over the whole history has no row
    count: counting one (mart.procedure_changes: a window over every version) would scan the history
    every run."""
    columns: dict[str, list[dg.TableColumn]] = {}
    for table, column, data_type, comment in con.execute(
            "SELECT table_name, column_name, data_type, comment FROM duckdb_columns() "
            "WHERE schema_name = ? ORDER BY table_name, column_index", [schema]).fetchall():
        columns.setdefault(table, []).append(dg.TableColumn(column, data_type, description=comment or None))
    metadata: dict[str, dict[str, dg.MetadataValue]] = {
        name: {"dagster/column_schema": dg.MetadataValue.table_schema(dg.TableSchema(columns=table_columns))}
        for name, table_columns in columns.items()}
    dated = [name for name, table_columns in columns.items() if any(c.name == "as_of_date" for c in table_columns)]
    if dated:
        counts = con.execute("SELECT " + ", ".join(
            f"(SELECT count(*) FROM {schema}.{name} WHERE as_of_date = $day)" for name in dated), {"day": as_of})
        for name, rows in zip(dated, counts.fetchall()[0], strict=True):
            metadata[name]["dagster/row_count"] = dg.MetadataValue.int(rows)
    return metadata


# ---- the mart views ---------------------------------------------------------------------------------
def _view_key(view: MartView) -> dg.AssetKey:
    return dg.AssetKey(["mart", view.name])


# A view has no step of its own: apply_schema creates it whenever the warehouse is opened for writing.
# The rollup step, which runs last in every run that writes the warehouse, reports what each view
# shows after it (one event a view; a step or output per view would cost more than the rollup itself).
VIEW_SPECS = [dg.AssetSpec(_view_key(view), group_name="mart", kinds={"duckdb", "view"},
                           description=view.description, deps=dependencies(view.reads, own=_view_key(view)),
                           metadata={"dagster/table_name": view.qualified_name}) for view in mart_views()]


def views_read_by(source: str) -> list[dg.AssetKey]:
    """The mart views' asset keys a piece of code or SQL names (`mart.x`)."""
    return [key for key in dependencies(relations_read(source)) if key.path[0] == "mart"]
