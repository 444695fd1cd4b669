"""ORM tables, one module per table. Importing this package registers every table on ``Base``."""

from tandem.models.asset import AssetConsumer, AssetEvent, AssetEventDagRun
from tandem.models.backfill import Backfill, BackfillDagRun
from tandem.models.base import Base, table_of, utcnow
from tandem.models.bundle import BundleFileContent, DagBundle, DagBundleVersion
from tandem.models.connection import Connection
from tandem.models.dag import DagCode, DagModel, ImportError_, SerializedDagModel
from tandem.models.dag_run import DagRun
from tandem.models.node import Lock, Node
from tandem.models.pool import DEFAULT_POOL, Pool
from tandem.models.security import AuditLog, LoginFailure, UserSession
from tandem.models.task_instance import TaskInstance, TaskTry
from tandem.models.user import ApiToken, Role, User  # noqa: F401  (registers the tables)
from tandem.models.variable import Variable
from tandem.models.xcom import XCom

__all__ = [
    "DEFAULT_POOL",
    "AssetConsumer",
    "AssetEvent",
    "AssetEventDagRun",
    "AuditLog",
    "Backfill",
    "BackfillDagRun",
    "Base",
    "BundleFileContent",
    "Connection",
    "DagBundle",
    "DagBundleVersion",
    "DagCode",
    "DagModel",
    "DagRun",
    "ImportError_",
    "Lock",
    "LoginFailure",
    "Node",
    "Pool",
    "SerializedDagModel",
    "TaskInstance",
    "TaskTry",
    "UserSession",
    "Variable",
    "XCom",
    "table_of",
    "utcnow",
]
