"""What admins type into the cost, adjustment and package forms (and what the admin API passes on):
whole numbers and prices are parsed from ASCII digits only, and anything else is a clear
ValidationError, never a raw ValueError (a 500 in a page handler)."""

from __future__ import annotations

import pytest

from igny8_app.domain.errors import ValidationError
from igny8_app.services.billing.admin import _int, parse_price


@pytest.mark.parametrize(("raw", "value"), [("-5", -5), ("1,000", 1000), (" 7 ", 7), (12, 12), ("0", 0)])
def test_whole_numbers(raw, value) -> None:
    assert _int(raw, "The amount", -10_000, 10_000) == value


@pytest.mark.parametrize("raw", ["--5", "²", "٣", "1" * 5000, "-", "", "1.5", "1e3", None])
def test_anything_else_is_a_clear_error(raw) -> None:
    with pytest.raises(ValidationError, match="whole number"):
        _int(raw, "The amount", -10_000, 10_000)


@pytest.mark.parametrize(("raw", "cents"), [("79", 7900), ("79.5", 7950), ("$1,000.00", 100_000), ("0.01", 1),
                                            ("1.", 100), (899, 89_900)])
def test_prices(raw, cents) -> None:
    assert parse_price(raw) == cents


@pytest.mark.parametrize("raw", ["²", "1²", "9" * 5000, "1.²", ".5", "1.234", "-1", "abc", ""])
def test_bad_prices_are_clear_errors(raw) -> None:
    with pytest.raises(ValidationError, match="price"):
        parse_price(raw)
