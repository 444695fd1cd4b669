"""EmptyOperator: a no-op node used to join or fan out branches."""

from __future__ import annotations

from typing import Any

from tandem.sdk.baseoperator import BaseOperator


class EmptyOperator(BaseOperator):
    """Does nothing; useful as a join point or placeholder."""

    ui_color = "#e8f7e4"

    def execute(self, context: dict[str, Any]) -> None:
        return None
