"""Small pieces the pages share: a titled card, a status badge, a table, server-side paging
controls and a row of section tabs. (The page frame, stat cards and empty states are in layout.py.)"""

from __future__ import annotations

import reflex as rx

#: Colour of each billing status (invoices, payments); other pages pass their own map.
STATUS_SCHEME = {"paid": "green", "succeeded": "green", "pending": "amber", "pending_approval": "amber",
                 "checkout_open": "amber",
                 "void": "gray", "failed": "red", "uncollectible": "red", "refunded": "gray", "draft": "gray"}


def status_badge(status: rx.Var, schemes: dict[str, str] | None = None, default: str | None = None) -> rx.Component:
    """A soft badge for a status value, coloured by ``schemes`` (status -> Radix colour); an unknown
    status shows as it is, in ``default`` (the accent colour when None). Underscores read as spaces."""
    schemes = STATUS_SCHEME if schemes is None else schemes
    fallback = {"color_scheme": default} if default else {}
    return rx.match(
        status.to(str),
        *[(k, rx.badge(k.replace("_", " "), color_scheme=v, variant="soft")) for k, v in schemes.items()],
        rx.badge(status.to(str), variant="soft", **fallback),
    )


def card(title: str, *children: rx.Component, hint: str = "", spacing: str = "3", **props) -> rx.Component:
    """A full-width card with a heading (and an optional grey line under it)."""
    head = [rx.heading(title, size="4")] + ([rx.text(hint, size="2", color_scheme="gray")] if hint else [])
    return rx.card(rx.vstack(*head, *children, width="100%", spacing=spacing), width="100%", **props)


def data_table(heads: list[str], rows: rx.Var, row_fn, table_id: str, **props) -> rx.Component:  # noqa: ANN001
    """A table with one header row and one row per item of ``rows`` (``row_fn(item)`` makes it)."""
    return rx.table.root(
        rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in heads])),
        rx.table.body(rx.foreach(rows, row_fn)),
        width="100%", id=table_id, **props,
    )


def pager(label: rx.Var, page: rx.Var, last: rx.Var, go, pager_id: str) -> rx.Component:  # noqa: ANN001
    """Server-side paging controls: the handler ``go(delta)`` loads the previous or next page."""
    return rx.hstack(
        rx.text(label, size="2", color_scheme="gray", id=f"{pager_id}-label"),
        rx.spacer(),
        rx.button(rx.icon("chevron-left", size=16), variant="soft", size="1", on_click=go(-1), disabled=page <= 1,
                  id=f"{pager_id}-prev", aria_label="Previous page"),
        rx.button(rx.icon("chevron-right", size=16), variant="soft", size="1", on_click=go(1), disabled=last,
                  id=f"{pager_id}-next", aria_label="Next page"),
        width="100%", align="center", spacing="2",
    )


def tab_bar(tabs: list[tuple[str, str, str]], path: rx.Var, **props) -> rx.Component:
    """The tabs of a section (billing, admin): (label, href, icon); the current page's tab is lit."""
    return rx.hstack(
        *[rx.link(rx.hstack(rx.icon(icon, size=15), rx.text(label, size="2", weight="medium"), spacing="2",
                            align="center"),
                  href=href, underline="none", id=f"tab-{href.strip('/').replace('/', '-')}", padding="7px 12px",
                  border_radius="8px", background=rx.cond(path == href, "var(--indigo-a3)", "transparent"),
                  color=rx.cond(path == href, "var(--indigo-11)", "var(--gray-11)"))
          for label, href, icon in tabs],
        spacing="1", width="100%", **props,
    )
