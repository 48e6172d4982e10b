"""Forgot / reset password pages (signed-out)."""
