"""API tokens page."""
