"""Dagster sees the warehouse: the rollup tables and the mart views are assets with the lineage their
SQL names; the rollup's checks gate publishing; stale report dates are re-judged in one ranged run."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import pytest

import diaodu.warehouse.rollup as rollup
from diaodu.pipelines.assets import submissions
from diaodu.pipelines.definitions import build_definitions
from diaodu.pipelines.resources import DiaoduSettings
from diaodu.pipelines.sensors import stale_rollup_sensor
from diaodu.warehouse.views import MART_DIR, mart_views
from tests.conftest import PROCEDURE_HEADER, PROJECT_HEADER, project_row, query, write_csv

CODE = "2022-211402-26-03-000001"
AS_OF = "2023-01-29"


def _drop_ledger(data_dir: Path, report_date: str, name: str = "台账", leader: str = "王副区长") -> None:
    row = project_row(CODE)
    row[6] = leader
    write_csv(data_dir / "inbox" / "LS" / f"{name}项目{report_date}.csv",
              [[f"填报日期：{report_date}"], PROJECT_HEADER, row])
    write_csv(data_dir / "inbox" / "LS" / f"{name}手续{report_date}.csv",
              [[f"填报日期：{report_date}"], PROCEDURE_HEADER,
              [CODE, "立项", "是", "已办结", "2023-01-15", "", "2023-01-20", ""],
              [CODE, "能评", "是", "正办理", "2023-02-10", "", "", ""]])


def _job(data_dir: Path, name: str) -> dg.JobDefinition:
    return build_definitions(str(data_dir)).resolve_job_def(name)


# ---- the views' order and lineage, parsed from their SQL ------------------------------------------
def test_views_are_created_after_the_views_they_read_whatever_their_names(tmp_path):
    (tmp_path / "a_change.sql").write_text(
        "-- mart.a_change: reads mart.z_base (this comment, and 'mart.ignored' below, name nothing read).\n"
        "-- Grain: one row.\n-- Columns:\n-- n: a number\n-- s: a string\n"
        "CREATE OR REPLACE VIEW mart.a_change AS SELECT n + 1 AS n, 'mart.ignored' AS s FROM mart.z_base;\n"
        "COMMENT ON VIEW mart.a_change IS 'after mart.z_base';\n")
    (tmp_path / "z_base.sql").write_text("CREATE OR REPLACE VIEW mart.z_base AS SELECT 1 AS n FROM rollup.t;\n")
    views = mart_views(tmp_path)
    assert [view.name for view in views] == ["z_base", "a_change"]
    assert views[1].reads == {"mart.z_base"} and views[0].reads == {"rollup.t"}
    assert views[1].description == ("reads mart.z_base (this comment, and 'mart.ignored' below, name nothing "
                                    "read). Grain: one row.")
    with duckdb.connect() as con:  # in this order the views can be created
        con.execute("CREATE SCHEMA mart; CREATE SCHEMA rollup; CREATE TABLE rollup.t AS SELECT 1 AS x")
        for view in views:
            con.execute(view.sql)
        assert con.execute("SELECT n FROM mart.a_change").fetchall() == [(2,)]
    (tmp_path / "b_orphan.sql").write_text("CREATE OR REPLACE VIEW mart.b_orphan AS SELECT * FROM mart.nowhere;\n")
    with pytest.raises(ValueError, match="nowhere"):
        mart_views(tmp_path)


def test_every_table_and_view_is_an_asset_with_the_lineage_its_sql_names(tmp_path):
    graph = build_definitions(str(tmp_path)).resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    assert {f"mart/{path.stem}" for path in MART_DIR.glob("*.sql")} <= keys
    assert len(mart_views()) == len(list(MART_DIR.glob("*.sql"))) == 27

    def parents(key: str) -> set[str]:
        return {parent.to_user_string() for parent in graph.get(dg.AssetKey(key.split("/"))).parent_keys}

    # The four tables: one step, one transaction, so never a subset of them.
    rollup_tables = {"daily_rollup", "rollup/project_status", "rollup/procedure_status", "rollup/problem_status"}
    assert {graph.get(dg.AssetKey(key.split("/"))).assets_def.can_subset for key in rollup_tables} == {False}
    assert len({graph.get(dg.AssetKey(key.split("/"))).assets_def for key in rollup_tables}) == 1
    assert parents("rollup/procedure_status") == {"submissions", "rollup/project_status"}
    assert parents("mart/procedure_rollup") == {"rollup/procedure_status"}
    assert parents("mart/procedure_rollup_change") == {"mart/procedure_rollup", "daily_rollup"}  # rollup.rollup_run
    assert parents("mart/lineage") == {"rollup/procedure_status", "submissions"}  # core.submission
    assert parents("mart/rejections") == {"submissions"}
    assert {"mart/unit_completion", "mart/light_list", "mart/report_dates"} <= parents("daily_briefing")
    assert all(key.startswith("mart/") for key in parents("daily_briefing") - {"daily_rollup"})


# ---- what a run records ---------------------------------------------------------------------------
def test_a_run_records_each_table_and_view_with_its_row_count_and_columns(data_dir):
    _drop_ledger(data_dir, AS_OF)
    with dg.instance_for_test() as instance:
        result = _job(data_dir, "ingest_job").execute_in_process(instance=instance, partition_key=AS_OF)
        assert result.success

        def metadata(key: list[str]) -> Mapping[str, dg.MetadataValue]:
            event = instance.get_latest_materialization_event(dg.AssetKey(key))
            assert event is not None and event.asset_materialization is not None, key
            return event.asset_materialization.metadata

        def columns(recorded: Mapping[str, dg.MetadataValue]) -> list[str]:
            schema = recorded["dagster/column_schema"]
            assert isinstance(schema, dg.TableSchemaMetadataValue)
            return [column.name for column in schema.schema.columns]

        table = metadata(["rollup", "procedure_status"])
        assert table["dagster/row_count"].value == 2
        assert columns(table)[:4] == ["as_of_date", "project_code", "unit_code", "procedure"]
        assert metadata(["daily_rollup"])["dagster/row_count"].value == 1
        for view in mart_views():
            recorded = metadata(["mart", view.name])
            described = query(data_dir, "SELECT column_name FROM duckdb_columns() WHERE schema_name = 'mart' "
                                        "AND table_name = ? ORDER BY column_index", [view.name])
            if ("as_of_date",) in described:  # a view per report date: its rows of the date
                expected = query(data_dir, f"SELECT count(*) FROM {view.qualified_name} WHERE as_of_date = ?", [AS_OF])
                assert recorded["dagster/row_count"].value == expected[0][0], view.name
            else:  # a view over the whole history: columns only
                assert "dagster/row_count" not in recorded, view.name
            assert columns(recorded) == [c for (c,) in described]
        assert metadata(["mart", "procedure_rollup"])["dagster/row_count"] != dg.MetadataValue.int(0)


# ---- checks that gate publishing ------------------------------------------------------------------
def _duplicate_a_row_of(monkeypatch: pytest.MonkeyPatch, table: str) -> None:
    """A deliberately broken rollup query: one row of the table twice."""
    original = rollup.sql

    def broken(name: str) -> str:
        text = original(name)
        if name != f"rollup/{table}.sql":
            return text
        return f"WITH computed AS (\n{text}\n) SELECT * FROM computed UNION ALL (SELECT * FROM computed LIMIT 1)"

    monkeypatch.setattr(rollup, "sql", broken)


def _published(data_dir: Path) -> str:
    return hashlib.sha256((data_dir / "warehouse.duckdb").read_bytes()).hexdigest()


@pytest.mark.parametrize("table", ["project_status", "procedure_status"])
def test_a_duplicated_rollup_row_turns_the_run_red_and_publishes_nothing(data_dir, monkeypatch, table):
    _drop_ledger(data_dir, AS_OF)
    with dg.instance_for_test() as instance:
        assert _job(data_dir, "ingest_job").execute_in_process(instance=instance, partition_key=AS_OF).success
        before_bytes, before_rows = _published(data_dir), query(data_dir, f"SELECT * FROM rollup.{table} ORDER BY ALL")
        briefing = instance.get_latest_materialization_event(dg.AssetKey("daily_briefing"))

        _duplicate_a_row_of(monkeypatch, table)
        result = _job(data_dir, "daily_rollup_job").execute_in_process(
            instance=instance, partition_key=AS_OF, raise_on_error=False)
        assert not result.success
        failed = [(e.asset_key.to_user_string(), e.check_name, e.severity) for e in result.get_asset_check_evaluations()
                  if not e.passed]
        # (a second project row also doubles its procedures: both tables fail)
        assert (f"rollup/{table}", "one_row_per_grain", dg.AssetCheckSeverity.ERROR) in failed
        assert {severity for _, _, severity in failed} == {dg.AssetCheckSeverity.ERROR}
        assert not result.get_asset_materialization_events()  # neither tables, views nor the briefing
        assert instance.get_latest_materialization_event(dg.AssetKey("daily_briefing")) == briefing
    assert _published(data_dir) == before_bytes
    assert query(data_dir, f"SELECT * FROM rollup.{table} ORDER BY ALL") == before_rows
    # The working file was rolled back too: the next good run publishes the same rows.
    monkeypatch.undo()
    with dg.instance_for_test() as instance:
        assert _job(data_dir, "daily_rollup_job").execute_in_process(instance=instance, partition_key=AS_OF).success
    assert query(data_dir, f"SELECT * FROM rollup.{table} ORDER BY ALL") == before_rows


def test_the_checks_are_blocking_errors(tmp_path):
    graph = build_definitions(str(tmp_path)).resolve_asset_graph()
    specs = {(spec.asset_key.to_user_string(), spec.name): spec for spec in
             graph.get(dg.AssetKey("daily_rollup")).assets_def.check_specs}
    assert {key for key, spec in specs.items() if spec.blocking} == {
        ("rollup/project_status", "one_row_per_grain"), ("rollup/procedure_status", "one_row_per_grain"),
        ("rollup/problem_status", "one_row_per_grain"), ("rollup/procedure_status", "counts_add_up"),
        ("rollup/supervision", "one_row_per_grain"), ("rollup/supervision_order", "one_row_per_grain"),
        ("rollup/supervision_order_item", "one_row_per_grain")}


# ---- stale days: one ranged run -------------------------------------------------------------------
def _stale_tick(data_dir: Path, instance: dg.DagsterInstance) -> dg.SkipReason | dg.RunRequest:
    context = dg.build_sensor_context(instance=instance, resources={"settings": DiaoduSettings(data_dir=str(data_dir))})
    return stale_rollup_sensor(context)


def test_a_late_file_re_judges_every_stale_date_in_one_ranged_run(data_dir):
    settings = DiaoduSettings(data_dir=str(data_dir))
    with dg.instance_for_test() as instance:
        _drop_ledger(data_dir, AS_OF)
        assert _job(data_dir, "ingest_job").execute_in_process(instance=instance, partition_key=AS_OF).success
        for day in ("2023-01-31", "2023-02-03"):  # materialised dates with gaps between them
            assert _job(data_dir, "daily_rollup_job").execute_in_process(instance=instance, partition_key=day).success
        assert _stale_tick(data_dir, instance) == dg.SkipReason("Every materialised report date is current")

        # A corrected ledger for the 29th arrives late: the 29th, 31st and 3rd are stale.
        _drop_ledger(data_dir, AS_OF, name="更正", leader="李副区长")
        dg.materialize([submissions], instance=instance, resources={"settings": settings})
        request = _stale_tick(data_dir, instance)
        assert isinstance(request, dg.RunRequest)
        assert request.partition_key_range == dg.PartitionKeyRange("2023-01-29", "2023-02-03")

        result = _job(data_dir, "daily_rollup_job").execute_in_process(instance=instance, tags=request.tags)
        assert result.success
        materialised = {(e.asset_key.to_user_string(), e.partition) for e in result.get_asset_materialization_events()
                        if e.asset_key is not None}
        days = ["2023-01-29", "2023-01-30", "2023-01-31", "2023-02-01", "2023-02-02", "2023-02-03"]
        assert {(key, day) for key in ("daily_rollup", "rollup/project_status", "daily_briefing")
                for day in days} <= materialised
        assert isinstance(_stale_tick(data_dir, instance), dg.SkipReason)
    assert query(data_dir, "SELECT as_of_date::VARCHAR, responsible_leader FROM rollup.project_status "
                           "ORDER BY ALL") == [(day, "李副区长") for day in days]
    assert [day for (day,) in query(data_dir, "SELECT as_of_date FROM rollup.rollup_run ORDER BY 1")] == [
        date.fromisoformat(day) for day in days]
