"""Sites & sectors page."""
