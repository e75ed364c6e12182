"""Clean post text for training while keeping its shape (line breaks and bullets are the style).

A social-post clean-up: drop ``RT @user:`` prefixes, URLs -> ``[URL]``, @mentions ->
``[USER]``, collapse runs of ``!!!``/``???``/``....``, normalise spaces inside lines, and
optionally strip emoji (off by default: emoji are part of many voices).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_RT_PREFIX = re.compile(r"^(?:\s*RT @\w+:\s*)+")
# A URL ends before trailing punctuation that belongs to the sentence.
_URL = re.compile(r"(?:https?://|www\.)[^\s<>\"']+?(?=[.,;:!?)\]\"']*(?:\s|$))", re.IGNORECASE)
_MENTION = re.compile(r"(?<![\w.@])@\w{1,30}")
_BANGS = re.compile(r"([!?])\1+")
_MIXED = re.compile(r"[!?]{3,}")
_DOTS = re.compile(r"\.{4,}|…+")
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_INVISIBLE = re.compile(r"[\u200b\u200c\u2060\ufeff]")
_BLANK_LINES = re.compile(r"\n{3,}")
_EMOJI = re.compile(
    "[\U0001F000-\U0001FAFF\U00002600-\U000027BF\U0001F1E6-\U0001F1FF\U00002B00-\U00002BFF"
    "\U0000FE0F\U0000200D\U000020E3\U0001F3FB-\U0001F3FF]+"
)


@dataclass(frozen=True)
class CleanOptions:
    """Which cleaning steps run (all on by default except emoji removal)."""

    strip_retweet_prefix: bool = True
    """Drop a leading ``RT @user:``."""
    replace_urls: bool = True
    """URLs -> ``[URL]`` (a t.co link is 15-25 tokens of noise)."""
    replace_mentions: bool = True
    """@mentions -> ``[USER]`` (privacy, and the model should not learn handles)."""
    collapse_punctuation: bool = True
    """``!!!`` -> ``!``, ``???`` -> ``?``, ``?!?!`` -> ``?!``, ``.....`` -> ``...``."""
    normalise_whitespace: bool = True
    """Single spaces inside lines, no trailing spaces, at most one blank line; line breaks stay."""
    remove_emoji: bool = False
    """Strip emoji (keep them when they are part of the voice)."""


def clean_text(text: str, options: CleanOptions = CleanOptions()) -> str:
    """One post's text, cleaned as ``options`` say."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if options.strip_retweet_prefix:
        text = _RT_PREFIX.sub("", text)
    if options.replace_urls:
        text = _URL.sub("[URL]", text)
    if options.replace_mentions:
        text = _MENTION.sub("[USER]", text)
    if options.remove_emoji:
        text = _EMOJI.sub("", text)
    if options.collapse_punctuation:
        text = _MIXED.sub(lambda m: "?!" if "?" in m.group() and "!" in m.group() else m.group()[0], text)
        text = _BANGS.sub(r"\1", text)
        text = _DOTS.sub("...", text)
    if options.normalise_whitespace:
        text = _INVISIBLE.sub("", text)
        lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
        text = _BLANK_LINES.sub("\n\n", "\n".join(lines))
    return text.strip()
