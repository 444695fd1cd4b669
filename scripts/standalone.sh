#!/usr/bin/env bash
# Sets everything up, then runs `tandem standalone` (SQLite in $TANDEM_HOME, example DAGs).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/bootstrap.sh"
exec "${TANDEM_VENV:-$root/.venv}/bin/tandem" standalone "$@"
