#!/usr/bin/env bash
# Sets up a fresh machine: system packages (as root), a virtual environment with the pinned
# Python dependencies, and the cocktail package itself. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v espeak-ng >/dev/null || missing+=(espeak-ng)
command -v ffmpeg >/dev/null || missing+=(ffmpeg)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing system packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "error: missing system packages: ${missing[*]}." >&2
    echo "  espeak-ng speaks the embedded corpus; ffmpeg is needed by museval (via musdb)." >&2
    echo "  Install them, e.g. 'sudo apt-get install ${missing[*]}' (Debian/Ubuntu) or 'brew install ${missing[*]}' (macOS)." >&2
    exit 1
  fi
fi

python=${PYTHON:-python3}
if ! "$python" -c 'import sys; sys.exit(not (3, 11) <= sys.version_info[:2] < (3, 14))'; then
  echo "error: cocktail needs Python 3.11 to 3.13; $python is $("$python" --version 2>&1). Set PYTHON=/path/to/python3.11." >&2
  exit 1
fi
[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[test]'
echo "setup done: activate with '. .venv/bin/activate'"
