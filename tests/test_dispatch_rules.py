"""The working-day calendar, every light boundary, and a reader holding the warehouse open."""

from __future__ import annotations

import subprocess
import sys
from datetime import date

import dagster as dg
import pytest

from diaodu.pipelines.definitions import build_definitions
from diaodu.schemas.workdays import calendar_frame, day_kind
from tests.conftest import PROCEDURE_HEADER, PROJECT_HEADER, project_row, query, write_csv

CODE = "2022-211402-26-03-000001"


def test_calendar_knows_make_up_working_days_and_the_spring_festival():
    assert day_kind(date(2023, 1, 28)) == (True, "official")  # Saturday, 调休
    assert day_kind(date(2023, 1, 29)) == (True, "official")  # Sunday, 调休
    assert [day_kind(date(2023, 1, d))[0] for d in range(21, 28)] == [False] * 7  # 春节
    assert day_kind(date(2027, 1, 4)) == (True, "fallback")  # a year nobody published yet: said so
    frame = calendar_frame(date(2023, 1, 20), date(2023, 1, 30))
    assert frame["workday_seq"].to_list()[-1] - frame["workday_seq"].to_list()[0] == 3  # 28, 29, 30


def _run(data_dir, report_date: str, procedures: list[list[str]], as_of: str) -> None:
    write_csv(data_dir / "inbox" / "LS" / f"项目{report_date}.csv",
              [[f"填报日期：{report_date}"], PROJECT_HEADER, project_row(CODE)])
    write_csv(data_dir / "inbox" / "LS" / f"手续{report_date}.csv",
              [[f"填报日期：{report_date}"], PROCEDURE_HEADER, *procedures])
    job = build_definitions(str(data_dir)).resolve_job_def("ingest_job")
    with dg.instance_for_test() as instance:
        assert job.execute_in_process(instance=instance, partition_key=as_of).success


def _lights(data_dir, as_of: str) -> dict[str, tuple]:
    rows = query(data_dir, "SELECT procedure, light, overdue_completion FROM mart.procedure_status "
                           "WHERE as_of_date = ?", [as_of])
    return {procedure: (light, overdue) for procedure, light, overdue in rows}


@pytest.mark.parametrize(("as_of", "promised", "light"), [
    ("2023-01-29", "2023-01-29", "黄"),   # due today (a make-up Sunday): 0 working days left
    ("2023-01-29", "2023-02-01", "黄"),   # exactly 3 working days left
    ("2023-01-29", "2023-02-02", None),   # 4 left
    ("2023-01-29", "2023-01-28", "红"),   # overdue by one day
    ("2023-01-20", "2023-01-30", "黄"),   # 10 calendar days, but the festival leaves 3 working days
    ("2023-01-17", "2023-01-30", None),   # 6 working days across the festival
])
def test_light_boundaries(data_dir, as_of, promised, light):
    _run(data_dir, as_of, [[CODE, "能评", "是", "正办理", promised, "", "", ""]], as_of)
    assert _lights(data_dir, as_of)["能评"] == (light, False)


def test_completed_is_green_and_flagged_when_late(data_dir):
    _run(data_dir, "2023-01-29", [
        [CODE, "立项", "是", "已办结", "2023-01-15", "", "2023-01-20", ""],
        [CODE, "能评", "是", "已办结", "2023-01-25", "", "2023-01-20", ""],
        [CODE, "环评", "否", "", "", "", "", ""],
    ], "2023-01-29")
    assert _lights(data_dir, "2023-01-29") == {"立项": ("绿", True), "能评": ("绿", False), "环评": (None, False)}


def test_a_reader_holding_the_warehouse_open_never_blocks_a_run_and_sees_a_whole_state(data_dir):
    _run(data_dir, "2023-01-28", [[CODE, "立项", "是", "正办理", "2023-02-10", "", "", ""]], "2023-01-28")
    reader = subprocess.Popen(
        [sys.executable, "-c",
         "import duckdb, sys\n"
         f"con = duckdb.connect({str(data_dir / 'warehouse.duckdb')!r}, read_only=True)\n"
         "count = lambda: con.execute('select count(*) from core.submission').fetchall()[0][0]\n"
         "print(count(), flush=True); sys.stdin.readline(); print(count(), flush=True)"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert reader.stdout.readline().strip() == "2"
        _run(data_dir, "2023-01-29", [[CODE, "立项", "是", "已办结", "2023-02-10", "", "2023-01-29", ""]],
             "2023-01-29")
        reader.stdin.write("\n")
        reader.stdin.flush()
        assert reader.stdout.readline().strip() == "2"  # the state it opened, whole
    finally:
        reader.kill()
    assert query(data_dir, "SELECT count(*) FROM core.submission") == [(4,)]
    assert _lights(data_dir, "2023-01-29")["立项"] == ("绿", False)
