"""Template rendering with what every page needs: the user, the CSRF token, the nav."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Request
from starlette.responses import HTMLResponse
from starlette.templating import Jinja2Templates

from tandem import __version__
from tandem.api.auth.identity import Identity
from tandem.api.auth.roles import RoleName, role_allows
from tandem.api.ui.markdown import render_markdown

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
# Jinja2Templates turns autoescape on for .html; say it again so a rename cannot turn it off.
TEMPLATES.env.autoescape = True


def _ago(value: datetime | None) -> str:
    if value is None:
        return ""
    seconds = (datetime.now(UTC) - value).total_seconds()
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if abs(seconds) >= size:
            return f"{seconds / size:.0f}{unit} ago" if seconds > 0 else f"in {-seconds / size:.0f}{unit}"
    return f"{seconds:.0f}s ago" if seconds >= 0 else f"in {-seconds:.0f}s"


def _dt(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else ""


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, sec = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m{sec:02d}s" if hours else f"{minutes}m{sec:02d}s"


def _pretty_json(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, default=str)


TEMPLATES.env.filters.update(ago=_ago, dt=_dt, duration=_duration, q=lambda v: quote(str(v), safe=""),
                             pretty_json=_pretty_json,
                             as_text=lambda v: v if isinstance(v, str) else _pretty_json(v),
                             markdown=render_markdown)


def render(request: Request, template: str, who: Identity | None, *, http_status: int = 200,
           **context: Any) -> HTMLResponse:
    base = {
        "request": request, "who": who, "version": __version__,
        "csrf": who.csrf if who is not None and who.csrf else "",
        "can_edit": who is not None and role_allows(who.role, RoleName.USER),
        "is_op": who is not None and role_allows(who.role, RoleName.OP),
        "is_admin": who is not None and role_allows(who.role, RoleName.ADMIN),
        # Long values (conf, variables, XComs) are cut to this many characters unless ?show_all=1.
        "clip_limit": request.app.state.settings.security.page_value_chars,
        "show_all": request.query_params.get("show_all") == "1",
    }
    return TEMPLATES.TemplateResponse(request, template, {**base, **context}, status_code=http_status)


def render_error(request: Request, status: int, detail: str) -> HTMLResponse:
    who: Identity | None = getattr(request.state, "identity", None)
    return render(request, "error.html", who, http_status=status, status_code=status, detail=detail)
