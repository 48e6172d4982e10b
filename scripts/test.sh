#!/usr/bin/env bash
# Run the test suite: bash scripts/test.sh [pytest args...]
#
#   1. scripts/setup.sh --dev            (venv from requirements-dev.lock, bun, redis-server, db upgrade)
#   2. Debian chromium if /usr/bin/chromium is missing (browser tests; never `playwright install`),
#      and poppler-utils if pdftotext is missing (the invoice PDF tests read the PDFs' text)
#   3. python -m pytest tests -q "$@"   (IGNY8_TEST_WORKERS=2: -n 2 --dist loadgroup)
#
# Tests start their own redis-server on a free port (tests/conftest.py), so no
# Redis is started here; we only make sure the redis-server binary exists.
# Set TEST_DATABASE_URL to also run the database tests on PostgreSQL (.ci/run does).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
source "$IGNY8_ROOT/scripts/lib.sh"
cd "$IGNY8_ROOT"

bash scripts/setup.sh --dev   # the dev lock: runtime + test tools

# setup.sh skips redis-server when a Redis is already reachable; tests need the binary.
command -v redis-server >/dev/null 2>&1 || apt_install redis-server

# Browser tests drive Debian's chromium through Playwright (executable_path).
export CHROMIUM_PATH="${CHROMIUM_PATH:-/usr/bin/chromium}"
[ -x "$CHROMIUM_PATH" ] || apt_install chromium
# Invoice tests read the PDFs' text with poppler's pdftotext (tests/pdf_text.py).
command -v pdftotext >/dev/null 2>&1 || apt_install poppler-utils

# IGNY8_TEST_WORKERS=N runs N xdist workers (default 0: one process; -n 2 is not yet green for
# the browser tests, see README). Each worker has its own Redis
# and databases; every live-app test is in one xdist group (tests/conftest.py), so one worker runs
# the browser tests against the one live app while the other takes the rest.
workers="${IGNY8_TEST_WORKERS:-0}"
if [ "$workers" = "0" ]; then
  exec python -m pytest tests -q "$@"
fi
exec python -m pytest tests -q -n "$workers" --dist loadgroup "$@"
