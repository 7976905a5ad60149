"""The command line as a newcomer meets it: every mistake in a call is one Chinese line on stderr and exit
code 2, never a traceback; a path that is not a data directory is refused; `diaodu init` makes one; a
failed run is one line; a report date after today left in the warehouse breaks no later run."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import pytest

from diaodu.pipelines.cli import main
from diaodu.pipelines.data_dir import MARKER, NotADataDirectory, init_data_dir, open_data_dir
from diaodu.schemas.reference import city, local_now, local_today, units
from diaodu.warehouse.store import Warehouse
from tests.conftest import PROJECT_HEADER, project_row, query, write_csv

CODE = "2022-211402-26-03-000001"

TODAY = local_today()
RANGE = f"（{city().campaign_start} 至 {TODAY}"


def cli(*args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "diaodu.pipelines.cli", *map(str, args)],
                          capture_output=True, text=True, timeout=300, check=False)


def said_once(result: subprocess.CompletedProcess[str], code: int, *words: str) -> str:
    """The one line the command wrote on stderr, after checking its exit code and that no traceback came."""
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    assert result.returncode == code, result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("diaodu: ") and all(word in line for word in words), line
    return line


@pytest.mark.parametrize(("args", "words"), [
    ((), ["缺少子命令", "init"]),
    (("frobnicate",), ["没有子命令“frobnicate”", "run"]),
    (("run",), ["缺少参数 --data-dir", "diaodu run -h"]),
    (("run", "--data-dir"), ["--data-dir 后面缺少取值"]),
    (("run", "--data-dir", "DATA", "--bogus"), ["不认识的参数 --bogus"]),
    (("run", "--data-dir", "DATA", "--as-of", "notadate"), ["notadate 不是有效日期", "YYYY-MM-DD"]),
    (("run", "--data-dir", "DATA", "--as-of", "2023-02-30"), ["2023-02-30 不是有效日期"]),
    (("run", "--data-dir", "DATA", "--as-of", "2099-01-01"), ["2099-01-01 超出可用的填报日期范围", RANGE]),
    (("run", "--data-dir", "DATA", "--as-of", "2023-01-01"), ["2023-01-01 超出可用的填报日期范围", RANGE]),
    (("run", "--data-dir", "DATA", "--as-of", TODAY + timedelta(days=1)), ["超出可用的填报日期范围", RANGE]),
    (("replay", "--data-dir", "DATA"), ["缺少参数 --into"]),
    (("template",), ["缺少参数 --out"]),
])
def test_every_mistake_in_a_call_is_one_chinese_line_and_exit_code_2(data_dir, args, words):
    said_once(cli(*(data_dir if arg == "DATA" else arg for arg in args)), 2, *words)


def test_a_path_that_is_not_a_data_directory_is_refused_and_nothing_is_created(tmp_path):
    mistyped = tmp_path / "mistyped" / "path"
    said_once(cli("run", "--data-dir", mistyped), 2, f"数据目录 {mistyped} 不存在", "diaodu init")
    assert not (tmp_path / "mistyped").exists()
    stranger = tmp_path / "stranger"
    (stranger / "inbox" / "LS").mkdir(parents=True)  # looks like one, was never made by diaodu
    said_once(cli("run", "--data-dir", stranger, "--as-of", "2023-01-29"), 2, "不是 diaodu 数据目录", MARKER)
    said_once(cli("replay", "--data-dir", stranger, "--into", tmp_path / "copy"), 2, "不是 diaodu 数据目录")
    assert [path.name for path in stranger.iterdir()] == ["inbox"] and not (tmp_path / "copy").exists()


def test_init_makes_a_data_directory_and_refuses_a_directory_of_something_else(tmp_path):
    target = tmp_path / "new"
    assert cli("init", target).returncode == 0
    assert {path.name for path in (target / "inbox").iterdir()} == set(units())
    assert (target / "outbox").is_dir() and (target / MARKER).is_file()
    assert cli("init", target).returncode == 0  # again: already one, nothing to do
    said_once(cli("demo", "--data-dir", target), 2, "正式数据目录")  # the sample never mixes with real data
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("x", encoding="utf-8")
    said_once(cli("init", other), 2, "不是空目录")
    assert [path.name for path in other.iterdir()] == ["notes.txt"]


def test_a_data_directory_from_before_the_marker_is_accepted_and_marked(data_dir):
    (data_dir / MARKER).unlink()
    with Warehouse(data_dir).writing():  # state/work.duckdb and warehouse.duckdb, as older versions left them
        pass
    assert open_data_dir(data_dir).sample_report_date is None and (data_dir / MARKER).is_file()


def test_a_failed_run_is_one_line_naming_the_run_and_exit_code_1(data_dir):
    (data_dir / "state").mkdir()
    (data_dir / "state" / "work.duckdb").write_bytes(b"not a database")
    line = said_once(cli("run", "--data-dir", data_dir, "--as-of", "2023-01-29"), 1, "失败", "not a valid DuckDB")
    assert str(data_dir) in line


def test_a_report_date_after_today_in_the_warehouse_is_skipped_with_a_warning(data_dir, tmp_path):
    write_csv(data_dir / "inbox" / "LS" / "项目.csv",
              [["填报日期：2023-01-29"], PROJECT_HEADER, project_row("2022-211402-26-03-000001")])
    assert main(["run", "--data-dir", str(data_dir), "--as-of", "2023-01-29"]) == 0
    ahead = TODAY + timedelta(days=30)  # materialised while the server's clock ran a month ahead
    with Warehouse(data_dir).writing() as con:
        con.execute("INSERT INTO rollup.rollup_run VALUES (?, ?, 3, 'official', 0)", [ahead, local_now()])
    warning = f"晚于今天（{TODAY}）的填报日期 {ahead}"
    assert warning in said_once(cli("run", "--data-dir", data_dir, "--as-of", "2023-01-30"), 0)
    assert query(data_dir, "SELECT count(*) FROM rollup.rollup_run WHERE as_of_date = '2023-01-30'") == [(1,)]
    replayed = tmp_path / "replayed"
    assert warning in said_once(cli("replay", "--data-dir", data_dir, "--into", replayed), 0)
    assert query(replayed, "SELECT as_of_date::VARCHAR FROM rollup.rollup_run ORDER BY 1") == [
        ("2023-01-29",), ("2023-01-30",)]



def test_an_earlier_demo_from_before_the_marker_takes_the_sample_again_and_a_real_directory_does_not(tmp_path):
    from diaodu.sample.campaign import SAMPLE_REPORT_DATE

    old_demo = init_data_dir(tmp_path / "old_demo", SAMPLE_REPORT_DATE).root
    write_csv(old_demo / "inbox" / "LS" / "项目.csv", [["填报日期：2023-01-29"], PROJECT_HEADER, project_row(CODE)])
    assert main(["run", "--data-dir", str(old_demo)]) == 0
    (old_demo / MARKER).unlink()  # as `diaodu demo` left it before the marker existed
    assert init_data_dir(old_demo, SAMPLE_REPORT_DATE).sample_report_date == SAMPLE_REPORT_DATE

    real = init_data_dir(tmp_path / "real").root
    write_csv(real / "inbox" / "LS" / "项目.csv", [["填报日期：2023-01-28"], PROJECT_HEADER, project_row(CODE)])
    assert main(["run", "--data-dir", str(real), "--as-of", "2023-01-28"]) == 0
    (real / MARKER).unlink()
    with pytest.raises(NotADataDirectory, match="正式数据目录"):
        init_data_dir(real, SAMPLE_REPORT_DATE)
