"""The Reflex app: pages, API routes (api_transformer) and lifespan tasks. Nothing else."""

import reflex as rx
from starlette.applications import Starlette

from igny8_app.api.auth_routes import routes as auth_routes
from igny8_app.api.automation_routes import routes as automation_routes
from igny8_app.api.openapi import routes as openapi_routes
from igny8_app.pages.admin import AdminState, admin_page
from igny8_app.pages.automation import AutomationState, automation_page
from igny8_app.pages.billing import BillingState, billing_page
from igny8_app.pages.content import ContentState, content_page
from igny8_app.pages.keywords import KeywordsState, keywords_page
from igny8_app.pages.login import login_page
from igny8_app.state import SessionState

api = Starlette(routes=[*auth_routes, *automation_routes, *openapi_routes])

app = rx.App(api_transformer=api)  # theme: RadixThemesPlugin in rxconfig.py


def index() -> rx.Component:
    return rx.center(rx.spinner(size="3"), height="100vh")


app.add_page(index, route="/", title="IGNY8 Automation", on_load=rx.redirect("/keywords"))
app.add_page(login_page, route="/login", title="Sign in · IGNY8")
app.add_page(keywords_page, route="/keywords", title="Keywords · IGNY8",
             on_load=[SessionState.load_session, KeywordsState.load_keywords])
app.add_page(automation_page, route="/automation", title="Automation · IGNY8",
             on_load=[SessionState.load_session, AutomationState.load_automation])
app.add_page(content_page, route="/content", title="Content · IGNY8",
             on_load=[SessionState.load_session, ContentState.load_content])
app.add_page(billing_page, route="/billing", title="Billing · IGNY8",
             on_load=[SessionState.load_session, BillingState.load_billing])
app.add_page(admin_page, route="/admin", title="Admin · IGNY8",
             on_load=[SessionState.load_session, AdminState.load_admin])
