#!/usr/bin/env bash
# Set up vidhand on a fresh Debian/Ubuntu machine: system libraries OpenCV and
# MediaPipe need (when run as root), a virtual environment in .venv, and the package
# with its extras. Safe to run again. No network access is needed at run time.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
if ! "$PY" -c 'import sys; sys.exit(not ((3, 10) <= sys.version_info[:2] <= (3, 12)))'; then
  echo "vidhand needs Python 3.10 to 3.12 (mediapipe 0.10.21); set PYTHON=/path/to/python3.x" >&2
  exit 2
fi

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  missing=()
  for pkg in libgl1 libglib2.0-0; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
fi

[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[app,export,dev,ray]"
.venv/bin/vidhand --version
