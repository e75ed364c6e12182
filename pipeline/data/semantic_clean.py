"""Semantic cleaning (``data build --semantic-clean``): a teacher LLM labels each post keep or drop,
with a reason from a fixed set.

The rules of :mod:`.clean` and :mod:`.filters` see characters; some posts are only recognisable by
meaning: pure promotion, a bare link with a word or two, a reply that means nothing on its own,
someone else's words (a quote, a repost pasted in). The build's teacher (the local model in-process
or any OpenAI-compatible endpoint, see :mod:`pipeline.teacher`; its replies are cached like the
briefs') answers one label per post. A post is never rewritten: it is kept as it is or left out. A
reply that names no label, or names two, keeps the post and is counted as ``unclear``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from ..teacher import Teacher
from .post import Post
from .removed import Removed

KEEP = "keep"
LABELS = {
    KEEP: "the author's own writing: an idea, story, opinion, advice or update that stands on its own",
    "promotion": "pure promotion: an ad, a discount, 'buy/sign up/register now', a sponsor read, nothing else",
    "bare link": "a link with no more than a few words of the author's own",
    "reply fragment": "a reply that means nothing without the post it answers ('thanks!', 'agreed', '@x yes')",
    "someone else's words": "mostly a quote, a repost or a pasted text by someone else",
}
"""The fixed set of labels and what each means (shown to the teacher as is)."""
DROP_REASONS = tuple(label for label in LABELS if label != KEEP)
SYNONYMS = {
    "promo": "promotion", "advert": "promotion", "ad": "promotion", "spam": "promotion",
    "link": "bare link", "url": "bare link",
    "fragment": "reply fragment", "reply": "reply fragment",
    "quote": "someone else's words", "repost": "someone else's words", "retweet": "someone else's words",
    "others": "someone else's words", "someone else": "someone else's words",
}
"""Words a model uses for a label when it does not repeat it exactly (matched as whole words)."""
MAX_NEW_TOKENS = 12
"""Reply length asked for: a label is a few words."""
PROMPT = ("Label this social media post for a data set of one person's own writing. Answer with exactly one "
          "label from the list, nothing else.\n\n{labels}\n\nPost:\n<<<\n{text}\n>>>\n\nLabel:")


@dataclass
class SemanticCleanResult:
    kept: list[Post]
    removed: Removed = field(default_factory=Removed)
    """Posts left out, by reason, with up to three examples each (for the report and the Dataset tab)."""
    labels: Counter = field(default_factory=Counter)
    """Every label the teacher gave (``unclear``: a reply that named no single label; the post is kept)."""

    def report(self) -> dict:
        return {"kept": len(self.kept), "removed": dict(self.removed), "examples": self.removed.examples,
                "labels": dict(self.labels)}


def prompt_for(post: Post) -> list[dict]:
    labels = "\n".join(f"- {name}: {meaning}" for name, meaning in LABELS.items())
    return [{"role": "user", "content": PROMPT.format(labels=labels, text=post.text)}]


def parse_label(reply: str) -> str | None:
    """The label a reply names: the one it starts with, else the only one it mentions; None if unclear."""
    text = re.sub(r"[^a-z' ]+", " ", reply.lower().replace("\u2019", "'"))
    text = " ".join(text.split())
    words = dict.fromkeys([*LABELS, *SYNONYMS])  # exact labels first: "reply fragment" before "reply"
    found: dict[str, int] = {}
    for word in sorted(words, key=len, reverse=True):
        for match in re.finditer(rf"(?<![a-z']){re.escape(word)}(?![a-z])", text):
            label = SYNONYMS.get(word, word)
            found.setdefault(label, match.start())
            text = text[:match.start()] + " " * len(word) + text[match.end():]  # a longer word claims its span
    if not found:
        return None
    first = min(found, key=found.get)
    if found[first] == 0 or len(found) == 1:
        return first
    return None


def semantic_clean(posts: list[Post], teacher: Teacher, *, drop: tuple[str, ...] = DROP_REASONS,
                   progress: Callable[[float, str], None] | None = None) -> SemanticCleanResult:
    """Label every post with ``teacher`` (a batch of ``teacher.batch_size`` at a time) and leave out
    those whose label is in ``drop``."""
    result = SemanticCleanResult(kept=[])
    step = max(1, teacher.batch_size)
    for start in range(0, len(posts), step):
        batch = posts[start:start + step]
        replies = teacher.chat([prompt_for(p) for p in batch], max_new_tokens=MAX_NEW_TOKENS)
        for post, reply in zip(batch, replies):
            label = parse_label(reply) or "unclear"
            result.labels[label] += 1
            if label in drop:
                result.removed.add(label, post.text)
            else:
                result.kept.append(post)
        if progress:
            progress(min(1.0, (start + len(batch)) / len(posts)), "semantic cleaning")
    return result
