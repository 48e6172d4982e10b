"""Accept-an-invitation page (signed-out)."""
