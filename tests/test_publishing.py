"""Publishing in proportion to the change: after every publish the catalog readers open shows exactly
the working state, table for table, while only the parts that changed were written; replaced parts
outlive the publish that replaced them for a while; what a killed publisher left is cleaned up."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import duckdb
import polars as pl

import diaodu.warehouse.publish as publish
from diaodu.warehouse.merge import close_versions
from diaodu.warehouse.rollup import materialise_days
from diaodu.warehouse.store import Warehouse, insert

NOW = datetime(2023, 3, 1, 16, 0)


def submission(con: duckdb.DuckDBPyConnection, seq: int, unit: str, report_date: date) -> str:
    submission_id = f"S{seq:06d}-{unit}"
    insert(con, "core.submission", pl.DataFrame([dict(
        submission_id=submission_id, seq=seq, unit_code=unit, report_date=report_date, received_at=NOW,
        file_name="f.csv", sha256="0" * 64, outcome="accepted", rows_total=1, rows_accepted=1, rows_rejected=0,
        archive_path="", claim_key=None, batch_id=None, internal_error=None)]))
    return submission_id


def merge(con: duckdb.DuckDBPyConnection, seq: int, report_date: date, statuses: dict[str, str]) -> None:
    """A county's file, the way merging writes it: its versions (replacing the same report date's) and
    valid_to closed over every version of the keys written."""
    submission_id = submission(con, seq, "LS", report_date)
    con.execute("BEGIN")
    if seq == 1:
        insert(con, "core.project_version", pl.DataFrame([dict(
            project_code=code, unit_code="LS", report_date=report_date, project_name=code, total_investment=1e4,
            construction_state="未开工", is_campaign=True, submission_id=submission_id, seq=seq, source_row=4)
            for code in statuses]))
        close_versions(con, "project", pl.DataFrame({"project_code": list(statuses), "unit_code": ["LS"] * len(statuses),
                                                     "report_date": [report_date] * len(statuses)}))
    rows = pl.DataFrame([dict(
        project_code=code, procedure="立项", source_unit="LS", source_role="unit", report_date=report_date,
        required=True, status=status, submission_id=submission_id, seq=seq, source_row=4 + i)
        for i, (code, status) in enumerate(statuses.items())])
    insert(con, "core.procedure_version", rows, replace=True)
    close_versions(con, "procedure", rows)
    con.execute("COMMIT")


def published_equals_work(data_dir: Path) -> None:
    """Every table of the working file has the same rows in the published catalog (a view over parts or
    a copy), and every mart view shows the same rows."""
    warehouse = Warehouse(data_dir)
    with duckdb.connect(str(warehouse.published_path), read_only=True) as reader, \
            duckdb.connect(str(warehouse.work_path), read_only=True) as work:
        names = [f"{s}.{t}" for s, t in work.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() UNION ALL "
            "SELECT schema_name, view_name FROM duckdb_views() WHERE NOT internal AND schema_name = 'mart'").fetchall()]
        for name in names:
            assert reader.execute(f"SELECT * FROM {name} ORDER BY ALL").fetchall() == \
                work.execute(f"SELECT * FROM {name} ORDER BY ALL").fetchall(), name


def parts(data_dir: Path) -> set[str]:
    return {path.name for path in (data_dir / "warehouse.parts").iterdir()}


CODES = [f"2023-211402-48-01-{n:06d}" for n in range(1, 6)]


def test_each_publish_writes_the_changed_parts_and_readers_see_the_whole_state(data_dir):
    warehouse = Warehouse(data_dir)
    with warehouse.writing() as con:
        merge(con, 1, date(2023, 1, 5), dict.fromkeys(CODES, "待办"))
    with warehouse.writing() as con:
        merge(con, 2, date(2023, 1, 16), {CODES[0]: "正办理"})
        materialise_days(con, [date(2023, 1, 5), date(2023, 1, 16), date(2023, 1, 25)], 3, NOW)
    published_equals_work(data_dir)
    before = parts(data_dir)

    # The next day's file: the versions still current and the 旬 of the versions it closes change; the
    # rollup parts and the other 旬 of closed versions are the same files.
    with warehouse.writing() as con:
        merge(con, 3, date(2023, 1, 17), {CODES[1]: "正办理"})
    published_equals_work(data_dir)
    written = parts(data_dir) - before
    assert sorted(name.split(".")[2] + " " + name.split(".")[1] for name in written) == [
        "2023-01-11 procedure_version", "open procedure_version"]
    assert {name for name in before if "rollup" in name} <= parts(data_dir)

    # A late file for an earlier date slots in between: its 旬 and the 旬 of the version it now ends change.
    with warehouse.writing() as con:
        merge(con, 4, date(2023, 1, 8), {CODES[0]: "正办理"})
    published_equals_work(data_dir)
    # The same report date again (a corrected file replaces its versions), then a re-judged rollup day.
    with warehouse.writing() as con:
        merge(con, 5, date(2023, 1, 17), {CODES[1]: "已办结", CODES[2]: "正办理"})
    with warehouse.writing() as con:
        materialise_days(con, [date(2023, 1, 16)], 3, datetime(2023, 3, 2, 16, 0))
    published_equals_work(data_dir)
    with duckdb.connect(str(warehouse.published_path), read_only=True) as reader:
        assert reader.execute("SELECT count(*) FROM rollup.procedure_status WHERE as_of_date = '2023-01-16'"
                              ).fetchall() == [(5,)]


def test_a_publish_with_nothing_changed_writes_no_part_and_a_full_one_writes_them_all(data_dir, monkeypatch):
    warehouse = Warehouse(data_dir)
    with warehouse.writing() as con:
        merge(con, 1, date(2023, 1, 5), dict.fromkeys(CODES, "待办"))
        merge(con, 2, date(2023, 1, 16), {CODES[0]: "正办理"})
    before = parts(data_dir)
    with warehouse.writing():
        pass
    assert parts(data_dir) == before
    # The old single-file layout (or a lost catalog): everything is written again, the same rows; the
    # old parts are named by nothing, yet a reader may hold the lost catalog: they go after the retention.
    warehouse.published_path.unlink()
    with warehouse.writing():
        pass
    assert parts(data_dir) > before
    published_equals_work(data_dir)
    monkeypatch.setattr(publish, "RETAIN_SECONDS", 0)
    with warehouse.writing():
        pass
    assert not parts(data_dir) & before


def test_a_data_directory_moved_elsewhere_is_published_there_by_its_next_run(data_dir, tmp_path):
    with Warehouse(data_dir).writing() as con:
        merge(con, 1, date(2023, 1, 5), dict.fromkeys(CODES, "待办"))
    moved = tmp_path / "moved"
    shutil.move(data_dir, moved)
    with Warehouse(moved).writing():  # nothing changed but the place: the parts are reused, the views name them
        pass
    published_equals_work(moved)


def test_replaced_parts_are_kept_for_readers_a_while_and_what_a_killed_publisher_left_goes(data_dir, monkeypatch):
    warehouse = Warehouse(data_dir)
    with warehouse.writing() as con:
        merge(con, 1, date(2023, 1, 5), dict.fromkeys(CODES, "待办"))
    first = parts(data_dir)
    # A reader that opened this catalog keeps reading it after the next publish replaced its parts.
    reader = duckdb.connect(str(warehouse.published_path), read_only=True)
    try:
        with warehouse.writing() as con:
            merge(con, 2, date(2023, 1, 16), {CODES[0]: "正办理"})
        assert first <= parts(data_dir)
        assert reader.execute("SELECT count(*) FROM core.procedure_version").fetchall() == [(5,)]
    finally:
        reader.close()
    # What a publisher killed before its rename left: a part nobody names, a half-written catalog.
    orphan = data_dir / "warehouse.parts" / "core.procedure_version.open.killed.parquet"
    orphan.write_bytes(b"PAR1")
    staging = data_dir / ".warehouse.duckdb.999999.tmp"
    staging.write_bytes(b"half")
    monkeypatch.setattr(publish, "RETAIN_SECONDS", 0)  # and the retention is over
    with warehouse.writing() as con:
        merge(con, 3, date(2023, 1, 17), {CODES[1]: "正办理"})
    assert not orphan.exists() and not staging.exists()
    assert first & parts(data_dir) == {name for name in first if name.startswith("core.project_version.")}
    published_equals_work(data_dir)


KILLED_PUBLISH = """
import sys
from datetime import date
from pathlib import Path
from diaodu.warehouse.store import Warehouse
from tests.test_publishing import CODES, merge
with Warehouse(Path(sys.argv[1])).writing() as con:
    merge(con, 2, date(2023, 1, 16), {CODES[0]: "正办理"})
"""


def test_a_publisher_killed_before_its_rename_leaves_the_last_catalog_whole(data_dir):
    warehouse = Warehouse(data_dir)
    with warehouse.writing() as con:
        merge(con, 1, date(2023, 1, 5), dict.fromkeys(CODES, "待办"))
    catalog, first = warehouse.published_path.read_bytes(), parts(data_dir)
    env = {**os.environ, "DIAODU_KILL_AT": "publish", "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    killed = subprocess.run([sys.executable, "-c", KILLED_PUBLISH, str(data_dir)], env=env, timeout=120)
    assert killed.returncode == -9  # killed with its new parts written, its catalog not renamed
    assert warehouse.published_path.read_bytes() == catalog and parts(data_dir) > first
    with duckdb.connect(str(warehouse.published_path), read_only=True) as reader:
        assert reader.execute("SELECT count(*) FROM core.procedure_version").fetchall() == [(5,)]
    with warehouse.writing():  # the next publish catches up and removes what the killed one wrote
        pass
    published_equals_work(data_dir)
    assert len(parts(data_dir) - first) == 2  # open and 2023-01-11 of procedure_version, once


HOLD_CATALOG = """
import sys
import duckdb
con = duckdb.connect(sys.argv[1])  # read-write, as the DuckDB CLI opens a file: it locks out every other
print(con.execute("SELECT count(*) FROM core.procedure_version").fetchall()[0][0], flush=True)
sys.stdin.readline()
print(con.execute("SELECT count(*) FROM core.procedure_version").fetchall()[0][0], flush=True)
"""


def test_a_catalog_held_read_write_elsewhere_keeps_its_parts_through_a_publish_that_cannot_read_it(
        data_dir, monkeypatch):
    warehouse = Warehouse(data_dir)
    with warehouse.writing() as con:
        merge(con, 1, date(2023, 1, 5), dict.fromkeys(CODES, "待办"))
    with warehouse.writing() as con:  # the first parts replaced: retired, named by the catalog
        merge(con, 2, date(2023, 1, 16), {CODES[0]: "正办理"})
    held = parts(data_dir)
    holder = subprocess.Popen([sys.executable, "-c", HOLD_CATALOG, str(warehouse.published_path)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "6"
        with warehouse.writing() as con:  # its READ_ONLY attach of the locked catalog fails
            merge(con, 3, date(2023, 1, 17), {CODES[1]: "正办理"})
        assert held <= parts(data_dir)  # nothing deleted, neither the catalog's parts nor those it retired
        published_equals_work(data_dir)
        out, err = holder.communicate("\n", timeout=60)
        assert (out.strip(), holder.returncode) == ("6", 0), err  # the holder still reads its history
    finally:
        holder.kill()
    # The next publish reads the new catalog, which retired them: they go once the retention is over.
    monkeypatch.setattr(publish, "RETAIN_SECONDS", 0)
    with warehouse.writing():
        pass
    assert not held & parts(data_dir)
    published_equals_work(data_dir)


def published_parts(warehouse: Warehouse) -> dict[str, str]:
    with duckdb.connect(str(warehouse.published_path), read_only=True) as reader:
        return dict(reader.execute("SELECT table_name || ' ' || part, file_name FROM publish.part").fetchall())


def test_a_part_left_empty_or_zeroed_by_a_power_loss_is_written_again(data_dir):
    warehouse = Warehouse(data_dir)
    with warehouse.writing() as con:
        merge(con, 1, date(2023, 1, 5), dict.fromkeys(CODES, "待办"))
        merge(con, 2, date(2023, 1, 16), {CODES[0]: "正办理"})
    # A part the next publish would reuse, emptied; then one of the right size over zeroed blocks.
    for damage in (lambda path: path.write_bytes(b""), lambda path: path.write_bytes(bytes(path.stat().st_size))):
        damaged = data_dir / "warehouse.parts" / published_parts(warehouse)["core.procedure_version 2023-01-11"]
        damage(damaged)
        with warehouse.writing():
            pass
        assert damaged.name not in published_parts(warehouse).values()
        published_equals_work(data_dir)


def test_parts_their_folder_and_the_catalog_are_on_disk_before_the_rename(data_dir, monkeypatch):
    warehouse = Warehouse(data_dir)
    with warehouse.writing() as con:
        merge(con, 1, date(2023, 1, 5), dict.fromkeys(CODES, "待办"))
    synced: list[str] = []
    renamed: list[str] = []
    fsync, replace = os.fsync, os.replace

    def recorded_fsync(descriptor: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{descriptor}"))
        fsync(descriptor)

    def recorded_replace(source, target) -> None:
        renamed.append(str(target))
        synced.append("renamed")
        replace(source, target)

    monkeypatch.setattr(os, "fsync", recorded_fsync)
    monkeypatch.setattr(os, "replace", recorded_replace)
    before = parts(data_dir)
    with warehouse.writing() as con:
        merge(con, 2, date(2023, 1, 16), {CODES[0]: "正办理"})
    assert renamed == [str(warehouse.published_path)]
    until_rename = synced[:synced.index("renamed")]
    written = {str(data_dir / "warehouse.parts" / name) for name in parts(data_dir) - before}
    assert len(written) == 2 and written <= set(until_rename)
    assert str(data_dir / "warehouse.parts") in until_rename
    assert any(path.endswith(".tmp") for path in until_rename)  # the staged catalog
    assert synced[synced.index("renamed") + 1] == str(data_dir)  # the rename itself


def test_supervision_is_published_in_parts_by_the_xun_of_its_date(data_dir):
    warehouse = Warehouse(data_dir)
    with warehouse.writing() as con:
        merge(con, 1, date(2023, 1, 5), dict.fromkeys(CODES, "待办"))
        con.execute("UPDATE core.procedure_version SET promised_date = DATE '2023-01-06'")  # red, escalated
        materialise_days(con, [date(2023, 1, 5), date(2023, 2, 16), date(2023, 3, 1)], 3, NOW)
    published_equals_work(data_dir)
    assert sorted(key for key in published_parts(warehouse) if key.startswith("rollup.supervision ")) == [
        "rollup.supervision 2023-02-11", "rollup.supervision 2023-03-01"]
    before = published_parts(warehouse)
    with warehouse.writing() as con:  # a re-judged day rewrites its 旬's part only
        materialise_days(con, [date(2023, 2, 16)], 3, datetime(2023, 3, 2, 16, 0))
    published_equals_work(data_dir)
    after = published_parts(warehouse)
    assert after["rollup.supervision 2023-03-01"] == before["rollup.supervision 2023-03-01"]
    assert after["rollup.supervision 2023-02-11"] != before["rollup.supervision 2023-02-11"]
