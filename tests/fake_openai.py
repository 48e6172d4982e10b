"""A small OpenAI-compatible HTTP server for tests: real sockets, the real wire format, no network.

``POST /v1/chat/completions`` and ``POST /v1/images/generations`` answer like the OpenAI API
(``chat.completion`` objects with ``usage``, image lists with ``b64_json`` or ``url``); the
replies are computed from the request so the whole pipeline can run against it:

* clustering (the system message's schema is ``ClustersReply``): new keywords join an existing
  cluster sharing a significant word with its name, else group by their first significant word;
* ideas / article / image prompts: well-formed JSON built from the prompt;
* images: a PNG (b64_json) of the requested size, or a JPEG served from ``/files/...`` (url).

Faults are scripted per path and consumed one request each (``script``), or persistent
(``fail_always``): HTTP status with headers (429 + Retry-After, 500), a delay before replying
(slow responses), a malformed or wrong-schema ``content``. Every request is recorded
(``requests``: path, parsed JSON body, headers).
"""

from __future__ import annotations

import base64
import io
import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from PIL import Image

STOP = {"a", "an", "and", "the", "for", "to", "of", "in", "on", "with", "how", "what", "is", "best", "vs", "your",
        "my", "do", "does", "i", "can", "are", "at", "by", "or", "from", "near", "me", "top"}


@dataclass
class Fault:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    content: str | None = None  # replaces the assistant message content (malformed JSON, wrong schema)
    body: dict | None = None  # replaces the whole error body for status >= 400


@dataclass
class Recorded:
    path: str
    body: dict[str, Any]
    headers: dict[str, str]  # names in lower case
    at: float

    @property
    def prompt(self) -> str:
        """The last user message of a chat request, or the image prompt."""
        if "messages" in self.body:
            users = [m["content"] for m in self.body["messages"] if m.get("role") == "user"]
            return users[-1] if users else ""
        return self.body.get("prompt", "")

    @property
    def system(self) -> str:
        return next((m["content"] for m in self.body.get("messages", []) if m.get("role") == "system"), "")


def _words(text: str) -> list[str]:
    return [w for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in STOP and len(w) > 2]


def _tokens(text: str) -> int:
    return max(1, len(re.findall(r"\S+", text)))


def _section(prompt: str, header: str) -> list[str]:
    """Lines after the line starting with ``header`` up to the next blank line."""
    lines = prompt.splitlines()
    for i, line in enumerate(lines):
        if line.startswith(header):
            out = []
            for nxt in lines[i + 1:]:
                if not nxt.strip():
                    break
                out.append(nxt.strip())
            return out
    return []


def cluster_reply(prompt: str) -> dict:
    existing = []
    for line in _section(prompt, "Existing clusters"):
        m = re.match(r"(\d+): (.*?)(?: — (.*))?$", line)
        if m:
            existing.append((int(m.group(1)), m.group(2), set(_words(m.group(2)))))
    groups: dict[Any, list[int]] = {}
    names: dict[Any, str] = {}
    for line in _section(prompt, "New keywords"):
        m = re.match(r"(\d+): (.*)$", line)
        if not m:
            continue
        kid, text = int(m.group(1)), m.group(2)
        words = _words(text) or [text.lower()]
        match = next((cid for cid, _n, ws in existing if ws & set(words)), None)
        key = ("existing", match) if match is not None else ("new", words[0])
        groups.setdefault(key, []).append(kid)
        names.setdefault(key, words[0].title() + " topics")
    clusters = []
    for key, ids in groups.items():
        clusters.append({"name": names[key], "description": f"Keywords about {names[key].lower()}.",
                         "keyword_ids": ids, "existing_cluster_id": key[1] if key[0] == "existing" else None})
    return {"clusters": clusters}


def ideas_reply(prompt: str) -> dict:
    m = re.search(r"up to (\d+) distinct article ideas for the topic cluster \"(.*?)\"", prompt)
    n, name = (int(m.group(1)), m.group(2)) if m else (2, "topic")
    kws = [line[2:] for line in prompt.splitlines() if line.startswith("- ")][:3] or [name]
    structures = ["how_to_guide", "listicle", "comparison"]
    return {"ideas": [{"title": f"{name}: {['a complete guide', 'ten tips', 'compared'][i % 3]}",
                       "description": f"An article about {name}.", "content_type": "post",
                       "content_structure": structures[i % 3], "estimated_word_count": 900,
                       "keywords": kws, "intent": "how_to"} for i in range(n)]}


def article_reply(prompt: str) -> dict:
    m = re.search(r'titled "(.*?)"', prompt)
    title = m.group(1) if m else "Article"
    body = "".join(f"<h2>Part {i}</h2><p>{title} explained, step {i}, with practical advice for readers "
                   f"who want results.</p>" for i in range(1, 6))
    return {"title": title, "html": body + "<ul><li>One</li><li>Two</li></ul>",
            "meta_title": title[:60], "meta_description": f"Everything about {title}."[:160]}


def image_prompts_reply(prompt: str) -> dict:
    m = re.search(r'for the article "(.*?)"', prompt)
    title = m.group(1) if m else "article"
    n = re.search(r"and (\d+) prompt", prompt)
    count = int(n.group(1)) if n else 0
    return {"featured": f"A wide header photo illustrating {title}",
            "in_article": [f"An illustration of section {i} of {title}" for i in range(1, count + 1)]}


REPLIES = {"ClustersReply": cluster_reply, "IdeasReply": ideas_reply, "ArticleReply": article_reply,
           "ImagePromptsReply": image_prompts_reply}


def png_bytes(width: int, height: int, fmt: str = "PNG") -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), (40, 120, 200)).save(buf, fmt)
    return buf.getvalue()


class FakeOpenAI:
    def __init__(self, *, image_mode: str = "b64_json") -> None:
        self.image_mode = image_mode
        self.requests: list[Recorded] = []
        self._faults: dict[str, list[Fault]] = {}
        self._always: dict[str, Fault] = {}
        self._files: dict[str, bytes] = {}
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="fake-openai", daemon=True)

    # --- control -------------------------------------------------------------------------------

    def start(self) -> "FakeOpenAI":
        self.thread.start()
        return self

    def stop(self) -> None:
        self._closing.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def script(self, path: str, *faults: Fault) -> None:
        """Queue faults for the next requests to ``path`` ('/v1/chat/completions' or
        '/v1/images/generations'), one per request."""
        with self._lock:
            self._faults.setdefault(path, []).extend(faults)

    def fail_always(self, path: str, fault: Fault | None) -> None:
        with self._lock:
            if fault is None:
                self._always.pop(path, None)
            else:
                self._always[path] = fault

    def calls(self, path: str = "/v1/chat/completions", schema: str | None = None) -> list[Recorded]:
        with self._lock:
            out = [r for r in self.requests if r.path == path]
        return [r for r in out if schema is None or f'"title":"{schema}"' in r.system]

    def _next_fault(self, path: str) -> Fault | None:
        with self._lock:
            queue = self._faults.get(path)
            if queue:
                return queue.pop(0)
            return self._always.get(path)

    # --- responses -----------------------------------------------------------------------------

    def _chat(self, body: dict, fault: Fault | None) -> dict:
        messages = body.get("messages", [])
        system = next((m["content"] for m in messages if m.get("role") == "system"), "")
        user = [m["content"] for m in messages if m.get("role") == "user"]
        prompt = user[0] if user else ""
        schema = next((name for name in REPLIES if f'"title":"{name}"' in system), None)
        if fault is not None and fault.content is not None:
            content = fault.content
        elif schema is None:
            content = "OK"
        else:
            content = json.dumps(REPLIES[schema](prompt))
        tokens_in = sum(_tokens(m.get("content", "")) for m in messages)
        tokens_out = _tokens(content)
        return {
            "id": f"chatcmpl-{len(self.requests)}", "object": "chat.completion", "created": int(time.time()),
            "model": body.get("model", "fake"),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop",
                         "logprobs": None}],
            "usage": {"prompt_tokens": tokens_in, "completion_tokens": tokens_out, "total_tokens": tokens_in + tokens_out},
        }

    def _image(self, body: dict) -> dict:
        w, h = (int(x) for x in str(body.get("size") or "1024x1024").split("x"))
        mode = body.get("response_format") or self.image_mode
        item: dict[str, Any] = {"revised_prompt": body.get("prompt", "")}
        if mode == "url":
            name = f"img{len(self._files)}.jpg"
            self._files[name] = png_bytes(w, h, "JPEG")
            item["url"] = f"http://127.0.0.1:{self.port}/files/{name}"
        else:
            item["b64_json"] = base64.b64encode(png_bytes(w, h)).decode()
        return {"created": int(time.time()), "data": [item]}

    def _handler(self):  # noqa: ANN202
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _send(self, status: int, payload: bytes, ctype: str = "application/json",
                      headers: dict[str, str] | None = None) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", ctype)
                    self.send_header("Content-Length", str(len(payload)))
                    for k, v in (headers or {}).items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client timed out and went away

            def do_GET(self) -> None:  # noqa: N802
                name = self.path.rsplit("/", 1)[-1]
                data = fake._files.get(name)
                if data is None:
                    self._send(404, b'{"error":{"message":"no such file"}}')
                else:
                    self._send(200, data, "image/jpeg")

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = {"_raw": raw.decode(errors="replace")}
                path = self.path.split("?", 1)[0]
                with fake._lock:
                    fake.requests.append(Recorded(path, body, {k.lower(): v for k, v in self.headers.items()},
                                                 time.monotonic()))
                fault = fake._next_fault(path)
                if fault is not None and fault.delay_s:
                    fake._closing.wait(fault.delay_s)
                if fault is not None and fault.status >= 400:
                    err = fault.body or {"error": {"message": f"fake error {fault.status}", "type": "server_error",
                                                   "code": None, "param": None}}
                    self._send(fault.status, json.dumps(err).encode(), headers=fault.headers)
                    return
                if path == "/v1/chat/completions":
                    self._send(200, json.dumps(fake._chat(body, fault)).encode())
                elif path == "/v1/images/generations":
                    self._send(200, json.dumps(fake._image(body)).encode())
                else:
                    self._send(404, b'{"error":{"message":"unknown path"}}')

        return Handler
