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


def _armed(variable: str, point: str) -> str | None:
    """The argument after `<point>:` when the variable names this point; None otherwise."""
    name, _, argument = os.environ.get(variable, "").partition(":")
    return argument if name == point else None


def _kill_if_due(point: str) -> None:
    nth = _armed("DIAODU_KILL_AT", point)
    if nth is None:
        return
    _passes[point] += 1
    if _passes[point] == int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)


def _pause_if_armed(point: str) -> None:
    arm = _armed("DIAODU_PAUSE_AT", point)
    if not arm:
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
