"""Builders for the bad-input corpus: real .xlsx, .csv (UTF-8 and GBK), zips and broken bytes,
all generated here — no binary blobs in the repository."""

from __future__ import annotations

import csv
import io
import os
import time
import zipfile
from pathlib import Path

import dagster as dg
import pytest

from diaodu.pipelines.assets import submissions
from diaodu.pipelines.resources import DiaoduSettings
from diaodu.sample.ledgers import xlsx_bytes
from tests.conftest import query

PROJECT = ["项目代码", "项目名称", "总投资（万元）", "计划开工日期", "建设状态", "实际开工日期", "包保领导", "是否百日攻坚"]
PROCEDURE = ["项目代码", "手续类型", "是否应办", "办理状态", "承诺办结日期", "受理日期", "办结日期", "批复文号", "立项方式", "备注"]
PROBLEM = ["项目代码", "问题描述", "责任单位", "提出日期", "解决时限", "是否销号", "销号日期"]

LS_A, LS_B = "2022-211402-26-03-000001", "2022-211402-26-03-000002"
GXQ_C = "2022-211400-26-03-000009"


def dated(day: str = "2023年1月29日", unit: str = "连山区") -> list[list[str]]:
    return [[f"{unit}百日攻坚项目前期手续台账"], [f"填报单位：{unit}    填报日期：{day}"]]


def csv_bytes(rows: list[list[str]], encoding: str = "utf-8-sig") -> bytes:
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode(encoding)


def project(code: str, name: str = "测试项目", amount: str = "1.5亿元", planned: str = "2023/3/15",
            state: str = "未开工", started: str = "", leader: str = "王副区长", campaign: str = "是") -> list[str]:
    return [code, name, amount, planned, state, started, leader, campaign]


def procedure(code: str, kind: str = "能评", required: str = "是", status: str = "正办理", promised: str = "2023-02-10",
              accepted: str = "", completed: str = "", number: str = "", mode: str = "", note: str = "") -> list[str]:
    return [code, kind, required, status, promised, accepted, completed, number, mode, note]


def problem(code: str, text: str = "用地指标不足", unit: str = "市自然资源局", raised: str = "2023-01-10",
            deadline: str = "2023-02-10", closed: str = "否", closed_on: str = "") -> list[str]:
    return [code, text, unit, raised, deadline, closed, closed_on]


def zip_bomb(unzipped_mb: int = 120) -> bytes:
    buffer = io.BytesIO()
    with (zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive,
          archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member):
        block = b"\0" * (1 << 20)
        for _ in range(unzipped_mb):
            member.write(block)
    return buffer.getvalue()


ACCEPTED = ["SELECT * FROM core.project_version ORDER BY ALL", "SELECT * FROM core.procedure_version ORDER BY ALL",
            "SELECT * FROM core.problem_version ORDER BY ALL"]
BASELINE_FILES = {
    ("LS", "连山区1.28台账.xlsx"): xlsx_bytes({
        "项目": dated("2023-01-28") + [PROJECT, project(LS_A), project(LS_B, name="第二个项目")],
        "手续": dated("2023-01-28") + [PROCEDURE, procedure(LS_A, "立项", status="已办结", completed="2023-01-20"),
                                       procedure(LS_A, "能评")],
        "问题": dated("2023-01-28") + [PROBLEM, problem(LS_A)],
    }),
    ("GXQ", "高新区台账.csv"): csv_bytes(dated("2023-01-28", "葫芦岛高新区") + [PROJECT, project(GXQ_C)], "gbk"),
    ("FGW", "发改委.csv"): csv_bytes(dated("2023-01-28", "市发改委") + [PROCEDURE, procedure(
        LS_A, "立项", status="已办结", completed="2023-01-20", number="葫发改备〔2023〕1号", mode="备案")]),
}


def ingest(data_dir: Path, max_file_mb: int = 20) -> dg.ExecuteInProcessResult:
    settings = DiaoduSettings(data_dir=str(data_dir), max_file_mb=max_file_mb)
    return dg.materialize([submissions], resources={"settings": settings}, raise_on_error=False)


def drop(data_dir: Path, unit: str, name: str, content: bytes) -> Path:
    path = data_dir / "inbox" / unit / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    old = time.time() - 60
    os.utime(path, (old, old))
    return path


@pytest.fixture(scope="module")
def baseline(tmp_path_factory) -> Path:
    data_dir = tmp_path_factory.mktemp("baseline") / "data"
    for (unit, name), content in BASELINE_FILES.items():
        drop(data_dir, unit, name, content)
    assert ingest(data_dir).success
    assert {o for (o,) in query(data_dir, "SELECT outcome FROM mart.submissions")} == {"accepted"}
    return data_dir


