"""The mart views document themselves: the header comment of each warehouse/mart/*.sql file is the one
source of the view's and its columns' `COMMENT ON`, so what DBeaver, the DuckDB UI or
`duckdb_columns()` show is what the file says.

A header is the file's leading `--` lines:

    -- mart.<view>: what it is, in prose over as many lines as needed, with a "Grain: ..." sentence.
    -- Columns:
    -- <column>: meaning (unit)
    --     a continuation of the line above, indented

The view's comment is the prose (without the `mart.<view>: ` prefix); each column's is its line.
Every column of the view must have a line and every line a column, or applying the schema fails.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import duckdb

COLUMNS_LINE = " Columns:"  # a header line, after its "--"
COLUMN_LINE = re.compile(r" ([a-z_][a-z0-9_]*): (\S.*)")
CONTINUATION_LINE = re.compile(r" {3,}(\S.*)")


class ViewDocError(ValueError):
    """A mart .sql header that does not document its view exactly."""


@dataclass(frozen=True)
class ViewDoc:
    view: str  # schema-qualified, e.g. mart.procedure_rollup
    description: str
    columns: dict[str, str]


def header_lines(sql_text: str) -> list[str]:
    """The file's leading comment lines, without their `--`."""
    lines: list[str] = []
    for line in sql_text.splitlines():
        if not line.startswith("--"):
            break
        lines.append(line[2:].rstrip())
    return lines


def parse_header(sql_text: str, view_name: str, source: str) -> ViewDoc:
    """The documentation of mart.<view_name> from its file's header; `source` names the file in errors."""
    lines = header_lines(sql_text)
    if COLUMNS_LINE not in lines:
        raise ViewDocError(f"{source}: the header has no '--{COLUMNS_LINE}' line")
    split = lines.index(COLUMNS_LINE)
    return ViewDoc(f"mart.{view_name}", _description(lines[:split], view_name, source),
                   _columns(lines[split + 1:], source))


def _description(lines: list[str], view_name: str, source: str) -> str:
    prefix = f"mart.{view_name}: "
    text = " ".join(line.strip() for line in lines if line.strip())
    if not text.startswith(prefix):
        raise ViewDocError(f"{source}: the header must start with '-- {prefix}'")
    description = text.removeprefix(prefix)
    if "Grain:" not in description:
        raise ViewDocError(f"{source}: the header's description says no 'Grain: ...'")
    return description


def _columns(lines: list[str], source: str) -> dict[str, str]:
    columns: dict[str, str] = {}
    current: str | None = None
    for line in lines:
        if (column := COLUMN_LINE.fullmatch(line)) is not None:
            name = column.group(1)
            if name in columns:
                raise ViewDocError(f"{source}: column {name} is documented twice")
            columns[name] = column.group(2)
            current = name
        elif (more := CONTINUATION_LINE.fullmatch(line)) is not None and current is not None:
            columns[current] += " " + more.group(1)
        elif line.strip():
            raise ViewDocError(f"{source}: '--{line}' is neither '-- column: meaning' nor an indented continuation")
    return columns


def view_columns(con: duckdb.DuckDBPyConnection, view: str) -> list[str]:
    schema, name = view.split(".")
    return [row[0] for row in con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE schema_name = ? AND table_name = ? ORDER BY column_index",
        [schema, name]).fetchall()]


def check_documented(doc: ViewDoc, columns: list[str], source: str) -> None:
    """Fails unless the header documents exactly the view's columns."""
    undocumented = [c for c in columns if c not in doc.columns]
    missing = [c for c in doc.columns if c not in columns]
    if undocumented or missing:
        raise ViewDocError(
            f"{source}: {doc.view} columns without a '-- column: meaning' line: {', '.join(undocumented) or 'none'}; "
            f"documented columns the view does not have: {', '.join(missing) or 'none'}")


def quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def comment_statements(doc: ViewDoc) -> list[str]:
    return [f"COMMENT ON VIEW {doc.view} IS {quoted(doc.description)}"] + [
        f"COMMENT ON COLUMN {doc.view}.{column} IS {quoted(text)}" for column, text in doc.columns.items()]


def document_view(con: duckdb.DuckDBPyConnection, sql_text: str, view_name: str) -> None:
    """Comments mart.<view_name>, just created from `sql_text` (warehouse/mart/<view_name>.sql), from its header."""
    source = f"{view_name}.sql"
    doc = parse_header(sql_text, view_name, source)
    check_documented(doc, view_columns(con, doc.view), source)
    con.execute(";\n".join(comment_statements(doc)))
