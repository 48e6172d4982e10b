"""Telling people: in-app notifications and mail."""
