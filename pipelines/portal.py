"""`diaodu portal` and `diaodu account`: the unit portal served by uvicorn, and its accounts."""

from __future__ import annotations

import getpass
import logging
import sys
import threading
from collections.abc import Callable
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

import uvicorn
from dagster_graphql import DagsterGraphQLClient

from diaodu.pipelines.data_dir import open_data_dir
from diaodu.pipelines.resources import DiaoduSettings
from diaodu.portal.accounts import AccountStore
from diaodu.portal.app import create_app
from diaodu.schemas.reference import local_today

LOG = logging.getLogger("diaodu.portal")


def portal_app(data_dir: Path, dagster_url: str | None = None):
    """The portal of a data directory, with the settings the pipeline uses (the inbox's size limit) and
    its report date (a sample's own date, else today). With `dagster_url` (the webserver), each upload's
    ingest run is launched at once instead of at the inbox sensor's next tick."""
    opened = open_data_dir(data_dir)
    settings = DiaoduSettings(data_dir=str(opened.root))
    sample = opened.sample_report_date

    def report_day() -> date:
        return sample or local_today()

    on_upload = ingest_launcher(dagster_url, report_day) if dagster_url else None
    return create_app(settings.root, settings.max_file_bytes, report_day, on_upload)


def ingest_launcher(dagster_url: str, report_day: Callable[[], date]) -> Callable[[str, str], None]:
    """Submits the ingest run of one uploaded file to Dagster (queued like any run, one at a time), in
    the background while the portal pre-checks it. A failure only costs time: the file is in the inbox,
    and the inbox sensor launches its run as for a dropped file."""
    address = urlsplit(dagster_url)
    client = DagsterGraphQLClient(address.hostname or "127.0.0.1", port_number=address.port, timeout=30)

    def submit(unit_code: str, file_name: str) -> None:
        try:
            client.submit_job_execution(
                "ingest_job", run_config={"ops": {"submissions": {"config": {"files": [f"{unit_code}/{file_name}"]}}}},
                tags={"dagster/partition": report_day().isoformat(), "diaodu/files": "1", "diaodu/source": "portal"})
        except Exception as error:  # the sensor takes the file up at its next tick
            LOG.warning("could not launch the ingest run of %s/%s at once (%s); the inbox sensor will",
                        unit_code, file_name, type(error).__name__)

    def launch(unit_code: str, file_name: str) -> None:
        threading.Thread(target=submit, args=(unit_code, file_name), daemon=True).start()

    return launch


def serve_portal(data_dir: Path, host: str, port: int, dagster_url: str | None = None) -> int:
    app = portal_app(data_dir, dagster_url)
    print(f"报送平台：http://{host}:{port}（对外请经反向代理加 TLS，见 README）", flush=True)
    # proxy_headers: behind the office's reverse proxy on this machine, https is seen as such (Secure cookies)
    uvicorn.run(app, host=host, port=port, proxy_headers=True, forwarded_allow_ips="127.0.0.1",
                server_header=False, log_level="warning", access_log=False)
    return 0


def set_account(data_dir: Path, name: str, office: bool) -> None:
    """Reads the new password as one line from stdin, so scripts can set it."""
    password = getpass.getpass("新密码：") if sys.stdin.isatty() else sys.stdin.readline().rstrip("\r\n")
    account = AccountStore(open_data_dir(data_dir).root).set_password(name, password, office)
    print(f"已设置账号 {account.name}（{account.label}）")


def list_accounts(data_dir: Path) -> None:
    accounts = AccountStore(open_data_dir(data_dir).root).accounts()
    if not accounts:
        print("尚无账号；用 diaodu account set UNIT --data-dir D 开设")
    for account in accounts:
        kind = "办公室" if account.office else "单位"
        print(f"{account.name}\t{kind}\t{account.label}\t{'已停用' if account.disabled else '启用'}\t{account.updated_at}")


def disable_account(data_dir: Path, name: str) -> None:
    AccountStore(open_data_dir(data_dir).root).disable(name)
    print(f"已停用账号 {name}，其登录会话已全部结束")
