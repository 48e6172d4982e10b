"""Operating the platform: workers and health, retention, demo data."""
