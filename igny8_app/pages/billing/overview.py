"""Billing overview (/billing): balance, this month's use by operation, buy credits."""

from __future__ import annotations

import reflex as rx

from igny8_app.components.layout import stat_card
from igny8_app.components.widgets import card
from igny8_app.pages.billing.frame import billing_frame
from igny8_app.pages.billing.state import OPERATIONS, BillingState as B

OP_COLOURS = {"clustering": "#6366f1", "ideas": "#06b6d4", "content": "#10b981", "image_prompts": "#f59e0b",
              "images": "#ec4899"}


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


def buy_dialog() -> rx.Component:
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
            rx.center(buy_dialog(), padding_x="12px"),
            width="100%",
            spacing="4",
        ),
        card("Usage, last 30 days", rx.text("Credits used per day, by operation.", size="2", color_scheme="gray"),
             rx.box(_chart(), width="100%", id="usage-chart")),
    )
