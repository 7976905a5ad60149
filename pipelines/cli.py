"""`diaodu`: the command line. It drives the same Dagster job the inbox sensor launches, through a
real Dagster instance whose storage lives under the data directory (so `dagster dev` shows the runs).

Errors speak to the person at the terminal: a mistake in the call (an argument, a date outside the
report dates, a path that is not a data directory) is one Chinese line on stderr and exit code 2; a run
that fails is one line naming the Dagster run and its error, exit code 1 (the run's full log is in the
Dagster UI); any other exception is one line and exit code 1 (`DIAODU_DEBUG=1` shows its traceback)."""

from __future__ import annotations

import argparse
import os
import re
import sys
import unicodedata
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import NoReturn

import dagster as dg

from diaodu.dispatch import briefing_dir
from diaodu.dispatch.fonts import missing_cjk_font
from diaodu.pipelines.data_dir import NotADataDirectory, init_data_dir, open_data_dir, sample_report_date
from diaodu.pipelines.definitions import build_definitions
from diaodu.pipelines.instance import instance_for
from diaodu.pipelines.launcher import in_process_tags
from diaodu.pipelines.partitions import report_date_range, report_date_range_tags, up_to_today
from diaodu.pipelines.terminal import QUIET, warn
from diaodu.portal.accounts import AccountError
from diaodu.returns.receipts import OUTCOME_LABELS
from diaodu.schemas.reference import local_today
from diaodu.warehouse.merge import last_seq
from diaodu.warehouse.rollup import city_completion, stale_report_dates
from diaodu.warehouse.store import Warehouse


def run_pipeline(data_dir: Path, as_of: date) -> bool:
    """Processes every file waiting in the inbox, then the rollup of `as_of`; True when the run succeeded."""
    data_dir.mkdir(parents=True, exist_ok=True)
    defs = build_definitions(str(data_dir))
    with instance_for(data_dir) as instance:
        result = defs.resolve_job_def("ingest_job").execute_in_process(
            instance=instance, partition_key=as_of.isoformat(), tags=in_process_tags(), raise_on_error=False,
            run_config=QUIET)
        if not result.success:
            return False
        # As the stale-rollup sensor would: late files re-judge the days they belong to.
        with Warehouse(data_dir).reading() as con:
            stale = up_to_today(stale_report_dates(con), warn)
        if stale:
            return defs.resolve_job_def("daily_rollup_job").execute_in_process(
                instance=instance, tags=report_date_range_tags(stale) | in_process_tags(), raise_on_error=False,
                run_config=QUIET).success
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
        orders = con.execute("SELECT count(*) FROM mart.supervision_orders WHERE as_of_date = ? AND issue_date = ?",
                             [as_of, as_of]).fetchall()[0][0]
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
    if orders:
        print(f"督办单：今日下发 {orders} 份，见各单位的 {(data_dir / 'outbox').resolve()}/<单位代码>/")
    if (no_font := missing_cjk_font()) is not None:  # the page itself names fonts for every system
        print(f"提示：{no_font}")


def _columns(values: tuple, widths: tuple[int, ...]) -> str:
    """A table row for a terminal: Chinese characters take two columns."""
    def width(text: str) -> int:
        return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)
    cells = [str(value) for value in values]
    first = cells[0] + " " * (widths[0] - width(cells[0]))
    return first + "".join(" " * (w - width(c)) + c for c, w in zip(cells[1:], widths[1:], strict=True))


def _last_seq(data_dir: Path) -> int:
    if not (data_dir / "warehouse.duckdb").exists():
        return 0
    with Warehouse(data_dir).reading() as con:
        return last_seq(con)


def _process(data_dir: Path, as_of: date) -> int:
    since = _last_seq(data_dir)
    if not run_pipeline(data_dir, as_of):
        print(f"diaodu: {_last_failure(data_dir)}", file=sys.stderr)
        return 1
    print_summary(data_dir, as_of, since)
    return 0


def _last_failure(data_dir: Path) -> str:
    """The run that failed last, in one line: its id, the error that stopped it, where its log is."""
    log = f"完整日志见 Dagster 界面（数据目录 {data_dir.resolve()} 的 dagster/）"
    with instance_for(data_dir) as instance:
        runs = instance.get_runs(filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.FAILURE]), limit=1)
        failures = instance.all_logs(runs[0].run_id, of_type=dg.DagsterEventType.STEP_FAILURE) if runs else []
    if not failures:
        return f"运行失败；{log}"
    event = failures[0].dagster_event
    error = event.step_failure_data.error if event is not None else None
    while error is not None and error.cause is not None:  # Dagster wraps the error the step raised
        error = error.cause
    said = error.message.strip().splitlines()[0] if error and error.message.strip() else "未知错误"
    return f"运行 {runs[0].run_id} 失败（{said}）；{log}"


class UsageError(Exception):
    """A mistake in how diaodu was called: one Chinese line on stderr, exit code 2."""


# Python's own argparse messages, said in Chinese; the report-date check below says its message whole.
ARGPARSE_MESSAGES = (
    (r"the following arguments are required: command", "缺少子命令（可用：{commands}）"),
    (r"argument command: invalid choice: '(?P<value>.*)' \(choose from .*\)", "没有子命令“{value}”（可用：{commands}）"),
    (r"the following arguments are required: action", "缺少操作（可用：set、list、disable）"),
    (r"argument action: invalid choice: '(?P<value>.*)' \(choose from .*\)", "没有操作“{value}”（可用：set、list、disable）"),
    (r"the following arguments are required: (?P<names>.+)", "缺少参数 {names}"),
    (r"argument (?P<name>\S+): expected one argument", "参数 {name} 后面缺少取值"),
    (r"unrecognized arguments: (?P<values>.+)", "不认识的参数 {values}"),
    (r"argument (?P<name>\S+): (?P<message>.+)", "{message}"),
)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        for pattern, chinese in ARGPARSE_MESSAGES:
            if matched := re.fullmatch(pattern, message):
                message = chinese.format(commands="、".join(COMMANDS), **matched.groupdict())
                break
        raise UsageError(f"{message}；{self.prog} -h 查看用法")


def _report_date(text: str) -> date:
    """`--as-of`: a calendar date from the campaign's start to today, the days a run can be for."""
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            raise ValueError(text)
        day = date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--as-of {text} 不是有效日期，应写作 YYYY-MM-DD（如 2023-01-29）") from None
    first, last = report_date_range()
    if not first <= day <= last:
        raise argparse.ArgumentTypeError(
            f"--as-of {text} 超出可用的填报日期范围（{first} 至 {last}：从百日攻坚开始日到今天）")
    return day


def _run(args: argparse.Namespace) -> int:
    data_dir = open_data_dir(args.data_dir)
    return _process(data_dir.root, args.as_of or data_dir.sample_report_date or local_today())


def _demo(args: argparse.Namespace) -> int:
    from diaodu.sample.campaign import SAMPLE_REPORT_DATE, write_sample_campaign

    data_dir = init_data_dir(args.data_dir, SAMPLE_REPORT_DATE)
    written = write_sample_campaign(data_dir.root / "inbox")
    print(f"示例台账已放入收件箱：{len(written)} 个文件 → {(data_dir.root / 'inbox').resolve()}")
    return _process(data_dir.root, SAMPLE_REPORT_DATE)


def _init(args: argparse.Namespace) -> int:
    data_dir = init_data_dir(args.dir)
    print(f"数据目录已就绪：{data_dir.root.resolve()}（各单位的文件放入 inbox/<单位代码>/）")
    return 0


def _replay(args: argparse.Namespace) -> int:
    from diaodu.pipelines.replay import replay

    source = open_data_dir(args.data_dir)
    if (args.into / "warehouse.duckdb").exists():
        raise UsageError(f"--into {args.into} 已有仓库；重放需要一个新的或空的目录")
    target = init_data_dir(args.into, source.sample_report_date)
    with instance_for(target.root) as instance:
        replayed = replay(source.root, target.root, instance)
    print(f"重放{'完成' if replayed else '失败'}：{(target.root / 'warehouse.duckdb').resolve()}")
    return 0 if replayed else 1


def _backup(args: argparse.Namespace) -> int:
    from diaodu.backup.snapshot import backup_command

    return backup_command(open_data_dir(args.data_dir).root, args.to)


def _restore(args: argparse.Namespace) -> int:
    from diaodu.backup.restore import restore_command

    restored = restore_command(args.file, args.into)
    if restored == 0:  # an archive holds files, not empty folders: every unit's inbox again
        init_data_dir(args.into, sample_report_date(args.into))
    return restored


def _serve(args: argparse.Namespace) -> int:
    from diaodu.pipelines.service import serve

    return serve(open_data_dir(args.data_dir).root, args.dagster_port, args.portal_port, args.viewer_port)


def _portal(args: argparse.Namespace) -> int:
    from diaodu.pipelines.portal import serve_portal

    return serve_portal(args.data_dir, args.host, args.port, args.dagster_url)


def _account(args: argparse.Namespace) -> int:
    from diaodu.pipelines.portal import disable_account, list_accounts, set_account

    if args.data_dir is None:
        raise UsageError("缺少参数 --data-dir（或设置环境变量 DIAODU_DATA_DIR）")
    if args.action == "list":
        list_accounts(args.data_dir)
    elif args.action == "disable":
        disable_account(args.data_dir, args.name)
    elif (args.name is None) == (args.office is None):
        raise UsageError("请给出单位代码（diaodu account set UNIT）或办公室账号名（--office NAME），二者取一")
    else:
        set_account(args.data_dir, args.office or args.name, office=args.office is not None)
    return 0


def _status(args: argparse.Namespace) -> int:
    from diaodu.pipelines.status import status

    return status(open_data_dir(args.data_dir).root)


def _template(args: argparse.Namespace) -> int:
    from diaodu.schemas.templates import write_templates

    for path in write_templates(args.out):
        print(path)
    return 0


def _chart(args: argparse.Namespace) -> int:
    from diaodu.dispatch.supervision import NoChart, latest_report_date, write_project_chart

    data_dir = open_data_dir(args.data_dir)
    warehouse = Warehouse(data_dir.root)
    if not warehouse.published_path.exists():
        raise UsageError(f"{data_dir.root} 还没有仓库：先运行 diaodu run")
    with warehouse.reading() as con:
        as_of = args.as_of or latest_report_date(con)
        if as_of is None:
            raise UsageError("仓库中还没有汇总的填报日期：先运行 diaodu run")
        out = args.out or data_dir.root / "outbox" / "charts" / f"{args.project_code}_节点图_{as_of}.html"
        try:
            print(write_project_chart(con, args.project_code, as_of, out))
        except NoChart as missing:
            raise UsageError(str(missing)) from None
    return 0


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "demo": _demo, "init": _init, "run": _run, "replay": _replay, "backup": _backup, "restore": _restore,
    "serve": _serve, "status": _status, "template": _template, "portal": _portal, "account": _account,
    "chart": _chart}


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="diaodu", description="百日攻坚重点项目前期手续一日一调")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="write the sample campaign into a new data directory and run everything")
    demo.add_argument("--data-dir", type=Path, default=Path("data"))
    init = commands.add_parser("init", help="create a data directory: inbox/<UNIT>/ for every unit, outbox/, the marker")
    init.add_argument("dir", type=Path)
    run = commands.add_parser("run", help="process new inbox files, then materialise the as-of date's rollup")
    run.add_argument("--data-dir", type=Path, required=True, help="a data directory made by `diaodu init`")
    run.add_argument("--as-of", type=_report_date, default=None,
                     help="YYYY-MM-DD (default: today, Asia/Shanghai; a sample's own date)")
    replay = commands.add_parser("replay", help="rebuild a warehouse from the archived submissions of another")
    replay.add_argument("--data-dir", type=Path, required=True, help="the data directory to replay")
    replay.add_argument("--into", type=Path, required=True, help="a new or empty directory to rebuild into")
    backup = commands.add_parser("backup", help="write one backup archive of a data directory (safe while it runs)")
    backup.add_argument("--data-dir", type=Path, required=True)
    backup.add_argument("--to", type=Path, required=True, help="the archive to write, e.g. backup.tar.gz")
    restore = commands.add_parser("restore", help="rebuild a data directory from a backup archive")
    restore.add_argument("file", type=Path)
    restore.add_argument("--into", type=Path, required=True, help="an empty or new directory")
    template = commands.add_parser("template", help="write blank .xlsx templates generated from the schemas")
    template.add_argument("--out", type=Path, required=True)
    serve = commands.add_parser("serve", help="run the Dagster code server, webserver and daemon, supervised")
    serve.add_argument("--data-dir", type=Path, required=True)
    serve.add_argument("--dagster-port", type=int, default=3000, help="the webserver's port on 127.0.0.1")
    serve.add_argument("--portal-port", type=int, default=8070, help="the unit portal's port on 127.0.0.1")
    serve.add_argument("--viewer-port", type=int, default=None, help="also a read-only webserver for viewers")
    portal = commands.add_parser("portal", help="serve the unit portal (uploads, receipts, returned copies)")
    portal.add_argument("--data-dir", type=Path, required=True)
    portal.add_argument("--host", default="127.0.0.1", help="default 127.0.0.1: put a TLS reverse proxy in front")
    portal.add_argument("--port", type=int, default=8070)
    portal.add_argument("--dagster-url", default=None,
                        help="the Dagster webserver, e.g. http://127.0.0.1:3000: launch an upload's run at once")
    account = commands.add_parser("account", help="the portal's accounts: set (password on stdin), list, disable")
    actions = account.add_subparsers(dest="action", required=True)
    account_data_dir = _Parser(add_help=False)
    account_data_dir.add_argument("--data-dir", type=Path, default=os.environ.get("DIAODU_DATA_DIR"))
    account_set = actions.add_parser("set", parents=[account_data_dir], help="set a unit's or an office account's password")
    account_set.add_argument("name", nargs="?", help="the unit code")
    account_set.add_argument("--office", default=None, help="an office account's name (sees every unit)")
    actions.add_parser("list", parents=[account_data_dir], help="every account, never a password")
    account_disable = actions.add_parser("disable", parents=[account_data_dir], help="disable and end its sessions")
    account_disable.add_argument("name")
    status = commands.add_parser("status", help="whether the served services are up; non-zero when unhealthy")
    status.add_argument("--data-dir", type=Path, required=True)
    chart = commands.add_parser("chart", help="one project's node chart (挂图) as an HTML page")
    chart.add_argument("project_code")
    chart.add_argument("--data-dir", type=Path, required=True)
    chart.add_argument("--as-of", type=_report_date, default=None, help="YYYY-MM-DD (default: the latest report date)")
    chart.add_argument("--out", type=Path, default=None, help="default: <data dir>/outbox/charts/<code>_节点图_<date>.html")
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
        return COMMANDS[args.command](args)
    except (UsageError, NotADataDirectory, AccountError) as error:
        print(f"diaodu: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("diaodu: 已中断", file=sys.stderr)
        return 130
    except Exception as error:  # a defect, not the caller's mistake: one line unless asked for more
        if os.environ.get("DIAODU_DEBUG"):
            raise
        first_line = (str(error).strip().splitlines() or [""])[0]
        print(f"diaodu: 内部错误（{type(error).__name__}: {first_line}）；设置 DIAODU_DEBUG=1 再运行可看到完整追踪",
              file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
