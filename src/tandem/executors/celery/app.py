"""Tandem's Celery app, built from the ``[celery]`` settings.

``celery -A tandem.executors.celery.app <command>`` (worker, flower, inspect, purge ...) finds
the module attribute ``app``; it is built on first access, not at import, so importing this
module reads no configuration.

Delivery settings that Tandem's guarantees rest on are fixed here and cannot be overridden:
late acknowledgement (a message is acknowledged after the try ended, so a dead worker's
message is delivered again), rejection when the worker process is lost, one message
prefetched per process, and JSON only (workloads carry identity, never code).
"""

from __future__ import annotations

import difflib
import socket
from typing import TYPE_CHECKING, Any

from tandem.config import ConfigError, Settings, get_settings

if TYPE_CHECKING:
    from celery import Celery

#: The one Celery task Tandem sends: its only argument is a ``Workload`` as a dict.
TASK_NAME = "tandem.run_workload"

#: Broker priority levels: Celery's 0..9 (RabbitMQ ``x-max-priority``; one Redis list per level).
PRIORITY_LEVELS = 10

#: Settings whose values Tandem's delivery guarantees depend on.
LOCKED = {
    "task_acks_late": True,
    "task_reject_on_worker_lost": True,
    "worker_prefetch_multiplier": 1,
    "task_serializer": "json",
    "accept_content": ["json"],
}


def celery_config(settings: Settings) -> dict[str, Any]:
    """Celery settings for ``settings``; ``celery.extra`` is checked against Celery's own keys."""
    cfg = settings.celery
    conf: dict[str, Any] = {
        "broker_url": cfg.broker_url,
        "result_backend": cfg.result_backend or None,
        # The DB holds every try's outcome; results are stored only when a backend is configured.
        "task_ignore_result": not cfg.result_backend,
        "task_default_queue": cfg.default_queue,
        "task_create_missing_queues": True,
        "worker_concurrency": cfg.worker_concurrency,
        # A try may run for hours: Redis must not hand its unacknowledged message to another worker
        # meanwhile (the claim would refuse it, but it would be noise on every long try).
        "broker_transport_options": {
            "visibility_timeout": cfg.visibility_timeout,
            **broker_socket_options(settings),
            **broker_priority_options(settings),
        },
        "broker_connection_timeout": cfg.broker_connect_timeout,
        "broker_heartbeat": cfg.broker_heartbeat,
        # The Redis result backend, when there is one, is bounded like the broker.
        "redis_socket_timeout": cfg.broker_socket_timeout,
        "redis_socket_connect_timeout": cfg.broker_connect_timeout,
        "redis_socket_keepalive": True,
        "redis_retry_on_timeout": True,
        "redis_backend_health_check_interval": cfg.broker_heartbeat,
        "worker_send_task_events": cfg.send_task_events,
        # No "task-sent" events: they cost the scheduler a publish per try, and they name the task
        # by its generic name where workers' events use the "<dag_id>.<task_id>" shadow name.
        "task_send_sent_event": False,
        "broker_connection_retry_on_startup": True,
        # Running tries carry on when the broker goes away; their outcome is in the DB.
        "worker_cancel_long_running_tasks_on_connection_loss": False,
        "enable_utc": True,
        # RabbitMQ queues are declared as priority queues (a queue declared earlier without it
        # must be deleted once, or this set to None in celery.extra); Redis ignores it.
        "task_queue_max_priority": PRIORITY_LEVELS - 1,
        # Pool processes keep the real stdout/stderr: each try points them at its own log file.
        "worker_redirect_stdouts": False,
        **LOCKED,
    }
    for key, value in cfg.extra.items():
        _check_extra_key(key, value)
        if key == "broker_transport_options":
            conf[key] = {**conf[key], **value}
        else:
            conf[key] = value
    return conf


def broker_socket_options(settings: Settings) -> dict[str, Any]:
    """Transport options bounding every wait on the broker connection (ARCHITECTURE.md, invariant 11).

    Keepalive probes and TCP_USER_TIMEOUT end a connection into a black hole; Redis also gets
    a socket timeout and periodic health checks, RabbitMQ its heartbeats (``broker_heartbeat``).
    """
    cfg = settings.celery
    keepalive = {
        socket.TCP_KEEPIDLE: cfg.broker_keepalive_idle,
        socket.TCP_KEEPINTVL: cfg.broker_keepalive_interval,
        socket.TCP_KEEPCNT: cfg.broker_keepalive_count,
    }
    # Sent data left unacknowledged ends the connection as soon as silent probes would.
    probes = cfg.broker_keepalive_idle + cfg.broker_keepalive_interval * cfg.broker_keepalive_count
    user_timeout = int(probes * 1000)
    if is_redis(cfg.broker_url):
        return {
            "socket_timeout": cfg.broker_socket_timeout,
            "socket_connect_timeout": cfg.broker_connect_timeout,
            "socket_keepalive": True,
            "socket_keepalive_options": {**keepalive, socket.TCP_USER_TIMEOUT: user_timeout},
            "health_check_interval": cfg.broker_heartbeat,
            "retry_on_timeout": True,
        }
    if cfg.broker_url.startswith(("amqp://", "amqps://", "pyamqp://")):
        # py-amqp turns SO_KEEPALIVE on itself and applies these socket settings.
        return {"socket_settings": {**keepalive, socket.TCP_USER_TIMEOUT: user_timeout},
                "write_timeout": cfg.broker_socket_timeout}
    return {}


def is_redis(broker_url: str) -> bool:
    return broker_url.startswith(("redis://", "rediss://", "redis+socket://", "sentinel://"))


def broker_priority_options(settings: Settings) -> dict[str, Any]:
    """Redis keeps one list per priority level and pops them highest first."""
    if is_redis(settings.celery.broker_url):
        return {"priority_steps": list(range(PRIORITY_LEVELS))}
    return {}


def message_priority(priority_weight: int, broker_url: str) -> int:
    """Celery message priority of a try whose task has ``priority_weight`` (Airflow's, unbounded).

    Weights are bucketed by powers of two (1, 2-3, 4-7, ... 512 and more), so that the weights
    Airflow's rules produce (a chain's downstream sums reach hundreds) still spread over the
    broker's ten levels. RabbitMQ delivers the highest number first, Redis the lowest.
    """
    level = min(max(int(priority_weight), 1).bit_length() - 1, PRIORITY_LEVELS - 1)
    return PRIORITY_LEVELS - 1 - level if is_redis(broker_url) else level


def _check_extra_key(key: str, value: Any) -> None:
    from celery.app.defaults import DEFAULTS

    if key in LOCKED and value != LOCKED[key]:
        raise ConfigError(
            f"celery.extra.{key}: Tandem requires {LOCKED[key]!r} (its delivery guarantees rest on it)"
        )
    if key not in DEFAULTS:
        close = difflib.get_close_matches(key, list(DEFAULTS), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else " (see Celery's configuration reference)"
        raise ConfigError(f"celery.extra: unknown Celery setting {key!r}{hint}")


def create_app(settings: Settings | None = None) -> Celery:
    """A Celery app configured from ``settings`` with Tandem's task and worker hooks registered."""
    from celery import Celery

    from tandem.executors.celery import redis_fixes, tasks, worker

    redis_fixes.install()
    settings = settings or get_settings()
    app = Celery("tandem")
    app.config_from_object(celery_config(settings))
    tasks.register(app)
    worker.connect_signals()
    return app


def close_app(app: Celery) -> None:
    """Close the app's broker connections (``Celery.close`` only forgets them)."""
    app.pool.force_close_all()
    app.close()


_app: Celery | None = None


def get_app() -> Celery:
    """The process's app, built from the process's settings on first use."""
    global _app
    if _app is None:
        _app = create_app()
    return _app


def __getattr__(name: str) -> Any:
    # ``celery -A tandem.executors.celery.app`` reads ``app``: build it only when asked for.
    if name == "app":
        return get_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
