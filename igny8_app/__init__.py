"""IGNY8 Automation: an AI content pipeline for websites."""
