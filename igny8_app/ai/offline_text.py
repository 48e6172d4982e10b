"""Offline ideas, articles and image prompts: deterministic text assembled from templates.

Every choice is keyed by a SHA-256 hash of the input, so the same input always gives the same
output, byte for byte, on every machine. The prose is honest filler built around the cluster's
keywords: structurally a real article (sections, lists, meta tags), not an AI's writing.
"""

from __future__ import annotations

import hashlib
import re

from igny8_app.ai.base import ClusterIn, ContentIn, ContentOut, IdeaOut, ImagePromptOut, TaskIn
from igny8_app.ai.html import META_DESCRIPTION_MAX, META_TITLE_MAX, clip, count_words, esc, headings

MIN_WORDS = 150  # shortest article written (a task asking for less gets this)
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


_LEAD = re.compile(r"^(how to|how do i|how do you|how can i|what is|what are|why is|why are|why do|"
                   r"when to|should i|can you|is it|are|is|best|top|cheap|easy)\s+", re.I)
_TAIL = re.compile(r"\s+(for beginners|for beginner|near me|today|explained|guide)$", re.I)
_FILLER = frozenset("a an the my your for to of".split())


def topic_of(phrase: str) -> str:
    """The subject of a search phrase: 'how to make sourdough bread' -> 'sourdough bread',
    'best tents for camping' -> 'tents for camping', 'marathon training for beginners' ->
    'marathon training'."""
    phrase = " ".join(phrase.split())
    words = phrase.split()
    how_to = bool(re.match(r"^how (to|do i|do you|can i)\s", phrase, re.I))
    core = _TAIL.sub("", _LEAD.sub("", phrase)).split()
    if how_to and len(core) >= 3:  # drop the verb: 'make sourdough bread'
        core = core[1:]
    while len(core) > 1 and core[0].lower() in _FILLER:
        core = core[1:]
    return " ".join(core) or " ".join(words)


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
        what = next((k for k in kws if re.match(r"^(what|why) ", k, re.I)), None)
        if what:
            return f"{title_case(what).rstrip('?')}? A Clear Explanation"
        return pick((f"What Is {t}? Everything You Need to Know", f"{t} Explained: The Essentials"),
                    seed, intent)
    if intent == "best_x":
        best = next((k for k in kws if re.match(r"^(best|top) ", k, re.I)), None)
        if best:
            t = title_case(topic_of(best))
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
    if intent_is_vs := re.search(r"\s(vs\.?|versus)\s", topic, re.I):
        topic = topic[: intent_is_vs.start()]  # 'roth ira vs traditional ira' -> 'roth ira'

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
        if intent == "comparison" and not re.search(r"\bvs\b", title):
            title = _idea_title(intent, topic_of(cluster.name), kws, seed)
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


def _paragraphs(seed: int, tag: str, subjects: list[str], topic: str, budget: int,
                used: set[int]) -> tuple[list[str], int]:
    """Paragraphs (at most 5 sentences each) of template sentences holding about ``budget``
    words; subjects rotate through ``subjects`` so the prose is not one phrase repeated."""
    paragraphs: list[str] = []
    sentences: list[str] = []
    words = 0
    i = 0
    while words < budget:
        idx = digest(seed, tag, i) % len(_SENTENCES)
        for step in range(len(_SENTENCES)):  # first unused template from idx, cycling
            cand = (idx + step) % len(_SENTENCES)
            if cand not in used:
                idx = cand
                break
        used.add(idx)
        if len(used) >= len(_SENTENCES):
            used.clear()
        subject = subjects[i % len(subjects)]
        s = _SENTENCES[idx].format(kw=f"<em>{esc(subject)}</em>" if i == 0 else esc(topic_of(subject)),
                                   topic=esc(topic))
        sentences.append(s)
        words += len(re.sub(r"<[^>]+>", "", s).split())
        i += 1
        if len(sentences) == 5:
            paragraphs.append("<p>" + " ".join(sentences) + "</p>")
            sentences = []
    if sentences:
        paragraphs.append("<p>" + " ".join(sentences) + "</p>")
    return paragraphs, words


def write_article(task: TaskIn) -> ContentOut:
    title = " ".join(task.title.split()) or title_case(task.cluster_name or "Untitled")
    kws = list(dict.fromkeys(k.strip() for k in task.keywords if k.strip()))
    topic = topic_of(task.cluster_name or (kws[0] if kws else title)).lower()
    if not kws:
        kws = [topic]
    target = max(task.word_count, MIN_WORDS)
    seed = digest("article", title, target, task.content_structure, *kws)
    n_sections = max(1, min(8, round(target / 260)))
    headings_ = [title_case(topic_of(k)) for k in kws[:n_sections]]
    if task.content_structure == "how_to_guide":
        headings_ = [f"Step {i + 1}: {h}" for i, h in enumerate(headings_)]
    for extra in _EXTRA_H2:
        if len(headings_) >= n_sections:
            break
        headings_.append(extra)
    used: set[int] = set()
    parts: list[str] = []
    intro, words = _paragraphs(seed, "intro", [kws[0], topic], topic, min(80, target // 8), used)
    parts += intro
    outro_budget = min(70, target // 10)
    per_section = max(10, (target - words - outro_budget - 4 * n_sections) // n_sections)
    for n, heading in enumerate(headings_):
        kw = kws[n % len(kws)]
        subjects = [kw, topic, kws[(n + 1) % len(kws)]] if len(kws) > 1 else [kw, topic]
        parts.append(f"<h2>{esc(heading)}</h2>")
        words += len(heading.split())
        budget = per_section - len(heading.split())
        if n % 2 == 1 and budget > 120:  # every other section: an H3 subsection and a list
            sub = pick(_H3, seed, "h3", n)
            items = [_LIST_ITEMS[(digest(seed, "li", n) + j) % len(_LIST_ITEMS)] for j in range(3)]
            lst = "<ul>" + "".join(f"<li>{it.format(kw=esc(kw), topic=esc(topic))}</li>" for it in items) + "</ul>"
            list_words = len(re.sub(r"<[^>]+>", " ", lst).split())
            p1, w1 = _paragraphs(seed, f"s{n}a", subjects, topic, (budget - list_words) // 2, used)
            rest = budget - list_words - w1 - len(sub.split())
            p2, w2 = _paragraphs(seed, f"s{n}b", subjects[1:] + subjects[:1], topic, rest, used)
            parts += p1 + [f"<h3>{esc(sub)}</h3>"] + p2 + [lst]
            words += w1 + w2 + list_words + len(sub.split())
        else:
            p, w = _paragraphs(seed, f"s{n}", subjects, topic, budget, used)
            parts += p
            words += w
    parts.append("<h2>Conclusion</h2>")
    outro, _ = _paragraphs(seed, "outro", [topic], topic, max(8, target - words - 1), used)
    parts += outro
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
