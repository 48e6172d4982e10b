"""The AI provider interface: one method per AI operation, typed inputs and outputs, usage.

Everything here is pure data. The engine builds the ``*In`` dataclasses from database rows,
calls a provider (through the stage functions in ``igny8_app.pipeline.stages``) and gets back
``ProviderResult`` objects holding a typed value plus the ``Usage`` the call consumed, which the
ledger prices through ``igny8_app.domain.costs.credits_for``.

Providers are looked up by name with ``get_provider`` ('offline' is the embedded default).
"""

from __future__ import annotations

import importlib
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Generic, Protocol, Sequence, TypeVar, runtime_checkable

from igny8_app.domain.costs import Usage

T = TypeVar("T")

#: ``sleeper(seconds)``: how a provider waits. ``time.sleep`` by default; the engine injects an
#: interruptible one (see ``interruptible_sleeper``) or ``threading.Event().wait``.
Sleeper = Callable[[float], Any]

#: How often an interruptible wait checks its stop condition (the spec asks for <= 100 ms).
STOP_POLL_S = 0.05


class ProviderError(Exception):
    """An AI call failed. ``retryable`` tells the engine whether a retry (with backoff) may help:
    timeouts, 429 and 5xx are retryable; a bad request or an output that can never validate
    is not."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable


class ProviderConfigError(ValueError):
    """The configured provider name is unknown or cannot be built."""


# --- results ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class ProviderResult(Generic[T]):
    value: T
    usage: Usage


# --- stage 1: keywords -> clusters -----------------------------------------------------------

@dataclass(frozen=True)
class KeywordIn:
    id: int
    keyword: str
    volume: int = 0
    difficulty: int | None = None
    intent: str | None = None


@dataclass(frozen=True)
class ClusterRef:
    """An existing cluster of the site, offered so new keywords can join it."""

    id: int
    name: str
    keywords: tuple[str, ...] = ()  # member keyword texts (the most representative first)
    description: str = ""
    volume: int = 0


@dataclass(frozen=True)
class ClusterOut:
    """A group of this batch's keywords.

    ``existing_cluster_id`` None: a new cluster to create.
    ``existing_cluster_id`` set: the keywords join that existing cluster. ``name`` and
    ``description`` are then a suggestion recomputed over the grown membership (equal to the old
    name when nothing changes); apply them only while the cluster is still ``new`` (e.g. created
    earlier in the same run), never to a cluster that already has ideas.
    ``volume`` is always the sum of the volumes of ``keyword_ids`` (for an existing cluster: the
    amount to add to its volume)."""

    name: str
    description: str
    keyword_ids: tuple[int, ...]
    volume: int = 0
    existing_cluster_id: int | None = None


# --- stage 2: clusters -> ideas --------------------------------------------------------------

@dataclass(frozen=True)
class ClusterIn:
    id: int
    name: str
    description: str = ""
    keywords: tuple[str, ...] = ()  # member keyword texts, most important (volume) first
    volume: int = 0


@dataclass(frozen=True)
class IdeaOut:
    title: str
    description: str
    content_type: str  # ContentType value: post / page / product / taxonomy
    content_structure: str  # e.g. how_to_guide, explainer, listicle, comparison
    estimated_word_count: int
    keywords: tuple[str, ...]  # target keywords
    intent: str = ""  # how_to / what_is / best_x / comparison


# --- stage 4: tasks -> content ---------------------------------------------------------------

@dataclass(frozen=True)
class TaskIn:
    id: int
    title: str
    keywords: tuple[str, ...] = ()  # target keywords (idea keywords, else the cluster's)
    cluster_name: str = ""
    content_type: str = "post"
    content_structure: str = "article"
    word_count: int = 1000
    description: str = ""


@dataclass(frozen=True)
class ContentOut:
    title: str
    html: str
    meta_title: str
    meta_description: str
    word_count: int


# --- stage 5: content -> image prompts -------------------------------------------------------

@dataclass(frozen=True)
class ContentIn:
    id: int
    title: str
    html: str
    keywords: tuple[str, ...] = ()
    meta_description: str = ""


@dataclass(frozen=True)
class ImagePromptOut:
    image_type: str  # ImageType value: featured / in_article
    position: int  # 0 = featured, 1..N in-article
    prompt: str


# --- stage 6: image prompts -> images --------------------------------------------------------

FEATURED_SIZE = (1200, 630)
IN_ARTICLE_SIZE = (800, 450)


@dataclass(frozen=True)
class ImagePromptIn:
    prompt: str
    image_type: str = "featured"
    title: str = ""  # text to print on the image (the article title); falls back to the prompt
    width: int | None = None  # None: FEATURED_SIZE / IN_ARTICLE_SIZE by image_type
    height: int | None = None

    @property
    def size(self) -> tuple[int, int]:
        if self.width and self.height:
            return (self.width, self.height)
        return FEATURED_SIZE if self.image_type == "featured" else IN_ARTICLE_SIZE


@dataclass(frozen=True)
class ImageOut:
    data: bytes = field(repr=False)
    width: int
    height: int
    format: str = "png"  # lowercase file extension: png / jpeg / webp


# --- the protocol ----------------------------------------------------------------------------

@runtime_checkable
class AIProvider(Protocol):
    name: str

    def cluster_keywords(
        self, keywords: list[KeywordIn], existing: list[ClusterRef], *, context: Sequence[str] = ()
    ) -> ProviderResult[list[ClusterOut]]:
        """Group ``keywords``; each id in exactly one ClusterOut. ``existing``: the site's clusters
        (join them where a keyword fits). ``context``: texts of the site's other pending keywords
        (evidence only; a provider may ignore it)."""
        ...

    def generate_ideas(self, cluster: ClusterIn, max_ideas: int) -> ProviderResult[list[IdeaOut]]: ...

    def write_content(self, task: TaskIn) -> ProviderResult[ContentOut]: ...

    def image_prompts(self, content: ContentIn, in_article: int) -> ProviderResult[list[ImagePromptOut]]: ...

    def render_image(self, prompt: ImagePromptIn) -> ProviderResult[ImageOut]: ...


# --- interruptible waiting -------------------------------------------------------------------

def interruptible_sleeper(should_stop: Callable[[], bool] | threading.Event,
                          *, poll_s: float = STOP_POLL_S) -> Callable[[float], bool]:
    """A ``sleeper`` that returns early (True) once ``should_stop()`` is true or the event is set.

    The stop condition is checked at least every ``poll_s`` seconds (50 ms by default)."""
    if isinstance(should_stop, threading.Event):
        event = should_stop

        def wait_event(seconds: float) -> bool:
            return event.wait(max(seconds, 0.0))

        return wait_event
    check = should_stop

    def wait(seconds: float) -> bool:
        deadline = time.monotonic() + max(seconds, 0.0)
        while True:
            if check():
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            time.sleep(min(poll_s, left))

    return wait


# --- factory ---------------------------------------------------------------------------------

#: name -> "module:factory". A factory takes keyword arguments (``delay_ms``, ``sleeper``, ...)
#: and returns an AIProvider. The OpenAI-compatible provider registers itself here.
PROVIDERS: dict[str, str] = {
    "offline": "igny8_app.ai.offline:OfflineProvider",
    "instant": "igny8_app.ai.instant:InstantProvider",  # zero-cost outputs, for bench/ only
}


def register_provider(name: str, target: str) -> None:
    PROVIDERS[name.strip().lower()] = target


def get_provider(name: str | None = None, **kwargs: Any) -> AIProvider:
    """Build the provider called ``name`` (default: settings.ai_provider).

    For 'offline', ``delay_ms`` defaults to settings.offline_ai_delay_ms; pass ``sleeper=`` (or
    ``should_stop=``) to make that delay interruptible."""
    from igny8_app.settings import get_settings

    settings = None
    if name is None:
        settings = get_settings()
        name = settings.ai_provider
    key = (name or "").strip().lower()
    target = PROVIDERS.get(key)
    if target is None:
        known = ", ".join(sorted(PROVIDERS))
        raise ProviderConfigError(f"Unknown AI provider {name!r} (AI_PROVIDER). Known providers: {known}.")
    if key == "offline" and "delay_ms" not in kwargs:
        kwargs["delay_ms"] = (settings or get_settings()).offline_ai_delay_ms
    module_name, _, attr = target.partition(":")
    try:
        factory = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise ProviderConfigError(f"AI provider {name!r} could not be loaded: {exc}") from exc
    return factory(**kwargs)
