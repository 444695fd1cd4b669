"""Running the app under uvicorn: in the foreground (``tandem api-server``) or in a thread
(``tandem standalone``)."""

from __future__ import annotations

import logging
import threading
from typing import Any

import uvicorn

from tandem.config import Settings

log = logging.getLogger(__name__)


def _options(settings: Settings, log_level: str | None) -> dict[str, Any]:
    return {"host": settings.api.host, "port": settings.api.port,
            "log_level": log_level or settings.logging.level.lower(),
            # Do not hang on idle keep-alive connections when told to stop.
            "timeout_graceful_shutdown": 5, "proxy_headers": True}


def build_server(settings: Settings, *, log_level: str | None = None) -> uvicorn.Server:
    """One process serving the app, registered as an ``api-server`` node while it runs."""
    from tandem.api.app import create_app

    return uvicorn.Server(uvicorn.Config(create_app(settings, register_node=True), **_options(settings, log_level)))


def serve(settings: Settings, *, log_level: str | None = None) -> None:
    """Serve until SIGINT/SIGTERM; with ``api.workers`` > 1, as that many worker processes."""
    if settings.api.workers == 1:
        build_server(settings, log_level=log_level).run()
        return
    # Each worker process builds its own app (and node row) from the same settings source.
    uvicorn.run("tandem.api.app:app_from_environment", factory=True, workers=settings.api.workers,
                **_options(settings, log_level))


def answer_first_request(server: uvicorn.Server) -> None:
    """Answer one ``GET /health`` in process, before any request comes in.

    The first request builds the app's routes and statements. ``standalone`` calls this
    before it forks its children: done after, those writes would land in pages the children
    share with it and copy each of them (about 8 MB of its memory).
    """
    import asyncio

    scope = {"type": "http", "method": "GET", "path": "/health", "raw_path": b"/health", "query_string": b"",
             "headers": [], "client": ("127.0.0.1", 0), "server": ("127.0.0.1", 0), "scheme": "http",
             "http_version": "1.1", "root_path": "", "asgi": {"version": "3.0"}}

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(_message: dict[str, Any]) -> None:
        pass

    app: Any = server.config.app  # the FastAPI app build_server gave it
    try:
        asyncio.run(app(scope, receive, send))
    except Exception:  # noqa: BLE001 - only a warm-up: the real requests report their own errors
        log.debug("the warm-up request failed", exc_info=True)


def start_in_thread(settings: Settings, *, log_level: str | None = None,
                    server: uvicorn.Server | None = None) -> tuple[uvicorn.Server, threading.Thread]:
    """Start serving in a daemon thread; stop with ``server.should_exit = True`` then ``thread.join()``.

    ``server`` is one built earlier by ``build_server``. uvicorn installs no signal handlers off
    the main thread, so the caller keeps its own.
    """
    server = server or build_server(settings, log_level=log_level)
    thread = threading.Thread(target=server.run, name="tandem-api-server", daemon=True)
    thread.start()
    return server, thread
