"""The settings tree. Sections mirror the packages that read them."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from tandem.config.dag_processor import DagProcessorSettings
from tandem.config.metrics import MetricsSettings

ENV_PREFIX = "TANDEM__"


class ConfigError(Exception):
    """A config file or variable is unreadable, has an unknown key or a bad value."""


def tandem_home() -> Path:
    """``$TANDEM_HOME``, default ``~/tandem``: config file, SQLite DB and logs live here."""
    return Path(os.environ.get("TANDEM_HOME") or Path.home() / "tandem").expanduser()


def config_path() -> Path:
    explicit = os.environ.get("TANDEM_CONFIG")
    return Path(explicit).expanduser() if explicit else tandem_home() / "tandem.toml"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


class CoreSettings(_Section):
    dags_folder: Path | None = Field(None, description="Folder scanned for DAG files; default $TANDEM_HOME/dags.")
    load_examples: bool = Field(True, description="Also load the example DAGs shipped with Tandem.")
    executor: str = Field("local", description="Executor alias (local, celery, kubernetes) or module:Class.")
    parallelism: int = Field(32, ge=1, description="Task instances running at once per scheduler's executor.")
    local_executor_supervisors: int = Field(
        2, ge=1, le=64, description="Warm supervisor processes of the local executor (each forks tries)."
    )
    max_active_tasks_per_dag: int = Field(16, ge=1, description="Default max_active_tasks of a DAG.")
    max_active_runs_per_dag: int = Field(16, ge=1, description="Default max_active_runs of a DAG.")
    dags_are_paused_at_creation: bool = Field(True, description="New DAGs start paused.")
    default_timezone: str = Field("UTC", description="Time zone of naive datetimes in DAG files.")
    fernet_key: str = Field("", description="Key encrypting connections and secret variables (cluster-wide).")
    dag_file_processor_timeout: float = Field(50.0, gt=0, description="Seconds a DAG file may take to import.")
    max_map_length: int = Field(
        1024, ge=1, description="Most items a task's return value may hold when a mapped task maps over it; "
        "a longer one fails the task (as in Airflow).")
    hostname: str = Field("", description="Name this node reports; default the machine's host name.")


class DatabaseSettings(_Section):
    url: str = Field("", description="SQLAlchemy URL of the metadata DB; default SQLite in $TANDEM_HOME.")
    pool_size: int = Field(5, ge=1, description="Connections kept open per process.")
    max_overflow: int = Field(10, ge=0, description="Extra connections allowed above pool_size.")
    connect_timeout: float = Field(10.0, gt=0, description="Seconds to wait for a new DB connection.")
    echo: bool = Field(False, description="Log every SQL statement.")
    # Bounded waits (ARCHITECTURE.md, invariant 11): a frozen peer or a black-holed connection
    # must cost seconds. 0 turns a server-side limit off.
    lock_timeout: float = Field(
        10.0, ge=0, description="Seconds a statement waits for a row or table lock before failing (0: forever)."
    )
    statement_timeout: float = Field(
        60.0, ge=0, description="Seconds one statement may run before the server cancels it (0: no limit)."
    )
    idle_in_transaction_timeout: float = Field(
        30.0, ge=0, description="Seconds a transaction may sit idle before the server ends its session (0: never); "
        "bounds how long a frozen node's row locks stall its peers: keep it at most scheduler.node_timeout."
    )
    read_timeout: float = Field(
        90.0, gt=0, description="MySQL/MariaDB: seconds the client waits for an answer or to send; "
        "keep it above statement_timeout."
    )
    tcp_keepalive_idle: int = Field(10, ge=1, description="Seconds of silence before TCP keepalive probes start.")
    tcp_keepalive_interval: int = Field(5, ge=1, description="Seconds between TCP keepalive probes.")
    tcp_keepalive_count: int = Field(3, ge=1, description="Unanswered keepalive probes that end a connection.")
    tcp_user_timeout: float = Field(
        30.0, ge=0, description="Seconds sent data may stay unacknowledged before the connection is dropped "
        "(TCP_USER_TIMEOUT; 0: the kernel's default, about 15 minutes)."
    )
    pool_recycle: float = Field(1800.0, gt=0, description="Seconds after which a pooled connection is replaced.")
    migration_lock_timeout: float = Field(
        600.0, gt=0, description="Seconds `tandem db migrate` waits for another node's migration to finish."
    )


class SchedulerSettings(_Section):
    poll_interval: float = Field(1.0, gt=0, description="Longest sleep between loops when no event wakes it.")
    heartbeat_interval: float = Field(5.0, gt=0, description="Seconds between node and task heartbeats.")
    node_timeout: float = Field(30.0, gt=0, description="A node silent this long is dead; peers adopt its work.")
    zombie_threshold: float = Field(60.0, gt=0, description="A running try whose heartbeat is older is a zombie.")
    queued_timeout: float = Field(600.0, gt=0, description="A try queued this long is re-queued or failed.")
    max_queued_requeues: int = Field(
        2, ge=0, description="Times a try is re-queued after queued_timeout before it fails (as a failed try).")
    max_dagruns_per_loop: int = Field(20, ge=1, description="DAG runs one scheduler locks per loop.")
    max_tis_per_query: int = Field(512, ge=1, description="Task instances queued per critical section.")
    dag_dir_list_interval: float = Field(30.0, gt=0, description="Seconds between scans for new DAG files.")
    min_file_process_interval: float = Field(5.0, ge=0, description="Seconds between checks of a file.")
    standalone_dag_processor: bool = Field(False, description="Do not parse DAG files in the scheduler.")


class LoggingSettings(_Section):
    base_log_folder: Path | None = Field(None, description="Task logs; default $TANDEM_HOME/logs.")
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", description="Level of Tandem's own log.")
    worker_log_server_port: int = Field(8793, ge=0, le=65535, description="Port serving this node's task logs.")
    worker_log_server_host: str = Field("0.0.0.0", description="Address a worker's log server binds.")
    worker_log_server_address: str = Field(
        "", description="Host name or IP other nodes reach this worker's log server at; default the machine's name."
    )
    remote_base_log_folder: str = Field(
        "", description="fsspec URL (shared directory, s3://..., gs://...) finished tries' logs are copied to."
    )
    remote_log_storage_options: dict[str, Any] = Field(
        default_factory=dict, description="Options for the remote log file system (fsspec storage_options)."
    )


class ApiSettings(_Section):
    host: str = Field("127.0.0.1", description="Address the API server binds.")
    port: int = Field(8080, ge=0, le=65535, description="Port the API server binds.")
    secret_key: str = Field("", description="Signs sessions and log tokens (cluster-wide).")
    workers: int = Field(1, ge=1, description="Worker processes of one API server.")
    base_url: str = Field("", description="URL users reach the UI at, when behind a proxy.")


DEFAULT_SENSITIVE_NAMES = [
    "access_token", "api_key", "apikey", "authorization", "passphrase", "passwd", "password", "private_key",
    "secret", "token", "keyfile_dict", "service_account", "access_key", "credentials",
]


class SecuritySettings(_Section):
    identifier_pattern: str = Field(
        r"^[A-Za-z0-9_.~:+-]+$",
        description="Run ids (and other identifiers that reach templates) must match this regular expression.",
    )
    sensitive_names: list[str] = Field(
        default_factory=lambda: list(DEFAULT_SENSITIVE_NAMES),
        description="A variable or connection extra key containing one of these words (any case) is a secret: "
        "its value is shown as *** everywhere.",
    )
    min_secret_key_length: int = Field(16, ge=0, description="api.secret_key shorter than this is refused.")
    session_max_age_hours: float = Field(24.0, gt=0, description="A UI session ends this long after login.")
    session_idle_minutes: float = Field(120.0, gt=0, description="A UI session unused this long ends.")
    token_default_expiry_days: float = Field(
        90.0, ge=0, description="Expiry of an API token created without one; 0 = never expires."
    )
    token_max_expiry_days: float = Field(365.0, gt=0, description="Longest lifetime an API token may be given.")
    login_free_failures: int = Field(5, ge=1, description="Failed logins of one username before backoff starts.")
    login_free_failures_per_client: int = Field(
        50, ge=1, description="Failed logins from one client address (any usernames) before backoff starts; higher, "
        "as users behind one proxy share an address."
    )
    login_backoff_max_seconds: float = Field(900.0, gt=0, description="Longest wait imposed after failed logins.")
    password_min_length: int = Field(10, ge=1, description="Shortest password accepted for a user.")
    metrics_require_login: bool = Field(
        True, description="/metrics needs credentials (any role); false serves it openly, e.g. behind a firewall."
    )
    max_conf_bytes: int = Field(65536, ge=1, description="Largest DAG run conf accepted, as JSON bytes.")
    max_variable_bytes: int = Field(1_048_576, ge=1, description="Largest variable value accepted.")
    page_value_chars: int = Field(
        10_000, ge=100, description="Values longer than this (conf, variables, XComs) are cut in pages, "
        "with a link to show all."
    )


class CelerySettings(_Section):
    broker_url: str = Field("redis://127.0.0.1:6379/0", description="Celery broker (redis:// or amqp://).")
    result_backend: str = Field("", description="Celery result backend; Tandem keeps state in its DB.")
    default_queue: str = Field("default", description="Queue of tasks that name none.")
    worker_concurrency: int = Field(8, ge=1, description="Tries one worker runs at once.")
    visibility_timeout: float = Field(
        86400.0, gt=0, description="Redis: seconds before an unacknowledged message is delivered again; "
        "keep it above the longest try."
    )
    send_task_events: bool = Field(True, description="Workers send Celery task events (Flower shows tries from them).")
    # Bounded waits on the broker (ARCHITECTURE.md, invariant 11): a dead or black-holed broker
    # connection is noticed in seconds and re-established, never waited on forever.
    broker_connect_timeout: float = Field(10.0, gt=0, description="Seconds to wait for a new broker connection.")
    broker_socket_timeout: float = Field(
        30.0, gt=0, description="Redis: seconds a broker or result-backend read or write may take."
    )
    broker_heartbeat: float = Field(
        10.0, ge=0, description="RabbitMQ: heartbeat seconds (0: off); Redis: seconds between connection "
        "health checks."
    )
    broker_keepalive_idle: int = Field(10, ge=1, description="Seconds of silence before TCP keepalive probes start.")
    broker_keepalive_interval: int = Field(5, ge=1, description="Seconds between TCP keepalive probes.")
    broker_keepalive_count: int = Field(3, ge=1, description="Unanswered keepalive probes that end a connection.")
    extra: dict[str, Any] = Field(default_factory=dict, description="Further Celery settings, passed as-is.")


class KubernetesSettings(_Section):
    namespace: str = Field("default", description="Namespace the worker pods run in.")
    in_cluster: bool = Field(False, description="Use the service account of the pod this node runs in.")
    config_file: str = Field("", description="Kubeconfig file when not in_cluster; default $KUBECONFIG or ~/.kube/config.")
    context: str = Field("", description="Kubeconfig context; default the file's current context.")
    image: str = Field("", description="Image of the task container; default the pod template's.")
    pod_template_file: str = Field("", description="YAML pod every worker pod starts from; default a minimal pod.")
    delete_worker_pods: bool = Field(True, description="Delete a worker pod once its try ended.")
    delete_worker_pods_on_failure: bool = Field(
        False, description="Also delete pods whose container failed (kept by default, for inspection).")
    worker_pods_creation_batch_size: int = Field(
        16, ge=1, le=256, description="Pods created at once (concurrent requests to the API server).")
    pending_timeout: float = Field(
        300.0, gt=0, description="A pod Pending this long (image pull, unschedulable) fails its try with the reason.")
    kubernetes_queue: str = Field(
        "kubernetes", description="celery_kubernetes executor: tasks of this queue run in pods, the rest on Celery.")
    api_retry_timeout: float = Field(
        60.0, gt=0, description="Seconds a refused pod creation (quota, 409, 429, 5xx) is retried before the try "
        "is handed back to the scheduler.")
    watch_timeout: float = Field(
        60.0, gt=0, description="Seconds one pod watch request lasts before it is renewed.")


class Settings(BaseSettings):
    """The whole configuration; ``TANDEM__SECTION__KEY`` overrides ``[section] key`` of the file."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="forbid", case_sensitive=False
    )

    core: CoreSettings = CoreSettings()
    database: DatabaseSettings = DatabaseSettings()
    scheduler: SchedulerSettings = SchedulerSettings()
    logging: LoggingSettings = LoggingSettings()
    api: ApiSettings = ApiSettings()
    celery: CelerySettings = CelerySettings()
    kubernetes: KubernetesSettings = KubernetesSettings()
    security: SecuritySettings = SecuritySettings()
    dag_processor: DagProcessorSettings = DagProcessorSettings()
    metrics: MetricsSettings = MetricsSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The file's contents arrive as init kwargs; the environment must win over them.
        return (env_settings, init_settings)

    @property
    def home(self) -> Path:
        return tandem_home()

    @property
    def dags_folder(self) -> Path:
        return (self.core.dags_folder or self.home / "dags").expanduser()

    @property
    def bundle_cache_folder(self) -> Path:
        return (self.dag_processor.bundle_cache_folder or self.home / "bundle_cache").expanduser()

    @property
    def log_folder(self) -> Path:
        return (self.logging.base_log_folder or self.home / "logs").expanduser()

    @property
    def database_url(self) -> str:
        return self.database.url or f"sqlite:///{self.home / 'tandem.db'}"


def _format_errors(err: ValidationError, source: str) -> str:
    lines = []
    for e in err.errors():
        key = ".".join(str(p) for p in e["loc"])
        if e["type"] == "extra_forbidden":
            lines.append(f"{source}: unknown key '{key}'")
        else:
            lines.append(f"{source}: '{key}': {e['msg']} (got {e.get('input')!r})")
    return "\n".join(lines)


def load_settings(path: Path | None = None) -> Settings:
    """Read the config file (if any) and the environment; raise ConfigError naming each bad key."""
    path = path or config_path()
    data: dict[str, Any] = {}
    if path.exists():
        try:
            data = tomllib.loads(path.read_text())
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"{path}: not valid TOML: {e}") from None
    try:
        return Settings(**data)
    except ValidationError as e:
        raise ConfigError(_format_errors(e, f"{path} / {ENV_PREFIX}* environment")) from None


_settings: Settings | None = None


def get_settings() -> Settings:
    """The process-wide settings, loaded on first use."""
    global _settings
    if _settings is None:
        _settings = load_settings()
    return _settings


def reset_settings() -> None:
    """Forget the loaded settings (tests, and after ``tandem.toml`` was written)."""
    global _settings
    _settings = None
