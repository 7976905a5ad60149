"""The warehouse as a system of record: migrations from an older file, late files re-judging
earlier days, many units at once with concurrent runs, and replay from the archived bytes."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import duckdb

from diaodu.pipelines.cli import instance_for, main
from diaodu.warehouse.store import SQL_DIR, Warehouse
from tests.conftest import PROCEDURE_HEADER, PROJECT_HEADER, mart_tables, project_row, query, write_csv

FIXTURES = Path(__file__).parent / "fixtures"
CODE = "2022-211402-26-03-000001"


def test_a_version_1_warehouse_is_migrated_with_its_data_intact(data_dir):
    work = data_dir / "state" / "work.duckdb"
    work.parent.mkdir(parents=True)
    with duckdb.connect(str(work)) as con:
        con.execute((FIXTURES / "warehouse_v1.sql").read_text(encoding="utf-8"))
    with Warehouse(data_dir).writing() as con:  # migrated on opening, before anything is rolled up again
        keys = con.execute("SELECT table_name FROM duckdb_constraints() WHERE schema_name = 'rollup' "
                           "AND constraint_type = 'PRIMARY KEY' ORDER BY ALL").fetchall()
        carried = con.execute("SELECT as_of_date::VARCHAR, status, workdays_left FROM rollup.procedure_status").fetchall()
    assert keys == [("rollup_run",)]  # version 6: the grain is an asset check, not a key index
    assert carried == [("2023-01-28", "正办理", 11)]
    write_csv(data_dir / "inbox" / "FGW" / "立项.csv", [["填报日期：2023-01-29"], PROCEDURE_HEADER,
              [CODE, "立项", "是", "已办结", "", "", "2023-01-29", "葫发改备〔2023〕3号"]])
    assert main(["run", "--data-dir", str(data_dir), "--as-of", "2023-01-29"]) == 0
    assert query(data_dir, "SELECT max(version) FROM core.schema_version") == [(10,)]
    assert query(data_dir, "SELECT count(*) FROM core.submission WHERE internal_error IS NOT NULL") == [(0,)]
    assert query(data_dir, "SELECT project_name, source_row FROM core.project_version") == [("连山区老项目", 4)]
    assert query(data_dir, "SELECT submission_id, claim_key FROM core.submission ORDER BY seq")[0] == (
        "S000001-LS-0000aaaa", None)
    # The old county record and the new bureau record meet in the rollup: the bureau's counts.
    assert query(data_dir, "SELECT status, authority FROM mart.procedure_status WHERE as_of_date = '2023-01-29'") == [
        ("已办结", "bureau")]
    assert query(data_dir, "SELECT status FROM mart.procedure_status WHERE as_of_date = '2023-01-28'") == [
        ("正办理",)]


def test_absolute_archive_paths_of_an_older_warehouse_become_relative_to_the_data_directory(data_dir):
    work = data_dir / "state" / "work.duckdb"
    work.parent.mkdir(parents=True)
    with duckdb.connect(str(work)) as con:
        con.execute((FIXTURES / "warehouse_v1.sql").read_text(encoding="utf-8"))
        # As version 7 wrote them: absolute, here under a data directory that itself sits in a folder named archive.
        con.execute("UPDATE core.submission SET archive_path = '/srv/archive/diaodu/data/archive/LS/aaaa.xlsx'")
        con.execute("INSERT INTO core.submission SELECT * REPLACE ('S000002-LS-0000bbbb' AS submission_id, 2 AS seq, "
                    "'' AS archive_path) FROM core.submission")  # too large to keep: no path
    with Warehouse(data_dir).writing() as con:
        paths = con.execute("SELECT submission_id, archive_path FROM core.submission ORDER BY seq").fetchall()
    assert paths == [("S000001-LS-0000aaaa", "archive/LS/aaaa.xlsx"), ("S000002-LS-0000bbbb", "")]


def _drop(data_dir: Path, unit: str, name: str, rows: list[list[str]]) -> None:
    path = write_csv(data_dir / "inbox" / unit / name, rows)
    old = time.time() - 60
    os.utime(path, (old, old))


def test_a_late_file_for_an_earlier_day_re_judges_that_day_and_the_days_after(data_dir):
    _drop(data_dir, "LS", "项目.csv", [["填报日期：2023-01-28"], PROJECT_HEADER, project_row(CODE)])
    _drop(data_dir, "LS", "手续.csv", [["填报日期：2023-01-28"], PROCEDURE_HEADER,
                                       [CODE, "立项", "是", "正办理", "2023-02-10", "", "", ""]])
    for day in ("2023-01-28", "2023-01-29", "2023-01-30"):
        assert main(["run", "--data-dir", str(data_dir), "--as-of", day]) == 0
    assert query(data_dir, "SELECT DISTINCT status FROM mart.procedure_status") == [("正办理",)]
    # FGW's report for the 29th arrives on the 31st.
    _drop(data_dir, "FGW", "补报.csv", [["填报日期：2023-01-29"], PROCEDURE_HEADER,
                                       [CODE, "立项", "是", "已办结", "", "", "2023-01-29", "葫发改备〔2023〕3号"]])
    assert main(["run", "--data-dir", str(data_dir), "--as-of", "2023-01-31"]) == 0
    statuses = dict(query(data_dir, "SELECT as_of_date::VARCHAR, status FROM mart.procedure_status"))
    assert statuses == {"2023-01-28": "正办理", "2023-01-29": "已办结", "2023-01-30": "已办结", "2023-01-31": "已办结"}
    changes = query(data_dir, "SELECT source_unit, previous_status, status FROM mart.procedure_changes ORDER BY report_date")
    assert changes == [("LS", None, "正办理"), ("FGW", None, "已办结")]
    (lineage,) = query(data_dir, "SELECT file_name, source_row FROM mart.lineage WHERE as_of_date = '2023-01-30'")
    assert lineage == ("补报.csv", 3)


def _wait_for_started_runs(instance: dg.DagsterInstance, processes: list[subprocess.Popen], count: int) -> None:
    deadline = time.monotonic() + 120
    while len(instance.get_runs(filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED]))) < count:
        assert all(process.poll() is None for process in processes), "a run ended before the barrier opened"
        assert time.monotonic() < deadline, "the runs did not start"
        time.sleep(0.2)


def test_seventeen_units_in_the_same_minute_with_two_runs_at_once(data_dir: Path):
    from diaodu.schemas.reference import procedures, units

    owned = {owner: procedure for procedure, owner in procedures().items()}
    for number, unit in enumerate(units().values(), start=1):
        if unit.is_bureau:  # each bureau reports its own procedure of 连山区's project, in the same batch
            _drop(data_dir, unit.code, f"{unit.name}.csv", [["填报日期：2023-01-29"], PROCEDURE_HEADER, [
                "2022-211402-26-03-000001", owned[unit.code], "是", "正办理", "2023-02-20", "", "", ""]])
        else:
            code = f"2022-{unit.admin_code or '211400'}-26-03-{number:06d}"
            _drop(data_dir, unit.code, f"{unit.name}.csv", [["填报日期：2023-01-29"], PROJECT_HEADER, project_row(code)])
    command = [sys.executable, "-m", "diaodu.pipelines.cli", "run", "--data-dir", str(data_dir), "--as-of", "2023-01-29"]
    # The barrier: while the test holds the working database's lock, both runs start and wait on it.
    work_path = Warehouse(data_dir).work_path
    work_path.parent.mkdir(parents=True)
    holder = duckdb.connect(str(work_path))
    runs = [subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for _ in range(2)]
    with instance_for(data_dir) as instance:
        _wait_for_started_runs(instance, runs, 2)
        holder.close()
        codes = [run.wait(timeout=300) for run in runs]
        assert codes == [0, 0], [run.stderr.read().decode()[-3000:] for run in runs]
        records = instance.get_run_records(filters=dg.RunsFilter(job_name="ingest_job"))
    assert len(records) == 2 and max(r.start_time for r in records) < min(r.end_time for r in records)
    outcomes = query(data_dir, "SELECT unit_code, outcome FROM mart.submissions ORDER BY unit_code")
    assert len(outcomes) == 17 and {outcome for _, outcome in outcomes} == {"accepted"}
    assert len({unit for unit, _ in outcomes}) == 17
    assert len(list((data_dir / "outbox").glob("*/*_回执.txt"))) == 17
    assert query(data_dir, "SELECT count(*) FROM rollup.project_status WHERE as_of_date = '2023-01-29'") == [(10,)]


def test_replaying_the_archive_into_an_empty_warehouse_gives_the_same_marts(tmp_path):
    source, target = tmp_path / "source", tmp_path / "replayed"
    assert main(["demo", "--data-dir", str(source)]) == 0
    _drop(source, "LS", "更正.csv", [["填报日期：2023-01-30"], PROCEDURE_HEADER,
                                      ["2021-211402-48-03-668335", "立项", "是", "已办结", "", "", "2023-01-30", ""]])
    assert main(["run", "--data-dir", str(source), "--as-of", "2023-01-30"]) == 0
    assert main(["replay", "--data-dir", str(source), "--into", str(target)]) == 0
    original = mart_tables(source)
    assert set(original) == {path.stem for path in (SQL_DIR / "mart").glob("*.sql")}  # every view
    assert mart_tables(target) == original


def test_a_late_file_between_two_reports_changes_only_its_own_days(data_dir):
    _drop(data_dir, "LS", "项目.csv", [["填报日期：2023-01-27"], PROJECT_HEADER, project_row(CODE)])
    for day, status, completed in (("2023-01-27", "正办理", ""), ("2023-01-29", "正办理", "")):
        _drop(data_dir, "LS", f"手续{day}.csv", [[f"填报日期：{day}"], PROCEDURE_HEADER,
                                                 [CODE, "能评", "是", status, "2023-02-10", "", completed, ""]])
        assert main(["run", "--data-dir", str(data_dir), "--as-of", day]) == 0
    # 连山区's file for the 28th arrives last: done on the 28th, back to in progress on the 29th (with a note).
    _drop(data_dir, "LS", "补报0128.csv", [["填报日期：2023-01-28"], PROCEDURE_HEADER + ["备注"],
                                          [CODE, "能评", "是", "已办结", "", "", "2023-01-28", "", "误报"]])
    assert main(["run", "--data-dir", str(data_dir), "--as-of", "2023-01-28"]) == 0
    statuses = dict(query(data_dir, "SELECT as_of_date::VARCHAR, status FROM mart.procedure_status"))
    assert statuses == {"2023-01-27": "正办理", "2023-01-28": "已办结", "2023-01-29": "正办理"}
    assert query(data_dir, "SELECT report_date::VARCHAR, valid_to::VARCHAR FROM core.procedure_version "
                           "ORDER BY report_date") == [
        ("2023-01-27", "2023-01-28"), ("2023-01-28", "2023-01-29"), ("2023-01-29", None)]
