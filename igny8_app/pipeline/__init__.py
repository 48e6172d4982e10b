"""The pipeline. ``stages/`` is the stage registry: one module per stage, each declaring its stage
(queue, credit operation, config keys) with its pure stage function (typed input -> typed output, no
database, no Redis, no network) and the database side the engine (``services``) runs around it:
fetch the next item, then write what the function returns in one transaction per item."""
