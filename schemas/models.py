"""Pandera models, one per sheet: the submission contract's tables in code.

Each field's `title` is the header a unit writes, `metadata["aliases"]` the other headers people
use for it. The frame being validated has already been typed (see `intake.cells`) and carries
context columns about the submission: `report_date`, `unit_code`, `unit_kind`, `unit_admin_code`,
`city_code`. Cross-column rules are column checks (so a finding names the cell to fix) written as
Polars expressions; a rule's `error=` is its stable code in `reference/rules.csv`.
"""

from __future__ import annotations

from typing import Any

import pandera.polars as pa
import polars as pl
from pandera.api.polars.model_config import BaseConfig
from pandera.api.polars.types import PolarsData

from diaodu.schemas import reference

PROJECT_CODE_PATTERN = r"^\d{4}-\d{6}-\d{2}-\d{2}-\d{6}$"
PROJECT_CODE_HINT = "项目代码应为“年份-6位行政区划代码-2位行业-2位类型-6位流水号”，如 2022-211402-26-03-012345。"
DONE, IN_PROGRESS, PENDING = "已办结", "正办理", "待办"
CONSTRUCTION_STATES = ["未开工", "已开工", "已复工", "已竣工"]
APPROVAL_LEVELS = ["国家", "省", "市", "县"]
APPROVAL_MODES = ["审批", "核准", "备案"]


def _passes(expr: pl.Expr) -> pl.Expr:
    # A rule about a value that is missing passes: the missing value has its own finding.
    return expr.fill_null(True)


def _rule(data: PolarsData, expr: pl.Expr) -> pl.LazyFrame:
    return data.lazyframe.select(_passes(expr).alias(data.key))


def _project_code(**kwargs: Any) -> Any:  # a pa.Field, typed Any as Pandera types its fields
    return pa.Field(
        title="项目代码",
        str_matches=PROJECT_CODE_PATTERN,
        metadata={"aliases": ["项目编号", "项目统一代码", "投资项目代码", "项目代码（统一代码）"], "hint": PROJECT_CODE_HINT},
        description="全国投资项目在线审批监管平台赋予的项目代码，如 2022-211402-26-03-012345",
        **kwargs,
    )


class ProjectSheet(pa.DataFrameModel):
    """项目: a county's or park's register of its projects."""

    project_code: str = _project_code(unique=True)
    project_name: str = pa.Field(title="项目名称", metadata={"aliases": ["项目"]}, description="项目全称")
    builder: str = pa.Field(
        title="建设单位", nullable=True, metadata={"aliases": ["项目单位", "业主单位"]}, description="选填"
    )
    total_investment: float = pa.Field(
        title="总投资（万元）",
        gt=0,
        metadata={"aliases": ["总投资", "计划总投资", "总投资(万元)", "计划总投资（万元）"]},
        description="单位万元；也可写“3亿元”“3,000万元”",
    )
    planned_start_date: pl.Date = pa.Field(
        title="计划开工日期", nullable=True, metadata={"aliases": ["计划开工时间"]}, description="百日攻坚项目必填"
    )
    construction_state: str = pa.Field(
        title="建设状态", isin=CONSTRUCTION_STATES, metadata={"aliases": ["项目状态", "开工状态"]}
    )
    actual_start_date: pl.Date = pa.Field(
        title="实际开工日期",
        nullable=True,
        metadata={"aliases": ["开工日期", "实际开工时间"]},
        description="已开工或已复工时必填，不得晚于填报日期",
    )
    responsible_leader: str = pa.Field(
        title="包保领导", nullable=True, metadata={"aliases": ["包保市领导", "包保县领导", "包保责任领导"]},
        description="百日攻坚项目必填",
    )
    is_campaign: bool = pa.Field(title="是否百日攻坚", metadata={"aliases": ["百日攻坚项目", "是否百日攻坚项目"]})

    @pa.check("project_code", error="project.code_outside_city")
    def _code_in_city(cls, data: PolarsData) -> pl.LazyFrame:
        return _rule(data, pl.col(data.key).str.slice(5, 4) == pl.col("city_code").str.slice(0, 4))

    @pa.check("project_code", error="project.code_outside_unit")
    def _code_in_unit(cls, data: PolarsData) -> pl.LazyFrame:
        outside_city = pl.col(data.key).str.slice(5, 4) != pl.col("city_code").str.slice(0, 4)
        return _rule(data, (pl.col(data.key).str.slice(5, 6) == pl.col("unit_admin_code")) | outside_city)

    @pa.check("planned_start_date", error="project.planned_start_required")
    def _planned_start_for_campaign(cls, data: PolarsData) -> pl.LazyFrame:
        return _rule(data, pl.col(data.key).is_not_null() | ~pl.col("is_campaign"))

    @pa.check("responsible_leader", error="project.leader_required")
    def _leader_for_campaign(cls, data: PolarsData) -> pl.LazyFrame:
        return _rule(data, pl.col(data.key).is_not_null() | ~pl.col("is_campaign"))

    @pa.check("actual_start_date", error="project.actual_start_required")
    def _actual_start_when_started(cls, data: PolarsData) -> pl.LazyFrame:
        started = pl.col("construction_state").is_in(["已开工", "已复工"])
        return _rule(data, pl.col(data.key).is_not_null() | ~started)

    @pa.check("actual_start_date", error="project.actual_start_after_report")
    def _actual_start_not_future(cls, data: PolarsData) -> pl.LazyFrame:
        return _rule(data, pl.col(data.key) <= pl.col("report_date"))

    class Config(BaseConfig):
        strict = False  # context columns (report_date, unit_code, …) travel with the frame


class ProcedureSheet(pa.DataFrameModel):
    """手续: one row per project × pre-construction procedure."""

    project_code: str = _project_code()
    procedure: str = pa.Field(
        title="手续类型", isin=list(reference.procedures()), metadata={"aliases": ["手续名称", "前期手续", "手续"]}
    )
    required: bool = pa.Field(title="是否应办", metadata={"aliases": ["是否需要办理", "应办"]})
    status: str = pa.Field(
        title="办理状态", nullable=True, isin=[PENDING, IN_PROGRESS, DONE], metadata={"aliases": ["状态", "办理进度"]},
        description="应办时必填",
    )
    approval_level: str = pa.Field(
        title="办理层级", nullable=True, isin=APPROVAL_LEVELS, metadata={"aliases": ["审批层级", "审批级别"]}
    )
    promised_date: pl.Date = pa.Field(
        title="承诺办结日期", nullable=True, metadata={"aliases": ["承诺办结时间", "承诺完成日期", "计划办结日期"]},
        description="应办且未办结时必填",
    )
    promised_workdays: int = pa.Field(
        title="承诺时限", nullable=True, ge=1, metadata={"aliases": ["承诺办理时限", "办理时限", "承诺时限(工作日)"]},
        description="可代替承诺办结日期：工作日数，如“20个工作日”，从受理日期起按法定工作日（含调休）计算",
    )
    accepted_date: pl.Date = pa.Field(
        title="受理日期", nullable=True, metadata={"aliases": ["受理时间"]}, description="选填，不得晚于办结日期"
    )
    completed_date: pl.Date = pa.Field(
        title="办结日期", nullable=True, metadata={"aliases": ["办结时间", "批复日期", "完成日期"]},
        description="已办结时必填，不得晚于填报日期",
    )
    approval_number: str = pa.Field(
        title="批复文号", nullable=True, metadata={"aliases": ["文号", "批复文件号"]}, description="部办局报送已办结时必填"
    )
    approval_mode: str = pa.Field(
        title="立项方式", nullable=True, isin=APPROVAL_MODES, metadata={"aliases": ["审批方式"]},
        description="仅立项手续填写",
    )
    note: str = pa.Field(
        title="备注", nullable=True, metadata={"aliases": ["说明", "情况说明"]},
        description="选填；已办结的手续改回未办结时必须说明原因",
    )

    @pa.check("procedure", error="procedure.duplicate")
    def _one_row_per_procedure(cls, data: PolarsData) -> pl.LazyFrame:
        return _rule(data, ~pl.struct("project_code", data.key).is_duplicated())

    @pa.check("procedure", error="procedure.not_owned_by_bureau")
    def _bureau_reports_own_procedures(cls, data: PolarsData) -> pl.LazyFrame:
        owner = pl.col(data.key).replace_strict(reference.procedures(), default=None)
        return _rule(data, (pl.col("unit_kind") != "bureau") | (owner == pl.col("unit_code")))

    @pa.check("status", error="procedure.status_required")
    def _status_when_required(cls, data: PolarsData) -> pl.LazyFrame:
        return _rule(data, pl.col(data.key).is_not_null() | ~pl.col("required"))

    @pa.check("promised_date", error="procedure.promised_required")
    def _promised_when_open(cls, data: PolarsData) -> pl.LazyFrame:
        open_required = pl.col("required") & (pl.col("status") != DONE)
        # A time limit without an acceptance date has its own finding; one message per mistake.
        return _rule(data, pl.col(data.key).is_not_null() | ~open_required | pl.col("promised_workdays").is_not_null())

    @pa.check("completed_date", error="procedure.completed_required")
    def _completed_when_done(cls, data: PolarsData) -> pl.LazyFrame:
        return _rule(data, pl.col(data.key).is_not_null() | (pl.col("status") != DONE))

    @pa.check("completed_date", error="procedure.completed_after_report")
    def _completed_not_future(cls, data: PolarsData) -> pl.LazyFrame:
        return _rule(data, pl.col(data.key) <= pl.col("report_date"))

    @pa.check("promised_workdays", error="procedure.time_limit_needs_accepted")
    def _time_limit_counts_from_acceptance(cls, data: PolarsData) -> pl.LazyFrame:
        return _rule(data, pl.col(data.key).is_null() | pl.col("accepted_date").is_not_null())

    @pa.check("promised_date", error="procedure.promised_before_accepted")
    def _promised_not_before_accepted(cls, data: PolarsData) -> pl.LazyFrame:
        return _rule(data, pl.col(data.key) >= pl.col("accepted_date"))

    @pa.check("accepted_date", error="procedure.accepted_after_completed")
    def _accepted_before_completed(cls, data: PolarsData) -> pl.LazyFrame:
        return _rule(data, pl.col(data.key) <= pl.col("completed_date"))

    @pa.check("approval_number", error="procedure.approval_number_required")
    def _approval_number_from_bureau(cls, data: PolarsData) -> pl.LazyFrame:
        bureau_done = (pl.col("unit_kind") == "bureau") & (pl.col("status") == DONE)
        return _rule(data, pl.col(data.key).is_not_null() | ~bureau_done)

    @pa.check("approval_mode", error="procedure.approval_mode_only_for_lixiang")
    def _approval_mode_for_lixiang(cls, data: PolarsData) -> pl.LazyFrame:
        return _rule(data, pl.col(data.key).is_null() | (pl.col("procedure") == "立项"))

    class Config(BaseConfig):
        strict = False


class ProblemSheet(pa.DataFrameModel):
    """问题: the problem ledger (问题台账), closed (销号) when solved."""

    project_code: str = _project_code()
    description: str = pa.Field(title="问题描述", metadata={"aliases": ["存在问题", "问题", "问题内容"]})
    responsible_unit: str = pa.Field(title="责任单位", nullable=True, metadata={"aliases": ["责任部门"]})
    raised_date: pl.Date = pa.Field(title="提出日期", nullable=True, metadata={"aliases": ["提出时间"]})
    deadline: pl.Date = pa.Field(title="解决时限", nullable=True, metadata={"aliases": ["完成时限", "解决期限"]})
    closed: bool = pa.Field(title="是否销号", metadata={"aliases": ["销号"]})
    closed_date: pl.Date = pa.Field(
        title="销号日期", nullable=True, metadata={"aliases": ["销号时间"]}, description="已销号时必填"
    )

    @pa.check("description", error="problem.duplicate")
    def _one_row_per_problem(cls, data: PolarsData) -> pl.LazyFrame:
        return _rule(data, ~pl.struct("project_code", data.key).is_duplicated())

    @pa.check("closed_date", error="problem.closed_date_required")
    def _closed_date_when_closed(cls, data: PolarsData) -> pl.LazyFrame:
        return _rule(data, pl.col(data.key).is_not_null() | ~pl.col("closed"))

    @pa.check("deadline", error="problem.deadline_before_raised")
    def _deadline_after_raised(cls, data: PolarsData) -> pl.LazyFrame:
        return _rule(data, pl.col(data.key) >= pl.col("raised_date"))

    class Config(BaseConfig):
        strict = False


class SupervisionReplySheet(pa.DataFrameModel):
    """督办回复: a unit's answer to each item of a 督办单 it was sent (see docs/supervision.md)."""

    order_no: str = pa.Field(title="督办单号", metadata={"aliases": ["督办单编号", "督办编号"]},
                             description="督办单上的编号，如 葫调督〔2023〕第1号")
    project_code: str = _project_code()
    procedure: str = pa.Field(
        title="手续类型", isin=list(reference.procedures()), metadata={"aliases": ["手续名称", "前期手续", "手续"]},
        description="督办单所列的手续")
    reply_text: str = pa.Field(title="回复内容", metadata={"aliases": ["回复", "办理情况", "整改情况"]},
                               description="未办结的原因、已采取的措施")
    expected_date: pl.Date = pa.Field(
        title="预计办结日期", nullable=True, metadata={"aliases": ["预计完成日期", "预计办结时间"]},
        description="选填；不得早于填报日期")

    @pa.check("procedure", error="reply.duplicate")
    def _one_row_per_item(cls, data: PolarsData) -> pl.LazyFrame:
        return _rule(data, ~pl.struct("order_no", "project_code", data.key).is_duplicated())

    @pa.check("expected_date", error="reply.expected_date_past")
    def _expected_not_past(cls, data: PolarsData) -> pl.LazyFrame:
        return _rule(data, pl.col(data.key) >= pl.col("report_date"))

    class Config(BaseConfig):
        strict = False


# Columns a unit may leave out entirely; every other field's header must be present.
OPTIONAL_COLUMNS = {
    "builder", "actual_start_date", "approval_level", "accepted_date", "approval_number", "approval_mode",
    "responsible_unit", "raised_date", "deadline", "closed_date", "promised_date", "completed_date", "note",
    "promised_workdays", "expected_date",
}


class SheetSpec:
    """A sheet of the contract: its Chinese name, the model, and the column that tells it apart."""

    def __init__(self, name: str, key: str, model: type[pa.DataFrameModel], marker: str) -> None:
        self.name, self.key, self.model, self.marker = name, key, model, marker
        self.columns = model.to_schema().columns

    def header(self, field: str) -> str:
        return self.columns[field].title

    def headers(self, field: str) -> list[str]:
        column = self.columns[field]
        return [column.title, *(column.metadata or {}).get("aliases", [])]

    @property
    def required_fields(self) -> list[str]:
        return [field for field in self.columns if field not in OPTIONAL_COLUMNS]


PROJECT = SheetSpec("项目", "project", ProjectSheet, marker="project_name")
PROCEDURE = SheetSpec("手续", "procedure", ProcedureSheet, marker="procedure")
PROBLEM = SheetSpec("问题", "problem", ProblemSheet, marker="description")
REPLY = SheetSpec("督办回复", "reply", SupervisionReplySheet, marker="order_no")
# Order matters: registrations are applied before the rows that refer to them.
SHEETS = (PROJECT, PROCEDURE, PROBLEM, REPLY)
