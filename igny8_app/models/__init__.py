"""SQLModel tables only. Importing this package registers every table on SQLModel.metadata."""

from igny8_app.models.ai import AccountAISettings, PromptOverride
from igny8_app.models.automation import AutomationConfig, AutomationRun, RunEvent, SiteLock, StageProgress
from igny8_app.models.base import utcnow
from igny8_app.models.billing import (
    CreditCostAudit,
    CreditCostConfig,
    CreditPackage,
    CreditTransaction,
    CreditUsageDaily,
    CreditUsageLog,
    Invoice,
    InvoiceCounter,
    InvoiceLine,
    Payment,
)
from igny8_app.models.notifications import Notification
from igny8_app.models.planner import Cluster, Content, ContentIdea, Image, Keyword, Task
from igny8_app.models.team import AccountAudit, Invitation, PasswordReset
from igny8_app.models.tenancy import Account, ApiToken, Membership, Sector, Site, User, UserSession

__all__ = [
    "Account", "AccountAISettings", "PromptOverride", "AccountAudit", "ApiToken", "AutomationConfig", "AutomationRun", "Cluster", "Content", "ContentIdea",
    "CreditCostAudit", "CreditCostConfig", "CreditPackage", "CreditTransaction", "CreditUsageDaily", "CreditUsageLog",
    "Image", "Invoice", "InvoiceCounter", "InvoiceLine", "Invitation", "Keyword", "Membership", "Notification", "PasswordReset",
    "Payment", "RunEvent", "Sector",
    "Site", "SiteLock", "StageProgress", "Task", "User", "UserSession", "utcnow",
]
