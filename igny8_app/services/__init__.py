"""Use cases. Each owns its transaction or takes the caller's ``session`` (keyword-only)."""
