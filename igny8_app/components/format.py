"""Number formatting shared by the page states and views (plain functions, no Reflex)."""

from __future__ import annotations

from typing import Any


def fmt_int(value: Any, signed: bool = False) -> str:
    """Thousands separators for every credit figure: 1234567 -> '1,234,567' (signed: '+1,234')."""
    n = int(value or 0)
    return f"{n:+,}" if signed and n else f"{n:,}"


def count_label(n: int, noun: str) -> str:
    """'1 invoice', '1,204 invoices'."""
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def last_page(total: int, per_page: int) -> int:
    """The number of the last page of ``total`` rows (1 when there are none)."""
    return max(1, -(-total // per_page))
