"""The supervision loop of `diaodu serve`, with plain Python children: restart with backoff and a log
line, a dependency's port awaited, and a stop that reaches children ignoring SIGTERM and their own
children (a code server's runs)."""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from pathlib import Path

import pytest

from diaodu.pipelines import service
from diaodu.pipelines.service import ServiceSpec, Supervisor, free_port


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def supervise(tmp_path: Path, specs: list[ServiceSpec]) -> tuple[Supervisor, threading.Thread]:
    supervisor = Supervisor(specs, tmp_path / "logs", tmp_path / "run" / "services.json")
    thread = threading.Thread(target=supervisor.run)
    thread.start()
    return supervisor, thread


def state(tmp_path: Path) -> dict:
    return json.loads((tmp_path / "run" / "services.json").read_text())["services"]


def until(check, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_a_child_that_dies_is_restarted_with_growing_backoff_and_logged(tmp_path, monkeypatch):
    monkeypatch.setattr(service, "BACKOFF_FIRST_SECONDS", 0.3)
    starts = tmp_path / "starts"
    spec = ServiceSpec("flaky", python(f"open({str(starts)!r}, 'a').write('x'); raise SystemExit(3)"),
                       dict(os.environ))
    supervisor, thread = supervise(tmp_path, [spec])
    try:
        until(lambda: starts.exists() and len(starts.read_text()) >= 3)
        log = (tmp_path / "logs" / "serve.log").read_text()
        assert "flaky (pid" in log and "exited with 3" in log
        delays = [line.split("restarting in ")[1] for line in log.splitlines() if "restarting in" in line]
        assert delays[:2] == ["0.3 s", "0.6 s"]
        assert state(tmp_path)["flaky"]["restarts"] >= 2
    finally:
        supervisor.stopping.set()
        thread.join(20)


def test_a_service_waits_for_the_port_it_needs(tmp_path):
    port = free_port()
    listener = ServiceSpec("server", python(
        f"import socket, time; time.sleep(1); s = socket.socket(); s.bind(('127.0.0.1', {port})); s.listen();"
        " time.sleep(60)"), dict(os.environ), port)
    marker = tmp_path / "client-started"
    client = ServiceSpec("client", python(f"open({str(marker)!r}, 'w'); import time; time.sleep(60)"),
                         dict(os.environ), needs="server")
    supervisor, thread = supervise(tmp_path, [listener, client])
    try:
        until(lambda: "server" in state(tmp_path) if (tmp_path / "run" / "services.json").exists() else False)
        assert not marker.exists()
        until(marker.exists)
        assert service.port_open(port)
    finally:
        supervisor.stopping.set()
        thread.join(20)


@pytest.mark.parametrize("ignores_sigterm", [False, True])
def test_stop_ends_every_child_and_its_children(tmp_path, monkeypatch, ignores_sigterm):
    monkeypatch.setattr(service, "STOP_GRACE_SECONDS", 1.0)
    grandchild = tmp_path / "grandchild.pid"
    ignore = "signal.signal(signal.SIGTERM, signal.SIG_IGN); " if ignores_sigterm else ""
    code = (f"import signal, subprocess, sys, time; {ignore}"
            f"p = subprocess.Popen([sys.executable, '-c', 'import signal, time; signal.signal(signal.SIGTERM, "
            f"signal.SIG_IGN); time.sleep(60)']); open({str(grandchild)!r}, 'w').write(str(p.pid)); time.sleep(60)")
    supervisor, thread = supervise(tmp_path, [ServiceSpec("stubborn", python(code), dict(os.environ))])
    until(lambda: grandchild.exists() and grandchild.read_text())
    child = state(tmp_path)["stubborn"]["pid"]
    stopping = time.monotonic()
    supervisor.stopping.set()
    thread.join(20)
    assert time.monotonic() - stopping < 5
    for pid in (child, int(grandchild.read_text())):  # SIGKILLed, so gone in a moment (or a zombie)
        until(lambda pid=pid: not Path(f"/proc/{pid}").exists() or " Z " in Path(f"/proc/{pid}/stat").read_text(), 2)
    assert not (tmp_path / "run" / "services.json").exists()
