"""A TCP proxy between nodes and a server (the metadata DB, the broker) that a test can break.

Modes:

- ``pass``: forward bytes both ways.
- ``reset``: close every open connection with a TCP reset, and reset each new one at once,
  as a server that restarts or a firewall that rejects would.
- ``blackhole``: accept connections and never forward nor close them; bytes already in flight
  are swallowed. A peer sees a connection that simply stops answering (a frozen server or
  a NAT that forgot the flow). The proxy's kernel still acknowledges the bytes, so only
  application-level and server-side timeouts notice, not TCP's own retransmission limits.

The proxy runs on threads in the test's (or the soak bench's) process, on a free port.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

Mode = Literal["pass", "reset", "blackhole"]


def _reset(sock: socket.socket) -> None:
    """Cut a connection at once. SO_LINGER 0 makes the close a RST; the shutdown wakes the
    pump thread blocked in ``recv`` on it (a bare close would wait for that thread, and send nothing)."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass


class TcpProxy:
    """Listens on 127.0.0.1:<port> and forwards to ``target``; switch ``mode`` at any time."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(256)
        self.port: int = self._listener.getsockname()[1]
        self._mode: Mode = "pass"
        self._lock = threading.Lock()
        self._pairs: list[tuple[socket.socket, socket.socket | None]] = []
        self._closed = False
        self.accepted = 0
        self._thread = threading.Thread(target=self._accept_loop, name=f"proxy-{self.port}", daemon=True)
        self._thread.start()

    @property
    def mode(self) -> Mode:
        return self._mode

    def set_mode(self, mode: Mode) -> None:
        with self._lock:
            self._mode = mode
            pairs = list(self._pairs) if mode == "reset" else []
            if mode == "reset":
                self._pairs.clear()
        for client, upstream in pairs:
            _reset(client)
            if upstream is not None:
                _reset(upstream)

    @contextmanager
    def fault(self, mode: Mode, seconds: float) -> Iterator[None]:
        """``mode`` for ``seconds`` (the body of the ``with`` runs meanwhile), then ``pass``."""
        self.set_mode(mode)
        deadline = time.monotonic() + seconds
        try:
            yield
            remaining = deadline - time.monotonic()
            if remaining > 0:
                time.sleep(remaining)
        finally:
            # Connections opened in the black hole are cut once it ends (a NAT entry gone for good).
            if mode == "blackhole":
                self.set_mode("reset")
            self.set_mode("pass")

    def close(self) -> None:
        self._closed = True
        self.set_mode("reset")
        try:
            self._listener.close()
        except OSError:
            pass

    def _accept_loop(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            self.accepted += 1
            mode = self._mode
            if mode == "reset":
                _reset(client)
                continue
            if mode == "blackhole":
                with self._lock:
                    self._pairs.append((client, None))
                threading.Thread(target=self._swallow, args=(client,), daemon=True).start()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                _reset(client)
                continue
            with self._lock:
                self._pairs.append((client, upstream))
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    def _swallow(self, sock: socket.socket) -> None:
        try:
            while sock.recv(65536):
                pass
        except OSError:
            pass

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if self._mode == "blackhole":
                    continue  # swallowed: nothing reaches the other side, nothing is closed
                dst.sendall(data)
        except OSError:
            pass
        if self._mode == "blackhole":
            return  # never close in the black hole; the reset at its end does
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass
