"""Credit cost maths: whole credits, rounded up. Pure."""

from __future__ import annotations

import math
from dataclasses import dataclass

from igny8_app.domain.enums import CostUnit


@dataclass(frozen=True)
class Usage:
    """What one provider call consumed. Each unit reads the field it prices."""

    requests: int = 1
    items: int = 0
    words: int = 0
    images: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    model: str | None = None
    cost_usd: float = 0.0

    @property
    def tokens(self) -> int:
        return self.tokens_in + self.tokens_out


@dataclass(frozen=True)
class CostRule:
    credits_cost: int
    unit: CostUnit | str
    tokens_per_credit: int | None = None
    min_credits: int = 0
    is_active: bool = True


def credits_for(rule: CostRule, usage: Usage) -> int:
    """Whole credits for ``usage`` under ``rule``; inactive rules cost nothing."""
    if not rule.is_active:
        return 0
    unit = CostUnit(rule.unit)
    if unit is CostUnit.PER_REQUEST:
        credits = rule.credits_cost * max(usage.requests, 0)
    elif unit is CostUnit.PER_ITEM:
        credits = rule.credits_cost * max(usage.items, 0)
    elif unit is CostUnit.PER_100_WORDS:
        credits = rule.credits_cost * math.ceil(max(usage.words, 0) / 100)
    elif unit is CostUnit.PER_IMAGE:
        credits = rule.credits_cost * max(usage.images, 0)
    else:  # PER_1K_TOKENS: tokens_per_credit tokens buy one credit
        per_credit = rule.tokens_per_credit or 1000
        credits = math.ceil(usage.tokens / per_credit) if usage.tokens else 0
    return max(int(credits), rule.min_credits)


@dataclass(frozen=True)
class StageEstimate:
    """What a stage is expected to do: its provider calls as ``(usage of one call, how many)``
    pairs, and ``outputs``, the items it hands to the next stage."""

    outputs: int
    calls: tuple[tuple[Usage, int], ...] = ()

    def credits(self, rule: CostRule) -> int:
        return sum(credits_for(rule, usage) * n for usage, n in self.calls if n > 0)

    @property
    def call_count(self) -> int:
        return sum(n for _, n in self.calls)


def spread(total: int, parts: int) -> tuple[tuple[int, int], ...]:
    """``total`` shared over ``parts`` as evenly as whole numbers allow, as ``(value, how many)``
    pairs: ``spread(38, 14) == ((3, 10), (2, 4))``."""
    if parts <= 0:
        return ()
    total = max(0, total)
    low, extra = divmod(total, parts)
    return tuple((v, n) for v, n in ((low + 1, extra), (low, parts - extra)) if n > 0)
