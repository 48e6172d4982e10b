"""Statuses and kinds, stored as their lowercase string values."""

from enum import Enum


class Role(str, Enum):
    OWNER = "owner"
    ADMIN = "admin"
    EDITOR = "editor"
    VIEWER = "viewer"


class KeywordStatus(str, Enum):
    NEW = "new"
    MAPPED = "mapped"
    FAILED = "failed"


class Intent(str, Enum):
    INFORMATIONAL = "informational"
    COMMERCIAL = "commercial"
    TRANSACTIONAL = "transactional"
    NAVIGATIONAL = "navigational"


class ClusterStatus(str, Enum):
    NEW = "new"
    MAPPED = "mapped"
    FAILED = "failed"


class IdeaStatus(str, Enum):
    NEW = "new"
    QUEUED = "queued"
    COMPLETED = "completed"
    FAILED = "failed"


class ContentType(str, Enum):
    POST = "post"
    PAGE = "page"
    PRODUCT = "product"
    TAXONOMY = "taxonomy"


class TaskStatus(str, Enum):
    QUEUED = "queued"
    COMPLETED = "completed"
    FAILED = "failed"


class ContentStatus(str, Enum):
    DRAFT = "draft"
    REVIEW = "review"
    PUBLISHED = "published"
    FAILED = "failed"


class PromptStatus(str, Enum):
    """Where a content item stands in stage 5 (Content -> Image prompts)."""

    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


class ImageType(str, Enum):
    FEATURED = "featured"
    IN_ARTICLE = "in_article"


class ImageStatus(str, Enum):
    PENDING = "pending"
    GENERATED = "generated"
    FAILED = "failed"


class Trigger(str, Enum):
    MANUAL = "manual"
    SCHEDULED = "scheduled"


class RunStatus(str, Enum):
    RUNNING = "running"
    PAUSED = "paused"
    CANCELLED = "cancelled"
    COMPLETED = "completed"
    FAILED = "failed"
    SKIPPED = "skipped"


class RequestedAction(str, Enum):
    PAUSE = "pause"
    CANCEL = "cancel"


class PauseReason(str, Enum):
    OPERATOR = "operator"
    INSUFFICIENT_CREDITS = "insufficient_credits"
    PROVIDER_UNAVAILABLE = "provider_unavailable"
    REVIEW = "review"


class Frequency(str, Enum):
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"


class EventLevel(str, Enum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


class TransactionType(str, Enum):
    PURCHASE = "purchase"
    SUBSCRIPTION = "subscription"
    GRANT = "grant"
    REFUND = "refund"
    DEDUCTION = "deduction"
    ADJUSTMENT = "adjustment"


class OperationType(str, Enum):
    CLUSTERING = "clustering"
    IDEAS = "ideas"
    CONTENT = "content"
    IMAGE_PROMPTS = "image_prompts"
    IMAGES = "images"


class CostUnit(str, Enum):
    PER_REQUEST = "per_request"
    PER_ITEM = "per_item"
    PER_100_WORDS = "per_100_words"
    PER_IMAGE = "per_image"
    PER_1K_TOKENS = "per_1k_tokens"


class InvoiceType(str, Enum):
    SUBSCRIPTION = "subscription"
    CREDIT_PACKAGE = "credit_package"
    ADDON = "addon"
    CUSTOM = "custom"


class InvoiceStatus(str, Enum):
    DRAFT = "draft"
    PENDING = "pending"
    PAID = "paid"
    VOID = "void"
    UNCOLLECTIBLE = "uncollectible"


class PaymentStatus(str, Enum):
    PENDING_APPROVAL = "pending_approval"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    REFUNDED = "refunded"


class PaymentMethod(str, Enum):
    STRIPE = "stripe"
    BANK_TRANSFER = "bank_transfer"
    MANUAL = "manual"
