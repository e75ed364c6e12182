"""One post as it moves through the builder (ingest -> clean -> filter -> dedupe -> engagement)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(slots=True)
class Post:
    text: str
    """The post's text (raw after ingest, cleaned afterwards)."""
    source: str
    """The input file's name (per-source counts in the report)."""
    platform: str = "posts"
    """Which source read it: a registry name of :mod:`pipeline.data.sources` (``x``, ``linkedin``, ``bluesky``, ...)."""
    line: int = 0
    """Row or line number in that file, for messages."""
    kind: str = "post"
    """``post``, ``reply`` or ``retweet`` (decided at ingest, from the raw text or the archive's fields)."""
    brief: str | None = None
    """The instruction, when the input already has one (an instruction data set); else written later."""
    system: str | None = None
    """A system prompt carried by an instruction data set."""
    likes: float | None = None
    comments: float | None = None
    reposts: float | None = None
    impressions: float | None = None
    followers: float | None = None
    posted_at: datetime | None = None
    scraped_at: datetime | None = None
    author: str | None = None
    url: str | None = None
    engagement: float | None = None
    """likes + 2*comments + 3*reposts (weights configurable); None without engagement data."""
    velocity: float | None = None
    """engagement per hour between posted_at and scraped_at."""
    follower_ratio: float | None = None
    """engagement / followers."""
    score: float = 0.5
    """Combined rank-normalised engagement score, 0-1 (0.5 = no data, neutral)."""
    gold: bool = False
    """In the top-N / top-fraction by score (the posts preference pairs are made from)."""

    @property
    def has_engagement(self) -> bool:
        return self.likes is not None or self.comments is not None or self.reposts is not None
