"""The sample campaign: what every unit sends on 2023-01-29, rendered from one "truth" model.

The truth is built so that the dispatch shows the source article's figures (as of 2023-01-29):
立项 146 required / 114 done, 能评 104 / 61 city-wide; 连山区 31 projects, 立项 27 done + 4 正办理,
能评 21 + 5 正办理 + 5 待办, and 5 projects ready to break ground. The files then render that truth
the way people really send it (aliases, date and amount spellings, GBK CSVs …), plus a few
deliberate errors and conflicts (see `sample_deviations()`) that can never change those figures.
Everything is deterministic: two runs write byte-identical files.
"""

from __future__ import annotations

import csv
import io
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import TypeVar

from diaodu.sample.ledgers import ledger_book, ledger_csv_bytes
from diaodu.schemas import reference

T = TypeVar("T")

SAMPLE_REPORT_DATE = date(2023, 1, 29)
SEED = 20230129

DONE, IN_PROGRESS, PENDING = "已办结", "正办理", "待办"
NOT_STARTED = "未开工"
YES, NO = "是", "否"
AREA_KINDS = ("county", "park")
FRONT = ("立项", "能评")  # the FGW procedures the article's figures are about

CAMPAIGN_SIZE, ANCHOR_UNIT, ANCHOR_SIZE = 150, "LS", 31
# (kind, required, done, in progress) — the rest of the required ones are 待办.
ANCHOR_SPLIT = (("立项", 31, 27, 4), ("能评", 31, 21, 5))
REST_SPLIT = (("立项", 146 - 31, 114 - 27, 16), ("能评", 104 - 31, 61 - 21, 18))
ANCHOR_READY, REST_READY = 5, 7
NON_CAMPAIGN_UNITS = ("LS", "LG", "XC", "KFQ", "GXQ", "BGQ")
NEW_REGISTRATIONS = ("GXQ", "BGQ")  # their non-campaign project has no procedures yet
# Bureau → how many campaign projects it reports (FGW: all of them).
BUREAU_COVERAGE = {"STJ": 75, "ZRJ": 50, "ZJJ": 8, "YJJ": 6, "ZFW": 5, "GDGS": 6}

PROJECT_COLUMNS = ("项目代码", "项目名称", "建设单位", "总投资（万元）", "计划开工日期", "建设状态",
                   "实际开工日期", "包保领导", "是否百日攻坚")
PROCEDURE_COLUMNS = ("项目代码", "手续类型", "是否应办", "办理状态", "办理层级", "承诺办结日期", "受理日期",
                     "办结日期", "批复文号", "立项方式")
PROBLEM_COLUMNS = ("项目代码", "问题描述", "责任单位", "提出日期", "解决时限", "是否销号", "销号日期")
COLUMNS: dict[str, tuple[str, ...]] = {"项目": PROJECT_COLUMNS, "手续": PROCEDURE_COLUMNS, "问题": PROBLEM_COLUMNS}

# ---- vocabulary for names ----------------------------------------------------------------------
SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蒋蔡杜程苏魏吕丁沈姚卢姜崔谭陆范金石廖贾夏付方白邹孟熊秦邱尹薛段雷侯史陶贺顾毛郝龚邵万钱严武"
GIVEN = "明华建国立新伟军志强海涛宏斌丽红梅春雪峰晓东亮波鹏宇磊"
PLACES = ("葫芦岛", "辽宁", "锦西", "渤海", "兴城", "绥中", "连山", "龙港")
BRANDS = ("宏远", "华锦", "恒泰", "金石", "瑞丰", "海晟", "龙兴", "中能", "润华", "鑫源", "博远", "天利",
          "东升", "凯盛", "中泰", "晟通", "新亚", "长城", "北方", "渤船")
COMPANY_FORMS = ("有限公司", "有限公司", "股份有限公司", "有限责任公司")
PHASES = ("二期", "三期", "四期", "五期")
# (builder's trade, industry code in the project code, products, sold by weight)
INDUSTRIES = (
    ("化工", "26", ("离子膜烧碱", "精细化工中间体", "环氧树脂", "电子化学品"), True),
    ("新材料", "30", ("碳纤维复合材料", "高纯石英砂", "玄武岩纤维", "特种玻璃"), True),
    ("重工", "34", ("风电塔筒", "石化装备", "船用曲轴", "压力容器"), False),
    ("新能源", "44", ("分布式光伏", "风电场", "储能电站", "氢能储运"), False),
    ("有色金属", "32", ("锌合金深加工", "钼精矿焙烧", "再生铝"), True),
    ("食品", "13", ("海产品精深加工", "肉牛屠宰加工", "果蔬冷链加工"), True),
    ("物流", "59", ("冷链物流园", "港口散货堆场", "保税仓储中心"), False),
    ("服饰", "18", ("泳装产业园", "泳装智能制造基地"), False),
    ("科技", "73", ("研发中心", "中试基地", "检验检测中心"), False),
    ("城建", "48", ("污水处理厂提标改造", "供热管网改造", "老旧小区改造"), False),
    ("文旅", "78", ("滨海度假区", "古城文旅街区", "温泉康养小镇"), False),
)
# Share of projects that must do a procedure, and (done, in progress, pending) weights when they do.
OTHER_PROCEDURES = {
    "环评": (0.8, (45, 35, 20)), "稳评": (0.35, (50, 30, 20)), "安评": (0.45, (40, 30, 30)),
    "用地预审": (0.6, (60, 25, 15)), "用地规划许可": (0.65, (45, 30, 25)),
    "工程规划许可": (0.7, (30, 30, 40)), "土地": (0.6, (50, 25, 25)), "施工许可": (0.9, (5, 15, 80)),
    "供电": (0.5, (30, 30, 40)),
}
LEVEL_WEIGHTS = {  # 国家, 省, 市, 县
    "能评": (0, 20, 75, 5), "环评": (5, 20, 75, 0), "稳评": (0, 0, 50, 50), "安评": (0, 15, 85, 0),
    "用地预审": (5, 25, 70, 0), "用地规划许可": (0, 0, 50, 50), "工程规划许可": (0, 0, 50, 50),
    "土地": (0, 0, 60, 40), "施工许可": (0, 0, 40, 60), "供电": (0, 0, 100, 0),
    "审批": (10, 30, 60, 0), "核准": (0, 30, 70, 0), "备案": (0, 0, 30, 70),
}
LEVELS = ("国家", "省", "市", "县")
DOC_WORDS = {"能评": "发改能审", "环评": "环审", "稳评": "稳评备", "安评": "应急审", "土地": "自然资供", "供电": "供电营"}
APPROVAL_MODE_WORDS = {"审批": "发改审批", "核准": "发改核准", "备案": "发改备"}  # 立项's, by its approval mode
LICENCE_WORDS = {"用地预审": "用字第", "用地规划许可": "地字第", "工程规划许可": "建字第"}
PROBLEMS = (  # (description, responsible bureau; None = the project's own county/park)
    ("用地指标不足，需省自然资源厅统筹调剂", "ZRJ"), ("环评报告书质量不符合要求，需补充修改后重新报审", "STJ"),
    ("污染物排放总量替代指标不足", "STJ"), ("能耗指标需省发改委统筹解决", "FGW"), ("林地占用手续尚未办理", "ZRJ"),
    ("压覆矿产资源评估未完成", "ZRJ"), ("外线供电接入方案未确定", "GDGS"), ("施工图审查未完成，影响施工许可办理", "ZJJ"),
    ("社会稳定风险评估需补充公示材料", "ZFW"), ("安全预评价报告需专家复审", "YJJ"), ("征地拆迁补偿协议尚未签订", None),
    ("项目资金未全部到位，需协调银行融资", None), ("地块内地上附着物尚未清理", None), ("可研报告需补充完善后再报立项", "FGW"),
)


# ---- reference data (the project's own: schemas.reference) ---------------------------------------
def load_units() -> list[reference.Unit]:
    return list(reference.units().values())


def load_procedures() -> list[tuple[str, str]]:
    """(procedure, owner unit code) in the reference sort order."""
    return list(reference.procedures().items())


# ---- the truth -------------------------------------------------------------------------------
def _present(value: T | None, missing: str) -> T:
    """`value`, known to be set where it is asked for; `missing` says what went wrong if it is not."""
    if value is None:
        raise ValueError(missing)
    return value


@dataclass
class Procedure:
    kind: str
    required: bool
    status: str | None = None  # 待办 / 正办理 / 已办结 when required
    level: str | None = None
    promised: date | None = None
    accepted: date | None = None
    completed: date | None = None
    doc_no: str | None = None
    approval_mode: str | None = None  # 立项 only

    @property
    def completed_on(self) -> date:
        return _present(self.completed, f"{self.kind} is not completed")


@dataclass
class Project:
    code: str
    name: str
    unit: reference.Unit
    builder: str
    investment: int  # 万元
    planned_start: date
    leader: str
    campaign: bool
    state: str = NOT_STARTED
    actual_start: date | None = None
    procedures: dict[str, Procedure] = field(default_factory=dict)  # kind → procedure, in sort order
    complete: bool = False  # chosen to have every required procedure done

    def status(self, kind: str) -> str | None:
        proc = self.procedures.get(kind)
        return proc.status if proc and proc.required else None

    @property
    def ready_to_start(self) -> bool:
        """具备开工条件: not started, every required procedure done."""
        required = [p for p in self.procedures.values() if p.required]
        return self.state == NOT_STARTED and bool(required) and all(p.status == DONE for p in required)


@dataclass
class Problem:
    project: Project
    description: str
    responsible: str
    raised: date
    deadline: date
    closed: bool
    closed_on: date | None


@dataclass
class Campaign:
    report_date: date
    units: list[reference.Unit]
    procedures: list[tuple[str, str]]
    projects: list[Project]
    problems: list[Problem]

    def unit(self, code: str) -> reference.Unit:
        return next(u for u in self.units if u.code == code)


def _days(rng: random.Random, first: date, last: date) -> date:
    """A random day in [first, last], moved a week back out of the Spring Festival holiday when it can."""
    d = first + timedelta(days=rng.randint(0, (last - first).days))
    in_festival = date(2023, 1, 21) <= d <= date(2023, 1, 27)
    return d - timedelta(days=7) if in_festival and d - timedelta(days=7) >= first else d


class _TruthBuilder:
    def __init__(self, rng: random.Random, units: list[reference.Unit], kinds: list[str]) -> None:
        self.rng, self.units, self.kinds = rng, units, kinds
        city = reference.city().code
        self.park_admin_codes = [city] + [u.admin_code for u in units if u.kind == "county"]
        self.serials: set[str] = set()
        self.names: set[str] = set()
        self.leaders: dict[str, list[str]] = {}
        self.doc_counters: dict[str, int] = {}

    def project(self, unit: reference.Unit, campaign: bool) -> Project:
        rng = self.rng
        trade, industry, products, by_weight = rng.choice(INDUSTRIES)
        product, place, brand = rng.choice(products), rng.choice(PLACES), rng.choice(BRANDS)
        builder = f"{place}{brand}{trade}{rng.choice(COMPANY_FORMS)}"
        name = ""
        while not name or name in self.names:
            patterns = [f"{builder}{rng.choice(PHASES)}项目", f"{product}项目{rng.choice(PHASES)}",
                        f"{brand}{product}项目", f"{place}{product}建设项目"]
            if by_weight:
                patterns.append(f"年产{rng.choice((1, 2, 3, 5, 10, 20, 30))}万吨{product}项目")
            name = rng.choice(patterns)
        self.names.add(name)
        serial = ""
        while not serial or serial in self.serials:
            serial = f"{rng.randint(1, 999999):06d}"
        self.serials.add(serial)
        admin = unit.admin_code or rng.choice(self.park_admin_codes)
        code = f"{rng.choice((2021, 2022, 2022))}-{admin}-{industry}-{rng.choice(('01', '02', '03', '04'))}-{serial}"
        x = math.exp(rng.uniform(math.log(800), math.log(400000)))
        investment = max(500, round(x / 100) * 100) if x < 10000 else round(x / 1000) * 1000
        planned = date(2023, 3, 15) if rng.random() < 0.3 else _days(rng, date(2023, 3, 1), date(2023, 9, 30))
        return Project(code, name, unit, builder, investment, planned, self.leader(unit), campaign)

    def leader(self, unit: reference.Unit) -> str:
        if unit.code not in self.leaders:  # 连山区: "12名区领导包保36个项目"
            title = "主任" if unit.kind == "park" else {"区": "区长", "县": "县长", "市": "市长"}.get(unit.name[-1], "主任")
            pool: list[str] = []
            while len(pool) < (12 if unit.code == ANCHOR_UNIT else 7):
                s, r = self.rng.choice(SURNAMES), self.rng.random()
                who = f"{s}副{title}" if r < 0.6 else f"{s}{title}" if r < 0.7 else \
                    s + "".join(self.rng.sample(GIVEN, self.rng.choice((1, 2))))
                if who not in pool:
                    pool.append(who)
            self.leaders[unit.code] = pool
        return self.rng.choice(self.leaders[unit.code])

    def other_procedures(self, p: Project) -> None:
        """Every procedure not yet decided; a project not chosen as complete keeps something open."""
        rng = self.rng
        for kind in self.kinds:
            if kind in p.procedures:
                continue
            share, weights = OTHER_PROCEDURES.get(kind, (0.5, (40, 30, 30)))
            required = rng.random() < share or (kind == "施工许可" and p.state != NOT_STARTED)
            status = None
            if required:  # a started project has done everything but (at most) its 供电
                status = DONE if p.complete or p.state != NOT_STARTED else \
                    rng.choices((DONE, IN_PROGRESS, PENDING), weights)[0]
                if kind == "施工许可" and p.status("立项") not in (None, DONE):
                    status = PENDING  # no 施工许可 before 立项
            p.procedures[kind] = Procedure(kind, required, status)
        p.procedures = {k: p.procedures[k] for k in self.kinds}
        if not p.complete and all(x.status == DONE for x in p.procedures.values() if x.required):
            kind = "施工许可" if p.state == NOT_STARTED else "供电"
            p.procedures[kind] = Procedure(kind, True, PENDING if p.state == NOT_STARTED else IN_PROGRESS)

    def details(self, p: Project, proc: Procedure) -> None:
        """Level, dates and document number of one procedure, consistent with its status."""
        rng = self.rng
        if not proc.required:
            return
        if proc.kind == "立项":
            proc.approval_mode = rng.choices(("备案", "核准", "审批"), (55, 25, 20))[0]
        weights = list(LEVEL_WEIGHTS.get(proc.approval_mode or proc.kind, (0, 10, 60, 30)))
        if p.unit.kind != "county":  # parks have no county-level approvals of their own
            weights[2], weights[3] = weights[2] + weights[3], 0
        proc.level = rng.choices(LEVELS, weights)[0]
        if proc.status == DONE:
            proc.completed = proc.completed or self.done_day(p)
            proc.accepted = proc.completed - timedelta(days=rng.randint(5, 45))
            if rng.random() < 0.75:
                late = rng.random() < 0.12  # 逾期办结
                proc.promised = proc.completed + timedelta(days=-rng.randint(1, 4) if late else rng.randint(0, 20))
            proc.doc_no = self.doc_no(p, proc)
            return
        r = rng.random()
        if r < 0.15:
            proc.promised = _days(rng, date(2023, 1, 10), date(2023, 1, 28))  # overdue → 红
        elif r < 0.27:
            proc.promised = rng.choice((date(2023, 1, 30), date(2023, 1, 31), date(2023, 2, 1)))  # → 黄
        else:
            proc.promised = date(2023, 3, 10) if r > 0.9 else _days(rng, date(2023, 2, 2), date(2023, 4, 30))
        if proc.status == IN_PROGRESS:
            proc.accepted = _days(rng, date(2022, 11, 15), min(proc.promised - timedelta(days=3), date(2023, 1, 28)))

    def done_day(self, p: Project) -> date:
        """When a done procedure was completed: mostly during the campaign, never after the start."""
        if p.state == NOT_STARTED and self.rng.random() < 0.6:
            return _days(self.rng, date(2023, 1, 3), SAMPLE_REPORT_DATE)
        last = p.actual_start or date(2023, 1, 2)
        return _days(self.rng, min(date(2022, 8, 1), last - timedelta(days=120)), last)

    def doc_no(self, p: Project, proc: Procedure) -> str:
        completed, level = proc.completed, proc.level
        if completed is None or level is None:  # details() sets both before it numbers a done procedure
            raise ValueError(f"{p.code} {proc.kind}: a document number needs the completion date and the level")
        year, admin = completed.year, p.code[5:11]
        key = f"{proc.kind}{proc.level}{proc.approval_mode}{year}"
        n = self.doc_counters[key] = self.doc_counters.get(key, self.rng.randint(2, 30)) + self.rng.randint(1, 5)
        if proc.kind in LICENCE_WORDS:
            return f"{LICENCE_WORDS[proc.kind]}{admin}{year}{n:05d}号"
        if proc.kind == "施工许可":
            return f"{admin}{completed:%Y%m%d}{n % 100:02d}01"
        agency = {"国家": "", "省": "辽", "市": "葫", "县": p.unit.name[0]}[level]
        word = DOC_WORDS[proc.kind] if proc.approval_mode is None else APPROVAL_MODE_WORDS[proc.approval_mode]
        return f"{agency}{word}〔{year}〕{n}号"


def _split(rng: random.Random, group: list[Project], kind: str, required: int, done: int, in_progress: int) -> None:
    """Exactly `required` projects of `group` must do `kind`: `done` of them 已办结 (only where 立项 is
    done or not needed), `in_progress` 正办理, the rest 待办 — those waiting for their 立项 first."""
    lixiang_ok = [p for p in group if kind == "立项" or p.status("立项") in (None, DONE)]
    done_codes = {p.code for p in rng.sample(lixiang_ok, done)}
    open_ps = rng.sample([p for p in group if p.code not in done_codes], required - done)
    open_ps.sort(key=lambda p: p.status("立项") in (None, DONE))  # stable: keeps the random order
    pending_codes = {p.code for p in open_ps[: required - done - in_progress]}
    open_codes = {p.code for p in open_ps}
    for p in group:
        status = DONE if p.code in done_codes else PENDING if p.code in pending_codes else \
            IN_PROGRESS if p.code in open_codes else None
        p.procedures[kind] = Procedure(kind, status is not None, status)


def _start(rng: random.Random, p: Project) -> None:
    p.state = rng.choice(("已开工", "已复工"))
    p.actual_start = _days(rng, date(2023, 1, 3), date(2023, 1, 28)) if p.state == "已开工" \
        else _days(rng, date(2022, 6, 1), date(2022, 11, 30))


def build_truth() -> Campaign:
    rng = random.Random(SEED)
    units, procedures = load_units(), load_procedures()
    maker = _TruthBuilder(rng, units, [k for k, _ in procedures])
    areas = [u for u in units if u.kind in AREA_KINDS]
    others = [u for u in areas if u.code != ANCHOR_UNIT]
    counts = {u.code: (CAMPAIGN_SIZE - ANCHOR_SIZE) // len(others) for u in others}
    for u in rng.sample(others, (CAMPAIGN_SIZE - ANCHOR_SIZE) % len(others)):
        counts[u.code] += 1
    for _ in range(12):
        a, b = rng.sample(others, 2)
        if counts[a.code] > 9:
            counts[a.code], counts[b.code] = counts[a.code] - 1, counts[b.code] + 1
    counts[ANCHOR_UNIT] = ANCHOR_SIZE
    projects = [maker.project(u, True) for u in areas for _ in range(counts[u.code])]

    anchor = [p for p in projects if p.unit.code == ANCHOR_UNIT]
    rest = [p for p in projects if p.unit.code != ANCHOR_UNIT]
    for group, splits in ((anchor, ANCHOR_SPLIT), (rest, REST_SPLIT)):
        for split in splits:
            _split(rng, group, *split)
    # Ready to start (all done, 未开工) and started projects, among those whose 立项/能评 allow it.
    front_ok = lambda p: all(p.status(k) in (None, DONE) for k in FRONT)  # noqa: E731
    ok = [p for p in anchor if front_ok(p)]
    chosen = rng.sample(ok, ANCHOR_READY + 2)
    for p in chosen[:ANCHOR_READY]:
        p.complete = True
    for p in chosen[ANCHOR_READY:]:
        _start(rng, p)  # started, but with something still open (供电 …)
    ok = [p for p in rest if front_ok(p)]
    firsts = [rng.choice([p for p in ok if p.unit.code == code]) for code in ("KFQ", "XC")]
    chosen = firsts + rng.sample([p for p in ok if all(p is not f for f in firsts)], REST_READY + 5)
    for i, p in enumerate(chosen):  # 4 started and complete, 3 started with something open, then ready
        p.complete = i < 4 or i >= 7
        if i < 7:
            _start(rng, p)
    for p in projects:
        maker.other_procedures(p)

    for code in NON_CAMPAIGN_UNITS:  # they must not move any figure; 连山区's one has its 立项 open
        p = maker.project(next(u for u in areas if u.code == code), False)
        p.investment = min(p.investment, 8000)
        if code not in NEW_REGISTRATIONS:
            lixiang_done = 0 if code == ANCHOR_UNIT else 1
            _split(rng, [p], "立项", 1, lixiang_done, 1 - lixiang_done)
            maker.other_procedures(p)
        projects.append(p)
    _feature(projects)
    for p in projects:  # done procedures were completed in their sort order
        done = [x for x in p.procedures.values() if x.status == DONE]
        for x, day in zip(done, sorted(maker.done_day(p) for _ in done), strict=True):
            x.completed = day
        for proc in p.procedures.values():
            maker.details(p, proc)

    names = {u.code: u.name for u in units}
    campaign = [p for p in projects if p.campaign]
    picked = [rng.choice([p for p in campaign if p.unit.code == u.code]) for u in areas]
    picked += rng.sample([p for p in campaign if all(p is not q for q in picked)], 25 - len(picked))
    problems = []
    for p in sorted(picked, key=projects.index):
        text, who = rng.choice(PROBLEMS)
        raised = _days(rng, date(2023, 1, 3), date(2023, 1, 26))
        closed = rng.random() < 0.35
        closed_on = _days(rng, raised + timedelta(days=1), SAMPLE_REPORT_DATE) if closed else None
        problems.append(Problem(p, text, names[who] if who else p.unit.name, raised,
                                raised + timedelta(days=rng.randint(7, 60)), closed, closed_on))
    kfq = [pr for pr in problems if pr.project.unit.code == "KFQ"]
    if not any(pr.closed for pr in kfq):  # the demo's 销号-without-date error needs one
        kfq[0].closed, kfq[0].closed_on = True, SAMPLE_REPORT_DATE - timedelta(days=2)
    return Campaign(SAMPLE_REPORT_DATE, units, procedures, projects, problems)


def _feature(projects: list[Project]) -> None:
    """Give a few projects the names the article mentions."""
    def first(pred: Callable[[Project], bool]) -> Project:
        return next(p for p in projects if p.campaign and pred(p))

    p = first(lambda p: p.unit.code == ANCHOR_UNIT and p.complete)
    p.name, p.builder = "省产业技术研究院国华能源联合创新中心——项目研发实验室建设", "辽宁省产业技术研究院"
    p = first(lambda p: p.unit.code == ANCHOR_UNIT and not p.complete and p.state == NOT_STARTED)
    p.name, p.builder = "航锦科技27万吨离子膜烧碱项目", "航锦科技股份有限公司"
    p = first(lambda p: p.unit.code == "KFQ" and p.complete and p.state != NOT_STARTED)
    p.name, p.builder, p.investment = "辽宁先达农业科学有限公司五期项目", "辽宁先达农业科学有限公司", 30000
    p.state, p.actual_start = "已开工", date(2023, 1, 10)
    p = first(lambda p: p.unit.code == "XC" and p.state != NOT_STARTED)
    p.name, p.builder, p.state = "风电塔筒项目二期", "兴城红光锅炉有限责任公司", "已复工"
    p.actual_start = date(2022, 9, 18)
    p = first(lambda p: p.status("环评") == IN_PROGRESS and p.unit.code not in (ANCHOR_UNIT, "KFQ", "XC"))
    p.name, p.builder = "扬农化工精细化工项目", "辽宁扬农化工有限公司"
    p.investment, p.planned_start = 1_000_000, date(2023, 3, 15)


# ---- the submissions: truth → rows per unit and sheet -----------------------------------------
@dataclass
class Row:
    values: dict[str, object]  # canonical column → typed value (date, int 万元, str, None)
    project: Project
    proc: Procedure | None = None  # 手续 rows
    problem: Problem | None = None  # 问题 rows
    note: tuple[str, str, str] | None = None  # (error | conflict, canonical column, why)

    @property
    def procedure(self) -> Procedure:
        return _present(self.proc, f"a row of {self.project.code} that reports no procedure")

    @property
    def reported_problem(self) -> Problem:
        return _present(self.problem, f"a row of {self.project.code} that reports no problem")


@dataclass(frozen=True)
class Style:
    """How one unit writes its files."""

    files: str | tuple[tuple[str, str], ...]  # one .xlsx, or (sheet, .csv name) pairs
    encoding: str | None = None  # CSV units
    titled: bool = True  # title + 填报单位 lines above the header (else a 填报日期 column)
    dates: str = "iso"  # iso | slash | dot | cn | excel (real date cells)
    amounts: str = "plain"  # plain | number | yi | yi-short | wan
    headers: tuple[tuple[str, str], ...] = ()  # (canonical, alias)
    values: tuple[tuple[str, str], ...] = ()  # (canonical, alias) for 手续类型 / 办理状态
    order: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (sheet, column order)
    extra: str | None = None  # a column the contract ignores
    messy: str | None = None  # linebreak | spaces | fullwidth


SHUFFLED_ORDER = (
    ("项目", ("项目名称", "项目代码", "是否百日攻坚", "建设单位", "总投资（万元）", "包保领导", "建设状态", "计划开工日期",
             "实际开工日期")),
    ("手续", ("项目代码", "手续类型", "办理状态", "是否应办", "办理层级", "受理日期", "承诺办结日期", "办结日期", "立项方式",
             "批复文号")),
    ("问题", ("问题描述", "项目代码", "责任单位", "提出日期", "解决时限", "是否销号", "销号日期")),
)
STYLES = {
    "LS": Style("连山区1.29台账(1).xlsx", messy="linebreak"),
    "LG": Style("龙港区百日攻坚项目前期手续台账0129.xlsx", dates="slash", amounts="yi", headers=(("项目代码", "项目编号"),)),
    "NP": Style((("项目", "南票区项目台账.csv"), ("手续", "南票区手续台账.csv"), ("问题", "南票区问题台账.csv")),
                encoding="gbk", dates="dot", values=(("能评", "节能审查"),)),
    "SZ": Style("绥中县重点项目台账1.29.xlsx", dates="excel", amounts="number", extra="备注"),
    "JC": Style("建昌县百日攻坚项目推进台账（1月29日）.xlsx", dates="cn", amounts="wan",
                values=((IN_PROGRESS, "办理中"), (DONE, "已完成"))),
    "XC": Style((("项目", "兴城市项目.csv"), ("手续", "兴城市项目手续台账.csv"), ("问题", "兴城市问题.csv")),
                encoding="utf-8-sig", titled=False, dates="slash"),
    "KFQ": Style("开发区百日攻坚台账2023.1.29.xlsx", amounts="yi-short", order=SHUFFLED_ORDER),
    "GXQ": Style("高新区前期手续台账0129.xlsx", dates="dot", headers=(("总投资（万元）", "总投资"),), messy="fullwidth"),
    "BGQ": Style("北港工业区台账.xlsx", dates="cn", messy="spaces"),
    "SZBH": Style("绥中滨海经济区百日攻坚台账0129.xlsx", amounts="yi"),
    "FGW": Style("市发改委百日攻坚项目立项能评办理情况0129.xlsx"),
    "STJ": Style((("手续", "环评审批进度.csv"),), encoding="gbk", dates="slash"),
    "ZRJ": Style("市自然资源局用地规划手续台账0129.xlsx", dates="cn"),
    "ZJJ": Style("施工许可办理情况1.29.xlsx"),
    "YJJ": Style("安评办理台账.xlsx", dates="dot"),
    "ZFW": Style("稳评工作台账1.29.xlsx"),
    "GDGS": Style("供电方案办理进度.xlsx", dates="slash"),
}
LEGACY_FILES = {"SZBH": "滨海经济区台账（旧版）.xls"}  # the old format: returned whole
REMARKS = ("专班推进", "已召开调度会", "企业加快编制材料", "已列入市级调度")
SHEET_TITLES = {"项目": "百日攻坚项目台账", "手续": "百日攻坚项目前期手续台账", "问题": "百日攻坚项目问题台账"}


@dataclass
class Submission:
    unit: reference.Unit
    style: Style
    tables: dict[str, list[Row]]  # sheet → rows


def _project_row(p: Project) -> Row:
    return Row({"项目代码": p.code, "项目名称": p.name, "建设单位": p.builder, "总投资（万元）": p.investment,
                "计划开工日期": p.planned_start, "建设状态": p.state, "实际开工日期": p.actual_start,
                "包保领导": p.leader, "是否百日攻坚": YES if p.campaign else NO}, project=p)


def _procedure_row(p: Project, x: Procedure) -> Row:
    return Row({"项目代码": p.code, "手续类型": x.kind, "是否应办": YES if x.required else NO, "办理状态": x.status,
                "办理层级": x.level, "承诺办结日期": x.promised, "受理日期": x.accepted, "办结日期": x.completed,
                "批复文号": x.doc_no, "立项方式": x.approval_mode}, project=p, proc=x)


def _problem_row(x: Problem) -> Row:
    return Row({"项目代码": x.project.code, "问题描述": x.description, "责任单位": x.responsible, "提出日期": x.raised,
                "解决时限": x.deadline, "是否销号": YES if x.closed else NO, "销号日期": x.closed_on},
               project=x.project, problem=x)


def build_submissions(truth: Campaign) -> list[Submission]:
    """Counties/parks send their whole ledger; bureaus send 手续 rows for the procedures they own."""
    rng = random.Random(SEED + 1)
    campaign = [p for p in truth.projects if p.campaign]
    subs = []
    for u in truth.units:
        style = STYLES.get(u.code, Style(f"{u.name}百日攻坚台账.xlsx"))
        if u.kind in AREA_KINDS:
            own = [p for p in truth.projects if p.unit.code == u.code]
            tables = {"项目": [_project_row(p) for p in own],
                      "手续": [_procedure_row(p, x) for p in own for x in p.procedures.values()],
                      "问题": [_problem_row(x) for x in truth.problems if x.project.unit.code == u.code]}
        else:
            kinds = [k for k, owner in truth.procedures if owner == u.code]
            chosen, n = campaign, BUREAU_COVERAGE.get(u.code)
            if n is not None:
                pool = [p for p in campaign if any(p.procedures[k].required for k in kinds)]
                chosen = sorted(rng.sample(pool, min(n, len(pool))), key=campaign.index)
            tables = {"手续": [_procedure_row(p, p.procedures[k]) for p in chosen for k in kinds]}
        subs.append(Submission(u, style, tables))
    _plant_deviations({s.unit.code: s for s in subs})
    return subs


def _plant_deviations(by: dict[str, Submission]) -> None:
    """Three conflicts with FGW and eight invalid rows, each where losing it cannot change a figure:
    立项/能评 rows FGW also reports, problems, non-campaign projects, and rows another side repeats."""
    def pick(code: str, sheet: str, pred: Callable[[Row], bool]) -> Row:
        return next(r for r in by[code].tables[sheet] if r.note is None and pred(r))

    def done(kind: str) -> Callable[[Row], bool]:
        return lambda r: r.project.campaign and r.procedure.kind == kind and r.procedure.status == DONE

    r = pick("LS", "手续", lambda r: done("立项")(r) and not r.project.complete and r.project.state == NOT_STARTED)
    r.values.update({"办理状态": IN_PROGRESS, "办结日期": None, "批复文号": None, "承诺办结日期": date(2023, 2, 10)})
    r.note = ("conflict", "办理状态", f"{r.project.unit.name}报正办理，市发改委报已办结（{r.procedure.completed}）")
    r = pick("XC", "手续", done("能评"))
    r.values.update({"办理状态": IN_PROGRESS, "办结日期": None, "批复文号": None, "承诺办结日期": date(2023, 2, 6)})
    r.note = ("conflict", "办理状态", f"{r.project.unit.name}报正办理，市发改委报已办结（{r.procedure.completed}）")
    r = pick("KFQ", "手续", lambda r: done("立项")(r) and r.procedure.completed_on <= date(2023, 1, 17))
    r.values["办结日期"] = r.procedure.completed_on + timedelta(days=3)
    r.note = ("conflict", "办结日期", f"{r.project.unit.name}报办结日期 {r.values['办结日期']}，市发改委报 {r.procedure.completed}")

    r = pick("LG", "手续", done("立项"))
    r.values["办结日期"] = SAMPLE_REPORT_DATE + timedelta(days=5)
    r.note = ("error", "办结日期", f"办结日期晚于填报日期 2023-01-29（真值 {r.procedure.completed}，市发改委行为准）")
    r = pick("JC", "手续", done("能评"))
    r.values["办结日期"] = None
    r.note = ("error", "办结日期", "已办结（已完成）却未填办结日期（市发改委行为准）")
    r = pick("NP", "手续", done("立项"))
    r.values["受理日期"], r.values["办结日期"] = r.procedure.completed, r.procedure.accepted
    r.note = ("error", "受理日期", "受理日期与办结日期填反，受理日期晚于办结日期（市发改委行为准）")
    r = pick("ZRJ", "手续", lambda r: r.procedure.kind == "土地" and r.procedure.status == DONE)
    r.values["批复文号"] = None
    r.note = ("error", "批复文号", f"部门报已办结却未填批复文号（{r.project.unit.name}台账同一手续为真值）")
    zrj = {r.project.code for r in by["ZRJ"].tables["手续"]}
    r = pick("SZ", "手续", lambda r: r.procedure.kind == "工程规划许可" and r.procedure.required and r.project.code in zrj)
    r.values["手续类型"] = "规划许可"
    r.note = ("error", "手续类型", "手续类型“规划许可”不在清单内（应为用地规划许可或工程规划许可；市自然资源局行为准）")
    r = pick("KFQ", "问题", lambda r: r.reported_problem.closed)
    r.values["销号日期"] = None
    r.note = ("error", "销号日期", f"已销号却未填销号日期（真值 {r.reported_problem.closed_on}）")
    r = pick("GXQ", "项目", lambda r: not r.project.campaign)
    year, admin, industry, kind, serial = r.project.code.split("-")
    r.values["项目代码"] = f"{year}-{admin[:5]}-{industry}-{kind}-{serial[2:]}"
    r.note = ("error", "项目代码", f"项目代码格式错误（应为 {r.project.code}）；非百日攻坚项目，尚无手续行")
    r = pick("BGQ", "项目", lambda r: not r.project.campaign)
    by["BGQ"].tables["项目"].append(Row(dict(r.values), project=r.project, note=(
        "error", "项目代码", (f"项目代码 {r.project.code} 在本表重复（与第{by['BGQ'].tables['项目'].index(r) + 4}行相同）；"
                             "非百日攻坚项目，尚无手续行"))))


# ---- rendering: how each unit spells things -------------------------------------------------
@dataclass
class Rendered:
    unit: reference.Unit
    style: Style
    file_name: str
    sheet: str
    columns: list[str]  # canonical names, in file order
    header: list[str]  # as written
    cells: list[list[object]]
    notes: list[tuple[int, tuple[str, str, str]]]  # (row number as seen in the sheet, note)


def _fmt_date(d: date, how: str) -> object:
    return {"iso": d.isoformat(), "slash": f"{d.year}/{d.month}/{d.day}", "dot": f"{d.year}.{d.month}.{d.day}",
            "cn": f"{d.year}年{d.month}月{d.day}日"}.get(how, d)


def _fmt_amount(wan: int, how: str) -> object:
    yi = f"{wan / 10000:g}" if wan >= 10000 and wan % 5000 == 0 else None  # exact in binary floats
    if how == "number":
        return wan
    if how == "yi" and yi:
        return f"{yi}亿元"
    if how == "yi-short":
        return f"{yi}亿" if yi else f"{wan:,}万元"
    return f"{wan:,}万元" if how == "wan" else str(wan)


def _fullwidth_digits(s: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "0" <= c <= "9" else c for c in s)


def _cell(column: str, v: object, style: Style) -> object:
    if v is None:
        return None
    if isinstance(v, date):
        return _fmt_date(v, style.dates)
    if isinstance(v, int):
        return _fmt_amount(v, style.amounts)
    return dict(style.values).get(v, v) if isinstance(v, str) and column in ("手续类型", "办理状态") else v


def _text(cell: object) -> str:
    """A cell _mess() makes untidy: the styles it applies to write these columns as text."""
    if not isinstance(cell, str):
        raise TypeError(f"expected a text cell, got {cell!r}")
    return cell


def _mess(how: str | None, sheet: str, columns: list[str], cells: list[list[object]]) -> None:
    """Valid but untidy cells: NFKC + trimming makes them clean again."""
    at = {c: i for i, c in enumerate(columns)}
    if how == "linebreak" and sheet == "项目":
        for row in cells[2::9]:  # Alt+Enter inside the name
            name = _text(row[at["项目名称"]])
            if name.rfind("项目") > 0:
                row[at["项目名称"]] = name[: name.rfind("项目")] + "\n" + name[name.rfind("项目"):]
    if how == "spaces" and sheet == "项目":
        for i, row in enumerate(cells):
            if i % 4 == 1:
                row[at["项目名称"]] = f"  {row[at['项目名称']]} "
        cells[2][at["项目名称"]] = "\u3000" + _text(cells[2][at["项目名称"]])
    if how == "spaces" and sheet == "手续":
        cells[5][at["项目代码"]] = _text(cells[5][at["项目代码"]]) + " "
        row = next(r for r in cells[8:] if r[at["办理状态"]])
        row[at["办理状态"]] = " " + _text(row[at["办理状态"]])
    if how == "fullwidth" and sheet == "项目":
        amounts = [int(_text(r[at["总投资（万元）"]])) for r in cells]
        rows = [r for r, wan in zip(cells, amounts, strict=True) if wan >= 10000 and wan % 5000 == 0]
        for row in rows[:2]:
            row[at["总投资（万元）"]] = _fullwidth_digits(f"{int(_text(row[at['总投资（万元）']])) / 10000:g}亿")
    if how == "fullwidth" and sheet == "手续":
        code = _text(cells[3][at["项目代码"]])
        cells[3][at["项目代码"]] = _fullwidth_digits(code[:4]) + code[4:]
        row = next(r for r in cells if r[at["承诺办结日期"]])
        promised = _text(row[at["承诺办结日期"]])
        row[at["承诺办结日期"]] = _fullwidth_digits(promised[:4]) + promised[4:]


def render(sub: Submission, report_date: date = SAMPLE_REPORT_DATE) -> list[Rendered]:
    style, renames, out = sub.style, dict(sub.style.headers), []
    for sheet, rows in sub.tables.items():
        columns = list(dict(style.order).get(sheet, COLUMNS[sheet]))
        cells = [[_cell(c, r.values.get(c), style) for c in columns] for r in rows]
        _mess(style.messy, sheet, columns, cells)
        header = [renames.get(c, c) for c in columns]
        if style.extra:
            header.append(style.extra)
            for i, row in enumerate(cells):
                row.append(REMARKS[i // 3 % len(REMARKS)] if i % 3 == 0 else None)
        if not style.titled:
            header.append("填报日期")
            for row in cells:
                row.append(f"{report_date.year}/{report_date.month}/{report_date.day}")
        first = 4 if style.titled else 2  # title, 填报单位 line, header
        notes = [(first + i, r.note) for i, r in enumerate(rows) if r.note]
        name = style.files if isinstance(style.files, str) else dict(style.files)[sheet]
        out.append(Rendered(sub.unit, style, name, sheet, columns, header, cells, notes))
    return out


# ---- writers ---------------------------------------------------------------------------------
def _title_lines(unit: reference.Unit, sheet: str, d: date) -> tuple[str, str]:
    return f"{unit.name}{SHEET_TITLES[sheet]}", f"填报单位：{unit.name}    填报日期：{d.year}年{d.month}月{d.day}日"


def _write_xlsx(path: Path, tables: list[Rendered], d: date) -> None:
    with ledger_book(path, author=tables[0].unit.name) as book:
        for t in tables:
            book.ledger(t.sheet, _title_lines(t.unit, t.sheet, d), t.header, t.cells)


def _legacy_bytes(truth: Campaign, unit: reference.Unit) -> bytes:
    """An old-format ledger (no 项目代码 at all), saved as CSV text under an .xls name."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(["序号", "项目名称", "建设单位", "总投资（亿元）", "前期手续办理情况", "包保领导"])
    own = [p for p in truth.projects if p.unit.code == unit.code and p.campaign]
    for i, p in enumerate(own, 1):
        progress = "，".join(f"{k}{p.status(k)}" for k in FRONT if p.status(k))
        writer.writerow([i, p.name, p.builder, f"{p.investment / 10000:g}", progress, p.leader])
    return buf.getvalue().encode("gbk")


def write_sample_campaign(inbox_dir: Path) -> list[Path]:
    """Writes the sample campaign's submissions into inbox_dir/<UNIT_CODE>/ and returns the paths written."""
    truth, written = build_truth(), []
    for sub in build_submissions(truth):
        folder = Path(inbox_dir) / sub.unit.code
        folder.mkdir(parents=True, exist_ok=True)
        tables = render(sub, truth.report_date)
        if sub.style.encoding:
            for t in tables:
                (folder / t.file_name).write_bytes(ledger_csv_bytes(
                    _title_lines(t.unit, t.sheet, truth.report_date) if t.style.titled else None,
                    t.header, t.cells, sub.style.encoding))
                written.append(folder / t.file_name)
        else:
            _write_xlsx(folder / tables[0].file_name, tables, truth.report_date)
            written.append(folder / tables[0].file_name)
        if sub.unit.code in LEGACY_FILES:
            (folder / LEGACY_FILES[sub.unit.code]).write_bytes(_legacy_bytes(truth, sub.unit))
            written.append(folder / LEGACY_FILES[sub.unit.code])
    return written


@dataclass(frozen=True)
class Deviation:
    """A planted error or conflict, located as the person sees it in the spreadsheet."""

    unit_code: str
    file_name: str
    sheet: str | None
    row_number: int | None  # 1-based, title rows included; None for a whole-file finding
    column: str | None  # the header as written in the file
    value: str | None
    kind: str  # error | conflict | file
    why: str


def sample_deviations() -> list[Deviation]:
    truth, out = build_truth(), []
    for sub in build_submissions(truth):
        for t in render(sub, truth.report_date):
            for number, (kind, column, why) in t.notes:
                i = t.columns.index(column)
                value = t.cells[number - (4 if t.style.titled else 2)][i]
                out.append(Deviation(t.unit.code, t.file_name, t.sheet, number, t.header[i],
                                     None if value is None else str(value), kind, why))
        if sub.unit.code in LEGACY_FILES:
            out.append(Deviation(sub.unit.code, LEGACY_FILES[sub.unit.code], None, None, None, None, "file",
                                 "旧版 .xls 格式（内容实为 CSV 文本），整份退回"))
    return out
