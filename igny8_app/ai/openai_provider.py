"""The OpenAI-compatible provider (OpenAI itself, or Ollama, vLLM, LM Studio, llama.cpp server).

Built on the official ``openai`` SDK. ``AI_PROVIDER=openai`` selects it; settings come from
``settings.get_ai_settings()`` (OPENAI_BASE_URL, OPENAI_API_KEY, a model per operation, the image
model, timeouts, the price table), and an account's own settings override them
(``services/automation/ai_settings.py`` builds the provider for a run).

* Every HTTP call has a timeout; the SDK's own retries are off (``max_retries=0``) and this module
  retries 429, 408/409 and 5xx, timeouts and connection errors with exponential backoff and jitter,
  honouring ``Retry-After``. The waits go through ``sleeper`` (interruptible by the run loop).
  When the retries run out it raises ``ProviderUnavailable``: the run loop keeps the item pending
  and pauses the run after several in a row. 401/403/404 (bad key, unknown model or URL) are
  unavailability too (retrying cannot help, but neither is it the item's fault).
* Structured outputs (clusters, ideas, the article, image prompts) ask for a JSON object and are
  validated with pydantic. An invalid reply is asked again (``schema_attempts`` in all, with the
  validation error quoted), then the item fails with a non-retryable ProviderError: never a crash,
  and, since a failed item writes nothing, nothing is charged.
* Usage: prompt/completion tokens from the responses (summed over the attempts of the item), the
  model and ``cost_usd`` from the per-model price table, so the ledger records real figures.
"""

from __future__ import annotations

import base64
import io
import json
import random
import re
import threading
import time
from typing import Any, Callable, Sequence, TypeVar

import httpx
import openai
from PIL import Image, UnidentifiedImageError
from pydantic import BaseModel, ValidationError

from igny8_app.ai import prompt_registry
from igny8_app.ai.base import (
    ClusterIn, ClusterOut, ClusterRef, ContentIn, ContentOut, IdeaOut, ImageOut, ImagePromptIn,
    ImagePromptOut, KeywordIn, ProviderError, ProviderResult, Sleeper, TaskIn, interruptible_sleeper,
)
from igny8_app.ai.html import count_words
from igny8_app.ai.openai_replies import (
    KEYWORDS_PER_EXISTING, ArticleReply, ClustersReply, IdeasReply, ImagePromptsReply, json_text, merge_by_name,
    short_error, relevant_existing,
)
from igny8_app.ai.resilience import RETRYABLE_STATUS, ProviderUnavailable, RetryPolicy, parse_retry_after
from igny8_app.domain.costs import Usage
from igny8_app.settings import get_ai_settings

M = TypeVar("M", bound=BaseModel)
OPERATIONS = ("clustering", "ideas", "content", "image_prompts", "images")
MAX_CONTEXT_IN_PROMPT = 150
MAX_ARTICLE_CHARS_IN_PROMPT = 6000
UNAVAILABLE_STATUS = frozenset({401, 403, 404})
OFFLINE_IMAGES = "offline"  # OPENAI_IMAGE_MODEL=offline: draw images with the offline renderer
STOP_CHECK_S = 0.25  # how often a retry wait checks ``should_stop`` (a cheap database read in the run loop)
SYSTEM = ("You are the content-planning engine of an SEO automation tool. Reply with exactly one JSON "
          "object and nothing else (no prose, no code fences). It must validate against this JSON "
          "schema:\n{schema}")


class _BadRequest(ProviderError):
    """A 4xx refusal of this request; ``param`` is the parameter the server named, if any."""

    def __init__(self, message: str, *, param: str | None) -> None:
        super().__init__(message, retryable=False)
        self.param = param


#: Optional request parameters some models refuse (e.g. reasoning models accept only the default
#: temperature, some local servers have no JSON mode): dropped for the rest of the run when refused.
OPTIONAL_PARAMS = ("temperature", "response_format", "max_tokens")


class _Retry(Exception):
    """A transient failure outside the SDK (the image download): retried like a 5xx."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class _Tally:
    """Usage summed over the HTTP calls of one item."""

    def __init__(self) -> None:
        self.requests = 0
        self.tokens_in = 0
        self.tokens_out = 0

    def add(self, usage: Any) -> None:
        self.requests += 1
        if usage is None:
            return
        self.tokens_in += int(getattr(usage, "prompt_tokens", None) or getattr(usage, "input_tokens", None) or 0)
        self.tokens_out += int(getattr(usage, "completion_tokens", None) or getattr(usage, "output_tokens", None) or 0)


class OpenAIProvider:
    name = "openai"

    def __init__(self, *, base_url: str | None = None, api_key: str | None = None,
                 models: dict[str, str] | None = None, timeout_s: float | None = None,
                 max_attempts: int | None = None, max_retry_after_s: float | None = None,
                 schema_attempts: int | None = None, prices: dict[str, dict[str, float]] | None = None,
                 prompts: dict[str, str] | None = None, image_size: str | None = None,
                 image_response_format: str | None = None, json_mode: bool | None = None,
                 sleeper: Sleeper | None = None, should_stop: Callable[[], bool] | threading.Event | None = None,
                 rng: random.Random | None = None, retry_base_s: float = 0.5, **_ignored: object) -> None:
        """Anything not passed comes from ``get_ai_settings()``. Unknown keyword arguments (meant for
        other providers, e.g. ``delay_ms``) are ignored."""
        env = get_ai_settings()
        self.base_url = base_url or env.base_url
        self.models = {**env.models, **{k: v for k, v in (models or {}).items() if v}}
        self.model = self.models["content"]
        self.timeout_s = float(timeout_s or env.timeout_s)
        self.policy = RetryPolicy(max_attempts=max_attempts or env.max_attempts, base_s=retry_base_s,
                                  max_retry_after_s=env.max_retry_after_s if max_retry_after_s is None
                                  else max_retry_after_s)
        self.schema_attempts = schema_attempts or env.schema_attempts
        self.prices = prices if prices is not None else env.prices
        self.prompts = {k: v for k, v in (prompts or {}).items() if v}
        self.image_size = image_size or env.image_size
        self.image_response_format = image_response_format or env.image_response_format
        self.json_mode = env.json_mode if json_mode is None else json_mode
        self.dropped: set[str] = set()  # optional parameters the server refused (see OPTIONAL_PARAMS)
        if sleeper is None:
            sleeper = interruptible_sleeper(should_stop) if should_stop is not None else time.sleep
        elif should_stop is not None:  # both: retry waits end on either (a pause need not wait out a Retry-After)
            sleeper = _either(sleeper, interruptible_sleeper(should_stop, poll_s=STOP_CHECK_S))
        self.sleeper = sleeper
        self.rng = rng or random.Random()
        # local servers need no key, but the SDK insists on one
        self.client = openai.OpenAI(base_url=self.base_url, api_key=(api_key or env.api_key or "no-key"),
                                    timeout=self.timeout_s, max_retries=0)

    # --- transport: timeouts, retries, backoff ----------------------------------------------------

    def _call(self, what: str, fn: Callable[[], Any]) -> Any:
        last = ""
        status: int | None = None
        for attempt in range(self.policy.max_attempts):
            retry_after: float | None = None
            try:
                return fn()
            except openai.APIStatusError as exc:
                status = exc.status_code
                detail = _error_detail(exc)
                if status in UNAVAILABLE_STATUS:
                    hint = {401: "authentication failed (check the API key)",
                            403: "access denied (check the API key's permissions)",
                            404: "not found (check the base URL and the model name)"}[status]
                    raise ProviderUnavailable(f"{what}: HTTP {status}, {hint}: {detail}", status=status) from exc
                if status not in RETRYABLE_STATUS:
                    raise _BadRequest(f"{what}: HTTP {status}: {detail}", param=_error_param(exc)) from exc
                retry_after = parse_retry_after(dict(exc.response.headers))
                last = f"HTTP {status}: {detail}"
            except openai.APITimeoutError:
                status, last = None, f"no reply within {self.timeout_s:g} s"
            except openai.APIConnectionError as exc:
                status, last = None, f"cannot connect to {self.base_url or 'api.openai.com'} ({exc.__cause__ or exc})"
            except _Retry as exc:
                status, last = exc.status, str(exc)
            if attempt == self.policy.max_attempts - 1:
                break
            wait = self.policy.wait_for(attempt, retry_after, self.rng)
            if wait is None:
                raise ProviderUnavailable(f"{what}: {last}; the server asks to wait {retry_after:g} s",
                                          status=status)
            if self.sleeper(wait):  # interrupted (lease lost / stop): let the loop decide
                raise ProviderUnavailable(f"{what}: interrupted while waiting to retry after {last}", status=status)
        raise ProviderUnavailable(f"{what}: {last} (after {self.policy.max_attempts} attempts)", status=status)

    def _create(self, what: str, kwargs: dict[str, Any]) -> Any:
        """chat.completions.create, dropping an optional parameter the server refuses (remembered)."""
        while True:
            args = {k: v for k, v in kwargs.items() if k not in self.dropped}
            try:
                return self._call(what, lambda: self.client.chat.completions.create(**args))
            except _BadRequest as exc:
                param = exc.param if exc.param in OPTIONAL_PARAMS else next(
                    (p for p in OPTIONAL_PARAMS if p in args and f"'{p}'" in exc.message), None)
                if param is None or param not in args:
                    raise
                self.dropped.add(param)

    def _chat_json(self, op: str, prompt: str, schema: type[M], tally: _Tally) -> M:
        model = self.models[op]
        system = SYSTEM.format(schema=json.dumps(schema.model_json_schema(), separators=(",", ":")))
        messages: list[dict[str, str]] = [{"role": "system", "content": system}, {"role": "user", "content": prompt}]
        error = ""
        for _ in range(self.schema_attempts):
            kwargs: dict[str, Any] = {"model": model, "messages": list(messages), "temperature": 0.4,
                                      "timeout": self.timeout_s}
            if self.json_mode:
                kwargs["response_format"] = {"type": "json_object"}
            resp = self._create(f"{op} ({model})", kwargs)
            tally.add(getattr(resp, "usage", None))
            text = ""
            if getattr(resp, "choices", None):
                text = resp.choices[0].message.content or ""
            try:
                return schema.model_validate_json(json_text(text))
            except ValidationError as exc:
                error = short_error(exc)
            messages += [{"role": "assistant", "content": text[:4000]},
                         {"role": "user", "content": f"That reply was not valid ({error}). Reply again with "
                                                     "only the JSON object, matching the schema."}]
        raise ProviderError(f"{op} ({model}): the reply was not valid JSON for the schema after "
                            f"{self.schema_attempts} attempt(s): {error}", retryable=False)

    def _usage(self, op: str, tally: _Tally, *, items: int = 0, images: int = 0, words: int = 0) -> Usage:
        model = self.models[op]
        price = self.prices.get(model, {})
        cost = (tally.tokens_in * price.get("in", 0.0) + tally.tokens_out * price.get("out", 0.0)) / 1_000_000
        cost += images * price.get("image", 0.0)
        return Usage(requests=tally.requests, items=items, words=words, images=images, tokens_in=tally.tokens_in,
                     tokens_out=tally.tokens_out, model=model, cost_usd=round(cost, 6))

    def _render(self, name: str, values: dict[str, object]) -> str:
        return prompt_registry.render(name, values, self.prompts)

    # --- operations ----------------------------------------------------------------------------

    def cluster_keywords(self, keywords: list[KeywordIn], existing: list[ClusterRef], *,
                         context: Sequence[str] = ()) -> ProviderResult[list[ClusterOut]]:
        shown = relevant_existing(keywords, existing)
        existing_text = "\n".join(
            f"{r.id}: {r.name} — {', '.join(r.keywords[:KEYWORDS_PER_EXISTING])}" for r in shown) or "(none yet)"
        prompt = self._render("clustering", {
            "keywords": "\n".join(f"{k.id}: {k.keyword}" for k in keywords),
            "existing_clusters": existing_text,
            "context": ", ".join(list(context)[:MAX_CONTEXT_IN_PROMPT]) or "(none)",
        })
        tally = _Tally()
        reply = self._chat_json("clustering", prompt, ClustersReply, tally)
        volumes = {k.id: max(k.volume, 0) for k in keywords}
        out = [ClusterOut(name=name.strip(), description=description.strip(), keyword_ids=tuple(ids),
                          volume=sum(volumes.get(i, 0) for i in ids),
                          existing_cluster_id=key if isinstance(key, int) else None)
               for key, (name, description, ids) in merge_by_name(reply.clusters, existing).items()]
        return ProviderResult(out, self._usage("clustering", tally, items=len(keywords)))

    def generate_ideas(self, cluster: ClusterIn, max_ideas: int) -> ProviderResult[list[IdeaOut]]:
        prompt = self._render("ideas", {
            "cluster_name": cluster.name, "cluster_description": cluster.description or "(none)",
            "keywords": "\n".join(f"- {k}" for k in cluster.keywords) or f"- {cluster.name}",
            "max_ideas": max_ideas,
        })
        tally = _Tally()
        reply = self._chat_json("ideas", prompt, IdeasReply, tally)
        ideas = [IdeaOut(title=i.title.strip(), description=i.description.strip(), content_type=i.content_type,
                         content_structure=i.content_structure, estimated_word_count=i.estimated_word_count,
                         keywords=tuple(k for k in i.keywords if k.strip()), intent=i.intent)
                 for i in reply.ideas[:max_ideas]]
        return ProviderResult(ideas, self._usage("ideas", tally, items=len(ideas)))

    def write_content(self, task: TaskIn) -> ProviderResult[ContentOut]:
        prompt = self._render("content", {
            "title": task.title, "keywords": ", ".join(task.keywords) or task.title,
            "word_count": task.word_count, "content_structure": task.content_structure.replace("_", " "),
            "content_type": task.content_type, "description": task.description or "(none)",
            "cluster_name": task.cluster_name or task.title,
        })
        tally = _Tally()
        reply = self._chat_json("content", prompt, ArticleReply, tally)
        words = count_words(reply.html)
        out = ContentOut(title=reply.title.strip(), html=reply.html, meta_title=reply.meta_title.strip(),
                         meta_description=reply.meta_description.strip(), word_count=words)
        return ProviderResult(out, self._usage("content", tally, items=1, words=words))

    def image_prompts(self, content: ContentIn, in_article: int) -> ProviderResult[list[ImagePromptOut]]:
        text = re.sub(r"<[^>]+>", " ", content.html)
        summary = content.meta_description or " ".join(text.split())[:MAX_ARTICLE_CHARS_IN_PROMPT]
        prompt = self._render("image_prompts", {
            "title": content.title, "in_article": in_article,
            "keywords": ", ".join(content.keywords) or content.title, "summary": summary,
        })
        tally = _Tally()
        reply = self._chat_json("image_prompts", prompt, ImagePromptsReply, tally)
        out = [ImagePromptOut("featured", 0, reply.featured.strip())]
        out += [ImagePromptOut("in_article", n, p.strip())
                for n, p in enumerate((p for p in reply.in_article if p.strip()), start=1) if n <= in_article]
        return ProviderResult(out, self._usage("image_prompts", tally, items=len(out)))

    def render_image(self, prompt: ImagePromptIn) -> ProviderResult[ImageOut]:
        model = self.models["images"]
        if model == OFFLINE_IMAGES:  # text from the server, images drawn locally (servers without images)
            from igny8_app.ai.offline import OfflineProvider

            return OfflineProvider(delay_ms=0).render_image(prompt)
        text = self._render("images", {"prompt": prompt.prompt.strip().rstrip("."), "title": prompt.title})
        kwargs: dict[str, Any] = {"model": model, "prompt": text, "n": 1, "size": self.image_size,
                                  "timeout": self.timeout_s}
        if self.image_response_format:
            kwargs["response_format"] = self.image_response_format
        tally = _Tally()
        resp = self._call(f"images ({model})", lambda: self.client.images.generate(**kwargs))
        tally.add(getattr(resp, "usage", None))
        data = (getattr(resp, "data", None) or [None])[0]
        if data is None:
            raise ProviderError(f"images ({model}): the reply holds no image", retryable=False)
        if getattr(data, "b64_json", None):
            try:
                raw = base64.b64decode(data.b64_json, validate=True)
            except ValueError as exc:
                raise ProviderError(f"images ({model}): b64_json does not decode: {exc}", retryable=False) from exc
        elif getattr(data, "url", None):
            raw = self._call(f"image download ({model})", lambda: self._download(data.url))
        else:
            raise ProviderError(f"images ({model}): the reply has neither b64_json nor url", retryable=False)
        try:
            with Image.open(io.BytesIO(raw)) as img:
                img.load()
                fmt = {"PNG": "png", "JPEG": "jpeg", "WEBP": "webp"}.get(img.format or "")
                width, height = img.size
        except (UnidentifiedImageError, OSError, ValueError) as exc:
            raise ProviderError(f"images ({model}): the image does not decode: {exc}", retryable=False) from exc
        if fmt is None:
            raise ProviderError(f"images ({model}): the image is not PNG, JPEG or WebP", retryable=False)
        usage = self._usage("images", tally, items=1, images=1)
        return ProviderResult(ImageOut(data=raw, width=width, height=height, format=fmt), usage)

    def _download(self, url: str) -> bytes:
        """GET the image URL (with the same timeout; 429/5xx and timeouts are retried by ``_call``)."""
        try:
            r = httpx.get(url, timeout=self.timeout_s, follow_redirects=True)
        except httpx.TimeoutException as exc:
            raise _Retry(f"image download: no reply within {self.timeout_s:g} s") from exc
        except httpx.HTTPError as exc:
            raise _Retry(f"image download failed: {exc}") from exc
        if r.status_code in RETRYABLE_STATUS or r.status_code >= 500:
            raise _Retry(f"image download: HTTP {r.status_code}", status=r.status_code)
        if r.status_code != 200:
            raise ProviderError(f"image download: HTTP {r.status_code}", retryable=False)
        return r.content

    # --- connection check ----------------------------------------------------------------------

    def check(self) -> dict[str, Any]:
        """One tiny request (a chat completion of a few tokens with the content model). Returns
        {"ok", "model", "message", "latency_ms"}; never raises for provider errors."""
        model = self.models["content"]
        started = time.monotonic()
        try:
            resp = self._create(f"check ({model})", {
                "model": model, "messages": [{"role": "user", "content": "Reply with the word OK."}],
                "max_tokens": 5, "timeout": min(self.timeout_s, 20.0)})
        except ProviderError as exc:
            return {"ok": False, "model": model, "message": exc.message, "latency_ms": None}
        ms = int((time.monotonic() - started) * 1000)
        reply = (resp.choices[0].message.content or "").strip() if getattr(resp, "choices", None) else ""
        return {"ok": True, "model": model, "latency_ms": ms,
                "message": f"Connected to {self.base_url or 'api.openai.com'}: {model} replied {reply[:40]!r} in {ms} ms."}


def _either(first: Sleeper, second: Callable[[float], bool]) -> Callable[[float], bool]:
    """A sleeper interrupted by either of two: waits in slices of STOP_CHECK_S through both."""

    def wait(seconds: float) -> bool:
        deadline = time.monotonic() + max(seconds, 0.0)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            step = min(STOP_CHECK_S, left)
            if first(0) or second(step):
                return True

    return wait


def _error_param(exc: openai.APIStatusError) -> str | None:
    body = getattr(exc, "body", None)
    err = body.get("error", body) if isinstance(body, dict) else None
    param = err.get("param") if isinstance(err, dict) else None
    return str(param) if param else None


def _error_detail(exc: openai.APIStatusError) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        err = body.get("error", body)
        if isinstance(err, dict) and err.get("message"):
            return str(err["message"])[:300]
    return (getattr(exc, "message", None) or str(exc))[:300]
