"""Login and logout. The session lives in a signed cookie, so any replica accepts it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from tandem.api.auth.roles import RoleName
from tandem.api.auth.session import (
    COOKIE_NAME,
    MAX_AGE,
    check_login_form_token,
    encode_session,
    login_form_token,
    new_session,
)
from tandem.api.auth.users import authenticate
from tandem.api.deps import db, get_settings, require
from tandem.api.ui.access import safe_next
from tandem.api.ui.render import render
from tandem.models import utcnow

router = APIRouter(include_in_schema=False)


def _secure(request: Request) -> bool:
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto", "") == "https"


def _login_page(request: Request, target: str, error: str = "", status: int = 200) -> Response:
    token = login_form_token(get_settings(request).api.secret_key)
    return render(request, "login.html", None, http_status=status, login_token=token, next=target, error=error)


@router.get("/login")
def login_form(request: Request, next: str | None = None) -> Response:
    return _login_page(request, safe_next(next))


def _check_credentials(request: Request, username: str, password: str) -> tuple[int, str] | None:
    with db(request) as session:
        user = authenticate(session, username, password)
        if user is None:
            return None
        user.last_login = utcnow()
        return user.id, user.password_hash


@router.post("/login")
async def login(request: Request, username: Annotated[str, Form(max_length=256)] = "",
                password: Annotated[str, Form(max_length=4096)] = "",
                login_token: Annotated[str, Form(max_length=500)] = "",
                next: Annotated[str, Form(max_length=2000)] = "/dags") -> Response:
    settings = get_settings(request)
    target = safe_next(next)
    if not check_login_form_token(settings.api.secret_key, login_token):
        return _login_page(request, target, "The login form expired; please try again.", 400)
    found = await run_in_threadpool(_check_credentials, request, username, password)
    if found is None:
        return _login_page(request, target, "Wrong username or password.", 401)
    response = RedirectResponse(target, status_code=303)
    cookie = encode_session(settings.api.secret_key, new_session(*found))
    response.set_cookie(COOKIE_NAME, cookie, max_age=MAX_AGE, httponly=True, samesite="lax",
                        secure=_secure(request), path="/")
    return response


@router.post("/logout", dependencies=[Depends(require(RoleName.VIEWER))])
def logout() -> Response:
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE_NAME, path="/")
    return response
