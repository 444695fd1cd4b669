"""Pods launched per second by the Kubernetes executor's launcher against the API emulator.

The emulator runs without its kubelet (pods stay Pending), so this measures the scheduler side:
building each pod (template + Tandem's part + override), and creating it over HTTP with the
official client, ``worker_pods_creation_batch_size`` requests at a time. Also reported: the
scheduler process's CPU seconds per 100 pods (steadier than wall time on a shared machine).

    .venv/bin/python bench/kubernetes_bench.py [--pods 500] [--batch-sizes 1,16,64] [--validate]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tandem.config import Settings, reset_settings
from tandem.db.engine import get_engine
from tandem.db.migrate import migrate
from tandem.executors.kubernetes.client import core_api
from tandem.executors.kubernetes.launcher import PodLauncher
from tandem.executors.kubernetes.pod import load_template
from tandem.executors.workload import Workload
from tests.fixtures.kube import start_emulator


def measure(pods: int, batch: int, validate: bool, folder: Path) -> tuple[float, float]:
    emulator = start_emulator(folder / f"emulator-{batch}", kubelet=False, validate=validate)
    try:
        settings = Settings(kubernetes={"config_file": str(emulator.kubeconfig), "image": "tandem:bench",
                                        "worker_pods_creation_batch_size": batch})
        stop = threading.Event()
        launcher = PodLauncher(core_api(settings), settings, load_template(settings), "bench-node",
                               lambda event: stop.is_set() or print("unexpected:", event), stop)
        workloads = [Workload("bench", f"run_{i // 10}", f"task_{i % 10}", -1, 1, queued_by="bench-node")
                     for i in range(pods)]
        launcher.start()
        cpu, started = time.process_time(), time.monotonic()
        launcher.submit(workloads)
        while emulator.stats()["pods"] < pods:
            time.sleep(0.02)
        wall, cpu = time.monotonic() - started, time.process_time() - cpu
        stop.set()
        launcher.join(5)
        return pods / wall, cpu / pods * 100
    finally:
        emulator.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pods", type=int, default=500)
    parser.add_argument("--batch-sizes", default="1,16,64")
    parser.add_argument("--validate", action="store_true", help="the emulator validates each pod's schema")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["TANDEM_HOME"] = tmp
        os.environ["TANDEM__CORE__LOAD_EXAMPLES"] = "false"
        reset_settings()
        migrate(get_engine())
        print(f"{'batch size':>10} {'pods/s':>8} {'CPU s/100 pods':>15}")
        for batch in [int(b) for b in args.batch_sizes.split(",")]:
            rate, cpu = measure(args.pods, batch, args.validate, Path(tmp))
            print(f"{batch:>10} {rate:>8.1f} {cpu:>15.2f}")


if __name__ == "__main__":
    main()
