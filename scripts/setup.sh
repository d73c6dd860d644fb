#!/usr/bin/env bash
# Sets up a fresh machine: system packages (as root), a virtual environment with the pinned
# Python dependencies, and the cocktail package itself. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

# command -> Debian package. espeak-ng speaks the embedded corpus and museval needs ffmpeg: the pipeline
# cannot run without them. Chromium and its driver only serve the test that opens the report page.
declare -A needed=([espeak-ng]=espeak-ng [ffmpeg]=ffmpeg)
declare -A for_tests=([chromium]=chromium [chromedriver]=chromium-driver)
missing=() missing_for_tests=()
for cmd in "${!needed[@]}"; do command -v "$cmd" >/dev/null || missing+=("${needed[$cmd]}"); done
for cmd in "${!for_tests[@]}"; do command -v "$cmd" >/dev/null || missing_for_tests+=("${for_tests[$cmd]}"); done
all=("${missing[@]}" "${missing_for_tests[@]}")
if [ ${#all[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing system packages: ${all[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${all[@]}" >/dev/null
  elif [ ${#missing[@]} -gt 0 ]; then
    echo "error: missing system packages: ${all[*]}." >&2
    echo "  espeak-ng speaks the embedded corpus; ffmpeg is needed by museval (via musdb); chromium and" >&2
    echo "  chromium-driver open the report page in the tests." >&2
    echo "  Install them, e.g. 'sudo apt-get install ${all[*]}' (Debian/Ubuntu)." >&2
    exit 1
  else
    echo "warning: the report-page test needs ${missing_for_tests[*]}: 'sudo apt-get install ${missing_for_tests[*]}'." >&2
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
