"""Shared helpers: real files in a temporary data directory, real DuckDB, real Dagster instance."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pytest

from diaodu.pipelines.data_dir import init_data_dir

# The corpus's accepted state (fixture `baseline`) is shared by the corpus and property tests; `postgres_url`
# is a throwaway PostgreSQL cluster for the deployed profile.
pytest_plugins = ["tests.corpus", "tests.postgres"]


def write_csv(path: Path, rows: list[list[str]], encoding: str = "utf-8-sig") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding=encoding, newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def query(data_dir: Path, sql: str, params: list | None = None) -> list[tuple]:
    """Reads the published warehouse the way a downstream tool does."""
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def mart_tables(data_dir: Path) -> dict[str, list[tuple]]:
    """Every mart view, row for row, with every column but the time a rollup was computed (a rebuilt
    warehouse computes its own), but mart.notices: what a data directory sent is its own history, which a
    replay does not repeat (tests/test_notices.py)."""
    columns = query(data_dir, "SELECT table_name, string_agg(column_name, ', ' ORDER BY ordinal_position) "
                              "FROM information_schema.columns WHERE table_schema = 'mart' "
                              "AND column_name <> 'materialised_at' AND table_name <> 'notices' "
                              "GROUP BY table_name ORDER BY table_name")
    return {view: query(data_dir, f"SELECT {names} FROM mart.{view} ORDER BY ALL")
            for view, names in columns}


PROJECT_HEADER = ["项目代码", "项目名称", "总投资（万元）", "计划开工日期", "建设状态", "实际开工日期", "包保领导", "是否百日攻坚"]
PROCEDURE_HEADER = ["项目代码", "手续类型", "是否应办", "办理状态", "承诺办结日期", "受理日期", "办结日期", "批复文号"]


def project_row(code: str, name: str = "测试项目", state: str = "未开工") -> list[str]:
    return [code, name, "1.5亿元", "2023/3/15", state, "", "王副区长", "是"]


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A new data directory, as `diaodu init` makes it."""
    return init_data_dir(tmp_path / "data").root
