"""A throwaway PostgreSQL cluster for the deployed-profile tests (Debian's `postgresql` package).

PostgreSQL refuses to run as root, so as root the cluster belongs to the `postgres` user (created
if missing); it listens on a free port of 127.0.0.1 only and is removed afterwards."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

CLUSTER_USER = "postgres"


def _server_bin() -> Path | None:
    found = shutil.which("initdb") or next(iter(sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)),
                                           None)
    return Path(found).resolve().parent if found else None


def _as_cluster_user(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    try:
        pwd.getpwnam(CLUSTER_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", CLUSTER_USER], check=True)
    return ["runuser", "-u", CLUSTER_USER, "--", *command]


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    """`postgresql://postgres@127.0.0.1:<port>/diaodu`, as a DBA writes it."""
    server = _server_bin()
    if server is None or not (server / "pg_ctl").exists():
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed: apt-get install postgresql")
    root = Path(tempfile.mkdtemp(prefix="diaodu-pg-"))
    if os.geteuid() == 0:
        subprocess.run(_as_cluster_user(["true"]), check=True)  # creates the user when missing
        shutil.chown(root, CLUSTER_USER)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    data = root / "data"
    subprocess.run(_as_cluster_user([str(server / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres",
                                     "-E", "UTF8", "--locale=C", "--no-sync"]), check=True, capture_output=True)
    options = f"-F -p {port} -k {root} -c listen_addresses=127.0.0.1"
    subprocess.run(_as_cluster_user([str(server / "pg_ctl"), "-D", str(data), "-o", options, "-l",
                                     str(root / "server.log"), "-w", "start"]), check=True, capture_output=True)
    try:
        subprocess.run(_as_cluster_user([str(server / "createdb"), "-h", "127.0.0.1", "-p", str(port),
                                         "-U", "postgres", "diaodu"]), check=True, capture_output=True)
        yield f"postgresql://postgres@127.0.0.1:{port}/diaodu"
    finally:
        subprocess.run(_as_cluster_user([str(server / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
                       capture_output=True)
        shutil.rmtree(root, ignore_errors=True)
