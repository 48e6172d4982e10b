"""parse_keyword_csv: the pure CSV rules (no database)."""

from __future__ import annotations

import pytest

from igny8_app.domain.errors import ImportRejected
from igny8_app.domain.keyword_csv import decode_csv, parse_keyword_csv
from igny8_app.settings import MAX_IMPORT_BYTES, MAX_IMPORT_ROWS


def csv_bytes(*lines: str, eol: str = "\n") -> bytes:
    return (eol.join(lines) + eol).encode("utf-8")


def errors_by_line(parsed) -> dict[int, str]:
    return {e.line: e.reason for e in parsed.errors}


# --- happy path ---------------------------------------------------------------------------------

def test_parses_all_columns_and_normalises() -> None:
    parsed = parse_keyword_csv(csv_bytes(
        "keyword,volume,difficulty,intent",
        "  Best Running Shoes ,1200,3,Commercial",
        "ÄPFEL kaufen,,,",
    ))
    assert parsed.errors == [] and parsed.duplicates == 0
    first, second = parsed.rows
    assert (first.line, first.keyword, first.keyword_norm) == (2, "Best Running Shoes", "best running shoes")
    assert (first.volume, first.difficulty, first.intent) == (1200, 3, "commercial")
    assert (second.line, second.keyword_norm, second.volume, second.difficulty, second.intent) == (
        3, "äpfel kaufen", 0, None, None)


def test_only_keyword_column_is_required_and_columns_may_be_reordered() -> None:
    parsed = parse_keyword_csv(csv_bytes("Intent, Extra ,KEYWORD", "informational,zzz,how to bake"))
    assert [(r.keyword, r.intent, r.volume) for r in parsed.rows] == [("how to bake", "informational", 0)]


def test_short_rows_are_padded_with_defaults() -> None:
    parsed = parse_keyword_csv(csv_bytes("keyword,volume,difficulty", "alpha"))
    assert [(r.keyword, r.volume, r.difficulty) for r in parsed.rows] == [("alpha", 0, None)]


def test_bom_and_crlf_are_accepted() -> None:
    data = b"\xef\xbb\xbf" + csv_bytes("keyword,volume", "alpha,10", "beta,20", eol="\r\n")
    parsed = parse_keyword_csv(data)
    assert [(r.line, r.keyword, r.volume) for r in parsed.rows] == [(2, "alpha", 10), (3, "beta", 20)]
    assert parsed.errors == []


def test_blank_lines_are_ignored_but_line_numbers_stay_physical() -> None:
    parsed = parse_keyword_csv(csv_bytes(
        "",  # line 1: blank before the header
        "keyword,volume",  # line 2
        "",  # line 3
        " , ",  # line 4: only whitespace cells
        "alpha,5",  # line 5
        ",,",  # line 6
        "beta,x",  # line 7: invalid
    ))
    assert [(r.line, r.keyword) for r in parsed.rows] == [(5, "alpha")]
    assert errors_by_line(parsed) == {7: "volume must be an integer, got 'x'"}
    assert parsed.duplicates == 0


def test_header_is_line_one_when_it_is_the_first_line() -> None:
    parsed = parse_keyword_csv(csv_bytes("keyword,volume", "ok,1", "bad,-1", "ok2,2", "bad2,abc"))
    assert sorted(errors_by_line(parsed)) == [3, 5]


def test_quoted_fields_with_commas_and_newlines() -> None:
    data = csv_bytes(
        "keyword,volume,intent",
        '"shoes, red",100,commercial',  # line 2
        '"say ""hi""",5,',  # line 3
        '"multi',  # line 4 ...
        'line",7,',  # ... line 5
        "after,9,",  # line 6
    )
    parsed = parse_keyword_csv(data)
    assert [(r.line, r.keyword, r.volume) for r in parsed.rows] == [
        (2, "shoes, red", 100), (3, 'say "hi"', 5), (6, "after", 9)]
    # a keyword cannot contain a line break; the record is reported, the next row keeps its line
    assert len(parsed.errors) == 1
    assert parsed.errors[0].line in (4, 5)
    assert "control characters" in parsed.errors[0].reason


# --- row errors ---------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (",10,,", "keyword is empty"),
        ("kw,ten,,", "volume must be an integer, got 'ten'"),
        ("kw,1.5,,", "volume must be an integer, got '1.5'"),
        ("kw,-3,,", "volume must be an integer ≥ 0, got -3"),
        ("kw,99999999999,,", "volume is too large"),
        ("kw,,0,", "difficulty must be an integer from 1 to 5, got 0"),
        ("kw,,6,", "difficulty must be an integer from 1 to 5, got 6"),
        ("kw,,hard,", "difficulty must be an integer, got 'hard'"),
        ("kw,,,buy", "intent must be one of commercial, informational, navigational, transactional, got 'buy'"),
        ("!!! ---,,,", "keyword has no letters or digits"),
        ("x" * 256 + ",,,", "keyword is longer than 255 characters"),
        ("tab\there,,,", "keyword contains control characters"),
    ],
)
def test_invalid_rows_are_reported_with_a_reason(row: str, reason: str) -> None:
    parsed = parse_keyword_csv(csv_bytes("keyword,volume,difficulty,intent", "good,1,1,", row))
    assert [r.keyword for r in parsed.rows] == ["good"]
    assert [(e.line, e.reason) for e in parsed.errors] == [(3, reason)]


@pytest.mark.parametrize("value", ["1", "5", " 3 "])
def test_difficulty_bounds_are_inclusive(value: str) -> None:
    parsed = parse_keyword_csv(csv_bytes("keyword,difficulty", f'kw,"{value}"'))
    assert parsed.errors == [] and parsed.rows[0].difficulty == int(value)


def test_intent_is_case_insensitive_and_blank_means_none() -> None:
    parsed = parse_keyword_csv(csv_bytes("keyword,intent", "a,TRANSACTIONAL", "b,  ", "c,Navigational"))
    assert [r.intent for r in parsed.rows] == ["transactional", None, "navigational"]


def test_keyword_at_max_length_is_accepted() -> None:
    parsed = parse_keyword_csv(csv_bytes("keyword", "k" * 255))
    assert parsed.errors == [] and len(parsed.rows[0].keyword) == 255


def test_normalised_keyword_never_exceeds_the_column_width() -> None:
    """'ß' casefolds to 'ss': 200 characters become 400, more than keyword_norm can hold."""
    parsed = parse_keyword_csv(csv_bytes("keyword", "ß" * 200, "ok"))
    assert all(len(r.keyword_norm) <= 255 for r in parsed.rows)
    assert [r.keyword for r in parsed.rows] == ["ok"]
    assert [(e.line, e.reason) for e in parsed.errors] == [
        (2, "keyword is longer than 255 characters once normalised")]


# --- duplicates ---------------------------------------------------------------------------------

def test_in_file_duplicates_are_counted_and_first_occurrence_wins() -> None:
    parsed = parse_keyword_csv(csv_bytes(
        "keyword,volume", "Äpfel,10", "ÄPFEL,20", "äpfel ,30", "Straße,1", "STRASSE,2", "ＡＢＣ,3", "abc,4",
    ))
    assert [(r.keyword, r.volume) for r in parsed.rows] == [("Äpfel", 10), ("Straße", 1), ("ＡＢＣ", 3)]
    assert parsed.duplicates == 4
    assert parsed.errors == []


def test_invalid_rows_are_not_duplicates() -> None:
    parsed = parse_keyword_csv(csv_bytes("keyword,volume", "a,x", "a,1", "a,y", "a,2"))
    assert len(parsed.rows) == 1 and parsed.rows[0].line == 3
    assert parsed.duplicates == 1
    assert [e.line for e in parsed.errors] == [2, 4]


# --- fatal errors -------------------------------------------------------------------------------

def test_wrong_encoding_is_rejected_naming_the_line() -> None:
    data = csv_bytes("keyword", "apple") + "Äpfel\n".encode("latin-1")
    with pytest.raises(ImportRejected, match=r"not valid UTF-8 \(line 3\)"):
        parse_keyword_csv(data)


def test_utf16_file_is_rejected() -> None:
    with pytest.raises(ImportRejected):
        parse_keyword_csv("keyword\nalpha\n".encode("utf-16"))


def test_missing_keyword_column_is_rejected_and_lists_what_was_found() -> None:
    with pytest.raises(ImportRejected, match="'keyword' column.*found: term, volume"):
        parse_keyword_csv(csv_bytes("term,volume", "alpha,1"))


def test_header_is_required() -> None:
    # a file whose first row is data has no keyword column
    with pytest.raises(ImportRejected, match="'keyword' column"):
        parse_keyword_csv(csv_bytes("best shoes,100", "red shoes,50"))


@pytest.mark.parametrize("data", [b"", b"\n\n \r\n", b"\xef\xbb\xbf"])
def test_empty_file_is_rejected(data: bytes) -> None:
    with pytest.raises(ImportRejected, match="empty"):
        parse_keyword_csv(data)


def test_header_only_file_imports_nothing() -> None:
    parsed = parse_keyword_csv(csv_bytes("keyword,volume"))
    assert parsed.rows == [] and parsed.errors == [] and parsed.duplicates == 0


def test_nul_bytes_are_rejected() -> None:
    with pytest.raises(ImportRejected, match="NUL"):
        parse_keyword_csv(b"keyword\nab\x00c\n")


def test_unterminated_quote_or_huge_field_is_rejected_not_crashing() -> None:
    with pytest.raises(ImportRejected, match="not valid CSV"):
        parse_keyword_csv(b'keyword\n"' + b"a" * 200_000 + b"\n")


def test_file_over_10_mb_is_refused() -> None:
    data = csv_bytes("keyword") + b"a" * (MAX_IMPORT_BYTES - len(csv_bytes("keyword")) + 1)
    assert len(data) == MAX_IMPORT_BYTES + 1
    with pytest.raises(ImportRejected, match="limit is 10 MB"):
        parse_keyword_csv(data)


def test_file_of_exactly_10_mb_is_decoded() -> None:
    assert MAX_IMPORT_BYTES == 10 * 1024 * 1024
    assert len(decode_csv(b"a" * MAX_IMPORT_BYTES)) == MAX_IMPORT_BYTES


def _rows_file(n: int, blank_every: int = 0) -> bytes:
    lines = ["keyword"]
    for i in range(n):
        lines.append(f"k{i}")
        if blank_every and i % blank_every == 0:
            lines.append("")
    return csv_bytes(*lines)


def test_row_limit_is_100k() -> None:
    assert MAX_IMPORT_ROWS == 100_000


def test_more_than_100k_rows_are_refused() -> None:
    with pytest.raises(ImportRejected, match="more than 100,000 rows"):
        parse_keyword_csv(_rows_file(MAX_IMPORT_ROWS + 1))


def test_rows_up_to_the_limit_are_accepted_and_blank_lines_do_not_count(monkeypatch) -> None:
    # (a full 100,000-row file is imported by the integration tests)
    monkeypatch.setattr("igny8_app.domain.keyword_csv.MAX_IMPORT_ROWS", 50)
    parsed = parse_keyword_csv(_rows_file(50, blank_every=2))
    assert len(parsed.rows) == 50
    with pytest.raises(ImportRejected):
        parse_keyword_csv(_rows_file(51, blank_every=2))


def test_invalid_and_duplicate_rows_count_towards_the_row_limit(monkeypatch) -> None:
    monkeypatch.setattr("igny8_app.domain.keyword_csv.MAX_IMPORT_ROWS", 50)
    assert len(parse_keyword_csv(csv_bytes("keyword,volume", *(["dup,1"] * 49), "bad,x")).errors) == 1
    with pytest.raises(ImportRejected, match="more than"):
        parse_keyword_csv(csv_bytes("keyword,volume", *(["dup,1"] * 50), "bad,x"))
