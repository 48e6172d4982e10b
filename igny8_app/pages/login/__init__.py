"""Sign-in page."""
