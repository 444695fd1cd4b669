"""Which file a try imports: its run's bundle version, materialized in this node's cache.

A try never imports code other than its run's version: the version comes from the run (read
with the claim), the files from the DB, cached under ``bundle_cache_folder`` by version. A node
needs no DAG files of its own. Runs created before bundles were versioned (no version
recorded) import ``fileloc`` from local disk, as before.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from tandem.config import Settings, get_settings
from tandem.dag_processing.bundles.base import BundleError
from tandem.dag_processing.bundles.cache import materialize
from tandem.db.session import session_scope
from tandem.executors.workload import Workload
from tandem.runner.claim import Claim


def dag_file_for(workload: Workload, claim: Claim, settings: Settings | None = None) -> str:
    """The path of the try's DAG file; raises BundleError (or BundleVersionMissing) naming the version."""
    if not (claim.bundle_name and claim.bundle_version and workload.relative_fileloc):
        return workload.fileloc
    settings = settings or get_settings()
    key = (settings.bundle_cache_folder, claim.bundle_name, claim.bundle_version, workload.relative_fileloc)
    known = _resolved.get(key)
    if known is not None and known[0] == _current:
        return known[1]
    folder = materialize(settings.bundle_cache_folder, claim.bundle_name, claim.bundle_version, session_scope)
    path = folder / workload.relative_fileloc
    use_version(folder)
    if not path.is_file():
        raise BundleError(f"bundle {claim.bundle_name!r} version {claim.bundle_version} has no file "
                          f"{workload.relative_fileloc} (the DAG moved to another file after this run started)")
    # Version folders never change once written, so a path found once stays right while it is cached.
    _resolved[key] = (folder, str(path))
    return str(path)



def load_run_dag(workload: Workload, claim: Claim, settings: Settings | None = None) -> Any:
    """The try's DAG object, imported from its run's version.

    A version folder pruned by a peer process after this one cached its path is noticed here:
    the path is forgotten and resolved again, which names the version if it is gone for good.
    """
    from tandem.dag_processing.bundles.cache import forget
    from tandem.dag_processing.parser import load_dag

    path = dag_file_for(workload, claim, settings)
    try:
        return load_dag(path, workload.dag_id)
    except FileNotFoundError:
        if not claim.bundle_version:
            raise
        _resolved.clear()
        forget(Path(path).parents[len(Path(workload.relative_fileloc).parts) - 1])
        return load_dag(dag_file_for(workload, claim, settings), workload.dag_id)


_current: Path | None = None
_resolved: dict[tuple[Path, str, str, str], tuple[Path, str]] = {}


def use_version(folder: Path) -> None:
    """Make ``import helper`` in a DAG file find ``folder``'s helper, not another version's.

    A long-lived process (a supervisor, a Celery worker) imports several versions in turn: the
    modules it imported from other version folders of the cache are forgotten, and those
    folders leave ``sys.path``. Only done when the version changes, so a warm hop pays nothing.
    """
    global _current
    if folder == _current:
        return
    cache_root = str(folder.parent.parent) + os.sep
    mine = str(folder) + os.sep
    sys.path[:] = [p for p in sys.path if not (p + os.sep).startswith(cache_root) or (p + os.sep).startswith(mine)]
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if file and file.startswith(cache_root) and not file.startswith(mine):
            del sys.modules[name]
    _current = folder
