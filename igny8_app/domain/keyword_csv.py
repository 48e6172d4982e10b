"""Parsing a keyword CSV: pure, no database.

Rules: UTF-8 (a BOM and CRLF are fine), a header row with a ``keyword`` column (``volume``,
``difficulty`` and ``intent`` optional), blank lines ignored, at most 10 MB and 100,000 rows.
Fatal problems raise ImportRejected (nothing is imported); row problems are reported by line
number, counting the header as line 1 when it is the first line.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from igny8_app.domain.enums import Intent
from igny8_app.domain.errors import ImportRejected
from igny8_app.domain.text import normalize_keyword
from igny8_app.settings import MAX_IMPORT_BYTES, MAX_IMPORT_ROWS

MAX_KEYWORD_LENGTH = 255
MAX_VOLUME = 2_000_000_000
KNOWN_COLUMNS = ("keyword", "volume", "difficulty", "intent")
_INTENTS = {i.value for i in Intent}


@dataclass(frozen=True)
class KeywordRow:
    line: int
    keyword: str
    keyword_norm: str
    volume: int = 0
    difficulty: int | None = None
    intent: str | None = None


@dataclass(frozen=True)
class RowError:
    line: int
    reason: str


@dataclass
class ParsedCsv:
    rows: list[KeywordRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    duplicates: int = 0  # within the file


def validate_keyword_fields(
    keyword: str, volume: str | int | None, difficulty: str | int | None, intent: str | None
) -> tuple[str, str, int, int | None, str | None]:
    """Validate one keyword's fields; raise ValueError with a user-facing reason."""
    keyword = (keyword or "").strip()
    if not keyword:
        raise ValueError("keyword is empty")
    if len(keyword) > MAX_KEYWORD_LENGTH:
        raise ValueError(f"keyword is longer than {MAX_KEYWORD_LENGTH} characters")
    norm = normalize_keyword(keyword)
    if not norm or not any(ch.isalnum() for ch in norm):
        raise ValueError("keyword has no letters or digits")
    if len(norm) > MAX_KEYWORD_LENGTH:  # NFKC/casefold can lengthen it ('ß' -> 'ss')
        raise ValueError(f"keyword is longer than {MAX_KEYWORD_LENGTH} characters once normalised")
    if any(ord(ch) < 32 for ch in keyword):
        raise ValueError("keyword contains control characters")
    vol = _int_cell(volume, "volume")
    if vol is None:
        vol = 0
    if vol < 0:
        raise ValueError(f"volume must be an integer ≥ 0, got {vol}")
    if vol > MAX_VOLUME:
        raise ValueError("volume is too large")
    diff = _int_cell(difficulty, "difficulty")
    if diff is not None and not 1 <= diff <= 5:
        raise ValueError(f"difficulty must be an integer from 1 to 5, got {diff}")
    intent_value = (intent or "").strip().lower() or None
    if intent_value is not None and intent_value not in _INTENTS:
        raise ValueError(
            f"intent must be one of {', '.join(sorted(_INTENTS))}, got '{_shorten(intent or '')}'"
        )
    return keyword, norm, vol, diff, intent_value


def _shorten(text: str, n: int = 40) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _int_cell(value: str | int | None, name: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, int):
        return value
    text = value.strip()
    if text == "":
        return None
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"{name} must be an integer, got '{_shorten(text)}'") from None


def decode_csv(data: bytes) -> str:
    if len(data) > MAX_IMPORT_BYTES:
        raise ImportRejected(
            f"The file is {len(data) / 1_048_576:.1f} MB; the limit is {MAX_IMPORT_BYTES // 1_048_576} MB."
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ImportRejected(f"The file is not valid UTF-8 (line {line}). Save it as UTF-8 CSV and try again.") from None


def _is_blank(row: list[str]) -> bool:
    return all(not cell.strip() for cell in row)


def parse_keyword_csv(data: bytes) -> ParsedCsv:
    text = decode_csv(data)
    if "\x00" in text:
        raise ImportRejected("The file contains NUL bytes; it does not look like a text CSV file.")
    reader = csv.reader(io.StringIO(text, newline=""))
    result = ParsedCsv()
    header: dict[str, int] | None = None
    seen: set[str] = set()
    data_rows = 0
    try:
        for row in reader:
            line = reader.line_num
            if _is_blank(row):
                continue
            if header is None:
                names = [c.strip().lower() for c in row]
                if "keyword" not in names:
                    raise ImportRejected(
                        "The header row must have a 'keyword' column (optional: volume, difficulty, intent); "
                        f"found: {', '.join(_shorten(n, 20) for n in names[:8]) or 'nothing'}."
                    )
                header = {n: names.index(n) for n in KNOWN_COLUMNS if n in names}
                continue
            data_rows += 1
            if data_rows > MAX_IMPORT_ROWS:
                raise ImportRejected(f"The file has more than {MAX_IMPORT_ROWS:,} rows; split it and import the parts.")

            def cell(name: str) -> str | None:
                idx = header.get(name)  # type: ignore[union-attr]
                return row[idx] if idx is not None and idx < len(row) else None

            try:
                kw, norm, vol, diff, intent = validate_keyword_fields(
                    cell("keyword") or "", cell("volume"), cell("difficulty"), cell("intent")
                )
            except ValueError as exc:
                result.errors.append(RowError(line, str(exc)))
                continue
            if norm in seen:
                result.duplicates += 1
                continue
            seen.add(norm)
            result.rows.append(KeywordRow(line, kw, norm, vol, diff, intent))
    except csv.Error as exc:
        raise ImportRejected(f"The file is not valid CSV (line {reader.line_num}): {exc}.") from None
    if header is None:
        raise ImportRejected("The file is empty: it needs a header row with a 'keyword' column.")
    return result
