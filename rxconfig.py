"""Reflex configuration. Values come from igny8_app.settings so there is one source of truth."""

import os

import reflex as rx
from reflex.plugins.sitemap import SitemapPlugin

from igny8_app.settings import bind_host

_port = int(os.environ.get("IGNY8_PORT", "3000"))
_redis_state = os.environ.get("REFLEX_REDIS_URL")  # opt-in Redis state manager for scale-out

config = rx.Config(
    app_name="igny8_app",
    frontend_port=_port,
    backend_port=_port,
    backend_host=bind_host(),  # IGNY8_HOST; default 127.0.0.1 (Reflex's own default is 0.0.0.0)
    api_url=os.environ.get("IGNY8_PUBLIC_URL", f"http://localhost:{_port}"),
    deploy_url=os.environ.get("IGNY8_PUBLIC_URL", f"http://localhost:{_port}"),
    telemetry_enabled=False,
    show_built_with_reflex=False,
    state_manager_mode="redis" if _redis_state else "memory",
    redis_url=_redis_state,
    disable_plugins=[SitemapPlugin],
    plugins=[
        rx.plugins.RadixThemesPlugin(
            theme=rx.theme(accent_color="indigo", gray_color="slate", radius="medium", scaling="100%")
        )
    ],
)
