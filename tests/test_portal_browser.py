"""The unit portal in a real browser: Debian's Chromium driven by Selenium through Debian's chromedriver
(nothing downloaded: the driver's path is given, so Selenium Manager never runs), against `diaodu portal`
served by uvicorn on 127.0.0.1. A clerk logs in, uploads a workbook with an error, sees the pre-check,
then the pipeline's receipt replaces it; the annotated copy downloads; another unit reaches none of it.

Screenshots of the unit and office views at desktop and phone widths go to a temporary folder, or to
the folder `DIAODU_SCREENSHOTS` names (docs/screenshots/ for the README)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from diaodu.pipelines.cli import run_pipeline
from diaodu.pipelines.data_dir import init_data_dir
from diaodu.pipelines.service import free_port
from tests.conftest import query
from tests.portal import PASSWORDS, REPORT_DATE, with_accounts, workbook_with_error

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}

pytestmark = pytest.mark.skipif(not (CHROMIUM.exists() and CHROMEDRIVER.exists()) and not os.environ.get("CI"),
                                reason="Debian's chromium and chromium-driver are not installed")


@pytest.fixture(scope="module")
def portal(tmp_path_factory) -> Iterator[tuple[str, Path]]:
    """`diaodu portal` on a sample data directory (its report date is the workbook's)."""
    data_dir = with_accounts(init_data_dir(tmp_path_factory.mktemp("browser") / "data",
                                           date.fromisoformat(REPORT_DATE)).root)
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "diaodu.pipelines.cli", "portal", "--data-dir", str(data_dir),
                               "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert server.poll() is None and time.monotonic() < deadline, "diaodu portal did not start"
            time.sleep(0.2)
        yield f"http://127.0.0.1:{port}", data_dir
    finally:
        server.terminate()
        server.wait(timeout=20)


@pytest.fixture(scope="module")
def browser(tmp_path_factory) -> Iterator[tuple[webdriver.Chrome, Path]]:
    downloads = tmp_path_factory.mktemp("downloads")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--lang=zh-CN"):
        options.add_argument(argument)
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                              "download.prompt_for_download": False})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver, downloads
    finally:
        driver.quit()


def log_in(driver: webdriver.Chrome, base: str, name: str) -> None:
    driver.delete_all_cookies()
    driver.get(f"{base}/")  # not logged in: the login page
    assert driver.current_url == f"{base}/login"
    driver.find_element(By.NAME, "unit").send_keys(name)
    driver.find_element(By.NAME, "password").send_keys(PASSWORDS[name])
    driver.find_element(By.CSS_SELECTOR, "form[action='/login'] button").click()
    WebDriverWait(driver, 10).until(lambda d: d.current_url == f"{base}/")


def screenshots(driver: webdriver.Chrome, view: str, folder: Path) -> None:
    for width_name, (width, height) in WIDTHS.items():
        driver.set_window_size(width, height)
        full = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(width, max(height, min(full + 140, 2400)))
        assert driver.save_screenshot(str(folder / f"portal-{view}-{width_name}.png"))
        if width_name == "phone":  # nothing wider than the phone's screen
            assert driver.execute_script("return document.documentElement.scrollWidth") <= width
    driver.set_window_size(*WIDTHS["desktop"])


def test_clerk_uploads_sees_precheck_then_receipt_and_another_unit_sees_none(portal, browser, tmp_path):
    base, data_dir = portal
    driver, downloads = browser
    shots = Path(os.environ.get("DIAODU_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    workbook = workbook_with_error(tmp_path / "连山区台账0129.xlsx")

    log_in(driver, base, "LS")
    assert "连山区" in driver.find_element(By.TAG_NAME, "h1").text
    driver.find_element(By.CSS_SELECTOR, "input[type=file]").send_keys(str(workbook))
    driver.find_element(By.CSS_SELECTOR, "form[action='/upload'] button").click()
    WebDriverWait(driver, 10).until(lambda d: "/uploads/" in d.current_url)
    precheck = driver.find_element(By.ID, "precheck").text
    assert "即时预检" in precheck and "退回 1 行" in precheck and "下个月" in precheck
    assert (data_dir / "inbox" / "LS" / workbook.name).is_file()  # where a dropped file goes
    assert driver.find_elements(By.ID, "waiting")
    screenshots(driver, "precheck", shots)

    assert run_pipeline(data_dir, date.fromisoformat(REPORT_DATE))
    WebDriverWait(driver, 15).until(lambda d: "/submissions/" in d.current_url)  # the page refreshes itself
    receipt_url = driver.current_url
    receipt = driver.find_element(By.ID, "receipt").text
    assert "部分接收" in receipt and "接收 1 行，退回 1 行" in receipt and "下个月" in receipt
    annotated = driver.find_element(By.ID, "annotated")
    annotated_url = annotated.get_attribute("href")
    annotated.click()
    WebDriverWait(driver, 15).until(lambda d: [p for p in downloads.glob("*_退回标注.xlsx")])
    (copy,) = downloads.glob("*_退回标注.xlsx")
    time.sleep(0.5)  # Chromium renames the finished download into place; give it a moment to close
    assert copy.read_bytes()[:2] == b"PK"
    driver.get(f"{base}/")
    screenshots(driver, "unit", shots)
    (submission_id,) = query(data_dir, "SELECT submission_id FROM core.submission WHERE report_date = ?",
                             [date.fromisoformat(REPORT_DATE)])[0]

    log_in(driver, base, "XC")
    assert "连山区台账" not in driver.page_source and submission_id not in driver.page_source
    for url in (receipt_url, annotated_url, f"{base}/units/LS"):
        driver.get(url)
        assert "没有这个页面或文件" in driver.page_source and "报送回执" not in driver.page_source, url
    assert len(list(downloads.iterdir())) == 1  # the other unit downloaded nothing

    log_in(driver, base, "office")
    assert "今日未报送" in driver.page_source and "连山区" in driver.page_source
    screenshots(driver, "office", shots)
