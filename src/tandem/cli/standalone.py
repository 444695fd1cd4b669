"""``tandem standalone``: every role of one machine in one process group.

The scheduler runs in the main thread, the API server in a thread of the same process (one
Python heap instead of two), the DAG processor and the local executor's supervisor in forked
children that die with it.

Everything any of them imports is imported, and the API app built, before the children are
forked, then the collector's view of those objects is frozen: the children share those pages
with the main process instead of each holding its own copy (the PSS of the whole stays low),
and no child pays the imports again.
"""

from __future__ import annotations

import gc
import threading
import time
from typing import Any

import click

from tandem.api.auth.passwords import STANDALONE_PASSWORD_FILE, hash_new_password_in_background
from tandem.cli.common import CliError, engine, settings, setup_logging


def run_standalone(verbose: bool, *, force: bool = False) -> None:
    started = time.monotonic()
    cfg = settings()
    prepared = None
    if not (cfg.home / STANDALONE_PASSWORD_FILE).is_file():  # a first start: the admin is created
        prepared = hash_new_password_in_background()
    from tandem.api.auth.users import ensure_standalone_admin
    from tandem.api.serve import answer_first_request, build_server, start_in_thread
    from tandem.cluster.fingerprint import ConfigMismatch
    from tandem.db.session import session_scope
    from tandem.scheduler.service import SchedulerRefused, install_stop_handlers, run_scheduler

    setup_logging(verbose)
    cfg.dags_folder.mkdir(parents=True, exist_ok=True)
    eng = engine()
    with session_scope(eng) as session:
        username, password = ensure_standalone_admin(session, cfg.home, prepared)
    click.echo(f"Tandem standalone\n  home:   {cfg.home}\n  config: {cfg.home / 'tandem.toml'}\n"
               f"  DB:     {eng.url.render_as_string(hide_password=True)}\n  logs:   {cfg.log_folder}\n"
               f"  DAGs:   {cfg.dags_folder}" + ("  (+ example DAGs)" if cfg.core.load_examples else ""))
    stop = threading.Event()
    install_stop_handlers(stop)
    api: list[Any] = []
    server = build_server(cfg, log_level="warning")
    _import_what_children_need()
    answer_first_request(server)
    gc.freeze()

    def on_started(_node_id: str) -> None:
        api.append(start_in_thread(cfg, log_level="warning", server=server))
        login = password or f"(see {cfg.home / 'standalone_admin_password.txt'})"
        click.echo(f"  web UI: http://{cfg.api.host}:{cfg.api.port}  login: {username} / {login}\n"
                   f"Ready in {time.monotonic() - started:.1f} s. Press Ctrl-C to stop.")

    try:
        run_scheduler(cfg, eng, stop, role="standalone", embedded_processor=True, force=force,
                      on_started=on_started)
    except (SchedulerRefused, ConfigMismatch) as e:
        raise CliError(str(e)) from None
    finally:
        for server, thread in api:
            server.should_exit = True
            thread.join(10)
    click.echo("Stopped.")


def _import_what_children_need() -> None:
    """The DAG processor's and the supervisors' imports, done once here for all of them."""
    import croniter  # noqa: F401 - the DAG processor's next run dates

    import tandem.dag_processing.bundles.cache
    import tandem.dag_processing.bundles.gc
    import tandem.dag_processing.bundles.local
    import tandem.dag_processing.processor
    import tandem.executors.local  # noqa: F401
    from tandem.dag_processing.parser import warm_up as warm_up_parsing
    from tandem.runner.supervisor import warm_up

    warm_up_parsing()
    warm_up()
