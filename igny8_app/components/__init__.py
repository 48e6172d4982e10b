"""Reusable UI pieces: snake_case functions returning rx.Component."""

import json as _json

import reflex as _rx


def hard_navigate(url: str) -> _rx.event.EventSpec:
    """A full page load (not client-side routing), for server routes such as /auth/complete."""
    return _rx.call_script(f"window.location.replace({_json.dumps(url)})")
