"""The Kubernetes executor: a pod per try, labelled so that any scheduler can follow it.

Invariants: the runner in the pod claims and records the try (the executor records only what
the runner could not: a pod that never started, was killed or deleted), every such write is a
compare-and-set, and a pod's labels and annotations say everything a peer needs to adopt it.
"""
