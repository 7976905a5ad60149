"""A run killed with SIGKILL anywhere leaves the warehouse as if it had never started or had
finished; the next run completes the work: no submission lost, none counted twice."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from diaodu.pipelines.data_dir import init_data_dir
from diaodu.sample.campaign import write_sample_campaign
from tests.conftest import query

VIEWS = {
    "submissions": "SELECT submission_id, unit_code, report_date, file_name, sha256, outcome, rows_total, "
                   "rows_accepted, rows_returned FROM mart.submissions ORDER BY ALL",
    "rejections": "SELECT * FROM mart.rejections ORDER BY ALL",
    "procedure_status": "SELECT * EXCLUDE (source_submission_id) FROM mart.procedure_status ORDER BY ALL",
    "procedure_rollup": "SELECT * FROM mart.procedure_rollup ORDER BY ALL",
}


def run_cli(data_dir: Path, kill_at: str | None = None) -> int:
    env = dict(os.environ)
    env.pop("DIAODU_KILL_AT", None)
    if kill_at:
        env["DIAODU_KILL_AT"] = kill_at
    command = [sys.executable, "-m", "diaodu.pipelines.cli", "run", "--data-dir", str(data_dir), "--as-of", "2023-01-29"]
    return subprocess.run(command, env=env, capture_output=True, timeout=300).returncode


def snapshot(data_dir: Path) -> dict:
    """The marts, and every receipt, findings file, notice and annotated return, byte for byte."""
    outbox = data_dir / "outbox"
    returns = {str(path.relative_to(outbox)): path.read_bytes() for path in sorted(outbox.rglob("*"))
               if path.is_file() and path.parent.parent == outbox}  # the units' folders, not the briefing
    return {"returns": returns} | {name: query(data_dir, sql) for name, sql in VIEWS.items()}


@pytest.fixture(scope="module")
def sample_inbox(tmp_path_factory) -> Path:
    """The sample campaign's files, written once; each test copies them with their timestamps."""
    inbox = tmp_path_factory.mktemp("sample") / "inbox"
    write_sample_campaign(inbox)
    return inbox


@pytest.fixture(scope="module")
def reference_state(sample_inbox, tmp_path_factory) -> dict:
    data_dir = init_data_dir(tmp_path_factory.mktemp("reference") / "data").root
    shutil.copytree(sample_inbox, data_dir / "inbox", dirs_exist_ok=True)
    assert run_cli(data_dir) == 0
    return snapshot(data_dir)


@pytest.mark.parametrize("kill_at", ["parsing:3", "mid_merge:1", "mid_merge:9", "before_returns:5",
                                     "writing_returns:12", "mid_rollup", "publish:1", "publish:2"])
def test_a_killed_run_is_completed_by_the_next_one(sample_inbox, reference_state, tmp_path, kill_at):
    data_dir = init_data_dir(tmp_path / "data").root
    shutil.copytree(sample_inbox, data_dir / "inbox", dirs_exist_ok=True)
    assert run_cli(data_dir, kill_at) == -9  # really killed there
    assert run_cli(data_dir) == 0
    assert snapshot(data_dir) == reference_state
    # 55 returns (no annotated copy for the .xls returned whole) and the day's 10 督办单, .html and .xlsx each
    assert len(reference_state["returns"]) == 55 + 20
    submissions = reference_state["submissions"]
    assert len(submissions) == 22 and not [s for s in submissions if s[5] == "duplicate"]
    for submission_id, unit_code, *_ in submissions:
        assert len(list((data_dir / "outbox" / unit_code).glob(f"*{submission_id}_回执.txt"))) == 1
    assert not [p for p in (data_dir / "inbox").rglob("*") if p.is_file()]
    assert not [p for p in (data_dir / "state" / "processing").rglob("*") if p.is_file()]
