"""DAG bundles: named, versioned sources of DAG files (a local folder, a git repository).

Invariants:
- a bundle version is a manifest {relative path: sha256 of the file's bytes}; its id is the git
  commit (git bundles) or the sha256 of the manifest (local folders), so equal trees have equal ids;
- whatever node parses a bundle stores each new version's files in the metadata DB by content
  hash (deduplicated across versions and bundles) before any DAG parsed from it is stored, so a
  run that records a version can always be materialized from the DB while the version is kept;
- a DAG run records the version its DAG's serialized form was parsed from, and every try of it
  runs that version's code, materialized by the runner into a cache keyed by version;
- versions are garbage-collected only when no unfinished run, no serialized DAG and no bundle's
  latest pointer names them (``gc.py``).

Modules: ``base`` (the contract), ``local`` and ``git`` (implementations), ``loader`` (from
config), ``storage`` (DB reads and writes), ``lease`` (which processor parses a bundle),
``cache`` (materializing a version on a runner), ``gc``.
"""
