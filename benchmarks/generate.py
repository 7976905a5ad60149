"""Province-scale benchmark data, seeded and deterministic.

Three kinds of data, all with the messiness of real submissions (see `sample/campaign.py` and the
submission contract): title rows and a `填报单位：… 填报日期：…` line above the header, header
aliases (项目编号, 办理进度 …), value aliases (节能审查, 办理中, 市级 …), dates written six ways
(2023-01-29, 2023/1/29, 2023.1.29, 2023年1月29日, 20230129, full-width ２０２３年…, real Excel date
cells and serials), amounts in 亿元 / 万元 / with thousands separators / full-width, stray blanks,
an extra column the contract ignores, and a small share of wrong rows.

- `write_ingest_set(out)`: one unit's (连山区, LS) registrations (项目, a GBK .csv with title rows)
  and a 100,000-row procedure (手续) submission as UTF-8 .csv, GBK .csv and .xlsx, the same rows.
- `write_unit_workbook(...)` / `write_province_inbox(...)`: a unit's daily workbook (项目 + 手续),
  and a whole inbox of them for every county/park plus the bureaus' 手续 files.
- `generate_history(con, …)`: a year of accepted history written straight into a working DuckDB
  (the warehouse's own DDL): 5,000 projects × 11 procedures reported every day by their county or
  park (which sometimes misses a day), and by the owning bureau once it has the application; only
  a small share of rows change on any day (a procedure is accepted, completed, its promise moved).

Run `python -m benchmarks.generate --help` for the command line.
"""

from __future__ import annotations

import argparse
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import duckdb
import polars as pl

from diaodu.sample.campaign import (
    BRANDS,
    COMPANY_FORMS,
    DOC_WORDS,
    INDUSTRIES,
    LEVEL_WEIGHTS,
    LICENCE_WORDS,
    OTHER_PROCEDURES,
    PHASES,
    PLACES,
    SURNAMES,
)
from diaodu.sample.ledgers import ledger_book, ledger_csv_bytes
from diaodu.schemas import reference

SEED = 20231106
REPORT_DATE = date(2023, 1, 29)
INGEST_UNIT = "LS"
INGEST_ROWS = 100_000
HISTORY_START = date(2023, 1, 3)  # the campaign's first report date

DONE, IN_PROGRESS, PENDING = "已办结", "正办理", "待办"
YES, NO = "是", "否"
LEVELS = ("国家", "省", "市", "县")

PROJECT_COLUMNS = ("项目代码", "项目名称", "建设单位", "总投资（万元）", "计划开工日期", "建设状态", "实际开工日期",
                   "包保领导", "是否百日攻坚")
PROCEDURE_COLUMNS = ("项目代码", "手续类型", "是否应办", "办理状态", "办理层级", "承诺办结日期", "受理日期", "办结日期",
                     "批复文号", "立项方式")
# How the big submission writes its header: aliases people use, an order of their own, a 备注 column.
PROCEDURE_ORDER = ("项目代码", "手续类型", "是否应办", "办理状态", "办理层级", "受理日期", "承诺办结日期", "办结日期",
                   "立项方式", "批复文号")
PROCEDURE_HEADERS = {"项目代码": "项目编号", "办理状态": "办理进度", "承诺办结日期": "承诺办结时间"}
PROJECT_HEADERS = {"总投资（万元）": "总投资", "包保领导": "包保县领导"}
REMARKS = ("专班推进", "已召开调度会", "企业加快编制材料", "已列入市级调度", "等待省级批复")
REQUIRED_SHARE = {"立项": 0.97, "能评": 0.7, **{kind: share for kind, (share, _) in OTHER_PROCEDURES.items()}}


# ---- the truth ------------------------------------------------------------------------------
@dataclass
class Procedure:
    kind: str
    required: bool
    status: str | None = None
    level: str | None = None
    promised: date | None = None
    accepted: date | None = None
    completed: date | None = None
    doc_no: str | None = None
    mode: str | None = None


@dataclass
class Project:
    code: str
    unit: reference.Unit
    name: str
    builder: str
    investment: int  # 万元
    planned_start: date | None
    state: str
    actual_start: date | None
    leader: str | None
    campaign: bool
    procedures: list[Procedure] = field(default_factory=list)


def _day(rng: random.Random, first: date, last: date) -> date:
    return first + timedelta(days=rng.randint(0, max(0, (last - first).days)))


def make_projects(rng: random.Random, unit: reference.Unit, count: int, report_date: date = REPORT_DATE,
                  serials: set[int] | None = None) -> list[Project]:
    """`count` projects registered by `unit`, each with its 11 procedures as of `report_date`."""
    serials = set() if serials is None else serials
    admin_pool = [unit.admin_code] if unit.admin_code else \
        [u.admin_code for u in reference.units().values() if u.admin_code]
    leaders = [f"{s}副{'县长' if unit.name.endswith('县') else '区长' if unit.kind == 'county' else '主任'}"
               for s in rng.sample(SURNAMES, 20)]
    projects = []
    for _ in range(count):
        serial = rng.randint(1, 999_999)
        while serial in serials:
            serial = rng.randint(1, 999_999)
        serials.add(serial)
        trade, industry, products, _ = rng.choice(INDUSTRIES)
        place, brand, product = rng.choice(PLACES), rng.choice(BRANDS), rng.choice(products)
        builder = f"{place}{brand}{trade}{rng.choice(COMPANY_FORMS)}"
        code = f"{rng.choice((2021, 2022, 2022, 2023))}-{rng.choice(admin_pool)}-{industry}-" \
               f"{rng.choice(('01', '02', '03', '04'))}-{serial:06d}"
        campaign = rng.random() < 0.6
        started = rng.random() < 0.15
        projects.append(Project(
            code=code, unit=unit, name=f"{brand}{product}{rng.choice(PHASES)}项目（{serial:06d}）", builder=builder,
            investment=rng.choice((800, 1500, 3000, 5000, 8000, 12000, 15000, 20000, 30000, 45000, 100000, 125000)),
            planned_start=_day(rng, date(2023, 3, 1), date(2023, 9, 30)) if campaign or rng.random() < 0.5 else None,
            state=rng.choice(("已开工", "已复工")) if started else "未开工",
            actual_start=_day(rng, date(2022, 6, 1), report_date - timedelta(days=1)) if started else None,
            leader=rng.choice(leaders) if campaign or rng.random() < 0.3 else None,
            campaign=campaign,
        ))
        projects[-1].procedures = [_procedure(rng, projects[-1], kind, report_date) for kind in reference.procedures()]
    return projects


def _procedure(rng: random.Random, project: Project, kind: str, report_date: date) -> Procedure:
    share = REQUIRED_SHARE.get(kind, 0.5)
    weights = dict(OTHER_PROCEDURES).get(kind, (0.0, (55, 30, 15)))[1]
    if not rng.random() < share:
        return Procedure(kind, False)
    status = DONE if project.state != "未开工" else rng.choices((DONE, IN_PROGRESS, PENDING), weights)[0]
    proc = Procedure(kind, True, status)
    if kind == "立项":
        proc.mode = rng.choices(("备案", "核准", "审批"), (55, 25, 20))[0]
    proc.level = rng.choices(LEVELS, LEVEL_WEIGHTS.get(proc.mode or kind, (0, 10, 60, 30)))[0]
    if status == DONE:
        proc.completed = _day(rng, date(2022, 6, 1), report_date)
        proc.accepted = proc.completed - timedelta(days=rng.randint(5, 45))
        if rng.random() < 0.75:
            proc.promised = proc.completed + timedelta(days=rng.randint(-4, 20))
        year, n = proc.completed.year, rng.randint(1, 400)
        if kind in LICENCE_WORDS:
            proc.doc_no = f"{LICENCE_WORDS[kind]}{project.code[5:11]}{year}{n:05d}号"
        else:
            word = DOC_WORDS.get(kind) or {"审批": "发改审批", "核准": "发改核准", "备案": "发改备"}.get(proc.mode, "审")
            proc.doc_no = f"{'葫辽'[n % 2]}{word}〔{year}〕{n}号"
    elif status == IN_PROGRESS:
        proc.accepted = _day(rng, report_date - timedelta(days=75), report_date - timedelta(days=1))
        proc.promised = proc.accepted + timedelta(days=rng.randint(10, 100))  # some already overdue
    else:
        proc.promised = report_date + timedelta(days=rng.randint(1, 150))
    return proc


def procedure_values(project: Project, proc: Procedure) -> dict[str, object]:
    return {"项目代码": project.code, "手续类型": proc.kind, "是否应办": YES if proc.required else NO,
            "办理状态": proc.status, "办理层级": proc.level, "承诺办结日期": proc.promised, "受理日期": proc.accepted,
            "办结日期": proc.completed, "批复文号": proc.doc_no, "立项方式": proc.mode}


def project_values(project: Project) -> dict[str, object]:
    return {"项目代码": project.code, "项目名称": project.name, "建设单位": project.builder,
            "总投资（万元）": project.investment, "计划开工日期": project.planned_start, "建设状态": project.state,
            "实际开工日期": project.actual_start, "包保领导": project.leader,
            "是否百日攻坚": YES if project.campaign else NO}


# ---- messiness ------------------------------------------------------------------------------
FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
EXCEL_EPOCH = date(1899, 12, 30)


class Messer:
    """Writes typed values the way people do; `xlsx` allows real date cells and serials."""

    def __init__(self, rng: random.Random, xlsx: bool):
        self.rng, self.xlsx = rng, xlsx
        self.aliases = {field: {} for field in ("procedure", "status", "approval_level", "construction_state")}
        for field_name, pairs in reference.value_aliases().items():
            for alias, value in pairs.items():
                self.aliases.setdefault(field_name, {}).setdefault(value, []).append(alias)

    def date(self, d: date | None) -> object:
        if d is None:
            return None
        stored, r = self.rng.random(), self.rng.random()  # both drawn: .csv and .xlsx stay in step
        if self.xlsx and stored < 0.30:
            return d  # a real date cell
        if self.xlsx and stored < 0.33:
            return (d - EXCEL_EPOCH).days  # a date typed as a bare serial
        if r < 0.40:
            return d.isoformat()
        if r < 0.60:
            return f"{d.year}/{d.month}/{d.day}"
        if r < 0.70:
            return f"{d.year}.{d.month}.{d.day}"
        if r < 0.85:
            return f"{d.year}年{d.month}月{d.day}日"
        if r < 0.90:
            return f"{d:%Y%m%d}"
        if r < 0.95:
            return f"{d.year}年{d.month}月{d.day}日".translate(FULLWIDTH)
        return f"{d.isoformat()} 00:00:00"

    def amount(self, wan: int) -> object:
        r = self.rng.random()
        if wan >= 10000 and wan % 5000 == 0 and r < 0.35:
            text = f"{wan / 10000:g}亿元" if r < 0.25 else f"{wan / 10000:g}亿"
            return text.translate(FULLWIDTH) if r < 0.05 else text
        if r < 0.55:
            return f"{wan:,}万元"
        return wan if self.xlsx else str(wan)

    def choice(self, field_name: str, value: str | None, share: float) -> str | None:
        options = self.aliases.get(field_name, {}).get(value) if value else None
        return self.rng.choice(options) if options and self.rng.random() < share else value

    def text(self, value: str | None) -> str | None:
        if value is None:
            return None
        r = self.rng.random()
        return f" {value}" if r < 0.01 else f"{value} " if r < 0.02 else value

    def code(self, value: str) -> str:
        r = self.rng.random()
        return value[:4].translate(FULLWIDTH) + value[4:] if r < 0.005 else f"{value} " if r < 0.015 else value

    def procedure_row(self, values: dict[str, object]) -> dict[str, object]:
        return {
            "项目代码": self.code(values["项目代码"]),
            "手续类型": self.choice("procedure", values["手续类型"], 0.10),
            "是否应办": self.text(values["是否应办"]),
            "办理状态": self.text(self.choice("status", values["办理状态"], 0.12)),
            "办理层级": self.choice("approval_level", values["办理层级"], 0.10),
            "承诺办结日期": self.date(values["承诺办结日期"]),
            "受理日期": self.date(values["受理日期"]),
            "办结日期": self.date(values["办结日期"]),
            "批复文号": values["批复文号"],
            "立项方式": values["立项方式"],
        }

    def project_row(self, values: dict[str, object]) -> dict[str, object]:
        name = values["项目名称"]
        if self.rng.random() < 0.03 and "项目" in name:  # Alt+Enter inside the name
            name = name.replace("项目", "\n项目", 1)
        return {
            **values,
            "项目代码": self.code(values["项目代码"]),
            "项目名称": self.text(name),
            "总投资（万元）": self.amount(values["总投资（万元）"]),
            "计划开工日期": self.date(values["计划开工日期"]),
            "建设状态": self.choice("construction_state", values["建设状态"], 0.1),
            "实际开工日期": self.date(values["实际开工日期"]),
        }


# Wrong rows, as people make them; each is returned with a finding, the rest of the file is accepted.
def plant_errors(rng: random.Random, rows: list[dict[str, object]], share: float, report_date: date) -> list[str]:
    """Spoils `share` of the rows in place; returns the kinds planted (one per spoiled row)."""
    kinds = []
    for index in sorted(rng.sample(range(1, len(rows)), int(len(rows) * share))):
        row, kind = rows[index], rng.choice(("future_completion", "done_no_date", "bad_procedure", "unregistered",
                                             "bad_date", "bad_status", "duplicate"))
        if kind == "future_completion":
            row.update({"办理状态": DONE, "办结日期": (report_date + timedelta(days=rng.randint(1, 30))).isoformat(),
                        "批复文号": row["批复文号"] or "葫发改备〔2023〕9号", "是否应办": YES})
        elif kind == "done_no_date":
            row.update({"办理状态": "已完成", "办结日期": None, "是否应办": YES})
        elif kind == "bad_procedure":
            row["手续类型"] = rng.choice(("规划许可", "可研批复", "消防审查"))
        elif kind == "unregistered":
            row["项目代码"] = f"2023-{INGEST_ADMIN}-26-01-9{rng.randint(0, 99999):05d}"
        elif kind == "bad_date":
            row["承诺办结日期"] = rng.choice(("2023-13-45", "1月底", "春节后", "待定"))
            row["是否应办"], row["办理状态"] = YES, IN_PROGRESS
        elif kind == "bad_status":
            row.update({"是否应办": YES, "办理状态": rng.choice(("已审批", "推进中", "已上报"))})
        else:
            row.update({k: rows[index - 1][k] for k in ("项目代码", "手续类型")})
        kinds.append(kind)
    return kinds


INGEST_ADMIN = reference.units()[INGEST_UNIT].admin_code


# ---- writers --------------------------------------------------------------------------------
def title_lines(unit: reference.Unit, sheet: str, report_date: date) -> tuple[str, str]:
    title = {"项目": "百日攻坚重点项目台账", "手续": "百日攻坚重点项目前期手续台账（全省调度）"}[sheet]
    return (f"{unit.name}{title}",
            f"填报单位：{unit.name}    填报日期：{report_date.year}年{report_date.month}月{report_date.day}日")


@dataclass
class Table:
    sheet: str  # 项目 | 手续
    header: list[str]  # as written
    rows: list[list[object]]  # cells, in header order


def procedure_table(rows: list[dict[str, object]], rng: random.Random) -> Table:
    header = [PROCEDURE_HEADERS.get(c, c) for c in PROCEDURE_ORDER] + ["备注"]
    cells = [[row[c] for c in PROCEDURE_ORDER] + [rng.choice(REMARKS) if rng.random() < 0.05 else None]
             for row in rows]
    return Table("手续", header, cells)


def project_table(rows: list[dict[str, object]]) -> Table:
    return Table("项目", [PROJECT_HEADERS.get(c, c) for c in PROJECT_COLUMNS], [[r[c] for c in PROJECT_COLUMNS] for r in rows])


def write_csv(path: Path, unit: reference.Unit, table: Table, report_date: date, encoding: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(ledger_csv_bytes(title_lines(unit, table.sheet, report_date), table.header, table.rows, encoding))
    return path


def write_xlsx(path: Path, unit: reference.Unit, tables: list[Table], report_date: date) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with ledger_book(path, author=unit.name, constant_memory=True) as book:
        for table in tables:
            book.ledger(table.sheet, title_lines(unit, table.sheet, report_date), table.header, table.rows)
    return path


# ---- the ingest set: one unit, 100,000 procedure rows -----------------------------------------
@dataclass
class IngestSet:
    registrations: Path  # 项目, GBK .csv
    csv: Path  # 手续, UTF-8 (BOM) .csv: the file every tool reads (DuckDB's floor, frictionless, diaodu)
    csv_gbk: Path  # 手续, the same rows as GBK .csv
    xlsx: Path  # 手续, the same rows as .xlsx (real date cells and serials where the .csv has text)
    rows: int
    projects: int
    planted: dict[str, int]  # kind of wrong row → count
    header_row: int = 3  # 1-based row of the header in every 手续 file


def write_ingest_set(out: Path, rows: int = INGEST_ROWS, seed: int = SEED, error_share: float = 0.002,
                     report_date: date = REPORT_DATE) -> IngestSet:
    rng = random.Random(seed)
    unit = reference.units()[INGEST_UNIT]
    kinds = len(reference.procedures())
    projects = make_projects(rng, unit, -(-rows // kinds), report_date)
    truth = [procedure_values(p, x) for p in projects for x in p.procedures][:rows]
    registrations = [Messer(rng, xlsx=False).project_row(project_values(p)) for p in projects]
    out.mkdir(parents=True, exist_ok=True)
    reg_path = write_csv(out / f"{unit.name}项目台账.csv", unit, project_table(registrations), report_date, "gbk")

    # The .csv and the .xlsx carry the same rows; only how a date cell is stored differs (text vs cell).
    texts = [Messer(random.Random(seed + 1), xlsx=False).procedure_row(v) for v in truth]
    cells = [Messer(random.Random(seed + 1), xlsx=True).procedure_row(v) for v in truth]
    planted = plant_errors(random.Random(seed + 2), texts, error_share, report_date)
    plant_errors(random.Random(seed + 2), cells, error_share, report_date)
    csv_table = procedure_table(texts, random.Random(seed + 3))
    xlsx_table = procedure_table(cells, random.Random(seed + 3))
    name = f"{unit.name}前期手续台账{report_date.month}.{report_date.day}"
    return IngestSet(
        registrations=reg_path,
        csv=write_csv(out / f"{name}.csv", unit, csv_table, report_date, "utf-8-sig"),
        csv_gbk=write_csv(out / f"{name}（GBK）.csv", unit, csv_table, report_date, "gbk"),
        xlsx=write_xlsx(out / f"{name}.xlsx", unit, [xlsx_table], report_date),
        rows=len(truth), projects=len(projects),
        planted={kind: planted.count(kind) for kind in sorted(set(planted))},
    )


# ---- daily workbooks: one unit, or the whole inbox ------------------------------------------
def write_unit_workbook(path: Path, unit: reference.Unit, projects: list[Project], report_date: date,
                        seed: int = SEED) -> Path:
    """A county's or park's daily ledger: 项目 and 手续 in one .xlsx, or (path ending .csv) the 手续
    sheet alone as GBK .csv."""
    rng = random.Random(seed)
    xlsx = path.suffix == ".xlsx"
    messer = Messer(rng, xlsx=xlsx)
    procedures = procedure_table([messer.procedure_row(procedure_values(p, x)) for p in projects
                                  for x in p.procedures], rng)
    if not xlsx:
        return write_csv(path, unit, procedures, report_date, "gbk")
    registrations = project_table([messer.project_row(project_values(p)) for p in projects])
    return write_xlsx(path, unit, [registrations, procedures], report_date)


def write_province_inbox(inbox: Path, projects: int = 5000, seed: int = SEED,
                         report_date: date = REPORT_DATE) -> list[Path]:
    """Every county and park's daily workbook (GBK .csv for every third unit: 项目 and 手续 files)
    and each bureau's 手续 file for the campaign projects it has applications from."""
    rng = random.Random(seed)
    areas = [u for u in reference.units().values() if u.kind != "bureau"]
    serials: set[int] = set()
    by_unit = {u.code: make_projects(rng, u, projects // len(areas), report_date, serials) for u in areas}
    written = []
    for i, unit in enumerate(areas):
        folder = inbox / unit.code
        own = by_unit[unit.code]
        if i % 3 == 2:
            messer = Messer(rng, xlsx=False)
            written.append(write_csv(folder / f"{unit.name}项目.csv", unit,
                                     project_table([messer.project_row(project_values(p)) for p in own]),
                                     report_date, "gbk"))
            written.append(write_unit_workbook(folder / f"{unit.name}手续台账.csv", unit, own, report_date, seed + i))
        else:
            written.append(write_unit_workbook(folder / f"{unit.name}台账{report_date:%m%d}.xlsx", unit, own,
                                               report_date, seed + i))
    everyone = [p for own in by_unit.values() for p in own if p.campaign]
    for bureau in (u for u in reference.units().values() if u.kind == "bureau"):
        messer = Messer(rng, xlsx=True)
        rows = [messer.procedure_row(procedure_values(p, x)) for p in everyone for x in p.procedures
                if reference.procedures()[x.kind] == bureau.code and x.required and x.status != PENDING]
        written.append(write_xlsx(inbox / bureau.code / f"{bureau.name}手续办理情况.xlsx", bureau,
                                  [procedure_table(rows, rng)], report_date))
    return written


# ---- a year of history, straight into the working database --------------------------------------
def generate_history(con: duckdb.DuckDBPyConnection, projects: int = 5000, days: int = 365, seed: int = SEED,
                     start: date = HISTORY_START, chunk_days: int = 30) -> dict[str, int]:
    """Accepted history as the merge would have left it after `days` daily reports.

    Each project × procedure has a day its application is accepted and a day it is completed
    (either may lie before or after the year), and maybe a day its promise moves back a month.
    The county reports its whole ledger every day (missing ~3 % of days), learning of acceptance
    and completion 0–3 days after the bureau; the owning bureau reports a campaign project's
    procedure (for ~35 % of them) from the day it accepted the application. Returns row counts.
    """
    from diaodu.warehouse.store import apply_schema, sql

    apply_schema(con)
    con.execute("SET enable_progress_bar = false")
    rng = random.Random(seed)
    areas = [u for u in reference.units().values() if u.kind != "bureau"]
    serials: set[int] = set()
    registry = []
    for i in range(projects):
        unit = areas[i % len(areas)]
        serial = rng.randint(1, 999_999)
        while serial in serials:
            serial = rng.randint(1, 999_999)
        serials.add(serial)
        admin = unit.admin_code or rng.choice([u.admin_code for u in areas if u.admin_code])
        _trade, industry, products, _ = rng.choice(INDUSTRIES)
        registry.append(dict(
            project_code=f"{rng.choice((2021, 2022, 2022))}-{admin}-{industry}-0{rng.randint(1, 4)}-{serial:06d}",
            unit_code=unit.code, unit_index=areas.index(unit),
            project_name=f"{rng.choice(BRANDS)}{rng.choice(products)}项目（{serial:06d}）",
            total_investment=float(rng.choice((800, 3000, 8000, 15000, 30000, 100000))),
            planned_start_date=start + timedelta(days=rng.randint(40, 300)),
            responsible_leader=f"{rng.choice(SURNAMES)}副区长", is_campaign=rng.random() < 0.6,
            start_offset=rng.randint(30, 330),
        ))
    registry_frame = pl.DataFrame(registry)
    procedure_frame = pl.DataFrame(
        [dict(procedure=kind, owner_unit=owner, share=int(REQUIRED_SHARE.get(kind, 0.5) * 100), sort_order=i)
         for i, (kind, owner) in enumerate(reference.procedures().items())])
    con.register("bench_registry", registry_frame)
    con.register("bench_procedures", procedure_frame)
    h = f"'{seed}'"  # every random draw: hash(seed, row identity, purpose)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE bench_state AS
        WITH draws AS (
            SELECT r.project_code, r.unit_code, r.unit_index, r.is_campaign, p.procedure, p.owner_unit, p.sort_order,
                   hash({h}, r.project_code, p.procedure, 'required') % 100 < p.share AS required,
                   (hash({h}, r.project_code, p.procedure, 'start') % 520)::INTEGER - 150 AS accept_day,
                   (hash({h}, r.project_code, p.procedure, 'takes') % 160)::INTEGER + 10 AS takes,
                   (hash({h}, r.project_code, p.procedure, 'promise') % 60)::INTEGER AS slack,
                   hash({h}, r.project_code, p.procedure, 'moves') % 100 < 15 AS moves,
                   (hash({h}, r.project_code, p.procedure, 'lag') % 4)::INTEGER AS county_lag,
                   hash({h}, r.project_code, p.procedure, 'bureau') % 100 < 35 AS bureau_reports,
                   ['国家', '省', '市', '县'][1 + (hash({h}, r.project_code, p.procedure, 'level') % 4)::INTEGER]
                       AS approval_level,
                   (hash({h}, r.project_code, p.procedure, 'doc') % 900)::INTEGER + 1 AS doc
            FROM bench_registry AS r CROSS JOIN bench_procedures AS p
        )
        SELECT *, accept_day + takes AS done_day, accept_day + takes + slack - 20 AS promise_day,
               accept_day + (takes // 2) AS move_day
        FROM draws
    """)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE bench_days AS
        SELECT d.range::INTEGER AS day, DATE '{start.isoformat()}' + d.range::INTEGER AS report_date
        FROM range({days}) AS d
    """)
    # One submission per reporting unit and day: seq orders them (bureaus after the counties).
    unit_seq = "day * 40 + unit_index + 1"
    bureau_seq = "day * 40 + 20 + list_position(['FGW', 'STJ', 'ZFW', 'YJJ', 'ZRJ', 'ZJJ', 'GDGS'], owner_unit)"
    view = """
        CASE WHEN NOT required THEN NULL WHEN day >= done_day + {lag} THEN '已办结'
             WHEN day >= accept_day + {lag} THEN '正办理' ELSE '待办' END
    """
    for first in range(0, days, chunk_days):
        last = min(days, first + chunk_days)
        con.execute(f"""
            INSERT INTO core.procedure_version BY NAME
            SELECT s.project_code, s.procedure, s.unit_code AS source_unit, 'unit' AS source_role, d.report_date,
                   s.required,
                   {view.format(lag="s.county_lag")} AS status,
                   CASE WHEN s.required THEN s.approval_level END AS approval_level,
                   CASE WHEN s.required AND day < s.done_day + s.county_lag
                        THEN DATE '{start}' + s.promise_day + CASE WHEN s.moves AND day >= s.move_day THEN 30 ELSE 0 END
                   END AS promised_date,
                   CASE WHEN s.required AND day >= s.accept_day + s.county_lag THEN DATE '{start}' + s.accept_day END
                       AS accepted_date,
                   CASE WHEN s.required AND day >= s.done_day + s.county_lag THEN DATE '{start}' + s.done_day END
                       AS completed_date,
                   CASE WHEN s.required AND day >= s.done_day + s.county_lag
                        THEN '葫' || s.procedure || '〔' || year(DATE '{start}' + s.done_day) || '〕' || s.doc || '号' END
                       AS approval_number,
                   CASE WHEN s.required AND s.procedure = '立项' THEN ['备案', '核准', '审批'][1 + s.doc % 3] END
                       AS approval_mode,
                   'H' || ({unit_seq.replace('unit_index', 's.unit_index')}) AS submission_id,
                   {unit_seq.replace('unit_index', 's.unit_index')} AS seq,
                   (4 + (s.project_code[-6:])::INTEGER % 100000 * 11 + s.sort_order)::INTEGER AS source_row
            FROM bench_state AS s JOIN bench_days AS d ON d.day >= {first} AND d.day < {last}
            WHERE hash({h}, s.unit_code, d.day, 'missed') % 100 >= 3
        """)
        con.execute(f"""
            INSERT INTO core.procedure_version BY NAME
            SELECT s.project_code, s.procedure, s.owner_unit AS source_unit, 'bureau' AS source_role, d.report_date,
                   true AS required,
                   {view.format(lag="0")} AS status,
                   s.approval_level,
                   CASE WHEN day < s.done_day
                        THEN DATE '{start}' + s.promise_day + CASE WHEN s.moves AND day >= s.move_day THEN 30 ELSE 0 END
                   END AS promised_date,
                   DATE '{start}' + s.accept_day AS accepted_date,
                   CASE WHEN day >= s.done_day THEN DATE '{start}' + s.done_day END AS completed_date,
                   CASE WHEN day >= s.done_day
                        THEN '葫' || s.procedure || '〔' || year(DATE '{start}' + s.done_day) || '〕' || s.doc || '号' END
                       AS approval_number,
                   CASE WHEN s.procedure = '立项' THEN ['备案', '核准', '审批'][1 + s.doc % 3] END AS approval_mode,
                   'H' || ({bureau_seq}) AS submission_id, {bureau_seq} AS seq,
                   (4 + (s.project_code[-6:])::INTEGER % 100000)::INTEGER AS source_row
            FROM bench_state AS s JOIN bench_days AS d ON d.day >= {first} AND d.day < {last}
            WHERE s.required AND s.is_campaign AND s.bureau_reports AND d.day >= s.accept_day
              AND hash({h}, s.owner_unit, d.day, 'missed') % 100 >= 3
        """)
        con.execute(f"""
            INSERT INTO core.project_version BY NAME
            SELECT r.project_code, r.unit_code, d.report_date, r.project_name, NULL AS builder, r.total_investment,
                   r.planned_start_date,
                   CASE WHEN d.day >= r.start_offset THEN '已开工' ELSE '未开工' END AS construction_state,
                   CASE WHEN d.day >= r.start_offset THEN DATE '{start}' + r.start_offset::INTEGER END AS actual_start_date,
                   r.responsible_leader, r.is_campaign,
                   'H' || ({unit_seq.replace('unit_index', 'r.unit_index')}) AS submission_id,
                   {unit_seq.replace('unit_index', 'r.unit_index')} AS seq,
                   (4 + (r.project_code[-6:])::INTEGER % 100000)::INTEGER AS source_row
            FROM bench_registry AS r JOIN bench_days AS d ON d.day >= {first} AND d.day < {last}
            WHERE hash({h}, r.unit_code, d.day, 'missed') % 100 >= 3
        """)
    con.execute("""
        INSERT INTO core.submission BY NAME
        SELECT DISTINCT submission_id, seq, source_unit AS unit_code, report_date,
               report_date + TIME '09:00:00' AS received_at, 'history.xlsx' AS file_name,
               sha256(submission_id) AS sha256, 'accepted' AS outcome, 0 AS rows_total, 0 AS rows_accepted,
               0 AS rows_rejected, '' AS archive_path
        FROM core.procedure_version
    """)
    con.unregister("bench_registry")
    con.unregister("bench_procedures")
    # The history is written in bulk, not through the merge: close each version as the merge would.
    con.execute(sql("migrations/005_valid_to.sql"))
    counts = {table: con.execute(f"SELECT count(*) FROM core.{table}").fetchall()[0][0]
              for table in ("procedure_version", "project_version", "submission")}
    counts["changed_per_day"] = con.execute("""
        WITH v AS (
            SELECT report_date, hash(status, promised_date, completed_date, accepted_date) AS state,
                   lag(hash(status, promised_date, completed_date, accepted_date)) OVER (
                       PARTITION BY project_code, procedure, source_unit ORDER BY report_date) AS before
            FROM core.procedure_version WHERE source_role = 'unit'
        )
        SELECT (count(*) FILTER (WHERE before IS NOT NULL AND state <> before) / count(DISTINCT report_date))::BIGINT
        FROM v
    """).fetchall()[0][0]
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.generate", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    ingest = commands.add_parser("ingest", help="one unit's registrations and a 100,000-row 手续 submission")
    ingest.add_argument("--out", type=Path, required=True)
    ingest.add_argument("--rows", type=int, default=INGEST_ROWS)
    province = commands.add_parser("province", help="an inbox/ with every unit's daily files")
    province.add_argument("--inbox", type=Path, required=True)
    province.add_argument("--projects", type=int, default=5000)
    history = commands.add_parser("history", help="a year of accepted history in a working DuckDB")
    history.add_argument("--db", type=Path, required=True)
    history.add_argument("--projects", type=int, default=5000)
    history.add_argument("--days", type=int, default=365)
    for sub in (ingest, province, history):
        sub.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    if args.command == "ingest":
        print(write_ingest_set(args.out, args.rows, args.seed))
    elif args.command == "province":
        for path in write_province_inbox(args.inbox, args.projects, args.seed):
            print(path)
    else:
        args.db.parent.mkdir(parents=True, exist_ok=True)
        with duckdb.connect(str(args.db)) as con:
            print(generate_history(con, args.projects, args.days, args.seed))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
