"""A DAG file that raises at import (line 8): an import error that must not stop other DAGs."""

from datetime import datetime

from tandem import DAG

with DAG("core_broken", schedule=None, start_date=datetime(2024, 1, 1)) as dag:
    raise RuntimeError("core_broken fails at import on purpose")
