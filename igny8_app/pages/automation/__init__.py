"""Automation page: run the pipeline for the active site, watch it live, configure it."""
