"""Evaluate: reward-margin scoring batched vs one pair at a time, same pairs, same model."""

from __future__ import annotations

import time

from bench.figures import Figure, emit, quick_flag
from bench.sample_data import sample_data_dir


def main() -> None:
    import torch

    from pipeline.evaluate.margins import encode_pairs, reward_margins
    from pipeline.models import load_model
    from pipeline.train.data import load_dpo_rows

    pairs_wanted = 16 if quick_flag() else 64
    rows = load_dpo_rows(sample_data_dir(), "train")[:pairs_wanted]
    model, tokenizer, _ = load_model("default")
    pairs = encode_pairs(tokenizer, rows)
    pad = tokenizer.pad_token_id
    reward_margins(model, pairs[:2], pad_id=pad)  # warm-up
    with torch.inference_mode():
        start = time.perf_counter()
        one_by_one = reward_margins(model, pairs, per_pair=True, pad_id=pad)
        per_pair_s = time.perf_counter() - start
        start = time.perf_counter()
        batched = reward_margins(model, pairs, pad_id=pad)
        batched_s = time.perf_counter() - start
    drift = max(abs(a - b) for a, b in zip(one_by_one, batched))
    emit([Figure("margins: batched / per-pair speed", per_pair_s / batched_s, 3.0,
                 details={"pairs": len(pairs), "per_pair_s": round(per_pair_s, 2), "batched_s": round(batched_s, 2),
                          "max_margin_difference": round(drift, 5)})])


if __name__ == "__main__":
    main()
