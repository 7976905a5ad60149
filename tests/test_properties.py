"""Property: however a unit's file is corrupted, the pipeline does not crash, the unit gets a
receipt, and no other unit's accepted rows change."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from diaodu.sample.ledgers import xlsx_bytes
from tests.conftest import query
from tests.corpus import PROCEDURE, PROJECT, csv_bytes, dated, procedure, project
from tests.test_corpus import ACCEPTED, drop, ingest

LG_CODE = "2022-211403-26-03-000001"
LG_ROWS = {
    "项目": dated(unit="龙港区") + [PROJECT, project(LG_CODE), project("2022-211403-26-03-000002", amount="3,000万元")],
    "手续": dated(unit="龙港区") + [PROCEDURE, procedure(LG_CODE, "立项", status="已办结", completed="2023/1/20"),
                                     procedure(LG_CODE, "能评", promised="2023年2月10日")],
}
VALID_FILES = {
    "龙港区台账.xlsx": xlsx_bytes(LG_ROWS),
    "龙港区手续.csv": csv_bytes(LG_ROWS["手续"], "gbk"),
}


@st.composite
def corrupted(draw) -> tuple[str, bytes]:
    name = draw(st.sampled_from(sorted(VALID_FILES)))
    content = bytearray(VALID_FILES[name])
    for _ in range(draw(st.integers(1, 4))):
        position = draw(st.integers(0, max(len(content) - 1, 0)))
        action = draw(st.sampled_from(["flip", "truncate", "insert", "delete"]))
        if action == "flip" and content:
            content[position] ^= draw(st.integers(1, 255))
        elif action == "truncate":
            del content[position:]
        elif action == "insert":
            content[position:position] = draw(st.binary(min_size=1, max_size=16))
        else:
            del content[position:position + draw(st.integers(1, 64))]
    return name, bytes(content)


def test_corruption_never_crashes_and_never_touches_other_units_rows(baseline):
    accepted_before = [query(baseline, sql) for sql in ACCEPTED]

    @settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(corrupted())
    def property_holds(case: tuple[str, bytes]) -> None:
        name, content = case
        with tempfile.TemporaryDirectory() as scratch:
            data_dir = Path(scratch) / "data"
            shutil.copytree(baseline, data_dir)
            drop(data_dir, "LG", name, content)
            assert ingest(data_dir).success
            outcomes = query(data_dir, "SELECT submission_id, outcome FROM core.submission WHERE unit_code = 'LG'")
            assert len(outcomes) == 1
            (submission_id, _), = outcomes
            assert len(list((data_dir / "outbox" / "LG").glob(f"*{submission_id}_回执.txt"))) == 1
            others = [sql.replace("ORDER BY ALL", "WHERE submission_id NOT LIKE '%-LG-%' ORDER BY ALL")
                      for sql in ACCEPTED]
            assert [query(data_dir, sql) for sql in others] == accepted_before

    property_holds()
