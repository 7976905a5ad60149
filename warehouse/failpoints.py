"""Fault injection for the crash tests: `DIAODU_KILL_AT=<point>[:<n>]` kills the process with
SIGKILL the n-th time (default first) the pipeline passes that point. Unset, it costs a dict lookup."""

from __future__ import annotations

import os
import signal
from collections import Counter

_passes: Counter[str] = Counter()


def reach(point: str) -> None:
    target = os.environ.get("DIAODU_KILL_AT")
    if not target:
        return
    name, _, nth = target.partition(":")
    if name != point:
        return
    _passes[point] += 1
    if _passes[point] == int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)
