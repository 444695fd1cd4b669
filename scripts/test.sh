#!/usr/bin/env bash
# Sets everything up, then runs the whole test suite. Extra arguments go to pytest.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/bootstrap.sh"
"$root/scripts/install-system-deps.sh"
cd "$root"
exec "${TANDEM_VENV:-$root/.venv}/bin/python" -m pytest "$@"
