"""包保领导 weekly pages: on the week's page day (city.csv `leader_weekday`, default Monday, or the first
working day after it), one page per leader — HTML and xlsx in `outbox/leaders/<date>/` — with their
projects only: each required procedure with its light and 督办 level, what changed since the same day a
week before, the open 督办 items, the planned starts at risk, and each project's node chart.

Each part is one set-based query over the mart views for every leader at once, split by leader here."""

from __future__ import annotations

import os
import re
from datetime import date, datetime, time, timedelta
from pathlib import Path

import duckdb
import polars as pl

from diaodu.dispatch.node_chart import node_chart, read_nodes
from diaodu.dispatch.page import render_page
from diaodu.dispatch.tables import Block, Column, Figure, Paragraph, Section, Table, full_day_text
from diaodu.dispatch.workbook import write_workbook
from diaodu.schemas import reference
from diaodu.schemas.workdays import day_kind

QUERIES = {
    "projects": """
        SELECT * FROM mart.start_countdown WHERE as_of_date = $as_of AND responsible_leader IS NOT NULL
        ORDER BY responsible_leader, planned_start_date NULLS LAST, project_code""",
    "procedures": """
        SELECT s.project_code, p.project_name, p.responsible_leader, s.procedure, s.status, s.light,
               s.promised_date, s.completed_date, v.level, v.workdays_overdue
        FROM mart.procedure_status AS s
        JOIN mart.project_status AS p USING (as_of_date, project_code)
        JOIN ref.procedure AS rp ON rp.procedure = s.procedure
        LEFT JOIN mart.supervision AS v
          ON v.as_of_date = s.as_of_date AND v.project_code = s.project_code AND v.procedure = s.procedure
        WHERE s.as_of_date = $as_of AND s.required AND p.is_campaign AND p.responsible_leader IS NOT NULL
        ORDER BY p.responsible_leader, s.project_code, rp.sort_order""",
    # Against the latest report date on or before the same day a week earlier.
    "changes": """
        WITH before AS (SELECT max(as_of_date) AS day FROM mart.report_dates WHERE as_of_date <= $week_ago)
        SELECT s.project_code, p.project_name, p.responsible_leader, s.procedure,
               b.status AS status_before, s.status, b.light AS light_before, s.light,
               bv.level AS level_before, v.level
        FROM mart.procedure_status AS s
        JOIN mart.project_status AS p USING (as_of_date, project_code)
        JOIN ref.procedure AS rp ON rp.procedure = s.procedure
        LEFT JOIN mart.procedure_status AS b
          ON b.as_of_date = (SELECT day FROM before) AND b.project_code = s.project_code AND b.procedure = s.procedure
        LEFT JOIN mart.supervision AS v
          ON v.as_of_date = s.as_of_date AND v.project_code = s.project_code AND v.procedure = s.procedure
        LEFT JOIN mart.supervision AS bv
          ON bv.as_of_date = b.as_of_date AND bv.project_code = s.project_code AND bv.procedure = s.procedure
        WHERE s.as_of_date = $as_of AND s.required AND p.is_campaign AND p.responsible_leader IS NOT NULL
          AND (b.status IS DISTINCT FROM s.status OR b.light IS DISTINCT FROM s.light
               OR bv.level IS DISTINCT FROM v.level)
        ORDER BY p.responsible_leader, s.project_code, rp.sort_order""",
    "open_items": """
        SELECT i.*, p.responsible_leader
        FROM mart.supervision_order_items AS i
        JOIN mart.project_status AS p USING (as_of_date, project_code)
        WHERE i.as_of_date = $as_of AND i.state <> '已销号' AND p.responsible_leader IS NOT NULL
        ORDER BY p.responsible_leader, i.issue_date, i.order_no, i.procedure_order""",
}


def is_page_day(day: date) -> bool:
    """The leaders' day of the week, or the first working day after it when it is not one."""
    weekday = reference.supervision().leader_weekday
    since = (day.weekday() - weekday) % 7
    return day_kind(day)[0] and not any(day_kind(day - timedelta(days=back))[0] for back in range(1, since + 1))


def leaders_dir(outbox: Path, as_of: date) -> Path:
    return Path(outbox) / "leaders" / as_of.isoformat()


def write_leader_pages(con: duckdb.DuckDBPyConnection, as_of: date, outbox: Path) -> list[Path]:
    """Every leader's page of the week when `as_of` is the page day (nothing otherwise); the paths written."""
    if not is_page_day(as_of):
        return []
    params = {"as_of": as_of, "week_ago": as_of - timedelta(days=7)}
    frames = {name: con.sql(sql, params={k: v for k, v in params.items() if f"${k}" in sql}).pl()
              for name, sql in QUERIES.items()}
    leaders = sorted(set(frames["projects"]["responsible_leader"].to_list())
                     | set(frames["procedures"]["responsible_leader"].to_list()))
    out_dir = leaders_dir(outbox, as_of)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for leader in leaders:
        mine = {name: frame.filter(pl.col("responsible_leader") == leader) for name, frame in frames.items()}
        sections = _sections(con, as_of, mine)
        title = f"{leader}包保项目周调度（{full_day_text(as_of)}）"
        html = render_page(title=title, heading=f"{reference.city().name}百日攻坚包保项目周调度",
                           date_line=f"（{full_day_text(as_of)}）", meta_left=f"包保领导：{leader}",
                           meta_right=f"包保项目{mine['projects'].height}个", alerts=[], sections=sections,
                           report_year=as_of.year,
                           footer="“本周变化”与一周前同日（或之前最近的汇总日）比较。督办级别：红灯满3个工作日一级、满10个工作日二级。")
        stem = re.sub(r'[\\/:*?"<>|\s]+', "_", leader)
        path = out_dir / f"{stem}.html"
        staging = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        staging.write_text(html, encoding="utf-8")
        os.replace(staging, path)
        tables = [block for section in sections for block in section.blocks if isinstance(block, Table)]
        written += [path, write_workbook(out_dir / f"{stem}.xlsx", title, [], tables,
                                         created=datetime.combine(as_of, time()))]
    return written


CODE = Column("project_code", "项目代码", on_page=False)


def _sections(con: duckdb.DuckDBPyConnection, as_of: date, mine: dict[str, pl.DataFrame]) -> list[Section]:
    projects, procedures = mine["projects"], mine["procedures"]
    at_risk = projects.filter(pl.col("promised_after_start"))
    red = procedures.filter(pl.col("light") == "红").height
    lead = (f"包保项目{projects.height}个（尚未开工），应办手续{procedures.height}件，其中红灯{red}件、"
            f"督办中{procedures.filter(pl.col('level').is_not_null()).height}件；"
            f"开工日期有风险的项目{at_risk.height}个；未销号督办事项{mine['open_items'].height}项。")
    codes = sorted(set(procedures["project_code"].to_list()))
    charts: list[Block] = [Figure(node_chart(project), project.project_name) for project in read_nodes(con, as_of, codes)]
    return [
        Section("一、包保项目", [Paragraph(lead, "lead"), Table("包保项目", "包保项目与开工倒计时", (
            CODE, Column("project_name", "项目名称", wide=True), Column("unit_name", "所属单位"),
            Column("planned_start_date", "计划开工", "date"), Column("days_to_start", "距开工（天）", "int"),
            Column("outstanding_procedures", "未办结手续", wide=True), Column("latest_promised_date", "最晚承诺", "date"),
            Column("promised_after_start", "开工风险", "flag")), projects, empty="无尚未开工的包保项目。")]),
        Section("二、手续亮灯与督办", [Table("手续", "各项手续亮灯与督办级别", (
            CODE, Column("project_name", "项目名称", wide=True), Column("procedure", "手续"), Column("status", "状态"),
            Column("light", "亮灯", "light"), Column("promised_date", "承诺办结", "date"),
            Column("completed_date", "办结日期", "date"), Column("level", "督办级别"),
            Column("workdays_overdue", "逾期工作日", "int")), procedures)]),
        Section("三、本周变化", [Table("本周变化", "本周变化（状态、亮灯、督办级别）", (
            CODE, Column("project_name", "项目名称", wide=True), Column("procedure", "手续"),
            Column("status_before", "上周状态"), Column("status", "本周状态"), Column("light_before", "上周亮灯", "light"),
            Column("light", "本周亮灯", "light"), Column("level_before", "上周督办"), Column("level", "本周督办")),
            mine["changes"], empty="本周无变化。")]),
        Section("四、未销号督办事项", [Table("督办事项", "未销号的督办事项", (
            Column("order_no", "督办单号"), CODE, Column("project_name", "项目名称", wide=True),
            Column("procedure", "手续"), Column("level", "级别"), Column("reply_deadline", "回复期限", "date"),
            Column("state", "状态"), Column("reply_text", "回复内容", wide=True),
            Column("expected_date", "预计办结", "date")), mine["open_items"], empty="无。")]),
        Section("五、项目节点图（挂图作战）", charts or [Paragraph("无。", "note")]),
    ]
