"""AI providers behind one protocol (``base.AIProvider``); ``get_provider()`` picks one by name.

'offline' (the default) is deterministic and needs no network; see ``offline.py``.
'openai' is any OpenAI-compatible endpoint through the official SDK; see ``openai_provider.py``.
"""

from igny8_app.ai.base import (
    AIProvider, ClusterIn, ClusterOut, ClusterRef, ContentIn, ContentOut, IdeaOut, ImageOut,
    ImagePromptIn, ImagePromptOut, KeywordIn, ProviderConfigError, ProviderError, ProviderResult,
    TaskIn, get_provider, interruptible_sleeper, register_provider,
)

register_provider("openai", "igny8_app.ai.openai_provider:OpenAIProvider")

__all__ = [
    "AIProvider", "ClusterIn", "ClusterOut", "ClusterRef", "ContentIn", "ContentOut", "IdeaOut",
    "ImageOut", "ImagePromptIn", "ImagePromptOut", "KeywordIn", "ProviderConfigError",
    "ProviderError", "ProviderResult", "TaskIn", "get_provider", "interruptible_sleeper",
    "register_provider",
]
