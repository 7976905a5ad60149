"""`diaodu serve`: the long-running processes of a deployment, started and kept running.

Dagster's open-source deployment is three processes sharing one DAGSTER_HOME: the code server
(`dagster api grpc`, which also runs each run in a child process), the webserver and the daemon
(sensors, schedules, the run queue, run monitoring). A small loop supervises them: each child runs in
its own process group with its own log under `<data_dir>/logs/`; a child that dies is logged, what is
left of its group (a dead code server's runs) is killed, and it is started again after a backoff;
SIGTERM or SIGINT stops every group, SIGKILL for those still there after STOP_GRACE_SECONDS.
`<data_dir>/run/services.json` says which pid and port each service has (read by `diaodu status`)."""

from __future__ import annotations

import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

from diaodu.pipelines.instance import write_instance_home
from diaodu.schemas.reference import local_now

STOP_GRACE_SECONDS = 15.0  # then SIGKILL: every child is gone within the 20 s systemd and the office allow
BACKOFF_FIRST_SECONDS = 1.0
BACKOFF_MAX_SECONDS = 30.0
STABLE_SECONDS = 60.0  # a child that ran this long starts again from the first backoff
POLL_SECONDS = 0.2
CODE_LOCATION = "diaodu"


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    argv: list[str]
    env: dict[str, str]
    port: int | None = None  # a TCP port on 127.0.0.1 it listens on, for `diaodu status`
    needs: str | None = None  # a service whose port must accept connections before this one starts


@dataclass
class Child:
    spec: ServiceSpec
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    restarts: int = 0
    failures: int = 0  # in a row, for the backoff
    due_at: float = 0.0  # when to start it (again)


def run_dir(data_dir: Path) -> Path:
    return data_dir.resolve() / "run"


def log_dir(data_dir: Path) -> Path:
    return data_dir.resolve() / "logs"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _bin(name: str) -> str:
    """A console script of this Python environment (the venv systemd starts)."""
    return str(Path(sys.executable).parent / name)


def dagster_services(data_dir: Path, dagster_port: int, grpc_port: int,
                     viewer_port: int | None = None) -> list[ServiceSpec]:
    """The code server, the webserver and the daemon, on one generated DAGSTER_HOME; with
    `viewer_port`, a second, read-only webserver for viewers (no launching, no re-execution)."""
    home = write_instance_home(data_dir)
    workspace = home / "workspace.yaml"
    workspace.write_text(yaml.safe_dump({"load_from": [{"grpc_server": {
        "host": "127.0.0.1", "port": grpc_port, "location_name": CODE_LOCATION}}]}), encoding="utf-8")
    env = dict(os.environ, DAGSTER_HOME=str(home), DIAODU_DATA_DIR=str(data_dir.resolve()))
    viewer = [ServiceSpec("viewer", [_bin("dagster-webserver"), "--read-only", "-h", "127.0.0.1", "-p",
                                     str(viewer_port), "-w", str(workspace)], env, viewer_port, needs="code-server")]
    return [
        ServiceSpec("code-server", [_bin("dagster"), "api", "grpc", "-m", "diaodu.pipelines.definitions",
                                    "-h", "127.0.0.1", "-p", str(grpc_port), "--location-name", CODE_LOCATION],
                    env, grpc_port),
        ServiceSpec("webserver", [_bin("dagster-webserver"), "-h", "127.0.0.1", "-p", str(dagster_port),
                                  "-w", str(workspace)], env, dagster_port, needs="code-server"),
        ServiceSpec("daemon", [_bin("dagster-daemon"), "run", "-w", str(workspace)], env, needs="code-server"),
    ] + (viewer if viewer_port else [])


def portal_service(data_dir: Path, portal_port: int, dagster_port: int) -> ServiceSpec:
    """The unit portal, on 127.0.0.1 (the office's reverse proxy puts TLS in front of it); it launches
    each upload's ingest run through the webserver at once."""
    return ServiceSpec("portal", [_bin("diaodu"), "portal", "--data-dir", str(data_dir.resolve()),
                                  "--port", str(portal_port), "--dagster-url", f"http://127.0.0.1:{dagster_port}"],
                       dict(os.environ), portal_port)


class Supervisor:
    """Starts the services, restarts any that dies (with backoff), stops them all on request."""

    def __init__(self, specs: list[ServiceSpec], logs: Path, state_file: Path,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.children = [Child(spec) for spec in specs]
        self.logs = logs
        self.state_file = state_file
        self.clock = clock
        self.stopping = threading.Event()
        logs.mkdir(parents=True, exist_ok=True)
        state_file.parent.mkdir(parents=True, exist_ok=True)
        self._own_log = open(logs / "serve.log", "a", encoding="utf-8")  # open while serving

    def log(self, message: str) -> None:
        self._own_log.write(f"{local_now().isoformat(timespec='seconds')} {message}\n")
        self._own_log.flush()

    def run(self) -> None:
        """Supervises until `stopping` is set, then stops every child."""
        try:
            while not self.stopping.is_set():
                for child in self.children:
                    self._tend(child)
                self.stopping.wait(POLL_SECONDS)
        finally:
            self.stop_all()
            self._own_log.close()

    def _tend(self, child: Child) -> None:
        now = self.clock()
        if child.process is None:
            if now >= child.due_at and self._ready_for(child):
                self._start(child)
            return
        code = child.process.poll()
        if code is None:
            return
        _kill_group(child.process.pid, signal.SIGKILL)  # a dead code server's runs die with it
        ran = now - child.started_at
        child.failures = 1 if ran >= STABLE_SECONDS else child.failures + 1
        delay = min(BACKOFF_FIRST_SECONDS * 2 ** (child.failures - 1), BACKOFF_MAX_SECONDS)
        self.log(f"{child.spec.name} (pid {child.process.pid}) exited with {code} after {ran:.1f} s; "
                 f"restarting in {delay:.1f} s")
        child.process = None
        child.due_at = now + delay
        child.restarts += 1

    def _ready_for(self, child: Child) -> bool:
        """Whether what `child` needs is up: the webserver and daemon load the code server's definitions."""
        needed = next((c.spec for c in self.children if c.spec.name == child.spec.needs), None)
        return needed is None or needed.port is None or port_open(needed.port)

    def _start(self, child: Child) -> None:
        with open(self.logs / f"{child.spec.name}.log", "ab") as output:
            child.process = subprocess.Popen(
                child.spec.argv, env=child.spec.env, stdin=subprocess.DEVNULL, stdout=output,
                stderr=subprocess.STDOUT, start_new_session=True)  # its own process group
        child.started_at = self.clock()
        self.log(f"{child.spec.name} started (pid {child.process.pid})")
        self._write_state()

    def _write_state(self) -> None:
        state = {"pid": os.getpid(), "services": {
            c.spec.name: {"pid": c.process.pid if c.process else None, "port": c.spec.port, "restarts": c.restarts}
            for c in self.children}}
        staging = self.state_file.with_suffix(".tmp")
        staging.write_text(json.dumps(state, indent=1), encoding="utf-8")
        os.replace(staging, self.state_file)

    def stop_all(self) -> None:
        running = [c.process for c in self.children if c.process is not None and c.process.poll() is None]
        for process in running:
            _kill_group(process.pid, signal.SIGTERM)
        deadline = self.clock() + STOP_GRACE_SECONDS
        for process in running:
            try:
                process.wait(timeout=max(0.0, deadline - self.clock()))
            except subprocess.TimeoutExpired:
                self.log(f"pid {process.pid} ignored SIGTERM for {STOP_GRACE_SECONDS:.0f} s: SIGKILL")
            _kill_group(process.pid, signal.SIGKILL)  # stragglers, and anything the child left behind
            process.wait()
        for child in self.children:
            child.process = None
        self.log("all services stopped")
        self.state_file.unlink(missing_ok=True)


def port_open(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _kill_group(pgid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        pass


def serve(data_dir: Path, dagster_port: int, portal_port: int, viewer_port: int | None = None) -> int:
    """Runs the services of `data_dir` until SIGTERM or SIGINT."""
    data_dir.mkdir(parents=True, exist_ok=True)
    state = run_dir(data_dir)
    state.mkdir(parents=True, exist_ok=True)
    with open(state / "serve.lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"该数据目录已有 diaodu serve 在运行：{data_dir.resolve()}", file=sys.stderr)
            return 1
        specs = dagster_services(data_dir, dagster_port, free_port(), viewer_port)
        supervisor = Supervisor(specs + [portal_service(data_dir, portal_port, dagster_port)], log_dir(data_dir),
                                state / "services.json")
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: supervisor.stopping.set())
        print(f"Dagster 界面：http://127.0.0.1:{dagster_port}，报送平台：http://127.0.0.1:{portal_port}"
              f"（仅本机；日志：{log_dir(data_dir)}）", flush=True)
        supervisor.run()
    return 0
