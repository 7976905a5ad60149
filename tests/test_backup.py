"""Backup and restore: a backup taken while a run goes on, or after a run was killed, restores anywhere
to the same marts and replays; a damaged backup or a non-empty target is refused; the nightly job
keeps the newest N backups."""

from __future__ import annotations

import gzip
import io
import os
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import dagster as dg
import pytest

from diaodu.pipelines.cli import instance_for, main
from diaodu.pipelines.data_dir import init_data_dir
from diaodu.pipelines.resources import DiaoduSettings
from diaodu.pipelines.schedules import backup_job
from diaodu.sample.campaign import write_sample_campaign
from tests.conftest import PROCEDURE_HEADER, PROJECT_HEADER, mart_tables, project_row, query, write_csv

CODE = "2022-211402-26-03-000001"


def cli(data_dir: Path, *args: str, kill_at: str | None = None) -> subprocess.Popen:
    env = {key: value for key, value in os.environ.items() if key != "DIAODU_KILL_AT"}
    if kill_at:
        env["DIAODU_KILL_AT"] = kill_at
    command = [sys.executable, "-m", "diaodu.pipelines.cli", "run", "--data-dir", str(data_dir), *args]
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def drop(data_dir: Path, unit: str, name: str, rows: list[list[str]], arrived_ns: int) -> None:
    path = write_csv(data_dir / "inbox" / unit / name, rows)
    os.utime(path, ns=(arrived_ns, arrived_ns))


def receipts(data_dir: Path) -> dict[str, bytes]:
    outbox = data_dir / "outbox"
    return {str(path.relative_to(outbox)): path.read_bytes() for path in sorted(outbox.glob("*/*_回执.txt"))}


def test_a_backup_taken_while_a_run_goes_on_restores_to_the_same_marts_and_replays(tmp_path):
    original, restored, replayed = tmp_path / "D", tmp_path / "elsewhere" / "D2", tmp_path / "D3"
    init_data_dir(original)
    write_sample_campaign(original / "inbox")
    run = cli(original, "--as-of", "2023-01-29")
    deadline = time.monotonic() + 120
    while not (original / "state" / "processing").is_dir() and run.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)  # the run has started claiming files: the backup meets it mid-run
    assert main(["backup", "--data-dir", str(original), "--to", str(tmp_path / "b.tar.gz")]) == 0
    assert run.wait(timeout=300) == 0, run.stderr.read().decode()[-3000:] if run.stderr else ""
    assert main(["restore", str(tmp_path / "b.tar.gz"), "--into", str(restored)]) == 0
    assert all((restored / "inbox" / unit).is_dir() for unit in ("LS", "GDGS"))  # every unit can drop again
    # What the backup held of the run (the warehouse, the files not yet taken in) completes as the run did.
    assert main(["run", "--data-dir", str(restored), "--as-of", "2023-01-29"]) == 0
    figures = mart_tables(original)
    assert len(figures) >= 20 and figures["procedure_rollup"] and len(figures["submissions"]) >= 17
    assert mart_tables(restored) == figures
    assert receipts(restored) == receipts(original)
    shutil.rmtree(original)  # the old server is gone: the restored directory replays from its own archive
    assert main(["replay", "--data-dir", str(restored), "--into", str(replayed)]) == 0
    assert mart_tables(replayed) == figures


def test_a_backup_after_a_killed_run_holds_what_the_run_merged_but_never_published(tmp_path):
    original, restored = tmp_path / "D", tmp_path / "D2"
    init_data_dir(original)
    now = time.time_ns()
    drop(original, "LS", "项目.csv", [["填报日期：2023-01-28"], PROJECT_HEADER, project_row(CODE)], now - 90 * 10**9)
    drop(original, "LS", "手续.csv", [["填报日期：2023-01-28"], PROCEDURE_HEADER,
                                      [CODE, "立项", "是", "正办理", "2023-02-10", "", "", ""]], now - 80 * 10**9)
    # Killed before its first publish: every file merged into the working file, receipts written, claims gone.
    assert cli(original, "--as-of", "2023-01-28", kill_at="publish:1").wait(timeout=300) == -9
    assert not (original / "warehouse.duckdb").exists() and not any((original / "state" / "processing").rglob("*.csv"))
    # A file waiting in the inbox: its arrival time (to the nanosecond) is part of its record.
    drop(original, "FGW", "立项.csv", [["填报日期：2023-01-29"], PROCEDURE_HEADER,
                                       [CODE, "立项", "是", "已办结", "", "", "2023-01-29", "葫发改备〔2023〕3号"]],
         now - 70 * 10**9 + 123_456_789)
    assert main(["backup", "--data-dir", str(original), "--to", str(tmp_path / "b.tar.gz")]) == 0
    assert main(["restore", str(tmp_path / "b.tar.gz"), "--into", str(restored)]) == 0
    assert (restored / "inbox" / "FGW" / "立项.csv").stat().st_mtime_ns == now - 70 * 10**9 + 123_456_789
    assert query(restored, "SELECT unit_code, file_name FROM core.submission ORDER BY seq") == [
        ("LS", "项目.csv"), ("LS", "手续.csv")]
    for data_dir in (original, restored):
        assert main(["run", "--data-dir", str(data_dir), "--as-of", "2023-01-29"]) == 0
    figures = mart_tables(original)
    assert [row[:2] for row in query(original, "SELECT unit_code, file_name FROM mart.submissions ORDER BY 1, 2")] == [
        ("FGW", "立项.csv"), ("LS", "手续.csv"), ("LS", "项目.csv")]
    assert mart_tables(restored) == figures


@pytest.fixture(scope="module")
def small_backup(tmp_path_factory) -> Path:
    """A backup of a data directory with one processed file."""
    root = tmp_path_factory.mktemp("small")
    init_data_dir(root / "D")
    drop(root / "D", "LS", "项目.csv", [["填报日期：2023-01-28"], PROJECT_HEADER, project_row(CODE)],
         time.time_ns() - 60 * 10**9)
    assert main(["run", "--data-dir", str(root / "D"), "--as-of", "2023-01-28"]) == 0
    assert main(["backup", "--data-dir", str(root / "D"), "--to", str(root / "b.tar.gz")]) == 0
    return root / "b.tar.gz"


def _rewritten(backup: Path, target: Path, change: str) -> Path:
    """The backup's members again, with one file's bytes changed and the manifest left as it was."""
    with tarfile.open(backup) as source, tarfile.open(target, "w:gz") as copy:
        for member in source:
            data = source.extractfile(member).read()  # type: ignore[union-attr]
            if member.name == change:
                data += "（改）".encode()
            member.size = len(data)
            copy.addfile(member, io.BytesIO(data))
    return target


def _flipped(backup: Path, target: Path) -> Path:
    data = bytearray(backup.read_bytes())
    data[len(data) // 2] ^= 0xFF
    target.write_bytes(bytes(data))
    return target


@pytest.mark.parametrize("damage", ["truncated", "flipped_byte", "not_a_backup", "changed_file", "no_manifest"])
def test_a_damaged_backup_is_refused_with_one_line(small_backup, tmp_path, capsys, damage):
    damaged = tmp_path / "damaged.tar.gz"
    if damage == "truncated":
        damaged.write_bytes(small_backup.read_bytes()[: small_backup.stat().st_size * 2 // 3])
    elif damage == "flipped_byte":
        _flipped(small_backup, damaged)
    elif damage == "not_a_backup":
        damaged.write_bytes(gzip.compress("项目代码,项目名称\n".encode()))
    elif damage == "changed_file":
        receipt = next(name for name in tarfile.open(small_backup).getnames() if name.endswith("_回执.txt"))
        _rewritten(small_backup, damaged, receipt)
    else:
        with tarfile.open(small_backup) as source, tarfile.open(damaged, "w:gz") as copy:
            for member in source:
                if member.name != "manifest.json":
                    copy.addfile(member, source.extractfile(member))
    capsys.readouterr()
    assert main(["restore", str(damaged), "--into", str(tmp_path / "D2")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("恢复未进行：") and err.count("\n") == 1, err
    assert not (tmp_path / "D2").exists() and [path.name for path in tmp_path.iterdir()] == ["damaged.tar.gz"]


def test_restore_refuses_a_directory_that_is_not_empty(small_backup, tmp_path, capsys):
    target = tmp_path / "D2"
    (target / "inbox").mkdir(parents=True)
    assert main(["restore", str(small_backup), "--into", str(target)]) == 2
    assert "不是空的" in capsys.readouterr().err
    assert [path.name for path in target.iterdir()] == ["inbox"]
    target.joinpath("inbox").rmdir()  # empty: restored into
    assert main(["restore", str(small_backup), "--into", str(target)]) == 0
    assert query(target, "SELECT file_name, archive_path LIKE 'archive/LS/%' FROM core.submission") == [
        ("项目.csv", True)]


def test_the_nightly_backup_job_keeps_the_newest_n(small_backup, tmp_path):
    data_dir, backups = tmp_path / "D", tmp_path / "backups"
    assert main(["restore", str(small_backup), "--into", str(data_dir)]) == 0
    backups.mkdir()
    older = [backups / f"diaodu-backup-2026010{day}-023000.tar.gz" for day in range(1, 6)]
    for path in older + [backups / "notes.txt"]:
        path.write_bytes(b"")
    defs = dg.Definitions(jobs=[backup_job], resources={"settings": DiaoduSettings(
        data_dir=str(data_dir), backup_dir=str(backups), backup_keep=3)})
    with instance_for(data_dir) as instance:
        assert defs.resolve_job_def("backup_job").execute_in_process(instance=instance).success
    kept = sorted(path.name for path in backups.iterdir())
    (written,) = [name for name in kept if name not in {path.name for path in older} | {"notes.txt"}]
    assert kept == sorted([older[3].name, older[4].name, written, "notes.txt"])
    assert main(["restore", str(backups / written), "--into", str(tmp_path / "D2")]) == 0
    assert mart_tables(tmp_path / "D2") == mart_tables(data_dir)


def test_the_nightly_backup_is_scheduled(tmp_path):
    from diaodu.pipelines.definitions import build_definitions

    schedule = build_definitions(str(init_data_dir(tmp_path / "D").root)).resolve_schedule_def("backup_job_schedule")
    assert (schedule.cron_schedule, schedule.execution_timezone, schedule.job_name) == (
        "30 2 * * *", "Asia/Shanghai", "backup_job")
