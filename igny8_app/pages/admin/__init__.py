"""Platform admin pages (superuser only): credit costs, accounts, payment approvals, invoices, packages."""
