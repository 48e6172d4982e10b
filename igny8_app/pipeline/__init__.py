"""The six-stage pipeline. ``stages/`` holds the pure stage functions (typed input -> typed
output, no database, no Redis, no network); the engine (``services``) reads rows, calls them,
and writes what they return in one transaction per item."""
