"""Billing pages (views only; state and handlers in billing.py)."""

from __future__ import annotations

import reflex as rx

from igny8_app.components.layout import empty_state, page_frame, stat_card
from igny8_app.pages.billing.state import OPERATIONS, BillingState as B

TABS = [("Overview", "/billing", "layout-dashboard"), ("Usage history", "/billing/usage", "list"),
        ("Invoices", "/billing/invoices", "receipt"), ("Payments", "/billing/payments", "wallet"),
        ("Settings", "/billing/settings", "settings")]
OP_COLOURS = {"clustering": "#6366f1", "ideas": "#06b6d4", "content": "#10b981", "image_prompts": "#f59e0b",
              "images": "#ec4899"}
STATUS_SCHEME = {"paid": "green", "succeeded": "green", "pending": "amber", "pending_approval": "amber",
                 "checkout_open": "amber",
                 "void": "gray", "failed": "red", "uncollectible": "red", "refunded": "gray", "draft": "gray"}


def status_badge(status: rx.Var) -> rx.Component:
    return rx.match(
        status.to(str),
        *[(k, rx.badge(k.replace("_", " "), color_scheme=v, variant="soft")) for k, v in STATUS_SCHEME.items()],
        rx.badge(status.to(str), variant="soft"),
    )


def tabs() -> rx.Component:
    path = B.router.page.path
    return rx.hstack(
        *[rx.link(rx.hstack(rx.icon(icon, size=15), rx.text(label, size="2", weight="medium"), spacing="2",
                            align="center"),
                  href=href, underline="none", id=f"tab-{href.strip('/').replace('/', '-')}",
                  padding="7px 12px", border_radius="8px",
                  background=rx.cond(path == href, "var(--indigo-a3)", "transparent"),
                  color=rx.cond(path == href, "var(--indigo-11)", "var(--gray-11)"))
          for label, icon, href in [(x[0], x[2], x[1]) for x in TABS]],
        spacing="1",
        width="100%",
        padding_bottom="4px",
    )


def billing_frame(title: str, *children: rx.Component) -> rx.Component:
    return page_frame(
        title,
        rx.cond(
            B.billing_denied != "",
            rx.callout(B.billing_denied + " Billing is for account owners and admins.", icon="lock",
                       color_scheme="amber", id="billing-denied"),
            rx.vstack(tabs(), *children, width="100%", spacing="4"),
        ),
    )


def card(title: str, *children: rx.Component, **props) -> rx.Component:
    return rx.card(rx.vstack(rx.heading(title, size="4"), *children, width="100%", spacing="3"), width="100%",
                   **props)


# --- overview ---------------------------------------------------------------------------------------

def _chart() -> rx.Component:
    return rx.recharts.bar_chart(
        rx.recharts.cartesian_grid(stroke_dasharray="3 3", vertical=False),
        *[rx.recharts.bar(data_key=op, stack_id="ops", fill=OP_COLOURS[op], name=op.replace("_", " "))
          for op in OPERATIONS],
        rx.recharts.x_axis(data_key="day", font_size=11, interval=4),
        rx.recharts.y_axis(font_size=11, width=40),
        rx.recharts.graphing_tooltip(),
        rx.recharts.legend(),
        data=B.chart,
        width="100%",
        height=280,
    )


def _buy_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.trigger(rx.button(rx.icon("plus", size=16), "Buy credits", id="buy-credits-open", size="3")),
        rx.dialog.content(
            rx.dialog.title("Buy credits"),
            rx.cond(
                B.bought.contains("reference"),
                rx.vstack(
                    rx.callout("Invoice " + B.bought["invoice"] + " is waiting for your bank transfer. Credits "
                               "arrive as soon as we have approved the payment.", icon="circle-check",
                               color_scheme="green"),
                    rx.data_list.root(
                        *[rx.data_list.item(rx.data_list.label(label), rx.data_list.value(B.bought[key]))
                          for label, key in [("Amount", "amount"), ("Beneficiary", "beneficiary"), ("Bank", "bank"),
                                             ("IBAN", "iban"), ("BIC", "bic")]],
                        rx.data_list.item(rx.data_list.label("Reference"),
                                          rx.data_list.value(rx.code(B.bought["reference"], id="bank-reference",
                                                                     size="3"))),
                    ),
                    rx.text("Quote the reference exactly, so we can match your transfer.", size="2",
                            color_scheme="gray"),
                    rx.hstack(rx.dialog.close(rx.button("Done", id="buy-done")), justify="end", width="100%"),
                    spacing="3",
                    id="bank-instructions",
                ),
                rx.vstack(
                    rx.cond(B.stripe_enabled,
                            rx.text("Choose a package. Pay by card on Stripe's secure checkout (credits arrive as "
                                    "soon as Stripe confirms), or by bank transfer (credits arrive once the payment "
                                    "is approved).", size="2", color_scheme="gray"),
                            rx.text("Choose a package. You pay by bank transfer; the credits are added once the "
                                    "payment is approved.", size="2", color_scheme="gray")),
                    rx.foreach(B.packages, lambda p: rx.card(
                        rx.hstack(
                            rx.vstack(rx.text(p["name"].to(str), weight="bold"),
                                      rx.text(p["credits_label"].to(str), " credits · ",
                                              p["per_credit"].to(str), " per credit", size="1",
                                              color_scheme="gray"),
                                      spacing="0"),
                            rx.spacer(),
                            rx.text(p["price"].to(str), weight="bold", size="4"),
                            rx.cond(B.stripe_enabled,
                                    rx.button(rx.icon("credit-card", size=14), "Card",
                                              on_click=B.buy_with_card(p["id"].to(int)), loading=B.card_busy,
                                              class_name="buy-package-card")),
                            rx.button(rx.cond(B.stripe_enabled, "Bank transfer", "Buy"),
                                      on_click=B.buy_package(p["id"].to(int)), disabled=B.card_busy,
                                      variant=rx.cond(B.stripe_enabled, "soft", "solid"), class_name="buy-package"),
                            align="center", spacing="3", width="100%",
                        ),
                        width="100%",
                    )),
                    rx.hstack(rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray")),
                              justify="end", width="100%"),
                    spacing="3",
                ),
            ),
            max_width="520px",
        ),
        open=B.buy_open,
        on_open_change=B.set_buy_open,
    )


def billing_overview_page() -> rx.Component:
    return billing_frame(
        "Billing",
        rx.cond(
            B.low_notice,
            rx.callout(
                rx.hstack(
                    rx.text("Your balance (", B.balance_label, " credits) is below your low-balance threshold of ",
                            B.threshold_label, " credits. Runs pause when credits run out."),
                    rx.spacer(),
                    rx.button("Dismiss", size="1", variant="soft", on_click=B.dismiss_notice, id="dismiss-notice"),
                    width="100%", align="center",
                ),
                icon="triangle-alert", color_scheme="amber", id="low-balance-notice", width="100%",
            ),
        ),
        rx.hstack(
            stat_card("Balance", B.balance_label, "coins", "credits available"),
            stat_card("Used this month", B.used_this_month_label, "activity", "credits"),
            stat_card("Low-balance alert", B.threshold_label, "bell", "credits (change in Settings)"),
            rx.center(_buy_dialog(), padding_x="12px"),
            width="100%",
            spacing="4",
        ),
        card("Usage, last 30 days", rx.text("Credits used per day, by operation.", size="2", color_scheme="gray"),
             rx.box(_chart(), width="100%", id="usage-chart")),
    )


# --- usage history --------------------------------------------------------------------------------

def _usage_filters() -> rx.Component:
    return rx.form(
        rx.hstack(
            rx.vstack(rx.text("From", size="1", color_scheme="gray"),
                      rx.input(name="from", type="date", default_value=B.f_from, id="f-from"), spacing="1"),
            rx.vstack(rx.text("To", size="1", color_scheme="gray"),
                      rx.input(name="to", type="date", default_value=B.f_to, id="f-to"), spacing="1"),
            rx.vstack(rx.text("Operation", size="1", color_scheme="gray"),
                      rx.select.root(rx.select.trigger(id="f-op", min_width="150px"),
                                     rx.select.content(rx.select.item("All operations", value="all"),
                                                       *[rx.select.item(o.replace("_", " "), value=o)
                                                         for o in OPERATIONS]),
                                     value=B.f_op, on_change=B.set_f_op), spacing="1"),
            rx.vstack(rx.text("Site", size="1", color_scheme="gray"),
                      rx.select.root(rx.select.trigger(id="f-site", min_width="150px"),
                                     rx.select.content(rx.select.item("All sites", value="all"),
                                                       rx.foreach(B.site_options, lambda o: rx.select.item(
                                                           o["label"], value=o["value"]))),
                                     value=B.f_site, on_change=B.set_f_site), spacing="1"),
            rx.vstack(rx.text("Run", size="1", color_scheme="gray"),
                      rx.input(name="run_id", placeholder="run id", default_value=B.f_run, id="f-run"), spacing="1"),
            rx.button(rx.icon("filter", size=14), "Apply", type="submit", id="apply-filters"),
            rx.button("Clear", variant="soft", color_scheme="gray", type="button", on_click=B.clear_filters),
            rx.spacer(),
            rx.button(rx.icon("download", size=14), "Export CSV", variant="outline", type="button",
                      on_click=B.export_csv, id="export-csv"),
            align="end", spacing="3", width="100%", wrap="wrap",
        ),
        on_submit=B.apply_filters,
        reset_on_submit=False,
    )


def _usage_table() -> rx.Component:
    heads = ["Date", "Type", "Operation", "Site", "Run", "Item", "Credits", "Tokens", "Balance after"]
    return rx.table.root(
        rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in heads])),
        rx.table.body(rx.foreach(B.usage_rows, lambda r: rx.table.row(
            rx.table.cell(r["created_at"].to(str), white_space="nowrap"),
            rx.table.cell(rx.badge(r["type"].to(str), variant="soft",
                                   color_scheme=rx.cond(r["type"].to(str) == "deduction", "gray", "green"))),
            rx.table.cell(r["operation"].to(str)),
            rx.table.cell(r["site"].to(str)),
            rx.table.cell(rx.cond(r["run_id"].to(str) != "",
                                  rx.link(r["run_id"].to(str), href="/automation?run_id=" + r["run_id"].to(str),
                                          size="1"), "—")),
            rx.table.cell(r["item"].to(str)),
            rx.table.cell(rx.text(r["credits_label"].to(str), weight="medium",
                                  color=rx.cond(r["credits"].to(int) < 0, "var(--red-11)", "var(--green-11)")),
                          text_align="right"),
            rx.table.cell(r["tokens"].to(str), text_align="right"),
            rx.table.cell(r["balance_after"].to(str), text_align="right", class_name="balance-after"),
            class_name="usage-row",
        ))),
        width="100%",
        size="1",
        id="usage-table",
    )


def billing_usage_page() -> rx.Component:
    return billing_frame(
        "Usage history",
        rx.hstack(
            stat_card("Rows", B.usage_total_label, "list", "matching the filters"),
            stat_card("Credits used", B.usage_used_label, "activity", "charges in the selection"),
            stat_card("Net change", B.usage_net_label, "scale", "charges, grants and refunds"),
            width="100%", spacing="4",
        ),
        rx.card(rx.vstack(
            _usage_filters(),
            rx.cond(B.filter_error != "", rx.callout(B.filter_error, icon="circle-alert", color_scheme="red",
                                                     id="filter-error")),
            rx.cond(B.usage_rows.length() > 0, _usage_table(),
                    empty_state("list", "No usage matches", "Charges and grants appear here. Clear the filters "
                                                            "to see everything.")),
            rx.hstack(
                rx.text(B.usage_total_label, " rows", size="2", color_scheme="gray", id="usage-count"),
                rx.spacer(),
                rx.button(rx.icon("chevron-left", size=16), variant="soft", size="1", on_click=B.go_usage_page(-1),
                          disabled=B.usage_page <= 1, id="usage-prev"),
                rx.text(B.usage_pages_label, size="2", id="usage-page-label"),
                rx.button(rx.icon("chevron-right", size=16), variant="soft", size="1", on_click=B.go_usage_page(1),
                          disabled=B.usage_page >= B.usage_pages, id="usage-next"),
                width="100%", align="center",
            ),
            width="100%", spacing="4",
        ), width="100%"),
    )


# --- invoices ---------------------------------------------------------------------------------------

def _invoice_dialog() -> rx.Component:
    inv = B.invoice
    return rx.dialog.root(
        rx.dialog.content(
            rx.hstack(rx.dialog.title("Invoice ", inv["number"].to(str)), rx.spacer(), status_badge(inv["status"]),
                      align="center", width="100%"),
            rx.text(inv["date"].to(str), " · ", inv["type"].to(str), size="2", color_scheme="gray"),
            rx.text("Bill to: ", inv["bill_to"].to(str), size="2", padding_y="8px"),
            rx.table.root(
                rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in
                                               ("Description", "Qty", "Unit price", "Amount")])),
                rx.table.body(rx.foreach(B.invoice_lines, lambda x: rx.table.row(
                    rx.table.cell(x["description"].to(str)), rx.table.cell(x["quantity"].to(str)),
                    rx.table.cell(x["unit_price"].to(str)), rx.table.cell(x["amount"].to(str)),
                    class_name="invoice-line"))),
                width="100%", size="1",
            ),
            rx.vstack(
                rx.text("Subtotal ", inv["subtotal"].to(str), size="2", color_scheme="gray"),
                rx.text("Tax ", inv["tax"].to(str), size="2", color_scheme="gray"),
                rx.text("Total ", inv["total"].to(str), weight="bold", size="4", id="invoice-total"),
                align="end", width="100%", spacing="1", padding_top="8px",
            ),
            rx.hstack(
                rx.el.a(rx.button(rx.icon("file-down", size=16), "Download PDF", variant="outline"),
                        href=inv["pdf"].to(str), id="invoice-pdf-link", target="_blank"),
                rx.spacer(),
                rx.dialog.close(rx.button("Close", variant="soft", color_scheme="gray")),
                width="100%", padding_top="12px",
            ),
            max_width="640px",
            id="invoice-detail",
        ),
        open=B.invoice_open,
        on_open_change=B.set_invoice_open,
    )


def billing_invoices_page() -> rx.Component:
    return billing_frame(
        "Invoices",
        card("Invoices", rx.cond(
            B.invoice_rows.length() > 0,
            rx.table.root(
                rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in
                                               ("Number", "Date", "Type", "Status", "Total", "")])),
                rx.table.body(rx.foreach(B.invoice_rows, lambda r: rx.table.row(
                    rx.table.cell(rx.link(r["number"].to(str), on_click=B.open_invoice(r["id"].to(int)),
                                          cursor="pointer", weight="medium")),
                    rx.table.cell(r["date"].to(str)),
                    rx.table.cell(r["type"].to(str)),
                    rx.table.cell(status_badge(r["status"])),
                    rx.table.cell(r["total"].to(str)),
                    rx.table.cell(rx.hstack(
                        rx.button("View", size="1", variant="soft", on_click=B.open_invoice(r["id"].to(int))),
                        rx.el.a(rx.button(rx.icon("file-down", size=14), "PDF", size="1", variant="outline"),
                                href="/files/invoices/" + r["id"].to(str) + ".pdf", target="_blank"),
                        spacing="2")),
                    class_name="invoice-row",
                ))),
                width="100%",
                id="invoices-table",
            ),
            empty_state("receipt", "No invoices yet", "Buying credits creates an invoice."),
        )),
        _invoice_dialog(),
    )


# --- payments ---------------------------------------------------------------------------------------

def billing_payments_page() -> rx.Component:
    return billing_frame(
        "Payments",
        rx.match(
            B.checkout_notice,
            ("success", rx.callout("Thank you: Stripe has your card payment. The invoice is marked paid and the "
                                   "credits are added as soon as Stripe confirms it (usually within seconds).",
                                   icon="circle-check", color_scheme="green", id="checkout-success", width="100%")),
            ("cancelled", rx.callout("Card checkout cancelled: nothing was charged.", icon="info",
                                     color_scheme="gray", id="checkout-cancelled", width="100%")),
            rx.fragment(),
        ),
        rx.hstack(rx.cond(B.stripe_enabled,
                          rx.text("Card payments are credited when Stripe confirms them; bank transfers once IGNY8 "
                                  "has approved them.", size="2", color_scheme="gray"),
                          rx.text("Bank transfers wait for approval by IGNY8; credits are added when approved.",
                                  size="2", color_scheme="gray")),
                  rx.spacer(), _buy_dialog(), width="100%", align="center"),
        card("Payments", rx.cond(
            B.payment_rows.length() > 0,
            rx.table.root(
                rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in
                                               ("Date", "Invoice", "Method", "Reference", "Amount", "Status",
                                                "Note")])),
                rx.table.body(rx.foreach(B.payment_rows, lambda r: rx.table.row(
                    rx.table.cell(r["date"].to(str), white_space="nowrap"),
                    rx.table.cell(r["invoice_number"].to(str), white_space="nowrap"),
                    rx.table.cell(r["method_label"].to(str), white_space="nowrap"),
                    rx.table.cell(rx.code(r["reference"].to(str)), white_space="nowrap"),
                    rx.table.cell(r["amount"].to(str)),
                    rx.table.cell(status_badge(r["display_status"])),
                    rx.table.cell(r["note"].to(str)),
                    class_name="payment-row",
                ))),
                width="100%",
                id="payments-table",
            ),
            empty_state("wallet", "No payments yet", "Buy a credit package to get started."),
        )),
    )


# --- settings ---------------------------------------------------------------------------------------

def _field(label: str, name: str, hint: str = "", **props) -> rx.Component:
    err = B.field_errors.get(name, "")
    return rx.vstack(
        rx.text(label, size="2", weight="medium"),
        (rx.text_area if name == "address" else rx.input)(name=name, default_value=B.settings.get(name, ""),
                                                          id=f"set-{name}", width="100%", **props),
        rx.cond(err != "", rx.text(err, size="1", color="var(--red-11)", id=f"err-{name}"),
                rx.text(hint, size="1", color_scheme="gray")),
        spacing="1", width="100%",
    )


def billing_settings_page() -> rx.Component:
    return billing_frame(
        "Billing settings",
        rx.grid(
            card("Billing profile", rx.cond(~B.settings_loaded, rx.center(rx.spinner(size="3"), height="200px"), rx.form(
                rx.vstack(
                    _field("Billing email", "billing_email", "Invoices and payment notices go here."),
                    _field("Company", "company"),
                    _field("Address", "address", rows="3"),
                    rx.hstack(_field("Country", "country", "Two letters, e.g. DE, GB, US.", max_length=2),
                              _field("Tax id", "tax_id", "VAT or other tax number, printed on invoices."),
                              width="100%", spacing="4"),
                    _field("Low-balance threshold (credits)", "low_balance_threshold",
                           "You get one notice each time the balance drops below this."),
                    rx.hstack(rx.cond(B.settings_saved, rx.text("Saved.", color="var(--green-11)", size="2",
                                                                id="settings-saved")),
                              rx.spacer(), rx.button("Save settings", type="submit", id="save-settings"),
                              width="100%", align="center"),
                    spacing="4", width="100%",
                ),
                on_submit=B.save_settings,
                reset_on_submit=False,
                width="100%",
                key=B.settings.get("company", "") + B.settings.get("low_balance_threshold", ""),
            ))),
            card("Payment methods", _payment_methods()),
            columns="2fr 1fr", spacing="4", width="100%",
        ),
    )


def _payment_methods() -> rx.Component:
    m = B.methods
    return rx.vstack(
        rx.hstack(rx.icon("landmark", size=18), rx.text("Bank transfer", weight="medium"),
                  rx.badge("available", color_scheme="green"), spacing="2", align="center"),
        rx.text("Each purchase shows the bank details and a unique reference to quote.", size="2",
                color_scheme="gray"),
        rx.cond(m.get("bank_reference", "") != "",
                rx.text("Last reference: ", rx.code(m.get("bank_reference", ""), id="method-bank-reference"),
                        " (", m.get("bank_date", ""), ")", size="2")),
        rx.separator(size="4"),
        rx.cond(
            B.stripe_enabled,
            rx.vstack(
                rx.hstack(rx.icon("credit-card", size=18), rx.text("Card (Stripe)", weight="medium"),
                          rx.badge("available", color_scheme="green"), spacing="2", align="center",
                          id="method-card"),
                rx.text("You enter your card on Stripe's checkout page; card details stay with Stripe and are "
                        "never stored here.", size="2", color_scheme="gray"),
                rx.text(m.get("card_payments", "0"), " card payment(s)",
                        rx.cond(m.get("card_last", "") != "", rx.text.span(", the last ", m.get("card_last", ""))),
                        ".", size="2", id="method-card-summary"),
                spacing="2", width="100%",
            ),
            rx.hstack(rx.icon("credit-card", size=18), rx.text("Card (Stripe)", weight="medium"),
                      rx.badge("not configured", color_scheme="gray"), spacing="2", align="center",
                      id="method-card-off"),
        ),
        spacing="2", width="100%",
    )
