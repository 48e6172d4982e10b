#!/usr/bin/env bash
# Build the static frontend once and reuse it until the app's sources change.
#
# `reflex run --env prod` recompiles and re-runs the Vite production build on
# every start. Instead we run `reflex export --frontend-only --no-zip` (which
# writes .web/build/client) only when a hash of everything that can change the
# bundle differs from the hash stored next to the last good build. serve.py then
# mounts that directory into the backend, all on one port.
#
# Usage: bash scripts/build_frontend.sh        (IGNY8_REBUILD=1 forces a build)
# Assumes scripts/setup.sh has run.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
source "$IGNY8_ROOT/scripts/lib.sh"
cd "$IGNY8_ROOT"

# Reflex's build directory; REFLEX_WEB_WORKDIR (a Reflex setting) moves it, e.g.
# so e2e tests can keep a build for their own port beside the one run.sh uses.
web="${REFLEX_WEB_WORKDIR:-.web}"
stamp="$web/build/.igny8-source.sha256"

# Inputs of the bundle: the app package, assets, rxconfig, pinned versions
# (reflex, bun) and the public URL/port, which Reflex bakes into the bundle
# (.web/env.json holds ws://localhost:PORT/_event: a build for port 3000
# served on another port would open its websocket to 3000).
source_hash() {
  {
    echo "IGNY8_PORT=$IGNY8_PORT IGNY8_PUBLIC_URL=${IGNY8_PUBLIC_URL:-}"
    local p paths=()
    for p in rxconfig.py requirements.txt package-lock.json igny8_app assets; do
      [ -e "$p" ] && paths+=("$p")    # assets/ may not exist (git keeps no empty dirs)
    done
    find "${paths[@]}" -type f ! -path '*/__pycache__/*' ! -name '*.pyc' -print0 \
      | LC_ALL=C sort -z | xargs -0 sha256sum
  } | sha256sum | cut -d' ' -f1
}

want="$(source_hash)"
if [ "${IGNY8_REBUILD:-0}" != 1 ] && [ -f "$web/build/client/index.html" ] \
   && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  log "frontend build is up to date (sources unchanged)"
  exit 0
fi

mkdir -p "$IGNY8_LOG_DIR"
build_log="$IGNY8_LOG_DIR/frontend-build.log"
log "building frontend: reflex export --frontend-only (log: ${build_log#"$IGNY8_ROOT"/})"
start=$SECONDS
rm -f "$stamp"
if ! reflex export --frontend-only --no-zip --loglevel warning >"$build_log" 2>&1; then
  tail -n 40 "$build_log" >&2
  die "frontend build failed (full log: $build_log)"
fi
[ -f "$web/build/client/index.html" ] || die "frontend build produced no $web/build/client/index.html"
# reflex.lock/ (committed) pins the frontend packages. Reflex copies .web's
# package.json there after each build: compact JSON when it rendered the file,
# indented when `bun add` rewrote it (new components). Store it in Reflex's
# compact form so a fresh clone's first build leaves the file unchanged.
if [ -f reflex.lock/package.json ]; then
  python - <<'PY'
import json
p = "reflex.lock/package.json"
text = open(p).read()
compact = json.dumps(json.loads(text))
if text != compact:
    open(p, "w").write(compact)
PY
fi
echo "$want" > "$stamp"
log "frontend built in $((SECONDS - start))s"
