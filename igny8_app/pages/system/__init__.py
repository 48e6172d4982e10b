"""System page (superuser only): workers, health, failed jobs, locks."""
