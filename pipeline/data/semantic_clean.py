"""Optional semantic cleaning: a teacher LLM labels each post keep or drop, with a reason from a fixed set.

The rules of :mod:`.clean` and :mod:`.filters` see characters; some posts are only recognisable by
meaning: pure promotion, a bare link with a word or two, a reply that means nothing on its own,
someone else's words (a quote, a repost pasted in). The teacher (the local model in-process or any
OpenAI-compatible endpoint, see :mod:`pipeline.teacher`; its replies are cached like the briefs')
answers one label per post. A post is never rewritten: it is kept as it is or left out. A reply
that names no label, or names two, keeps the post and is counted as ``unclear``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..teacher import Teacher, make_teacher
from .post import Post

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
EXAMPLES_PER_REASON = 3
EXAMPLE_CHARS = 280
PROMPT = ("Label this social media post for a data set of one person's own writing. Answer with exactly one "
          "label from the list, nothing else.\n\n{labels}\n\nPost:\n<<<\n{text}\n>>>\n\nLabel:")


@dataclass
class SemanticCleanSettings:
    """The semantic cleaning pass (off unless a teacher is named)."""

    teacher: str = "none"
    """none (off) | local (the local model in-process) | http(s)://HOST:PORT of an OpenAI-compatible server."""
    teacher_model: str | None = None
    """Model name to ask an HTTP teacher for."""
    teacher_key_env: str = "OPENAI_API_KEY"
    """Environment variable holding the HTTP teacher's key."""
    local_model: str = "default"
    """Model spec of the local teacher."""
    drop: tuple[str, ...] = DROP_REASONS
    """Reasons that drop a post; a post labelled with any other reason is kept."""
    batch_size: int = 16
    """Posts labelled per teacher batch."""
    cache_dir: Path | None = None
    """Teacher reply cache (default: $VOICETUNE_HOME/cache/teacher, shared with the briefs)."""
    max_new_tokens: int = 12
    """Reply length asked for: a label is a few words."""


@dataclass
class SemanticCleanResult:
    kept: list[Post]
    removed: Counter = field(default_factory=Counter)
    """Posts left out, by reason."""
    examples: dict[str, list[str]] = field(default_factory=dict)
    """Up to three left-out post texts per reason (shortened), for the report and the Dataset tab."""
    labels: Counter = field(default_factory=Counter)
    """Every label the teacher gave (``unclear``: a reply that named no single label; the post is kept)."""

    def report(self) -> dict:
        return {"kept": len(self.kept), "removed": dict(self.removed), "examples": self.examples,
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


def semantic_clean(posts: list[Post], settings: SemanticCleanSettings | None = None, *, teacher: Teacher | None = None,
                   progress: Callable[[float, str], None] | None = None) -> SemanticCleanResult:
    """Label every post with the teacher and leave out those whose label is in ``settings.drop``."""
    settings = settings or SemanticCleanSettings()
    if teacher is None:
        teacher = make_teacher(settings.teacher, settings.teacher_model, api_key_env=settings.teacher_key_env,
                               cache_dir=settings.cache_dir, local_model=settings.local_model,
                               batch_size=settings.batch_size)
    if teacher is None:
        return SemanticCleanResult(kept=list(posts))
    result = SemanticCleanResult(kept=[])
    step = max(1, settings.batch_size)
    for start in range(0, len(posts), step):
        batch = posts[start:start + step]
        replies = teacher.chat([prompt_for(p) for p in batch], max_new_tokens=settings.max_new_tokens)
        for post, reply in zip(batch, replies):
            label = parse_label(reply) or "unclear"
            result.labels[label] += 1
            if label in settings.drop:
                result.removed[label] += 1
                shown = result.examples.setdefault(label, [])
                if len(shown) < EXAMPLES_PER_REASON:
                    shown.append(post.text if len(post.text) <= EXAMPLE_CHARS else post.text[:EXAMPLE_CHARS] + "...")
            else:
                result.kept.append(post)
        if progress:
            progress(min(1.0, (start + len(batch)) / len(posts)), "semantic cleaning")
    return result
