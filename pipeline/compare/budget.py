"""How many new tokens a Compare answer gets by default: enough for the author's own posts.

A fixed small budget cuts most posts mid-sentence, and a reader then judges the cut, not the voice.
The budget is the 90th percentile of the project's posts (the SFT training completions) in the
default model's tokens, with a tenth more room for the end of the turn, rounded up to a multiple
of 16 and kept between ``FLOOR`` and ``CAP``.
"""

from __future__ import annotations

import math
from pathlib import Path

from ..data.folder import DataFolder

FLOOR = 64
CAP = 512
"""The Compare slider's maximum: three columns of longer answers take minutes on a CPU."""
PERCENTILE = 0.9


def percentile(values: list[int], q: float) -> int:
    """The nearest-rank ``q`` percentile of ``values`` (not empty)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def budget_for(lengths: list[int]) -> int:
    """The default for posts of these token ``lengths``; ``FLOOR`` when there are none."""
    if not lengths:
        return FLOOR
    room = math.ceil(percentile(lengths, PERCENTILE) * 1.1 / 16) * 16
    return max(FLOOR, min(CAP, room))


def new_token_budget(data_dir: str | Path, log=print) -> int | None:
    """The default max new tokens for the project whose dataset is ``data_dir``; None without one."""
    folder = DataFolder(data_dir)
    if not folder.split_path("sft", "train").is_file():
        return None
    from ..models import ensure_default_model, load_tokenizer

    posts = [example["completion"][-1]["content"] for example in folder.sft_examples("train")]
    tokenizer = load_tokenizer(ensure_default_model(log=log))
    lengths = [len(ids) for ids in tokenizer(posts, add_special_tokens=False)["input_ids"]] if posts else []
    return budget_for(lengths)
