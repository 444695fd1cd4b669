"""The ordered rules applied to every transition."""

from __future__ import annotations

from tandem.orchestration.rules.base import RunRule, TiRule
from tandem.orchestration.rules.retries import RetryFailedTaskInstances
from tandem.orchestration.rules.timestamps import StampRunTimes, StampTaskTimes

# Order matters: the retry rule may turn failed into up_for_retry before times are stamped.
TI_POLICY: tuple[TiRule, ...] = (RetryFailedTaskInstances(), StampTaskTimes())
RUN_POLICY: tuple[RunRule, ...] = (StampRunTimes(),)
