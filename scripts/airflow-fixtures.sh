#!/usr/bin/env bash
# Runs the DAGs of tests/fixtures/airflow/dags under real Apache Airflow on SQLite and writes
# the metadata DB as a SQL dump, tests/fixtures/airflow/airflow<MAJOR>.sql, which the tests of
# `tandem db merge --from <Airflow DB>` load.
#
# usage: scripts/airflow-fixtures.sh [3|2] [VENV]
#   3 (default): Airflow 3.3.2, installed with ../shared/anchors/airflow/install.sh when VENV
#                (default $AIRFLOW_VENV, else a throwaway venv in $TMPDIR) has no airflow yet.
#   2:           Airflow 2.10.5 from PyPI (with its constraints file when GitHub is reachable).
set -euo pipefail
major=${1:-3}
repo=$(cd "$(dirname "$0")/.." && pwd)
fixtures=$repo/tests/fixtures/airflow
venv=${2:-${AIRFLOW_VENV:-${TMPDIR:-/tmp}/airflow$major-fixtures-venv}}
# The fixture tests decrypt connections and variables with this key.
fernet_key=ZmDfcTF7_60GrrY167zsiPd67pEvs0aGOv2oasOM1Pg=

if [ ! -x "$venv/bin/airflow" ]; then
  if [ "$major" = 3 ]; then
    bash "$repo/../shared/anchors/airflow/install.sh" "$venv"
  else
    python3 -m venv "$venv"
    py=$("$venv/bin/python" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
    constraints=https://raw.githubusercontent.com/apache/airflow/constraints-2.10.5/constraints-$py.txt
    if curl -sfI "$constraints" >/dev/null; then
      "$venv/bin/pip" install -q "apache-airflow==2.10.5" --constraint "$constraints"
    else
      "$venv/bin/pip" install -q "apache-airflow==2.10.5"
    fi
  fi
fi

home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
export AIRFLOW_HOME=$home
export AIRFLOW__CORE__DAGS_FOLDER=$fixtures/dags
export AIRFLOW__CORE__LOAD_EXAMPLES=False
export AIRFLOW__CORE__FERNET_KEY=$fernet_key
export AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=sqlite:///$home/airflow.db
af() { "$venv/bin/airflow" "$@"; }

af version
af db migrate
af variables set greeting hello --description "read by af_success"
af variables set api_secret s3cr3t-value --description "a secret"
af variables set settings_json '{"retries": 3, "tags": ["x"]}'
af connections add af_postgres --conn-type postgres --conn-host db.example --conn-login me \
  --conn-password pg-pass --conn-port 5432 --conn-schema app --conn-extra '{"sslmode": "require"}'
af connections add af_http --conn-uri 'http://user:http-pass@api.example:8080/v1'
af pools set af_pool 3 "pool of the fixture DAGs"
# `dags test` runs a whole DAG run in this process, retries included; a failed run exits non-zero.
af dags test af_success 2024-05-01
af dags test af_success 2024-05-02
af dags test af_retries 2024-05-01 || true
af dags test af_mapped 2024-05-01

"$venv/bin/python" - "$home/airflow.db" "$fixtures/airflow$major.sql" <<'PY'
import sqlite3, sys
src, out = sys.argv[1:]
with sqlite3.connect(src) as conn, open(out, "w") as f:
    for line in conn.iterdump():
        f.write(line + "\n")
PY
echo "wrote $fixtures/airflow$major.sql"
