"""Rejected answers for preference pairs: the generic voice DPO must move away from (seed 000).

* ``rule``: a deterministic corporate rewrite of the post: its sentences in whole-sentence form
  (a list becomes "X: a, b and c."), filler adjectives before the topic words, sometimes a stock
  opener, sometimes a hedged hook, and a stock closing line, laid out as one paragraph, short
  paragraphs or a sentence per line; trimmed or padded to about the post's length, so DPO learns
  the voice and not "shorter wins" (seed 002's length-balance check) or "line breaks win" (the
  quality report's separability check).
* ``teacher``: the teacher rewrites the post as a bland corporate press release.
* ``base``: the base model's own answer to the brief.

A teacher or base answer that is empty or equal to the post falls back to ``rule`` (counted).
"""

from __future__ import annotations

import hashlib
import random
import re

from .briefs import BULLET, join_words, keywords, normalise_space

METHODS = ("rule", "teacher", "base")
OPENERS = (
    "In today's fast-paced digital landscape, {topic} matters more than ever.",
    "In the ever-evolving world of {topic}, change is the only constant.",
    "As organizations navigate an increasingly complex environment, {topic} has become a priority.",
    "In an era of rapid transformation, {topic} deserves a closer look.",
    "When it comes to {topic}, there is always more to learn.",
    "Let's talk about {topic}.",
    "Here's the thing about {topic}.",
    "{Topic} is a topic that comes up again and again.",
    "Many leaders are rethinking their approach to {topic}.",
    "I want to share a few reflections on {topic}.",
)
"""Stock first sentences. A rewrite starts with one only some of the time (the quality report's
separability check counts how often), so "starts with a stock opener" cannot be the whole lesson."""
HEDGES = ("It could be argued that ", "It is worth noting that ", "Many experts agree that ",
          "It may be the case that ", "One might say that ")
"""Hedges put before a declarative hook (never before a question, an imperative or a label)."""
STOCK_PREFIXES = tuple(t.split("{")[0].rstrip(" ,") for t in OPENERS if not t.startswith("{")) + (
    "In today's", "In the ever-evolving", "In an era")
FILLERS = ("robust", "seamless", "innovative", "cutting-edge", "transformative", "comprehensive", "holistic",
           "strategic", "dynamic", "impactful")
CLOSERS = (
    "Ultimately, by leveraging these insights, organizations can unlock new opportunities and drive meaningful impact.",
    "By embracing a holistic approach, teams can navigate these challenges and foster sustainable growth.",
    "In conclusion, it is important to remember that every journey is unique and success requires commitment.",
    "Moving forward, stakeholders should continue to prioritize alignment, collaboration and continuous improvement.",
)
SHORT_CLOSERS = ("It's a journey worth exploring.", "Let's unlock the potential together.",
                 "The possibilities are truly endless.", "Exciting times ahead.", "What do you think?",
                 "Food for thought.")
PADDING = (
    "This represents a significant opportunity for stakeholders across the ecosystem.",
    "Moreover, it is essential to align these efforts with broader business objectives.",
    "Furthermore, collaboration remains a key driver of long-term success.",
    "It is also crucial to consider the unique needs of each organization.",
)
CONTRACTIONS = (("can't", "cannot"), ("won't", "will not"), ("don't", "do not"), ("doesn't", "does not"),
                ("didn't", "did not"), ("isn't", "is not"), ("aren't", "are not"), ("wasn't", "was not"),
                ("I'm", "I am"), ("I've", "I have"), ("I'll", "I will"), ("it's", "it is"), ("that's", "that is"),
                ("we're", "we are"), ("you're", "you are"), ("they're", "they are"), ("let's", "let us"))
LAYOUTS = ("paragraph", "paragraphs", "post")
"""How a rewrite is laid out: one paragraph, short paragraphs split by blank lines (a sixth each),
or the post's own lines and list (two thirds), so line breaks alone do not tell the post from the rewrite."""
_DETERMINER = re.compile(r"\b(the|a|an|my|our|your|their|every)\s+([a-z][a-z-]+)\b", re.IGNORECASE)
_DECLARATIVE = re.compile(r"^(I|We|You|They|It|This|That|The|Most|Every|Some|My|Our|[A-Z][a-z]+ (is|are|was|were|has|have))\b")
REWRITE_SYSTEM = ("You rewrite social media posts as bland corporate press releases: one paragraph, no line "
                  "breaks, no lists, no emoji, formal, generic and full of stock phrases, about as long as the "
                  "original. Reply with the rewrite only.")


def _sentences(text: str) -> list[str]:
    """The post as whole sentences: a list under a "...:" line becomes one sentence ("X: a, b and c."),
    a short label line ("Unpopular opinion:") joins the line after it, every line ends with punctuation."""
    out: list[str] = []
    items: list[str] = []
    lead = ""

    def flush() -> None:
        nonlocal items, lead
        if items:
            listed = join_words([_lower_first(i.rstrip(".!?;,")) for i in items])
            out.append(f"{lead} {listed}." if lead else listed[:1].upper() + listed[1:] + ".")
        elif lead:
            out.append(lead)
        items, lead = [], ""

    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if BULLET.match(line):
            items.append(BULLET.sub("", line).strip())
            continue
        flush()
        if line.endswith(":"):
            lead = line
            continue
        out.append(line if line[-1] in ".!?" else line + ".")
    flush()
    merged: list[str] = []
    for sentence in out:  # a label line without a list takes the next sentence
        if merged and merged[-1].endswith(":"):
            merged[-1] = f"{merged[-1]} {sentence}"
        else:
            merged.append(sentence)
    return [s if s[-1] in ".!?" else s.rstrip(":") + "." for s in merged]


def _is_label(line: str) -> bool:
    """A short label line such as "Unpopular opinion:"."""
    line = line.strip()
    return line.endswith(":") and len(line.split()) <= 3


def _lower_first(text: str) -> str:
    """Lower-case the first letter unless it starts "I", "I'm" or an acronym."""
    return text if re.match(r"(I|I'\w+|[A-Z0-9]{2,})\b", text) else text[:1].lower() + text[1:]


def is_stock_opener(text: str) -> bool:
    """Whether ``text`` starts with one of the rule rewrite's stock openers."""
    start = text.lstrip()
    return any(start.startswith(prefix) for prefix in STOCK_PREFIXES) or bool(
        re.match(r"[A-Z][\w-]* is a topic that comes up", start))


def _post_lines(text: str) -> list[str]:
    """The post's own lines (bullets as "- ", one empty string per run of blank lines)."""
    out: list[str] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            if out and out[-1]:
                out.append("")
        else:
            out.append("- " + BULLET.sub("", line).strip() if BULLET.match(line) else line)
    return out[:-1] if out and not out[-1] else out


def rule_rewrite(text: str) -> str:
    """A generic corporate version of ``text`` of about the same length (deterministic per text).

    The post's content is kept in order with contractions spelled out, filler adjectives, sometimes
    a stock opener, sometimes a hedged hook, and a stock closer; padded or trimmed to about the post's
    length. The layout varies (``LAYOUTS``): two thirds keep the post's own lines and list, the rest
    are sentences (a list becomes one "X: a, b and c." sentence, so it stays grammatical) in one or
    several paragraphs. It never contains the post (nor the post it): a short post that those edits
    leave whole gets a rewrite about its topic instead (:func:`_about_topic`), so a DPO pair never
    teaches "stop before the closer"."""
    rewrite = _corporate(text)
    if contains_either(rewrite, text):
        rewrite = _about_topic(text)
    return rewrite


def contains_either(a: str, b: str) -> bool:
    """Whether one text contains the other (case and spacing ignored)."""
    a, b = normalise_space(a), normalise_space(b)
    return bool(a and b) and (a in b or b in a)


def _about_topic(text: str) -> str:
    """A stock opener about the post's topic and a stock closer (padding while there is room), about
    as long as the post: the shortest ones when the post is shorter than any."""
    rng = random.Random(int(hashlib.sha1(text.encode("utf-8")).hexdigest()[:12], 16))
    topic = (keywords(text, 1) or ["business"])[0]
    openers = sorted((t.format(topic=topic, Topic=topic[:1].upper() + topic[1:]) for t in OPENERS), key=len)
    closers = sorted(SHORT_CLOSERS, key=len)
    fitting = [(o, c) for o in openers for c in closers if len(o) + len(c) + 1 <= len(text) * 1.2]
    opener, closer = rng.choice(fitting) if fitting else (openers[0], closers[0])
    parts = [opener]
    padding = list(PADDING)
    rng.shuffle(padding)
    for sentence in padding:
        if len(" ".join(parts + [sentence, closer])) <= len(text) * 1.15:
            parts.append(sentence)
    return " ".join(parts + [closer])


def _corporate(text: str) -> str:
    rng = random.Random(int(hashlib.sha1(text.encode("utf-8")).hexdigest()[:12], 16))
    content = "\n".join(line for line in text.splitlines() if not _is_label(line))
    topic = (keywords(content, 1) or ["business"])[0]
    target = len(text)
    layout = rng.choices(LAYOUTS, weights=(1, 1, 4))[0]
    units = [_spell_out(u) for u in (_post_lines(text) if layout == "post" else _sentences(text)) or [text.strip()]]
    first, body = units[0], _add_fillers(units[1:], rng)
    if rng.random() < 0.5 and _DECLARATIVE.match(first) and first.endswith("."):
        first = rng.choice(HEDGES) + _lower_first(first)
    head = [first]
    closer = rng.choice(CLOSERS if target >= 400 else SHORT_CLOSERS)
    opener = rng.choice(OPENERS).format(topic=topic, Topic=topic[:1].upper() + topic[1:])
    if rng.random() < 0.45 and len(opener) + len(first) + len(closer) <= target * 1.2:
        head.insert(0, opener)
    parts = head[:]
    for unit in body:
        if len(" ".join(parts)) + len(unit) + len(closer) + 2 <= target * 1.05:
            parts.append(unit)
    padding = list(PADDING)
    rng.shuffle(padding)
    for sentence in padding:
        length = len(" ".join(parts)) + len(closer) + 1
        if length < target * 0.85 and length + len(sentence) <= target * 1.15:
            parts.append(sentence)
    if layout == "post":
        lines: list[str] = []
        for line in head[:-1] + [""] + parts[len(head) - 1:]:
            if line or (lines and lines[-1]):  # no leading or doubled blank lines
                lines.append(line)
        while lines and not lines[-1]:
            lines.pop()
        return "\n".join(lines + ["", closer])
    parts.append(closer)
    if layout == "paragraphs":
        return "\n\n".join(" ".join(parts[i:i + 2]) for i in range(0, len(parts), 2))
    return " ".join(parts)


def _spell_out(text: str) -> str:
    """Contractions spelled out, as corporate prose does ("don't" -> "do not", "I'm" -> "I am")."""
    for short, full in CONTRACTIONS:
        text = re.sub(rf"\b{short}\b", full, text)
        text = re.sub(rf"\b{short.capitalize()}\b", full[:1].upper() + full[1:], text)
    return text


def _add_fillers(sentences: list[str], rng: random.Random, limit: int = 2) -> list[str]:
    """A filler adjective after the first ``limit`` determiners ("the plan" -> "the robust plan")."""
    out, added = [], 0
    for sentence in sentences:
        def insert(match: re.Match) -> str:
            nonlocal added
            if added >= limit:
                return match.group(0)
            added += 1
            adjective = rng.choice(FILLERS)
            det = match.group(1)
            if det.lower() in ("a", "an"):
                det = det[0] + ("n" if adjective[0] in "aeiou" else "")
            return f"{det} {adjective} {match.group(2)}"

        out.append(_DETERMINER.sub(insert, sentence))
    return out


def rewrite_conversation(text: str) -> list[dict]:
    """What the ``teacher`` method asks."""
    return [{"role": "system", "content": REWRITE_SYSTEM}, {"role": "user", "content": text}]


def trim_to_length(text: str, target: int, slack: float = 1.2) -> str:
    """Cut ``text`` to about ``target`` characters, at a sentence end when one is near, else a word."""
    limit = int(target * slack)
    if len(text) <= limit:
        return text
    head = text[:limit]
    end = max(head.rfind(". "), head.rfind("! "), head.rfind("? "), head.rfind("\n"))
    if end >= target * 0.6:
        return head[:end + 1].rstrip()
    return head.rsplit(" ", 1)[0].rstrip(",;:") + "..."


def usable_negative(answer: str, chosen: str) -> bool:
    return len(answer.split()) >= 3 and normalise_space(answer) != normalise_space(chosen)
