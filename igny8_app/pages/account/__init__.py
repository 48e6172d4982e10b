"""My account: password and e-mail preferences."""
