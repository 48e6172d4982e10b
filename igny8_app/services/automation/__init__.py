"""Automation runs: control, the run loop, stage items, estimate, scheduler, watchdog, run events, AI settings."""
