"""Serve the IGNY8 app in production mode on ONE port: page, websocket, API.

This is what `reflex run --env prod` does after its frontend build, minus the
build: it starts Reflex's production backend (granian) with the prebuilt static
frontend (.web/build/client, made by scripts/build_frontend.sh) mounted at "/".
The websocket is at /_event, Reflex's own endpoints (/ping, /_upload, ...) and
the app's API routes are on the same port.

Why not `reflex run --env prod --backend-only`? In Reflex 0.10.1 that path calls
run_backend_prod(..., mount_frontend_compiled_app=False), which resets
REFLEX_MOUNT_FRONTEND_COMPILED_APP, so the backend would not serve the page.

Usage (from the repo root, after `source scripts/env.sh`):
    python scripts/serve.py [--port PORT] [--host HOST]
Port defaults to $IGNY8_PORT (3000), host to $IGNY8_HOST (127.0.0.1: this machine only; set
IGNY8_HOST=0.0.0.0 to listen on every interface). The frontend bakes its websocket URL in at
build time (see build_frontend.sh), so build for the same port you serve on.
"""

import argparse
import os
import sys
from pathlib import Path


def main() -> None:
    root = Path(__file__).resolve().parent.parent
    os.chdir(root)  # rxconfig.py and .web/ are looked up relative to the cwd
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("IGNY8_PORT", "3000")))
    parser.add_argument("--host", default=None, help="bind address (default: $IGNY8_HOST, else 127.0.0.1)")
    args = parser.parse_args()
    os.environ["IGNY8_PORT"] = str(args.port)  # rxconfig.py derives its ports/urls from it

    web_dir = Path(os.environ.get("REFLEX_WEB_WORKDIR", ".web"))  # Reflex's own setting
    static_index = root / web_dir / "build" / "client" / "index.html"
    if not static_index.exists():
        sys.exit(f"{static_index} is missing: run scripts/build_frontend.sh first")

    # Backend worker processes. Reflex would start 2 x cores + 1 of them when a Redis URL is set;
    # we choose: one process unless IGNY8_WEB_WORKERS says otherwise. More than one needs the Redis
    # state manager (REFLEX_REDIS_URL), since each process would otherwise keep its own states.
    workers = int(os.environ.get("IGNY8_WEB_WORKERS", "1"))
    if workers < 1:
        sys.exit("IGNY8_WEB_WORKERS must be at least 1")
    if workers > 1 and not os.environ.get("REFLEX_REDIS_URL"):
        sys.exit("IGNY8_WEB_WORKERS > 1 needs REFLEX_REDIS_URL (Reflex's Redis state manager): "
                 "each worker process would otherwise keep its own copy of every user's state")
    os.environ["GRANIAN_WORKERS"] = str(workers)

    # Same switches `reflex run --env prod` sets before it starts the backend.
    os.environ["REFLEX_ENV_MODE"] = "prod"
    os.environ["REFLEX_SKIP_COMPILE"] = "true"  # the backend must not rewrite .web

    from reflex.config import get_config
    from reflex.utils import exec as rx_exec

    config = get_config()
    host = args.host or config.backend_host  # rxconfig: IGNY8_HOST, default 127.0.0.1
    print(f"IGNY8 serving on http://{host}:{args.port} (page, /_event websocket, API; "
          f"{workers} worker process{'es' if workers > 1 else ''})", flush=True)
    rx_exec.run_backend_prod(
        host,
        args.port,
        config.loglevel.subprocess_level(),
        mount_frontend_compiled_app=True,
    )


if __name__ == "__main__":
    main()
