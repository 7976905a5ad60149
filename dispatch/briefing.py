"""The 一日一调简报 for one report date: an HTML page (self-contained, prints on A4) and a workbook with
the same tables, in `outbox/dispatch/<date>/`, in the order a dispatcher reads:

1. headline figures and completion by procedure, with the change since the previous report date;
2. the red list, then the yellow list;
3. units ranked by completion, the slowest named (点名), units that did not report;
4. done today (销号), ready to start, the countdown to planned start dates, 开复工率;
5. county–bureau disagreements and open problems past their deadline.

Every figure comes from a `mart` view (dispatch.data); this module only arranges and words them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from diaodu.dispatch import charts
from diaodu.dispatch.data import LEADING_PROCEDURES, BriefingData, read_briefing_data
from diaodu.dispatch.page import render_page
from diaodu.dispatch.supervision import node_chart_appendix, supervision_section
from diaodu.dispatch.tables import (
    Block,
    Column,
    Figure,
    KeyFigure,
    Paragraph,
    Section,
    Table,
    change_text,
    day_text,
    full_day_text,
    points_text,
    rate_text,
)
from diaodu.dispatch.workbook import write_workbook
from diaodu.schemas import reference

HTML_NAME, XLSX_NAME = "一日一调简报.html", "一日一调简报.xlsx"
SLOWEST_NAMED = 3  # per group (县区园区, 部办局): the last ranked below the city's rate are named
COUNTDOWN_ON_PAGE = 20  # the nearest planned starts on the page; the workbook lists every project
WEEKDAYS = "一二三四五六日"
KIND_LABELS = {"county": "县区", "park": "园区", "bureau": "部办局"}


@dataclass
class BriefingFiles:
    html: Path
    xlsx: Path
    figures: list[KeyFigure]
    red: int
    yellow: int
    calendar_fallback: bool


def briefing_dir(outbox: Path, as_of: date) -> Path:
    return Path(outbox) / "dispatch" / as_of.isoformat()


def briefing_title(as_of: date) -> str:
    return f"{reference.city().name}重点项目前期“百日攻坚”一日一调简报（{full_day_text(as_of)}）"


def write_briefing(con: duckdb.DuckDBPyConnection, as_of: date, out_dir: Path) -> BriefingFiles:
    """Reads the mart views for `as_of` and writes the HTML page and the workbook into `out_dir`."""
    data = read_briefing_data(con, as_of)
    day = data.report_date.row(0, named=True)
    figures = key_figures(data)
    sections = [headline_section(data, figures), lights_section(data), supervision_section(con, as_of),
                units_section(data), progress_section(data), disagreements_section(data),
                node_chart_appendix(con, as_of)]
    alerts = []
    if day["calendar_fallback"]:
        alerts.append(Paragraph(
            "注意：本期亮灯所涉日期中，有的年份官方节假日安排尚未收录（schemas/reference/workday_overrides.csv 也未补录），"
            "这些日期暂按周一至周五推算工作日，红灯、黄灯可能不准。请数据办补录该年安排后重新生成本简报。", "alert"))
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    city_name, title = reference.city().name, briefing_title(as_of)
    html = render_page(
        title=title,
        heading=f"{city_name}重点项目前期“百日攻坚”一日一调简报",
        date_line=f"（{full_day_text(as_of)}）",
        meta_left=f"百日攻坚第{(as_of - reference.city().campaign_start).days + 1}天 · "
                  f"星期{WEEKDAYS[as_of.weekday()]}（{_day_kind(as_of, day['is_workday'])}）",
        meta_right=f"数据汇总于 {day['materialised_at']:%Y-%m-%d %H:%M}",
        alerts=alerts, sections=sections, report_year=as_of.year,
        footer=f"口径：百日攻坚项目的应办手续，状态以审批部门报送为准（部门未报的以县区、园区报送为准）；"
               f"黄灯为距承诺办结日期不超过{day['yellow_workdays']}个工作日，工作日按国家法定节假日及调休安排计算。"
               f"各表完整清单见同目录《{XLSX_NAME}》。",
    )
    html_path = _write_text(out_dir / HTML_NAME, html)
    tables = [block for section in sections for block in section.blocks if isinstance(block, Table)]
    xlsx_path = write_workbook(out_dir / XLSX_NAME, title, figures, tables)
    return BriefingFiles(html_path, xlsx_path, figures, data.red.height, data.yellow.height,
                         bool(day["calendar_fallback"]))


def _write_text(path: Path, text: str) -> Path:
    staging = path.with_name(f".{path.name}.{os.getpid()}.tmp")  # per process: two runs may write one day's briefing at once
    staging.write_text(text, encoding="utf-8")
    os.replace(staging, path)  # a reader never opens a half-written page
    return path


def _day_kind(day: date, is_workday: bool | None) -> str:
    if is_workday is None:
        return "日历未知"
    if is_workday:
        return "调休工作日" if day.weekday() >= 5 else "工作日"
    return "休息日" if day.weekday() >= 5 else "法定节假日"


def key_figures(data: BriefingData) -> list[KeyFigure]:
    previous = data.city_previous.row(0, named=True) if data.city_previous.height else None
    rate = data.city_value("done_rate", None)
    rate_detail = f"应办{data.city_value('required_count')}件，已办结{data.city_value('done_count')}件"
    if previous is not None:
        change = points_text((rate or 0) - (previous["done_rate"] or 0))
        rate_detail += "；与上期持平" if change == "0.00" else f"；较上期{change}个百分点"
    missed = data.compliance.filter(pl.col("missed"))
    workday = data.report_date["is_workday"][0] is not False
    city_start = data.start_rate.filter(pl.col("unit_code") == "CITY")
    start = city_start.row(0, named=True) if city_start.height else None
    if start is None:
        start_value, start_detail = "—", "尚无500万元以上项目登记"
    else:
        start_value = rate_text(start["start_rate"])
        start_detail = (f"{start['started_or_resumed']}/{start['eligible_projects']}个（500万元以上）")
        if start["target_rate"] is not None:
            start_detail += (f"；{start['target_label']}{start['target_rate']:.0%}"
                             f"（{day_text(start['target_date'])}前），尚差{start['projects_short_of_target']}个")
    closed = data.closed_problems.height
    red, yellow = data.city_value("red"), data.city_value("yellow")  # the rollup's; the lists are its rows
    return [
        KeyFigure("百日攻坚项目", f"{data.city_value('campaign_projects')}个",
                  f"第{(data.as_of - reference.city().campaign_start).days + 1}天"),
        KeyFigure("手续总体办结率", rate_text(rate), rate_detail),
        KeyFigure("红灯（逾期未办结）", f"{red}件", "见第二部分清单", "red" if red else ""),
        KeyFigure("黄灯（即将到期）", f"{yellow}件",
                  f"{data.report_date['yellow_workdays'][0]}个工作日内到期", "yellow" if yellow else ""),
        KeyFigure("今日办结（销号）", f"{data.done_today.height}件",
                  f"问题销号{closed}个" if closed else "", "green" if data.done_today.height else ""),
        KeyFigure("具备开工条件", f"{data.ready.height}个", "手续全部办结、尚未开工"),
        KeyFigure("未报送单位", f"{missed.height}个" if workday else "—",
                  "工作日应报" if workday else "非工作日，不作报送要求", "red" if missed.height else ""),
        KeyFigure("开复工率", start_value, start_detail),
    ]


def headline_section(data: BriefingData, figures: list[KeyFigure]) -> Section:
    previous = data.report_date["previous_as_of_date"][0]
    city_rate = data.city_value("done_rate", None)
    lead = (f"截至{full_day_text(data.as_of)}，全市百日攻坚项目{data.city_value('campaign_projects')}个，"
            f"应办前期手续{data.city_value('required_count')}件、已办结{data.city_value('done_count')}件，"
            f"总体办结率{rate_text(city_rate)}。")
    leading = data.procedures.filter(pl.col("procedure_order") <= LEADING_PROCEDURES).rows(named=True)
    parts = [f"{p['procedure']}应办{p['required_count']}个、已办结{p['done_count']}个，办结率{rate_text(p['done_rate'])}"
             + (f"（较上期{change_text(p['done_change'])}个）" if p["done_change"] else "") for p in leading]
    if parts:
        lead += "其中" + "；".join(parts) + "。"
    lead += f"亮红灯{data.city_value('red')}件、黄灯{data.city_value('yellow')}件。"
    since = (f"“较上期”与{day_text(previous, data.as_of.year)}比较。" if previous is not None
             else "本期为首期汇总，暂无上期数据可比。")
    bars = [charts.CompletionBar(p["procedure"], p["done_count"], p["required_count"], p["done_rate"])
            for p in data.procedures.rows(named=True)]
    trend = {name: list(zip(group["as_of_date"].to_list(), group["done_rate"].to_list(), strict=True))
             for (name,), group in data.trend.group_by("series", maintain_order=True)}
    table = Table("手续办结", "各项手续办结情况（全市）", (
        Column("procedure", "手续"), Column("required_count", "应办", "int"), Column("done_count", "已办结", "int"),
        Column("in_progress_count", "正办理", "int"), Column("pending_count", "待办", "int"),
        Column("done_rate", "办结率", "rate"), Column("done_change", "较上期办结", "change"),
        Column("rate_change", "较上期（百分点）", "points")), data.procedures)
    return Section("一、总体情况", [
        figures, Paragraph(lead, "lead"),
        Figure(charts.completion_bars(bars, "各项手续办结情况"), "深色为已办结，浅色为应办未办结"),
        table, Paragraph(since, "note"),
        Figure(charts.trend_lines(trend, "办结率走势"), "按已汇总的填报日期"),
    ])


CODE = Column("project_code", "项目代码", on_page=False)  # the key the office looks projects up by
LIGHT_COLUMNS = (CODE, Column("project_name", "项目名称", wide=True), Column("procedure", "手续"),
                 Column("promised_date", "承诺办结", "date"))
WHO_COLUMNS = (Column("unit_name", "所属单位"), Column("responsible_leader", "包保领导"),
               Column("approving", "审批部门"), Column("approval_level", "层级", on_page=False))


def _with_approving(frame: pl.DataFrame) -> pl.DataFrame:
    """The approving bureau, marked when the province or the ministry decides (驻京进省专班 follow those)."""
    return frame.with_columns(approving=pl.when(pl.col("approval_level").is_in(["国家", "省"]))
                              .then(pl.concat_str(pl.col("approving_unit_name"), pl.lit("（"),
                                                  pl.col("approval_level"), pl.lit("级审批）")))
                              .otherwise(pl.col("approving_unit_name")))


def lights_section(data: BriefingData) -> Section:
    groups = []
    for group, name in (("area", "县区园区"), ("bureau", "部办局（按所审批手续）")):
        rows = data.units.filter(pl.col("rank_group") == group).sort(["red", "yellow"], descending=True)
        groups.append((name, [charts.LightBar(r["unit_name"], r["red"], r["yellow"], r["green"])
                              for r in rows.rows(named=True)]))
    text = (f"红灯{data.city_value('red')}件（已过承诺办结日期仍未办结），按逾期工作日从多到少排列；"
            f"黄灯{data.city_value('yellow')}件（{data.report_date['yellow_workdays'][0]}个工作日内到期）。"
            "请各包保领导、审批部门逐件盯办。")
    red = Table("红灯清单", "红灯清单（逾期未办结）", LIGHT_COLUMNS + (
        Column("workdays_overdue", "逾期工作日", "int"), Column("days_overdue", "逾期天数", "int", on_page=False))
        + WHO_COLUMNS, _with_approving(data.red), empty="无红灯。", tone="red")
    yellow = Table("黄灯清单", "黄灯清单（即将到期）", LIGHT_COLUMNS + (
        Column("workdays_left", "剩余工作日", "int"),) + WHO_COLUMNS, _with_approving(data.yellow), empty="无黄灯。",
        tone="yellow")
    return Section("二、亮灯督办", [
        Paragraph(text, "lead"),
        Figure(charts.light_bars(groups, "各单位亮灯情况"), "县区园区按所属项目计，部办局按其审批的手续计"),
        red, yellow,
    ])


def units_section(data: BriefingData) -> Section:
    city_rate = data.city_value("done_rate", None)
    named = []
    for group, name in (("area", "县区园区"), ("bureau", "部办局")):
        rows = data.units.filter(pl.col("rank_group") == group)
        slowest = rows.filter((pl.col("done_rate") < (city_rate or 0)) & (pl.col("required_count") > 0)).sort(
            "rank_in_group", descending=True).head(SLOWEST_NAMED)
        if slowest.height:
            listed = "、".join(f"{r['unit_name']}（{rate_text(r['done_rate'])}，红灯{r['red']}件）"
                              for r in slowest.rows(named=True))
            named.append(f"{name}中办结率低于全市平均（{rate_text(city_rate)}）且排名靠后的：{listed}，予以点名通报")
    blocks: list[Block] = [Paragraph(("；".join(named) + "。") if named else "各单位办结率均不低于全市平均，本期不点名。", "lead")]
    columns = (Column("rank_in_group", "排名", "int"), Column("unit_name", "单位"),
               Column("campaign_projects", "项目数", "int"), Column("required_count", "应办", "int"),
               Column("done_count", "已办结", "int"), Column("done_rate", "办结率", "rate"),
               Column("red", "红灯", "int"), Column("yellow", "黄灯", "int"),
               Column("overdue_completions", "逾期办结", "int"))
    blocks.append(Table("县区园区排名", "县区、园区办结率排名", columns,
                        data.units.filter(pl.col("rank_group") == "area"), numbered=False))
    blocks.append(Table("部办局排名", "部办局办结率排名（按所审批的手续）", columns,
                        data.units.filter(pl.col("rank_group") == "bureau"), numbered=False))
    missed = data.compliance.filter(pl.col("missed")).with_columns(
        kind_label=pl.col("kind").replace_strict(KIND_LABELS, default=pl.col("kind")),
        note=pl.when(pl.col("files_returned") > 0).then(pl.lit("所报文件被整份退回")).otherwise(pl.lit("")))
    if data.report_date["is_workday"][0] is False:
        blocks.append(Paragraph("今日为非工作日，不作报送要求。", "note"))
    elif missed.height:
        listed = "、".join(
            r["unit_name"] + (f"（已连续{r['workdays_since_report']}个工作日未报送）"
                              if (r["workdays_since_report"] or 0) > 1 else "")
            for r in missed.rows(named=True))
        blocks.append(Paragraph(f"今日未报送单位{missed.height}个：{listed}。请督促其当日补报。", "alert"))
    else:
        blocks.append(Paragraph("今日各单位均已报送。", "note"))
    blocks.append(Table("未报送单位", "未报送单位", (
        Column("unit_name", "单位"), Column("kind_label", "类别"), Column("last_reported_date", "最近报送", "date"),
        Column("workdays_since_report", "未报工作日", "int"), Column("files_received", "今日收到文件", "int"),
        Column("files_returned", "整份退回", "int"), Column("note", "说明")), missed,
        empty="无。" if data.report_date["is_workday"][0] is not False else "非工作日，不作报送要求。"))
    compliance = data.compliance.with_columns(kind_label=pl.col("kind").replace_strict(KIND_LABELS, default=pl.col("kind")))
    blocks.append(Table("报送情况", "各单位报送情况", (
        Column("unit_name", "单位"), Column("kind_label", "类别"), Column("reported", "今日已报送", "flag"),
        Column("files_received", "收到文件", "int"), Column("files_accepted", "接收文件", "int"),
        Column("files_returned", "整份退回", "int"), Column("last_reported_date", "最近报送", "date"),
        Column("missed", "未报送（工作日）", "flag")), compliance, on_page=False))
    return Section("三、单位排名与点名", blocks)


def progress_section(data: BriefingData) -> Section:
    done = data.done_today.with_columns(how=pl.when(pl.col("completed_on_report_date")).then(pl.lit("今日办结"))
                                        .otherwise(pl.lit("新报办结")))
    blocks: list[Block] = [
        Table("今日办结", "今日办结手续（销号）", (
            CODE, Column("project_name", "项目名称", wide=True), Column("procedure", "手续"),
            Column("completed_date", "办结日期", "date"), Column("approval_number", "批复文号"),
            Column("unit_name", "所属单位"), Column("approving_unit_name", "审批部门"),
            Column("overdue_completion", "逾期办结", "flag"), Column("how", "说明", on_page=False)), done,
            empty="今日无新办结手续。"),
        Table("问题销号", "今日销号问题", (
            CODE, Column("project_name", "项目名称", wide=True), Column("description", "问题", wide=True),
            Column("responsible_unit", "责任单位"), Column("deadline", "解决时限", "date"),
            Column("unit_name", "所属单位")), data.closed_problems, empty="今日无销号问题。"),
        Table("具备开工条件", "具备开工条件的项目（手续全部办结、尚未开工）", (
            CODE, Column("project_name", "项目名称", wide=True), Column("unit_name", "所属单位"),
            Column("total_investment", "总投资（万元）", "money"), Column("planned_start_date", "计划开工", "date"),
            Column("responsible_leader", "包保领导")), data.ready, empty="暂无。"),
    ]
    countdown = data.countdown
    open_count = countdown.filter(pl.col("outstanding_count") > 0).height
    at_risk = countdown.filter(pl.col("promised_after_start")).height
    blocks.append(Paragraph(
        f"尚未开工的百日攻坚项目{countdown.height}个，其中{open_count}个仍有手续未办结，"
        f"{at_risk}个有未办手续的承诺办结日期晚于计划开工日期或未作承诺（“开工风险”），须倒排工期、提前协调。", "lead"))
    blocks.append(Table("开工倒计时", "开工倒计时（按计划开工日期）", (
        CODE, Column("project_name", "项目名称", wide=True), Column("unit_name", "所属单位"),
        Column("planned_start_date", "计划开工", "date"), Column("days_to_start", "距开工（天）", "int"),
        Column("workdays_to_start", "距开工（工作日）", "int", on_page=False),
        Column("outstanding_procedures", "未办结手续", wide=True),
        Column("latest_promised_date", "最晚承诺", "date"), Column("promised_after_start", "开工风险", "flag"),
        Column("responsible_leader", "包保领导")), countdown, html_rows=COUNTDOWN_ON_PAGE, empty="暂无。"))
    blocks.append(Table("开复工率", "开复工率（500万元以上项目）", (
        Column("unit_name", "单位"), Column("eligible_projects", "项目数", "int"),
        Column("started_projects", "已开工", "int"), Column("resumed_projects", "已复工", "int"),
        Column("finished_projects", "已竣工", "int"), Column("start_rate", "开复工率", "rate"),
        Column("target_rate", "目标", "rate"), Column("target_date", "目标日期", "date"),
        Column("projects_short_of_target", "尚差（个）", "int")), data.start_rate))
    return Section("四、今日销号、具备开工条件与开工倒计时", blocks)


def disagreements_section(data: BriefingData) -> Section:
    names = {code: unit.name for code, unit in reference.units().items()}
    conflicts = data.conflicts.with_columns(
        bureau_name=pl.col("bureau_unit").replace_strict(names, default=pl.col("bureau_unit")))
    late = data.open_problems.filter(pl.col("past_deadline"))
    problem_columns = (CODE, Column("project_name", "项目名称", wide=True), Column("description", "问题", wide=True),
                       Column("responsible_unit", "责任单位"), Column("raised_date", "提出日期", "date"),
                       Column("deadline", "解决时限", "date"), Column("days_past_deadline", "超期天数", "int"),
                       Column("unit_name", "所属单位"), Column("responsible_leader", "包保领导"))
    return Section("五、县区与部门数据不一致、逾期未销号问题", [
        Paragraph(f"县区（园区）与审批部门报送不一致{conflicts.height}处，统计以审批部门数据为准，已分别告知双方核对；"
                  f"问题台账未销号{data.open_problems.height}个，其中超过解决时限{late.height}个。", "lead"),
        Table("数据不一致", "县区与部门报送不一致", (
            CODE, Column("project_name", "项目名称", wide=True), Column("procedure", "手续"),
            Column("unit_name", "所属单位"), Column("unit_status", "县区报状态"),
            Column("unit_completed_date", "县区报办结", "date"), Column("bureau_name", "审批部门"),
            Column("bureau_status", "部门报状态"), Column("bureau_completed_date", "部门报办结", "date")),
            conflicts, empty="无。"),
        Table("逾期问题", "超过解决时限未销号的问题", problem_columns, late, empty="无。"),
        Table("未销号问题", "全部未销号问题", problem_columns + (Column("past_deadline", "已超期", "flag"),),
              data.open_problems, on_page=False),
    ])
