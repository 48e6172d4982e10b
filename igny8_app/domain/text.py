"""Keyword normalisation: NFKC, Unicode casefold, trimmed and collapsed whitespace.

Done in Python because SQLite's lower() is ASCII-only: 'ÄPFEL' and 'äpfel' must collide.
"""

from __future__ import annotations

import re
import unicodedata

_WS = re.compile(r"\s+", re.UNICODE)


def normalize_keyword(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    text = text.casefold()
    # casefold can produce sequences that NFKC would compose differently; normalise again.
    text = unicodedata.normalize("NFKC", text)
    return _WS.sub(" ", text).strip()
