"""A worker's log server: serves the logs of the tries this machine ran, to other nodes.

``GET /log/<dag_id>/<run_id>/<task_id>/<map_index>/<try_number>?offset=N`` with
``Authorization: Bearer <token>`` (``tandem.logs.token``) answers the log's bytes from
``offset`` on, and the offset to resume a tail from in ``X-Tandem-Next-Offset``. Each path
part is percent-encoded. Only files under the log folder are ever read.

A thread of the worker's main process runs it (stdlib ``http.server``): it is a few requests
a minute next to a Celery worker, which needs no web framework.
"""

from __future__ import annotations

import errno
import logging
import socket
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote, unquote, urlsplit

from tandem.config import Settings
from tandem.logs.reader import read_local_bytes
from tandem.logs.token import verify_log_request
from tandem.orchestration import TiKey

log = logging.getLogger(__name__)

NEXT_OFFSET_HEADER = "X-Tandem-Next-Offset"
#: Bytes answered per request; a client tails a bigger log with ``offset``.
CHUNK = 1 << 20


def log_url_path(key: TiKey, try_number: int) -> str:
    parts = [key.dag_id, key.run_id, key.task_id, str(key.map_index), str(try_number)]
    return "/log/" + "/".join(quote(p, safe="") for p in parts)


def parse_log_url_path(path: str) -> tuple[TiKey, int]:
    """The try a request path names; ValueError when it names none."""
    parts = path.split("/")
    if len(parts) != 7 or parts[0] or parts[1] != "log":
        raise ValueError("expected /log/<dag_id>/<run_id>/<task_id>/<map_index>/<try_number>")
    dag_id, run_id, task_id, map_index, try_number = (unquote(p) for p in parts[2:])
    return TiKey(dag_id, run_id, task_id, int(map_index)), int(try_number)


class LogServer:
    """Serves ``settings.log_folder`` on ``logging.worker_log_server_host``:``worker_log_server_port``.

    Port 0, or a configured port another process holds (a second worker on the host), picks a
    free port; ``port`` and ``url`` tell which, and the worker registers them in its node
    details so readers can find it.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        cfg = self.settings.logging
        if not self.settings.api.secret_key:
            log.warning("api.secret_key is empty: the log server refuses every request")
        handler = _handler_class(self.settings)
        try:
            self._server = ThreadingHTTPServer((cfg.worker_log_server_host, cfg.worker_log_server_port), handler)
        except OSError as e:
            if e.errno != errno.EADDRINUSE:
                raise
            self._server = ThreadingHTTPServer((cfg.worker_log_server_host, 0), handler)
            log.info("log server port %s is taken (another worker on this host?): serving on port %s",
                     cfg.worker_log_server_port, self.port)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.5},
            name="tandem-log-server",
            daemon=True,
        )
        self._thread.start()

    @property
    def port(self) -> int:
        assert self._server is not None, "LogServer.start() first"
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        address = self.settings.logging.worker_log_server_address or socket.gethostname()
        if ":" in address:  # IPv6 literal
            address = f"[{address}]"
        return f"http://{address}:{self.port}"

    def close_inherited(self) -> None:
        """In a forked child: drop the listening socket so that only the worker holds the port."""
        if self._server is not None:
            self._server.socket.close()
            self._server = None

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


def _handler_class(settings: Settings) -> type[BaseHTTPRequestHandler]:
    class LogRequestHandler(_LogRequestHandler):
        pass

    LogRequestHandler.settings = settings
    return LogRequestHandler


class _LogRequestHandler(BaseHTTPRequestHandler):
    settings: Settings
    server_version = "TandemLogServer"

    def do_GET(self) -> None:  # http.server's naming
        url = urlsplit(self.path)
        if url.path == "/health":
            self._answer(HTTPStatus.OK, b"ok")
            return
        try:
            key, try_number = parse_log_url_path(url.path)
            offset = int(parse_qs(url.query).get("offset", ["0"])[0])
            if offset < 0:
                raise ValueError("negative offset")
        except ValueError as e:
            self._answer(HTTPStatus.BAD_REQUEST, str(e).encode())
            return
        auth = self.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ").strip() if auth.startswith("Bearer ") else ""
        if not verify_log_request(self.settings.api.secret_key, token, key, try_number):
            self._answer(HTTPStatus.FORBIDDEN, b"missing, invalid or expired token")
            return
        try:
            data = read_local_bytes(self.settings, key, try_number, offset, CHUNK)
        except ValueError:  # ids that would leave the log folder
            self._answer(HTTPStatus.BAD_REQUEST, b"invalid log path")
            return
        if data is None:
            self._answer(HTTPStatus.NOT_FOUND, b"no such log on this worker")
            return
        self._answer(HTTPStatus.OK, data, next_offset=offset + len(data))

    def _answer(self, status: HTTPStatus, body: bytes, next_offset: int | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        if next_offset is not None:
            self.send_header(NEXT_OFFSET_HEADER, str(next_offset))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # http.server's signature
        log.debug("log server: " + format, *args)
