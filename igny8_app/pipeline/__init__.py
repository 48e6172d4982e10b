"""Pure pipeline logic: one module per stage, no database, no Redis, no network."""
