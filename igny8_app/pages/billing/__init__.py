"""Billing pages: overview, usage history, invoices, payments, settings."""
