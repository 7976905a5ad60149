"""Replaying the history: every archived submission, in its original batches and arrival order,
through the same job into an empty data directory, then every materialised report date again.
The result must equal the original warehouse's mart views row for row.

Before a batch, the materialised report dates earlier than every report date in it are materialised
(as the daily schedule had done by the time those files came): a 督办单 is issued when its date is first
materialised, and a reply (督办回复) is judged against the orders issued by then."""

from __future__ import annotations

import os
import shutil
from datetime import date
from itertools import groupby
from pathlib import Path

import dagster as dg

from diaodu.pipelines.definitions import build_definitions
from diaodu.pipelines.partitions import up_to_today
from diaodu.pipelines.terminal import QUIET, warn
from diaodu.schemas.reference import city
from diaodu.warehouse.merge import archived_file
from diaodu.warehouse.store import Warehouse

# A replay rebuilds the warehouse; it tells no unit about its files again (mart.notices stays empty).
SILENT = {"ops": {"submissions": {"config": {"notify": False}}}}


def replay(source: Path, target: Path, instance: dg.DagsterInstance) -> bool:
    with Warehouse(source).reading() as con:
        submissions = con.execute(
            "SELECT batch_id, unit_code, file_name, claim_key, archive_path, report_date FROM core.submission ORDER BY seq"
        ).fetchall()
        materialised = con.execute("SELECT as_of_date FROM rollup.rollup_run ORDER BY 1").fetchall()
    days = up_to_today([day for (day,) in materialised], warn)
    # The ingest job carries a report date's rollup; any date will do, every day is redone below.
    partition = (days[0] if days else city().campaign_start).isoformat()
    defs = build_definitions(str(target))
    ingest, rollup = defs.resolve_job_def("ingest_job"), defs.resolve_job_def("daily_rollup_job")
    def materialise(day: date) -> bool:
        return rollup.execute_in_process(instance=instance, partition_key=day.isoformat(), raise_on_error=False,
                                         run_config=QUIET).success

    pending = list(days)
    for _, rows in groupby(submissions, key=lambda row: row[0]):
        batch = list(rows)
        dated = [row[5] for row in batch if row[5] is not None]
        while dated and pending and pending[0] < min(dated):
            if not materialise(pending.pop(0)):
                return False
        for _, unit_code, file_name, claim_key, archive_path, _ in batch:
            archived = archived_file(source, archive_path)
            if archived is None or claim_key is None:
                raise ValueError(f"{unit_code}/{file_name} cannot be replayed: its bytes were not kept")
            arrived_ns = int(claim_key.split("/")[1])
            dropped = target / "inbox" / unit_code / file_name
            dropped.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(archived, dropped)
            os.utime(dropped, ns=(arrived_ns, arrived_ns))  # the arrival time is part of the record
        if not ingest.execute_in_process(instance=instance, partition_key=partition, raise_on_error=False,
                                         run_config=QUIET | SILENT).success:
            return False
    return all(materialise(day) for day in days)
