"""The daily dispatch (一日一调): the briefing a dispatch office reads every afternoon, written from the
warehouse's `mart` views into `outbox/dispatch/<date>/` (an HTML page and a workbook)."""

from diaodu.dispatch.briefing import BriefingFiles, briefing_dir, briefing_title, write_briefing

__all__ = ["BriefingFiles", "briefing_dir", "briefing_title", "write_briefing"]
