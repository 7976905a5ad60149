"""`diaodu`: the command line. It drives the same Dagster job the inbox sensor launches, through a
real Dagster instance whose storage lives under the data directory (so `dagster dev` shows the runs)."""

from __future__ import annotations

import argparse
import sys
import unicodedata
from datetime import date
from pathlib import Path

from diaodu.dispatch import briefing_dir
from diaodu.pipelines.definitions import build_definitions
from diaodu.pipelines.instance import instance_for
from diaodu.returns.receipts import OUTCOME_LABELS
from diaodu.schemas.reference import local_today
from diaodu.warehouse.merge import last_seq
from diaodu.warehouse.rollup import city_completion, stale_report_dates
from diaodu.warehouse.store import Warehouse

# The terminal gets warnings and errors; the full run log is in the Dagster UI.
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def run_pipeline(data_dir: Path, as_of: date) -> bool:
    """Processes every file waiting in the inbox, then the rollup of `as_of`; True when the run succeeded."""
    data_dir.mkdir(parents=True, exist_ok=True)
    defs = build_definitions(str(data_dir))
    with instance_for(data_dir) as instance:
        result = defs.resolve_job_def("ingest_job").execute_in_process(
            instance=instance, partition_key=as_of.isoformat(), raise_on_error=False, run_config=QUIET)
        if not result.success:
            return False
        # As the stale-rollup sensor would: late files re-judge the days they belong to.
        with Warehouse(data_dir).reading() as con:
            stale = stale_report_dates(con)
        for day in stale:
            rerun = defs.resolve_job_def("daily_rollup_job").execute_in_process(
                instance=instance, partition_key=day.isoformat(), raise_on_error=False, run_config=QUIET)
            if not rerun.success:
                return False
    return True


def print_summary(data_dir: Path, as_of: date, since_seq: int) -> None:
    with Warehouse(data_dir).reading() as con:
        outcomes = con.execute(
            "SELECT outcome, count(*) FROM core.submission WHERE seq > ? GROUP BY ALL ORDER BY ALL", [since_seq]
        ).fetchall()
        returned = con.execute(
            "SELECT u.unit_name, s.file_name, s.outcome, s.rows_rejected FROM core.submission AS s "
            "JOIN ref.unit AS u USING (unit_code) WHERE s.seq > ? AND s.outcome IN ('partial', 'returned') "
            "ORDER BY s.seq", [since_seq]).fetchall()
        rows = city_completion(con, as_of)
    print("本次处理文件：" + ("，".join(f"{OUTCOME_LABELS[o]} {n} 个" for o, n in outcomes) or "无新文件"))
    for unit_name, file_name, outcome, rejected in returned:
        print(f"  {unit_name}：{file_name} — " + ("整个文件退回" if outcome == "returned" else f"退回 {rejected} 行"))
    print(f"\n{as_of} 全市百日攻坚项目手续办结情况：")
    widths = (14, 6, 8, 8, 6, 10)
    print(_columns(("手续", "应办", "已办结", "正办理", "待办", "办结率"), widths))
    for procedure, required, done, in_progress, pending, rate in rows:
        rate_text = "—" if rate is None else f"{rate:.2%}"
        print(_columns((procedure, required, done, in_progress, pending, rate_text), widths))
    print(f"\n仓库（下游工具打开此文件）：{(data_dir / 'warehouse.duckdb').resolve()}")
    print(f"回执与退回标注：{(data_dir / 'outbox').resolve()}/<单位代码>/")
    print(f"一日一调简报：{briefing_dir((data_dir / 'outbox').resolve(), as_of)}/")


def _columns(values: tuple, widths: tuple[int, ...]) -> str:
    """A table row for a terminal: Chinese characters take two columns."""
    def width(text: str) -> int:
        return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)
    cells = [str(value) for value in values]
    first = cells[0] + " " * (widths[0] - width(cells[0]))
    return first + "".join(" " * (w - width(c)) + c for c, w in zip(cells[1:], widths[1:]))


def _last_seq(data_dir: Path) -> int:
    if not (data_dir / "warehouse.duckdb").exists():
        return 0
    with Warehouse(data_dir).reading() as con:
        return last_seq(con)


def _process(data_dir: Path, as_of: date) -> int:
    since = _last_seq(data_dir)
    if not run_pipeline(data_dir, as_of):
        print("运行失败：请在 Dagster 界面查看日志（DAGSTER_HOME 下的运行记录）。", file=sys.stderr)
        return 1
    print_summary(data_dir, as_of, since)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="diaodu", description="百日攻坚重点项目前期手续一日一调")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="write the sample campaign into the inbox and run everything")
    demo.add_argument("--data-dir", type=Path, default=Path("data"))
    run = commands.add_parser("run", help="process new inbox files, then materialise the as-of date's rollup")
    run.add_argument("--data-dir", type=Path, required=True)
    run.add_argument("--as-of", type=date.fromisoformat, default=None, help="YYYY-MM-DD (default: today, Asia/Shanghai)")
    replay = commands.add_parser("replay", help="rebuild a warehouse from the archived submissions of another")
    replay.add_argument("--data-dir", type=Path, required=True, help="the data directory to replay")
    replay.add_argument("--into", type=Path, required=True, help="an empty data directory to rebuild into")
    template = commands.add_parser("template", help="write blank .xlsx templates generated from the schemas")
    template.add_argument("--out", type=Path, required=True)
    serve = commands.add_parser("serve", help="run the Dagster code server, webserver and daemon, supervised")
    serve.add_argument("--data-dir", type=Path, required=True)
    serve.add_argument("--dagster-port", type=int, default=3000, help="the webserver's port on 127.0.0.1")
    serve.add_argument("--portal-port", type=int, default=8070, help="the unit portal's port (not built yet)")
    serve.add_argument("--viewer-port", type=int, default=None, help="also a read-only webserver for viewers")
    status = commands.add_parser("status", help="whether the served services are up; non-zero when unhealthy")
    status.add_argument("--data-dir", type=Path, required=True)
    args = parser.parse_args(argv)

    if args.command == "serve":
        from diaodu.pipelines.service import serve as run_services

        return run_services(args.data_dir, args.dagster_port, args.portal_port, args.viewer_port)
    if args.command == "status":
        from diaodu.pipelines.status import status as print_status

        return print_status(args.data_dir)

    if args.command == "template":
        from diaodu.schemas.templates import write_templates

        for path in write_templates(args.out):
            print(path)
        return 0
    if args.command == "replay":
        from diaodu.pipelines.replay import replay

        with instance_for(args.into) as instance:
            replayed = replay(args.data_dir, args.into, instance)
        print(f"重放{'完成' if replayed else '失败'}：{(args.into / 'warehouse.duckdb').resolve()}")
        return 0 if replayed else 1
    if args.command == "demo":
        from diaodu.sample.campaign import SAMPLE_REPORT_DATE, write_sample_campaign

        written = write_sample_campaign(args.data_dir / "inbox")
        print(f"示例台账已放入收件箱：{len(written)} 个文件 → {(args.data_dir / 'inbox').resolve()}")
        return _process(args.data_dir, SAMPLE_REPORT_DATE)
    return _process(args.data_dir, args.as_of or local_today())


if __name__ == "__main__":
    sys.exit(main())
