"""Quality checks before training (seed 002's preference-set checks, plus token limits).

Label consistency (chosen == rejected is an error; such pairs are removed), containment (one answer
holding the other whole, e.g. the post with a closer appended: DPO then learns where to stop, not
the voice), length balance
(chosen vs rejected mean/median; more than 20% apart teaches "length wins", not the voice),
duplicate prompts, examples over the model's token limit, how separable chosen and rejected are by
trivial features (a model that can tell them apart by line breaks, a stock opener or length learns
that instead of the voice), and a sample rendered with the model's chat template so the special
tokens and the system prompt can be checked by eye.
"""

from __future__ import annotations

import random
import statistics
from collections import Counter

from .briefs import normalise_space

IMBALANCE_LIMIT = 0.2
SEPARABILITY_LIMIT = 0.9
"""Warn when a logistic regression on trivial features tells chosen from rejected with a
cross-validated ROC AUC above this."""
TRIVIAL_FEATURES = ("line_breaks", "bullets", "stock_opener", "chars")


def split_identical(pairs: list[dict]) -> tuple[list[dict], int]:
    """Pairs whose chosen and rejected differ, and how many did not (removed)."""
    kept = [p for p in pairs if normalise_space(p["chosen"][-1]["content"]) != normalise_space(p["rejected"][-1]["content"])]
    return kept, len(pairs) - len(kept)


def containment(pairs: list[dict], max_examples: int = 5) -> dict:
    """Pairs where one answer contains the other whole (case and spacing ignored): how many, a few
    examples, and a ``warning`` when there are any."""
    from .negatives import contains_either

    found = [p for p in pairs if contains_either(p["chosen"][-1]["content"], p["rejected"][-1]["content"])]
    report = {"pairs": len(found), "share": round(len(found) / max(1, len(pairs)), 3),
              "examples": [{"chosen": p["chosen"][-1]["content"][:200], "rejected": p["rejected"][-1]["content"][:200]}
                           for p in found[:max_examples]], "warning": None}
    if found:
        report["warning"] = (f"{len(found)} of {len(pairs)} pairs have one answer inside the other (e.g. the post with "
                             "a line appended): DPO learns where to stop, not the voice; use --negatives base or "
                             "teacher.")
    return report


def _summary(values: list[float]) -> dict:
    if not values:
        return {"mean": 0.0, "median": 0.0, "max": 0}
    return {"mean": round(statistics.fmean(values), 1), "median": float(statistics.median(values)), "max": max(values)}


LENGTH_ADVICE = {
    "rule": "rule negatives are trimmed to the post's length already, so a few pairs differ a lot: look at the "
            "longest pairs in dpo/train.jsonl, or train with a length-normalised loss (--loss ipo or simpo).",
    "teacher": "use --negatives rule (length-matched), ask the teacher for rewrites of the post's length, or "
               "train with a length-normalised loss (--loss ipo or simpo).",
    "base": "use --negatives rule (length-matched), or train with a length-normalised loss (--loss ipo or simpo).",
}
"""What to do about a length imbalance, by the negatives method that made the pairs."""


def length_balance(pairs: list[dict], negatives: str = "base") -> dict:
    """Chosen vs rejected length in characters; ``warning`` when they differ by more than 20%, with
    advice for the ``negatives`` method that made the rejected answers."""
    chosen = [len(p["chosen"][-1]["content"]) for p in pairs]
    rejected = [len(p["rejected"][-1]["content"]) for p in pairs]
    c, r = _summary(chosen), _summary(rejected)
    ratio_mean = round(r["mean"] / c["mean"], 3) if c["mean"] else 0.0
    ratio_median = round(r["median"] / c["median"], 3) if c["median"] else 0.0
    imbalance = max(abs(1 - ratio_mean), abs(1 - ratio_median)) if pairs else 0.0
    report = {"chosen_chars": c, "rejected_chars": r, "ratio_mean": ratio_mean, "ratio_median": ratio_median,
              "imbalance": round(imbalance, 3), "warning": None}
    if imbalance > IMBALANCE_LIMIT:
        longer = "rejected" if ratio_mean > 1 else "chosen"
        report["warning"] = (f"{longer} answers are {imbalance:.0%} longer than the others (limit {IMBALANCE_LIMIT:.0%}): "
                             f"DPO may learn length instead of voice; {LENGTH_ADVICE[negatives]}")
    return report


def trivial_features(text: str) -> list[float]:
    """``TRIVIAL_FEATURES`` of one answer."""
    from .briefs import BULLET
    from .negatives import is_stock_opener

    return [text.count("\n"), sum(bool(BULLET.match(line)) for line in text.splitlines()),
            float(is_stock_opener(text)), len(text)]


def separability(pairs: list[dict], folds: int = 5, seed: int = 0) -> dict:
    """How well ``TRIVIAL_FEATURES`` alone tell chosen (1) from rejected (0): the ROC AUC of a
    logistic regression, cross-validated over ``folds`` folds that keep a pair's two answers together;
    ``warning`` above ``SEPARABILITY_LIMIT``. Also the share of each side with a line break or a stock
    opener."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import GroupKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    texts = {"chosen": [p["chosen"][-1]["content"] for p in pairs],
             "rejected": [p["rejected"][-1]["content"] for p in pairs]}
    report: dict = {"features": list(TRIVIAL_FEATURES), "limit": SEPARABILITY_LIMIT, "auc": None, "warning": None}
    for side, items in texts.items():
        report[f"{side}_with_line_breaks"] = round(sum("\n" in t for t in items) / max(1, len(items)), 3)
        report[f"{side}_with_stock_opener"] = round(sum(trivial_features(t)[2] for t in items) / max(1, len(items)), 3)
    if len(pairs) < 2 * folds:
        report["skipped"] = f"{len(pairs)} pairs; the check needs {2 * folds}+."
        return report
    x = np.array([trivial_features(t) for t in texts["chosen"] + texts["rejected"]], dtype=np.float64)
    y = np.array([1] * len(pairs) + [0] * len(pairs))
    groups = np.tile(np.arange(len(pairs)), 2)
    order = np.random.default_rng(seed).permutation(len(pairs))
    groups = order[groups]  # GroupKFold splits by group id: shuffle which pairs share a fold
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    scores = cross_val_predict(model, x, y, groups=groups, cv=GroupKFold(folds), method="predict_proba")[:, 1]
    report["auc"] = round(float(roc_auc_score(y, scores)), 4)
    if report["auc"] > SEPARABILITY_LIMIT:
        report["warning"] = (f"chosen and rejected are separable by line breaks, bullets, a stock opener and length "
                             f"alone (cross-validated AUC {report['auc']:.2f} > {SEPARABILITY_LIMIT}): DPO may learn "
                             "those instead of the voice; use negatives that share the posts' layout (--negatives "
                             "base, or a teacher rewrite).")
    return report


def duplicate_prompts(prompts: list[str], max_examples: int = 5) -> dict:
    """Prompts given more than once (they are kept, in one split)."""
    counts = Counter(normalise_space(p) for p in prompts)
    repeated = {p: n for p, n in counts.items() if n > 1}
    return {"prompts_repeated": len(repeated), "extra_copies": sum(n - 1 for n in repeated.values()),
            "examples": [{"prompt": p, "times": n} for p, n in list(repeated.items())[:max_examples]]}


def render(tokenizer, messages: list[dict]) -> str:
    """The text the model sees (its chat template; plain paragraphs when it has none)."""
    if getattr(tokenizer, "chat_template", None):
        return tokenizer.apply_chat_template(messages, tokenize=False)
    return "\n\n".join(m["content"] for m in messages)


def token_lengths(tokenizer, conversations: list[list[dict]]) -> list[int]:
    texts = [render(tokenizer, c) for c in conversations]
    return [len(ids) for ids in tokenizer(texts, add_special_tokens=False)["input_ids"]] if texts else []


def token_limits(tokenizer, sft_rows: list[dict], dpo_rows: list[dict], max_tokens: int) -> dict:
    """Examples longer than ``max_tokens`` with the model's tokenizer, and how much would be cut."""
    report = {"max_tokens": max_tokens}
    sets = {"sft": [r["messages"] for r in sft_rows],
            "dpo_chosen": [r["prompt"] + r["chosen"] for r in dpo_rows],
            "dpo_rejected": [r["prompt"] + r["rejected"] for r in dpo_rows]}
    for name, conversations in sets.items():
        lengths = token_lengths(tokenizer, conversations)
        over = [n - max_tokens for n in lengths if n > max_tokens]
        report[name] = {"tokens": _summary(lengths), "over_limit": len(over), "tokens_cut": sum(over)}
    return report


def rendered_samples(tokenizer, sft_rows: list[dict], k: int = 5, seed: int = 0) -> list[dict]:
    """``k`` random SFT examples as the model sees them, with token counts."""
    picks = random.Random(seed).sample(sft_rows, min(k, len(sft_rows)))
    lengths = token_lengths(tokenizer, [r["messages"] for r in picks])
    return [{"rendered": render(tokenizer, r["messages"]), "tokens": n} for r, n in zip(picks, lengths)]
