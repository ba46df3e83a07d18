# Sourced by bin/run and bin/test: find Python >= 3.12, make sure uv exists, and sync .venv from
# the committed lock file. Installs nothing outside the checkout (uv, if missing, goes to var/).
set -euo pipefail

find_python() {
  local cand
  for cand in "${TSUNAGU_PYTHON:-}" \
      "$(command -v python3.13 2>/dev/null || true)" "$(command -v python3.12 2>/dev/null || true)" \
      "$(pyenv prefix 3.12 2>/dev/null | head -1)/bin/python3" \
      "$(pyenv prefix 3.13 2>/dev/null | head -1)/bin/python3" \
      "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.1[2-9]*/bin/python3 \
      "$(command -v python3 2>/dev/null || true)"; do
    if [ -n "$cand" ] && [ -x "$cand" ] && "$cand" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
      echo "$cand"; return 0
    fi
  done
  return 1
}

PYTHON=$(find_python) || { echo "Tsunagu needs Python 3.12 or newer; none was found (set TSUNAGU_PYTHON)." >&2; exit 1; }
export UV_PYTHON_DOWNLOADS=never UV_PYTHON="$PYTHON"

if command -v uv >/dev/null 2>&1; then
  UV=$(command -v uv)
else
  UV=var/tools/bin/uv
  if [ ! -x "$UV" ]; then
    echo "uv not found: installing it into var/tools (nothing outside this folder changes)"
    "$PYTHON" -m venv var/tools
    var/tools/bin/pip install --quiet --disable-pip-version-check uv
  fi
fi
"$UV" sync --locked --quiet ${UV_SYNC_ARGS:-}
