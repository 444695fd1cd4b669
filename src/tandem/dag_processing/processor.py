"""The DAG processor loop: list DAG files, re-parse those that changed, store the results.

Invariants:
- the DB is the only output: the in-memory file table only saves work (which files to
  re-parse); a fresh processor re-parses everything and converges on the same rows;
- a file is re-parsed when its mtime or size changed, but not more often than every
  ``min_file_process_interval`` seconds; files in error are also retried whenever another
  file was re-parsed, since a duplicate dag_id may have been resolved by that change;
- the folder is re-listed every ``dag_dir_list_interval`` seconds, and DAGs of files that
  are no longer listed are deactivated before new results are stored, so a DAG moved
  from one file to another is not taken for a duplicate;
- results are stored one file per transaction, in path order, so ownership of a dag_id
  defined twice does not depend on which child finished first.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from types import FrameType
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tandem.config import Settings, get_settings
from tandem.dag_processing.discovery import list_all_dag_files
from tandem.dag_processing.parser import ParseResult, parse_files
from tandem.dag_processing.store import deactivate_missing, store_parse_result
from tandem.db.dialects import dialect_for
from tandem.db.engine import get_engine
from tandem.db.session import session_scope
from tandem.models import utcnow
from tandem.observability import instruments

log = logging.getLogger(__name__)


@dataclass
class ParseStats:
    """Outcome of one pass: ``files`` listed, ``dags`` and ``import_errors`` they hold now,
    files ``parsed`` in this pass and ``skipped`` (unchanged), wall-clock ``seconds``."""

    files: int = 0
    dags: int = 0
    import_errors: int = 0
    parsed: int = 0
    skipped: int = 0
    seconds: float = 0.0


@dataclass
class _FileState:
    mtime: float
    size: int
    parsed_at: datetime
    dags: int
    failed: bool


class DagFileProcessor:
    """Keeps the DB's view of the DAG folders up to date.

    :param settings: the configuration (folders, intervals, timeout).
    :param engine: the metadata DB; default the configured one.
    :param parallelism: files imported at once, each in its own child process.
    :param safe_mode: only import files mentioning both "dag" and "tandem".
    :param refresh_interval: also re-parse unchanged files this often (seconds), for DAG
        files whose DAGs depend on more than their own text; None: only on change.
    """

    def __init__(
        self,
        settings: Settings,
        engine: Engine | None = None,
        *,
        parallelism: int = 2,
        safe_mode: bool = True,
        refresh_interval: float | None = None,
    ) -> None:
        self.settings = settings
        self.engine = engine or get_engine(settings.database_url)
        self.parallelism = parallelism
        self.safe_mode = safe_mode
        self.refresh_interval = refresh_interval
        self._dialect = dialect_for(self.engine.url.render_as_string(hide_password=True))
        self._files: list[str] = []
        self._listed_at: datetime | None = None
        self._state: dict[str, _FileState] = {}

    def run_once(self, now: datetime) -> ParseStats:
        """One pass at time ``now``: maybe re-list, parse what is due, store, report."""
        started = time.monotonic()
        list_interval = self.settings.scheduler.dag_dir_list_interval
        if self._listed_at is None or (now - self._listed_at).total_seconds() >= list_interval:
            self._relist(now)
        due = self._due_files(now)
        if due:
            results = parse_files(
                due, timeout=self.settings.core.dag_file_processor_timeout, parallelism=self.parallelism
            )
            for result in results:
                self._store(result, now)
        listed = [self._state[f] for f in self._files if f in self._state]
        stats = ParseStats(
            files=len(self._files),
            dags=sum(s.dags for s in listed),
            import_errors=sum(s.failed for s in listed),
            parsed=len(due),
            skipped=len(self._files) - len(due),
            seconds=time.monotonic() - started,
        )
        instruments.processing_pass(stats.import_errors, stats.seconds)
        return stats

    def _relist(self, now: datetime) -> None:
        files = [str(p) for p in list_all_dag_files(self.settings, safe_mode=self.safe_mode)]
        with session_scope(self.engine) as session:
            deactivate_missing(session, files, now)
        self._files, self._listed_at = files, now
        listed = set(files)
        self._state = {f: s for f, s in self._state.items() if f in listed}

    def _due_files(self, now: datetime) -> list[str]:
        min_interval = self.settings.scheduler.min_file_process_interval
        changed, failed = [], []
        for path in self._files:
            state = self._state.get(path)
            if state is not None and (now - state.parsed_at).total_seconds() < min_interval:
                continue
            try:
                stat = os.stat(path)
            except OSError:
                continue  # vanished since the listing; the next listing deactivates its DAGs
            if (
                state is None
                or (stat.st_mtime, stat.st_size) != (state.mtime, state.size)
                or (self.refresh_interval is not None
                    and (now - state.parsed_at).total_seconds() >= self.refresh_interval)
            ):
                changed.append(path)
            elif state.failed:
                failed.append(path)
        return sorted(changed + failed) if changed else changed

    def _store(self, result: ParseResult, now: datetime) -> None:
        error: str | None = None
        for attempt in (1, 2):
            try:
                with session_scope(self.engine) as session:
                    error = store_parse_result(
                        session, result.fileloc, result, now,
                        paused_at_creation=self.settings.core.dags_are_paused_at_creation,
                    )
                break
            except sa.exc.DBAPIError as exc:
                # A peer processor inserted the same rows between our read and our write,
                # or the DB chose us as a deadlock victim: one more try sees its rows.
                retry = isinstance(exc, sa.exc.IntegrityError) or self._dialect.is_retryable(exc)
                if attempt == 2 or not retry:
                    log.exception("cannot store the parse result of %s", result.fileloc)
                    return  # state not updated: the file is parsed again next time
        if error:
            log.warning("import error: %s", error.splitlines()[-1])
        instruments.file_parsed(result.fileloc, result.duration)
        self._state[result.fileloc] = _FileState(
            mtime=result.mtime, size=result.size, parsed_at=now,
            dags=0 if error else len(result.dags), failed=error is not None,
        )

    def run_forever(self, stop_event: threading.Event | None = None) -> None:
        """Run passes until ``stop_event`` is set or SIGTERM/SIGINT arrives."""
        stop = stop_event or threading.Event()
        previous = _install_stop_handlers(stop)
        scheduler = self.settings.scheduler
        pause = max(scheduler.poll_interval,
                    min(scheduler.min_file_process_interval, scheduler.dag_dir_list_interval))
        try:
            while not stop.is_set():
                try:
                    self.run_once(utcnow())
                except Exception as e:  # the DB may be briefly unreachable; the next pass retries
                    log.exception("DAG processing pass failed")
                    if isinstance(e, sa.exc.DBAPIError):
                        instruments.db_error("dag_processor")
                stop.wait(pause)
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)


def _install_stop_handlers(stop: threading.Event) -> dict[signal.Signals, Any]:
    if threading.current_thread() is not threading.main_thread():
        return {}  # only the main thread may set signal handlers; the caller owns signals

    def _handler(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    return {s: signal.signal(s, _handler) for s in (signal.SIGTERM, signal.SIGINT)}


def parse_all(settings: Settings, engine: Engine | None = None, *, parallelism: int = 2) -> ParseStats:
    """Parse every DAG file once, now, and store the results (CLI, tests, first start)."""
    return DagFileProcessor(settings, engine, parallelism=parallelism).run_once(utcnow())


def run_dag_processor(stop_event: threading.Event | None = None) -> None:
    """Process entry point for an embedded or standalone DAG processor.

    Use as the target of a forked child (``multiprocessing.get_context("fork").Process``);
    it drops inherited DB connections first, then loops until SIGTERM.
    """
    from tandem.db.engine import release_after_fork
    from tandem.process import die_with_parent

    die_with_parent()
    release_after_fork()
    DagFileProcessor(get_settings()).run_forever(stop_event)
