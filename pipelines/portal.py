"""`diaodu portal` and `diaodu account`: the unit portal served by uvicorn, and its accounts."""

from __future__ import annotations

import getpass
import sys
from pathlib import Path

import uvicorn

from diaodu.pipelines.data_dir import open_data_dir
from diaodu.pipelines.resources import DiaoduSettings
from diaodu.portal.accounts import AccountStore
from diaodu.portal.app import create_app
from diaodu.schemas.reference import local_today


def portal_app(data_dir: Path):
    """The portal of a data directory, with the settings the pipeline uses (the inbox's size limit) and
    its report date (a sample's own date, else today)."""
    opened = open_data_dir(data_dir)
    settings = DiaoduSettings(data_dir=str(opened.root))
    sample = opened.sample_report_date
    return create_app(settings.root, settings.max_file_bytes, lambda: sample or local_today())


def serve_portal(data_dir: Path, host: str, port: int) -> int:
    app = portal_app(data_dir)
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
