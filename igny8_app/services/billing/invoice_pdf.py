"""Invoice PDFs with fpdf2: seller, billing profile (as snapshotted on the invoice), lines, totals.

Uses DejaVu Sans when the system has it (any Unicode name or address prints); otherwise the
built-in Helvetica with text reduced to Latin-1.
"""

from __future__ import annotations

from pathlib import Path

from fpdf import FPDF

from igny8_app.domain.enums import InvoiceStatus
from igny8_app.domain.invoices import format_money
from igny8_app.services.billing.invoices import InvoiceView
from igny8_app.services.billing.payments import BANK_DETAILS

SELLER = ["IGNY8 Automation Ltd", "1 Content Street", "London EC1A 1AA", "United Kingdom",
          "billing@igny8.example"]
_FONT_DIRS = [Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu")]
INK, MUTED, ACCENT, RULE = (15, 23, 42), (100, 116, 139), (79, 70, 229), (226, 232, 240)
STATUS_COLOURS = {InvoiceStatus.PAID.value: (22, 163, 74), InvoiceStatus.PENDING.value: (217, 119, 6),
                  InvoiceStatus.VOID.value: (100, 116, 139), InvoiceStatus.UNCOLLECTIBLE.value: (220, 38, 38),
                  InvoiceStatus.DRAFT.value: (100, 116, 139)}


class _Doc(FPDF):
    def __init__(self) -> None:
        super().__init__(format="A4", unit="mm")
        self.set_margins(18, 18, 18)
        self.set_auto_page_break(True, margin=22)
        self.unicode = False
        for d in _FONT_DIRS:
            if (d / "DejaVuSans.ttf").exists() and (d / "DejaVuSans-Bold.ttf").exists():
                self.add_font("Body", "", str(d / "DejaVuSans.ttf"))
                self.add_font("Body", "B", str(d / "DejaVuSans-Bold.ttf"))
                self.unicode = True
                break
        self.family = "Body" if self.unicode else "Helvetica"

    def t(self, text: object) -> str:
        s = "" if text is None else str(text)
        return s if self.unicode else s.encode("latin-1", "replace").decode("latin-1")

    def font(self, size: float, bold: bool = False, color: tuple[int, int, int] = INK) -> None:
        self.set_font(self.family, "B" if bold else "", size)
        self.set_text_color(*color)

    def footer(self) -> None:
        self.set_y(-15)
        self.font(8, color=MUTED)
        self.cell(0, 5, self.t(f"{SELLER[0]} · page {self.page_no()}/{{nb}}"), align="C")


def render_invoice_pdf(view: InvoiceView) -> bytes:
    inv, lines = view.invoice, view.lines
    profile = inv.billing_snapshot or {}
    pdf = _Doc()
    pdf.alias_nb_pages()
    pdf.set_title(f"Invoice {inv.number}")
    pdf.set_author(SELLER[0])
    pdf.add_page()
    w = pdf.epw

    # header: brand left, INVOICE + number right
    pdf.set_fill_color(*ACCENT)
    pdf.rect(pdf.l_margin, 18, 9, 9, style="F")
    pdf.set_xy(pdf.l_margin + 12, 18)
    pdf.font(16, True)
    pdf.cell(60, 9, "IGNY8")
    pdf.set_xy(pdf.l_margin, 18)
    pdf.font(22, True)
    pdf.cell(w, 9, "INVOICE", align="R")
    pdf.ln(11)
    pdf.font(10, color=MUTED)
    pdf.cell(w, 5, pdf.t(inv.number), align="R")
    pdf.ln(6)
    colour = STATUS_COLOURS.get(inv.status, MUTED)
    pdf.font(10, True, colour)
    pdf.cell(w, 5, pdf.t(inv.status.upper()), align="R")
    pdf.ln(12)

    # parties
    top = pdf.get_y()
    col = w / 2 - 4
    _block(pdf, pdf.l_margin, top, col, "From", SELLER)
    billed = [profile.get("company") or profile.get("account") or view.account_name]
    if profile.get("company") and profile.get("account") and profile["account"] != profile["company"]:
        billed.append(f"Account: {profile['account']}")
    billed += [x for x in (profile.get("address") or "").splitlines() if x.strip()]
    if profile.get("country"):
        billed.append(profile["country"])
    if profile.get("tax_id"):
        billed.append(f"Tax ID: {profile['tax_id']}")
    if profile.get("billing_email"):
        billed.append(profile["billing_email"])
    end_a = _block(pdf, pdf.l_margin + col + 8, top, col, "Bill to", billed)

    # dates
    pdf.set_y(max(end_a, pdf.get_y()) + 6)
    facts = [("Invoice date", (inv.issued_at or inv.created_at).strftime("%d %b %Y")),
             ("Type", inv.type.replace("_", " ").title()),
             ("Paid on", inv.paid_at.strftime("%d %b %Y") if inv.paid_at else "—"),
             ("Credits", f"{inv.credits:,}" if inv.credits else "—")]
    cw = w / len(facts)
    y = pdf.get_y()
    for i, (label, value) in enumerate(facts):
        pdf.set_xy(pdf.l_margin + i * cw, y)
        pdf.font(8, color=MUTED)
        pdf.cell(cw, 4, pdf.t(label.upper()))
        pdf.set_xy(pdf.l_margin + i * cw, y + 5)
        pdf.font(10, True)
        pdf.cell(cw, 5, pdf.t(value))
    pdf.set_y(y + 16)

    # lines
    widths = [w * 0.52, w * 0.12, w * 0.18, w * 0.18]
    heads = [("Description", "L"), ("Qty", "R"), ("Unit price", "R"), ("Amount", "R")]
    pdf.set_fill_color(241, 245, 249)
    pdf.font(9, True, MUTED)
    for (h, align), cw_ in zip(heads, widths):
        pdf.cell(cw_, 8, pdf.t(h), align=align, fill=True)
    pdf.ln(8)
    pdf.set_draw_color(*RULE)
    for line in lines:
        pdf.font(10)
        cells = [(line.description, "L"), (f"{line.quantity:,}", "R"),
                 (format_money(line.unit_price_cents, inv.currency), "R"),
                 (format_money(line.amount_cents, inv.currency), "R")]
        for (text, align), cw_ in zip(cells, widths):
            pdf.cell(cw_, 9, pdf.t(text), align=align, border="B")
        pdf.ln(9)

    # totals
    pdf.ln(3)
    label_w, value_w = widths[2], widths[3]
    x0 = pdf.l_margin + widths[0] + widths[1]
    for label, cents, bold in (("Subtotal", inv.subtotal_cents, False), ("Tax", inv.tax_cents, False),
                               ("Total", inv.total_cents, True)):
        pdf.set_x(x0)
        pdf.font(11 if bold else 10, bold, INK if bold else MUTED)
        pdf.cell(label_w, 7, pdf.t(label), align="R")
        pdf.font(11 if bold else 10, bold)
        pdf.cell(value_w, 7, pdf.t(format_money(cents, inv.currency)), align="R")
        pdf.ln(7)

    # payment instructions / note
    pdf.ln(8)
    if inv.status == InvoiceStatus.PENDING.value:
        _block(pdf, pdf.l_margin, pdf.get_y(), w, "How to pay (bank transfer)", [
            f"Beneficiary: {BANK_DETAILS['beneficiary']} · {BANK_DETAILS['bank']}",
            f"IBAN: {BANK_DETAILS['iban']} · BIC: {BANK_DETAILS['bic']}",
            f"Please quote the payment reference shown in Billing › Payments, or {inv.number}.",
        ])
    if inv.note:
        pdf.ln(4)
        _block(pdf, pdf.l_margin, pdf.get_y(), w, "Note", [inv.note])
    return bytes(pdf.output())


def _block(pdf: _Doc, x: float, y: float, width: float, title: str, rows: list[str]) -> float:
    pdf.set_xy(x, y)
    pdf.font(8, True, MUTED)
    pdf.cell(width, 5, pdf.t(title.upper()))
    pdf.ln(6)
    for i, row in enumerate(rows):
        pdf.set_x(x)
        pdf.font(10, i == 0 and title != "Note")
        pdf.multi_cell(width, 5, pdf.t(row), new_x="LEFT", new_y="NEXT")
    return pdf.get_y()
