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
