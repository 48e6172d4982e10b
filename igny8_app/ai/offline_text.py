"""Offline ideas, articles and image prompts: deterministic text assembled from templates.

Every choice is keyed by a SHA-256 hash of the input, so the same input always gives the same
output, byte for byte, on every machine. The prose is honest filler built around the cluster's
keywords: structurally a real article (sections, lists, meta tags), not an AI's writing.
"""

from __future__ import annotations

import hashlib
import re

from igny8_app.ai.base import ClusterIn, ContentIn, ContentOut, IdeaOut, ImagePromptOut, TaskIn
from igny8_app.ai.html import count_words, esc, headings

META_TITLE_MAX = 60
META_DESCRIPTION_MAX = 160
_SMALL = frozenset("a an and as at but by for in of on or the to vs with".split())


def digest(*parts: object) -> int:
    data = "\x1f".join(str(p) for p in parts).encode("utf-8")
    return int.from_bytes(hashlib.sha256(data).digest()[:8], "big")


def pick(options: list[str] | tuple[str, ...], *key: object) -> str:
    return options[digest(*key) % len(options)]


def title_case(text: str) -> str:
    words = text.split()
    out = []
    for i, w in enumerate(words):
        if i and w.lower() in _SMALL:
            out.append(w.lower())
        elif w.isupper() or any(c.isdigit() for c in w):
            out.append(w)
        else:
            out.append(w[:1].upper() + w[1:])
    return " ".join(out)


def clip(text: str, limit: int) -> str:
    """``text`` cut at a word boundary to at most ``limit`` characters."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit + 1].rsplit(" ", 1)[0].rstrip(" ,;:-–—")
    return cut if cut else text[:limit]


_LEAD = re.compile(r"^(how to|how do i|how do you|what is|what are|why is|why are|best|top|cheap)\s+", re.I)


def topic_of(phrase: str) -> str:
    """'how to make sourdough bread' -> 'make sourdough bread'; 'best tents' -> 'tents'."""
    phrase = " ".join(phrase.split())
    stripped = _LEAD.sub("", phrase)
    return stripped or phrase


# --- stage 2: ideas --------------------------------------------------------------------------

INTENT_ORDER = ("how_to", "what_is", "best_x", "comparison")
_INTENT_PATTERNS = {
    "how_to": re.compile(r"\b(how|guide|steps?|tutorial|diy|schedule|plan|set ?up|fix)\b", re.I),
    "what_is": re.compile(r"\b(what|why|explained|meaning|definition|is|are|rules?|principles?)\b", re.I),
    "best_x": re.compile(r"\b(best|top|review|reviews|cheap|buy|price|cost|ideas|kit)\b", re.I),
    "comparison": re.compile(r"\b(vs|versus|or|compared?|comparison|difference|alternatives?)\b", re.I),
}
_IDEA_SHAPE = {  # intent -> (content_type, content_structure, base words)
    "how_to": ("post", "how_to_guide", 1500),
    "what_is": ("post", "explainer", 1200),
    "best_x": ("post", "listicle", 1800),
    "comparison": ("post", "comparison", 1400),
}
_COMMERCIAL = re.compile(r"\b(buy|price|prices|cost|kit|deal|deals|for sale|shop)\b", re.I)


def _idea_title(intent: str, topic: str, kws: list[str], seed: int) -> str:
    t = title_case(topic)
    if intent == "how_to":
        how = next((k for k in kws if k.lower().startswith("how to ")), None)
        if how:
            return f"{title_case(how)}: A Step-by-Step Guide"
        return pick((f"How to Get Started with {t}", f"{t}: A Practical How-To Guide"), seed, intent)
    if intent == "what_is":
        return pick((f"What Is {t}? Everything You Need to Know", f"{t} Explained: The Essentials"),
                    seed, intent)
    if intent == "best_x":
        return pick((f"The Best {t}: Our Top Picks", f"Best {t}: What to Choose and Why"), seed, intent)
    vs = next((k for k in kws if re.search(r"\bvs\b|\bversus\b", k, re.I)), None)
    if vs:
        left, _, right = re.split(r"\s+(vs\.?|versus)\s+", vs, maxsplit=1, flags=re.I)
        return f"{title_case(left)} vs {title_case(right)}: Which Should You Choose?"
    return f"{t}: Comparing Your Options"


def ideas_for(cluster: ClusterIn, max_ideas: int) -> list[IdeaOut]:
    """1..max_ideas (at most 3) ideas by intent, strongest signal in the keywords first."""
    kws = list(dict.fromkeys([k for k in cluster.keywords if k.strip()] or [cluster.name]))
    size = len(kws)
    wanted = 1 if size <= 1 else 2 if size <= 5 else 3
    wanted = max(1, min(wanted, max_ideas, 3))
    scores = {i: sum(bool(_INTENT_PATTERNS[i].search(k)) for k in kws) for i in INTENT_ORDER}
    ranked = sorted(INTENT_ORDER, key=lambda i: (-scores[i], INTENT_ORDER.index(i)))
    seed = digest("ideas", cluster.name, *kws)
    topic = topic_of(cluster.name)
    ideas = []
    for intent in ranked[:wanted]:
        ctype, structure, base = _IDEA_SHAPE[intent]
        matching = [k for k in kws if _INTENT_PATTERNS[intent].search(k)]
        targets = tuple(dict.fromkeys([cluster.name] + matching + kws))[:5]
        if intent == "best_x" and any(_COMMERCIAL.search(k) for k in matching):
            ctype = "product"
        if intent == "what_is" and size >= 12:
            ctype, structure = "page", "pillar_page"
        words = base + 50 * min(size, 10)
        title = _idea_title(intent, topic, kws, seed)
        quoted = ", ".join(f"“{k}”" for k in targets[:3])
        description = {
            "how_to": f"A practical, step-by-step guide to {topic}, for readers searching {quoted}.",
            "what_is": f"A clear explainer of {topic}: what it is, why it matters and how it works. "
                       f"Targets {quoted}.",
            "best_x": f"A ranked round-up for {topic} with the criteria that matter. Targets {quoted}.",
            "comparison": f"A side-by-side comparison for {topic}, with a recommendation per need. "
                          f"Targets {quoted}.",
        }[intent]
        ideas.append(IdeaOut(title=title[:255], description=description, content_type=ctype,
                             content_structure=structure, estimated_word_count=words,
                             keywords=targets, intent=intent))
    return ideas


# --- stage 4: article ------------------------------------------------------------------------

_SENTENCES = (
    "Most people who look into {kw} want a clear answer they can act on straight away.",
    "The first thing to understand about {kw} is that small details add up quickly.",
    "When it comes to {kw}, consistency matters more than any single clever trick.",
    "A simple way to approach {kw} is to start with the basics and refine as you go.",
    "Experienced practitioners treat {kw} as a habit rather than a one-off task.",
    "It helps to write down what you try with {kw}, so you can see what actually works.",
    "Beginners often overcomplicate {kw}; a few well-chosen steps are usually enough.",
    "Budget, time and space all shape the right choice for {kw}.",
    "If you only remember one thing about {kw}, make it this: measure before you change anything.",
    "The best results with {kw} come from patience and regular, small adjustments.",
    "There is no single right answer for {kw}, but there are clearly wrong ones to avoid.",
    "Good information about {kw} is easy to find, yet much of it contradicts itself.",
    "Think of {kw} as part of the bigger picture of {topic}, not as an isolated problem.",
    "Those new to {topic} usually meet {kw} early, and the lessons carry over everywhere else.",
    "A quick checklist keeps {kw} on track when the routine gets busy.",
    "Questions about {kw} tend to come up again whenever conditions change.",
    "Comparing a few options side by side makes decisions about {kw} far easier.",
    "Safety and common sense come first with {kw}, especially the first few times.",
    "The cost of getting {kw} wrong is usually time, rarely money, so experiment calmly.",
    "People who succeed with {kw} tend to keep things simple and repeatable.",
    "Reading the signs early is the most useful skill when dealing with {kw}.",
    "For {kw}, a modest plan followed every week beats an ambitious one that is abandoned.",
    "Many guides skip the reasoning behind {kw}; knowing the why makes the how stick.",
    "Seasonal changes and local conditions can shift what works for {kw}.",
    "Tools help with {kw}, but technique and attention matter more than equipment.",
    "Once the fundamentals of {kw} are in place, fine-tuning becomes straightforward.",
    "Track one variable at a time with {kw}; changing several at once hides the cause.",
    "A second opinion from someone experienced can save hours of trial and error with {kw}.",
    "Set realistic expectations for {kw}: steady progress is the goal, not perfection.",
    "Revisit your approach to {kw} every few weeks and keep what earns its place.",
)
_LIST_ITEMS = (
    "<strong>Start small:</strong> test {kw} on a small scale before committing.",
    "<strong>Keep notes:</strong> record what you changed and what happened.",
    "<strong>Check the basics:</strong> most problems with {kw} trace back to fundamentals.",
    "<strong>Be patient:</strong> give each change to {kw} enough time to show results.",
    "<strong>Ask for help:</strong> communities around {topic} are generous with advice.",
    "<strong>Review regularly:</strong> what worked last month may need a tweak today.",
    "<strong>Budget wisely:</strong> spend on what affects {kw} most, skip the rest.",
)
_H3 = ("Why It Matters", "Getting It Right", "Common Mistakes", "A Practical Example",
       "What to Watch For", "Quick Wins")
_EXTRA_H2 = ("Common Mistakes to Avoid", "Tools and Resources", "Frequently Asked Questions",
             "A Simple Routine to Follow", "Key Takeaways")


def _paragraph(seed: int, tag: str, kw: str, topic: str, budget: int, used: set[int]) -> tuple[str, int]:
    """A paragraph of template sentences about ``kw`` holding about ``budget`` words."""
    sentences: list[str] = []
    words = 0
    i = 0
    while words < budget and len(sentences) < 8:
        idx = digest(seed, tag, i) % len(_SENTENCES)
        for step in range(len(_SENTENCES)):  # first unused template from idx, cycling
            cand = (idx + step) % len(_SENTENCES)
            if cand not in used:
                idx = cand
                break
        used.add(idx)
        if len(used) >= len(_SENTENCES):
            used.clear()
        s = _SENTENCES[idx].format(kw=f"<em>{esc(kw)}</em>" if i == 0 else esc(kw), topic=esc(topic))
        sentences.append(s)
        words += len(re.sub(r"<[^>]+>", "", s).split())
        i += 1
    return "<p>" + " ".join(sentences) + "</p>", words


def write_article(task: TaskIn) -> ContentOut:
    title = " ".join(task.title.split()) or title_case(task.cluster_name or "Untitled")
    kws = list(dict.fromkeys(k.strip() for k in task.keywords if k.strip()))
    topic = topic_of(task.cluster_name or (kws[0] if kws else title)).lower()
    if not kws:
        kws = [topic]
    target = max(task.word_count, 150)
    seed = digest("article", title, target, task.content_structure, *kws)
    n_sections = max(2, min(8, round(target / 260)))
    headings_ = [title_case(topic_of(k)) for k in kws[:n_sections]]
    if task.content_structure == "how_to_guide":
        headings_ = [f"Step {i + 1}: {h}" for i, h in enumerate(headings_)]
    for extra in _EXTRA_H2:
        if len(headings_) >= n_sections:
            break
        headings_.append(extra)
    used: set[int] = set()
    parts: list[str] = []
    intro, words = _paragraph(seed, "intro", kws[0], topic, min(80, target // 8), used)
    parts.append(intro)
    outro_budget = min(70, target // 10)
    per_section = max(30, (target - words - outro_budget - 6 * (n_sections + 1)) // n_sections)
    for n, heading in enumerate(headings_):
        kw = kws[n % len(kws)]
        parts.append(f"<h2>{esc(heading)}</h2>")
        words += len(heading.split())
        budget = per_section - len(heading.split())
        if n % 2 == 1 and budget > 120:  # every other section: H3 subsections and a list
            sub = pick(_H3, seed, "h3", n)
            items = [_LIST_ITEMS[(digest(seed, "li", n) + j) % len(_LIST_ITEMS)] for j in range(3)]
            lst = "<ul>" + "".join(f"<li>{it.format(kw=esc(kw), topic=esc(topic))}</li>" for it in items) + "</ul>"
            list_words = len(re.sub(r"<[^>]+>", " ", lst).split())
            p1, w1 = _paragraph(seed, f"s{n}a", kw, topic, (budget - list_words) // 2, used)
            p2, w2 = _paragraph(seed, f"s{n}b", kw, topic, budget - list_words - w1 - len(sub.split()), used)
            parts += [p1, f"<h3>{esc(sub)}</h3>", p2, lst]
            words += w1 + w2 + list_words + len(sub.split())
        else:
            p, w = _paragraph(seed, f"s{n}", kw, topic, budget, used)
            parts.append(p)
            words += w
    closing = "Conclusion"
    parts.append(f"<h2>{closing}</h2>")
    outro, _ = _paragraph(seed, "outro", topic, topic, max(20, target - words - 1), used)
    parts.append(outro)
    body = "\n".join(parts)
    meta_title = clip(title, META_TITLE_MAX)
    meta_description = clip(
        f"{title_case(topic)}: a practical guide covering {', '.join(kws[:3])}. "
        f"Clear steps, common mistakes and tips that work.", META_DESCRIPTION_MAX)
    return ContentOut(title=title, html=body, meta_title=meta_title,
                      meta_description=meta_description, word_count=count_words(body))


# --- stage 5: image prompts ------------------------------------------------------------------

_STYLES = ("clean flat illustration", "soft watercolour illustration", "bright editorial photograph",
           "minimal isometric illustration", "warm natural-light photograph", "bold geometric poster art")


def prompts_for(content: ContentIn, in_article: int) -> list[ImagePromptOut]:
    seed = digest("prompts", content.title, content.html)
    subject = content.keywords[0] if content.keywords else content.title
    style = pick(_STYLES, seed, "style")
    out = [ImagePromptOut(
        image_type="featured", position=0,
        prompt=f"Featured image for the article “{content.title}”: {style} about {subject}, "
               f"wide 1200x630 composition, no text, no logos.")]
    sections = [h for h in headings(content.html, "h2") if h.lower() != "conclusion"] or [content.title]
    for i in range(max(in_article, 0)):
        section = sections[i % len(sections)]
        out.append(ImagePromptOut(
            image_type="in_article", position=i + 1,
            prompt=f"In-article image for the section “{section}” of “{content.title}”: {style}, "
                   f"showing {section.lower()}, 800x450, no text."))
    return out
