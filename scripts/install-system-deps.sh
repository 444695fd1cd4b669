#!/usr/bin/env bash
# Debian packages some tests drive (nginx in front of API replicas, Chromium for browser tests,
# faketime for the clock-skew fault tests).
# Installs only what is missing, and only where apt-get can run; tests needing a missing program skip.
set -uo pipefail
need=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v faketime >/dev/null 2>&1 || need+=(faketime)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian packages: ${need[*]} ..." >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >/dev/null 2>&1; } \
    || echo "Could not install ${need[*]}; tests that need them will skip." >&2
else
  echo "Not root or no apt-get: ${need[*]} not installed; tests that need them will skip." >&2
fi
exit 0
