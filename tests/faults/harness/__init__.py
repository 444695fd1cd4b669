"""Fault-injection harness: a cluster of real processes on PostgreSQL, a breakable TCP proxy,
private servers, signals, clock skew, a small disk, and the invariant checker. Used by
``tests/faults`` and by ``bench/soak.py``; nothing here depends on pytest fixtures."""

from tests.faults.harness.cluster import FAST, FaultCluster, NodeProc, pause, paused, resume, supervisor_of
from tests.faults.harness.invariants import Report, check_invariants
from tests.faults.harness.proxy import TcpProxy
from tests.faults.harness.servers import PrivateRedis, SmallVolume, Unavailable, faketime_env, free_port

__all__ = ["FAST", "FaultCluster", "NodeProc", "PrivateRedis", "Report", "SmallVolume", "TcpProxy", "Unavailable",
           "check_invariants", "faketime_env", "free_port", "pause", "paused", "resume", "supervisor_of"]
