"""Where the time goes, for the figures that miss their target.

    python -m benchmarks.profile ingest [--rows 100000] [--format csv|xlsx]
        pyinstrument over one `submissions` run of the big 手续 file (after its registrations):
        the call tree, then the functions with the most time of their own, as file:line.
    python -m benchmarks.profile rollup --db DATA/state/work.duckdb [--day 364] [--days 31]
        DuckDB's own profile of the rollup statements for a span of report dates ending on --day, on a
        generated history (`python -m benchmarks.generate history --db …`): the operators with the most time.

Profiles go to stdout; nothing here changes the pipeline.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def top_functions(session_root, limit: int = 20) -> list[tuple[float, float, str]]:
    """(own time, total time, 'function file:line') of the frames with the most own time."""
    own: dict[str, float] = defaultdict(float)
    total: dict[str, float] = defaultdict(float)

    def visit(frame, on_stack: frozenset) -> None:
        if frame.function.startswith("["):  # pyinstrument's synthetic [self]/[await] frames
            return
        key = f"{frame.function}  {frame.file_path_short or ''}:{frame.line_no or ''}"
        own[key] += frame.total_self_time
        if key not in on_stack:  # recursion: count a frame's total once per stack
            total[key] += frame.time
        for child in frame.children:
            visit(child, on_stack | {key})

    visit(session_root, frozenset())
    ranked = sorted(own, key=own.get, reverse=True)[:limit]
    return [(own[k], total[k], k) for k in ranked]


def profile_ingest(rows: int, fmt: str, keep: Path | None) -> None:
    import dagster as dg
    from pyinstrument import Profiler

    import diaodu.pipelines.assets as assets
    from benchmarks.generate import write_ingest_set
    from diaodu.pipelines.resources import DiaoduSettings

    work = keep or Path(tempfile.mkdtemp(prefix="diaodu-profile-"))
    try:
        ingest = write_ingest_set(work / "ingest", rows)
        data = work / "data"
        inbox = data / "inbox" / "LS"
        inbox.mkdir(parents=True, exist_ok=True)
        settings = DiaoduSettings(data_dir=str(data))

        def run() -> None:
            dg.materialize([assets.submissions], resources={"settings": settings},
                           instance=dg.DagsterInstance.ephemeral(), raise_on_error=True)

        shutil.copyfile(ingest.registrations, inbox / ingest.registrations.name)
        run()
        source = ingest.xlsx if fmt == "xlsx" else ingest.csv
        shutil.copyfile(source, inbox / source.name)
        profiler = Profiler(interval=0.001)
        profiler.start()
        run()
        profiler.stop()
        print(profiler.output_text(unicode=True, color=False, show_all=False))
        print(f"\nTop functions by own time ({fmt}, {rows:,} rows): own s / total s / function file:line")
        for own, total, key in top_functions(profiler.last_session.root_frame()):
            print(f"{own:7.3f} {total:7.3f}  {key}")
    finally:
        if keep is None:
            shutil.rmtree(work, ignore_errors=True)


def plan_operators(node: dict) -> Iterator[tuple[float, str, int, str]]:
    """(time, operator, rows out, table or join) of a DuckDB JSON profile node and all below it.

    DuckDB 2.x names the fields name/timing/intermediate_rows; 1.x operator_*.
    """
    name = node.get("name") or node.get("operator_name") or node.get("operator_type") or ""
    timing = node.get("timing", node.get("operator_timing", 0.0)) or 0.0
    rows = node.get("intermediate_rows", node.get("operator_cardinality", 0)) or 0
    extra = node.get("extra_info", {}) or {}
    detail = extra.get("Table") or extra.get("Partitions") or extra.get("Join Type") or ""
    yield timing, name.strip(), rows, str(detail)[:60]
    for child in node.get("children", []):
        yield from plan_operators(child)


def profile_rollup(db: Path, day: int, days: int) -> None:
    import duckdb

    from benchmarks.generate import HISTORY_START
    from diaodu.warehouse.rollup import refresh_calendar, span_statements, stage_days

    span = [HISTORY_START + timedelta(days=d) for d in range(max(0, day - days + 1), day + 1)]
    scratch = Path(tempfile.mkdtemp(prefix="diaodu-profile-")) / "work.duckdb"
    shutil.copyfile(db, scratch)  # the generated history stays as it was
    try:
        con = duckdb.connect(str(scratch))
        con.execute("SET enable_progress_bar = false")
        refresh_calendar(con, span[0], span[-1])
        stage_days(con, span)
        print(f"{span[0]} – {span[-1]} ({len(span)} report dates)")
        for number, (table, statement, params) in enumerate(span_statements(span, 3, datetime(2024, 1, 3, 16))):
            verb = statement.split()[0]
            output = scratch.with_suffix(f".{number}.json")
            con.execute("PRAGMA enable_profiling = 'json'")
            con.execute(f"PRAGMA profiling_output = '{output}'")
            start = time.perf_counter()
            con.execute(statement, params)
            elapsed = time.perf_counter() - start
            con.execute("PRAGMA disable_profiling")
            profile = json.loads(output.read_text())
            operators = [op for root in profile.get("operator", [profile]) for op in plan_operators(root)]
            memory = profile.get("system", {}).get("peak_buffer_memory")
            print(f"\n{verb} rollup.{table}: {elapsed:.2f} s wall"
                  + (f", DuckDB peak buffer memory {memory / 2**30:.2f} GiB" if memory else "")
                  + "; top operators (s, operator, rows out):")
            for timing, name, rows, detail in sorted(operators, reverse=True)[:10]:
                print(f"  {timing:7.3f}  {name:<28} {rows:>12,}  {detail}")
        con.close()
    finally:
        shutil.rmtree(scratch.parent, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.profile", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    ingest = commands.add_parser("ingest")
    ingest.add_argument("--rows", type=int, default=100_000)
    ingest.add_argument("--format", choices=("csv", "xlsx"), default="csv")
    ingest.add_argument("--keep", type=Path, default=None, help="work here and keep it")
    rollup = commands.add_parser("rollup")
    rollup.add_argument("--db", type=Path, required=True)
    rollup.add_argument("--day", type=int, default=364, help="last report date, as days after the campaign start")
    rollup.add_argument("--days", type=int, default=31, help="report dates in the span")
    args = parser.parse_args(argv)
    if args.command == "ingest":
        profile_ingest(args.rows, args.format, args.keep)
    else:
        profile_rollup(args.db, args.day, args.days)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
