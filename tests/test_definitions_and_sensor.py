"""The Dagster definitions load, and the inbox sensor starts a run for new settled files only."""

from __future__ import annotations

import os
import re
import time
from datetime import date

import dagster as dg

from diaodu.pipelines.data_dir import MARKER, init_data_dir
from diaodu.pipelines.definitions import build_definitions
from diaodu.pipelines.resources import DiaoduSettings
from diaodu.pipelines.sensors import inbox_sensor
from tests.conftest import PROJECT_HEADER, project_row, query, write_csv


def test_definitions_load_with_the_asset_graph_checks_sensor_and_schedule(tmp_path):
    defs = build_definitions(str(init_data_dir(tmp_path / "data").root))
    graph = defs.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    assert {"submissions", "daily_rollup", "daily_briefing", "rollup/procedure_status", "mart/procedure_rollup"} <= keys
    assert graph.get(dg.AssetKey("daily_rollup")).parent_keys == {dg.AssetKey("submissions"),
                                                                   dg.AssetKey(["rollup", "procedure_status"])}
    checks = {key.name for key in graph.asset_check_keys}
    assert {"no_rows_returned", "no_files_returned_whole", "calendar_known", "counts_add_up",
            "one_row_per_grain"} <= checks
    assert defs.resolve_sensor_def("inbox_sensor") and defs.resolve_schedule_def("daily_rollup_job_schedule")
    assert defs.resolve_job_def("ingest_job").partitions_def.timezone == "Asia/Shanghai"


def _drop(data_dir, name="项目.csv", age_seconds=60):
    path = write_csv(data_dir / "inbox" / "LS" / name, [
        ["填报日期：2023年1月29日"], PROJECT_HEADER, project_row("2022-211402-26-03-000001")])
    old = time.time() - age_seconds
    os.utime(path, (old, old))
    return path


NOTHING_SETTLED = "No new settled files in the inbox"


def _tick(data_dir, instance, cursor=None):
    context = dg.build_sensor_context(instance=instance, cursor=cursor,
                                      resources={"settings": DiaoduSettings(data_dir=str(data_dir))})
    return inbox_sensor(context)


def test_sensor_requests_one_run_for_a_settled_file_and_none_after_processing(data_dir):
    with dg.instance_for_test() as instance:
        assert _tick(data_dir, instance).skip_message == NOTHING_SETTLED
        path = _drop(data_dir)
        request = _tick(data_dir, instance)
        assert isinstance(request, dg.RunRequest)
        assert request.run_config["ops"]["submissions"]["config"]["files"] == ["LS/项目.csv"]
        # The same file seen again yields the same run key: Dagster launches it once.
        assert _tick(data_dir, instance).run_key == request.run_key

        defs = build_definitions(str(data_dir))
        result = defs.resolve_job_def("ingest_job").execute_in_process(
            instance=instance, partition_key="2023-01-29", run_config=request.run_config)
        assert result.success and not path.exists()
        assert _tick(data_dir, instance).skip_message == NOTHING_SETTLED
        assert query(data_dir, "SELECT outcome FROM mart.submissions") == [("accepted",)]


def test_sensor_waits_for_a_file_still_being_written(data_dir):
    with dg.instance_for_test() as instance:
        path = _drop(data_dir, age_seconds=0)
        assert _tick(data_dir, instance).skip_message == NOTHING_SETTLED
        # The same file once it has stopped growing: it was seen, and only waited for.
        old = time.time() - 60
        os.utime(path, (old, old))
        request = _tick(data_dir, instance)
        assert request.run_config["ops"]["submissions"]["config"]["files"] == ["LS/项目.csv"]


def test_same_bytes_twice_is_a_duplicate_that_changes_nothing(data_dir):
    defs = build_definitions(str(data_dir))
    job = defs.resolve_job_def("ingest_job")
    with dg.instance_for_test() as instance:
        _drop(data_dir, "第一次.csv")
        assert job.execute_in_process(instance=instance, partition_key="2023-01-29").success
        before = query(data_dir, "SELECT * FROM core.project_version")
        _drop(data_dir, "第二次.csv")
        assert job.execute_in_process(instance=instance, partition_key="2023-01-29").success
    assert query(data_dir, "SELECT outcome FROM mart.submissions ORDER BY received_at, submission_id") == [
        ("accepted",), ("duplicate",)]
    assert query(data_dir, "SELECT * FROM core.project_version") == before
    assert query(data_dir, "SELECT count(*) FROM mart.procedure_rollup") == [(0,)]
    assert date(2023, 1, 29) in {d for (d,) in query(data_dir, "SELECT as_of_date FROM rollup.rollup_run")}


def test_on_a_sample_directory_the_sensor_runs_for_the_samples_date_and_the_ui_says_so(tmp_path):
    from diaodu.sample.campaign import SAMPLE_REPORT_DATE

    sample_dir = init_data_dir(tmp_path / "demo", SAMPLE_REPORT_DATE).root
    _drop(sample_dir)
    with dg.instance_for_test() as instance:
        request = _tick(sample_dir, instance)
    note = "示例数据，填报日期固定为 2023-01-29"
    assert request.partition_key == "2023-01-29" and request.tags["diaodu/sample"] == note
    defs = build_definitions(str(sample_dir))
    graph = defs.resolve_asset_graph()
    assert all(note in (graph.get(key).description or "") for key in graph.get_all_asset_keys())
    assert not defs.schedules  # no 16:00 briefing for today from the sample
    real = build_definitions(str(init_data_dir(tmp_path / "real").root))
    assert note not in (real.resolve_assets_def("submissions").specs_by_key[dg.AssetKey("submissions")].description or "")


def test_the_inbox_sensor_skips_a_path_that_is_not_a_data_directory(tmp_path):
    stranger = tmp_path / "stranger"
    _drop(stranger)
    with dg.instance_for_test() as instance:
        skipped = _tick(stranger, instance)
    assert isinstance(skipped, dg.SkipReason) and "不是 diaodu 数据目录" in (skipped.skip_message or "")


def test_the_submissions_description_keeps_its_paths_in_the_ui(tmp_path):
    # The UI renders descriptions as Markdown: `<UNIT>` outside a code span is an HTML tag and vanishes.
    spec = build_definitions(str(tmp_path)).resolve_assets_def("submissions").specs_by_key[dg.AssetKey("submissions")]
    outside_code = re.sub(r"`[^`]*`", "", spec.description or "")
    assert "inbox/<UNIT>/" in (spec.description or "") and "<" not in outside_code


def test_a_file_whose_run_the_portal_launched_is_not_requested_again(data_dir):
    from dagster._core.test_utils import create_run_for_test

    with dg.instance_for_test() as instance:
        _drop(data_dir)
        _drop(data_dir, "手续.csv")
        config = {"ops": {"submissions": {"config": {"files": ["LS/项目.csv"]}}}}
        launched = create_run_for_test(instance, job_name="ingest_job", status=dg.DagsterRunStatus.STARTED,
                                       run_config=config)
        request = _tick(data_dir, instance)
        assert request.run_config["ops"]["submissions"]["config"]["files"] == ["LS/手续.csv"]
        instance.report_run_failed(launched)  # a run that ended without taking it: the sensor takes it up
        request = _tick(data_dir, instance)
        assert sorted(request.run_config["ops"]["submissions"]["config"]["files"]) == ["LS/手续.csv", "LS/项目.csv"]


def test_claims_of_a_run_that_ended_are_taken_up_at_once_and_retried_a_few_times(data_dir):
    from dagster._core.test_utils import create_run_for_test

    from diaodu.intake.inbox import claim, scan_inbox
    from diaodu.pipelines.sensors import ABANDONED_CLAIM_RUNS, ABANDONED_TAG

    with dg.instance_for_test() as instance:
        _drop(data_dir)
        claimed = claim(scan_inbox(data_dir / "inbox")[0][0], data_dir)  # as a run about to be killed does
        assert claimed is not None
        holder = create_run_for_test(instance, job_name="ingest_job", status=dg.DagsterRunStatus.STARTED)
        assert isinstance(_tick(data_dir, instance), dg.SkipReason)  # the run that holds it is still going
        instance.report_run_failed(holder)
        keys = set()
        for _ in range(ABANDONED_CLAIM_RUNS + 2):  # each run started for the claim is killed again
            request = _tick(data_dir, instance)
            assert isinstance(request, dg.RunRequest) and request.tags[ABANDONED_TAG]
            keys.add(request.run_key)
            create_run_for_test(instance, job_name="ingest_job", status=dg.DagsterRunStatus.FAILURE,
                                tags=request.tags)
        assert len(keys) == ABANDONED_CLAIM_RUNS  # then it waits for the next run that new files start


def test_a_path_that_is_not_a_data_directory_gets_no_schedule_and_a_broken_marker_still_loads(tmp_path):
    # A mistyped DIAODU_DATA_DIR: no 16:00 rollup or 02:30 backup grows a warehouse there.
    assert not build_definitions(str(tmp_path / "mistyped")).schedules
    broken = init_data_dir(tmp_path / "broken").root
    (broken / MARKER).write_text("format = [", encoding="utf-8")
    defs = build_definitions(str(broken))  # loads: the inbox sensor says what is wrong
    assert not defs.schedules
    with dg.instance_for_test() as instance:
        skipped = _tick(broken, instance)
    assert isinstance(skipped, dg.SkipReason) and MARKER in (skipped.skip_message or "")
