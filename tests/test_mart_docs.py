"""The warehouse documents itself: every mart view and column carries the comment its .sql header
gives it, and a header that does not document its view exactly stops the schema from applying."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from diaodu.pipelines.cli import main
from diaodu.warehouse.store import SQL_DIR
from diaodu.warehouse.view_docs import ViewDocError, document_view
from tests.conftest import query

MART_FILES = sorted((SQL_DIR / "mart").glob("*.sql"))


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("demo") / "data"
    assert main(["demo", "--data-dir", str(data_dir)]) == 0
    return data_dir


def test_every_mart_view_and_column_has_a_comment(demo_dir: Path) -> None:
    views = dict(query(demo_dir, "SELECT view_name, comment FROM duckdb_views() WHERE schema_name = 'mart'"))
    assert sorted(views) == [path.stem for path in MART_FILES]
    assert [name for name, comment in views.items() if not (comment or "").strip()] == []
    assert all("Grain:" in comment for comment in views.values())
    columns = query(demo_dir, "SELECT table_name, column_name, comment FROM duckdb_columns() "
                              "WHERE schema_name = 'mart'")
    assert len(columns) > len(views) * 5
    assert [(view, column) for view, column, comment in columns if not (comment or "").strip()] == []


def test_a_column_comment_is_its_header_line(demo_dir: Path) -> None:
    comments = dict(query(demo_dir, "SELECT column_name, comment FROM duckdb_columns() "
                                    "WHERE schema_name = 'mart' AND table_name = 'procedure_rollup'"))
    assert comments["done_rate"] == ("share of required procedures done (办结率), done_count / required_count, "
                                     "0–1; NULL when none is required")


def test_rows_rejected_is_a_deprecated_alias_of_rows_returned(demo_dir: Path) -> None:
    assert query(demo_dir, "SELECT count(*), count(*) FILTER (WHERE rows_returned > 0) FROM mart.submissions "
                           "WHERE rows_returned IS NOT DISTINCT FROM rows_rejected") == [(22, 8)]
    (comment,), = query(demo_dir, "SELECT comment FROM duckdb_columns() WHERE schema_name = 'mart' "
                                  "AND table_name = 'submissions' AND column_name = 'rows_rejected'")
    assert comment.startswith("DEPRECATED alias of rows_returned")


HEADER = """-- mart.sample: a view to document. Grain: one row
-- per thing.
-- Columns:
-- thing_code: the thing's code
-- amount: what it's worth (万元), counted
--     across every part
"""


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    connection.execute("CREATE SCHEMA mart")
    return connection


def apply(con: duckdb.DuckDBPyConnection, folder: Path, header: str, columns: str) -> None:
    path = folder / "sample.sql"
    path.write_text(header + f"CREATE OR REPLACE VIEW mart.sample AS SELECT {columns};\n", encoding="utf-8")
    con.execute(path.read_text(encoding="utf-8"))
    document_view(con, path.read_text(encoding="utf-8"), path.stem)


def test_a_header_comments_the_view_and_its_columns(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    apply(con, tmp_path, HEADER, "'A' AS thing_code, 1.5 AS amount")
    assert con.execute("SELECT comment FROM duckdb_views() WHERE view_name = 'sample'").fetchall() == [
        ("a view to document. Grain: one row per thing.",)]
    assert con.execute("SELECT column_name, comment FROM duckdb_columns() WHERE table_name = 'sample' "
                       "ORDER BY column_index").fetchall() == [
        ("thing_code", "the thing's code"), ("amount", "what it's worth (万元), counted across every part")]


def test_a_column_without_its_line_fails_loudly(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    with pytest.raises(ViewDocError, match="without a '-- column: meaning' line: unit_code;"):
        apply(con, tmp_path, HEADER, "'A' AS thing_code, 1.5 AS amount, 'LS' AS unit_code")


def test_a_documented_column_the_view_lacks_fails_loudly(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    with pytest.raises(ViewDocError, match="documented columns the view does not have: amount"):
        apply(con, tmp_path, HEADER, "'A' AS thing_code")


@pytest.mark.parametrize(("header", "error"), [
    (HEADER.replace("-- Columns:\n", ""), "no '-- Columns:' line"),
    (HEADER.replace("Grain: one row", "One row"), "says no 'Grain: ...'"),
    (HEADER.replace("mart.sample:", "mart.other:"), "must start with '-- mart.sample: '"),
    (HEADER.replace("--     across", "-- across"), "neither '-- column: meaning' nor an indented continuation"),
    (HEADER + "-- amount: twice\n", "column amount is documented twice"),
])
def test_a_malformed_header_fails_loudly(con: duckdb.DuckDBPyConnection, tmp_path: Path, header: str,
                                         error: str) -> None:
    with pytest.raises(ViewDocError, match=re.escape(error)):
        apply(con, tmp_path, header, "'A' AS thing_code, 1.5 AS amount")
