"""The figures of issue 6, side by side in one run: `python -m benchmarks.run [--quick]`.

Prints one markdown table (figure, diaodu, baseline, ratio, target, met?) on stdout; progress and
the breakdowns behind each figure go to stderr, everything measured to `--json`. Figures (1) and
(3) run in subprocesses so their peak RSS (5) is their own. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # `python benchmarks/run.py` as well as `python -m benchmarks.run`
    sys.path.insert(0, str(REPO))

GIB = 1024 ** 3
TARGETS = {"ingest_ratio": 3.0, "growth": 1.2, "pandera_vs_polars": 1.5, "vs_frictionless": 20.0, "rollup_total_s": 30.0,
           "rollup_flat": 1.5, "latency_s": 10.0, "rss_bytes": 2 * GIB}


def local_today() -> date:
    """Today in the city's time zone: the report date a clerk writes on today's file."""
    from zoneinfo import ZoneInfo

    from diaodu.schemas import reference

    return datetime.now(ZoneInfo(reference.city().timezone)).date()


def log(message: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


def peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB


def best_of(repeats: int, fn: Callable[[], object]) -> tuple[float, object]:
    best, value = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        value = fn()
        best = min(best, time.perf_counter() - start)
    return best, value


# ---- workers: each runs in its own process and prints one JSON line ------------------------------
def worker_ingest(set_dir: str, fmt: str, work: str, history: str = "") -> dict:
    """(1) diaodu: the `submissions` asset (as the sensor's run executes it) on the 100k-row file,
    after an untimed run that registers the unit's projects. Stages are timed by wrapping the
    functions the batch calls. With `history` (a working DuckDB file holding a year of history and
    its rollups, published), the data directory starts from a copy of it (6)."""
    import dagster as dg
    import duckdb

    import diaodu.ingest.batch as batch
    import diaodu.pipelines.assets as assets
    import diaodu.warehouse.store as store
    from benchmarks.generate import IngestSet
    from diaodu.pipelines.resources import DiaoduSettings

    ingest = IngestSet(**{k: (Path(v) if k in ("registrations", "csv", "csv_gbk", "xlsx") else v)
                          for k, v in json.loads((Path(set_dir) / "set.json").read_text()).items()})
    source = {"csv": ingest.csv, "csv_gbk": ingest.csv_gbk, "xlsx": ingest.xlsx}[fmt]
    data = Path(work) / "data"
    settings = DiaoduSettings(data_dir=str(data))
    inbox = data / "inbox" / "LS"
    inbox.mkdir(parents=True, exist_ok=True)
    if history:  # a copy of a published data directory: the registration run publishes it here
        shutil.copytree(history, data, dirs_exist_ok=True)

    def run() -> float:
        start = time.perf_counter()
        dg.materialize([assets.submissions], resources={"settings": settings},
                       instance=dg.DagsterInstance.ephemeral(), raise_on_error=True)
        return time.perf_counter() - start

    shutil.copyfile(ingest.registrations, inbox / ingest.registrations.name)
    registration_s = run()

    stages: dict[str, float] = {}

    def timed(module, name: str, label: str) -> None:
        original = getattr(module, name, None)
        if original is None:
            return

        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                stages[label] = stages.get(label, 0.0) + time.perf_counter() - start
        setattr(module, name, wrapper)

    for name, label in (("process_batch", "process_batch"),):
        timed(assets, name, label)
    for name, label in (("_receive", "receive (sha256, archive)"), ("read_grids", "read file → text grid"),
                        ("locate", "locate header"), ("judge", "type + Pandera + findings"),
                        ("judge_registrations", "registered-project rules"), ("registered_projects", "load register"),
                        ("merge_submission", "merge (DuckDB)"), ("write_returns", "returns (receipt, json, annotated xlsx)")):
        timed(batch, name, label)
    timed(store, "apply_schema", "open: apply schema")
    timed(store.Warehouse, "publish", "publish (changed parts + catalog)")

    shutil.copyfile(source, inbox / source.name)
    total_s = run()
    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as con:
        outcome, total, accepted, rejected = con.execute(
            "SELECT outcome, rows_total, rows_accepted, rows_rejected FROM core.submission ORDER BY seq DESC LIMIT 1"
        ).fetchall()[0]
    work_s = stages.get("process_batch", total_s) - stages.get("returns (receipt, json, annotated xlsx)", 0.0)
    return dict(fmt=fmt, total_s=total_s, history=bool(history), parse_validate_merge_s=work_s, registration_s=registration_s,
                stages=stages, outcome=outcome, rows_total=total, rows_accepted=accepted, rows_rejected=rejected,
                file_bytes=source.stat().st_size, peak_rss=peak_rss_bytes())


FLOOR_DATE_FORMATS = "['%Y-%m-%d', '%Y/%m/%d', '%Y.%m.%d', '%Y年%m月%d日', '%Y%m%d', '%Y-%m-%d %H:%M:%S']"


def floor_sql(csv_path: Path, report_date: date) -> str:
    """DuckDB alone: read the same .csv (title rows skipped) and insert the rows, typed, into a
    table shaped like core.procedure_version with the same primary key."""
    day = lambda column: f"try_strptime(trim(\"{column}\"), {FLOOR_DATE_FORMATS})::DATE"  # noqa: E731
    return f"""
        INSERT OR REPLACE INTO floor
        SELECT trim("项目编号"), trim("手续类型"), 'LS', 'unit', DATE '{report_date}', trim("是否应办") = '是',
               trim("办理进度"), trim("办理层级"), {day('承诺办结时间')}, {day('受理日期')}, {day('办结日期')},
               trim("批复文号"), trim("立项方式"), 'S000001', 1, (row_number() OVER () + 3)::INTEGER
        FROM read_csv('{csv_path}', skip = 2, header = true, all_varchar = true)
        QUALIFY row_number() OVER (PARTITION BY trim("项目编号"), trim("手续类型")) = 1
    """


FLOOR_TABLE = """
    CREATE TABLE floor (
        project_code VARCHAR NOT NULL, procedure VARCHAR NOT NULL, source_unit VARCHAR NOT NULL,
        source_role VARCHAR NOT NULL, report_date DATE NOT NULL, required BOOLEAN NOT NULL, status VARCHAR,
        approval_level VARCHAR, promised_date DATE, accepted_date DATE, completed_date DATE,
        approval_number VARCHAR, approval_mode VARCHAR, submission_id VARCHAR NOT NULL, seq BIGINT NOT NULL,
        source_row INTEGER NOT NULL, PRIMARY KEY (project_code, procedure, source_unit, report_date))
"""


def worker_floor(csv_path: str, work: str, repeats: int) -> dict:
    """(1) baseline: DuckDB read_csv + INSERT into a fresh file database, best of `repeats`."""
    import duckdb

    from benchmarks.generate import REPORT_DATE

    times, rows = [], 0
    for attempt in range(repeats):
        path = Path(work) / f"floor{attempt}.duckdb"
        with duckdb.connect(str(path)) as con:
            con.execute("SET enable_progress_bar = false")
            con.execute(FLOOR_TABLE)
            start = time.perf_counter()
            con.execute(floor_sql(Path(csv_path), REPORT_DATE))
            times.append(time.perf_counter() - start)
            rows = con.execute("SELECT count(*) FROM floor").fetchall()[0][0]
        path.unlink()
    return dict(floor_s=min(times), times=times, rows=rows, peak_rss=peak_rss_bytes())


class _Capture:
    """Stands in for the frame a model's custom check selects from: keeps the expressions."""

    def select(self, *exprs, **named):
        self.exprs = [*exprs, *(expr.alias(key) for key, expr in named.items())]
        return self


def model_rules(model) -> list[tuple[str, str, object]]:
    """(column, check, Polars expression that is true where a row passes) for every rule of a
    Pandera model: its built-in checks translated, its custom checks' own expressions (taken by
    calling them on a stand-in frame). Raises on a check it cannot translate."""
    import polars as pl
    from pandera.api.polars.types import PolarsData

    builtin = {  # Pandera's built-in checks as (column, check statistics) -> verdict expression
        "isin": lambda c, stats: c.is_in(stats["allowed_values"]),
        "notin": lambda c, stats: ~c.is_in(stats["forbidden_values"]),
        "str_matches": lambda c, stats: c.str.contains(stats["pattern"]),
        "greater_than": lambda c, stats: c > stats["min_value"],
        "greater_than_or_equal_to": lambda c, stats: c >= stats["min_value"],
        "less_than": lambda c, stats: c < stats["max_value"],
        "less_than_or_equal_to": lambda c, stats: c <= stats["max_value"],
    }
    rules = []
    for name, column in model.to_schema().columns.items():
        c = pl.col(name)
        if not column.nullable:
            rules.append((name, "not_nullable", c.is_not_null()))
        if column.unique:
            rules.append((name, "field_uniqueness", ~c.is_duplicated()))
        for check in column.checks:
            stats = check.statistics or {}
            if check.name in builtin:
                rules.append((name, check.name, builtin[check.name](c, stats)))
                continue
            if stats:
                raise NotImplementedError(f"built-in check {check.name} on {name}: add it to model_rules")
            capture = _Capture()
            if check._check_fn(PolarsData(capture, name)) is not capture or len(capture.exprs) != 1:
                raise NotImplementedError(f"custom check {check.error} on {name} does not select one expression")
            rules.append((name, check.error or check.name, capture.exprs[0]))
    return rules


def polars_rules(frame, rules: list[tuple[str, str, object]], dtypes: dict[str, object]):
    """The model's rules run as plain Polars: one pass computing every rule's verdict per row,
    then the failing cells as (index, column, check, failure_case), as Pandera reports them."""
    import polars as pl

    wrong_types = [name for name, dtype in dtypes.items() if frame.schema.get(name) != dtype]
    names = [f"_rule{i}" for i in range(len(rules))]
    # A rule about a missing value passes (the missing value has its own finding), as in the model.
    verdicts = frame.with_row_index("index").with_columns(
        *[expr.fill_null(True).alias(name) for name, (_, _, expr) in zip(names, rules, strict=True)])
    failing = verdicts.filter(~pl.all_horizontal(names))
    cases = pl.concat([
        failing.filter(~pl.col(name)).select(
            "index", column=pl.lit(column), check=pl.lit(check), failure_case=pl.col(column).cast(pl.String))
        for name, (column, check, _) in zip(names, rules, strict=True)
    ])
    return cases, wrong_types


def frictionless_schema(header: list[str]) -> dict:
    """The same column rules as a Table Schema over the .csv as written (its headers, its raw
    text). Table Schema has no cross-column rules: those (status required when 应办, …) are not in it."""
    from diaodu.schemas import reference
    from diaodu.schemas.models import APPROVAL_LEVELS, APPROVAL_MODES, DONE, IN_PROGRESS, PENDING

    def one_of(values):  # blanks around a value are tolerated, as diaodu's trimming does
        return r"\s*(" + "|".join(values) + r")\s*"

    aliases = reference.value_aliases()
    date_pattern = (r"\s*([0-9０-９]{4}\s*[-/.年]\s*[0-9０-９]{1,2}\s*[-/.月]\s*[0-9０-９]{1,2}\s*日?"
                    r"(\s+\d{1,2}:\d{2}(:\d{2})?)?|\d{8}|\d{5})\s*")
    fields = {
        "项目编号": {"required": True, "pattern": r"\s*[0-9０-９]{4}-\d{6}-\d{2}-\d{2}-\d{6}\s*"},
        "手续类型": {"required": True, "pattern": one_of([*reference.procedures(), *aliases["procedure"]])},
        "是否应办": {"required": True, "pattern": one_of(["是", "否", "Y", "N", "YES", "NO", "√", "×"])},
        "办理进度": {"pattern": one_of([PENDING, IN_PROGRESS, DONE, *aliases["status"]])},
        "办理层级": {"pattern": one_of([*APPROVAL_LEVELS, *aliases["approval_level"]])},
        "受理日期": {"pattern": date_pattern},
        "承诺办结时间": {"pattern": date_pattern},
        "办结日期": {"pattern": date_pattern},
        "立项方式": {"pattern": one_of(APPROVAL_MODES)},
        "批复文号": {},
        "备注": {},
    }
    return {"fields": [{"name": name, "type": "string", "constraints": fields.get(name, {})} for name in header],
            "primaryKey": ["项目编号", "手续类型"]}


def worker_validate(set_dir: str, repeats: int) -> dict:
    """(2) Pandera vs the same rules in plain Polars, and vs frictionless on the same .csv."""
    import csv as csv_module

    import frictionless
    import pandera.polars as pa
    import polars as pl

    from benchmarks.generate import INGEST_UNIT, REPORT_DATE
    from diaodu.ingest.judge import SubmissionContext, judge
    from diaodu.intake.files import read_grids
    from diaodu.intake.sheets import locate
    from diaodu.schemas import reference
    from diaodu.schemas.models import ProcedureSheet

    path = Path(json.loads((Path(set_dir) / "set.json").read_text())["csv"])
    context = SubmissionContext(reference.units()[INGEST_UNIT], REPORT_DATE, reference.city().code)

    def diaodu_findings():
        (grid,) = read_grids(path, 1 << 30, path.name)
        return judge(locate(grid), context)

    diaodu_s, judgement = best_of(repeats, diaodu_findings)
    frame = judgement.typed

    def pandera(rows=frame):
        try:
            ProcedureSheet.validate(rows, lazy=True)
            return pl.DataFrame()
        except pa.errors.SchemaErrors as errors:
            return errors.failure_cases

    pandera_s, failures = best_of(repeats, pandera)
    rules = model_rules(ProcedureSheet)  # written once, as hand-written rules would be
    dtypes = {name: column.dtype.type for name, column in ProcedureSheet.to_schema().columns.items()}
    polars_s, (cases, wrong_types) = best_of(repeats, lambda: polars_rules(frame, rules, dtypes))
    # How the ratio moves with size: the frame ten times over, each copy's project codes made its own
    # (another year prefix), so the copies are not duplicates of each other.
    tenfold = pl.concat([frame.with_columns(project_code=pl.lit(str(2010 + copy)) + pl.col("project_code").str.slice(4))
                         for copy in range(10)])
    pandera_tenfold_s, _ = best_of(max(1, repeats - 2), lambda: pandera(tenfold))
    polars_tenfold_s, _ = best_of(max(1, repeats - 2), lambda: polars_rules(tenfold, rules, dtypes))
    key = lambda df: set(df.select(  # noqa: E731
        pl.col("index").cast(pl.Int64), "column", pl.col("check").str.replace(r"\(.*$", "")).iter_rows())
    pandera_cells = key(failures.filter(pl.col("index").is_not_null())) if failures.height else set()
    polars_cells = key(cases)

    with open(path, encoding="utf-8-sig", newline="") as handle:
        header = next(row for i, row in enumerate(csv_module.reader(handle)) if i == 2)
    schema = frictionless.Schema.from_descriptor(frictionless_schema(header))

    def fl():
        resource = frictionless.Resource(path.name, basepath=str(path.parent), schema=schema, encoding="utf-8-sig",
                                         format="csv", dialect=frictionless.Dialect(header_rows=[3]))
        return resource.validate(limit_errors=1_000_000)

    frictionless_s, report = best_of(max(1, repeats - 1), fl)
    errors = report.flatten(["rowNumber", "fieldName", "type"])
    return dict(
        rows=frame.height, diaodu_csv_to_findings_s=diaodu_s, pandera_s=pandera_s, polars_s=polars_s,
        tenfold_rows=tenfold.height, pandera_tenfold_s=pandera_tenfold_s, polars_tenfold_s=polars_tenfold_s,
        frictionless_s=frictionless_s, frictionless_errors=len(errors), frictionless_valid=report.valid,
        pandera_failure_cells=len(pandera_cells), polars_failure_cells=len(polars_cells),
        same_failures=pandera_cells == polars_cells, polars_wrong_types=wrong_types,
        only_pandera=sorted(map(str, pandera_cells - polars_cells))[:5],
        only_polars=sorted(map(str, polars_cells - pandera_cells))[:5],
        findings_errors=judgement.findings.filter(pl.col("severity") == "error").height,
    )


def worker_history(data: str, projects: int, days: int, ending: str = "") -> dict:
    """A year of history written straight into a working file. With `ending` (6), the year ends the day
    before that date (the ingest file's report date, so the file lands after a year of history, as on
    day 365), its rollups are materialised too and the data directory is published (every part)."""
    import duckdb

    from benchmarks.generate import HISTORY_START, generate_history
    from diaodu.warehouse.rollup import materialise_days
    from diaodu.warehouse.store import apply_schema

    path = Path(data) / "state" / "work.duckdb"
    path.parent.mkdir(parents=True, exist_ok=True)
    start_day = date.fromisoformat(ending) - timedelta(days=days) if ending else HISTORY_START
    start = time.perf_counter()
    with duckdb.connect(str(path)) as con:
        counts = generate_history(con, projects, days, start=start_day)
        if ending:
            apply_schema(con)
            con.execute("SET enable_progress_bar = false")
            materialise_days(con, [start_day + timedelta(days=day) for day in range(days)], 3,
                             datetime.combine(date.fromisoformat(ending), datetime.min.time()))
        con.execute("CHECKPOINT")
    if ending:
        from diaodu.warehouse.store import Warehouse

        with Warehouse(Path(data)).writing():
            pass
    return dict(counts=counts, generate_s=time.perf_counter() - start, db_bytes=path.stat().st_size)


def worker_rollup(data: str, days: int) -> dict:
    """(3) backfill: every report date of the generated history in one `daily_rollup` run's way
    (`Warehouse.writing()` around `materialise_days`: open + schema, the spans, checkpoint, publish);
    then the last date alone the same way, as the daily 16:00 run."""
    import diaodu.warehouse.rollup as rollup
    from benchmarks.generate import HISTORY_START
    from diaodu.warehouse.store import Warehouse

    warehouse = Warehouse(Path(data))
    now = datetime(2024, 1, 3, 16, 0)
    report_dates = [HISTORY_START + timedelta(days=day) for day in range(days)]

    span_starts: list[tuple[float, int]] = []  # (when a span began, its number of days)
    stage_days = rollup.stage_days

    def timed_stage_days(con, span):  # marks where each span's work begins
        span_starts.append((time.perf_counter(), len(span)))
        return stage_days(con, span)

    rollup.stage_days = timed_stage_days
    start = time.perf_counter()
    with warehouse.writing() as con:
        con.execute("SET enable_progress_bar = false")
        opened = time.perf_counter()
        rollup.materialise_days(con, report_dates, 3, now)
        rolled = time.perf_counter()
        rows = con.execute("SELECT count(*) FROM rollup.procedure_status").fetchall()[0][0]
    total_s = time.perf_counter() - start
    rollup.stage_days = stage_days
    ends = [t for t, _ in span_starts[1:]] + [rolled]
    spans = [dict(days=n, seconds=end - began, per_day_s=(end - began) / n)
             for (began, n), end in zip(span_starts, ends, strict=True)]

    # Flat means the cost does not grow with the days already stored: the first span again, now that
    # the whole year is stored (same dates, same data), against its first time.
    with warehouse.writing() as con:
        start = time.perf_counter()
        rollup.materialise_days(con, report_dates[:spans[0]["days"]], 3, now)
        first_span_again_s = time.perf_counter() - start

    start = time.perf_counter()
    with warehouse.writing() as con:
        rollup.materialise_days(con, report_dates[-1:], 3, now)
    single_day_s = time.perf_counter() - start
    return dict(
        days=days, total_s=total_s, materialise_s=rolled - opened, around_s=total_s - (rolled - opened),
        spans=spans, first_span_s=spans[0]["seconds"], first_span_again_s=first_span_again_s,
        single_day_s=single_day_s, rollup_rows=rows, db_bytes=warehouse.work_path.stat().st_size,
        peak_rss=peak_rss_bytes(),
    )


def run_worker(kind: str, timeout: float, **kwargs) -> dict:
    """Runs a worker in a fresh interpreter; its peak RSS is its own."""
    command = [sys.executable, "-m", "benchmarks.run", "--worker", kind, "--args", json.dumps(kwargs)]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"worker {kind} failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# ---- (4) latency under a running `dagster dev` ------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def dagster_home(home: Path, data: Path) -> None:
    """The repo's dagster.yaml with every relative `base_dir` made absolute under `data`."""
    import yaml

    config = yaml.safe_load((REPO / "dagster.yaml").read_text())

    def absolute(node):
        if isinstance(node, dict):
            return {k: (str((data / Path(v).relative_to("data")).resolve()) if k == "base_dir" and
                        isinstance(v, str) and v.startswith("data") else absolute(v)) for k, v in node.items()}
        return [absolute(v) for v in node] if isinstance(node, list) else node

    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text(yaml.safe_dump(absolute(config), allow_unicode=True))


def measure_latency(work: Path, files: int, projects: int, timeout_s: float) -> dict:
    import random

    import dagster as dg

    from benchmarks.generate import INGEST_UNIT, SEED, make_projects, write_unit_workbook
    from diaodu.pipelines.data_dir import init_data_dir
    from diaodu.schemas import reference

    data, home, staging = work / "data", work / "dagster_home", work / "staging"
    init_data_dir(data)  # the inbox sensor serves data directories only
    dagster_home(home, data)
    unit, today = reference.units()[INGEST_UNIT], local_today()
    ledger = make_projects(random.Random(SEED), unit, projects, today)
    drops = []  # a warm-up workbook (registers the projects), then workbooks and GBK .csv in turn
    for i in range(files + 1):
        suffix = ".xlsx" if i % 2 == 0 else ".csv"
        drops.append(write_unit_workbook(staging / f"{unit.name}台账{today:%m%d}_{i}{suffix}", unit, ledger, today,
                                         SEED + 100 + i))
    port = free_port()
    env = {**os.environ, "DAGSTER_HOME": str(home), "DIAODU_DATA_DIR": str(data), "PYTHONPATH": str(REPO)}
    log_path = work / "dagster_dev.log"
    command = [str(Path(sys.executable).parent / "dagster"), "dev", "-m", "diaodu.pipelines.definitions",
               "-h", "127.0.0.1", "-p", str(port)]
    process = subprocess.Popen(command, cwd=REPO, env=env, stdout=open(log_path, "w"), stderr=subprocess.STDOUT,
                               start_new_session=True)
    outbox = data / "outbox" / unit.code
    results = []
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=2)
                break
            except Exception as not_up:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError(f"dagster dev did not come up; see {log_path}") from not_up
                time.sleep(1)
        log(f"latency: dagster dev up on 127.0.0.1:{port} (DAGSTER_HOME={home})")
        instance = dg.DagsterInstance.from_config(str(home))
        active = dg.RunsFilter(statuses=[dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED,
                                         dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED])

        def wait_idle(limit: float) -> None:
            end = time.monotonic() + limit
            while instance.get_runs(filters=active) and time.monotonic() < end:
                time.sleep(0.5)

        for i, path in enumerate(drops):
            wait_idle(timeout_s)
            before = set(outbox.glob("*_回执.txt")) if outbox.exists() else set()
            target = data / "inbox" / unit.code / path.name
            target.parent.mkdir(parents=True, exist_ok=True)
            hidden = target.with_name("." + target.name)  # hidden files are ignored: the drop is the rename
            shutil.copyfile(path, hidden)
            os.utime(hidden)
            landed = time.time()
            os.replace(hidden, target)
            receipt, end = None, time.monotonic() + timeout_s
            while receipt is None and time.monotonic() < end:
                new = set(outbox.glob("*_回执.txt")) - before if outbox.exists() else set()
                receipt = next(iter(new), None)
                time.sleep(0.1)
            if receipt is None:
                raise RuntimeError(f"no receipt for {path.name} within {timeout_s:.0f} s; see {log_path}")
            seconds = receipt.stat().st_mtime - landed
            record = next((r for r in instance.get_run_records(limit=20)
                           if f"{unit.code}/{path.name}" in json.dumps(r.dagster_run.run_config, ensure_ascii=False)),
                          None)
            phases = {}
            if record is not None and record.start_time:
                created = record.create_timestamp.timestamp()
                phases = {"sensor_tick_and_settle_s": created - landed, "queue_and_launch_s": record.start_time - created,
                          "run_start_to_receipt_s": receipt.stat().st_mtime - record.start_time}
            results.append(dict(file=path.name, warmup=i == 0, seconds=seconds, **phases))
            log(f"latency: {path.name}: {seconds:.1f} s {'(warm-up, not counted) ' if i == 0 else ''}"
                + " ".join(f"{k}={v:.1f}" for k, v in phases.items()))
        wait_idle(timeout_s)
    finally:
        stop(process)
    counted = [r for r in results if not r["warmup"]]
    phase_medians = {key: statistics.median(r[key] for r in counted if key in r)
                     for key in ("sensor_tick_and_settle_s", "queue_and_launch_s", "run_start_to_receipt_s")
                     if any(key in r for r in counted)}
    return dict(median_s=statistics.median(r["seconds"] for r in counted), files=len(counted),
                rows_per_file=projects * len(reference.procedures()), drops=results, phase_medians=phase_medians)


def stop(process: subprocess.Popen) -> None:
    """Stops the `dagster dev` this run started (its own process group), gently first."""
    if process.poll() is not None:
        return
    for sig, wait in ((signal.SIGINT, 30), (signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue


def worker_inline(work: str, projects: int) -> dict:
    return dict(seconds=in_process_seconds(Path(work), projects))


def in_process_seconds(work: Path, projects: int) -> float:
    """The same kind of file processed in-process (no sensor, no run launch, warm): the work itself."""
    import random

    import dagster as dg

    import diaodu.pipelines.assets as assets
    from benchmarks.generate import INGEST_UNIT, SEED, make_projects, write_unit_workbook
    from diaodu.pipelines.resources import DiaoduSettings
    from diaodu.schemas import reference

    unit, today = reference.units()[INGEST_UNIT], local_today()
    ledger = make_projects(random.Random(SEED), unit, projects, today)
    data = work / "data"
    settings = DiaoduSettings(data_dir=str(data))
    times = []
    for i in range(2):  # the first registers the projects and warms up; the second is timed
        write_unit_workbook(data / "inbox" / unit.code / f"台账_{i}.xlsx", unit, ledger, today, SEED + 100 + i)
        start = time.perf_counter()
        dg.materialize([assets.submissions], resources={"settings": settings},
                       instance=dg.DagsterInstance.ephemeral(), raise_on_error=True)
        times.append(time.perf_counter() - start)
    return times[-1]


# ---- the table ------------------------------------------------------------------------------------
def seconds(value: float) -> str:
    if value < 1:
        return f"{value * 1000:.0f} ms" if value >= 0.01 else f"{value * 1000:.1f} ms"
    return f"{value:.2f} s" if value < 100 else f"{value:,.0f} s"


def mib(value: float) -> str:
    return f"{value / 2**20:,.0f} MiB"


def met(ok: bool) -> str:
    return "✅ yes" if ok else "❌ no"


def machine() -> str:
    cpu = "unknown CPU"
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / GIB
    from importlib.metadata import version
    versions = ", ".join(f"{name} {version(name)}" for name in ("polars", "pandera", "duckdb", "dagster", "frictionless"))
    return (f"{platform.node() or 'machine'}: {os.cpu_count()} cores ({cpu}), {memory:.0f} GiB RAM, "
            f"Python {platform.python_version()}, {versions}")


def table(results: dict) -> str:
    rows = []
    ingest, floor = results.get("ingest", {}), results.get("floor")
    for fmt, label in (("csv", ".csv (UTF-8)"), ("xlsx", ".xlsx"), ("csv_gbk", ".csv (GBK)")):
        if fmt in ingest and floor:
            r, ratio = ingest[fmt], ingest[fmt]["parse_validate_merge_s"] / floor["floor_s"]
            rows.append((f"(1) ingest {r['rows_total']:,} 手续 rows, {label}: parse + validate + merge",
                         seconds(r["parse_validate_merge_s"]), f"DuckDB read_csv + INSERT {seconds(floor['floor_s'])}",
                         f"{ratio:.1f}×", "≤ 3×", met(ratio <= TARGETS["ingest_ratio"])))
    for fmt, label in (("csv", ".csv"), ("xlsx", ".xlsx")):
        if fmt in ingest and floor:
            r = ingest[fmt]
            rows.append((f"(1′) same {label}, whole `submissions` run (+ returns, schema, publish; info)",
                         seconds(r["total_s"]), f"DuckDB floor {seconds(floor['floor_s'])}",
                         f"{r['total_s'] / floor['floor_s']:.1f}×", "—", "—"))
    v = results.get("validate")
    if v:
        ratio = v["pandera_s"] / v["polars_s"]
        rows.append((f"(2) validate {v['rows']:,} typed rows: Pandera model vs the same rules in plain Polars"
                     f"{'' if v['same_failures'] else ' (failures differ!)'}",
                     seconds(v["pandera_s"]), f"plain Polars {seconds(v['polars_s'])}", f"{ratio:.2f}×", "≤ 1.5×",
                     met(ratio <= TARGETS["pandera_vs_polars"])))
        if "pandera_tenfold_s" in v:
            ratio = v["pandera_tenfold_s"] / v["polars_tenfold_s"]
            rows.append((f"(2) the same at {v['tenfold_rows']:,} rows (the frame ten times, its own codes each "
                         "time): Pandera's fixed cost per check thins out (info)", seconds(v["pandera_tenfold_s"]),
                         f"plain Polars {seconds(v['polars_tenfold_s'])}", f"{ratio:.2f}×", "—", "—"))
        speedup = v["frictionless_s"] / v["pandera_s"]
        rows.append(("(2) Pandera validation vs frictionless `validate` (same .csv, Table Schema)",
                     seconds(v["pandera_s"]), f"frictionless {seconds(v['frictionless_s'])}",
                     f"{speedup:.0f}× faster", "≥ 20× faster", met(speedup >= TARGETS["vs_frictionless"])))
        speedup = v["frictionless_s"] / v["diaodu_csv_to_findings_s"]
        rows.append(("(2′) .csv → findings: read + locate + type + Pandera + findings vs frictionless (info)",
                     seconds(v["diaodu_csv_to_findings_s"]), f"frictionless {seconds(v['frictionless_s'])}",
                     f"{speedup:.1f}× faster" if speedup >= 1 else f"{1 / speedup:.1f}× slower", "—", "—"))
    r = results.get("rollup")
    if r:
        h = results.get("history", {}).get("counts", {})
        spans = r["spans"]
        rows.append((f"(3) rollups: {r['days']} report dates over {h.get('procedure_version', 0) / 1e6:.1f} M "
                     f"procedure versions ({r['rollup_rows'] / 1e6:.1f} M procedure-day rows written), total",
                     seconds(r["materialise_s"]), "—", "—", f"< {TARGETS['rollup_total_s']:.0f} s",
                     met(r["materialise_s"] < TARGETS["rollup_total_s"])))
        growth = r["first_span_again_s"] / r["first_span_s"]
        rows.append((f"(3) flat: the first {spans[0]['days']} report dates again with all {r['days']} stored, vs "
                     f"with none stored ({min(x['per_day_s'] for x in spans):.3f}–"
                     f"{max(x['per_day_s'] for x in spans):.3f} s/day across the spans)",
                     seconds(r["first_span_again_s"]), f"first time {seconds(r['first_span_s'])}", f"{growth:.2f}×",
                     "flat (≤ 1.5×)", met(growth <= TARGETS["rollup_flat"])))
        rows.append((f"(3′) the whole single-run backfill: + {seconds(r['around_s'])} open, schema, checkpoint, "
                     f"publish of every part of a {r['db_bytes'] / GIB:.1f} GiB working file, paid once per run (info)",
                     seconds(r["total_s"]), "—", "—", "—", "—"))
        rows.append(("(3″) the daily run: one report date at the end of the history, the same way (info)",
                     seconds(r["single_day_s"]), "—", "—", "—", "—"))
    growth = results.get("growth", {})
    if "empty" in growth and "history" in growth:
        empty, year = growth["empty"], growth["history"]
        ratio = year["total_s"] / empty["total_s"]
        rows.append((f"(6) growth: the whole `submissions` step ({year['rows_total']:,} rows, .csv) after a year of "
                     "province history vs on an empty warehouse", seconds(year["total_s"]),
                     f"empty warehouse {seconds(empty['total_s'])}", f"{ratio:.2f}×", "≤ 1.2×",
                     met(ratio <= TARGETS["growth"])))
        if floor:
            ratio = year["total_s"] / floor["floor_s"]
            rows.append(("(1′) the same whole step with the year of history (read, judge, returns, merge, "
                         "checkpoint, publish) vs the DuckDB floor", seconds(year["total_s"]),
                         f"DuckDB floor {seconds(floor['floor_s'])}", f"{ratio:.1f}×", "≤ 3×",
                         met(ratio <= TARGETS["ingest_ratio"])))
    lat = results.get("latency")
    if lat:
        base = results.get("latency_in_process_s")
        rows.append((f"(4) inbox → receipt under `dagster dev`, median of {lat['files']} files "
                     f"({lat['rows_per_file']:,} 手续 rows each)", seconds(lat["median_s"]),
                     f"in-process run {seconds(base)}" if base else "—",
                     f"{lat['median_s'] / base:.0f}×" if base else "—", "< 10 s",
                     met(lat["median_s"] < TARGETS["latency_s"])))
    from benchmarks.portal_latency import portal_rows  # after REPO is on sys.path

    rows += portal_rows(results, seconds, met)
    for fmt, label in (("csv", ".csv"), ("xlsx", ".xlsx")):
        if fmt in ingest:
            peak = ingest[fmt]["peak_rss"]
            rows.append((f"(5) peak RSS of (1) {label}", mib(peak),
                         f"DuckDB floor {mib(floor['peak_rss'])}" if floor else "—",
                         f"{peak / floor['peak_rss']:.1f}×" if floor else "—", "< 2 GiB", met(peak < TARGETS["rss_bytes"])))
    if r:
        rows.append(("(5) peak RSS of (3)", mib(r["peak_rss"]), "—", "—", "< 2 GiB",
                     met(r["peak_rss"] < TARGETS["rss_bytes"])))
    lines = ["| figure | diaodu | baseline | ratio | target | met? |", "|---|---|---|---|---|---|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def details(results: dict) -> str:
    out = []
    for fmt, r in results.get("ingest", {}).items():
        stages = ", ".join(f"{k} {v:.2f} s" for k, v in sorted(r["stages"].items(), key=lambda kv: -kv[1]))
        out.append(f"(1) {fmt}: {r['outcome']}, {r['rows_accepted']:,} accepted / {r['rows_rejected']:,} returned; "
                   f"stages: {stages}")
    for label, r in results.get("growth", {}).items():
        stages = ", ".join(f"{k} {v:.2f} s" for k, v in sorted(r["stages"].items(), key=lambda kv: -kv[1]))
        runs = ", ".join(f"{t:.2f}" for t in r["all_total_s"])
        out.append(f"(6) {label}: whole step {runs} s; stages of the best: {stages}")
    v = results.get("validate")
    if v:
        out.append(f"(2) Pandera failing cells {v['pandera_failure_cells']}, plain Polars {v['polars_failure_cells']}, "
                   f"identical: {v['same_failures']}; frictionless errors {v['frictionless_errors']}; "
                   f"diaodu error findings {v['findings_errors']}")
    r = results.get("rollup")
    if r:
        per_span = ", ".join(f"{span['seconds']:.2f}" for span in r["spans"])
        out.append(f"(3) seconds per span of up to {max(span['days'] for span in r['spans'])} days, in order: "
                   f"{per_span}; rollup rows {r['rollup_rows']:,}")
    lat = results.get("latency")
    if lat:
        out.append("(4) median phases: " + ", ".join(f"{k} {v:.1f} s" for k, v in lat["phase_medians"].items()))
    return "\n".join(out)


WORKERS = {"ingest": worker_ingest, "floor": worker_floor, "validate": worker_validate,
           "history": worker_history, "rollup": worker_rollup, "inline": worker_inline}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description="diaodu's benchmark (issue 6)")
    parser.add_argument("--quick", action="store_true", help="smaller data: a few minutes instead of ~15")
    parser.add_argument("--only", default="1,2,3,4,6", help="figures to run, e.g. 1,2 (5 comes with 1 and 3)")
    parser.add_argument("--work", type=Path, default=None, help="working directory (default: a temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the working directory")
    parser.add_argument("--json", type=Path, default=None, help="write every measurement here")
    parser.add_argument("--table-from", type=Path, default=None, help="print the table of an earlier --json")
    parser.add_argument("--worker", choices=sorted(WORKERS), help=argparse.SUPPRESS)
    parser.add_argument("--args", default="{}", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(WORKERS[args.worker](**json.loads(args.args)), default=str))
        return 0

    if args.table_from:
        results = json.loads(args.table_from.read_text())
        print(f"Machine: {results['machine']}\n")
        print(table(results))
        return 0

    from benchmarks.generate import INGEST_ROWS, write_ingest_set

    only = {int(x) for x in args.only.split(",") if x.strip()}
    size = dict(rows=20_000, projects=1000, days=60, latency_files=3, latency_projects=50, ingest_repeats=1) \
        if args.quick else \
        dict(rows=INGEST_ROWS, projects=5000, days=365, latency_files=8, latency_projects=100, ingest_repeats=2)
    work = args.work or Path(tempfile.mkdtemp(prefix="diaodu-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    results: dict = {"machine": machine(), "size": size, "started": datetime.now().isoformat(timespec="seconds")}
    begun = time.perf_counter()
    try:
        if only & {1, 2, 6}:
            log(f"generating the ingest set ({size['rows']:,} 手续 rows) in {work / 'ingest'}")
            ingest = write_ingest_set(work / "ingest", size["rows"])
            (work / "ingest" / "set.json").write_text(json.dumps(ingest.__dict__, default=str, ensure_ascii=False))
            results["ingest_set"] = {**{k: str(v) for k, v in ingest.__dict__.items()}}
        if 1 in only:
            results["ingest"] = {}
            for fmt in ("csv", "xlsx", "csv_gbk"):
                runs = []
                for attempt in range(size["ingest_repeats"]):  # each in a fresh process and data dir
                    log(f"(1) diaodu ingest {fmt} #{attempt + 1}")
                    folder = work / f"ingest_{fmt}"
                    shutil.rmtree(folder, ignore_errors=True)
                    runs.append(run_worker("ingest", 600, set_dir=str(work / "ingest"), fmt=fmt, work=str(folder)))
                best = min(runs, key=lambda r: r["parse_validate_merge_s"])
                results["ingest"][fmt] = {**best, "peak_rss": max(r["peak_rss"] for r in runs),
                                          "all_parse_validate_merge_s": [r["parse_validate_merge_s"] for r in runs]}
        if only & {1, 6}:
            log("(1) DuckDB floor")
            results["floor"] = run_worker("floor", 300, csv_path=str(ingest.csv), work=str(work), repeats=5)
        if 2 in only:
            log("(2) Pandera vs plain Polars vs frictionless")
            results["validate"] = run_worker("validate", 600, set_dir=str(work / "ingest"), repeats=5)
        if 3 in only:
            data = work / "history"
            shutil.rmtree(data, ignore_errors=True)
            log(f"(3) generating {size['days']} days of history for {size['projects']:,} projects")
            results["history"] = run_worker("history", 900, data=str(data), projects=size["projects"], days=size["days"])
            log(f"(3) history: {results['history']['counts']} in {results['history']['generate_s']:.0f} s")
            results["rollup"] = run_worker("rollup", 1800, data=str(data), days=size["days"])
            shutil.rmtree(data, ignore_errors=True)
        history_db = work / "year_history" / "state" / "work.duckdb"  # with the published catalog and parts
        if 6 in only:
            from benchmarks.generate import REPORT_DATE
            log(f"(6) generating {size['days']} days of history and rollups up to {REPORT_DATE}")
            results["growth_history"] = run_worker("history", 1800, data=str(history_db.parents[1]),
                                                   projects=size["projects"], days=size["days"],
                                                   ending=REPORT_DATE.isoformat())
            results["growth"] = {}
            for attempt in range(size["ingest_repeats"]):  # side by side: empty, then with the year, in turn
                for label, history in (("empty", ""), ("history", str(history_db.parents[1]))):
                    log(f"(6) the whole submissions step, {label} warehouse, #{attempt + 1}")
                    folder = work / f"growth_{label}"
                    shutil.rmtree(folder, ignore_errors=True)
                    run = run_worker("ingest", 1200, set_dir=str(work / "ingest"), fmt="csv", work=str(folder),
                                     history=history)
                    shutil.rmtree(folder, ignore_errors=True)
                    best = results["growth"].get(label)
                    if best is None or run["total_s"] < best["total_s"]:
                        results["growth"][label] = {**run, "all_total_s": (best or {}).get("all_total_s", [])}
                    results["growth"][label]["all_total_s"] = [*results["growth"][label]["all_total_s"], run["total_s"]]
            shutil.rmtree(history_db.parents[1], ignore_errors=True)
        if 4 in only:
            folder = work / "latency"
            shutil.rmtree(folder, ignore_errors=True)
            results["latency"] = measure_latency(folder, size["latency_files"], size["latency_projects"], 180)
            inline = work / "latency_inline"
            shutil.rmtree(inline, ignore_errors=True)
            results["latency_in_process_s"] = run_worker("inline", 300, work=str(inline),
                                                         projects=size["latency_projects"])["seconds"]
            from benchmarks.portal_latency import measure_portal_latency

            results["portal_latency"] = measure_portal_latency(work / "portal_latency", size["latency_files"],
                                                               size["latency_projects"], 180)
    finally:
        results["wall_s"] = time.perf_counter() - begun
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False, default=str))
        if not args.keep and args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    log(f"done in {results['wall_s']:.0f} s")
    print(details(results), file=sys.stderr)
    print(f"Machine: {results['machine']}{' (--quick)' if args.quick else ''}\n")
    print(table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
