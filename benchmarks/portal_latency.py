"""Figure (4) through the unit portal: what a clerk waits for, measured over HTTP against `diaodu serve`
(code server, webserver, daemon and the portal, supervised as deployed; run history on SQLite under
the data directory).

A clerk of 连山区 logs in and uploads a county workbook (项目 + 手续, 1,100 手续 rows for 100 projects,
report date today) through the upload form, as a browser posts it. Two times per upload, each from the
moment the upload request is sent:
- pre-check: until the portal answers the upload (it answers after the pre-check, with its findings);
- receipt: until the upload's page gives way to the pipeline's receipt (`/uploads/<id>` redirects to
  `/submissions/<id>` once the published warehouse holds the submission), polled every 0.1 s. A browser
  on that page reloads it every second, so a clerk sees the receipt up to 1 s after this time.
The portal launches each upload's ingest run through the webserver at once; the inbox sensor is the
fallback. One warm-up upload (it registers the projects), then the median over `files` uploads, each
when no run is queued or running.

`python -m benchmarks.portal_latency [--files N]` runs it alone; `benchmarks/run.py` runs it with (4).
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import random
import re
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

PASSWORD = "benchmark-password"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # a 303 is what is measured
        return None


class Clerk:
    """A browser's requests: a cookie jar, no redirects followed."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
                                                  _NoRedirect())

    def request(self, path: str, data: bytes | None = None, headers: dict | None = None) -> tuple[int, str, str]:
        """(status, Location, body)."""
        request = urllib.request.Request(self.base + path, data=data, headers={"Accept": "text/html", **(headers or {})})
        try:
            with self.opener.open(request, timeout=60) as response:
                return response.status, response.headers.get("Location", ""), response.read().decode()
        except urllib.error.HTTPError as answer:
            return answer.code, answer.headers.get("Location", ""), answer.read().decode()

    def csrf(self, path: str) -> str:
        found = re.search(r'name="csrf" value="([^"]+)"', self.request(path)[2])
        if not found:
            raise RuntimeError(f"no form on {path}")
        return found.group(1)

    def log_in(self, unit: str, password: str) -> None:
        form = urllib.parse.urlencode({"unit": unit, "password": password, "csrf": self.csrf("/login")}).encode()
        status, location, _ = self.request("/login", form)
        if (status, location) != (303, "/"):
            raise RuntimeError(f"login as {unit} failed: {status}")

    def upload(self, path: Path) -> str:
        """Posts the file as the upload form does; returns the upload's page."""
        boundary = secrets.token_hex(16)
        body = (f'--{boundary}\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n{self.csrf("/")}\r\n'
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{path.name}"\r\n'
                "Content-Type: application/octet-stream\r\n\r\n").encode() + path.read_bytes() + \
            f"\r\n--{boundary}--\r\n".encode()
        status, location, body_text = self.request(
            "/upload", body, {"Content-Type": f"multipart/form-data; boundary={boundary}"})
        if status != 303 or not location.startswith("/uploads/"):
            raise RuntimeError(f"upload of {path.name} answered {status}: {body_text[:200]}")
        return location


def _wait(what: str, ready, timeout_s: float, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + timeout_s
    while not ready():
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{what}: not within {timeout_s:.0f} s; see {log}")
        time.sleep(0.2)


def _answers(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=2).close()
        return True
    except (OSError, urllib.error.URLError):
        return False


def measure_portal_latency(work: Path, files: int, projects: int, timeout_s: float) -> dict:
    import dagster as dg

    from benchmarks.generate import INGEST_UNIT, SEED, make_projects, write_unit_workbook
    from diaodu.pipelines.data_dir import init_data_dir
    from diaodu.pipelines.instance import instance_for
    from diaodu.pipelines.service import free_port
    from diaodu.portal.accounts import AccountStore
    from diaodu.schemas import reference
    from diaodu.schemas.reference import local_today

    data = init_data_dir(work / "data").root
    AccountStore(data).set_password(INGEST_UNIT, PASSWORD, office=False)
    unit, today = reference.units()[INGEST_UNIT], local_today()
    ledger = make_projects(random.Random(SEED), unit, projects, today)
    uploads = [write_unit_workbook(work / "staging" / f"{unit.name}台账{today:%m%d}_{i}.xlsx", unit, ledger, today,
                                   SEED + 200 + i) for i in range(files + 1)]
    dagster_port, portal_port = free_port(), free_port()
    log = work / "serve.log"
    serve = subprocess.Popen([sys.executable, "-m", "diaodu.pipelines.cli", "serve", "--data-dir", str(data),
                              "--dagster-port", str(dagster_port), "--portal-port", str(portal_port)],
                             stdout=open(log, "w"), stderr=subprocess.STDOUT, start_new_session=True)
    drops = []
    try:
        _wait("the webserver", lambda: _answers(f"http://127.0.0.1:{dagster_port}/server_info"), 180, serve, log)
        _wait("the portal", lambda: _answers(f"http://127.0.0.1:{portal_port}/login"), 60, serve, log)
        clerk = Clerk(f"http://127.0.0.1:{portal_port}")
        clerk.log_in(INGEST_UNIT, PASSWORD)
        active = dg.RunsFilter(statuses=[dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED,
                                         dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED])
        with instance_for(data) as instance:
            for i, path in enumerate(uploads):
                _wait("no run in progress", lambda: not instance.get_runs(filters=active), timeout_s, serve, log)
                sent = time.perf_counter()
                page = clerk.upload(path)
                prechecked = time.perf_counter() - sent
                server_side = float(re.search(r"即时预检（([\d.]+) 秒）", clerk.request(page)[2]).group(1))
                receipt = None
                while receipt is None and time.perf_counter() - sent < timeout_s:
                    status, location, _ = clerk.request(page)
                    if status == 303 and location.startswith("/submissions/"):
                        receipt = time.perf_counter() - sent
                    else:
                        time.sleep(0.1)
                if receipt is None:
                    raise RuntimeError(f"no receipt for {path.name} within {timeout_s:.0f} s; see {log}")
                phases = _phases(instance, f"{INGEST_UNIT}/{path.name}", time.time() - (time.perf_counter() - sent))
                drops.append(dict(file=path.name, warmup=i == 0, precheck_s=prechecked,
                                  precheck_server_s=server_side, receipt_s=receipt, **phases))
                print(f"portal latency: {path.name}: pre-check {prechecked:.2f} s (server {server_side:.2f} s), "
                      f"receipt {receipt:.2f} s{' (warm-up, not counted)' if i == 0 else ''} "
                      + " ".join(f"{key}={value:.1f}" for key, value in phases.items()), file=sys.stderr)
            _wait("the last run to end", lambda: not instance.get_runs(filters=active), timeout_s, serve, log)
    finally:
        _stop(serve)
    counted = [drop for drop in drops if not drop["warmup"]]
    phase_medians = {key: statistics.median(d[key] for d in counted if key in d)
                     for key in ("launch_s", "queue_and_start_s") if any(key in d for d in counted)}
    return dict(files=len(counted), rows_per_file=projects * len(reference.procedures()), drops=drops,
                phase_medians=phase_medians, launched_by_portal=sum(d.get("launched_by_portal", 0) for d in counted),
                median_precheck_s=statistics.median(d["precheck_s"] for d in counted),
                median_receipt_s=statistics.median(d["receipt_s"] for d in counted))


def _phases(instance, file: str, sent_at: float) -> dict[str, float]:
    """From the run's record: upload sent → run created (the portal's launch), → run started (queue and
    run worker start)."""
    record = next((r for r in instance.get_run_records(limit=10)
                   if file in json.dumps(r.dagster_run.run_config, ensure_ascii=False)), None)
    if record is None or not record.start_time:
        return {}
    created = record.create_timestamp.timestamp()
    return {"launch_s": created - sent_at, "queue_and_start_s": record.start_time - created,
            "launched_by_portal": float(record.dagster_run.tags.get("diaodu/source") == "portal")}


def _stop(serve: subprocess.Popen) -> None:
    """`diaodu serve` stops its services on SIGTERM; its process group is killed if it does not."""
    if serve.poll() is None:
        serve.send_signal(signal.SIGTERM)
        try:
            serve.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(serve.pid, signal.SIGKILL)
            serve.wait()


PRECHECK_TARGET_S, RECEIPT_TARGET_S = 2.0, 5.0


def portal_rows(results: dict, seconds, met) -> list[tuple[str, ...]]:
    """Figure (4)'s rows for the portal (`seconds`, `met`: run.py's formatting)."""
    portal = results.get("portal_latency")
    if not portal:
        return []
    base = results.get("latency_in_process_s")
    what = f"median of {portal['files']} uploads ({portal['rows_per_file']:,} 手续 rows each)"
    return [
        (f"(4) portal: upload → receipt on the portal page under `diaodu serve`, {what}",
         seconds(portal["median_receipt_s"]), f"in-process run {seconds(base)}" if base else "—",
         f"{portal['median_receipt_s'] / base:.0f}×" if base else "—", f"≤ {RECEIPT_TARGET_S:.0f} s",
         met(portal["median_receipt_s"] <= RECEIPT_TARGET_S)),
        (f"(4) portal: upload → pre-check shown, {what}", seconds(portal["median_precheck_s"]), "—", "—",
         f"≤ {PRECHECK_TARGET_S:.0f} s", met(portal["median_precheck_s"] <= PRECHECK_TARGET_S)),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=8)
    parser.add_argument("--projects", type=int, default=100)
    parser.add_argument("--work", type=Path, default=None, help="keep the data directory and logs here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="diaodu-portal-bench-") as scratch:
        result = measure_portal_latency(args.work or Path(scratch), args.files, args.projects, 180)
    print(json.dumps({key: value for key, value in result.items() if key != "drops"}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
