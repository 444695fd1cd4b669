"""The task runner: claims a try, runs the task's code, and records how it ended.

Every executor runs tries through ``execute.run_workload``. The claim (queued -> running with
the try number) happens before any user code, so a duplicate delivery of the same workload
loses the compare-and-set and runs nothing (ARCHITECTURE.md, invariant 4).
"""
