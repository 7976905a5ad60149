"""The sample campaign through the CLI: the dispatch figures of 2023-01-29 from the mart views."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest

from diaodu.pipelines.cli import main
from diaodu.schemas.reference import units
from tests.conftest import query

AS_OF = "2023-01-29"


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory) -> Path:
    data_dir = tmp_path_factory.mktemp("demo") / "data"
    assert main(["demo", "--data-dir", str(data_dir)]) == 0
    return data_dir


def city(demo_dir: Path, procedure: str) -> tuple:
    return query(demo_dir, "SELECT required_count, done_count, round(done_rate * 100, 2) FROM mart.procedure_rollup "
                           "WHERE as_of_date = ? AND unit_code = 'CITY' AND procedure = ?", [AS_OF, procedure])[0]


def test_city_figures_match_the_dispatch(demo_dir):
    assert city(demo_dir, "立项") == (146, 114, 78.08)
    assert city(demo_dir, "能评") == (104, 61, 58.65)


def test_lianshan_figures_match_the_dispatch(demo_dir):
    rows = query(demo_dir, "SELECT procedure, required_count, done_count, in_progress_count, pending_count "
                           "FROM mart.procedure_rollup JOIN ref.procedure USING (procedure) WHERE as_of_date = ? "
                           "AND unit_code = 'LS' AND procedure IN ('立项', '能评') ORDER BY sort_order", [AS_OF])
    assert rows == [("立项", 31, 27, 4, 0), ("能评", 31, 21, 5, 5)]
    projects = query(demo_dir, "SELECT count(*) FROM rollup.project_status WHERE as_of_date = ? "
                               "AND unit_code = 'LS' AND is_campaign", [AS_OF])
    assert projects == [(31,)]
    assert query(demo_dir, "SELECT count(*) FROM mart.ready_to_start WHERE as_of_date = ? AND unit_code = 'LS'",
                 [AS_OF]) == [(5,)]


def test_returns_are_visible_and_the_old_format_file_is_returned_whole(demo_dir):
    outcomes = dict(query(demo_dir, "SELECT outcome, count(*) FROM mart.submissions GROUP BY ALL"))
    assert outcomes == {"accepted": 13, "partial": 8, "returned": 1}
    (rule, row_number), = query(demo_dir, "SELECT rule, row_number FROM mart.rejections WHERE unit_code = 'SZBH'")
    assert rule == "file.old_xls" and row_number is None
    assert query(demo_dir, "SELECT count(*) FROM mart.rejections WHERE row_number IS NOT NULL") == [(9,)]


def test_every_submission_gets_a_receipt_and_findings_json(demo_dir):
    submissions = query(demo_dir, "SELECT submission_id, unit_code, outcome, rows_returned FROM mart.submissions")
    rejections = dict(query(demo_dir, "SELECT submission_id, count(*) FROM mart.rejections GROUP BY ALL"))
    errors_in_files = 0
    for submission_id, unit_code, outcome, returned in submissions:
        folder = demo_dir / "outbox" / unit_code
        (receipt,) = folder.glob(f"*{submission_id}_回执.txt")
        (findings,) = folder.glob(f"*{submission_id}_findings.json")
        document = json.loads(findings.read_text(encoding="utf-8"))
        assert document["submission_id"] == submission_id and document["outcome"] == outcome
        assert submission_id in receipt.read_text(encoding="utf-8-sig")
        errors = [f for f in document["findings"] if f["severity"] == "error"]
        assert len(errors) == rejections.get(submission_id, 0)
        assert len({(f["sheet"], f["row_number"]) for f in errors if f["row_number"] is not None}) == returned
        errors_in_files += len(errors)
    assert errors_in_files == 10  # nine returned rows (both copies of BGQ's duplicate) and the .xls


def test_annotated_return_marks_the_bad_cell_with_a_comment(demo_dir):
    submission_id, row_number, column = query(
        demo_dir, "SELECT submission_id, row_number, column_name FROM mart.rejections "
                  "WHERE unit_code = 'LG' AND row_number IS NOT NULL")[0]
    (annotated,) = (demo_dir / "outbox" / "LG").glob(f"*{submission_id}_退回标注.xlsx")
    workbook = openpyxl.load_workbook(annotated)
    assert workbook.sheetnames[0] == "问题清单"
    listing = workbook["问题清单"]
    assert listing.cell(2, 4).value == row_number and listing.cell(2, 5).value == column
    sheet = workbook["手续"]
    header_row = next(r for r in range(1, 10) if column in [c.value for c in sheet[r]])
    column_index = [c.value for c in sheet[header_row]].index(column) + 1
    cell = sheet.cell(row_number, column_index)
    assert cell.comment is not None and "晚于填报日期" in cell.comment.text
    assert cell.fill.fgColor.rgb.endswith("FFC7CE")


def test_inbox_is_emptied_and_bytes_are_archived(demo_dir):
    assert not [p for p in (demo_dir / "inbox").rglob("*") if p.is_file()]
    archived = query(demo_dir, "SELECT archive_path FROM core.submission")
    # Stored relative to the data directory, so a restored or moved directory still finds them.
    assert archived and all(path.startswith("archive/") and (demo_dir / path).is_file() for (path,) in archived)


def test_runs_are_recorded_in_the_dagster_instance(demo_dir):
    from diaodu.pipelines.cli import instance_for

    with instance_for(demo_dir) as instance:
        runs = instance.get_runs()
        assert runs and runs[0].job_name == "ingest_job"
        assert instance.get_latest_materialization_event(
            __import__("dagster").AssetKey("daily_rollup")) is not None


def test_every_planted_error_is_returned_at_its_cell_and_nothing_else_is(demo_dir):
    from diaodu.sample.campaign import sample_deviations

    planted = {(d.unit_code, d.sheet, d.row_number, d.column) for d in sample_deviations()
               if d.kind == "error" and d.row_number is not None}
    found = set(query(demo_dir, "SELECT unit_code, sheet, row_number, column_name FROM mart.rejections "
                                "WHERE row_number IS NOT NULL"))
    # A duplicated row returns both copies: the clerk must keep one.
    assert planted <= found
    assert len(found - planted) == 1 and next(iter(found - planted))[0] == "BGQ"


def test_disagreements_between_county_and_bureau_are_conflicts_not_findings(demo_dir):
    from diaodu.sample.campaign import sample_deviations

    planted = {d.unit_code for d in sample_deviations() if d.kind == "conflict"}
    conflicts = query(demo_dir, "SELECT unit_code, bureau_unit FROM mart.conflicts WHERE as_of_date = ?", [AS_OF])
    assert {unit for unit, _ in conflicts} == planted and {bureau for _, bureau in conflicts} == {"FGW"}
    # Both sides are told: a warning in the later submitter's receipt, a notice to the other side.
    warned = query(demo_dir, "SELECT DISTINCT unit_code FROM core.finding WHERE rule = 'procedure.conflict'")
    notices = {p.parent.name for p in (demo_dir / "outbox").glob("*/*调度核实通知*.txt")}
    assert {unit for (unit,) in warned} | notices == planted | {"FGW"}
    assert not query(demo_dir, "SELECT * FROM mart.rejections WHERE rule = 'procedure.conflict'")


def test_a_backfill_of_a_range_is_one_run_that_re_judges_every_day(demo_dir):
    import dagster as dg

    from diaodu.pipelines.cli import instance_for
    from diaodu.pipelines.definitions import build_definitions

    job = build_definitions(str(demo_dir)).resolve_job_def("daily_rollup_job")
    with instance_for(demo_dir) as instance:
        result = job.execute_in_process(instance=instance, tags={
            "dagster/asset_partition_range_start": "2023-01-30", "dagster/asset_partition_range_end": "2023-02-08"})
        assert result.success
        assert len(instance.get_runs(filters=dg.RunsFilter(job_name="daily_rollup_job"))) == 1
        checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
        assert checks == {"calendar_known": True, "counts_add_up": True, "one_row_per_grain": True}
    red = dict(query(demo_dir, "SELECT as_of_date::VARCHAR, red FROM mart.light_rollup WHERE unit_code = 'CITY'"))
    # Nobody reported after the 29th: promises fall due day by day.
    assert red == {"2023-01-29": 67, "2023-01-30": 67, "2023-01-31": 83, "2023-02-01": 102, "2023-02-02": 125,
                   "2023-02-03": 128, "2023-02-04": 132, "2023-02-05": 136, "2023-02-06": 138, "2023-02-07": 140,
                   "2023-02-08": 144}
    assert len([p for p in (demo_dir / "outbox" / "dispatch").iterdir()]) == 11


def test_the_submissions_run_shows_its_outcomes_as_tables_with_unit_names(demo_dir):
    import dagster as dg

    from diaodu.pipelines.cli import instance_for

    with instance_for(demo_dir) as instance:
        event = instance.get_latest_materialization_event(dg.AssetKey("submissions"))
    metadata = event.asset_materialization.metadata
    by_unit, preview = metadata["by_unit"], metadata["returned_rows_preview"]
    assert isinstance(by_unit, dg.TableMetadataValue) and isinstance(preview, dg.TableMetadataValue)
    assert [column.name for column in by_unit.schema.columns] == [
        "单位", "单位代码", "文件", "填报日期", "结果", "接收行", "退回行"]
    assert len(by_unit.records) == query(demo_dir, "SELECT count(*) FROM mart.submissions")[0][0]
    assert {"连山区", "市发改委"} <= {record.data["单位"] for record in by_unit.records}
    assert {record.data["单位"] for record in preview.records} <= {unit.name for unit in units().values()}
