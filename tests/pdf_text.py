"""The text of a PDF, for tests that check what an invoice says (not just that it starts with %PDF).

Uses poppler's ``pdftotext -layout`` (Debian poppler-utils; scripts/test.sh installs it), which keeps
a table row on one line, so a test can match "description  qty  unit  amount" as a row."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from igny8_app.domain.invoices import format_money


def pdf_text(data: bytes) -> str:
    """The PDF's text, whitespace runs inside a line kept (layout mode)."""
    assert data[:5] == b"%PDF-", data[:20]
    exe = shutil.which("pdftotext")
    if exe is None:  # a missing tool is a broken test machine, not a reason to skip the check
        pytest.fail("pdftotext not found: install poppler-utils (scripts/test.sh does)")
    out = subprocess.run([exe, "-layout", "-enc", "UTF-8", "-", "-"], input=data, capture_output=True,
                         timeout=60, check=True)
    return out.stdout.decode("utf-8")


def row(*cells: str) -> re.Pattern[str]:
    """A pattern for one line holding ``cells`` in order, separated by whitespace."""
    return re.compile(r"(?m)^.*" + r"\s+".join(re.escape(c) for c in cells) + r"\s*$")


def assert_invoice_pdf(data: bytes, invoice: dict) -> str:
    """The PDF says what the API's invoice JSON says: number, each line, the totals, who is billed.
    Returns the text for further checks."""
    text = pdf_text(data)
    assert invoice["number"] in text, text
    for line in invoice["lines"]:
        assert row(line["description"], f"{line['quantity']:,}", line["unit_price"], line["amount"]).search(text), \
            (line, text)
    for label, key in (("Subtotal", "subtotal_cents"), ("Tax", "tax_cents"), ("Total", "total_cents")):
        assert row(label, format_money(invoice[key], invoice["currency"])).search(text), (label, text)
    assert invoice["billing_profile"]["account"] in text, text
    return text
