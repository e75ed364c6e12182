"""Rejected answers for preference pairs: the generic voice DPO must move away from (seed 000).

* ``rule``: a deterministic corporate rewrite of the post: lines merged into one paragraph,
  bullets dropped, the hook hedged behind a stock opener, filler adjectives before the topic
  words and a stock closing line; trimmed or padded to about the post's length, so DPO learns
  the voice and not "shorter wins" (seed 002's length-balance check).
* ``teacher``: the teacher rewrites the post as a bland corporate press release.
* ``base``: the base model's own answer to the brief.

A teacher or base answer that is empty or equal to the post falls back to ``rule`` (counted).
"""

from __future__ import annotations

import hashlib
import random
import re

from .briefs import BULLET, hook, keywords, normalise_space

METHODS = ("rule", "teacher", "base")
OPENERS = (
    "In today's fast-paced digital landscape, {hedge}",
    "In the ever-evolving world of {topic}, {hedge}",
    "As organizations navigate an increasingly complex environment, {hedge}",
    "In an era of rapid transformation, {hedge}",
    "When it comes to {topic}, {hedge}",
)
HEDGES = ("it could be argued that ", "it is worth noting that ", "many experts agree that ",
          "it may be the case that ", "one might consider that ")
FILLERS = ("robust", "seamless", "innovative", "cutting-edge", "transformative", "comprehensive", "holistic",
           "strategic", "dynamic", "impactful")
CLOSERS = (
    "Ultimately, by leveraging these insights, organizations can unlock new opportunities and drive meaningful impact.",
    "By embracing a holistic approach, teams can navigate these challenges and foster sustainable growth.",
    "In conclusion, it is important to remember that every journey is unique and success requires commitment.",
    "Moving forward, stakeholders should continue to prioritize alignment, collaboration and continuous improvement.",
)
SHORT_CLOSERS = ("It's a journey worth exploring.", "Let's unlock the potential together.",
                 "The possibilities are truly endless.", "Exciting times ahead.")
PADDING = (
    "This represents a significant opportunity for stakeholders across the ecosystem.",
    "Moreover, it is essential to align these efforts with broader business objectives.",
    "Furthermore, collaboration remains a key driver of long-term success.",
    "It is also crucial to consider the unique needs of each organization.",
)
_DETERMINER = re.compile(r"\b(the|a|an|my|our|your|their|every)\s+([a-z][a-z-]+)\b", re.IGNORECASE)
REWRITE_SYSTEM = ("You rewrite social media posts as bland corporate press releases: one paragraph, no line "
                  "breaks, no lists, no emoji, formal, generic and full of stock phrases, about as long as the "
                  "original. Reply with the rewrite only.")


def _sentences(text: str) -> list[str]:
    out = []
    for line in text.splitlines():
        line = BULLET.sub("", line).strip()
        if line:
            out.append(line if line[-1] in ".!?:" else line + ".")
    return out


def rule_rewrite(text: str) -> str:
    """A generic corporate version of ``text`` of about the same length (deterministic per text)."""
    rng = random.Random(int(hashlib.sha1(text.encode("utf-8")).hexdigest()[:12], 16))
    topic_words = keywords(text, 2)
    target = len(text)
    first = hook(text) or text.strip()
    opener = rng.choice(OPENERS).format(hedge=rng.choice(HEDGES), topic=topic_words[0] if topic_words else "business")
    if not re.match(r"(I|I'\w+|[A-Z0-9]{2,})\b", first):  # "I" and acronyms keep their capitals
        first = first[:1].lower() + first[1:]
    parts = [opener + first + "."]
    body = _sentences(text)[1:]
    body = _add_fillers(body, rng)
    closer = rng.choice(CLOSERS if target >= 400 else SHORT_CLOSERS)
    for sentence in body:
        if len(" ".join(parts)) + len(sentence) + len(closer) + 2 > target * 1.05:
            break
        parts.append(sentence)
    padding = list(PADDING)
    rng.shuffle(padding)
    while padding and len(" ".join(parts)) + len(closer) + 1 < target * 0.85:
        parts.append(padding.pop())
    parts.append(closer)
    return " ".join(parts)


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
