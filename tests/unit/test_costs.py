"""credits_for: whole credits, rounded up, per unit; inactive rules cost nothing."""

from __future__ import annotations

import pytest

from igny8_app.domain.costs import CostRule, Usage, credits_for
from igny8_app.domain.enums import CostUnit


def rule(cost: int, unit: CostUnit | str, **kw) -> CostRule:
    return CostRule(credits_cost=cost, unit=unit, **kw)


@pytest.mark.parametrize(
    ("requests", "expected"), [(0, 0), (1, 4), (3, 12)],
)
def test_per_request(requests: int, expected: int) -> None:
    assert credits_for(rule(4, CostUnit.PER_REQUEST), Usage(requests=requests, items=99, words=999)) == expected


def test_per_request_defaults_to_one_request() -> None:
    assert credits_for(rule(4, "per_request"), Usage()) == 4


@pytest.mark.parametrize(("items", "expected"), [(0, 0), (1, 2), (7, 14)])
def test_per_item(items: int, expected: int) -> None:
    assert credits_for(rule(2, CostUnit.PER_ITEM), Usage(items=items, requests=5)) == expected


@pytest.mark.parametrize(
    ("words", "expected"),
    [(0, 0), (1, 1), (99, 1), (100, 1), (101, 2), (250, 3), (1000, 10), (1001, 11)],
)
def test_per_100_words_rounds_up(words: int, expected: int) -> None:
    assert credits_for(rule(1, CostUnit.PER_100_WORDS), Usage(words=words)) == expected


def test_per_100_words_multiplies_the_rounded_blocks() -> None:
    # 3 started blocks of 100 words at 3 credits each: 9 (not ceil(2.01 * 3) = 7)
    assert credits_for(rule(3, CostUnit.PER_100_WORDS), Usage(words=201)) == 9


@pytest.mark.parametrize(("images", "expected"), [(0, 0), (1, 2), (4, 8)])
def test_per_image(images: int, expected: int) -> None:
    assert credits_for(rule(2, CostUnit.PER_IMAGE), Usage(images=images, items=50)) == expected


@pytest.mark.parametrize(
    ("tokens_in", "tokens_out", "per_credit", "expected"),
    [
        (0, 0, None, 0),
        (1, 0, None, 1),  # default 1000 tokens per credit, rounded up
        (600, 400, None, 1),
        (600, 401, None, 2),
        (2500, 0, None, 3),
        (250, 250, 500, 1),
        (250, 251, 500, 2),
        (10_000, 0, 4000, 3),
    ],
)
def test_per_1k_tokens_counts_input_and_output_and_rounds_up(
    tokens_in: int, tokens_out: int, per_credit: int | None, expected: int
) -> None:
    r = rule(1, CostUnit.PER_1K_TOKENS, tokens_per_credit=per_credit)
    assert credits_for(r, Usage(tokens_in=tokens_in, tokens_out=tokens_out)) == expected


@pytest.mark.parametrize(("tokens", "expected"), [(0, 5), (100, 5), (5000, 5), (5001, 6), (9000, 9)])
def test_per_1k_tokens_min_credits(tokens: int, expected: int) -> None:
    r = rule(1, CostUnit.PER_1K_TOKENS, tokens_per_credit=1000, min_credits=5)
    assert credits_for(r, Usage(tokens_in=tokens)) == expected


def test_min_credits_applies_to_every_unit() -> None:
    assert credits_for(rule(1, CostUnit.PER_100_WORDS, min_credits=3), Usage(words=50)) == 3
    assert credits_for(rule(1, CostUnit.PER_100_WORDS, min_credits=3), Usage(words=450)) == 5
    assert credits_for(rule(2, CostUnit.PER_ITEM, min_credits=1), Usage(items=0)) == 1


@pytest.mark.parametrize("unit", list(CostUnit))
def test_inactive_rule_costs_nothing(unit: CostUnit) -> None:
    r = rule(5, unit, tokens_per_credit=10, min_credits=7, is_active=False)
    usage = Usage(requests=3, items=3, words=300, images=3, tokens_in=300, tokens_out=300)
    assert credits_for(r, usage) == 0


@pytest.mark.parametrize("unit", list(CostUnit))
def test_result_is_a_non_negative_int(unit: CostUnit) -> None:
    usage = Usage(requests=-1, items=-2, words=-300, images=-4)
    result = credits_for(rule(3, unit), usage)
    assert isinstance(result, int) and result >= 0


def test_unknown_unit_is_an_error() -> None:
    with pytest.raises(ValueError):
        credits_for(rule(1, "per_fortnight"), Usage())


def test_usage_tokens_is_input_plus_output() -> None:
    assert Usage(tokens_in=7, tokens_out=5).tokens == 12
