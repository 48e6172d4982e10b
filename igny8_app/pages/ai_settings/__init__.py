"""AI settings page: provider, model, key and prompts of the account."""
