"""The Reflex app: pages, API routes (api_transformer) and lifespan tasks. Nothing else."""

import reflex as rx
from starlette.applications import Starlette

from igny8_app.api.admin_routes import routes as admin_routes
from igny8_app.api.auth_routes import routes as auth_routes
from igny8_app.api.billing_routes import routes as billing_routes
from igny8_app.api.body_limit import limit_bodies
from igny8_app.api.files import routes as file_routes
from igny8_app.api.media_routes import routes as media_routes
from igny8_app.api.automation_routes import routes as automation_routes
from igny8_app.api.openapi import routes as openapi_routes
from igny8_app.api.system_routes import routes as system_routes
from igny8_app.pages.admin import accounts as admin_accounts, costs as admin_costs, invoices as admin_invoices
from igny8_app.pages.admin import packages as admin_packages, payments as admin_payments
from igny8_app.pages.billing import invoices as billing_invoices, overview as billing_overview
from igny8_app.pages.billing import payments as billing_payments, settings as billing_settings, usage as billing_usage
from igny8_app.pages.ai_settings.state import ROUTE as AI_SETTINGS_ROUTE, AISettingsState
from igny8_app.pages.ai_settings.view import ai_settings_page
from igny8_app.pages.admin.state import (AdminAccountsState, AdminCostsState, AdminInvoicesState, AdminPackagesState,
                                         AdminPaymentsState)
from igny8_app.pages.automation.state import LiveRunState
from igny8_app.pages.automation.view import automation_page
from igny8_app.pages.billing.state import BillingState
from igny8_app.pages.content.state import ARTICLE_ROUTE, ContentState
from igny8_app.pages.content.view import content_page
from igny8_app.pages.keywords.state import KeywordsState
from igny8_app.pages.keywords.view import keywords_page
from igny8_app.pages.account.state import AccountState
from igny8_app.pages.account.view import account_page
from igny8_app.pages.password_reset.state import ResetState
from igny8_app.pages.password_reset.view import forgot_page, reset_page
from igny8_app.pages.login.view import login_page
from igny8_app.pages.notifications.state import NotificationsState
from igny8_app.pages.notifications.view import notifications_page
from igny8_app.pages.sites.state import SitesAdminState
from igny8_app.pages.sites.view import sites_admin_page
from igny8_app.pages.system.state import SystemState
from igny8_app.pages.system.view import system_page
from igny8_app.pages.team.state import TeamState
from igny8_app.pages.team.view import team_page
from igny8_app.pages.invite.state import InviteState
from igny8_app.pages.invite.view import invite_page
from igny8_app.pages.tokens.state import TokensState
from igny8_app.pages.tokens.view import tokens_page
from igny8_app.state import SessionState

api = Starlette(routes=[*auth_routes, *automation_routes, *openapi_routes, *billing_routes, *admin_routes,
                        *file_routes, *media_routes, *system_routes])

# api mounts Reflex's own app (/_upload, /_event, /ping…) under our routes; limit_bodies then wraps
# both, so no request body anywhere is read past its limit (api/body_limit.py).
app = rx.App(api_transformer=[api, limit_bodies])  # theme: RadixThemesPlugin in rxconfig.py


def index() -> rx.Component:
    return rx.center(rx.spinner(size="3"), height="100vh")


app.add_page(index, route="/", title="IGNY8 Automation", on_load=rx.redirect("/keywords"))
app.add_page(login_page, route="/login", title="Sign in · IGNY8")
app.add_page(invite_page, route="/invite", title="Join a team · IGNY8", on_load=InviteState.load_invite)
app.add_page(forgot_page, route="/forgot", title="Forgot password · IGNY8", on_load=ResetState.load_forgot)
app.add_page(reset_page, route="/reset", title="Reset password · IGNY8", on_load=ResetState.load_reset)
app.add_page(keywords_page, route="/keywords", title="Keywords · IGNY8",
             on_load=[SessionState.load_session, KeywordsState.load_keywords])
app.add_page(automation_page, route="/automation", title="Automation · IGNY8",
             on_load=[SessionState.load_session, LiveRunState.load_automation])
app.add_page(content_page, route="/content", title="Content · IGNY8",
             on_load=[SessionState.load_session, ContentState.load_content])
app.add_page(content_page, route=ARTICLE_ROUTE, title="Article · IGNY8",
             on_load=[SessionState.load_session, ContentState.load_article_page])
for _view, _route, _title, _loader in [
    (billing_overview.billing_overview_page, "/billing", "Billing", BillingState.load_overview),
    (billing_usage.billing_usage_page, "/billing/usage", "Usage history", BillingState.load_usage),
    (billing_invoices.billing_invoices_page, "/billing/invoices", "Invoices", BillingState.load_invoices),
    (billing_payments.billing_payments_page, "/billing/payments", "Payments", BillingState.load_payments),
    (billing_settings.billing_settings_page, "/billing/settings", "Billing settings", BillingState.load_settings),
    (team_page, "/team", "Team", TeamState.load_team),
    (ai_settings_page, AI_SETTINGS_ROUTE, "AI settings", AISettingsState.load_ai_settings),
    (tokens_page, "/tokens", "API tokens", TokensState.load_tokens),
    (account_page, "/account", "My account", AccountState.load_account),
    (notifications_page, "/notifications", "Notifications", NotificationsState.load_notifications),
    (sites_admin_page, "/sites", "Sites & sectors", SitesAdminState.load_sites),
    (admin_costs.admin_costs_page, "/admin", "Credit costs", AdminCostsState.load_costs),
    (admin_accounts.admin_accounts_page, "/admin/accounts", "Accounts", AdminAccountsState.load_accounts),
    (admin_payments.admin_payments_page, "/admin/payments", "Payment approvals", AdminPaymentsState.load_payments),
    (admin_invoices.admin_invoices_page, "/admin/invoices", "All invoices", AdminInvoicesState.load_invoices),
    (admin_packages.admin_packages_page, "/admin/packages", "Credit packages", AdminPackagesState.load_packages),
    (system_page, "/admin/system", "System", SystemState.load_system),
]:
    app.add_page(_view, route=_route, title=f"{_title} · IGNY8", on_load=[SessionState.load_session, _loader])
