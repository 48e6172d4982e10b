"""Credits and money: the ledger, usage, invoices and their PDF, payments, Stripe, admin prices, billing profile."""
