"""Starlette routes mounted in front of Reflex (``rx.App(api_transformer=...)``)."""
