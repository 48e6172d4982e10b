"""The prompt registry: one template per AI operation, built-in defaults in ``prompts/*.md``.

A template is plain text with ``{{placeholder}}`` fields. Each operation has *required*
placeholders (the data the model cannot work without) and *optional* ones. An account may
override a template (stored in the database, see ``services/content/prompts.py``); ``validate`` refuses an
override that drops a required placeholder or names an unknown one, with a message that says which.

The JSON shape a structured reply must have is not part of the template: the provider appends it
to every prompt, so an override can change the wording but never break the output contract.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Mapping

PROMPTS_DIR = Path(__file__).resolve().parent / "prompts"
PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
MAX_TEMPLATE_CHARS = 20_000


class PromptError(ValueError):
    """A template override is not acceptable; ``str(exc)`` says why."""


@dataclass(frozen=True)
class PromptSpec:
    name: str  # the operation type: clustering, ideas, content, image_prompts, images
    label: str
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()

    @property
    def allowed(self) -> frozenset[str]:
        return frozenset(self.required) | frozenset(self.optional)


SPECS: dict[str, PromptSpec] = {s.name: s for s in (
    PromptSpec("clustering", "Keywords → Clusters", ("keywords", "existing_clusters"), ("context",)),
    PromptSpec("ideas", "Clusters → Ideas", ("cluster_name", "keywords", "max_ideas"), ("cluster_description",)),
    PromptSpec("content", "Tasks → Content", ("title", "keywords"),
               ("word_count", "content_structure", "content_type", "description", "cluster_name")),
    PromptSpec("image_prompts", "Content → Image prompts", ("title", "in_article"), ("keywords", "summary")),
    PromptSpec("images", "Image prompts → Images", ("prompt",), ("title",)),
)}
NAMES: tuple[str, ...] = tuple(SPECS)


def spec(name: str) -> PromptSpec:
    try:
        return SPECS[name]
    except KeyError:
        raise PromptError(f"Unknown prompt {name!r}. Prompts: {', '.join(NAMES)}.") from None


@lru_cache(maxsize=None)
def default_template(name: str) -> str:
    spec(name)
    return (PROMPTS_DIR / f"{name}.md").read_text(encoding="utf-8").strip()


def placeholders(template: str) -> set[str]:
    return set(PLACEHOLDER.findall(template))


def validate(name: str, template: str) -> str:
    """The cleaned template, or PromptError naming the missing/unknown placeholders."""
    s = spec(name)
    text = (template or "").replace("\r\n", "\n").strip()
    if not text:
        raise PromptError(f"The {s.label} prompt is empty.")
    if len(text) > MAX_TEMPLATE_CHARS:
        raise PromptError(f"The {s.label} prompt is too long ({len(text)} characters; at most {MAX_TEMPLATE_CHARS}).")
    used = placeholders(text)
    missing = [p for p in s.required if p not in used]
    unknown = sorted(used - s.allowed)
    problems = []
    if missing:
        problems.append("it must keep the placeholder(s) " + ", ".join("{{%s}}" % p for p in missing))
    if unknown:
        problems.append("it uses unknown placeholder(s) " + ", ".join("{{%s}}" % p for p in unknown)
                        + " (allowed: " + ", ".join("{{%s}}" % p for p in sorted(s.allowed)) + ")")
    if problems:
        raise PromptError(f"The {s.label} prompt was not saved: " + "; ".join(problems) + ".")
    return text


def render(name: str, values: Mapping[str, object], overrides: Mapping[str, str] | None = None) -> str:
    """Fill the account's template (else the default) with ``values``; a missing value renders
    as an empty string. Values are inserted as they are (no recursive expansion)."""
    template = (overrides or {}).get(name) or default_template(name)

    def sub(m: re.Match) -> str:
        value = values.get(m.group(1), "")
        return "" if value is None else str(value)

    return PLACEHOLDER.sub(sub, template)
