"""Errors as Airflow's problem JSON: ``{type, title, status, detail}`` (RFC 7807).

Whatever goes wrong, a client gets a status and a sentence: bad input is 400, a missing object
404, a duplicate 409, a state change the state table forbids 409. Only a bug is a 500.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

import sqlalchemy as sa
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, RedirectResponse, Response

from tandem.exceptions import ParamValidationError
from tandem.orchestration import InvalidTransition
from tandem.scheduler.dagruns import DagNotFound, RunExists

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
TITLES = {400: "BadRequest", 401: "Unauthenticated", 403: "PermissionDenied", 404: "NotFound",
          405: "MethodNotAllowed", 406: "NotAcceptable", 409: "AlreadyExists", 413: "RequestTooLarge",
          415: "UnsupportedMediaType", 422: "Unprocessable", 500: "Unknown", 503: "ServiceUnavailable"}


class ApiError(Exception):
    """Raised by routes and dependencies; becomes a problem JSON (or a login redirect in the UI)."""

    def __init__(self, status: int, detail: str, *, headers: dict[str, str] | None = None,
                 title: str | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.headers = headers
        self.title = title


def not_found(what: str) -> ApiError:
    return ApiError(404, f"{what} not found")


def problem(status: int, detail: Any, *, title: str | None = None, headers: dict[str, str] | None = None) -> JSONResponse:
    title = title or TITLES.get(status) or HTTPStatus(status).phrase
    return JSONResponse(
        {"type": f"about:blank#{title}", "title": title, "status": status, "detail": detail},
        status_code=status, media_type=PROBLEM_JSON, headers=headers,
    )


def _is_ui(request: Request) -> bool:
    path = request.url.path
    return not (path.startswith("/api/") or path in ("/health", "/metrics"))


def _respond(request: Request, status: int, detail: str, headers: dict[str, str] | None = None,
             title: str | None = None) -> Response:
    if _is_ui(request) and request.method == "GET":
        if status == 401:
            from urllib.parse import quote

            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
        from tandem.api.ui.render import render_error

        return render_error(request, status, detail)
    return problem(status, detail, title=title, headers=headers)


def _validation_detail(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "request"
        parts.append(f"{where}: {err.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


def install_error_handlers(app: FastAPI) -> None:
    async def api_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return _respond(request, exc.status, exc.detail, exc.headers, exc.title)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        return _respond(request, exc.status_code, str(exc.detail), dict(exc.headers or {}) or None)

    async def validation_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        return _respond(request, 400, _validation_detail(exc))

    async def bad_value(request: Request, exc: Exception) -> Response:
        status = 409 if isinstance(exc, (RunExists, InvalidTransition)) else 400
        return _respond(request, status, str(exc).strip("'\""))

    async def missing(request: Request, exc: Exception) -> Response:
        return _respond(request, 404, str(exc).strip("'\""))

    async def integrity(request: Request, exc: Exception) -> Response:
        log.info("integrity error on %s %s: %s", request.method, request.url.path, exc)
        return _respond(request, 409, "the request conflicts with an existing object (duplicate key or reference)")

    async def data_error(request: Request, exc: Exception) -> Response:
        # Values the DB refuses: too long for the column, a NUL byte in text, out of range.
        log.info("data error on %s %s: %s", request.method, request.url.path, exc)
        return _respond(request, 400, "a value is not acceptable to the database (too long, out of range or "
                                      "containing a NUL character)")

    async def unavailable(request: Request, exc: Exception) -> Response:
        log.warning("database unavailable on %s %s: %s", request.method, request.url.path, exc)
        return _respond(request, 503, "the metadata database is unreachable")

    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
        return _respond(request, 500, "internal error; the server log has the details")

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    bad_values: tuple[type[Exception], ...] = (ParamValidationError, RunExists, InvalidTransition, ValueError)
    for cls in bad_values:
        app.add_exception_handler(cls, bad_value)
    for missing_cls in (DagNotFound, LookupError):
        app.add_exception_handler(missing_cls, missing)
    app.add_exception_handler(sa.exc.IntegrityError, integrity)
    app.add_exception_handler(sa.exc.DataError, data_error)
    app.add_exception_handler(sa.exc.OperationalError, unavailable)
    app.add_exception_handler(OverflowError, data_error)
    app.add_exception_handler(Exception, unexpected)
