"""The authoring SDK: everything a DAG file touches, and nothing else.

Invariants:
- imports nothing from ``tandem.db``, ``tandem.models``, ``tandem.scheduler``,
  ``tandem.api`` or ``tandem.runner``; those layers depend on this one, never back;
- the scheduler and UI never see these Python objects, only the JSON produced by
  :mod:`tandem.sdk.serialization`; the runner re-imports the DAG file and drives an
  operator through the contract in :mod:`tandem.sdk.runtime`.
"""
