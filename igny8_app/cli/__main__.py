"""``python -m igny8_app.cli``."""

from igny8_app.cli import main

main()
