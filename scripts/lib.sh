# shellcheck shell=bash
# Small helpers shared by setup.sh, run.sh and test.sh. Source after env.sh.

# Messages go to stderr; colour only when stderr is a terminal.
if [ -t 2 ]; then _c_info=$'\033[1;34m' _c_warn=$'\033[1;33m' _c_err=$'\033[1;31m' _c_off=$'\033[0m'
else _c_info='' _c_warn='' _c_err='' _c_off=''; fi
log()  { printf '%s[igny8]%s %s\n' "$_c_info" "$_c_off" "$*" >&2; }
warn() { printf '%s[igny8] warning:%s %s\n' "$_c_warn" "$_c_off" "$*" >&2; }
die()  { printf '%s[igny8] error:%s %s\n' "$_c_err" "$_c_off" "$*" >&2; exit 1; }

# Run as root, or through sudo when we are not root.
as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else die "need root (or sudo) to run: $*"
  fi
}

# apt-get install, running `apt-get update` at most once per script run.
_IGNY8_APT_UPDATED=0
apt_install() {
  command -v apt-get >/dev/null 2>&1 || die "apt-get not found; please install: $*"
  if [ "$_IGNY8_APT_UPDATED" = 0 ]; then
    log "apt-get update"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq </dev/null
    _IGNY8_APT_UPDATED=1
  fi
  log "apt-get install -y $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" </dev/null
}

# sha256 of a file (or of stdin with "-").
sha256() { sha256sum "$1" | cut -d' ' -f1; }

# True when something accepts TCP connections on host:port.
port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# True when the Redis at URL ($1) answers PING (uses the venv's redis package).
redis_reachable() {
  python - "$1" <<'PY' >/dev/null 2>&1
import sys, redis
redis.Redis.from_url(sys.argv[1], socket_connect_timeout=1, socket_timeout=1).ping()
PY
}

# Print "host port password" parsed from a redis:// URL (defaults filled in).
redis_url_parts() {
  python - "$1" <<'PY'
import sys
from urllib.parse import urlsplit
u = urlsplit(sys.argv[1])
print(u.hostname or "127.0.0.1", u.port or 6379, u.password or "")
PY
}
