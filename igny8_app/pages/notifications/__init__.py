"""Notification centre."""
