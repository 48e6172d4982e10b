# shellcheck shell=bash
# Environment shared by every IGNY8 script. Source it, don't run it:
#     source scripts/env.sh
# It only sets variables (no installs), so it is cheap to source repeatedly.

IGNY8_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export IGNY8_ROOT

# Project-local tools first: the venv's python/reflex/pytest, then the bun that
# package.json installs from the npm registry (node_modules/.bin/bun).
export VIRTUAL_ENV="$IGNY8_ROOT/.venv"
for _igny8_bin in "$IGNY8_ROOT/node_modules/.bin" "$IGNY8_ROOT/.venv/bin"; do
  case ":$PATH:" in
    *":$_igny8_bin:"*) ;;
    *) export PATH="$_igny8_bin:$PATH" ;;
  esac
done
unset _igny8_bin

# Reflex 0.10 needs bun >= 1.4.4 (or Node >= 22.22; these machines have Node 20).
# Its own bun download fails offline, so tell it to use the bun found on PATH.
export REFLEX_USE_SYSTEM_BUN=1
# No phoning home: no telemetry and no "is there a newer reflex" check.
export REFLEX_TELEMETRY_ENABLED=false
export REFLEX_CHECK_LATEST_VERSION=false
# Browsers come from Debian (apt-get install chromium), never from `playwright install`.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1

# The one port that serves page, websocket (/_event) and API (rxconfig.py reads it).
export IGNY8_PORT="${IGNY8_PORT:-3000}"

# Where scripts keep logs and generated files (data/ is git-ignored).
export IGNY8_LOG_DIR="${IGNY8_LOG_DIR:-$IGNY8_ROOT/data/logs}"
