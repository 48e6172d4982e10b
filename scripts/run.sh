#!/usr/bin/env bash
# Run IGNY8 locally: one command from a fresh clone to a working app.
#
#   1. scripts/setup.sh                 (venv from requirements.lock, bun, redis-server, db upgrade)
#   2. Redis at $REDIS_URL              (starts redis-server if it is local and down)
#   3. frontend build                   (cached: only when app sources changed)
#   4. $IGNY8_WORKERS RQ workers        (python -m igny8_app.cli worker; each also runs the
#                                        run scheduler, crash watchdog and retention)
#   5. the web app on ONE port          (page + /_event websocket + API)
#   6. python -m igny8_app.cli demo     (demo data on an empty database, while the web app boots;
#                                        prints the logins; the superuser's random password only
#                                        the first time)
#
# Ctrl-C (SIGINT) or SIGTERM stops everything this script started.
# Logs: data/logs/*.log
#
# Settings (environment):
#   IGNY8_PORT     port for page/websocket/API      (default 3000)
#   IGNY8_HOST     address the web app listens on    (default 127.0.0.1: this machine only;
#                                                     0.0.0.0 opens it to the network)
#   IGNY8_DEMO     1 = demo data even if the database has users; 0 = never (default: empty db only)
#   REDIS_URL      RQ's Redis                        (default redis://127.0.0.1:6379/0)
#   IGNY8_WORKERS  number of RQ worker processes     (default 2)
#   IGNY8_REBUILD  1 = rebuild the frontend even if sources are unchanged
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
source "$IGNY8_ROOT/scripts/lib.sh"
cd "$IGNY8_ROOT"

export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/0}"
export IGNY8_HOST="${IGNY8_HOST:-127.0.0.1}"
case "$IGNY8_HOST" in            # where to probe the app from here
  0.0.0.0|::|"[::]") PROBE_HOST=127.0.0.1 ;;
  *:*) PROBE_HOST="[$IGNY8_HOST]" ;;
  *) PROBE_HOST="$IGNY8_HOST" ;;
esac
DEMO_OUT=""   # the demo logins (a superuser password the first time): a private temp file, removed
IGNY8_WORKERS="${IGNY8_WORKERS:-2}"
T0=$SECONDS

# --- process bookkeeping -------------------------------------------------------
# Every long-running child is started with `setsid`, so it leads its own process
# group (its pid == the group id) and gets no terminal Ctrl-C directly. On exit
# we signal each whole group, which also reaches grandchildren (granian workers).
PGIDS=()      # process groups we started, in start order
NAMES=()      # a name and log file per group, for messages
LOGS=()

start_bg() {  # start_bg NAME LOGFILE cmd...   -> runs cmd in a new process group
  local name=$1 logfile=$2; shift 2
  setsid "$@" >"$logfile" 2>&1 </dev/null &      # a fresh log per run
  PGIDS+=("$!"); NAMES+=("$name"); LOGS+=("$logfile")
}

# Startup steps (setup, demo, frontend build) also run in their own process
# group, in the background, so a SIGINT/SIGTERM sent to this script is handled
# at once (bash runs traps only between foreground commands) and stops them too.
STEP_PGID=""
step() {      # step cmd...   -> run cmd to completion; fail the script if it fails
  setsid "$@" </dev/null &
  STEP_PGID=$!
  local rc=0
  wait "$STEP_PGID" || rc=$?
  STEP_PGID=""
  return "$rc"
}

STOPPING=0
cleanup() {
  local rc=$?
  [ "$STOPPING" = 1 ] && return
  STOPPING=1
  trap '' INT TERM
  [ -n "$STEP_PGID" ] && kill -TERM -- "-$STEP_PGID" 2>/dev/null || true
  [ -n "$DEMO_OUT" ] && rm -f "$DEMO_OUT"
  if [ "${#PGIDS[@]}" -gt 0 ]; then
    log "stopping ${#PGIDS[@]} process group(s)..."
    local i
    for ((i=${#PGIDS[@]}-1; i>=0; i--)); do        # reverse start order: web first, redis last
      kill -TERM -- "-${PGIDS[i]}" 2>/dev/null || true
    done
    # Give them up to 10 s to exit cleanly, then SIGKILL whatever is left.
    local deadline=$((SECONDS + 10)) alive
    while :; do
      alive=0
      for i in "${!PGIDS[@]}"; do kill -0 -- "-${PGIDS[i]}" 2>/dev/null && alive=1; done
      [ "$alive" = 0 ] || [ "$SECONDS" -ge "$deadline" ] && break
      sleep 0.2
    done
    for i in "${!PGIDS[@]}"; do kill -KILL -- "-${PGIDS[i]}" 2>/dev/null || true; done
    wait 2>/dev/null || true
    log "stopped"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- 1. install / migrate ------------------------------------------------------
step bash scripts/setup.sh
mkdir -p "$IGNY8_LOG_DIR"

if port_open "${PROBE_HOST//[\[\]]/}" "$IGNY8_PORT"; then
  die "port $IGNY8_PORT is already in use (another IGNY8 running?). Set IGNY8_PORT to use another port."
fi

# --- 2. Redis --------------------------------------------------------------------
if redis_reachable "$REDIS_URL"; then
  log "using Redis at $REDIS_URL"
else
  read -r r_host r_port r_pass < <(redis_url_parts "$REDIS_URL")
  case "$r_host" in
    localhost|127.0.0.1|::1) ;;
    *) die "Redis at $REDIS_URL is not reachable (and not local, so not starting one)" ;;
  esac
  command -v redis-server >/dev/null 2>&1 || die "redis-server not found (scripts/setup.sh installs it)"
  log "starting redis-server on 127.0.0.1:$r_port (in memory, nothing saved to disk)"
  redis_args=(--bind 127.0.0.1 --port "$r_port" --save "" --appendonly no --daemonize no --dir "$IGNY8_LOG_DIR")
  [ -n "$r_pass" ] && redis_args+=(--requirepass "$r_pass")
  start_bg redis "$IGNY8_LOG_DIR/redis.log" redis-server "${redis_args[@]}"
  for _ in $(seq 1 50); do redis_reachable "$REDIS_URL" && break; sleep 0.1; done
  redis_reachable "$REDIS_URL" || { tail -n 20 "$IGNY8_LOG_DIR/redis.log" >&2; die "redis-server did not start"; }
fi

# --- 3. frontend (cached static build) -----------------------------------------------
step bash scripts/build_frontend.sh

# --- 4. RQ workers --------------------------------------------------------------------
if [ -e igny8_app/cli/__init__.py ]; then
  log "starting $IGNY8_WORKERS RQ worker(s) (with the scheduler, crash watchdog and retention)"
  for n in $(seq 1 "$IGNY8_WORKERS"); do
    start_bg "worker-$n" "$IGNY8_LOG_DIR/worker-$n.log" python -m igny8_app.cli worker
  done
else
  warn "igny8_app/cli not there yet: no RQ workers"
fi

# --- 5. web app ------------------------------------------------------------------------
log "starting web app on $IGNY8_HOST:$IGNY8_PORT"
start_bg web "$IGNY8_LOG_DIR/web.log" python scripts/serve.py --port "$IGNY8_PORT" --host "$IGNY8_HOST"
web_pgid=${PGIDS[-1]}
case "$PROBE_HOST" in 127.0.0.1) url="http://localhost:$IGNY8_PORT" ;; *) url="http://$PROBE_HOST:$IGNY8_PORT" ;; esac
probe="http://$PROBE_HOST:$IGNY8_PORT"

# --- 6. demo data (while the web app boots; it needs only the migrated database) -----
# Not into the logs folder: the first run prints the superuser's random password, once.
rm -f "$IGNY8_LOG_DIR/demo-logins.txt"            # earlier versions kept the logins there
DEMO_OUT="$(mktemp)"                               # mode 0600
if [ -e igny8_app/cli/__init__.py ]; then
  log "demo data (python -m igny8_app.cli demo: only on an empty database unless IGNY8_DEMO=1)"
  step python -m igny8_app.cli demo >"$DEMO_OUT"
else
  warn "igny8_app/cli not there yet: no demo data"
fi

for _ in $(seq 1 300); do                      # up to 60 s
  curl -sf -o /dev/null "$probe/" && curl -sf -o /dev/null "$probe/ping" && break
  kill -0 "$web_pgid" 2>/dev/null || { tail -n 40 "$IGNY8_LOG_DIR/web.log" >&2; die "web app exited during startup"; }
  sleep 0.2
done
curl -sf -o /dev/null "$probe/" || { tail -n 40 "$IGNY8_LOG_DIR/web.log" >&2; die "web app did not answer on $url within 60 s"; }

# --- ready -------------------------------------------------------------------------------
echo
echo "  IGNY8 Automation is running at  $url   (ready in $((SECONDS - T0))s)"
case "$IGNY8_HOST" in
  127.0.0.1|localhost|::1) echo "  Listening on $IGNY8_HOST only (IGNY8_HOST=0.0.0.0 opens it to the network)" ;;
  *) echo "  Listening on $IGNY8_HOST: reachable from other machines" ;;
esac
if [ -s "$DEMO_OUT" ]; then
  echo
  sed 's/^/  /' "$DEMO_OUT"
fi
rm -f "$DEMO_OUT"; DEMO_OUT=""
echo
echo "  Logs: ${IGNY8_LOG_DIR#"$IGNY8_ROOT"/}/*.log      Stop: Ctrl-C"
echo

# Stay in the foreground until Ctrl-C/SIGTERM, or until a child dies.
while :; do
  set +e; wait -n; set -e          # returns when any child exits (or a trapped signal arrives)
  for i in "${!PGIDS[@]}"; do
    if ! kill -0 "${PGIDS[i]}" 2>/dev/null; then
      warn "${NAMES[i]} exited unexpectedly; last lines of ${LOGS[i]}:"
      tail -n 20 "${LOGS[i]}" >&2 || true
      exit 1
    fi
  done
done
