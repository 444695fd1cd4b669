"""The DAG processor loop: per bundle, snapshot and store its version, re-parse, store the DAGs.

Invariants:
- the DB is the only output: the in-memory file table only saves work (which files to
  re-parse); a fresh processor re-parses everything and converges on the same rows;
- a bundle is processed only under its lease (``bundles/lease.py``): several processors share
  the bundles, none parses a file another is parsing, and a dead holder's bundles move on;
- a bundle's version is stored (files by content hash) before any DAG parsed from it; a DAG
  parsed from it records it, and DAGs of unchanged files that parsed cleanly move to it (their
  file's bytes are the same in both versions); a file whose bytes changed between the snapshot
  and its import is not stored and waits for the next version. As in Airflow, a change to a
  helper module alone does not re-parse the DAG files importing it (``refresh_interval`` does);
- files are re-parsed when their mtime or size changed, not more often than
  every ``min_file_process_interval`` seconds, and files in error are retried when another
  file was re-parsed (a duplicate dag_id may have been resolved by that change);
- DAGs of files no longer listed are deactivated before new results are stored, so a DAG
  moved from one file to another is not taken for a duplicate;
- results are stored one file per transaction, in path order, so ownership of a dag_id
  defined twice does not depend on which child finished first.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from types import FrameType
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tandem.config import Settings, get_settings
from tandem.dag_processing.bundles.base import BaseDagBundle, BundleError, Snapshot
from tandem.dag_processing.bundles.lease import release_lease, take_lease
from tandem.dag_processing.bundles.loader import load_bundles
from tandem.dag_processing.bundles.storage import store_snapshot
from tandem.dag_processing.discovery import list_dag_files
from tandem.dag_processing.parser import ParseResult, iter_parse_files
from tandem.dag_processing.store import BundleRef, deactivate_missing, move_to_version, store_parse_result
from tandem.db.dialects import dialect_for
from tandem.db.engine import get_engine
from tandem.db.session import session_scope
from tandem.models import utcnow
from tandem.observability import instruments

log = logging.getLogger(__name__)

# The lease is renewed once this fraction of it has passed since it was last taken.
RENEW_FRACTION = 4
# Seconds between garbage collections of bundle versions by a processor holding a lease.
GC_INTERVAL = 60.0


@dataclass
class ParseStats:
    """Outcome of one pass: ``files`` listed, ``dags`` and ``import_errors`` they hold now,
    files ``parsed`` in this pass and ``skipped`` (unchanged), wall-clock ``seconds``;
    ``bundles`` processed here and ``bundles_elsewhere`` (a peer holds their lease)."""

    files: int = 0
    dags: int = 0
    import_errors: int = 0
    parsed: int = 0
    skipped: int = 0
    seconds: float = 0.0
    bundles: int = 0
    bundles_elsewhere: int = 0


@dataclass
class _FileState:
    mtime: float
    size: int
    parsed_at: datetime
    dags: int
    failed: bool


class DagFileProcessor:
    """Keeps the DB's view of the DAG bundles up to date.

    :param settings: the configuration (bundles, intervals, timeout).
    :param engine: the metadata DB; default the configured one.
    :param parallelism: files imported at once, each in its own child process.
    :param safe_mode: only import files mentioning both "dag" and "tandem".
    :param refresh_interval: also re-parse unchanged files this often (seconds), for DAG
        files whose DAGs depend on more than their own text; None: only on change.
    :param bundles: the bundles to process; default those of the configuration.
    """

    def __init__(
        self,
        settings: Settings,
        engine: Engine | None = None,
        *,
        parallelism: int = 2,
        safe_mode: bool = True,
        refresh_interval: float | None = None,
        bundles: list[BaseDagBundle] | None = None,
    ) -> None:
        self.settings = settings
        self.engine = engine or get_engine(settings.database_url)
        self.parallelism = parallelism
        self.safe_mode = safe_mode
        self.refresh_interval = refresh_interval
        self.bundles = bundles if bundles is not None else load_bundles(settings)
        self.owner = uuid.uuid4().hex
        self._dialect = dialect_for(self.engine.url.render_as_string(hide_password=True))
        self._files: dict[str, list[str]] = {}
        self._versions: dict[str, str] = {}
        self._state: dict[str, _FileState] = {}
        self._gc_at = 0.0

    @property
    def lease_seconds(self) -> float:
        # As long as a node may stay silent before peers adopt its work. The lease is renewed
        # as results come in, once a quarter of it has passed; files slower than the rest of it
        # (close to their import timeout) may let a peer take the bundle: both then parse it for
        # a while, which costs work but not correctness (stores converge), and the slower one
        # stands down.
        return self.settings.scheduler.node_timeout

    def run_once(self, now: datetime) -> ParseStats:
        """One pass at time ``now`` over every bundle whose lease this processor holds or gets."""
        started = time.monotonic()
        stats = ParseStats()
        for bundle in self.bundles:
            try:
                self._process(bundle, now, stats)
            except BundleError as e:  # a fetch that failed, a file changing under us: said, retried
                log.error("%s; retried next pass", e)
            except Exception:  # one bundle's fault (a full disk, a DB error) stays that bundle's
                log.exception("DAG bundle %r could not be processed", bundle.name)
        if stats.bundles and time.monotonic() >= self._gc_at:
            self._gc_at = time.monotonic() + GC_INTERVAL
            self._collect_garbage()
        stats.seconds = time.monotonic() - started
        instruments.processing_pass(stats.import_errors, stats.seconds)
        return stats

    def _collect_garbage(self) -> None:
        from tandem.dag_processing.bundles.gc import collect_garbage, prune_local_cache

        try:
            with session_scope(self.engine) as session:
                gc = collect_garbage(session, utcnow(), self.settings.dag_processor.version_retention)
            prune_local_cache(self.settings.bundle_cache_folder, self.engine)
        except Exception:  # collecting can wait for the next interval; parsing must go on
            log.exception("bundle garbage collection failed")
            return
        if gc.versions:
            log.info("deleted %d unused bundle version(s) and %d file content(s)", gc.versions, gc.contents)

    def _renew(self, bundle: BaseDagBundle) -> bool:
        with session_scope(self.engine) as session:
            return take_lease(session, bundle, self.owner, self.lease_seconds)

    def _process(self, bundle: BaseDagBundle, now: datetime, stats: ParseStats) -> None:
        if not self._renew(bundle):
            stats.bundles_elsewhere += 1
            self._forget(bundle)
            return
        stats.bundles += 1
        snapshot = bundle.snapshot()
        with session_scope(self.engine) as session:
            store_snapshot(session, bundle, snapshot, utcnow())
        bundle.after_store(snapshot)
        changed = self._versions.get(bundle.name) != snapshot.version
        if changed or bundle.name not in self._files:
            self._relist(bundle, now)
        files = self._files[bundle.name]
        due = self._due_files(files, now, snapshot.stats)
        ref = BundleRef(bundle.name, snapshot.version, bundle.root)
        renewed = time.monotonic()
        results = iter_parse_files(due, timeout=self.settings.core.dag_file_processor_timeout,
                                   parallelism=self.parallelism)
        try:
            for result in results:
                # The lease is renewed as it ages, not per file: a round trip per file was a
                # tenth of what a thousand small files cost to process.
                if time.monotonic() - renewed > self.lease_seconds / RENEW_FRACTION:
                    if not self._renew(bundle):
                        log.warning("lost the lease of bundle %r while parsing it; a peer carries on", bundle.name)
                        self._forget(bundle)
                        return
                    renewed = time.monotonic()
                self._store(result, now, ref, snapshot)
        finally:
            results.close()  # stopped early: its children are killed and reaped
        if changed:
            parsed = set(due)
            clean = [f for f in files if f not in parsed and f in self._state and not self._state[f].failed]
            with session_scope(self.engine) as session:
                move_to_version(session, clean, ref)
        self._versions[bundle.name] = snapshot.version
        listed = [self._state[f] for f in files if f in self._state]
        stats.files += len(files)
        stats.dags += sum(s.dags for s in listed)
        stats.import_errors += sum(s.failed for s in listed)
        stats.parsed += len(due)
        stats.skipped += len(files) - len(due)

    def _forget(self, bundle: BaseDagBundle) -> None:
        """A peer holds the bundle: should it come back, parse it afresh."""
        self._versions.pop(bundle.name, None)
        for path in self._files.pop(bundle.name, []):
            self._state.pop(path, None)

    def release(self) -> None:
        """Give up every lease (a clean stop), so peers take the bundles at once."""
        for bundle in self.bundles:
            try:
                with session_scope(self.engine) as session:
                    release_lease(session, bundle.name, self.owner)
            except sa.exc.SQLAlchemyError:
                log.warning("could not release the lease of bundle %r; it expires by itself", bundle.name)

    def _relist(self, bundle: BaseDagBundle, now: datetime) -> None:
        files = [str(p) for p in list_dag_files(bundle.root, safe_mode=self.safe_mode)] if bundle.root.exists() else []
        with session_scope(self.engine) as session:
            deactivate_missing(session, files, now, under=bundle.root)
        old = set(self._files.get(bundle.name, []))
        self._files[bundle.name] = files
        for gone in old - set(files):
            self._state.pop(gone, None)

    def _due_files(self, files: list[str], now: datetime, scanned: dict[str, tuple[float, int]]) -> list[str]:
        """The files to parse now; ``scanned``: (mtime, size) the snapshot already read, by path."""
        min_interval = self.settings.scheduler.min_file_process_interval
        changed, failed = [], []
        for path in files:
            state = self._state.get(path)
            if state is not None and (now - state.parsed_at).total_seconds() < min_interval:
                continue
            seen = scanned.get(path)
            if seen is None:
                try:
                    stat = os.stat(path)
                except OSError:
                    continue  # vanished since the listing; the next version deactivates its DAGs
                seen = (stat.st_mtime, stat.st_size)
            if (
                state is None
                or seen != (state.mtime, state.size)
                or (self.refresh_interval is not None
                    and (now - state.parsed_at).total_seconds() >= self.refresh_interval)
            ):
                changed.append(path)
            elif state.failed:
                failed.append(path)
        return sorted(changed + failed) if changed else changed

    def _store(self, result: ParseResult, now: datetime, ref: BundleRef, snapshot: Snapshot) -> None:
        relative = ref.relative(result.fileloc)
        expected = snapshot.manifest.get(relative) if relative is not None else None
        if result.source_hash is not None and expected is not None and result.source_hash != expected:
            log.info("%s changed since bundle %r was snapshotted; it is parsed with the next version",
                     result.fileloc, ref.name)
            return
        error: str | None = None
        for attempt in (1, 2):
            try:
                with session_scope(self.engine) as session:
                    error = store_parse_result(
                        session, result.fileloc, result, now,
                        paused_at_creation=self.settings.core.dags_are_paused_at_creation, bundle=ref,
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
            self.release()
            for signum, handler in previous.items():
                signal.signal(signum, handler)


def _install_stop_handlers(stop: threading.Event) -> dict[signal.Signals, Any]:
    if threading.current_thread() is not threading.main_thread():
        return {}  # only the main thread may set signal handlers; the caller owns signals

    def _handler(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    return {s: signal.signal(s, _handler) for s in (signal.SIGTERM, signal.SIGINT)}


def parse_all(settings: Settings, engine: Engine | None = None, *, parallelism: int = 2) -> ParseStats:
    """Parse every DAG file once, now, and store the results (CLI, tests, first start).

    Bundles a running processor holds are left to it (``bundles_elsewhere``).
    """
    processor = DagFileProcessor(settings, engine, parallelism=parallelism)
    try:
        return processor.run_once(utcnow())
    finally:
        processor.release()


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
