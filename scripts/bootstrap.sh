#!/usr/bin/env bash
# Creates .venv and installs Tandem with every extra and the test tools. Fast when nothing changed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv=${TANDEM_VENV:-$root/.venv}
python=${PYTHON:-python3}
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "Tandem needs Python >= 3.11 ($python is $("$python" --version 2>&1))" >&2
  exit 1
fi
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
stamp="$venv/.tandem-installed"
want=$(cat "$root/pyproject.toml" | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "Installing Tandem and its dependencies into $venv ..." >&2
  # pip's notes about this machine's extra package indexes are noise here; real errors still show.
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -e "$root[all,test]" \
    2> >(grep -v "^WARNING: Location" >&2)
  echo "$want" > "$stamp"
fi
