#!/usr/bin/env bash
# Print a Python >= 3.11 that can create virtual environments, installing Debian's
# python3-venv first when it is missing and we are root (a fresh Debian 12 lacks it).
set -euo pipefail
for py in "${PYTHON:-}" python3.13 python3.12 python3.11 python3; do
  [ -n "$py" ] || continue
  command -v "$py" >/dev/null 2>&1 || continue
  "$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || continue
  if ! "$py" -c 'import ensurepip, venv' >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      echo "installing python3-venv (needed for .venv)" >&2
      apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >&2
    else
      echo "error: $py has no venv module; install python3-venv" >&2
      exit 1
    fi
  fi
  command -v "$py"
  exit 0
done
echo "error: Python >= 3.11 not found (install python3 from Debian 12 or newer)" >&2
exit 1
