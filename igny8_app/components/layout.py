"""The authenticated page frame: sidebar navigation, header with the site selector, content area."""

from __future__ import annotations

import reflex as rx

from igny8_app.state import SessionState

NAV = [
    ("Keywords", "/keywords", "key-round"),
    ("Automation", "/automation", "workflow"),
    ("Content", "/content", "file-text"),
]
ACCOUNT_NAV = [("API tokens", "/tokens", "key"), ("My account", "/account", "user-cog")]  # every logged-in user
# owners and admins (checked again on the server)
MANAGER_NAV = [("Billing", "/billing", "credit-card"), ("Team", "/team", "users"), ("Sites", "/sites", "globe"),
               ("AI settings", "/settings/ai", "bot")]
ADMIN_NAV = [("Credit costs", "/admin", "shield-check"), ("Accounts", "/admin/accounts", "building-2"),
             ("Approvals", "/admin/payments", "badge-check"), ("All invoices", "/admin/invoices", "receipt"),
             ("Packages", "/admin/packages", "package"), ("System", "/admin/system", "activity")]
ACCENT = "#4f46e5"


def _nav_item(label: str, href: str, icon: str) -> rx.Component:
    path = SessionState.router.page.path
    # a section's sub-pages (/billing/usage) keep its entry lit; /admin only lights for itself
    active = (path == href) | (path.to(str).startswith(href + "/") if href != "/admin" else (path == href))
    return rx.link(
        rx.hstack(
            rx.icon(icon, size=18),
            rx.text(label, size="3", weight="medium"),
            spacing="3",
            align="center",
            padding_x="12px",
            padding_y="9px",
            border_radius="8px",
            width="100%",
            background=rx.cond(active, "rgba(99,102,241,0.16)", "transparent"),
            color=rx.cond(active, "#e0e7ff", "#cbd5e1"),
            _hover={"background": "rgba(148,163,184,0.12)", "color": "#f8fafc"},
        ),
        href=href,
        underline="none",
        width="100%",
        id=f"nav-{label.lower().replace(' ', '-')}",
    )


def sidebar() -> rx.Component:
    """The dark column: as tall as the page (the frame stretches it), its navigation stuck to the
    top of the window while the page scrolls."""
    nav = rx.vstack(
        rx.hstack(
            rx.center(rx.icon("sparkles", size=18, color="white"), width="32px", height="32px",
                      border_radius="8px", background=f"linear-gradient(135deg, {ACCENT}, #06b6d4)"),
            rx.vstack(
                rx.text("IGNY8", weight="bold", size="4", color="white", line_height="1"),
                rx.text("Automation", size="1", color="#94a3b8", line_height="1"),
                spacing="1",
            ),
            align="center",
            spacing="3",
            padding_x="12px",
            padding_bottom="18px",
        ),
        *[_nav_item(*n) for n in NAV],
        *[rx.cond(SessionState.can_manage, _nav_item(*n)) for n in MANAGER_NAV],
        *[_nav_item(*n) for n in ACCOUNT_NAV],
        rx.cond(
            SessionState.is_superuser,
            rx.vstack(
                rx.text("ADMIN", size="1", color="#64748b", weight="bold", padding_x="12px", padding_top="18px",
                        letter_spacing="0.08em"),
                *[_nav_item(*n) for n in ADMIN_NAV],
                width="100%",
                spacing="1",
                id="admin-nav",
            ),
        ),
        rx.spacer(),
        rx.text(SessionState.user_email, size="1", color="#94a3b8", padding_x="12px", trim="both"),
        width="100%",
        height="100vh",
        position="sticky",
        top="0",
        padding="20px 12px",
        spacing="1",
    )
    return rx.box(nav, width="232px", min_width="232px", min_height="100vh", align_self="stretch",
                  background="#0f172a", id="sidebar")


def site_selector() -> rx.Component:
    return rx.cond(
        SessionState.sites.length() > 0,
        rx.select.root(
            rx.select.trigger(placeholder="Choose a site", min_width="260px", id="site-selector"),
            rx.select.content(
                rx.foreach(
                    SessionState.sites,
                    lambda s: rx.select.item(s["label"].to(str), value=s["value"].to(str)),
                ),
            ),
            value=SessionState.active_site_value,
            on_change=SessionState.select_site,
        ),
        rx.badge("No sites yet", color_scheme="gray"),
    )


def notification_bell() -> rx.Component:
    """The bell in the header: unread count, linking to the notification centre."""
    return rx.link(
        rx.box(
            rx.icon("bell", size=18),
            rx.cond(SessionState.unread > 0,
                    rx.badge(SessionState.unread.to_string(), color_scheme="red", variant="solid", radius="full",
                             size="1", position="absolute", top="-8px", right="-10px", id="unread-count")),
            position="relative", display="flex", padding="4px",
        ),
        href="/notifications", id="notification-bell", color="var(--gray-11)", title="Notifications",
    )


def header(title: str) -> rx.Component:
    return rx.hstack(
        rx.vstack(
            rx.heading(title, size="6", weight="bold"),
            rx.text(SessionState.active_account_name, size="2", color_scheme="gray"),
            spacing="0",
        ),
        rx.spacer(),
        site_selector(),
        rx.cond(  # an account's balance and the user's role only mean something with an active site
            SessionState.active_site_id != 0,
            rx.hstack(
                rx.badge(
                    rx.icon("coins", size=14),
                    rx.text(SessionState.balance_label, " credits", id="header-balance"),
                    size="2",
                    color_scheme="indigo",
                    variant="soft",
                ),
                rx.badge(SessionState.active_role, color_scheme="gray", variant="outline", id="header-role"),
                spacing="3",
                align="center",
            ),
            rx.cond(SessionState.is_superuser, rx.badge("platform admin", color_scheme="purple", variant="soft")),
        ),
        notification_bell(),
        rx.button(rx.icon("log-out", size=14), "Log out", variant="ghost", size="2", id="logout-button",
                  on_click=SessionState.log_out),
        align="center",
        spacing="3",
        width="100%",
        padding_bottom="20px",
        border_bottom="1px solid var(--gray-a4)",
        margin_bottom="20px",
    )


def page_frame(title: str, *children: rx.Component) -> rx.Component:
    """Frame for a logged-in page. Shows a neutral loader until the session is resolved."""
    return rx.hstack(
        sidebar(),
        rx.box(
            rx.cond(
                SessionState.authenticated,
                rx.vstack(header(title), *children, width="100%", spacing="4", align="stretch"),
                rx.center(rx.spinner(size="3"), height="60vh"),
            ),
            flex="1",
            padding="28px 36px",
            min_height="100vh",
            background="var(--gray-1)",
            overflow_x="auto",
        ),
        spacing="0",
        align="start",
        width="100%",
    )


def stat_card(label: str, value: rx.Var | str, icon: str, hint: rx.Var | str = "") -> rx.Component:
    return rx.card(
        rx.hstack(
            rx.center(rx.icon(icon, size=18), width="36px", height="36px", border_radius="8px",
                      background="var(--indigo-a3)", color="var(--indigo-11)"),
            rx.vstack(
                rx.text(label, size="1", color_scheme="gray", weight="medium"),
                rx.text(value, size="5", weight="bold"),
                rx.text(hint, size="1", color_scheme="gray"),
                spacing="0",
            ),
            spacing="3",
            align="center",
        ),
        flex="1",
    )


def empty_state(icon: str, title: str, text: str) -> rx.Component:
    return rx.center(
        rx.vstack(
            rx.icon(icon, size=36, color="var(--gray-8)"),
            rx.text(title, weight="bold", size="3"),
            rx.text(text, size="2", color_scheme="gray", text_align="center", max_width="420px"),
            align="center",
            spacing="2",
        ),
        padding="48px",
        width="100%",
    )


def dialog_actions(submit: rx.Component) -> rx.Component:
    """The footer of a form dialog: Cancel (closes it, never submits) and the form's submit button."""
    return rx.hstack(rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray", type="button")),
                     submit, justify="end", spacing="3", width="100%")


def signed_out_card(icon: str, title: str, subtitle: str, *children: rx.Component,
                    width: str = "420px") -> rx.Component:
    """The card of the signed-out pages (sign in, forgot/reset password, accept an invitation):
    the app's mark with the page's title over a soft background."""
    return rx.center(
        rx.card(
            rx.vstack(
                rx.hstack(
                    rx.center(rx.icon(icon, size=20, color="white"), width="40px", height="40px",
                              border_radius="10px", background="linear-gradient(135deg, #4f46e5, #06b6d4)"),
                    rx.vstack(rx.heading(title, size="5"), rx.text(subtitle, size="2", color_scheme="gray"),
                              spacing="0"),
                    spacing="3", align="center",
                ),
                *children,
                spacing="4", width="100%",
            ),
            size="4", width=width,
        ),
        height="100vh",
        background="radial-gradient(circle at 20% 20%, #e0e7ff, transparent 40%), "
                   "radial-gradient(circle at 80% 80%, #cffafe, transparent 40%), var(--gray-2)",
    )
