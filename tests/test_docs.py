"""The README and docs/ stand on their own in a clone, and say what the code does.

No link or path leaves the repository; every relative link resolves to a file in it; the generated parts
of docs/*.md (tables from the models, reference data, rules and mart views) are what `python -m
docs.generate` writes; and, checked independently of the generator, every rule code, sheet column and mart
view column is on its page.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import duckdb
import pytest

from diaodu.schemas.models import SHEETS
from diaodu.warehouse.store import apply_schema
from docs import generate  # the generator of docs/*.md's tables (not installed: run from the repository root)

REPO = Path(__file__).resolve().parents[1]
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
# Markdown links: inline links and images `[text](target)`, and reference definitions `[name]: target`.
INLINE_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE_LINK = re.compile(r"^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", re.MULTILINE)
URL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)


def page_id(path: Path) -> str:
    return str(path.relative_to(REPO))


def links(text: str) -> list[str]:
    return INLINE_LINK.findall(text) + REFERENCE_LINK.findall(text)


def outside_paths(text: str) -> list[str]:
    """Paths that leave the repository: `../…`, and absolute filesystem paths in links."""
    found = re.findall(r"(?<![\w.])\.\./\S*", text)
    found += [target for target in links(text) if target.startswith(("/", "~", "file:"))]
    return found


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_no_link_or_path_leaves_the_repository(page: Path) -> None:
    assert outside_paths(page.read_text(encoding="utf-8")) == []


def test_outside_paths_are_found() -> None:
    text = "Contracts: `../shared/spec/`, [spec](/work/shared/spec/x.md), [ok](docs/a.md), [web](https://x.org/a)"
    assert outside_paths(text) == ["../shared/spec/`,", "/work/shared/spec/x.md"]


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_every_relative_link_resolves_to_a_file_in_the_repository(page: Path) -> None:
    broken = []
    for target in links(page.read_text(encoding="utf-8")):
        path = target.split("#", 1)[0]
        if URL.match(target) or not path:  # a web address, or an anchor on the same page
            continue
        resolved = (page.parent / path).resolve()
        if not resolved.is_relative_to(REPO) or not resolved.exists():
            broken.append(target)
    assert broken == []


def test_the_readme_links_both_contracts() -> None:
    readme_links = links((REPO / "README.md").read_text(encoding="utf-8"))
    assert "docs/submission-contract.md" in readme_links
    assert "docs/warehouse-contract.md" in readme_links


@pytest.mark.parametrize("page", sorted(generate.BLOCKS))
def test_generated_parts_are_current(page: str) -> None:
    text = (REPO / "docs" / page).read_text(encoding="utf-8")
    assert generate.render(page, text) == text, f"docs/{page} is stale: run `python -m docs.generate`"


def submission_contract() -> str:
    return (REPO / "docs" / "submission-contract.md").read_text(encoding="utf-8")


def test_every_rule_code_is_documented_with_its_whole_message() -> None:
    with open(REPO / "schemas" / "reference" / "rules.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))[1:]
    assert [row for row in rows if len(row) != 2] == []  # an unquoted comma cuts a message short
    page = submission_contract()
    assert [code for code, _ in rows if f"`{code}`" not in page] == []
    tail = [message.split("}")[-1] for _, message in rows]  # the words after the last placeholder
    assert [text for text in tail if text not in page] == []


def test_every_sheet_column_and_its_aliases_are_documented() -> None:
    page = submission_contract()
    for spec in SHEETS:
        section = page.split(f"### {spec.name}", 1)[1].split("\n### ", 1)[0]
        rows = [line.split(" | ") for line in section.splitlines() if line.startswith("| ")]
        documented = {cells[0].removeprefix("| "): cells for cells in rows}
        for column in spec.columns.values():
            assert column.title in documented, f"{spec.name}: {column.title}"
            for alias in (column.metadata or {}).get("aliases", []):
                assert alias in documented[column.title][-1], f"{spec.name}: {column.title} alias {alias}"


def test_every_mart_view_and_column_is_documented() -> None:
    page = (REPO / "docs" / "warehouse-contract.md").read_text(encoding="utf-8")
    with duckdb.connect() as con:
        apply_schema(con)
        columns = con.execute(
            "SELECT table_name, column_name FROM duckdb_columns() WHERE schema_name = 'mart'").fetchall()
    sections = {part.split("\n", 1)[0]: part for part in page.split("\n### mart.")[1:]}
    missing = [f"{view}.{column}" for view, column in columns
               if view not in sections or f"| `{column}` |" not in sections[view]]
    assert missing == []
