"""The generated instance config: PostgreSQL through psycopg2 from a DBA's plain URL, remembered by the
data directory; otherwise SQLite under it; the queue and run monitoring of the repo's dagster.yaml."""

from __future__ import annotations

import pytest
import yaml

from diaodu.pipelines.instance import instance_config, write_instance_home


def test_a_plain_postgres_url_gets_psycopg2_and_the_data_directory_remembers_it(tmp_path, monkeypatch):
    monkeypatch.setenv("DAGSTER_PG_URL", "postgresql://diaodu@db.example:5432/diaodu_dagster")
    home = write_instance_home(tmp_path / "served")
    generated = yaml.safe_load((home / "dagster.yaml").read_text())
    url = "postgresql+psycopg2://diaodu@db.example:5432/diaodu_dagster"
    assert generated["storage"] == {"postgres": {"postgres_url": url}}
    assert (home / "dagster.yaml").stat().st_mode & 0o777 == 0o600
    assert generated["run_coordinator"]["config"]["max_concurrent_runs"] == 1
    assert generated["run_monitoring"]["enabled"] is True
    assert generated["run_launcher"]["class"] == "MonitoredRunLauncher"

    monkeypatch.delenv("DAGSTER_PG_URL")
    assert instance_config(tmp_path / "served")["storage"] == generated["storage"]
    fresh = tmp_path / "fresh"
    assert instance_config(fresh)["storage"] == {"sqlite": {"base_dir": str(fresh / "dagster")}}


def test_a_url_that_is_not_postgres_is_refused(monkeypatch, tmp_path):
    monkeypatch.setenv("DAGSTER_PG_URL", "mysql://diaodu@db/dagster")
    with pytest.raises(ValueError, match="DAGSTER_PG_URL"):
        instance_config(tmp_path)


def test_a_run_of_a_diaodu_process_that_was_killed_is_failed_by_run_monitoring():
    import subprocess

    import dagster as dg
    from dagster._core.launcher import WorkerStatus
    from dagster._core.test_utils import create_run_for_test

    from diaodu.pipelines.launcher import MonitoredRunLauncher, in_process_tags

    gone = subprocess.Popen(["true"])
    gone.wait()  # a `diaodu run` killed mid-run: its process is gone, its run still "started"
    launcher = MonitoredRunLauncher()
    with dg.instance_for_test() as instance:
        killed = create_run_for_test(instance, job_name="ingest_job", status=dg.DagsterRunStatus.STARTED,
                                     tags=in_process_tags() | {"diaodu/pid": str(gone.pid)})
        running = create_run_for_test(instance, job_name="ingest_job", status=dg.DagsterRunStatus.STARTED,
                                      tags=in_process_tags())
        assert launcher.check_run_worker_health(killed).status == WorkerStatus.FAILED
        assert launcher.check_run_worker_health(running).status == WorkerStatus.RUNNING
