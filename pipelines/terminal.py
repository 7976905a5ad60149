"""The `diaodu` command's logger for its runs: each warning of a run as one line on stderr. Errors are
left out: the command ends a failed run with one line naming the run and its error, and the full log,
tracebacks included, is the run's in the Dagster UI. Runs started elsewhere (sensors, the UI) do not
select this logger and keep Dagster's own."""

from __future__ import annotations

import logging
import sys

import dagster as dg

# The run config of a run the command starts: its warnings, one line each, and nothing else.
QUIET = {"loggers": {"terminal": {}}}


class _OneLine(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        meta = getattr(record, "dagster_meta", None) or {}
        message = str(meta.get("orig_message") or record.getMessage()).strip()
        step = meta.get("step_key")
        return f"diaodu: 警告：{f'{step}: ' if step else ''}{(message.splitlines() or [''])[0]}"


def warn(text: str) -> None:
    """A warning of the command itself, in the same one-line form as a run's."""
    print(f"diaodu: 警告：{text}", file=sys.stderr)


@dg.logger(config_schema={}, description="Warnings of a run started by the diaodu command, one line each, on stderr.")
def terminal_logger(_: dg.InitLoggerContext) -> logging.Logger:
    # A logger of its own per run, as Dagster's console logger: one from getLogger() would gather a handler a run.
    log = logging.Logger("diaodu.terminal", level=logging.WARNING)
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(lambda record: record.levelno == logging.WARNING)
    handler.setFormatter(_OneLine())
    log.addHandler(handler)
    return log
