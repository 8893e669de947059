"""The trace page: ``/ui/`` (the list), ``/ui/messages/{id}`` (one message), its JSON download, and a small JSON API
(``/ui/api/messages``). Server-rendered (Jinja2), no script. Every route asks ``Access`` first: no user, 401 and
the login form (or a JSON error), never a trace."""

from __future__ import annotations

import datetime as dt
import json
import re
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from ..trace.privacy import readable
from ..trace.store import TraceFilter, TraceStore
from .auth import COOKIE, Access, User

PAGE_SIZE = 50
LOCAL_TIME = ZoneInfo("Europe/Amsterdam")
_TEMPLATES = Environment(loader=FileSystemLoader(Path(__file__).with_name("templates")),
                         autoescape=select_autoescape(["html"]))
_TEMPLATES.filters["when"] = lambda value: value.astimezone(LOCAL_TIME).strftime("%Y-%m-%d %H:%M:%S")
_TEMPLATES.filters["path"] = lambda url: urllib.parse.urlsplit(url).path
_TEMPLATES.filters["readable"] = lambda kept: readable((kept or {}).get("text"), (kept or {}).get("type"))
_TEMPLATES.filters["urlencode"] = lambda value: urllib.parse.quote(str(value), safe="")


def pretty_xml(text: str | None) -> str:
    """XML (or JSON) indented for reading; a body that is cut as it is."""
    return readable(text)


def _local(value: str) -> dt.datetime | None:
    """A ``datetime-local`` field (Amsterdam time) as an aware datetime; None when empty or malformed."""
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=LOCAL_TIME)


def ui_router(store: Callable[[], TraceStore | None], access: Access, *, prefix: str = "/ui") -> APIRouter:
    """The page's routes under ``prefix``. ``store`` gives the trace store once the app has started."""
    router = APIRouter(prefix=prefix)

    def render(name: str, request: Request, user: User | None, status: int = 200, **values: Any) -> HTMLResponse:
        html = _TEMPLATES.get_template(name).render(base=prefix, user=user, login_required=access.login_required,
                                                     **values)
        return HTMLResponse(html, status_code=status, headers={"cache-control": "no-store"})

    def refused(request: Request, *, json_api: bool = False) -> Response:
        if json_api:
            return JSONResponse({"error": "login required"}, status_code=401, headers={"www-authenticate": "Cookie"})
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return render("login.html", request, None, status=401, next=target, error=None,
                      has_users=access.has_users, proxy=bool(access.settings.proxy_user_header))

    def traces() -> TraceStore:
        found = store()
        if found is None:
            raise RuntimeError("the trace store is not open")
        return found

    @router.get("/login")
    async def login_form(request: Request) -> Response:
        return refused(request) if access.user(request) is None else RedirectResponse(prefix + "/", 303)

    @router.post("/login")
    async def login(request: Request) -> Response:
        form = await request.form()
        name, password = str(form.get("username", "")), str(form.get("password", ""))
        target = str(form.get("next") or prefix + "/")
        if not target.startswith(prefix + "/"):  # only back into the page: no open redirect
            target = prefix + "/"
        cookie = access.login(name, password)
        if cookie is None:
            return render("login.html", request, None, status=401, next=target, error="Onbekende gebruiker of "
                          "verkeerd wachtwoord.", has_users=access.has_users,
                          proxy=bool(access.settings.proxy_user_header))
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(COOKIE, cookie, max_age=int(access.settings.session_hours * 3600), httponly=True,
                            samesite="strict", path=prefix, secure=request.url.scheme == "https")
        return response

    @router.post("/logout")
    async def logout(request: Request) -> Response:
        response = RedirectResponse(prefix + "/login", status_code=303)
        response.delete_cookie(COOKIE, path=prefix)
        return response

    def _filter(request: Request) -> tuple[TraceFilter, dict[str, str], int]:
        q = request.query_params
        form = {key: q.get(key, "") for key in ("since", "until", "operation", "zender", "outcome", "q", "zaak")}
        where = TraceFilter(
            since=_local(form["since"]) if form["since"] else None,
            until=_local(form["until"]) if form["until"] else None,
            operation=form["operation"].strip() or None, zender=form["zender"].strip() or None,
            outcome=form["outcome"].strip() or None, text=form["q"].strip() or None,
            zaak=form["zaak"].strip() or None,
        )
        try:
            page = max(1, int(q.get("page", "1")))
        except ValueError:
            page = 1
        return where, form, page

    @router.get("/")
    async def listing(request: Request) -> Response:
        user = access.user(request)
        if user is None:
            return refused(request)
        where, form, page = _filter(request)
        rows, total = await traces().search(where, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
        _, size = await traces().size()

        def page_url(number: int) -> str:
            params = {k: v for k, v in form.items() if v}
            params["page"] = str(number)
            return f"{prefix}/?{urllib.parse.urlencode(params)}"

        return render("list.html", request, user, rows=rows, total=total, form=form, page=page,
                      store_size=f"{size / 1024 / 1024:.1f} MB",
                      prev_url=page_url(page - 1) if page > 1 else None,
                      next_url=page_url(page + 1) if page * PAGE_SIZE < total else None)

    @router.get("/api/messages")
    async def api_list(request: Request) -> Response:
        if access.user(request) is None:
            return refused(request, json_api=True)
        where, _, page = _filter(request)
        rows, total = await traces().search(where, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
        return JSONResponse({"total": total, "page": page, "messages": [
            {**row.__dict__, "received_at": row.received_at.isoformat(), "identificaties": list(row.identificaties)}
            for row in rows]})

    @router.get("/messages/{trace_id}.json")
    async def download(trace_id: int, request: Request) -> Response:
        if access.user(request) is None:
            return refused(request, json_api=True)
        found = await traces().get(trace_id)
        if found is None:
            return JSONResponse({"error": "not found"}, status_code=404)
        safe = re.sub(r"[^A-Za-z0-9._-]", "_", str(found.get("referentienummer") or trace_id))[:100]
        name = f"trace-{safe}.json"  # a referentienummer is the sender's text: nothing of it may break the header
        return Response(json.dumps(found, ensure_ascii=False, indent=2), media_type="application/json",
                        headers={"content-disposition": f'attachment; filename="{name}"'})

    @router.get("/messages/{trace_id}")
    async def message(trace_id: int, request: Request) -> Response:
        user = access.user(request)
        if user is None:
            return refused(request)
        found = await traces().get(trace_id)
        if found is None:
            return render("base.html", request, user, status=404)
        calls = found.get("calls") or []
        span = max([1.0, found.get("duration_ms") or 0.0,
                    *((c.get("at_ms") or 0) + (c.get("ms") or 0) for c in calls)])
        answer = found.get("answer") or {}
        return render("message.html", request, user, t=found, span=span,
                      request_xml=pretty_xml((found.get("request") or {}).get("text")),
                      answer_xml=pretty_xml(answer.get("text")))

    @router.post("/messages/{trace_id}/delete")
    async def delete(trace_id: int, request: Request) -> Response:
        user = access.user(request)
        if user is None:
            return refused(request)
        if not user.admin:
            return HTMLResponse("Alleen een beheerder (admin) mag traces verwijderen.", status_code=403)
        await traces().delete(trace_id)
        return RedirectResponse(prefix + "/", status_code=303)

    return router
