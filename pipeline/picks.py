"""Human picks from Compare, and comparison exports.

A pick of the best column appends one preference pair per other column to the workspace's
``preferences.jsonl`` (TRL conversational preference rows plus ``source: "human"`` and ``time``;
the DPO tab can add them to its data: a person's ranking is the strongest preference signal). A tie carries no preference, so
it goes to ``preferences.ties.jsonl`` beside it, where it is kept but never trained on. Every
row is appended and fsynced, so a restart loses nothing already picked.

**Blind picks**: Compare can show the answers shuffled and unlabeled (:func:`blind_order`); such a
pick stores what was on screen (``shown``: the column order and the picked position), so
:func:`pick_report` can check position balance (a picker who favours the left column, not a
variant) and, given an LLM judge, its agreement with the human (Cohen's kappa). Each pick also
records the split its brief belongs to (``split``); DPO training leaves out picks on validation
and test briefs (:func:`held_out_prompts`), so evaluation stays held out.
"""

from __future__ import annotations

import math
import random
import time
from pathlib import Path

from .errors import UserError
from .fsio import append_jsonl, atomic_write_jsonl, atomic_write_text, read_jsonl
from .workspace import Workspace

TIE = "tie"
HELD_OUT_SPLITS = ("validation", "test")


def blind_order(columns: tuple[str, ...] = ("base", "sft", "dpo"), rng: random.Random | None = None) -> list[str]:
    """The columns in a random order, for a blind comparison."""
    order = list(columns)
    (rng or random.Random()).shuffle(order)
    return order


def _user_turn(messages) -> str:
    if isinstance(messages, str):
        return " ".join(messages.split())
    return " ".join(next((m.get("content", "") for m in reversed(messages or []) if m.get("role") == "user"), "").split())


def held_out_prompts(data_dir: Path) -> dict[str, str]:
    """Normalised briefs of the data folder's validation and test splits -> split name."""
    from .data.folder import DataFolder

    folder = DataFolder(Path(data_dir))
    out: dict[str, str] = {}
    for split in HELD_OUT_SPLITS:
        out.update({_user_turn(brief): split for brief in folder.briefs(split)})
        out.update({_user_turn(pair["prompt"]): split for pair in folder.pairs(split, required=False)})
    out.pop("", None)
    return out


def split_of_brief(data_dir: Path | None, prompt) -> str | None:
    """``validation``/``test`` when ``prompt`` is a held-out brief of ``data_dir``, else None."""
    return held_out_prompts(data_dir).get(_user_turn(prompt)) if data_dir else None


def ties_path(workspace: Workspace) -> Path:
    return workspace.preferences_path.with_name("preferences.ties.jsonl")


def record_pick(workspace: Workspace, prompt: str, answers: dict[str, str], best: str, *,
                system: str | None = None, shown: list[str] | None = None) -> str:
    """Record that column ``best`` (or ``"tie"``) answered ``prompt`` best among ``answers``
    (column -> text). ``shown``: the column order on screen of a blind comparison (stored with the
    picked position). Returns a one-line summary of what was saved."""
    if not prompt or not prompt.strip():
        raise UserError("the brief is empty: generate answers for a brief before picking.")
    answers = {column: text for column, text in answers.items() if text and text.strip()}
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    messages = ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": prompt}]
    split = split_of_brief(workspace.data_dir, prompt)
    extra: dict = {"split": split}
    if shown:
        extra["shown"] = {"order": list(shown), "position": shown.index(best) if best in shown else None}
    if best == TIE:
        if len(answers) < 2:
            raise UserError("a tie needs at least two answers: generate them first.")
        append_jsonl(ties_path(workspace), {"prompt": messages, "answers": answers, "source": "human", "time": now,
                                            **extra})
        return f"tie between {', '.join(answers)} kept in {ties_path(workspace).name} (not used for training)"
    if best not in answers:
        raise UserError(f"column {best!r} has no answer to pick: generate first, or pick one of "
                        f"{', '.join(answers) or 'the columns'}.")
    rejected = [c for c in answers if c != best and answers[c].strip() != answers[best].strip()]
    if not rejected:
        raise UserError("the other columns gave no different answer, so this pick teaches nothing; pick 'tie'.")
    for column in rejected:
        append_jsonl(workspace.preferences_path, {
            "prompt": messages,
            "chosen": [{"role": "assistant", "content": answers[best]}],
            "rejected": [{"role": "assistant", "content": answers[column]}],
            "source": "human", "time": now, "columns": {"chosen": best, "rejected": column}, **extra,
        })
    total = len(read_jsonl(workspace.preferences_path))
    note = (f"; this brief is from the {split} split, so DPO training leaves it out (it stays held out for "
            "evaluation)") if split else ""
    return (f"{best} preferred over {', '.join(rejected)}: {len(rejected)} pair(s) added to "
            f"{workspace.preferences_path.name} ({total} in total){note}")


def trainable_picks(preferences_path: Path, data_dir: Path | None) -> tuple[list[dict], int]:
    """The human picks DPO may train on, and how many were left out because their brief is in
    ``data_dir``'s validation or test split (or was recorded so): training on them would leak into
    the evaluation."""
    from .data.folder import preference_pair

    path = Path(preferences_path)
    held = held_out_prompts(data_dir) if data_dir else {}
    kept, excluded = [], 0
    for line, row in enumerate(read_jsonl(path) if path.is_file() else [], start=1):
        pair = preference_pair(row, path, line)
        if _user_turn(pair["prompt"]) in held or row.get("split") in HELD_OUT_SPLITS:
            excluded += 1
        else:
            kept.append(pair)
    return kept, excluded


def pick_report(preferences_path: Path, data_dir: Path | None = None, judge=None, seed: int = 0) -> dict:
    """What the human picks say about themselves: how many, how many are on held-out briefs (left out
    of DPO training), the position balance of blind picks (share of picks per position on screen;
    a chi-square p-value against "no position preference") and, with an LLM ``judge``, Cohen's
    kappa between the judge's verdicts and the human picks on the same pairs."""
    rows = read_jsonl(preferences_path) if Path(preferences_path).is_file() else []
    picks = {(r.get("time"), _user_turn(r.get("prompt"))): r for r in rows}  # one pick = one row per rejected column
    blind = [r["shown"] for r in picks.values() if isinstance(r.get("shown"), dict)
             and isinstance(r["shown"].get("position"), int)]
    report: dict = {"pairs": len(rows), "picks": len(picks),
                    "held_out_pairs_excluded": trainable_picks(preferences_path, data_dir)[1],
                    "blind_picks": len(blind)}
    if blind:
        width = max(len(s["order"]) for s in blind)
        counts = [sum(s["position"] == i for s in blind) for i in range(width)]
        report["position_counts"] = {str(i + 1): n for i, n in enumerate(counts)}
        report["position_share"] = {str(i + 1): round(n / len(blind), 4) for i, n in enumerate(counts)}
        if len(blind) >= 2:
            from scipy.stats import chisquare

            report["position_p_value"] = round(float(chisquare(counts).pvalue), 4)
    if judge is not None and getattr(judge, "name", "rule") != "rule" and rows:
        report["judge_agreement"] = judge_agreement(rows, judge, seed)
    return report


def judge_agreement(rows: list[dict], judge, seed: int = 0) -> dict:
    """Cohen's kappa between ``judge`` and the humans on the picked pairs: each pair is shown to the
    judge as A/B in a seeded random orientation (both orders are asked, see ``Judge.verdicts``);
    the human's label is the side holding their chosen answer."""
    from sklearn.metrics import cohen_kappa_score

    rng = random.Random(seed)
    briefs, a, b, human = [], [], [], []
    for row in rows:
        chosen, rejected = row["chosen"][-1]["content"], row["rejected"][-1]["content"]
        flip = rng.random() < 0.5
        briefs.append(_user_turn(row["prompt"]))
        a.append(rejected if flip else chosen)
        b.append(chosen if flip else rejected)
        human.append("b" if flip else "a")
    verdicts, agreed = judge.verdicts(briefs, a, b)
    labels = sorted(set(human) | set(verdicts))
    kappa = cohen_kappa_score(human, verdicts, labels=labels) if len(labels) > 1 else None
    kappa = None if kappa is None or math.isnan(kappa) else round(float(kappa), 4)
    return {"judge": judge.name, "pairs": len(rows), "kappa": kappa,
            "agreement": round(sum(h == v for h, v in zip(human, verdicts)) / len(rows), 4),
            "judge_ties": verdicts.count("tie"), "order_agreement": round(agreed, 4)}


def export_comparison(rows: list[dict], jsonl_path: str | Path, md_path: str | Path | None = None,
                      columns: tuple[str, ...] = ("base", "sft", "dpo")) -> dict:
    """Write a comparison batch as JSONL (one row per brief) and Markdown, atomically.

    A row is ``{"prompt": str, column: text, ..., "stats": {column: GenerationStats.as_dict()}}``.
    """
    if not rows:
        raise UserError("nothing to export: generate a comparison first.")
    jsonl_path = Path(jsonl_path)
    md_path = Path(md_path) if md_path else jsonl_path.with_suffix(".md")
    atomic_write_jsonl(jsonl_path, rows)
    parts = ["# Comparison: " + " | ".join(c for c in columns if any(c in r for r in rows)), ""]
    for number, row in enumerate(rows, start=1):
        parts += [f"## {number}. {row['prompt']}", ""]
        for column in columns:
            if column not in row:
                continue
            stats = (row.get("stats") or {}).get(column) or {}
            parts += [f"### {column}", "", row[column].strip() or "_(empty)_", ""]
            if stats:
                parts += [f"_{stats.get('new_tokens', 0)} tokens, {stats.get('tokens_per_s', 0)} tok/s, "
                          f"{stats.get('first_token_s', 0)} s to first token_", ""]
    atomic_write_text(md_path, "\n".join(parts))
    return {"jsonl": str(jsonl_path), "markdown": str(md_path), "rows": len(rows)}


# ----------------------------------------------------------------------------- "which one is real?"


def guesses_path(workspace: Workspace) -> Path:
    """Where the blind real-or-generated guesses are kept (beside the picks; never trained on)."""
    return workspace.preferences_path.with_name("preferences.which-real.jsonl")


def record_guess(workspace: Workspace, trial, generated: str, column: str, guess: int) -> dict:
    """Store one "which one is real?" guess: ``guess`` is the position (0 or 1) the person called real
    for :class:`pipeline.compare.which_is_real.Trial` ``trial`` with ``column``'s post ``generated``.
    Returns the stored row."""
    if guess not in (0, 1):
        raise UserError(f"a guess is position 0 or 1 (got {guess!r}).")
    if not generated.strip():
        raise UserError("the generated post is empty: start a new trial.")
    order = ["real", column] if trial.real_position == 0 else [column, "real"]
    row = {"prompt": trial.brief, "answers": {"real": trial.real, column: generated}, "column": column,
           "shown": {"order": order, "position": guess}, "correct": guess == trial.real_position,
           "trial": trial.number, "split": trial.split, "source": "human",
           "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    append_jsonl(guesses_path(workspace), row)
    return row


def guess_report(path: Path, column: str | None = None) -> dict:
    """Accuracy of the stored guesses (of ``column``'s posts, or all) with a 95% Wilson interval and
    the sentence that says it; chance is 0.5, so an interval that holds 0.5 means the column passed."""
    rows = [r for r in (read_jsonl(path) if Path(path).is_file() else []) if column in (None, r.get("column"))]
    n, correct = len(rows), sum(bool(r.get("correct")) for r in rows)
    low, high = wilson_interval(correct, n)
    report = {"trials": n, "correct": correct, "accuracy": round(correct / n, 4) if n else None,
              "low": low, "high": high}
    if not n:
        return {**report, "text": "no guesses yet."}
    verdict = ("you can tell them apart" if low > 0.5 else "you cannot reliably tell them apart" if high >= 0.5
               else "you pick the generated one as real more often than chance")
    return {**report, "text": f"you told them apart {correct} of {n} times "
                              f"({correct / n:.0%}, 95% interval {low:.0%}-{high:.0%}; chance is 50%): {verdict}."}


def wilson_interval(successes: int, n: int, z: float = 1.959964) -> tuple[float | None, float | None]:
    """The Wilson score interval of a proportion (95% by default); None, None for no trials."""
    if n == 0:
        return None, None
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return round(max(0.0, centre - half), 4), round(min(1.0, centre + half), 4)
