"""The unit portal: a small server-rendered Starlette app (Jinja2 templates, plain HTML forms, no
script), so it works on a phone and in an older office browser.

Access is decided in one place per kind of thing: `_viewer` (who is logged in, else the login page or
401), `_unit_for` (which unit's things a request may see: its own, or any for the office) and
`reading.outbox_file` (a download is a name listed in that unit's folder, never a path). An id or
name that is not the viewer's answers exactly as one that does not exist: 404."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from urllib.parse import quote

from itsdangerous import BadSignature, TimestampSigner
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from diaodu.dispatch.briefing import briefing_dir
from diaodu.ingest.precheck import precheck
from diaodu.portal import reading
from diaodu.portal.accounts import MAX_FAILURES, SESSION_SECONDS, AccountStore, Session, portal_state
from diaodu.portal.uploads import (
    Upload,
    UploadRefused,
    load_upload,
    new_upload_id,
    recent_uploads,
    safe_file_name,
    save_upload,
    write_into_inbox,
)
from diaodu.returns.receipts import OUTCOME_LABELS
from diaodu.schemas.reference import local_now, local_today, units
from diaodu.schemas.templates import TEMPLATES, write_templates

LOG = logging.getLogger("diaodu.portal")
SESSION_COOKIE = "diaodu_session"
LOGIN_CSRF_COOKIE = "diaodu_login"
MULTIPART_OVERHEAD = 64 * 1024  # the form's boundaries and other fields around the file
LOGIN_FORM_BYTES = 4096  # name, password, two tokens and the page to go back to
RELOAD_SECONDS = 120  # how long an upload's page reloads itself while the receipt is awaited
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": "default-src 'self'; img-src 'self'; style-src 'self'; form-action 'self'; "
                               "frame-ancestors 'none'",
}


class Portal:
    def __init__(self, data_dir: Path, max_file_bytes: int, report_day: Callable[[], date],
                 on_upload: Callable[[str, str], None] | None = None) -> None:
        """`report_day`: the report date uploads are for today (a sample's own date); `on_upload`
        (unit code, file name) is told of each file written into the inbox."""
        self.data_dir = data_dir.resolve()
        self.max_file_bytes = max_file_bytes
        self.report_day = report_day
        self.on_upload = on_upload
        self.store = AccountStore(self.data_dir)
        self.signer = TimestampSigner(self.store.secret(), salt="diaodu-portal")
        self.templates = Environment(loader=PackageLoader("diaodu.portal", "templates"),
                                     autoescape=select_autoescape(["html"]))
        self.templates.globals.update(outcome_labels=OUTCOME_LABELS, units=units(), quote=quote)

    # -- pages ---------------------------------------------------------------------------------
    def render(self, request: Request, name: str, status: int = 200, **context) -> HTMLResponse:
        html = self.templates.get_template(name).render(request=request, **context)
        return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})

    async def login_page(self, request: Request) -> Response:
        after = _local_path(request.query_params.get("next", "/"))
        if self._session(request) is not None:
            return RedirectResponse(after, status_code=303)
        return self._login_form(request, "", after=after)

    def _login_form(self, request: Request, message: str, status: int = 200, after: str = "/") -> Response:
        token = self.signer.sign(new_upload_id()).decode()
        response = self.render(request, "login.html", status, message=message, csrf=token, after=after)
        self._cookie(request, response, LOGIN_CSRF_COOKIE, token, 3600)
        return response

    async def login(self, request: Request) -> Response:
        length = request.headers.get("content-length")
        if length is None or not length.isdigit():
            raise HTTPException(411)
        if int(length) > LOGIN_FORM_BYTES:
            raise HTTPException(413)
        form = await request.form(max_files=0, max_fields=8)
        sent, after = str(form.get("csrf", "")), _local_path(str(form.get("next", "/")))
        if not sent or sent != request.cookies.get(LOGIN_CSRF_COOKIE) or not self._signed(sent, 3600):
            return self._login_form(request, "页面已过期，请重新输入后登录。", 400, after)
        # Argon2 takes its time and memory on purpose: off the event loop, like the pre-check
        result = await run_in_threadpool(self.store.login, str(form.get("unit", "")), str(form.get("password", "")))
        if result.locked_minutes:
            return self._login_form(
                request, f"该账号连续 {MAX_FAILURES} 次密码错误，已暂时锁定，请约 {result.locked_minutes} 分钟后再试；"
                         "如忘记密码，请联系市数据办公室重设。", 429, after)
        if result.session_token is None:
            return self._login_form(request, "账号或密码不正确。", 401, after)
        response = RedirectResponse(after, status_code=303)
        self._cookie(request, response, SESSION_COOKIE, self.signer.sign(result.session_token).decode(),
                     SESSION_SECONDS)
        response.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
        return response

    async def logout(self, request: Request) -> Response:
        session = await self._checked(request)
        self.store.logout(session)
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    async def home(self, request: Request) -> Response:
        session = self._viewer(request)
        if session.account.office:
            return self._office_home(request, session)
        return self._unit_page(request, session, session.account.name)

    async def unit_view(self, request: Request) -> Response:
        session = self._viewer(request)
        unit = self._unit_for(session, request.path_params["unit"])
        return self._unit_page(request, session, unit)

    def _unit_page(self, request: Request, session: Session, unit_code: str) -> Response:
        with reading.published(self.data_dir) as con:
            records = reading.submissions(con, unit_code)
            pending = [upload for upload in recent_uploads(self.data_dir, unit_code)
                       if reading.submission_of_claim(con, unit_code, upload.claim_key) is None]
        files = reading.outbox_files(self.data_dir / "outbox" / unit_code)
        notices = [item for item in files if "调度核实通知" in item.name]
        return self.render(request, "unit.html", session=session, unit_code=unit_code, unit=units()[unit_code],
                           records=records, pending=pending, files=files, notices=notices, templates=list(TEMPLATES),
                           max_mb=self.max_file_bytes // 2**20, report_day=self.report_day())

    def _office_home(self, request: Request, session: Session) -> Response:
        day = self.report_day()
        with reading.published(self.data_dir) as con:
            missing = reading.not_reported(con, day)
            latest = reading.latest_by_unit(con)
        briefing = briefing_dir(self.data_dir / "outbox", day)
        return self.render(request, "office.html", session=session, day=day, missing=missing, latest=latest,
                           briefing=reading.outbox_files(briefing), published=con is not None)

    async def upload(self, request: Request) -> Response:
        session = await self._checked(request, allow_body=False)
        if session.account.office:
            raise HTTPException(403)
        unit_code = session.account.name
        length = request.headers.get("content-length")
        if length is None or not length.isdigit():
            raise HTTPException(411)
        if int(length) > self.max_file_bytes + MULTIPART_OVERHEAD:
            return self._refused(request, session, f"文件超过大小上限 {self.max_file_bytes // 2**20} MB。", 413)
        form = await request.form(max_files=1, max_fields=4)
        if form.get("csrf") != session.csrf:
            raise HTTPException(403)
        upload = form.get("file")
        if upload is None or isinstance(upload, str) or not upload.filename:
            return self._refused(request, session, "请先选择要上传的文件。", 400)
        try:
            file_name = safe_file_name(upload.filename)
        except UploadRefused as refused:
            return self._refused(request, session, str(refused), 400)
        content = await upload.read()
        if len(content) > self.max_file_bytes:
            return self._refused(request, session, f"文件超过大小上限 {self.max_file_bytes // 2**20} MB。", 413)
        if not content:
            return self._refused(request, session, "文件是空的。", 400)
        path, claim_key = write_into_inbox(self.data_dir / "inbox", unit_code, file_name, content)
        if self.on_upload is not None:
            self.on_upload(unit_code, path.name)
        started = time.perf_counter()
        try:
            checked = await run_in_threadpool(self._precheck, unit_code, path.name, content)
        except Exception:  # a failure of ours (an unreadable warehouse …): the file is in, the receipt will come
            LOG.exception("pre-check of %s/%s failed", unit_code, path.name)
            checked: dict = {"failed": True}
        checked["seconds"] = round(time.perf_counter() - started, 2)
        upload_id = new_upload_id()
        save_upload(self.data_dir, Upload(upload_id, unit_code, path.name, claim_key,
                                          local_now().isoformat(sep=" "), checked))
        return RedirectResponse(f"/uploads/{upload_id}", status_code=303)

    def _precheck(self, unit_code: str, file_name: str, content: bytes) -> dict:
        """The pre-check on a private copy: the inbox file may be claimed by a run at any moment."""
        scratch = portal_state(self.data_dir) / "scratch"
        scratch.mkdir(parents=True, exist_ok=True)
        copy = scratch / f"{new_upload_id()}{Path(file_name).suffix}"
        copy.write_bytes(content)
        try:
            with reading.published(self.data_dir) as con:
                checked = precheck(copy, file_name, unit_code, con, self.data_dir, self.max_file_bytes,
                                   local_today())
        finally:
            copy.unlink(missing_ok=True)
        findings = checked.findings.select("severity", "sheet", "row_number", "cell", "column_name", "value",
                                           "message")
        return {"outcome": checked.outcome, "report_date": str(checked.report_date or ""),
                "rows_total": checked.rows_total, "rows_accepted": checked.rows_accepted,
                "rows_rejected": checked.rows_rejected,
                "findings": [{key: (None if value is None else str(value)) for key, value in row.items()}
                             for row in findings.iter_rows(named=True)]}

    def _refused(self, request: Request, session: Session, message: str, status: int) -> Response:
        return self.render(request, "refused.html", status, session=session, message=message)

    async def upload_page(self, request: Request) -> Response:
        session = self._viewer(request)
        if session.account.office:
            raise HTTPException(404)
        upload = load_upload(self.data_dir, session.account.name, request.path_params["upload_id"])
        if upload is None:
            raise HTTPException(404)
        with reading.published(self.data_dir) as con:
            submission_id = reading.submission_of_claim(con, upload.unit_code, upload.claim_key)
        if submission_id is not None:
            return RedirectResponse(f"/submissions/{submission_id}", status_code=303)
        waited = (local_now() - datetime.fromisoformat(upload.uploaded_at)).total_seconds()
        return self.render(request, "upload.html", session=session, upload=upload, reload=waited < RELOAD_SECONDS)

    async def submission_page(self, request: Request) -> Response:
        session = self._viewer(request)
        with reading.published(self.data_dir) as con:
            record = reading.submission(con, None if session.account.office else session.account.name,
                                        request.path_params["submission_id"])
        if record is None:
            raise HTTPException(404)
        returns = reading.returns_of(self.data_dir / "outbox", record)
        receipt = returns["receipt"].read_text(encoding="utf-8-sig") if "receipt" in returns else ""
        return self.render(request, "submission.html", session=session, record=record, receipt=receipt,
                           returns={kind: path.name for kind, path in returns.items()})

    async def outbox_download(self, request: Request) -> Response:
        session = self._viewer(request)
        unit_code = self._unit_for(session, request.path_params["unit"])
        path = reading.outbox_file(self.data_dir / "outbox" / unit_code, request.path_params["name"])
        if path is None:
            raise HTTPException(404)
        return _download(path)

    async def briefing_download(self, request: Request) -> Response:
        session = self._viewer(request)
        if not session.account.office:
            raise HTTPException(404)
        path = reading.outbox_file(briefing_dir(self.data_dir / "outbox", self.report_day()),
                                   request.path_params["name"])
        if path is None:
            raise HTTPException(404)
        return _download(path)

    async def template_download(self, request: Request) -> Response:
        self._viewer(request)
        name = request.path_params["name"]
        if name not in TEMPLATES:
            raise HTTPException(404)
        folder = portal_state(self.data_dir) / "templates"
        if not (folder / name).is_file():
            write_templates(folder)
        return _download(folder / name)

    # -- who may see what ----------------------------------------------------------------------
    def _session(self, request: Request) -> Session | None:
        token = self._signed(request.cookies.get(SESSION_COOKIE, ""), SESSION_SECONDS)
        return self.store.session(token) if token else None

    def _viewer(self, request: Request) -> Session:
        session = self._session(request)
        if session is None:
            raise HTTPException(401)
        return session

    async def _checked(self, request: Request, allow_body: bool = True) -> Session:
        """The viewer of a state-changing request, whose form carries the session's CSRF token."""
        session = self._viewer(request)
        if allow_body:
            form = await request.form()
            if form.get("csrf") != session.csrf:
                raise HTTPException(403)
        return session

    @staticmethod
    def _unit_for(session: Session, unit_code: str) -> str:
        """The unit whose things the request asks for, when the viewer may see them."""
        if unit_code not in units() or not (session.account.office or session.account.name == unit_code):
            raise HTTPException(404)
        return unit_code

    def _signed(self, value: str, max_age: int) -> str | None:
        try:
            return self.signer.unsign(value, max_age=max_age).decode() if value else None
        except BadSignature:
            return None

    @staticmethod
    def _cookie(request: Request, response: Response, name: str, value: str, max_age: int) -> None:
        response.set_cookie(name, value, max_age=max_age, path="/", httponly=True, samesite="lax",
                            secure=request.url.scheme == "https")

    # -- errors --------------------------------------------------------------------------------
    async def http_error(self, request: Request, error: Exception) -> Response:
        status = error.status_code if isinstance(error, HTTPException) else 500
        if status == 401:
            if "text/html" in request.headers.get("accept", "") and request.method == "GET":
                path = request.url.path
                return RedirectResponse("/login" if path == "/" else f"/login?next={quote(path)}", status_code=303)
            return PlainTextResponse("未登录", status_code=401)
        messages = {403: "无权进行此操作（页面可能已过期，请刷新后重试）。", 404: "没有这个页面或文件。",
                    405: "不支持此操作。", 411: "请求缺少长度。", 413: "请求过大。",
                    500: "服务器出错，请稍后再试；如仍出错，请联系市数据办公室。"}
        message = messages.get(status, "请求无法处理。")
        if "text/html" not in request.headers.get("accept", ""):
            return PlainTextResponse(message, status_code=status)
        return self.render(request, "error.html", status, message=message, session=self._session(request))


def _local_path(path: str) -> str:
    """Where to go after logging in: a path on this site only (never `//host` or a scheme)."""
    return path if path.startswith("/") and not path.startswith("//") and "\\" not in path else "/"


def _download(path: Path) -> Response:
    # RFC 6266 / 5987: the Chinese file name, percent-encoded as UTF-8
    return FileResponse(path, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(path.name)}", "Cache-Control": "no-store"})


class _Headers:
    """Adds the security headers to every response."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        async def sending(message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + [
                    (key.lower().encode(), value.encode()) for key, value in SECURITY_HEADERS.items()]
            await send(message)
        await self.app(scope, receive, sending)


def create_app(data_dir: Path, max_file_bytes: int, report_day: Callable[[], date],
               on_upload: Callable[[str, str], None] | None = None) -> Starlette:
    portal = Portal(data_dir, max_file_bytes, report_day, on_upload)
    static = Path(__file__).resolve().parent / "static"
    app = Starlette(
        routes=[
            Route("/", portal.home),
            Route("/login", portal.login_page, methods=["GET"]),
            Route("/login", portal.login, methods=["POST"]),
            Route("/logout", portal.logout, methods=["POST"]),
            Route("/upload", portal.upload, methods=["POST"]),
            Route("/uploads/{upload_id}", portal.upload_page),
            Route("/submissions/{submission_id}", portal.submission_page),
            Route("/units/{unit}", portal.unit_view),
            Route("/outbox/{unit}/{name}", portal.outbox_download),
            Route("/briefing/{name}", portal.briefing_download),
            Route("/templates/{name}", portal.template_download),
            Mount("/static", StaticFiles(directory=static), name="static"),
        ],
        exception_handlers={HTTPException: portal.http_error, Exception: portal.http_error},
    )
    app.add_middleware(_Headers)
    return app
