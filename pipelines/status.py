"""`diaodu status`: one line per fact about a served data directory, and whether it is healthy.

Unhealthy (exit code 1): `diaodu serve` or one of its services not running or not listening, or a
required Dagster daemon without a recent heartbeat. The other lines (last successful run, last receipt,
queued runs, last publish of the warehouse) are for the data officer to judge."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg

from diaodu.pipelines.instance import instance_for
from diaodu.pipelines.service import port_open, run_dir
from diaodu.schemas import reference

SERVICE_LABELS = {"code-server": "代码服务（dagster api grpc）", "webserver": "Dagster 界面（webserver）",
                  "daemon": "守护进程（dagster-daemon）", "viewer": "只读界面（webserver --read-only）",
                  "portal": "报送平台（diaodu portal）"}


@dataclass(frozen=True)
class Fact:
    label: str
    value: str
    healthy: bool = True

    def line(self) -> str:
        return f"{'' if self.healthy else '✗ '}{self.label}：{self.value}"


def _when(timestamp: float | None) -> str:
    if timestamp is None:
        return "无"
    moment = datetime.fromtimestamp(timestamp, ZoneInfo(reference.city().timezone))
    return f"{moment:%Y-%m-%d %H:%M:%S}"


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by another user
        return True
    return True


def service_facts(data_dir: Path) -> list[Fact]:
    state_file = run_dir(data_dir) / "services.json"
    state = json.loads(state_file.read_text(encoding="utf-8")) if state_file.exists() else {}
    if not _alive(state.get("pid")):
        return [Fact("调度服务（diaodu serve）", "未运行", healthy=False)]
    facts = [Fact("调度服务（diaodu serve）", f"运行中（pid {state['pid']}）")]
    for name, service in state["services"].items():
        label = SERVICE_LABELS.get(str(name), str(name))
        if not _alive(service["pid"]):
            facts.append(Fact(label, f"未运行（已重启 {service['restarts']} 次）", healthy=False))
        elif service["port"] and not port_open(service["port"]):
            facts.append(Fact(label, f"进程在（pid {service['pid']}），端口 {service['port']} 未监听", healthy=False))
        else:
            where = f"，端口 {service['port']}" if service["port"] else ""
            facts.append(Fact(label, f"运行中（pid {service['pid']}{where}，已重启 {service['restarts']} 次）"))
    return facts + [Fact("单位门户", "尚未实现，未启动")]


def instance_facts(instance: dg.DagsterInstance) -> list[Fact]:
    statuses = instance.get_daemon_statuses()
    beats = [s.last_heartbeat.timestamp for s in statuses.values() if s.last_heartbeat]
    silent = sorted(name for name, s in statuses.items() if not s.healthy)
    heartbeat = (f"正常（最近 {_when(max(beats))}）" if not silent
                 else f"异常：{'、'.join(silent)} 无近期心跳（最近 {_when(max(beats) if beats else None)}）")
    succeeded = instance.get_run_records(dg.RunsFilter(statuses=[dg.DagsterRunStatus.SUCCESS]), limit=1)
    last_success = (f"{_when(succeeded[0].end_time)}（{succeeded[0].dagster_run.job_name}）" if succeeded else "无")
    queued = instance.get_runs_count(dg.RunsFilter(statuses=[dg.DagsterRunStatus.QUEUED]))
    return [Fact("守护进程心跳", heartbeat, healthy=not silent), Fact("最近成功运行", last_success),
            Fact("排队中的运行", f"{queued} 个")]


def file_facts(data_dir: Path) -> list[Fact]:
    receipts = list((data_dir / "outbox").glob("*/*_回执.txt"))
    newest = max(receipts, key=lambda path: path.stat().st_mtime, default=None)
    receipt = f"{_when(newest.stat().st_mtime)}（{newest.parent.name}/{newest.name}）" if newest else "无"
    warehouse = data_dir / "warehouse.duckdb"
    published = _when(warehouse.stat().st_mtime) if warehouse.exists() else "尚未发布"
    return [Fact("最近回执", receipt), Fact("仓库最近发布", published)]


def status(data_dir: Path) -> int:
    facts = service_facts(data_dir)
    with instance_for(data_dir) as instance:
        facts += instance_facts(instance)
    facts += file_facts(data_dir)
    for fact in facts:
        print(fact.line())
    healthy = all(fact.healthy for fact in facts)
    print("状态：" + ("正常" if healthy else "异常"))
    return 0 if healthy else 1
