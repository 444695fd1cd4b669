"""The scheduler: creates due DAG runs, decides which task instances can run, queues them.

Any number of schedulers run at once against one database (ARCHITECTURE.md, invariant 3):
DAG runs are taken with ``SELECT ... FOR UPDATE SKIP LOCKED`` in small batches, and queuing
(pools, DAG concurrency, executor slots) happens in one short critical section guarded by a
lock row taken with ``NOWAIT``. No decision depends on memory that a peer cannot see.
"""
