#!/usr/bin/env bash
# Sets everything up, then runs the whole test suite. Extra arguments go to pytest.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/bootstrap.sh"
"$root/scripts/install-system-deps.sh"
cd "$root"
venv=${TANDEM_VENV:-$root/.venv}
echo "ruff check ..." >&2
"$venv/bin/ruff" check src tests bench
echo "mypy ..." >&2
"$venv/bin/mypy"
exec "$venv/bin/python" -m pytest "$@"
