"""Keyword normalisation: NFKC, Unicode casefold, trimmed and collapsed whitespace."""

import pytest

from igny8_app.domain.text import normalize_keyword


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("ÄPFEL", "äpfel"),  # non-ASCII case (SQLite's lower() would miss this)
        ("Straße", "STRASSE"),  # casefold, not lower(): ß -> ss
        ("straße", "strasse"),
        ("ΣΊΣΥΦΟΣ", "σίσυφος"),  # final sigma folds like the medial one
        ("ＡＢＣ１２３", "abc123"),  # fullwidth letters and digits (NFKC)
        ("ﬁsh", "fish"),  # ligature (NFKC)
        ("Cafe\u0301", "café"),  # combining accent composes to the precomposed form
        ("  best   running\tshoes \n", "best running shoes"),
        ("best\u00a0running\u3000shoes", "best running shoes"),  # NBSP, ideographic space
    ],
)
def test_variants_normalise_to_the_same_key(a: str, b: str) -> None:
    assert normalize_keyword(a) == normalize_keyword(b)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ÄPFEL", "äpfel"),
        ("Straße", "strasse"),
        ("ＳＥＯ　Ｔｏｏｌｓ", "seo tools"),
        ("  Hello   World  ", "hello world"),
        ("a\r\n\tb", "a b"),
        ("", ""),
        ("   ", ""),
    ],
)
def test_exact_normal_form(raw: str, expected: str) -> None:
    assert normalize_keyword(raw) == expected


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("apfel", "äpfel"),  # accents are significant
        ("best shoes", "bestshoes"),  # whitespace is collapsed, not removed
        ("seo-tools", "seo tools"),
    ],
)
def test_distinct_keywords_stay_distinct(a: str, b: str) -> None:
    assert normalize_keyword(a) != normalize_keyword(b)


@pytest.mark.parametrize("raw", ["ÄPFEL", "Straße", "ＡＢＣ", "  x  y ", "ǅungla", "İstanbul", "ﬃ"])
def test_normalisation_is_idempotent(raw: str) -> None:
    once = normalize_keyword(raw)
    assert normalize_keyword(once) == once
