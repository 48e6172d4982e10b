"""Reusable UI pieces: snake_case functions returning rx.Component."""
