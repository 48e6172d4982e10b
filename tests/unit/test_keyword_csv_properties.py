"""Property tests for parse_keyword_csv."""

from __future__ import annotations

import csv
import io

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from igny8_app.domain.errors import ImportRejected
from igny8_app.domain.keyword_csv import parse_keyword_csv
from igny8_app.domain.text import normalize_keyword

FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(st.binary(max_size=2_000))
def test_arbitrary_bytes_only_ever_raise_import_rejected(data: bytes) -> None:
    try:
        parse_keyword_csv(data)
    except ImportRejected:
        pass


@FAST
@given(st.binary(max_size=500))
def test_arbitrary_bytes_after_a_valid_header_only_raise_import_rejected(data: bytes) -> None:
    try:
        parsed = parse_keyword_csv(b"keyword,volume,difficulty,intent\n" + data)
    except ImportRejected:
        return
    assert all(len(r.keyword) <= 255 and len(r.keyword_norm) <= 255 and r.volume >= 0 for r in parsed.rows)


@FAST
@given(st.text(max_size=300))
def test_arbitrary_text_only_ever_raises_import_rejected(text: str) -> None:
    try:
        parse_keyword_csv(text.encode("utf-8", "surrogatepass"))
    except ImportRejected:
        pass


# --- valid-ish CSVs: the counts add up ----------------------------------------------------------

# A small alphabet so in-file duplicates (including case and width variants) are common.
keyword_cell = st.one_of(
    st.sampled_from(["apfel", "Äpfel", "ÄPFEL", "äpfel ", "Straße", "STRASSE", "ＡＢＣ", "abc", "  ", "",
                     "!!!", "x" * 256, "a,b", 'say "hi"', "tab\there"]),
    st.text(alphabet="abcÄäßSs ,\"'", min_size=0, max_size=6),
)
int_cell = st.one_of(st.sampled_from(["", " ", "0", "1", "3", "5", "6", "-1", "x", "1.5", "100"]),
                     st.integers(-5, 10).map(str))
intent_cell = st.sampled_from(["", "informational", "Commercial", "TRANSACTIONAL", "navigational", "buy", " "])
data_row = st.tuples(keyword_cell, int_cell, int_cell, intent_cell).map(list)
blank_row = st.sampled_from([[], [""], ["", "", "", ""], [" ", "  "]])
row = st.one_of(data_row, blank_row)


def _is_blank(cells: list[str]) -> bool:
    return all(c.strip() == "" for c in cells)


def _render(rows: list[list[str]], eol: str, bom: bool) -> tuple[bytes, dict[int, int]]:
    """CSV bytes, and for each non-blank data row its index -> physical line number."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=eol)
    writer.writerow(["keyword", "volume", "difficulty", "intent"])
    lines: dict[int, int] = {}
    for i, r in enumerate(rows):
        writer.writerow(r)
        if not _is_blank(r):
            lines[i] = i + 2  # header is line 1; no cell contains a line break
    data = out.getvalue().encode()
    return (b"\xef\xbb\xbf" + data if bom else data), lines


@FAST
@given(st.lists(row, max_size=40), st.sampled_from(["\n", "\r\n"]), st.booleans())
def test_imported_plus_duplicates_plus_invalid_equals_non_blank_rows(rows, eol, bom) -> None:
    data, lines = _render(rows, eol, bom)
    parsed = parse_keyword_csv(data)

    assert len(parsed.rows) + parsed.duplicates + len(parsed.errors) == len(lines)
    # every reported line is a distinct non-blank data line, in file order
    reported = sorted([r.line for r in parsed.rows] + [e.line for e in parsed.errors])
    assert len(set(reported)) == len(reported)
    assert set(reported) <= set(lines.values())
    assert [r.line for r in parsed.rows] == sorted(r.line for r in parsed.rows)
    # imported keywords are unique after normalisation and are the first occurrence
    norms = [r.keyword_norm for r in parsed.rows]
    assert len(set(norms)) == len(norms)
    by_line = {ln: rows[i] for i, ln in lines.items()}
    error_lines = {e.line for e in parsed.errors}
    for r in parsed.rows:
        assert r.keyword == by_line[r.line][0].strip()
        assert r.keyword_norm == normalize_keyword(r.keyword)
        earlier_valid = [by_line[ln][0] for ln in by_line if ln < r.line and ln not in error_lines]
        assert r.keyword_norm not in {normalize_keyword(k) for k in earlier_valid}
