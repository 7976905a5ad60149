"""Fault injection for the crash tests.

`DIAODU_KILL_AT=<point>[:<n>]` kills the process with SIGKILL the n-th time (default first) it passes
that point. `DIAODU_PAUSE_AT=<point>:<arm file>` stops the first process that passes the point while
the arm file exists (it takes the file, so only one does) and keeps it there until something kills it;
its pid is in `<arm file>.paused`. Unset, each costs a dict lookup."""

from __future__ import annotations

import os
import signal
import time
from collections import Counter

_passes: Counter[str] = Counter()


def reach(point: str) -> None:
    _kill_if_due(point)
    _pause_if_armed(point)


def _kill_if_due(point: str) -> None:
    target = os.environ.get("DIAODU_KILL_AT")
    if not target:
        return
    name, _, nth = target.partition(":")
    if name != point:
        return
    _passes[point] += 1
    if _passes[point] == int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)


def _pause_if_armed(point: str) -> None:
    target = os.environ.get("DIAODU_PAUSE_AT")
    if not target:
        return
    name, _, arm = target.partition(":")
    if name != point:
        return
    paused = f"{arm}.paused"
    try:
        os.rename(arm, paused)  # atomic: one process takes the arm
    except FileNotFoundError:
        return
    with open(paused, "w") as handle:
        handle.write(str(os.getpid()))
    while True:
        time.sleep(3600)
