"""Pure domain: enums, errors, normalisation, role rules. No I/O."""
