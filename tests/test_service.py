"""`diaodu serve` on PostgreSQL storage, as deployed: real code server, webserver and daemon.

Files dropped get receipts; run records are in PostgreSQL; a SIGKILLed daemon is restarted and the next
file is taken in; a run process SIGKILLed mid-merge, and then a code server SIGKILLed mid-merge, leave
their runs marked failed and their files processed by a later run within 3 minutes, exactly once;
SIGTERM stops everything in 20 s."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.request import urlopen

import psycopg2
import pytest

from diaodu.pipelines.data_dir import init_data_dir
from diaodu.pipelines.service import free_port
from tests.conftest import PROJECT_HEADER, project_row, query, write_csv

RECOVERY_LIMIT_SECONDS = 180


def wait_for(what: str, check: Callable[[], Any], timeout: float = 90) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def drop(data_dir: Path, stem: str, number: int) -> None:
    path = write_csv(data_dir / "inbox" / "LS" / f"{stem}.csv", [
        ["填报日期：2023年1月29日"], PROJECT_HEADER, project_row(f"2022-211402-26-03-{number:06d}")])
    settled = time.time() - 60
    os.utime(path, (settled, settled))


def receipts(data_dir: Path, stem: str) -> list[Path]:
    return sorted((data_dir / "outbox" / "LS").glob(f"*_{stem}_*_回执.txt"))


def services(data_dir: Path) -> dict[str, dict]:
    state = data_dir / "run" / "services.json"
    return json.loads(state.read_text())["services"] if state.exists() else {}


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


def runs(url: str) -> list[tuple[str, str]]:
    with psycopg2.connect(url) as con, con.cursor() as cursor:
        cursor.execute("SELECT pipeline_name, status FROM runs")
        return cursor.fetchall()


def run_status(url: str, run_id: str) -> str:
    with psycopg2.connect(url) as con, con.cursor() as cursor:
        cursor.execute("SELECT status FROM runs WHERE run_id = %s", [run_id])
        (status,) = cursor.fetchone() or ("no such run",)
        return status


def started_run(url: str) -> str:
    with psycopg2.connect(url) as con, con.cursor() as cursor:
        cursor.execute("SELECT run_id FROM runs WHERE status = 'STARTED'")
        rows = cursor.fetchall()
    return rows[0][0] if len(rows) == 1 else ""


def pause_mid_merge(data_dir: Path, arm: Path, stem: str, number: int) -> int:
    """Drops a file whose run stops mid-merge; the pid of that run's process."""
    arm.write_text("")
    drop(data_dir, stem, number)
    paused = Path(f"{arm}.paused")
    pid = int(wait_for(f"the run of {stem} to reach mid_merge", lambda: paused.exists() and paused.read_text()))
    paused.unlink()
    return pid


def status(data_dir: Path) -> subprocess.CompletedProcess[str]:
    """`diaodu status`, without DAGSTER_PG_URL: the data directory remembers its PostgreSQL history."""
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_PG_URL"}
    return subprocess.run([sys.executable, "-m", "diaodu.pipelines.cli", "status", "--data-dir", str(data_dir)],
                          env=env, capture_output=True, text=True, timeout=60)


def processed_once(data_dir: Path, stem: str) -> bool:
    return len(receipts(data_dir, stem)) == 1 and query(
        data_dir, "SELECT count(*) FROM core.submission WHERE file_name = ?", [f"{stem}.csv"]) == [(1,)]


@pytest.fixture
def served(tmp_path: Path, postgres_url: str):
    data_dir = init_data_dir(tmp_path / "data").root
    arm = tmp_path / "pause-armed"
    env = dict(os.environ, DAGSTER_PG_URL=postgres_url, DIAODU_PAUSE_AT=f"mid_merge:{arm}")
    command = [sys.executable, "-m", "diaodu.pipelines.cli", "serve", "--data-dir", str(data_dir),
               "--dagster-port", str(free_port()), "--viewer-port", str(free_port()), "--portal-port", str(free_port())]
    serve = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        yield serve, data_dir, arm
    finally:
        if serve.poll() is None:
            serve.kill()
            serve.wait()
            for service in services(data_dir).values():  # no orphans if the test failed early
                if service["pid"] and alive(service["pid"]):
                    os.killpg(service["pid"], signal.SIGKILL)


def test_served_on_postgres_survives_killed_processes_and_stops_on_sigterm(served, postgres_url):
    serve, data_dir, arm = served
    wait_for("the daemon to start", lambda: "daemon" in services(data_dir))

    drop(data_dir, "甲", 1)
    wait_for("the receipt of 甲", lambda: receipts(data_dir, "甲"))
    wait_for("the run's success recorded in PostgreSQL", lambda: ("ingest_job", "SUCCESS") in runs(postgres_url))
    assert not list((data_dir / "dagster").glob("*.db"))  # no SQLite history beside it
    healthy = wait_for("every service up", lambda: (report := status(data_dir)).returncode == 0 and report)
    assert "最近回执" in healthy.stdout and "_甲_" in healthy.stdout and "排队中的运行：0 个" in healthy.stdout
    with urlopen(f"http://127.0.0.1:{services(data_dir)['portal']['port']}/login") as login:  # the unit portal
        assert login.status == 200 and "账号" in login.read().decode()

    daemon = services(data_dir)["daemon"]["pid"]
    os.kill(daemon, signal.SIGKILL)
    wait_for("the daemon to be restarted", lambda: services(data_dir)["daemon"]["pid"] not in (None, daemon))
    assert f"daemon (pid {daemon}) exited with -9" in (data_dir / "logs" / "serve.log").read_text()

    # The next file's run, started by the new daemon, has its process killed mid-merge: a spawned
    # child of the code server.
    worker = pause_mid_merge(data_dir, arm, "乙", 2)
    code_server = services(data_dir)["code-server"]["pid"]
    assert f" {code_server} " in Path(f"/proc/{worker}/stat").read_text()  # its parent
    assert b"spawn_main" in Path(f"/proc/{worker}/cmdline").read_bytes()
    run_id = wait_for("the paused run's record", lambda: started_run(postgres_url))
    killed_at = time.monotonic()
    os.kill(worker, signal.SIGKILL)
    wait_for("乙 processed exactly once", lambda: processed_once(data_dir, "乙"), RECOVERY_LIMIT_SECONDS)
    assert time.monotonic() - killed_at < RECOVERY_LIMIT_SECONDS
    assert run_status(postgres_url, run_id) == "FAILURE"

    # The code server killed with a run in it: the supervisor kills the run's process with it, and
    # run monitoring fails the run the new code server does not know.
    worker = pause_mid_merge(data_dir, arm, "丙", 3)
    run_id = wait_for("the paused run's record", lambda: started_run(postgres_url))
    os.kill(services(data_dir)["code-server"]["pid"], signal.SIGKILL)
    wait_for("the orphaned run process to be killed", lambda: not alive(worker), 10)
    wait_for("丙 processed exactly once", lambda: processed_once(data_dir, "丙"), RECOVERY_LIMIT_SECONDS)
    assert run_status(postgres_url, run_id) == "FAILURE"

    assert [stem for stem in "甲乙丙" if not processed_once(data_dir, stem)] == []
    assert not [p for p in (data_dir / "inbox").rglob("*") if p.is_file()]
    assert not [p for p in (data_dir / "state" / "processing").rglob("*") if p.is_file()]

    children = [service["pid"] for service in services(data_dir).values()]
    stopping = time.monotonic()
    serve.send_signal(signal.SIGTERM)
    assert serve.wait(timeout=20) == 0
    assert time.monotonic() - stopping < 20
    assert not [pid for pid in children if alive(pid)]
    assert (data_dir / "logs" / "code-server.log").stat().st_size > 0
    stopped = status(data_dir)
    assert stopped.returncode == 1 and "调度服务（diaodu serve）：未运行" in stopped.stdout
