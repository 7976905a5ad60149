"""The mart views (warehouse/mart/*.sql, one view a file named after it) and what each one reads.

A view's SQL names the relations it reads as `mart.x`, `rollup.y`, `core.z`, `ref.w`; a view is
created after the mart views it reads (DuckDB binds a view when it is created). The same parse gives
`apply_schema` its order and the Dagster asset graph its lineage (pipelines/warehouse_assets.py)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from graphlib import TopologicalSorter
from pathlib import Path

from diaodu.warehouse.view_docs import header_lines, parse_header

MART_DIR = Path(__file__).resolve().parent / "mart"
# Comments and string literals may name relations a statement does not read (a header, COMMENT ON).
COMMENT_OR_STRING = re.compile(r"--[^\n]*|/\*.*?\*/|'(?:[^']|'')*'", re.DOTALL)
RELATION = re.compile(r"\b(core|ref|rollup|mart)\.([a-z_][a-z0-9_]*)\b", re.IGNORECASE)


@dataclass(frozen=True)
class MartView:
    name: str  # the file's stem: the view is mart.<name>
    sql: str
    reads: frozenset[str]  # qualified relations, e.g. "rollup.procedure_status", "mart.procedure_rollup"

    @property
    def qualified_name(self) -> str:
        return f"mart.{self.name}"

    @property
    def description(self) -> str:
        """What the view is and its grain, from its header (the part before the column list)."""
        return parse_header(self.sql, self.name, f"{self.name}.sql").description


def relations_read(sql_text: str) -> frozenset[str]:
    """Every `schema.name` of the warehouse's schemas the SQL names outside comments and strings."""
    code = COMMENT_OR_STRING.sub(" ", sql_text)
    return frozenset(f"{schema.lower()}.{name.lower()}" for schema, name in RELATION.findall(code))


def header_comment(sql_text: str) -> str:
    """The leading `--` lines of an SQL file, as one paragraph."""
    return " ".join(line.strip() for line in header_lines(sql_text))


def mart_views(directory: Path = MART_DIR) -> list[MartView]:
    """The views of `directory`, each after the mart views it reads (otherwise by name); raises when a
    view reads a mart view that has no file, or when views read each other in a cycle."""
    views = {}
    for path in sorted(directory.glob("*.sql")):
        text = path.read_text(encoding="utf-8")
        views[path.stem] = MartView(path.stem, text, relations_read(text) - {f"mart.{path.stem}"})
    graph = {name: sorted(mart_views_read(view)) for name, view in views.items()}
    missing = {read for reads in graph.values() for read in reads} - views.keys()
    if missing:
        raise ValueError(f"mart views read but not defined in {directory}: {sorted(missing)}")
    return [views[name] for name in TopologicalSorter(graph).static_order()]


def mart_views_read(view: MartView) -> set[str]:
    return {relation.removeprefix("mart.") for relation in view.reads if relation.startswith("mart.")}
