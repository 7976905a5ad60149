"""The daily dispatch (一日一调): the briefing a dispatch office reads every afternoon, written from the
warehouse's `mart` views into `outbox/dispatch/<date>/` (an HTML page and a workbook)."""

from dispatch.briefing import BriefingFiles, briefing_dir, briefing_title, write_briefing
from dispatch.targets import load_start_rate_targets

__all__ = ["BriefingFiles", "briefing_dir", "briefing_title", "load_start_rate_targets", "write_briefing"]
