#!/usr/bin/env bash
# Install everything the app needs, idempotently. A second run is quick: each
# step is skipped when its inputs have not changed since it last succeeded.
#
#   1. .venv from the hashed lock    (re-installed only when the lock changes): requirements.lock,
#      or requirements-dev.lock (runtime + test tools) with --dev, as scripts/test.sh does
#   2. bun from the npm registry     (npm ci only when package-lock.json changes)
#   3. redis-server                   (apt-get only if no binary AND no Redis at REDIS_URL)
#   4. database schema               (python -m igny8_app.cli db upgrade)
#
# Usage: bash scripts/setup.sh [--dev]
# The locks are generated from requirements*.txt by scripts/lock.sh (never edited by hand).
set -euo pipefail
lock=requirements.lock
[ "${1:-}" = "--dev" ] && lock=requirements-dev.lock
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
source "$IGNY8_ROOT/scripts/lib.sh"
cd "$IGNY8_ROOT"

# --- 1. Python venv -----------------------------------------------------------
if [ ! -x .venv/bin/python ]; then
  py="${IGNY8_PYTHON:-$(command -v python3.11 || command -v python3)}"
  log "creating .venv with $py ($("$py" --version 2>&1))"
  "$py" -m venv .venv
fi
req_stamp=.venv/.igny8-requirements.sha256
req_hash="$(sha256 "$lock")"
# A venv installed from the dev lock already holds the runtime lock (tests/unit/test_requirements_lock.py).
if [ "$(cat "$req_stamp" 2>/dev/null)" != "$req_hash" ] \
   && ! { [ "$lock" = requirements.lock ] && [ "$(cat "$req_stamp" 2>/dev/null)" = "$(sha256 requirements-dev.lock)" ]; }; then
  mkdir -p "$IGNY8_LOG_DIR"
  pip_log="$IGNY8_LOG_DIR/pip-install.log"
  log "pip install --require-hashes -r $lock (lock changed or first run; ~1 min; log: ${pip_log#"$IGNY8_ROOT"/})"
  if ! python -m pip install --disable-pip-version-check --require-hashes -r "$lock" >"$pip_log" 2>&1; then
    grep -v '^WARNING: Location' "$pip_log" | tail -n 30 >&2
    die "pip install failed (full log: $pip_log)"
  fi
  echo "$req_hash" > "$req_stamp"
fi
# The `igny8` console script (pyproject.toml): an editable install of this repo, no dependencies.
if [ ! -x .venv/bin/igny8 ]; then
  python -m pip install --disable-pip-version-check -q --no-deps -e . \
    >"$IGNY8_LOG_DIR/pip-editable.log" 2>&1 || warn "could not install the igny8 console script (see $IGNY8_LOG_DIR/pip-editable.log); use python -m igny8_app.cli"
fi

# --- 2. bun (the JS runtime Reflex builds the frontend with) -------------------
if ! command -v npm >/dev/null 2>&1; then
  apt_install nodejs npm          # only npm is needed: bun itself ships as a binary
fi
lock_hash="$(sha256 package-lock.json)"
lock_stamp=node_modules/.igny8-package-lock.sha256
if [ "$(cat "$lock_stamp" 2>/dev/null)" != "$lock_hash" ] || [ ! -x node_modules/.bin/bun ]; then
  log "npm ci (installs bun $(python -c 'import json;print(json.load(open("package.json"))["devDependencies"]["bun"])'))"
  npm ci --no-audit --no-fund --loglevel=error
  # npm >= 11 may skip dependency install scripts; bun's postinstall links the
  # real binary from @oven/bun-<platform>. Run it by hand if it was skipped.
  if ! node_modules/.bin/bun --version >/dev/null 2>&1; then
    (cd node_modules/bun && node install.js)
  fi
  echo "$lock_hash" > "$lock_stamp"
fi
node_modules/.bin/bun --version >/dev/null 2>&1 || die "bun from node_modules does not run"

# --- 3. redis-server (RQ queue; tests start their own redis-server) -----------
if ! command -v redis-server >/dev/null 2>&1; then
  if redis_reachable "${REDIS_URL:-redis://127.0.0.1:6379/0}"; then
    : # a Redis is already reachable; we don't need our own binary to run the app
  else
    apt_install redis-server
  fi
fi

# --- 4. database schema --------------------------------------------------------
if [ -e igny8_app/cli/__init__.py ]; then
  python -m igny8_app.cli db upgrade
else
  warn "igny8_app/cli not there yet: skipping 'db upgrade'"
fi
