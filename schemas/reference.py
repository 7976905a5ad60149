"""Reference data: units, procedures, value aliases and rule messages, read from `reference/*.csv`.

These are data, not code: another city swaps the files. Loaded once per process.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

REFERENCE_DIR = Path(__file__).resolve().parent / "reference"


def _rows(name: str) -> list[dict[str, str]]:
    with open(REFERENCE_DIR / name, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@dataclass(frozen=True)
class Unit:
    code: str
    name: str
    kind: str  # county | park | bureau
    admin_code: str | None

    @property
    def is_bureau(self) -> bool:
        return self.kind == "bureau"


@dataclass(frozen=True)
class City:
    code: str
    name: str
    timezone: str
    campaign_start: date


@cache
def city() -> City:
    row = _rows("city.csv")[0]
    return City(row["city_code"], row["city_name"], row["timezone"], date.fromisoformat(row["campaign_start"]))


@dataclass(frozen=True)
class Supervision:
    """督办 settings (city.csv; these defaults where a column is absent or empty)."""

    level1_workdays: int = 3  # red this many working days: 一级 (pressed on the bureau and the unit)
    level2_workdays: int = 10  # red this many working days: 二级 (包保领导 and the leading-group office)
    reply_workdays: int = 2  # a 督办单's reply deadline, in working days after its issue date
    order_prefix: str = "葫调督"  # order numbers read 葫调督〔2023〕第5号
    leader_weekday: int = 0  # 包保领导 weekly pages: Monday (0), or the first working day after it


@cache
def supervision() -> Supervision:
    row = {name: value.strip() for name, value in _rows("city.csv")[0].items() if value and value.strip()}
    default = Supervision()

    def number(name: str, fallback: int) -> int:
        return int(row[name]) if name in row else fallback

    return Supervision(
        level1_workdays=number("level1_workdays", default.level1_workdays),
        level2_workdays=number("level2_workdays", default.level2_workdays),
        reply_workdays=number("reply_workdays", default.reply_workdays),
        order_prefix=row.get("order_prefix", default.order_prefix),
        leader_weekday=number("leader_weekday", default.leader_weekday),
    )


@cache
def units() -> dict[str, Unit]:
    return {
        row["unit_code"]: Unit(row["unit_code"], row["unit_name"], row["kind"], row["admin_code"] or None)
        for row in _rows("units.csv")
    }


def unit_by_name(name: str) -> Unit | None:
    """The unit a 填报单位 text names: its code, its name, or a longer form ending in its name."""
    return next((unit for unit in units().values()
                 if name == unit.code or name == unit.name or name.endswith(unit.name)), None)


@cache
def procedures() -> dict[str, str]:
    """Procedure name → code of the bureau that approves it, in the contract's order."""
    rows = sorted(_rows("procedures.csv"), key=lambda row: int(row["sort_order"]))
    return {row["procedure"]: row["owner_unit"] for row in rows}


@cache
def value_aliases() -> dict[str, dict[str, str]]:
    """Field → {alias: canonical value}; procedure aliases come from procedures.csv."""
    aliases: dict[str, dict[str, str]] = {}
    for row in _rows("value_aliases.csv"):
        aliases.setdefault(row["field"], {})[row["alias"]] = row["value"]
    for row in _rows("procedures.csv"):
        for alias in filter(None, row["aliases"].split("|")):
            aliases.setdefault("procedure", {})[alias] = row["procedure"]
    return aliases


@cache
def rule_messages() -> dict[str, str]:
    return {row["rule"]: row["message"] for row in _rows("rules.csv")}


@cache
def start_rate_targets() -> list[tuple[date, float, str]]:
    """The 开复工率 targets (target date, share, label); the data office adds each year's rows."""
    targets = [(date.fromisoformat(row["target_date"]), float(row["target_rate"]), row["label"])
               for row in _rows("start_rate_targets.csv")]
    for target_date, rate, _ in targets:
        if not 0 < rate <= 1:
            raise ValueError(f"start_rate_targets.csv: {target_date}: target_rate must be a fraction in (0, 1]")
    return targets


def local_now() -> datetime:
    """Now in the city's time zone, as naive wall time (how times are stored)."""
    return datetime.now(ZoneInfo(city().timezone)).replace(tzinfo=None, microsecond=0)


def local_today() -> date:
    return local_now().date()
