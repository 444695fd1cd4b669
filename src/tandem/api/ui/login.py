"""Login and logout. A session is a row in the metadata DB named by a signed cookie (any replica)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from tandem.api.auth.identity import Identity, client_address
from tandem.api.auth.roles import RoleName
from tandem.api.auth.session import (
    COOKIE_NAME,
    LOGIN_COOKIE_NAME,
    LOGIN_FORM_MAX_AGE,
    check_login_form_token,
    create_session,
    end_session,
    login_form_token,
    new_login_nonce,
)
from tandem.api.auth.throttle import LoginThrottled
from tandem.api.auth.users import log_in
from tandem.api.deps import db, get_settings, require
from tandem.api.ui.access import safe_next
from tandem.api.ui.render import render
from tandem.models import utcnow

router = APIRouter(include_in_schema=False)


def _secure(request: Request) -> bool:
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto", "") == "https"


def _login_page(request: Request, target: str, error: str = "", status: int = 200,
                headers: dict[str, str] | None = None) -> Response:
    # The form's token is bound to this browser by a nonce in a cookie of its own (login CSRF).
    nonce = request.cookies.get(LOGIN_COOKIE_NAME) or new_login_nonce()
    token = login_form_token(get_settings(request).api.secret_key, nonce)
    response = render(request, "login.html", None, http_status=status, login_token=token, next=target, error=error)
    response.set_cookie(LOGIN_COOKIE_NAME, nonce, max_age=LOGIN_FORM_MAX_AGE, httponly=True, samesite="strict",
                        secure=_secure(request), path="/login")
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


@router.get("/login")
def login_form(request: Request, next: str | None = None) -> Response:
    return _login_page(request, safe_next(next))


def _start_session(request: Request, username: str, password: str) -> str | None:
    settings = get_settings(request)
    client = client_address(request)
    with db(request) as session:
        user = log_in(session, username, password, client=client, settings=settings)
        if user is None:
            return None
        user.last_login = utcnow()
        return create_session(session, user, settings, client=client)


@router.post("/login")
async def login(request: Request, username: Annotated[str, Form(max_length=256)] = "",
                password: Annotated[str, Form(max_length=4096)] = "",
                login_token: Annotated[str, Form(max_length=500)] = "",
                next: Annotated[str, Form(max_length=2000)] = "/dags") -> Response:
    settings = get_settings(request)
    target = safe_next(next)
    if not check_login_form_token(settings.api.secret_key, login_token, request.cookies.get(LOGIN_COOKIE_NAME)):
        return _login_page(request, target, "The login form expired; please try again.", 400)
    try:
        cookie = await run_in_threadpool(_start_session, request, username, password)
    except LoginThrottled as e:
        return _login_page(request, target, f"Too many failed logins: try again in {e.retry_after:.0f} s.", 429,
                           headers={"Retry-After": str(int(e.retry_after) + 1)})
    if cookie is None:
        return _login_page(request, target, "Wrong username or password.", 401)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(COOKIE_NAME, cookie, max_age=int(settings.security.session_max_age_hours * 3600),
                        httponly=True, samesite="lax", secure=_secure(request), path="/")
    response.delete_cookie(LOGIN_COOKIE_NAME, path="/login")
    return response


@router.post("/logout")
def logout(request: Request, who: Annotated[Identity, Depends(require(RoleName.VIEWER))]) -> Response:
    """End the session in the DB, so the cookie stops working on every replica, not only in this browser."""
    cookie = request.cookies.get(COOKIE_NAME)
    if cookie and who.via == "session":
        with db(request) as session:
            end_session(session, get_settings(request), cookie)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE_NAME, path="/")
    return response
