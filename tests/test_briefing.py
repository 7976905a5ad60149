"""The 一日一调简报: the sample campaign's briefing shows the dispatch's figures from the mart views; a
few report dates in a row show a unit skipping a day, a bureau correcting a date and a light turning
red over the make-up weekend; headless Chromium prints the page."""

from __future__ import annotations

import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import openpyxl
import pytest

from diaodu.dispatch.fonts import missing_cjk_font
from diaodu.pipelines.cli import main
from diaodu.pipelines.data_dir import init_data_dir
from tests.conftest import PROCEDURE_HEADER, PROJECT_HEADER, query, write_csv

AS_OF = "2023-01-29"
TITLE = "葫芦岛市重点项目前期“百日攻坚”一日一调简报（2023年1月29日）"
CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)


class _Tables(HTMLParser):
    """The page's tables by their sheet name: rows of cell texts (the 序号 column included)."""

    def __init__(self):
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.scripts = 0
        self._sheet = self._row = self._cell = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script":
            self.scripts += 1
        if tag == "table":
            self._sheet = attrs.get("data-sheet")
            self.tables[self._sheet] = []
        elif tag == "tr" and self._sheet:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = ""

    def handle_endtag(self, tag):
        if tag == "table":
            self._sheet = None
        elif tag == "tr" and self._row is not None:
            self.tables[self._sheet].append(self._row)
            self._row = None
        elif tag in ("td", "th") and self._cell is not None:
            self._row.append(self._cell.strip())
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data


def page(data_dir: Path, as_of: str) -> tuple[str, dict[str, list[list[str]]]]:
    html = (data_dir / "outbox" / "dispatch" / as_of / "一日一调简报.html").read_text(encoding="utf-8")
    parser = _Tables()
    parser.feed(html)
    assert parser.scripts == 0
    return html, {sheet: rows[1:] for sheet, rows in parser.tables.items()}  # without the header row


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory) -> Path:
    data_dir = tmp_path_factory.mktemp("briefing") / "data"
    assert main(["demo", "--data-dir", str(data_dir)]) == 0
    return data_dir


def test_the_briefing_leads_with_the_dispatch_figures(demo_dir):
    html, tables = page(demo_dir, AS_OF)
    assert f"<title>{TITLE}</title>" in html
    by_procedure = {row[1]: row[2:7] for row in tables["手续办结"]}
    assert by_procedure["立项"] == ["146", "114", "20", "12", "78.08%"]
    assert by_procedure["能评"] == ["104", "61", "23", "20", "58.65%"]
    assert "立项应办146个、已办结114个，办结率78.08%" in html
    assert "本期为首期汇总" in html  # no earlier report date to compare with
    assert "按周一至周五推算" not in html  # 2023 is on the official calendar


def test_the_red_list_is_the_mart_red_list(demo_dir):
    _, tables = page(demo_dir, AS_OF)
    red = query(demo_dir, "SELECT count(*) FROM mart.procedure_status WHERE as_of_date = ? AND light = '红' "
                          "AND is_campaign AND required", [AS_OF])[0][0]
    assert red == query(demo_dir, "SELECT red FROM mart.light_rollup WHERE as_of_date = ? AND unit_code = 'CITY'",
                        [AS_OF])[0][0] == 67
    assert len(tables["红灯清单"]) == red
    listed = query(demo_dir, "SELECT project_name, procedure, workdays_overdue::VARCHAR, unit_name, "
                             "responsible_leader FROM mart.light_list WHERE as_of_date = ? AND light = '红' "
                             "AND is_campaign", [AS_OF])
    assert sorted(tuple(row[1:3]) + tuple(row[4:7]) for row in tables["红灯清单"]) == sorted(listed)
    overdue = [int(row[4]) for row in tables["红灯清单"]]
    assert overdue == sorted(overdue, reverse=True)  # the most overdue first
    yellow = query(demo_dir, "SELECT yellow FROM mart.light_rollup WHERE as_of_date = ? AND unit_code = 'CITY'",
                   [AS_OF])[0][0]
    assert len(tables["黄灯清单"]) == yellow


def test_units_are_ranked_and_the_slowest_named(demo_dir):
    html, tables = page(demo_dir, AS_OF)
    ranked = query(demo_dir, "SELECT unit_name, done_rate FROM mart.unit_completion WHERE as_of_date = ? "
                             "AND rank_group = 'area' ORDER BY rank_in_group", [AS_OF])
    assert [row[1] for row in tables["县区园区排名"]] == [name for name, _ in ranked]
    slowest, rate = ranked[-1]
    assert f"{slowest}（{rate:.2%}" in html and "予以点名通报" in html
    assert "今日各单位均已报送" in html and "未报送单位" not in tables  # an empty table is not printed


def test_the_workbook_has_every_table_as_a_sheet(demo_dir):
    path = demo_dir / "outbox" / "dispatch" / AS_OF / "一日一调简报.xlsx"
    book = openpyxl.load_workbook(path)
    assert book.sheetnames[:4] == ["概况", "手续办结", "红灯清单", "黄灯清单"]
    assert {"县区园区排名", "部办局排名", "未报送单位", "今日办结", "具备开工条件", "开工倒计时", "开复工率",
            "数据不一致", "逾期问题", "未销号问题"} <= set(book.sheetnames)
    procedures = {row[0]: row[1:6] for row in book["手续办结"].iter_rows(min_row=3, values_only=True)}
    assert procedures["立项"][:2] == (146, 114) and round(procedures["立项"][4], 4) == 0.7808
    red = query(demo_dir, "SELECT red FROM mart.light_rollup WHERE as_of_date = ? AND unit_code = 'CITY'", [AS_OF])
    assert book["红灯清单"].max_row - 2 == red[0][0]  # title row, header row
    ready = query(demo_dir, "SELECT count(*) FROM mart.ready_to_start WHERE as_of_date = ?", [AS_OF])[0][0]
    assert book["具备开工条件"].max_row - 2 == ready == 12
    countdown = query(demo_dir, "SELECT count(*) FROM mart.start_countdown WHERE as_of_date = ?", [AS_OF])[0][0]
    assert book["开工倒计时"].max_row - 2 == countdown  # the page shows the nearest; the workbook all


def test_the_page_is_self_contained(demo_dir):
    html, _ = page(demo_dir, AS_OF)
    assert "@page { size: A4" in html and "<svg" in html
    for loads in ("<script", "<link", "<img", "@import", "url(", "src=", "href="):
        assert loads not in html


def test_the_dagster_run_recorded_the_briefing(demo_dir):
    import dagster as dg

    from diaodu.pipelines.cli import instance_for

    with instance_for(demo_dir) as instance:
        event = instance.get_latest_materialization_event(dg.AssetKey("daily_briefing"))
    metadata = event.asset_materialization.metadata
    assert metadata["html"].value.endswith("一日一调简报.html")
    assert "红灯（逾期未办结） | 67件" in metadata["headline"].value


def test_the_page_names_chinese_fonts_for_windows_macos_and_linux(demo_dir):
    html, _ = page(demo_dir, AS_OF)
    for system_font in ("Microsoft YaHei", "SimSun", "PingFang SC", "Songti SC", "Noto Sans CJK SC",
                        "Noto Serif CJK SC", "WenQuanYi Micro Hei"):
        assert f"'{system_font}'" in html


def test_the_font_check_names_the_package_on_a_server_without_chinese_fonts(tmp_path):
    if shutil.which("fc-list") is None:
        pytest.skip("no fontconfig here: Windows and macOS ship Chinese fonts, nothing to check")
    bare = tmp_path / "fonts.conf"  # fontconfig with no font directory, as on a bare server
    bare.write_text(f"<fontconfig><cachedir>{tmp_path}</cachedir></fontconfig>", encoding="utf-8")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("FONTCONFIG_FILE", str(bare))
        said = missing_cjk_font()
    assert said is not None and "fonts-noto-cjk" in said


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)")
def test_headless_chromium_prints_the_headline_figures(demo_dir, tmp_path):
    # Printed without a Chinese font, every character would be a box: required, with how to install one.
    assert (no_font := missing_cjk_font()) is None, no_font
    html_path = demo_dir / "outbox" / "dispatch" / AS_OF / "一日一调简报.html"
    pdf = tmp_path / "briefing.pdf"
    subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--no-pdf-header-footer",
         f"--user-data-dir={tmp_path / 'profile'}", f"--print-to-pdf={pdf}", html_path.as_uri()],
        check=True, capture_output=True, timeout=120)
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF") and len(data) > 20_000
    if shutil.which("pdftotext") is None:
        assert len(re.findall(rb"/Type\s*/Page[^s]", data)) > 1
        return
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True,
                          text=True).stdout
    assert "78.08%" in text and "58.65%" in text and "146" in text
    assert "一日一调简报" in text and "红灯清单" in text
    pages = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    assert int(re.search(r"Pages:\s+(\d+)", pages).group(1)) >= 2


# ---- several report dates ----------------------------------------------------------------------
A = "2022-211402-26-03-000001"  # 连山区
B = "2022-211403-26-03-000002"  # 龙港区
A_NAME = '<script>alert("x")</script>烧碱项目'  # submitted text is shown, never run
B_NAME = '=HYPERLINK("http://example.invalid","龙港项目")'
PROBLEM_HEADER = ["项目代码", "问题描述", "责任单位", "提出日期", "解决时限", "是否销号", "销号日期"]
PROBLEM = "环评报告需补充修改"


def _drop(data_dir: Path, unit: str, name: str, report_date: str, header: list[str], rows: list[list[str]]):
    write_csv(data_dir / "inbox" / unit / name, [[f"填报日期：{report_date}"], header, *rows])


def _project(code: str, name: str) -> list[str]:
    return [code, name, "1.5亿元", "2023/3/15", "未开工", "", "王副区长", "是"]


def _ls(data_dir: Path, report_date: str, energy: list[str], problem_closed: bool) -> None:
    _drop(data_dir, "LS", f"项目{report_date}.csv", report_date, PROJECT_HEADER, [_project(A, A_NAME)])
    _drop(data_dir, "LS", f"手续{report_date}.csv", report_date, PROCEDURE_HEADER, [
        [A, "立项", "是", "已办结", "2023-01-10", "", "2023-01-10", ""],
        [A, "能评", "是", *energy],
        # Promised for Saturday 1-28, a make-up working day after the Spring Festival.
        [A, "环评", "是", "正办理", "2023-01-28", "2023-01-05", "", ""],
        # A promise in a year no calendar knows yet: the lights say they fell back to Monday–Friday.
        [A, "施工许可", "是", "待办", "2027-03-01", "", "", ""],
    ])
    closed = ["是", report_date] if problem_closed else ["否", ""]
    _drop(data_dir, "LS", f"问题{report_date}.csv", report_date, PROBLEM_HEADER,
          [[A, PROBLEM, "市生态环境局", "2023-01-10", "2023-01-19", *closed]])


def _lg(data_dir: Path, report_date: str) -> None:
    _drop(data_dir, "LG", f"项目{report_date}.csv", report_date, PROJECT_HEADER, [_project(B, B_NAME)])
    _drop(data_dir, "LG", f"手续{report_date}.csv", report_date, PROCEDURE_HEADER,
          [[B, "立项", "是", "已办结", "2023-01-18", "", "2023-01-18", ""]])


def _fgw(data_dir: Path, report_date: str, completed: str) -> None:
    _drop(data_dir, "FGW", f"立项{report_date}.csv", report_date, PROCEDURE_HEADER,
          [[B, "立项", "是", "已办结", "2023-01-18", "", completed, "葫发改备〔2023〕5号"]])


@pytest.fixture(scope="module")
def days_dir(tmp_path_factory) -> Path:
    data_dir = init_data_dir(tmp_path_factory.mktemp("days") / "data").root
    # Friday 1-20, the last working day before the festival: everyone reports; the bureau's date for
    # B's 立项 differs from the county's.
    _ls(data_dir, "2023-01-20", ["正办理", "2023-02-10", "", "", ""], problem_closed=False)
    _lg(data_dir, "2023-01-20")
    _fgw(data_dir, "2023-01-20", "2023-01-19")
    assert main(["run", "--data-dir", str(data_dir), "--as-of", "2023-01-20"]) == 0
    # Sunday 1-22, in the festival: nobody reports, nobody has to.
    assert main(["run", "--data-dir", str(data_dir), "--as-of", "2023-01-22"]) == 0
    # Saturday 1-28, a make-up working day: 连山区 and the bureau do not report.
    _lg(data_dir, "2023-01-28")
    assert main(["run", "--data-dir", str(data_dir), "--as-of", "2023-01-28"]) == 0
    # Sunday 1-29, a make-up working day: 能评 done today, the problem closed, the bureau corrects its date.
    _ls(data_dir, "2023-01-29", ["已办结", "2023-02-10", "", "2023-01-29", ""], problem_closed=True)
    _lg(data_dir, "2023-01-29")
    _fgw(data_dir, "2023-01-29", "2023-01-18")
    assert main(["run", "--data-dir", str(data_dir), "--as-of", "2023-01-29"]) == 0
    return data_dir


def _missed(tables) -> set[str]:
    return {row[1] for row in tables["未报送单位"]}


def test_a_unit_that_skips_a_working_day_is_named(days_dir):
    html, tables = page(days_dir, "2023-01-28")
    assert "连山区" in _missed(tables) and "市发改委" in _missed(tables) and "龙港区" not in _missed(tables)
    assert "今日未报送单位" in html and "星期六（调休工作日）" in html
    _, tables = page(days_dir, "2023-01-29")
    assert not {"连山区", "龙港区", "市发改委"} & _missed(tables)
    html, tables = page(days_dir, "2023-01-22")
    assert "今日为非工作日，不作报送要求" in html and "未报送单位" not in tables


def test_a_light_turns_red_over_the_make_up_weekend(days_dir):
    def eia(as_of: str):
        return query(days_dir, "SELECT light, workdays_left FROM mart.procedure_status WHERE as_of_date = ? "
                               "AND project_code = ? AND procedure = '环评'", [as_of, A])[0]

    assert eia("2023-01-20") == ("黄", 1)  # eight calendar days, but only Saturday 1-28 is a working day
    assert eia("2023-01-28") == ("黄", 0)  # due today, a Saturday
    assert eia("2023-01-29")[0] == "红"  # a Sunday, and a working day
    _, tables = page(days_dir, "2023-01-28")
    assert [row[2] for row in tables["黄灯清单"]] == ["环评"] and "红灯清单" not in tables
    _, tables = page(days_dir, "2023-01-29")
    (row,) = tables["红灯清单"]
    assert row[2:7] == ["环评", "1月28日", "1", "连山区", "王副区长"] and row[7] == "市生态环境局"


def test_a_bureau_correcting_a_date_ends_the_disagreement(days_dir):
    _, tables = page(days_dir, "2023-01-28")
    (row,) = tables["数据不一致"]
    assert row[2] == "立项" and row[5] == "1月18日" and row[8] == "1月19日"
    _, tables = page(days_dir, "2023-01-29")
    assert "数据不一致" not in tables
    assert query(days_dir, "SELECT completed_date::VARCHAR FROM mart.procedure_status WHERE as_of_date = ? "
                           "AND project_code = ? AND procedure = '立项'", ["2023-01-29", B]) == [("2023-01-18",)]


def test_done_today_and_the_change_since_the_previous_report_date(days_dir):
    html, tables = page(days_dir, "2023-01-29")
    assert [row[2] for row in tables["今日办结"]] == ["能评"]
    energy = next(row for row in tables["手续办结"] if row[1] == "能评")
    assert energy[2:7] == ["1", "1", "0", "0", "100.00%"] and energy[7] == "+1" and energy[8] == "+100.00"
    assert "“较上期”与1月28日比较" in html
    assert [row[2] for row in tables["问题销号"]] == [PROBLEM]
    _, before = page(days_dir, "2023-01-28")
    assert [row[2] for row in before["逾期问题"]] == [PROBLEM] and "问题销号" not in before


def test_submitted_text_is_escaped_and_never_a_formula(days_dir):
    html, tables = page(days_dir, "2023-01-29")
    assert "<script>alert" not in html and "&lt;script&gt;alert" in html
    assert tables["红灯清单"][0][1] == A_NAME  # shown as the unit wrote it
    book = openpyxl.load_workbook(days_dir / "outbox" / "dispatch" / "2023-01-28" / "一日一调简报.xlsx")
    cell = book["数据不一致"]["B3"]
    assert cell.value == B_NAME and cell.data_type == "s"


def test_the_calendar_fallback_is_said_loudly(days_dir):
    html, _ = page(days_dir, "2023-01-29")
    assert query(days_dir, "SELECT calendar_fallback FROM mart.report_dates WHERE as_of_date = ?",
                 ["2023-01-29"]) == [(True,)]
    assert 'class="alert"' in html and "暂按周一至周五推算工作日" in html
