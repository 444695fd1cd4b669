"""``BaseNotifier``: a reusable callback object (``on_failure_callback=SlackNotifier(...)``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from tandem.sdk.templating import jinja_environment, render_value


class BaseNotifier:
    """Subclasses implement :meth:`notify`; fields in ``template_fields`` are rendered first."""

    template_fields: ClassVar[Sequence[str]] = ()

    def notify(self, context: dict[str, Any]) -> None:
        raise NotImplementedError(f"{type(self).__name__} must implement notify()")

    def __call__(self, context: dict[str, Any]) -> None:
        env = jinja_environment(context.get("dag"))
        for field in self.template_fields:
            setattr(self, field, render_value(getattr(self, field), context, env))
        self.notify(context)
