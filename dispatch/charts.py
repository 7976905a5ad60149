"""Static SVG charts for the briefing, drawn by hand: a printed page needs no plotting library, no
script and no web font. Every chart scales to the page width (viewBox) and every text is escaped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from html import escape

FONT = "'Noto Sans CJK SC','Source Han Sans SC','Microsoft YaHei','PingFang SC','SimHei',sans-serif"
RED, YELLOW, GREEN = "#c62828", "#f0b400", "#2e7d32"
DONE_BLUE, TRACK = "#1f4e79", "#e3e7ec"
INK, GRID, MUTED = "#222", "#d0d0d0", "#666"
SERIES_COLOURS = ("#c00000", "#1f4e79", "#2e7d32", "#7b1fa2", "#ef6c00")


def _text(x: float, y: float, content: str, size: float = 11, anchor: str = "start", fill: str = INK,
          weight: str = "normal") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" fill="{fill}" '
            f'font-weight="{weight}">{escape(content)}</text>')


def _svg(width: int, height: int, body: list[str], label: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
            f'role="img" aria-label="{escape(label)}" font-family="{FONT}">' + "".join(body) + "</svg>")


def _rate(rate: float | None) -> str:
    return "—" if rate is None else f"{rate:.2%}"


@dataclass(frozen=True)
class CompletionBar:
    label: str
    done: int
    required: int
    rate: float | None


def completion_bars(bars: list[CompletionBar], title: str) -> str:
    """Horizontal bars: the whole track is what is required, the filled part what is done."""
    width, left, right, row, top = 720, 104, 150, 22, 30
    track = width - left - right
    height = top + row * len(bars) + 10
    body = [_text(0, 16, title, 13, weight="bold")]
    for i, bar in enumerate(bars):
        y = top + i * row
        filled = track * (bar.done / bar.required) if bar.required else 0
        body += [
            _text(left - 8, y + 14, bar.label, 11, "end"),
            f'<rect x="{left}" y="{y + 3}" width="{track}" height="{row - 7}" fill="{TRACK}"/>',
            f'<rect x="{left}" y="{y + 3}" width="{filled:.1f}" height="{row - 7}" fill="{DONE_BLUE}"/>',
            _text(left + track + 8, y + 14, f"{bar.done}/{bar.required}  {_rate(bar.rate)}", 11),
        ]
    return _svg(width, height, body, title)


@dataclass(frozen=True)
class LightBar:
    label: str
    red: int
    yellow: int
    green: int


def light_bars(groups: list[tuple[str, list[LightBar]]], title: str) -> str:
    """Stacked horizontal bars per unit, red first so the eye lands on it; groups (县区园区, 部办局)
    share one scale so units compare across them."""
    width, left, right, row, top = 720, 140, 60, 20, 48
    track = width - left - right
    most = max([b.red + b.yellow + b.green for _, bars in groups for b in bars] + [1])
    rows = sum(len(bars) + 1 for _, bars in groups)
    height = top + row * rows + 6
    body = [_text(0, 16, title, 13, weight="bold")]
    legend_x = 0
    for colour, name in ((RED, "红灯"), (YELLOW, "黄灯"), (GREEN, "绿灯（已办结）")):
        body += [f'<rect x="{legend_x}" y="26" width="12" height="12" fill="{colour}"/>',
                 _text(legend_x + 16, 36, name, 11)]
        legend_x += 40 + 12 * len(name)
    y = top
    for group, bars in groups:
        body.append(_text(0, y + 14, group, 11, fill=MUTED, weight="bold"))
        y += row
        for bar in bars:
            body.append(_text(left - 8, y + 13, bar.label, 11, "end"))
            x = float(left)
            for count, colour, ink in ((bar.red, RED, "#fff"), (bar.yellow, YELLOW, INK), (bar.green, GREEN, "#fff")):
                span = track * count / most
                if count:
                    body.append(f'<rect x="{x:.1f}" y="{y + 3}" width="{span:.1f}" height="{row - 6}" fill="{colour}"/>')
                if span >= 9 * len(str(count)) + 4:
                    body.append(_text(x + span / 2, y + 13.5, str(count), 10, "middle", ink))
                x += span
            body.append(_text(x + 6, y + 13.5, f"{bar.red + bar.yellow + bar.green}", 10, fill=MUTED))
            y += row
    return _svg(width, height, body, title)


def trend_lines(series: dict[str, list[tuple[date, float | None]]], title: str) -> str:
    """Lines of a rate (0–100%) over the report dates that have a rollup; one date is drawn as points."""
    width, height, left, right, top, bottom = 720, 250, 46, 16, 44, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    days = sorted({d for points in series.values() for d, _ in points})
    body = [_text(0, 16, title, 13, weight="bold")]
    legend_x = 0
    for i, name in enumerate(series):
        colour = SERIES_COLOURS[i % len(SERIES_COLOURS)]
        body += [f'<line x1="{legend_x}" y1="32" x2="{legend_x + 18}" y2="32" stroke="{colour}" stroke-width="3"/>',
                 _text(legend_x + 24, 36, name, 11)]
        legend_x += 44 + 12 * len(name)
    for tick in (0, 25, 50, 75, 100):
        y = top + plot_h * (1 - tick / 100)
        body += [f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="{GRID}" stroke-width="1"/>',
                 _text(left - 6, y + 4, f"{tick}%", 10, "end", MUTED)]
    if not days:
        body.append(_text(left + plot_w / 2, top + plot_h / 2, "暂无数据", 12, "middle", MUTED))
        return _svg(width, height, body, title)
    span = max((days[-1] - days[0]).days, 1)

    def x_of(day: date) -> float:
        return left + plot_w / 2 if len(days) == 1 else left + plot_w * (day - days[0]).days / span

    step = max(1, len(days) // 10)
    for day in days[::step] + ([days[-1]] if (len(days) - 1) % step else []):
        body.append(_text(x_of(day), height - bottom + 16, f"{day.month}/{day.day}", 10, "middle", MUTED))
    end_labels = []  # (y, x, text, colour) of each line's last value
    for i, points in enumerate(series.values()):
        colour = SERIES_COLOURS[i % len(SERIES_COLOURS)]
        xy = [(x_of(d), top + plot_h * (1 - r)) for d, r in sorted(points) if r is not None]
        if len(xy) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in xy)
            body.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2.2"/>')
        if len(xy) <= 40:  # markers while they stay readable
            body += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"/>' for x, y in xy]
        if xy:
            last_rate = next(r for d, r in sorted(points, reverse=True) if r is not None)
            end_labels.append((xy[-1][1] - 6, xy[-1][0] - 4, f"{last_rate:.2%}", colour))
    floor = -1e9
    for y, x, text, colour in sorted(end_labels):  # lines ending close together: labels stacked, not piled
        y = max(y, floor + 12, top + 10)
        floor = y
        body.append(_text(x, y, text, 10, "end", colour, "bold"))
    return _svg(width, height, body, title)
