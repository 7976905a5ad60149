"""挂图作战: one project's node chart (一张节点图表) — each required procedure on a time axis, from its
acceptance to its promised date and to its completion (or today), coloured by its light, with the
planned start date and the report date marked. Inline SVG drawn by hand like dispatch.charts: no
script, no network, black-and-white safe (the promised date is a diamond, completion a filled dot)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from html import escape

import duckdb

from diaodu.dispatch.charts import FONT, GREEN, GRID, INK, MUTED, RED, YELLOW, _text

LIGHT_COLOURS = {"红": RED, "黄": YELLOW, "绿": GREEN}
NO_LIGHT, START_BLUE = "#78909c", "#1f4e79"
LABEL_WIDTH, STATUS_WIDTH, ROW, TOP = 96, 150, 22, 44


@dataclass(frozen=True)
class Node:
    procedure: str
    status: str | None
    light: str | None
    accepted: date | None
    promised: date | None
    completed: date | None
    level: str | None  # 一级 | 二级 when escalated (督办)


@dataclass(frozen=True)
class ProjectNodes:
    project_code: str
    project_name: str
    unit_name: str | None
    responsible_leader: str | None
    planned_start: date | None
    as_of: date
    nodes: list[Node]


QUERY = """
    SELECT s.project_code, p.project_name, p.unit_name, p.responsible_leader, p.planned_start_date,
           s.procedure AS procedure, s.status, s.light, s.accepted_date, s.promised_date, s.completed_date, v.level
    FROM mart.procedure_status AS s
    JOIN mart.project_status AS p USING (as_of_date, project_code)
    JOIN ref.procedure AS rp ON rp.procedure = s.procedure
    LEFT JOIN mart.supervision AS v
      ON v.as_of_date = s.as_of_date AND v.project_code = s.project_code AND v.procedure = s.procedure
    WHERE s.as_of_date = $as_of AND s.required AND s.project_code IN (SELECT unnest($codes::VARCHAR[]))
    ORDER BY s.project_code, rp.sort_order"""


def read_nodes(con: duckdb.DuckDBPyConnection, as_of: date, codes: list[str]) -> list[ProjectNodes]:
    """The charts' data for these projects as of a report date, in the order of `codes` (one query)."""
    projects: dict[str, ProjectNodes] = {}
    for (code, name, unit, leader, start, procedure, status, light, accepted, promised, completed,
         level) in con.execute(QUERY, {"as_of": as_of, "codes": codes}).fetchall():
        project = projects.setdefault(code, ProjectNodes(code, name, unit, leader, start, as_of, []))
        project.nodes.append(Node(procedure, status, light, accepted, promised, completed, level))
    return [projects[code] for code in codes if code in projects]


def node_chart(project: ProjectNodes, width: int = 720) -> str:
    """The project's node chart as an SVG string (its texts escaped)."""
    days = [d for node in project.nodes for d in (node.accepted, node.promised, node.completed) if d]
    days += [project.as_of] + ([project.planned_start] if project.planned_start else [])
    first, last = min(days) - timedelta(days=3), max(days) + timedelta(days=3)
    span = max((last - first).days, 1)
    plot_left, plot_right = LABEL_WIDTH, width - STATUS_WIDTH
    height = TOP + ROW * max(len(project.nodes), 1) + 30

    def x_of(day: date) -> float:
        return plot_left + (plot_right - plot_left) * (day - first).days / span

    body = [_text(4, 16, f"{project.project_name}（{project.project_code}）", 12.5, weight="bold")]
    who = "　".join(filter(None, [project.unit_name, f"包保领导：{project.responsible_leader}"
                                  if project.responsible_leader else None]))
    body.append(_text(4, 32, who, 10, fill=MUTED))
    bottom = TOP + ROW * len(project.nodes)
    for tick in _ticks(first, last):  # month starts, else weekly
        x = x_of(tick)
        body.append(f'<line x1="{x:.1f}" y1="{TOP - 4}" x2="{x:.1f}" y2="{bottom}" stroke="{GRID}" stroke-width="0.6"/>')
        body.append(_text(x, bottom + 12, f"{tick.month}/{tick.day}", 9, "middle", MUTED))
    for row, node in enumerate(project.nodes):
        y = TOP + ROW * row + ROW / 2
        colour = LIGHT_COLOURS.get(node.light or "", NO_LIGHT)
        body.append(_text(4, y + 4, node.procedure, 11))
        start = node.accepted or node.promised or project.as_of
        end = node.completed or project.as_of
        if end < start:
            start, end = end, start
        body.append(f'<line x1="{x_of(start):.1f}" y1="{y:.1f}" x2="{x_of(end):.1f}" y2="{y:.1f}" '
                    f'stroke="{colour}" stroke-width="5" stroke-linecap="round"/>')
        if node.accepted:
            body.append(f'<circle cx="{x_of(node.accepted):.1f}" cy="{y:.1f}" r="3.5" fill="#fff" '
                        f'stroke="{INK}" stroke-width="1"/>')
        if node.promised:
            px = x_of(node.promised)
            body.append(f'<path d="M{px:.1f},{y - 6:.1f} L{px + 6:.1f},{y:.1f} L{px:.1f},{y + 6:.1f} '
                        f'L{px - 6:.1f},{y:.1f} Z" fill="#fff" stroke="{INK}" stroke-width="1.2"/>')
        if node.completed:
            body.append(f'<circle cx="{x_of(node.completed):.1f}" cy="{y:.1f}" r="4.5" fill="{INK}"/>')
        body.append(_text(plot_right + 8, y + 4, _status_text(node), 10, fill=colour if node.light else MUTED))
    today = x_of(project.as_of)
    body.append(f'<line x1="{today:.1f}" y1="{TOP - 8}" x2="{today:.1f}" y2="{bottom}" stroke="{INK}" '
                f'stroke-width="1.2"/>')
    body.append(_text(today, TOP - 10, "今日", 9.5, "middle"))
    if project.planned_start:
        sx = x_of(project.planned_start)
        body.append(f'<line x1="{sx:.1f}" y1="{TOP - 8}" x2="{sx:.1f}" y2="{bottom}" stroke="{START_BLUE}" '
                    f'stroke-width="1.4" stroke-dasharray="5 3"/>')
        body.append(_text(sx, bottom + 24, f"计划开工 {project.planned_start.month}/{project.planned_start.day}",
                          9.5, "middle", START_BLUE))
    label = f"{project.project_name}节点图：受理○、承诺办结◇、办结●，颜色为亮灯"
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" role="img" '
            f'aria-label="{escape(label)}" font-family="{FONT}" class="node-chart">' + "".join(body) + "</svg>")


def _status_text(node: Node) -> str:
    text = node.status or "未填"
    if node.completed:
        text += f" {node.completed.month}/{node.completed.day}"
    elif node.promised:
        text += f" 承诺{node.promised.month}/{node.promised.day}"
    return text + (f" · {node.level}督办" if node.level else "")


def _ticks(first: date, last: date) -> list[date]:
    months = [date(y, m, 1) for y in range(first.year, last.year + 1) for m in range(1, 13)
              if first <= date(y, m, 1) <= last]
    if len(months) >= 3:
        return months
    return [first + timedelta(days=offset) for offset in range(0, (last - first).days + 1, 7)]
