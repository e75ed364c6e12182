"""Reverse instructions: the brief a writer would have been given for each post (seed 000's RIS).

``template_brief`` is deterministic: the post's platform, its topic keywords and its hook (the
angle the writer was asked to take), plus the shape (short lines, a list). A teacher writes a
freer brief; a teacher answer that does not look like a brief falls back to the template.
"""

from __future__ import annotations

import re
from collections import Counter

from .post import Post

STOPWORDS = frozenset("""
a about above after again against all also am an and any are as at be because been before being below
between both but by can could did do does doing done down during each even every few for from further get
gets got had has have having he her here hers him his how i if in into is it its itself just let like made
make makes many me more most much my myself no nor not now of off on once one only or other our ours out
over own really same say says she should so some still such than that the their them then there these they
thing things this those through to too under until up us very was we were what when where which while who
whom why will with would you your yours yourself dont don't im i'm it's thats that's youre you're ive i've
url user never always people every way ever new know need want going go went take took time year years day
days week weeks first last next back better best good great lot lots nobody everyone someone something
here's there's what's let's i'll we're they're isn't wasn't didn't doesn't won't can't said made got gets
using used thanks today yesterday tomorrow
""".split())
_WORD = re.compile(r"[A-Za-z][A-Za-z'\-]{2,}")
BULLET = re.compile(r"^\s*(?:[-*•→▪︎✅✔️]+|\d+[.)])\s+")
PLATFORMS = {"tweets-archive": "tweet", "linkedin": "LinkedIn post"}

TEACHER_SYSTEM = ("You reverse-engineer writing briefs. Given a social media post, reply with the one-sentence "
                  "brief its author was given, starting with 'Write a'. Name the topic and the angle; do not "
                  "quote the post. Reply with the brief only.")


def keywords(text: str, k: int = 3) -> list[str]:
    """The ``k`` most frequent content words (ties: first seen first)."""
    words = [w.lower().strip("'-") for w in _WORD.findall(text)]
    counts = Counter(w for w in words if w not in STOPWORDS and len(w) > 3)
    first_seen = {w: i for i, w in reversed(list(enumerate(words)))}
    return sorted(counts, key=lambda w: (-counts[w], first_seen[w]))[:k]


def hook(text: str, max_words: int = 14) -> str:
    """The first line without bullets or closing punctuation (a short label line such as
    "Unpopular opinion:" takes the next line with it), at most ``max_words`` words."""
    lines = [BULLET.sub("", line).strip() for line in text.splitlines()]
    lines = [line for line in lines if line]
    if not lines:
        return ""
    first = lines[0]
    if first.endswith(":") and len(first.split()) <= 3 and len(lines) > 1:
        first = f"{first} {lines[1]}"
    return " ".join(first.split()[:max_words]).rstrip(".!?:;,")


def template_brief(post: Post, platform: str = "post") -> str:
    """A deterministic brief from the post's keywords, hook and shape."""
    topic = join_words(keywords(post.text)) or "your work"
    lines = [line for line in post.text.splitlines() if line.strip()]
    shape = ["open with a short punchy hook"]
    if len(lines) >= 3:
        shape.append("keep the lines short")
    if sum(bool(BULLET.match(line)) for line in lines) >= 2:
        shape.append("include a short list")
    angle = hook(post.text)
    brief = f"Write a {platform} about {topic}."
    if angle:
        brief += f' The angle: "{angle}".'
    return f"{brief} {join_words(shape).capitalize()}."


def join_words(items: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + f" and {items[-1]}" if items else ""


def teacher_conversation(post: Post) -> list[dict]:
    return [{"role": "system", "content": TEACHER_SYSTEM}, {"role": "user", "content": post.text}]


def usable_brief(answer: str, post: Post) -> str | None:
    """The teacher's brief from its first "Write ..." sentence, or None when there is none (small
    models often answer something else; the template is used then)."""
    match = re.search(r"\bwrite\b[^\n]*", answer, flags=re.IGNORECASE)
    if not match:
        return None
    line = match.group(0).strip().strip('"\'`* ')
    line = line[0].upper() + line[1:]
    words = line.split()
    if not 4 <= len(words) <= 80 or normalise_space(line) in normalise_space(post.text):
        return None
    return line


def normalise_space(text: str) -> str:
    return " ".join(text.lower().split())
