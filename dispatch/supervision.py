"""督办 in what the office reads: the briefing's 督办 section (levels, escalated and resolved today, the
orders issued, overdue orders named — 点名) and its appendix of node charts, and the 督办单 documents
(HTML + xlsx) each addressed unit finds in `outbox/<UNIT>/`. Every figure comes from the mart views
(mart.supervision, mart.supervision_orders, mart.supervision_order_items); the rules are in
docs/supervision.md and the SQL under warehouse/."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path

import duckdb
import polars as pl

from diaodu.dispatch.node_chart import node_chart, read_nodes
from diaodu.dispatch.page import render_page
from diaodu.dispatch.tables import Block, Column, Figure, Paragraph, Section, Table, day_text, full_day_text
from diaodu.dispatch.workbook import write_workbook
from diaodu.schemas import reference

CHARTS_ON_PAGE = 30  # node charts in the briefing's appendix: the most pressed projects first

QUERIES = {
    "escalated": """
        SELECT * FROM mart.supervision WHERE as_of_date = $as_of
        ORDER BY level DESC, workdays_overdue DESC, unit_code, project_name, project_code, procedure_order""",
    # On the previous report date, no longer escalated today (or at a lower level: a promise moved).
    "resolved": """
        SELECT b.*, coalesce(s.status, '') AS status_now, s.promised_date AS promised_now,
               CASE WHEN s.status = '已办结' THEN '已办结' WHEN now.level IS NOT NULL THEN '降为' || now.level
                    ELSE '承诺办结日期调整' END AS how
        FROM mart.supervision AS b
        JOIN mart.report_dates AS r ON r.previous_as_of_date = b.as_of_date AND r.as_of_date = $as_of
        LEFT JOIN mart.supervision AS now
          ON now.as_of_date = $as_of AND now.project_code = b.project_code AND now.procedure = b.procedure
        LEFT JOIN mart.procedure_status AS s
          ON s.as_of_date = $as_of AND s.project_code = b.project_code AND s.procedure = b.procedure
        WHERE now.level IS NULL OR (now.level = '一级' AND b.level = '二级')
        ORDER BY b.unit_code, b.project_name, b.project_code, b.procedure_order""",
    "orders": """
        SELECT * FROM mart.supervision_orders WHERE as_of_date = $as_of ORDER BY order_year, order_seq""",
    "items": """
        SELECT i.*, u.unit_name, b.unit_name AS approving_unit_name
        FROM mart.supervision_order_items AS i
        LEFT JOIN ref.unit AS u ON u.unit_code = i.unit_code
        LEFT JOIN ref.unit AS b ON b.unit_code = i.approving_unit_code
        WHERE i.as_of_date = $as_of
        ORDER BY i.issue_date, i.order_no, i.procedure_order, i.project_code""",
    # Projects with a red or yellow light, the most pressed first: the appendix's node charts.
    "charted": """
        SELECT l.project_code FROM mart.light_list AS l
        LEFT JOIN mart.supervision AS s
          ON s.as_of_date = l.as_of_date AND s.project_code = l.project_code AND s.procedure = l.procedure
        WHERE l.as_of_date = $as_of AND l.is_campaign
        GROUP BY l.project_code
        ORDER BY max(CASE s.level WHEN '二级' THEN 2 WHEN '一级' THEN 1 ELSE 0 END) DESC,
                 count(*) FILTER (WHERE l.light = '红') DESC, max(l.workdays_overdue) DESC NULLS LAST, l.project_code""",
}


@dataclass
class SupervisionData:
    as_of: date
    escalated: pl.DataFrame
    resolved: pl.DataFrame
    orders: pl.DataFrame
    items: pl.DataFrame
    charted: pl.DataFrame

    @property
    def overdue_orders(self) -> pl.DataFrame:
        return self.orders.filter(pl.col("overdue"))

    @property
    def issued_today(self) -> pl.DataFrame:
        return self.orders.filter(pl.col("issue_date") == self.as_of)


def read_supervision(con: duckdb.DuckDBPyConnection, as_of: date) -> SupervisionData:
    frames = {name: con.sql(sql, params={"as_of": as_of}).pl() for name, sql in QUERIES.items()}
    return SupervisionData(as_of=as_of, **frames)


CODE = Column("project_code", "项目代码", on_page=False)
ESCALATED_COLUMNS = (CODE, Column("project_name", "项目名称", wide=True), Column("procedure", "手续"),
                     Column("level", "督办级别"), Column("workdays_overdue", "逾期工作日", "int"),
                     Column("level_since", "升级日期", "date"), Column("unit_name", "所属单位"),
                     Column("approving_unit_name", "审批部门"), Column("responsible_leader", "包保领导"),
                     Column("promised_date", "承诺办结", "date", on_page=False))
ORDER_COLUMNS = (Column("order_no", "督办单号"), Column("unit_name", "责任单位"),
                 Column("issue_date", "下发日期", "date"), Column("reply_deadline", "回复期限", "date"),
                 Column("items", "事项", "int"), Column("replied_items", "已回复", "int"),
                 Column("closed_items", "已销号", "int"), Column("overdue_items", "逾期未回复", "int"),
                 Column("awaiting_items", "待回复", "int", on_page=False))
ITEM_COLUMNS = (Column("order_no", "督办单号"), CODE, Column("project_name", "项目名称", wide=True),
                Column("procedure", "手续"), Column("level", "级别"), Column("unit_name", "责任单位"),
                Column("reply_deadline", "回复期限", "date"), Column("state", "状态"),
                Column("reply_text", "回复内容", wide=True), Column("expected_date", "预计办结", "date"),
                Column("replied_on", "回复日期", "date", on_page=False))


def supervision_section(con: duckdb.DuckDBPyConnection, as_of: date) -> Section:
    """The briefing's 督办 section for a report date."""
    data = read_supervision(con, as_of)
    settings = reference.supervision()
    escalated = data.escalated
    first, second = (escalated.filter(pl.col("level") == level).height for level in ("一级", "二级"))
    today = escalated.filter(pl.col("escalated_today"))
    lead = (f"红灯持续{settings.level1_workdays}个工作日以上的列入一级督办（督促审批部门和所属单位），"
            f"{settings.level2_workdays}个工作日以上的列入二级督办（报包保领导和领导小组办公室）。"
            f"本期一级督办{first}件、二级督办{second}件；今日新升级{today.height}件，解除{data.resolved.height}件；"
            f"今日下发督办单{data.issued_today.height}份。")
    blocks: list[Block] = [Paragraph(lead, "lead")]
    overdue = data.overdue_orders
    if overdue.height:
        per_unit = overdue.group_by("unit_name", maintain_order=True).agg(
            orders=pl.len(), numbers=pl.col("order_no").str.join("、"))
        named = "；".join(f"{r['unit_name']}{r['orders']}份（{r['numbers']}）" for r in per_unit.rows(named=True))
        blocks.append(Paragraph(f"点名：以下单位督办单逾期未回复，予以通报——{named}。", "alert"))
    else:
        blocks.append(Paragraph("本期无逾期未回复的督办单。", "note"))
    blocks += [
        Table("今日升级督办", "今日新升级的督办事项", ESCALATED_COLUMNS, today, empty="今日无新升级事项。", tone="red"),
        Table("今日解除督办", "今日解除（或降级）的督办事项", (
            CODE, Column("project_name", "项目名称", wide=True), Column("procedure", "手续"),
            Column("level", "原级别"), Column("how", "原因"), Column("unit_name", "所属单位")),
            data.resolved, empty="今日无解除事项。"),
        Table("逾期未回复督办单", "逾期未回复的督办单（点名）", ORDER_COLUMNS, overdue, empty="无。", tone="red"),
        Table("督办单", "督办单办理情况", ORDER_COLUMNS, data.orders.filter(pl.col("open")), empty="无未销号的督办单。"),
        Table("督办事项", "督办单所列事项及回复", ITEM_COLUMNS, data.items, on_page=False),
        Table("督办清单", "全部督办事项", ESCALATED_COLUMNS, escalated, on_page=False),
    ]
    return Section("二（续）、督办与督办单", blocks)


def node_chart_appendix(con: duckdb.DuckDBPyConnection, as_of: date) -> Section:
    """附：node charts of the projects with red or yellow items, the most pressed first."""
    codes = read_supervision_codes(con, as_of)
    shown = read_nodes(con, as_of, codes[:CHARTS_ON_PAGE])
    blocks: list[Block] = [Paragraph(
        f"有红灯或黄灯手续的项目{len(codes)}个" + (f"，以下为督办级别最高、红灯最多的前{len(shown)}个" if len(codes) > len(shown)
                                            else "") + "。图例：○受理　◇承诺办结　●办结；线段颜色为亮灯，竖实线为今日，虚线为计划开工。",
        "note")]
    blocks += [Figure(node_chart(project), f"{project.project_name}（{project.unit_name or ''}）") for project in shown]
    return Section("附：项目节点图（挂图作战）", blocks)


def read_supervision_codes(con: duckdb.DuckDBPyConnection, as_of: date) -> list[str]:
    return [code for (code,) in con.execute(QUERIES["charted"], {"as_of": as_of}).fetchall()]


# ---- the 督办单 documents --------------------------------------------------------------------------
def order_file_stem(order_no: str, unit_name: str) -> str:
    return f"{order_no}_{unit_name}_督办单"


def write_orders(con: duckdb.DuckDBPyConnection, as_of: date, outbox: Path) -> list[Path]:
    """The 督办单 issued on a report date, each as HTML and xlsx in its unit's outbox (rewritten the same
    when the date is materialised again). Returns the paths written."""
    data = read_supervision(con, as_of)
    written: list[Path] = []
    for order in data.issued_today.rows(named=True):
        items = data.items.filter(pl.col("order_no") == order["order_no"])
        out_dir = Path(outbox) / order["unit_code"]
        out_dir.mkdir(parents=True, exist_ok=True)
        stem = order_file_stem(order["order_no"], order["unit_name"])
        title, sections = order_document(order, items)
        html = render_page(title=title, heading=f"{reference.city().name}重点项目前期“百日攻坚”督办单",
                           date_line=f"（{order['order_no']}）", meta_left=f"主送：{order['unit_name']}",
                           meta_right=f"下发日期：{full_day_text(order['issue_date'])}", alerts=[],
                           sections=sections, report_year=as_of.year,
                           footer="回复方式：在下次报送的台账中填写“督办回复”表（督办单号、项目代码、手续类型、回复内容、预计办结日期），"
                                  "逐项回复。手续办结后该事项自动销号。")
        path = out_dir / f"{stem}.html"
        staging = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        staging.write_text(html, encoding="utf-8")
        os.replace(staging, path)
        tables = [block for section in sections for block in section.blocks if isinstance(block, Table)]
        issued = datetime.combine(order["issue_date"], time())  # the same bytes when the date is written again
        written += [path, write_workbook(out_dir / f"{stem}.xlsx", title, [], tables, created=issued)]
    return written


def order_document(order: dict, items: pl.DataFrame) -> tuple[str, list[Section]]:
    settings = reference.supervision()
    copied = "、".join(sorted(set(items["approving_unit_name"].drop_nulls().to_list())))
    second = items.filter(pl.col("level") == "二级").height
    text = (f"{order['unit_name']}：截至{full_day_text(order['issue_date'])}，贵单位下列{items.height}项前期手续已超过承诺办结日期"
            f"{settings.level1_workdays}个工作日以上仍未办结，列入督办" + (f"（其中{second}项逾期{settings.level2_workdays}个工作日以上，"
                                                                   "列入二级督办，报包保领导和领导小组办公室）" if second else "")
            + f"。请会同审批部门加快办理，并于{day_text(order['reply_deadline'])}前逐项回复办理情况和预计办结日期。"
            + (f"抄送：{copied}。" if copied else ""))
    table = Table("督办事项", f"督办事项（{order['order_no']}）", (
        Column("project_code", "项目代码"), Column("project_name", "项目名称", wide=True), Column("procedure", "手续"),
        Column("level", "督办级别"), Column("workdays_overdue_at_issue", "逾期工作日", "int"),
        Column("promised_date", "承诺办结", "date"), Column("approving_unit_name", "审批部门")), items)
    return f"{order['order_no']} {order['unit_name']}督办单", [Section("督办事项", [Paragraph(text, "lead"), table])]


# ---- one project's chart on demand (`diaodu chart`) -------------------------------------------------
class NoChart(LookupError):
    """Nothing to chart: no report date materialised, or the project has no required procedure then."""


def latest_report_date(con: duckdb.DuckDBPyConnection) -> date | None:
    return con.execute("SELECT max(as_of_date) FROM mart.report_dates").fetchall()[0][0]


def write_project_chart(con: duckdb.DuckDBPyConnection, project_code: str, as_of: date, path: Path) -> Path:
    """A page holding one project's node chart as of a report date (raises NoChart when there is none)."""
    projects = read_nodes(con, as_of, [project_code])
    if not projects:
        raise NoChart(f"项目代码 {project_code} 在 {as_of} 没有应办手续记录（请核对项目代码或日期）")
    project = projects[0]
    title = f"{project.project_name}节点图（{full_day_text(as_of)}）"
    html = render_page(title=title, heading=f"{project.project_name}前期手续节点图", date_line=f"（{full_day_text(as_of)}）",
                       meta_left=f"{project.unit_name or ''}　项目代码 {project.project_code}",
                       meta_right=f"包保领导：{project.responsible_leader or '未填'}", alerts=[],
                       sections=[Section("挂图作战", [Figure(node_chart(project), "○受理　◇承诺办结　●办结；颜色为亮灯；"
                                                                               "竖实线为今日，虚线为计划开工")])],
                       footer="数据来自仓库 mart.procedure_status、mart.project_status、mart.supervision。", report_year=as_of.year)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html, encoding="utf-8")
    return path
