"""Evaluate: reward-margin scoring, ours vs one pair at a time, same pairs, same model, one process.

* The goal figure: our scorer as ``pipeline eval`` runs it (pairs batched with each prompt computed
  once, only completion positions through the LM head, ``precision=auto``: bf16 matmuls on a CPU
  with native bf16) over the plain loop: one pair at a time, chosen and rejected each with the
  prompt, float32.
* Reported beside it, so the parts are visible: batching alone (both sides in the same precision),
  and the largest margin difference between the float32 loop and our scorer.
"""

from __future__ import annotations

import time

from bench.figures import Figure, emit, quick_flag
from bench.sample_data import sample_data_dir


def main() -> None:
    from pipeline.data.folder import DataFolder
    from pipeline.evaluate.margins import encode_pairs, reward_margins
    from pipeline.scoring import resolve_precision
    from pipeline.models import load_model

    pairs_wanted = 16 if quick_flag() else 64
    rows = DataFolder(sample_data_dir()).pairs("train")[:pairs_wanted]
    model, tokenizer, _, _ = load_model("default")
    pairs = encode_pairs(tokenizer, rows)
    pad = tokenizer.pad_token_id
    ours = resolve_precision("auto", "cpu")

    def timed(**kwargs) -> tuple[list[float], float]:
        reward_margins(model, pairs[:2], pad_id=pad, **kwargs)  # warm-up (kernels for this precision)
        start = time.perf_counter()
        margins = reward_margins(model, pairs, pad_id=pad, **kwargs)
        return margins, time.perf_counter() - start

    plain, plain_s = timed(per_pair=True, precision="float32")
    scored, ours_s = timed(precision=ours)
    same_precision, same_precision_s = timed(per_pair=True, precision=ours)
    drift = max(abs(a - b) for a, b in zip(plain, scored))
    mean_abs = sum(abs(m) for m in plain) / len(plain)
    emit([
        Figure("margins: ours / one pair at a time (float32)", plain_s / ours_s, 3.0,
               details={"pairs": len(pairs), "one_pair_float32_s": round(plain_s, 2), "ours_s": round(ours_s, 2),
                        "ours_precision": ours, "max_margin_difference": round(drift, 4),
                        "mean_abs_margin": round(mean_abs, 2)}),
        Figure(f"margins: batched / one pair at a time, both {ours}", same_precision_s / ours_s, None,
               details={"one_pair_s": round(same_precision_s, 2), "batched_s": round(ours_s, 2),
                        "max_margin_difference": round(max(abs(a - b) for a, b in zip(same_precision, scored)), 4)}),
    ])


if __name__ == "__main__":
    main()
