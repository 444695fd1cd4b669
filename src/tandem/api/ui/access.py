"""Page access: a logged-out visitor is sent to the login page, a forbidden one gets a 403 page."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from tandem.api.auth.identity import Identity
from tandem.api.auth.roles import RoleName, role_allows
from tandem.api.deps import current_identity
from tandem.api.errors import ApiError


def page_for(role: RoleName) -> Callable[[Request], object]:
    async def check(request: Request) -> Identity:
        identity = await run_in_threadpool(current_identity, request)
        if identity is None:
            raise ApiError(401, "log in to see this page")
        if not role_allows(identity.role, role):
            raise ApiError(403, f"this page needs the {role.value} role or above; you are {identity.role}")
        return identity

    check.__name__ = f"page_for_{role.value}"
    return check


def safe_next(target: str | None) -> str:
    """Only a path on this site: an open redirect would let a phishing link borrow our login page."""
    if not target:
        return "/dags"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/dags"
    return target
