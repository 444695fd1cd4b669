"""Importing DAG files: each in its own forked child, with a time limit.

Invariants:
- a DAG file's code never runs in the processor's own process (except through
  :func:`load_dag`, which the task runner calls on purpose); whatever the file does
  (raise, hang, ``sys.exit``, ``os._exit``, crash the interpreter) comes back as a
  :class:`ParseResult` with ``import_error`` set, never as an exception in the caller;
- a file is all or nothing: if any of its DAGs is invalid, the file yields no DAGs and
  one import error (as in Airflow);
- each file is imported as module ``unusual_prefix_<sha1 of path>_<stem>`` with its
  folder on ``sys.path``, so files with the same stem never collide in ``sys.modules``;
- serialized DAGs carry ``fileloc`` = the parsed file, so the runner can re-import the
  DAG from the file that produced it even when a helper module built the DAG object.
"""

from __future__ import annotations

import hashlib
import importlib.util
import math
import multiprocessing
import os
import re
import select
import signal
import sys
import threading
import time
import traceback
from collections.abc import Generator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from tandem.exceptions import DagDefinitionError

if TYPE_CHECKING:
    from tandem.sdk.dag import DAG

# The child gets this much longer than the parent's limit before its own alarm fires:
# a backstop for a parent that died without killing it.
_ALARM_GRACE = 5


class DagNotFound(LookupError):
    """``load_dag`` imported the file, but it defines no DAG with that id."""


@dataclass(frozen=True)
class ParsedDag:
    """One DAG of a file as the scheduler sees it: its JSON and the hash of that JSON."""

    dag_id: str
    data: dict[str, Any]
    dag_hash: str
    lineno: int


@dataclass
class ParseResult:
    """What importing one file produced: DAGs, or an import error (never both)."""

    fileloc: str
    dags: list[ParsedDag] = field(default_factory=list)
    import_error: str | None = None
    #: Source as read just before the import; None when the file could not be read.
    source: str | None = None
    mtime: float = 0.0
    size: int = 0
    duration: float = 0.0
    #: sha256 of the bytes ``source`` was decoded from (to check them against a bundle version).
    source_hash: str | None = None


def module_name_for(path: str) -> str:
    """The unique ``sys.modules`` name a DAG file is imported under."""
    digest = hashlib.sha1(path.encode("utf-8")).hexdigest()
    stem = re.sub(r"\W", "_", Path(path).stem)
    return f"unusual_prefix_{digest}_{stem}"


def import_dag_file(path: str) -> tuple[ModuleType, list[DAG]]:
    """Import ``path`` in this process and return the module and its validated DAGs.

    Raises whatever the file raises, or DagDefinitionError for an invalid DAG or a
    dag_id defined twice in the file.
    """
    from tandem.compat import importer
    from tandem.sdk.dag import DagCollector

    importer.install()  # ``import airflow`` in DAG files means Tandem's shims (docs/airflow.md)
    name = module_name_for(path)
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"{path}: cannot be imported as a Python module")
    module = importlib.util.module_from_spec(spec)
    folder = os.path.dirname(path)
    if folder not in sys.path:
        # Airflow puts the DAG folder on sys.path so files can import their helpers.
        sys.path.insert(0, folder)
    sys.modules[name] = module
    try:
        with DagCollector() as collector:
            spec.loader.exec_module(module)
        return module, collector.collect(vars(module), validate=True)
    except BaseException:
        sys.modules.pop(name, None)
        raise


def serialize_dags(path: str, dags: list[DAG]) -> list[ParsedDag]:
    from tandem.sdk.serialization import dag_hash, serialize_dag

    parsed = []
    for dag in dags:
        data = serialize_dag(dag)
        data["fileloc"] = path
        parsed.append(ParsedDag(dag.dag_id, data, dag_hash(data), int(dag.definition_lineno or 0)))
    return parsed


def _same_file(a: str, b: str) -> bool:
    return a == b or os.path.realpath(a) == os.path.realpath(b)


def format_exit(path: str, code: object) -> str:
    if code is None or isinstance(code, int):
        return f"{path}: exited with code {code or 0} during import"
    return f"{path}: exited with code 1 during import: {code}"


def format_import_error(path: str, exc: BaseException) -> str:
    """The traceback trimmed to frames in ``path``, then ``file:line: Type: message``."""
    if isinstance(exc, SystemExit):
        return format_exit(path, exc.code)
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if _same_file(f.filename, path)]
    if isinstance(exc, DagDefinitionError) and exc.fileloc:
        return str(exc)  # already "file:line: DAG 'x': problem"; a traceback adds nothing
    if isinstance(exc, SyntaxError) and exc.filename and _same_file(exc.filename, path):
        text = (exc.text or "").rstrip()
        return f"{path}:{exc.lineno}: SyntaxError: {exc.msg}" + (f"\n    {text.strip()}" if text else "")
    lines = []
    if frames:
        lines.append("Traceback (most recent call last, frames of the DAG file only):\n")
        lines.extend(traceback.format_list(frames))
    where = f"{path}:{frames[-1].lineno}" if frames else path
    message = str(exc)
    lines.append(f"{where}: {type(exc).__name__}" + (f": {message}" if message else ""))
    return "".join(lines)


def parse_in_process(path: str) -> ParseResult:
    """Import and serialize ``path`` here; every failure becomes ``import_error``."""
    started = time.monotonic()
    result = ParseResult(fileloc=path)
    try:
        _module, dags = import_dag_file(path)
        result.dags = serialize_dags(path, dags)
    except BaseException as exc:  # noqa: BLE001 - user code may raise anything, even SystemExit
        result.import_error = format_import_error(path, exc)
    result.duration = time.monotonic() - started
    return result


def _child_main(conn: Connection, path: str, timeout: float) -> None:
    """Body of a forked parse child: import, send the result. Never returns."""
    try:
        # The parent's pooled DB sockets must not be shared; DAG code that touches the DB
        # (e.g. Variable.get at top level) gets fresh connections.
        from tandem.db.engine import release_after_fork

        release_after_fork()
        from tandem.db.session import session_scope
        from tandem.runner.secrets import DatabaseSecrets
        from tandem.sdk.secrets import set_secrets_backend

        # Airflow lets top-level code read variables and connections; so does Tandem.
        set_secrets_backend(DatabaseSecrets(session_scope))
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when we stop
        signal.alarm(math.ceil(timeout) + _ALARM_GRACE)
        result = parse_in_process(path)
        signal.alarm(0)
        conn.send(result)
        conn.close()
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
    finally:
        # Skip interpreter shutdown: it would wait for non-daemon threads DAG code started,
        # and run the parent's atexit handlers.
        os._exit(0)


def _stat_and_read(path: str) -> ParseResult:
    """A result holding the file's stat and source, taken before the import starts."""
    result = ParseResult(fileloc=path)
    try:
        stat = os.stat(path)
        result.mtime, result.size = stat.st_mtime, stat.st_size
        data = Path(path).read_bytes()
        result.source = data.decode("utf-8", errors="replace")
        result.source_hash = hashlib.sha256(data).hexdigest()
    except OSError as exc:
        result.import_error = f"{path}: cannot be read: {exc.strerror or exc}"
    return result


@dataclass
class _Child:
    base: ParseResult
    pid: int
    conn: Connection
    started: float
    deadline: float


def _start_child(path: str, timeout: float) -> _Child:
    reader, writer = multiprocessing.Pipe(duplex=False)
    base = _stat_and_read(path)
    started = time.monotonic()
    # A bare fork rather than multiprocessing.Process: the latter refuses to start children
    # from a daemonic process, and the scheduler may well run us as one.
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        try:
            reader.close()
            _child_main(writer, path, timeout)
        finally:
            os._exit(70)
    writer.close()
    return _Child(base, pid, reader, started, started + timeout)


def _reap(pid: int, *, kill: bool) -> int:
    """Wait for the child and return its exit code (negative: killed by that signal).

    A child that sent its result exits at once; one that does not within 5 s is killed.
    """
    if kill:
        os.kill(pid, signal.SIGKILL)
    else:
        pidfd = os.pidfd_open(pid)
        try:
            if not select.select([pidfd], [], [], 5.0)[0]:
                os.kill(pid, signal.SIGKILL)  # it sent its result but will not exit
        finally:
            os.close(pidfd)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])


def _finish(child: _Child, timeout: float) -> ParseResult:
    """Collect a child whose pipe is readable (result or EOF) or whose deadline passed."""
    timed_out = not child.conn.poll()
    received: ParseResult | None = None
    if not timed_out:
        try:
            received = child.conn.recv()
        except (EOFError, OSError):
            pass  # died before sending: the exit code tells why
    child.conn.close()
    code = _reap(child.pid, kill=timed_out)
    base = child.base
    if received is not None:
        received.source, received.mtime, received.size = base.source, base.mtime, base.size
        received.source_hash = base.source_hash
        return received
    if base.import_error is None:
        if timed_out:
            base.import_error = f"{base.fileloc}: import timed out after {timeout:g} s"
        elif code < 0:
            base.import_error = f"{base.fileloc}: killed by signal {signal.Signals(-code).name} during import"
        else:
            base.import_error = format_exit(base.fileloc, code)
    base.duration = time.monotonic() - child.started
    return base


def warm_up() -> None:
    """Import what DAG files import, here, once: each file's forked child then starts with it.

    Otherwise every child imports the SDK anew, which is most of the time a small DAG file
    takes to parse (a thousand files paid it a thousand times).
    """
    import tandem
    import tandem.operators
    import tandem.runner.secrets
    import tandem.sdk.secrets
    import tandem.sdk.serialization  # noqa: F401

    for name in tandem.__all__:
        getattr(tandem, name)


def parse_files(paths: list[str], *, timeout: float, parallelism: int = 2) -> list[ParseResult]:
    """Parse each file in a forked child, at most ``parallelism`` at once; results in input order.

    A child still running ``timeout`` seconds after it started is killed.
    """
    return list(iter_parse_files(paths, timeout=timeout, parallelism=parallelism))


def iter_parse_files(paths: list[str], *, timeout: float, parallelism: int = 2) -> Generator[ParseResult, None, None]:
    """``parse_files``, yielding each result, in input order, as soon as it and those before it
    are in: the caller stores one while the next files are still being parsed."""
    if paths:
        warm_up()
    pending = list(reversed(range(len(paths))))
    running: dict[int, _Child] = {}  # by the file's position in ``paths``
    results: dict[int, ParseResult] = {}
    following = 0
    try:
        while following < len(paths):
            while pending and len(running) < max(1, parallelism):
                index = pending.pop()
                running[index] = _start_child(paths[index], timeout)
            if following not in results:
                # A child's pipe turns readable when it sends its result or dies (EOF).
                wait_for = max(0.0, min(c.deadline for c in running.values()) - time.monotonic())
                ready = set(wait([c.conn for c in running.values()], timeout=wait_for))
                now = time.monotonic()
                for index, child in [(i, c) for i, c in running.items() if c.conn in ready or now >= c.deadline]:
                    del running[index]
                    results[index] = _finish(child, timeout)
            while following in results:
                yield results.pop(following)
                following += 1
    finally:
        for child in running.values():  # interrupted (e.g. KeyboardInterrupt, or the caller stopped): no orphans
            child.conn.close()
            _reap(child.pid, kill=True)


# -- in-process loading for the task runner ------------------------------------------

_loaded: dict[tuple[str, int, int], dict[str, DAG]] = {}
_load_lock = threading.Lock()


def load_dag(fileloc: str, dag_id: str) -> DAG:
    """Import ``fileloc`` in this process (cached while its mtime and size stay the same).

    Raises what the file raises, DagDefinitionError for an invalid DAG, or DagNotFound.
    """
    path = os.path.realpath(fileloc)
    stat = os.stat(path)
    key = (path, stat.st_mtime_ns, stat.st_size)
    with _load_lock:
        dags = _loaded.get(key)
        if dags is None:
            _module, found = import_dag_file(path)
            for stale in [k for k in _loaded if k[0] == path]:
                del _loaded[stale]
            dags = _loaded[key] = {dag.dag_id: dag for dag in found}
    try:
        return dags[dag_id]
    except KeyError:
        raise DagNotFound(f"{fileloc}: defines no DAG '{dag_id}' (found: {sorted(dags) or 'none'})") from None
