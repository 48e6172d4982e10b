"""Reflex configuration. Values come from igny8_app.settings so there is one source of truth."""

import os

import reflex as rx
from reflex.plugins.sitemap import SitemapPlugin

_port = int(os.environ.get("IGNY8_PORT", "3000"))
_redis_state = os.environ.get("REFLEX_REDIS_URL")  # opt-in Redis state manager for scale-out

config = rx.Config(
    app_name="igny8_app",
    frontend_port=_port,
    backend_port=_port,
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
