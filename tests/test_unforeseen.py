"""Failures of ours are loud, never blamed on the clerk and never silent: a rule that cannot run and an
exception while handling one file turn the run red with an ERROR check; that file is kept out whole,
its unit is told the data office knows, the traceback is kept with the submission, and the other files
and everything accepted before stay as they were."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import dagster as dg
import pandera.polars as pa
import polars as pl
import pytest

from diaodu.ingest import batch
from diaodu.pipelines.assets import submissions
from diaodu.pipelines.resources import DiaoduSettings
from diaodu.schemas import models
from diaodu.schemas.findings import RuleError
from tests.conftest import query
from tests.corpus import ACCEPTED, GXQ_C, LS_A, PROCEDURE, PROJECT, csv_bytes, dated, drop, ingest, procedure, project

INTERNAL_ERROR_RULE = "file.internal_error"
INTERNAL_ERROR = ("系统在处理本文件时发生内部错误，这不是贵单位文件的问题。数据办已收到通知，将尽快处理并与贵单位联系；"
                  "本文件暂未导入，请勿修改或重复报送。")


class BrokenProcedureSheet(models.ProcedureSheet):
    """The 手续 model with one rule broken the way a rename breaks it: a column that is not there."""

    @pa.check("status", error="procedure.status_required")
    def _status_renamed(cls, data):  # Pandera passes the model class as cls
        return data.lazyframe.select(pl.col("status_renamed").is_not_null())


@pytest.fixture
def data_dir(baseline: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "data"
    shutil.copytree(baseline, copy)
    return copy


def _evaluation(result, check_name: str):
    (evaluation,) = [e for e in result.get_asset_check_evaluations() if e.check_name == check_name]
    return evaluation


def _accepted_state(data_dir: Path) -> list:
    return [query(data_dir, sql) for sql in ACCEPTED]


def test_a_rule_that_cannot_run_turns_the_run_red_and_accepts_nothing(data_dir, monkeypatch):
    before = _accepted_state(data_dir)
    monkeypatch.setattr(models.PROCEDURE, "model", BrokenProcedureSheet)
    drop(data_dir, "LS", "手续.csv", csv_bytes(dated() + [PROCEDURE, procedure(LS_A, "环评", status="")]))

    result = ingest(data_dir)

    assert not result.success  # the blocking ERROR check fails the step
    evaluation = _evaluation(result, "no_unforeseen_errors")
    assert not evaluation.passed and evaluation.severity.value == "ERROR"
    (outcome, internal_error), = query(data_dir, "SELECT outcome, internal_error FROM core.submission "
                                                 "WHERE file_name = '手续.csv'")
    assert outcome == "returned"
    assert "status_renamed" in internal_error and "RuleError" in internal_error
    assert query(data_dir, "SELECT rule, sheet, row_number, column_name, message FROM mart.rejections "
                           "WHERE submission_id IN (SELECT submission_id FROM mart.submissions "
                           "WHERE file_name = '手续.csv')") == [(INTERNAL_ERROR_RULE, None, None, None, INTERNAL_ERROR)]
    assert _accepted_state(data_dir) == before
    receipt = next((data_dir / "outbox" / "LS").glob("*手续*_回执.txt")).read_text(encoding="utf-8-sig")
    assert "不是贵单位文件的问题" in receipt and "数据办已收到通知" in receipt
    assert "status_renamed" not in receipt  # the traceback is for the office, not the clerk


def test_an_exception_in_one_file_keeps_it_out_and_the_others_go_on(data_dir, monkeypatch):
    judge = batch.judge

    def judge_failing_for_gxq(located, context):
        if context.unit.code == "GXQ":
            raise KeyError("a bug of ours")
        return judge(located, context)

    monkeypatch.setattr(batch, "judge", judge_failing_for_gxq)
    drop(data_dir, "GXQ", "高新区.csv", csv_bytes(dated(unit="葫芦岛高新区") + [PROJECT, project(GXQ_C, name="改名")]))
    drop(data_dir, "LS", "连山区.csv", csv_bytes(dated() + [PROCEDURE, procedure(LS_A, "环评")]))

    with dg.DagsterInstance.ephemeral() as instance:
        result = dg.materialize([submissions], resources={"settings": DiaoduSettings(data_dir=str(data_dir))},
                                instance=instance, raise_on_error=False)
        logged = [entry.user_message for entry in instance.all_logs(result.run_id) if entry.level >= logging.ERROR]

    assert not result.success
    assert not _evaluation(result, "no_unforeseen_errors").passed
    assert any("Unforeseen error" in message and "KeyError: 'a bug of ours'" in message for message in logged)
    outcomes = dict(query(data_dir, "SELECT file_name, outcome FROM mart.submissions WHERE report_date IS NULL "
                                    "OR report_date = '2023-01-29'"))
    assert outcomes == {"高新区.csv": "returned", "连山区.csv": "accepted"}
    assert query(data_dir, "SELECT project_name FROM core.project_version WHERE project_code = ?", [GXQ_C]) \
        == [("测试项目",)]  # the failed file changed nothing
    assert query(data_dir, "SELECT count(*) FROM core.procedure_version WHERE procedure = '环评'") == [(1,)]
    (trace,), = query(data_dir, "SELECT internal_error FROM core.submission WHERE file_name = '高新区.csv'")
    assert "KeyError: 'a bug of ours'" in trace and "judge_failing_for_gxq" in trace
    assert not list((data_dir / "state" / "processing").rglob("*.csv"))  # no claim left behind


def test_a_check_name_without_a_rule_code_is_a_rule_error():
    from diaodu.schemas.findings import build_findings

    with pytest.raises(RuleError, match="not_a_rule"):
        build_findings([dict(rule="not_a_rule")])


def test_a_clean_run_passes_the_check(data_dir):
    drop(data_dir, "LS", "连山区.csv", csv_bytes(dated() + [PROCEDURE, procedure(LS_A, "环评")]))
    result = ingest(data_dir)
    assert result.success and _evaluation(result, "no_unforeseen_errors").passed
