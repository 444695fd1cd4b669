"""Plain ASGI middleware: security headers on every response, and the audit log of writes."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# The UI ships its own scripts and styles; nothing inline, nothing from elsewhere.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'")
HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


class SecureHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    headers.setdefault(name, value)
                headers.setdefault("Content-Security-Policy", CSP)
                # Pages and API answers may carry secrets, tokens or CSRF tokens: no cache may keep them.
                if not scope.get("path", "").startswith("/static/"):
                    headers.setdefault("Cache-Control", "no-store")
            await send(message)

        await self.app(scope, receive, send_wrapper)


class AuditWrites:
    """Records every request that may change something (any method but GET/HEAD/OPTIONS) in the audit log.

    The UI changes things only through the REST API (and posts login/logout), so this one place
    sees every write of both; the identity is the one the route's auth check found.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        status: list[int] = []

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            await run_in_threadpool(self._record, scope, status[0] if status else 500)

    @staticmethod
    def _record(scope: Scope, status: int) -> None:
        from tandem.audit import record

        identity = scope.get("state", {}).get("identity")
        client = scope.get("client")
        path = scope.get("path", "")
        record(scope["app"].state.engine, username=identity.username if identity else "(anonymous)",
               via="ui" if identity is not None and identity.via == "session" or not path.startswith("/api/")
               else "api", client=client[0] if client else "", action=f"{scope['method']} {path}"[:100],
               target=path, status=status)
