"""Other people's posts: the shipped reference pool and the user's own reference voices.

The pool (``reference/pool.jsonl``) holds short public-domain texts by six real authors (sources and
licence in ``reference/LICENSE.md``). Reference voices are any files the importer reads (CSV, JSONL,
an X archive, a LinkedIn export: :func:`pipeline.data.ingest.ingest`), e.g. colleagues' or
competitors' posts; they join the scorecard's floor and the voice scorer's negatives.
"""

from __future__ import annotations

from pathlib import Path

from ..fsio import read_jsonl

POOL_PATH = Path(__file__).resolve().parent / "reference" / "pool.jsonl"


def reference_pool() -> list[dict]:
    """The shipped pool's rows: ``{"text", "author", "source", "licence"}``."""
    return read_jsonl(POOL_PATH)


def reference_texts(voices: list[str | Path] = (), *, include_pool: bool = True) -> list[str]:
    """The pool's texts (unless ``include_pool`` is off) and every post of the files in ``voices``."""
    from ..data.ingest import ingest

    texts = [row["text"] for row in reference_pool()] if include_pool else []
    for path in voices:
        texts += [post.text for post in ingest(path).posts]
    return list(dict.fromkeys(t for t in texts if t.strip()))
