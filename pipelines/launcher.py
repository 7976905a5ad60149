"""The run launcher of the deployed instance: Dagster's default one (a run is a process of the code
server), plus a health check so run monitoring can tell a run whose code server is gone.

When a run's process dies, the code server that started it marks the run failed itself. When the code
server dies too (killed; `diaodu serve` then kills what is left of its process group and starts a new
one), nobody would: the run stays "started" for ever and the queue, one run at a time, waits on it.
Asking the run's code server which runs it executes closes that gap. A run executed in process by the
`diaodu` command carries its process id and host: when that process is gone (killed), the run is failed
too, or it would hold the one-run queue for ever."""

from __future__ import annotations

import json
import os
import socket

from dagster import DefaultRunLauncher
from dagster._core.errors import DagsterUserCodeUnreachableError
from dagster._core.launcher import CheckRunHealthResult, WorkerStatus
from dagster._core.storage.dagster_run import DagsterRun
from dagster._core.storage.tags import GRPC_INFO_TAG
from dagster._grpc.client import DagsterGrpcClient
from dagster._grpc.types import GetCurrentRunsResult
from dagster._serdes import deserialize_value

PID_TAG, HOST_TAG = "diaodu/pid", "diaodu/host"


def in_process_tags() -> dict[str, str]:
    """Tags of a run this process executes itself: run monitoring fails it once the process is gone."""
    return {PID_TAG: str(os.getpid()), HOST_TAG: socket.gethostname()}


def _process_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False


class MonitoredRunLauncher(DefaultRunLauncher):
    @property
    def supports_check_run_worker_health(self) -> bool:
        return True

    def check_run_worker_health(self, run: DagsterRun) -> CheckRunHealthResult:
        grpc_info = run.tags.get(GRPC_INFO_TAG)
        if grpc_info is None:  # executed in process (`diaodu run`): its own process reports the end, unless killed
            pid, host = run.tags.get(PID_TAG), run.tags.get(HOST_TAG)
            if pid and host == socket.gethostname() and _process_gone(int(pid)):
                return CheckRunHealthResult(WorkerStatus.FAILED, f"the diaodu process {pid} that ran it is gone")
            return CheckRunHealthResult(WorkerStatus.RUNNING, "not launched through a code server")
        where = json.loads(grpc_info)
        client = DagsterGrpcClient(port=where.get("port"), socket=where.get("socket"), host=where["host"])
        try:
            current = deserialize_value(client.get_current_runs(), GetCurrentRunsResult).current_runs
        except DagsterUserCodeUnreachableError:  # restarting: asked again at the next poll
            return CheckRunHealthResult(WorkerStatus.RUNNING, "code server unreachable", transient=True)
        if run.run_id in current:
            return CheckRunHealthResult(WorkerStatus.RUNNING)
        return CheckRunHealthResult(WorkerStatus.FAILED, "the code server that started this run no longer runs it")
