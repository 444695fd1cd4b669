"""The Celery app Tandem builds from its settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from tandem.config import ConfigError, Settings
from tandem.executors.celery.app import LOCKED, TASK_NAME, celery_config, create_app, message_priority


def settings(**celery: object) -> Settings:
    return Settings(celery=celery)  # type: ignore[arg-type]


def test_delivery_guarantees_are_always_set(tandem_home: Path) -> None:
    conf = celery_config(
        settings(
            broker_url="amqp://guest:guest@localhost//",
            default_queue="main",
            worker_concurrency=3,
            visibility_timeout=7200,
        )
    )
    assert conf["task_acks_late"] is True and conf["task_reject_on_worker_lost"] is True
    assert conf["worker_prefetch_multiplier"] == 1
    assert conf["accept_content"] == ["json"] and conf["task_serializer"] == "json"
    assert conf["broker_url"] == "amqp://guest:guest@localhost//"
    assert conf["task_default_queue"] == "main" and conf["worker_concurrency"] == 3
    assert conf["broker_transport_options"]["visibility_timeout"] == 7200


def test_no_result_backend_means_results_are_ignored(tandem_home: Path) -> None:
    assert celery_config(settings())["task_ignore_result"] is True
    assert celery_config(settings())["result_backend"] is None
    conf = celery_config(settings(result_backend="redis://localhost/1"))
    assert conf["task_ignore_result"] is False and conf["result_backend"] == "redis://localhost/1"


def test_extra_settings_pass_through_and_merge_transport_options(tandem_home: Path) -> None:
    conf = celery_config(
        settings(extra={"task_default_priority": 5, "broker_transport_options": {"global_keyprefix": "x:"}})
    )
    assert conf["task_default_priority"] == 5
    options = conf["broker_transport_options"]
    assert options["visibility_timeout"] == 86400.0 and options["global_keyprefix"] == "x:"
    assert options["socket_timeout"] == 30.0  # the bounded waits stay


def test_unknown_extra_setting_is_refused_with_a_hint(tandem_home: Path) -> None:
    with pytest.raises(ConfigError, match="unknown Celery setting 'task_acks_lates'.*'task_acks_late'"):
        celery_config(settings(extra={"task_acks_lates": True}))


@pytest.mark.parametrize("key", sorted(LOCKED))
def test_settings_the_guarantees_rest_on_cannot_be_overridden(tandem_home: Path, key: str) -> None:
    with pytest.raises(ConfigError, match=f"celery.extra.{key}: Tandem requires"):
        celery_config(settings(extra={key: "something else"}))


def test_app_registers_the_one_task_and_is_found_by_the_celery_cli(tandem_home: Path) -> None:
    from celery.app.utils import find_app

    app = create_app(settings())
    assert TASK_NAME in app.tasks
    task = app.tasks[TASK_NAME]
    assert task.acks_late and task.reject_on_worker_lost
    found = find_app("tandem.executors.celery.app")
    assert TASK_NAME in found.tasks and found.conf.task_acks_late is True


@pytest.mark.parametrize(
    ("weight", "amqp", "redis"),
    [(-5, 0, 9), (0, 0, 9), (1, 0, 9), (2, 1, 8), (3, 1, 8), (30, 4, 5), (511, 8, 1), (512, 9, 0), (10**9, 9, 0)],
)
def test_priority_weights_map_to_broker_priorities(weight: int, amqp: int, redis: int) -> None:
    # RabbitMQ delivers the highest priority first, Redis (its lists popped in order) the lowest.
    assert message_priority(weight, "amqp://h//") == amqp
    assert message_priority(weight, "redis://h/0") == redis


def test_brokers_are_set_up_for_ten_priority_levels(tandem_home: Path) -> None:
    redis = celery_config(settings(broker_url="redis://h/0"))
    assert redis["broker_transport_options"]["priority_steps"] == list(range(10))
    amqp = celery_config(settings(broker_url="amqp://h//"))
    assert amqp["task_queue_max_priority"] == 9 and "priority_steps" not in amqp["broker_transport_options"]
