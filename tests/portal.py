"""Shared by the portal's tests: a data directory with accounts, a workbook with one wrong cell, and
logging in through the real login form."""

from __future__ import annotations

import re
from pathlib import Path

from openpyxl import Workbook

from diaodu.portal.accounts import AccountStore
from tests.conftest import PROJECT_HEADER, project_row

PASSWORDS = {"LS": "lianshan-2023", "XC": "xingcheng-2023", "office": "office-pass-2023"}
REPORT_DATE = "2023-01-29"
GOOD_CODE = "2023-211402-48-01-000101"
BAD_CODE = "2023-211402-48-01-000102"


def with_accounts(data_dir: Path) -> Path:
    store = AccountStore(data_dir)
    store.set_password("LS", PASSWORDS["LS"], office=False)
    store.set_password("XC", PASSWORDS["XC"], office=False)
    store.set_password("office", PASSWORDS["office"], office=True)
    return data_dir


def workbook_with_error(path: Path, good_code: str = GOOD_CODE, bad_code: str = BAD_CODE) -> Path:
    """A county's 项目 sheet: one good row, one whose 计划开工日期 is not a date (returned)."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "项目"
    sheet.append([f"填报日期：{REPORT_DATE}"])
    sheet.append(PROJECT_HEADER)
    sheet.append(project_row(good_code, "滨海新区道路工程"))
    bad = project_row(bad_code, "产业园配套管网")
    bad[3] = "下个月"
    sheet.append(bad)
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
    return path


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html[:500]
    return found.group(1)
