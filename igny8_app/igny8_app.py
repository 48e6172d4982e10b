"""The Reflex app: pages, API routes and lifespan tasks. Nothing else."""

import reflex as rx


def index() -> rx.Component:
    return rx.center(rx.heading("IGNY8 Automation"), height="100vh")


app = rx.App()
app.add_page(index, route="/")
