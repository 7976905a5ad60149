"""The unit portal over HTTP (Starlette's TestClient on the real app, a real data directory, the real
pipeline run in-process): per-unit access (IDOR), CSRF, lockout, traversal names, oversized uploads,
unauthenticated access, disabled accounts, error pages; the pre-check and then the receipt."""

from __future__ import annotations

import io
import json
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from urllib.parse import quote

import pytest
from starlette.testclient import TestClient

from diaodu.pipelines.cli import main, run_pipeline
from diaodu.pipelines.data_dir import init_data_dir
from diaodu.portal import accounts
from diaodu.portal.accounts import LOCK_SECONDS, MAX_FAILURES, AccountError, AccountStore
from diaodu.portal.app import create_app
from tests.conftest import query
from tests.portal import PASSWORDS, REPORT_DATE, csrf_of, with_accounts, workbook_with_error

MAX_BYTES = 200_000
TODAY = date.fromisoformat(REPORT_DATE)


def client_for(data_dir: Path, max_bytes: int = MAX_BYTES) -> TestClient:
    # base_url https: the session cookie is Secure behind the office's TLS proxy, as it is here
    return TestClient(create_app(data_dir, max_bytes, lambda: TODAY), base_url="https://portal.test",
                      raise_server_exceptions=False, headers={"Accept": "text/html"})


def login(client: TestClient, name: str, password: str | None = None):
    form = client.get("/login")
    return client.post("/login", data={"unit": name, "password": password or PASSWORDS[name],
                                       "csrf": csrf_of(form.text)}, follow_redirects=False)


def upload(client: TestClient, name: str, content: bytes, csrf: str | None = None):
    token = csrf if csrf is not None else csrf_of(client.get("/").text)
    return client.post("/upload", data={"csrf": token}, files={"file": (name, content)}, follow_redirects=False)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """LS has uploaded a workbook with one wrong row through the portal and the pipeline has run."""
    data_dir = with_accounts(init_data_dir(tmp_path_factory.mktemp("portal") / "data").root)
    workbook = workbook_with_error(tmp_path_factory.mktemp("files") / "连山区台账.xlsx").read_bytes()
    ls = client_for(data_dir)
    assert login(ls, "LS").status_code == 303
    uploaded = upload(ls, "连山区台账.xlsx", workbook)
    assert uploaded.status_code == 303
    precheck_url = uploaded.headers["location"]
    precheck_page = ls.get(precheck_url)
    waiting_home = ls.get("/")
    assert run_pipeline(data_dir, TODAY)
    (submission_id,) = query(data_dir, "SELECT submission_id FROM core.submission WHERE unit_code = 'LS'")[0]
    return dict(data_dir=data_dir, ls=ls, precheck_url=precheck_url, precheck_page=precheck_page.text,
                waiting_home=waiting_home.text,
                submission_id=submission_id, workbook=workbook)


def ls_files(data_dir: Path) -> list[str]:
    return sorted(path.name for path in (data_dir / "outbox" / "LS").iterdir())


def test_precheck_then_receipt_says_the_same(served):
    page = served["precheck_page"]
    assert "即时预检" in page and "退回 1 行" in page and "预计接收 1 行" in page
    (message,) = query(served["data_dir"], "SELECT message FROM core.finding WHERE submission_id = ? "
                                           "AND severity = 'error'", [served["submission_id"]])[0:1]
    assert message[0] in page  # the pre-check's message is the receipt's, word for word
    ls = served["ls"]
    done = ls.get(served["precheck_url"], follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == f"/submissions/{served['submission_id']}"
    receipt = ls.get(done.headers["location"])
    assert receipt.status_code == 200 and "报送回执" in receipt.text and message[0] in receipt.text
    assert "部分接收" in receipt.text
    annotated = next(name for name in ls_files(served["data_dir"]) if name.endswith("_退回标注.xlsx"))
    download = ls.get(f"/outbox/LS/{quote(annotated)}")
    assert download.status_code == 200 and download.content[:2] == b"PK"
    assert "attachment" in download.headers["content-disposition"]
    waiting = served["waiting_home"].split('id="pending"')[1].split("</section>")[0]
    assert "连山区台账.xlsx" in waiting and served["precheck_url"] in waiting and "部分接收" in waiting
    home = ls.get("/")
    assert served["submission_id"] in home.text and "连山区台账.xlsx" in home.text and 'id="pending"' not in home.text
    template = ls.get(f"/templates/{quote('县区园区报送模板.xlsx')}")
    assert template.status_code == 200 and template.content[:2] == b"PK"


def test_another_unit_reaches_nothing_of_ls(served):
    data_dir, submission_id = served["data_dir"], served["submission_id"]
    xc = client_for(data_dir)
    assert login(xc, "XC").status_code == 303
    names = ls_files(data_dir)
    upload_id = served["precheck_url"].rsplit("/", 1)[1]
    attempts = [f"/submissions/{submission_id}", served["precheck_url"], "/units/LS", f"/units/{quote('../LS')}",
                "/briefing/x"]
    for name in names:
        attempts += [f"/outbox/LS/{quote(name)}", f"/outbox/XC/{quote(name)}", f"/outbox/XC/{quote('../LS/' + name)}",
                     f"/outbox/XC/..%2FLS%2F{quote(name)}", f"/outbox/%2E%2E/LS/{quote(name)}"]
    attempts += ["/outbox/XC/..%2F..%2Fstate%2Fportal%2Faccounts.json", "/outbox/LS", "/outbox/XC/.",
                 f"/uploads/{upload_id}", "/templates/..%2F..%2Fstate%2Fportal%2Fsecret.key"]
    for url in attempts:
        response = xc.get(url, follow_redirects=False)
        assert response.status_code == 404, url
        assert submission_id not in response.text and "连山区台账" not in response.text, url
    home = xc.get("/")
    assert home.status_code == 200 and submission_id not in home.text and "连山区台账" not in home.text
    assert "兴城市" in home.text


def test_office_sees_every_unit_and_who_has_not_reported(served):
    office = client_for(served["data_dir"])
    assert login(office, "office").status_code == 303
    home = office.get("/")
    assert "今日未报送" in home.text and "兴城市" in home.text and served["submission_id"] in home.text
    missing = home.text.split('id="missing"')[1].split("</section>")[0]
    assert "兴城市" in missing and "连山区" not in missing  # LS partly accepted: it has reported
    assert office.get("/units/LS").status_code == 200
    assert office.get(f"/submissions/{served['submission_id']}").status_code == 200
    name = ls_files(served["data_dir"])[0]
    assert office.get(f"/outbox/LS/{quote(name)}").status_code == 200
    assert office.post("/upload", data={}, files={"file": ("a.csv", b"x")}).status_code == 403


def test_unauthenticated_gets_the_login_page_or_401(served):
    anonymous = client_for(served["data_dir"])
    name = ls_files(served["data_dir"])[0]
    urls = ["/", f"/submissions/{served['submission_id']}", served["precheck_url"], "/units/LS",
            f"/outbox/LS/{quote(name)}", "/briefing/x", f"/templates/{quote('部办局报送模板.xlsx')}"]
    for url in urls:
        page = anonymous.get(url, follow_redirects=False)
        assert page.status_code == 303 and page.headers["location"] in ("/login", f"/login?next={url}"), url
        bare = anonymous.get(url, headers={"Accept": "application/json"}, follow_redirects=False)
        assert bare.status_code == 401, url
    assert anonymous.post("/upload", files={"file": ("a.csv", b"x")}).status_code == 401
    assert anonymous.post("/logout").status_code == 401
    forged = anonymous.get("/", headers={"Cookie": "diaodu_session=forged.token.value"}, follow_redirects=False)
    assert forged.status_code == 303


def test_login_goes_back_to_the_page_asked_for_and_only_on_this_site(served):
    receipt = f"/submissions/{served['submission_id']}"  # the link a notice carries
    ls = client_for(served["data_dir"])
    asked = ls.get(receipt, follow_redirects=False).headers["location"]
    form = ls.get(asked)
    back = ls.post("/login", data={"unit": "LS", "password": PASSWORDS["LS"], "csrf": csrf_of(form.text),
                                   "next": receipt}, follow_redirects=False)
    assert back.headers["location"] == receipt
    for elsewhere in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        other = client_for(served["data_dir"])
        form = other.get(f"/login?next={quote(elsewhere)}")
        gone = other.post("/login", data={"unit": "XC", "password": PASSWORDS["XC"], "csrf": csrf_of(form.text),
                                          "next": elsewhere}, follow_redirects=False)
        assert gone.headers["location"] == "/", elsewhere


def test_session_cookie_and_security_headers(served):
    client = client_for(served["data_dir"])
    response = login(client, "XC")
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" in cookie and "Max-Age=28800" in cookie
    assert PASSWORDS["XC"] not in cookie and "password" not in response.headers.get("location", "")
    page = client.get("/")
    assert page.headers["x-frame-options"] == "DENY" and "default-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"
    logout = client.post("/logout", data={"csrf": csrf_of(page.text)}, follow_redirects=False)
    assert logout.status_code == 303
    assert client.get("/", follow_redirects=False).headers["location"] == "/login"


def test_csrf_is_required_on_every_form(served):
    data_dir = served["data_dir"]
    xc, other = client_for(data_dir), client_for(data_dir)
    login(xc, "XC")
    login(other, "office")
    before = sorted((data_dir / "inbox" / "XC").iterdir())
    assert upload(xc, "兴城.xlsx", served["workbook"], csrf="").status_code == 403
    assert upload(xc, "兴城.xlsx", served["workbook"], csrf=csrf_of(other.get("/").text)).status_code == 403
    assert sorted((data_dir / "inbox" / "XC").iterdir()) == before  # nothing written
    assert xc.post("/logout", data={}).status_code == 403
    assert xc.get("/").status_code == 200  # still logged in
    fresh = client_for(data_dir)
    no_token = fresh.post("/login", data={"unit": "XC", "password": PASSWORDS["XC"]}, follow_redirects=False)
    assert no_token.status_code == 400 and "diaodu_session=" not in no_token.headers.get("set-cookie", "")


def test_upload_names_are_made_safe_and_land_in_own_inbox(tmp_path):
    data_dir = with_accounts(init_data_dir(tmp_path / "data").root)
    ls = client_for(data_dir)
    login(ls, "LS")
    content = workbook_with_error(tmp_path / "w.xlsx").read_bytes()
    for name in ["../../XC/evil.xlsx", "..\\..\\state\\x.xlsx", "/etc/passwd.csv", ".hidden.xlsx", "~$lock.xlsx"]:
        assert upload(ls, name, content).status_code == 303, name
    # control characters as a browser might send them raw (httpx would percent-encode them)
    boundary = "portal-test-boundary"
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n{csrf_of(ls.get("/").text)}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a\x01b\x7fc\u202e.XLSX"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n").encode() + content + f"\r\n--{boundary}--\r\n".encode()
    raw = ls.post("/upload", content=body, headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
                  follow_redirects=False)
    assert raw.status_code == 303
    landed = sorted(path.name for path in (data_dir / "inbox" / "LS").iterdir())
    assert landed == ["abc.xlsx", "evil.xlsx", "hidden.xlsx", "lock.xlsx", "passwd.csv", "x.xlsx"]
    assert not [path for path in (data_dir / "inbox").rglob("*") if path.is_file() and path.parent.name != "LS"]
    assert not list(data_dir.glob("state/x.xlsx")) and not list((data_dir / "inbox" / "LS").glob(".*"))
    assert upload(ls, "evil.xlsx", content).status_code == 303  # a second file of that name never replaces the first
    assert "evil(2).xlsx" in {path.name for path in (data_dir / "inbox" / "LS").iterdir()}
    refused = upload(ls, "run.exe", content)
    assert refused.status_code == 400 and "只接收 .xlsx 或 .csv" in refused.text


def test_oversized_upload_is_refused_and_not_written(tmp_path):
    data_dir = with_accounts(init_data_dir(tmp_path / "data").root)
    ls = client_for(data_dir, max_bytes=10_000)
    login(ls, "LS")
    refused = upload(ls, "big.csv", b"x" * 200_000)
    assert refused.status_code == 413 and "大小上限" in refused.text
    just_over = upload(ls, "big.csv", b"x" * 10_001)  # under the form's overhead allowance, over the limit
    assert just_over.status_code == 413
    assert not list((data_dir / "inbox" / "LS").iterdir())


def test_lockout_after_repeated_failures_then_open_again(tmp_path):
    data_dir = with_accounts(init_data_dir(tmp_path / "data").root)
    client = client_for(data_dir)
    for _ in range(MAX_FAILURES - 1):
        wrong = login(client, "LS", "wrong-password")
        assert wrong.status_code == 401 and "账号或密码不正确" in wrong.text
    assert login(client, "LS", "wrong-password").status_code == 429  # the fifth says it is locked now
    locked = login(client, "LS")  # the right password, but locked
    assert locked.status_code == 429 and "已暂时锁定" in locked.text and "15 分钟" in locked.text
    assert login(client, "XC").status_code == 303  # another unit is not affected
    now = [0.0]
    store = AccountStore(data_dir, clock=lambda: now[0] + time.time())
    assert store.login("LS", PASSWORDS["LS"]).locked_minutes > 0
    now[0] = LOCK_SECONDS + 1  # never for good: the lock runs out by itself
    assert store.login("LS", PASSWORDS["LS"]).session_token is not None


def test_disabled_account_loses_its_sessions_at_once(tmp_path):
    data_dir = with_accounts(init_data_dir(tmp_path / "data").root)
    ls = client_for(data_dir)
    login(ls, "LS")
    assert ls.get("/").status_code == 200
    AccountStore(data_dir).disable("LS")
    assert ls.get("/", follow_redirects=False).headers["location"] == "/login"
    assert login(ls, "LS").status_code == 401


def test_error_pages_show_no_traceback_or_path(tmp_path):
    data_dir = with_accounts(init_data_dir(tmp_path / "data").root)
    (data_dir / "warehouse.duckdb").write_bytes(b"not a database")
    ls = client_for(data_dir)
    login(ls, "LS")
    broken = ls.get("/")
    assert broken.status_code == 500 and "服务器出错" in broken.text
    assert "Traceback" not in broken.text and str(data_dir) not in broken.text and "duckdb" not in broken.text.lower()
    uploaded = upload(ls, "台账.csv", b"x,y\n1,2\n")  # the pre-check cannot read the warehouse: the file is in
    assert uploaded.status_code == 303 and (data_dir / "inbox" / "LS" / "台账.csv").is_file()
    (data_dir / "warehouse.duckdb").unlink()  # no warehouse yet: the upload's page says what it can
    assert "即时预检未能完成" in ls.get(uploaded.headers["location"]).text
    missing = ls.get("/no/such/page")
    assert missing.status_code == 404 and "没有这个页面" in missing.text


def test_account_command(tmp_path, monkeypatch, capsys):
    data_dir = init_data_dir(tmp_path / "data").root

    def diaodu(*args: str, password: str = "") -> tuple[int, str, str]:
        monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))  # the password, one line on stdin
        code = main(["account", *args, "--data-dir", str(data_dir)])
        said = capsys.readouterr()
        return code, said.out, said.err

    code, out, _ = diaodu("set", "LS", password="a-long-password")
    assert code == 0 and "连山区" in out
    assert diaodu("set", "--office", "office", password="another-password")[0] == 0
    _, listed, _ = diaodu("list")
    assert "LS" in listed and "office" in listed and "a-long-password" not in listed
    stored = (data_dir / "state" / "portal" / "accounts.json").read_text()
    assert "a-long-password" not in stored and "$argon2id$" in stored
    assert (data_dir / "state" / "portal" / "accounts.json").stat().st_mode & 0o077 == 0
    for args, password, said in [(("set", "NOPE"), "a-long-password", "没有单位代码“NOPE”"),
                                 (("set", "LS"), "short", "密码至少 8 个字符"),
                                 (("set",), "a-long-password", "二者取一"),
                                 (("disable", "NOPE"), "", "没有账号“NOPE”"),
                                 (("frob",), "", "没有操作“frob”（可用：set、list、disable）")]:
        code, _, err = diaodu(*args, password=password)
        assert code == 2 and said in err and "Traceback" not in err, args
        assert len(err.strip().splitlines()) == 1
    assert diaodu("disable", "LS")[0] == 0 and "已停用" in diaodu("list")[1]


def test_one_units_login_never_clears_anothers_failures(tmp_path, monkeypatch):
    data_dir = with_accounts(init_data_dir(tmp_path / "data").root)
    client = client_for(data_dir)
    for _ in range(MAX_FAILURES - 1):
        assert login(client, "LS", "wrong-password").status_code == 401
    assert login(client_for(data_dir), "XC").status_code == 303  # the attacker logs in as its own unit …
    assert login(client, "LS", "wrong-password").status_code == 429  # … and LS's count still stands
    # names without an account: their counts run out and only so many are kept
    monkeypatch.setattr(accounts, "MAX_UNKNOWN_NAMES", 3)
    now = [time.time()]
    store = AccountStore(data_dir, clock=lambda: now[0])
    for number in range(5):
        now[0] += 1
        assert store.login(f"nobody{number}", "guess-1234").locked_minutes == 0
    kept = json.loads((data_dir / "state" / "portal" / "lockouts.json").read_text())
    assert sorted(kept) == ["LS", "nobody2", "nobody3", "nobody4"]
    now[0] += LOCK_SECONDS + 1
    assert store.login("nobody5", "guess-1234").locked_minutes == 0
    assert sorted(json.loads((data_dir / "state" / "portal" / "lockouts.json").read_text())) == ["nobody5"]


def test_parallel_guesses_never_get_past_the_limit(tmp_path):
    data_dir = with_accounts(init_data_dir(tmp_path / "data").root)
    store = AccountStore(data_dir)
    with ThreadPoolExecutor(8) as pool:  # Argon2 runs outside the file lock: these check at once
        results = list(pool.map(lambda _: store.login("LS", "wrong-password"), range(8)))
    assert sum(result.locked_minutes == 0 for result in results) == MAX_FAILURES - 1
    assert store.login("LS", PASSWORDS["LS"]).locked_minutes > 0


def test_login_form_limits_and_unit_codes_in_any_case(tmp_path):
    data_dir = with_accounts(init_data_dir(tmp_path / "data").root)
    client = client_for(data_dir)
    token = csrf_of(client.get("/login").text)
    with_file = client.post("/login", data={"unit": "LS", "password": PASSWORDS["LS"], "csrf": token},
                            files={"file": ("a.csv", b"x")}, follow_redirects=False)
    assert with_file.status_code == 400 and "diaodu_session=" not in with_file.headers.get("set-cookie", "")
    huge = client.post("/login", data={"unit": "LS", "password": "x" * 10_000, "csrf": token}, follow_redirects=False)
    assert huge.status_code == 413
    assert login(client, " ls ", PASSWORDS["LS"]).status_code == 303
    with pytest.raises(AccountError, match="不是单位代码"):
        AccountStore(data_dir).set_password("ls", "a-long-password", office=True)


def test_long_file_names_never_stop_ingest(tmp_path):
    data_dir = with_accounts(init_data_dir(tmp_path / "data").root)
    ls = client_for(data_dir)
    login(ls, "LS")
    content = workbook_with_error(tmp_path / "w.xlsx").read_bytes()
    uploaded = upload(ls, "连山区" * 40 + ".xlsx", content)  # 360 bytes of name
    assert uploaded.status_code == 303
    (landed,) = (data_dir / "inbox" / "LS").iterdir()
    assert landed.name.endswith(".xlsx") and len(landed.name.encode()) <= 150
    # dropped straight into the folder, too long for the run's claim prefix; XC's file must still go in
    dropped = data_dir / "inbox" / "LS" / ("台账" * 40 + ".csv")  # 244 bytes
    dropped.write_bytes(b"x,y\n1,2\n")
    workbook_with_error(data_dir / "inbox" / "XC" / "兴城.xlsx", "2023-211481-48-01-000101",
                        "2023-211481-48-01-000102")
    assert run_pipeline(data_dir, TODAY)
    assert not [path for path in (data_dir / "inbox").rglob("*") if path.is_file()]
    assert sorted(unit for (unit,) in query(data_dir, "SELECT unit_code FROM core.submission")) == ["LS", "XC"]
    (quarantined,) = (data_dir / "quarantine").iterdir()
    assert quarantined.name.endswith(".csv") and quarantined.read_bytes() == b"x,y\n1,2\n"
    assert upload_page_waits(ls, uploaded.headers["location"]) is None  # already done: the receipt


def test_upload_page_stops_reloading_after_a_while(tmp_path):
    data_dir = with_accounts(init_data_dir(tmp_path / "data").root)
    ls = client_for(data_dir)
    login(ls, "LS")
    uploaded = upload(ls, "台账.csv", b"x,y\n1,2\n")
    assert upload_page_waits(ls, uploaded.headers["location"]) is True
    (saved,) = (data_dir / "state" / "portal" / "uploads" / "LS").glob("*.json")
    upload_state = json.loads(saved.read_text(encoding="utf-8"))
    upload_state["uploaded_at"] = "2023-01-29 08:00:00"
    saved.write_text(json.dumps(upload_state, ensure_ascii=False), encoding="utf-8")
    assert upload_page_waits(ls, uploaded.headers["location"]) is False
    assert "处理时间比平常长" in ls.get(uploaded.headers["location"]).text


def upload_page_waits(client: TestClient, url: str) -> bool | None:
    """Whether the upload's page reloads itself; None when it is done (it sends on to the receipt)."""
    page = client.get(url, follow_redirects=False)
    return None if page.status_code == 303 else 'http-equiv="refresh"' in page.text
