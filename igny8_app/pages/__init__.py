"""Reflex pages: one module per page, its State beside it."""
