"""Reverse instructions: the brief a writer would have been given for each post (seed 000's RIS).

``template_brief`` is deterministic and reads like a person's request: how long a post (one line,
short, longer), its topic (the one content word it uses most), how it opens (a question, a
number, a contrarian take, a story) and its shape (short lines, a list). It never quotes the post
and never lists the post's words (a list of a post's rarest words leaks its content and reads badly).
A teacher writes a freer brief; a teacher answer that does not look like a brief falls back to the template.
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


def opening(text: str) -> str:
    """How the post opens, in words that do not quote it ("" when nothing stands out)."""
    first = hook(text)
    lowered = first.lower()
    if not first:
        return ""
    if _opens_with_question(text):
        return "open with a question"
    if "opinion" in lowered or lowered.startswith(("stop ", "don't ", "never ", "nobody ")):
        return "open with a contrarian take"
    if first[0].isdigit():
        return "open with a number"
    if re.match(r"(i|i'm|i've|my|we|our)\b", lowered):
        return "tell it as something that happened to you"
    return ""


def _opens_with_question(text: str) -> bool:
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return first.endswith("?")


def topic(text: str) -> str | None:
    """The post's topic: its most used content word (one word, never a list), if it has one."""
    top = keywords(text, 1)
    return top[0] if top else None


def template_brief(post: Post, platform: str = "post") -> str:
    """A deterministic brief for ``post`` that reads like a request: its length, its topic word, how it opens and its shape; it never quotes the post or lists its words."""
    lines = [line for line in post.text.splitlines() if line.strip()]
    size = "one-line " if len(lines) == 1 and len(post.text) < 160 else "short " if len(post.text) < 280 else ""
    subject = topic(post.text)
    brief = f"Write a {size}{platform}" + (f" about {subject}" if subject else " in your own voice") + "."
    shape = [opening(post.text)] if opening(post.text) else []
    if len(lines) >= 3:
        shape.append("keep the lines short")
    if sum(bool(BULLET.match(line)) for line in lines) >= 2:
        shape.append("include a short list")
    return f"{brief} {join_words(shape).capitalize()}." if shape else brief


def quotes_answer(brief: str, answer: str, n: int = 5) -> bool:
    """Whether ``brief`` contains ``n`` consecutive words of ``answer``."""
    def grams(text: str) -> set[tuple[str, ...]]:
        words = re.findall(r"[\w'$%-]+", text.lower())
        return {tuple(words[i:i + n]) for i in range(len(words) - n + 1)}

    return bool(grams(brief) & grams(answer))


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
