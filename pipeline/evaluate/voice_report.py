"""The voice scorecard in eval.json: every column against the author's held-out posts, the few-shot
baseline, the headline verdict in plain words, and where the other figures disagree with it.

The scorecard itself is :func:`pipeline.voice.voice_scorecard`; this module picks its inputs from a
data folder, runs it on the evaluation's generations and words what it found.
"""

from __future__ import annotations

import math
from typing import Callable

from ..serving.fewshot import COLUMN as FEW_SHOT


def voice_section(train: list[str], held_out: list[str], generic: list[str], generations: dict[str, list[str]],
                  reference_spec: str, *, seed: int = 0, bootstrap: int = 1000, max_per_side: int = 100,
                  progress: Callable[[str], None] = lambda message: None, log=print) -> dict:
    """eval.json's ``voice``: the scorecard of ``generations`` (column -> texts) against the author's
    ``held_out`` posts, floors from the shipped reference pool and ``generic`` prose, surprisal under
    ``reference_spec``; ``{"skipped": why}`` with too few texts. :func:`annotate` words it."""
    from ..voice import ReferenceModel, voice_scorecard
    from ..voice.detector import MIN_PER_SIDE
    from ..voice.reference import reference_pool

    def enough(texts: list[str]) -> bool:  # the detector counts distinct, non-blank texts
        return len({t for t in texts if t.strip()}) >= MIN_PER_SIDE

    columns = {name: texts for name, texts in generations.items() if enough(texts)}
    short = {"training posts": len(set(train)), "held-out posts": len(set(held_out)),
             **{f"distinct {name} posts": len(set(texts)) for name, texts in generations.items() if name not in columns}}
    if not (enough(train) and enough(held_out) and columns):
        return {"skipped": f"too few texts for the voice scorecard ({', '.join(f'{k} {v}' for k, v in short.items())}; "
                           f"the detector needs {MIN_PER_SIDE}+ a side: raise --limit or build with a larger test split)."}
    card = voice_scorecard(train, held_out, [row["text"] for row in reference_pool()], columns,
                           generic=generic if enough(generic) else None,
                           reference_model=ReferenceModel(reference_spec, log=log), seed=seed, bootstrap=bootstrap,
                           max_per_side=max_per_side, progress=progress)
    out = card.as_dict()
    out["reference_model"] = reference_spec
    out["profile_columns"] = list(columns)
    return out


def author_texts(posts: list[dict], split: dict, train_pairs: list[dict], held_out_pairs: list[dict]):
    """``(training posts, held-out posts)`` the scorecard compares: posts.jsonl by split, else the
    chosen posts of the training and held-out pairs (never a held-out post on the training side)."""
    from .report import split_posts

    train_rows, held_rows = split_posts(posts, split)
    held = [p["text"] for p in held_rows] or [p["chosen"][-1]["content"] for p in held_out_pairs]
    train = [p["text"] for p in train_rows] if held_rows else [p["chosen"][-1]["content"] for p in train_pairs]
    return train, [t for t in held if t not in set(train)]


def few_shot_verdicts(columns: dict) -> dict:
    """For each trained column: ``beats``, ``ties`` or ``loses to`` the few-shot column (lower AUC is
    better; a difference inside both intervals' overlap is a tie)."""
    base = columns.get(FEW_SHOT)
    if not base:
        return {}
    out = {}
    for name, column in columns.items():
        if name in ("base", FEW_SHOT):
            continue
        low, high = column["auc_interval"]
        few_low, few_high = base["auc_interval"]
        out[name] = "beats" if high < few_low else "loses to" if low > few_high else "ties"
    return out


def headline(voice: dict) -> str:
    """One plain sentence: does the most trained column sound like the author, and did it beat few-shot."""
    if "skipped" in voice:
        return f"No voice verdict: {voice['skipped']}"
    columns = voice["columns"]
    policy = next((c for c in reversed(list(columns)) if c not in ("base", FEW_SHOT)), None) or next(iter(columns))
    column = columns[policy]
    score = column.get("score")
    sounds = ("no verdict (the detector cannot tell other people from you on this data)" if score is None else
              "yes" if score >= 0.8 else "nearly" if score >= 0.5 else "partly" if score >= 0.2 else "not yet")
    if column.get("garbled"):
        sounds = "no, its text is garbled"
    times = round(column["auc"] * 10)
    told = (f"a detector tells {policy.upper()} from your posts {times} times in 10" if times > 5
            else f"a detector cannot tell {policy.upper()} from your posts better than a coin toss")
    text = f"Sounds like you: {sounds}. {told[0].upper()}{told[1:]}"
    versus = voice.get("few_shot", {}).get(policy)
    if versus:
        text += {"beats": "; it beats few-shot prompting", "ties": "; few-shot prompting does as well",
                 "loses to": "; few-shot prompting does better"}[versus]
    return text + "."


def briefs_to_separate(columns: dict, a: str = "base", b: str = "dpo") -> int | None:
    """About how many held-out briefs the AUC intervals of ``a`` and ``b`` need to stop overlapping
    (intervals narrow as 1/sqrt(n)); None when either is missing or both AUCs are equal."""
    if a not in columns or b not in columns:
        return None
    first, second = columns[a], columns[b]
    gap = abs(first["auc"] - second["auc"])
    half = sum((c["auc_interval"][1] - c["auc_interval"][0]) / 2 for c in (first, second))
    n = first["detection"]["n_other"]
    if gap < 1e-6:
        return None
    return max(1, math.ceil(n * (half / gap) ** 2))


def contradictions(voice: dict, delta: dict, margins: dict) -> list[str]:
    """Where the other figures point the other way from the detector between base and the most
    trained column: Burrows' Delta, the reward margins, the fluency guard."""
    columns = voice.get("columns") or {}
    policy = next((c for c in reversed(list(columns)) if c not in ("base", FEW_SHOT)), None)
    if "base" not in columns or policy is None:
        return []
    out = []
    for name, column in columns.items():
        if column.get("garbled") and (column.get("score") or 0) > 0:
            out.append(f"{name} scores {column['score']} on the detector but its text is garbled "
                       f"(fluency {column['fluency_ratio']}x your posts' surprisal): trust the garble flag.")
    if abs(columns[policy]["auc"] - columns["base"]["auc"]) < 0.01:
        return out  # the detector sees no difference, so nothing can point the other way
    closer = columns[policy]["auc"] < columns["base"]["auc"]
    way = "closer to" if closer else "further from"
    deltas = (delta or {}).get("delta") or {}
    if "base" in deltas and policy in deltas and (deltas[policy] < deltas["base"]) != closer:
        out.append(f"the detector says {policy.upper()} is {way} your voice than base, but Burrows' Delta "
                   f"{'rises' if closer else 'falls'} ({deltas['base']} -> {deltas[policy]}; lower = closer).")
    if margins.get("base") is not None and margins.get(policy) is not None and (margins[policy] > margins["base"]) != closer:
        out.append(f"the detector says {policy.upper()} is {way} your voice than base, but the reward margin "
                   f"{'falls' if closer else 'rises'} ({margins['base']} -> {margins[policy]}; higher = prefers your posts).")
    return out


def annotate(voice: dict, delta: dict, margins: dict) -> dict:
    """``voice`` with the few-shot comparison, the headline, the contradictions and the briefs needed."""
    if "skipped" in voice:
        return {**voice, "verdict": headline(voice), "contradictions": []}
    voice = {**voice, "few_shot": few_shot_verdicts(voice["columns"])}
    voice["verdict"] = headline(voice)
    voice["contradictions"] = contradictions(voice, delta, margins)
    voice["briefs_to_separate_base_dpo"] = briefs_to_separate(voice["columns"])
    return voice


def figure_profiles(voice: dict):
    """The voice profile figure (:func:`pipeline.voice.profile.profile_figure`) from eval.json's ``voice``."""
    from ..voice.profile import VoiceProfile, profile_figure

    def load(d: dict) -> VoiceProfile:
        return VoiceProfile(d["conventions"], d.get("distinctive") or [], d.get("distinctive_rate") or 0.0)

    return profile_figure(load(voice["author_profile"]),
                          {name: load(c["profile"]) for name, c in voice["columns"].items()})


def generic_texts(train_pairs: list[dict]) -> list[str]:
    """Generic model prose for the second floor: the rejected answers of the training pairs."""
    return [r["rejected"][-1]["content"] for r in train_pairs if r["rejected"][-1]["content"].strip()]



def scorecard_figure(voice: dict):
    """One bar per column on a 0-1 axis: the detector AUC (lower = more like the author) with its
    interval, the ceiling (your own held-out posts) and the floor (other people) marked, and each
    column's calibrated voice score written beside its bar."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    columns = voice["columns"]
    names = list(columns)
    figure, axes = plt.subplots(figsize=(8, 0.55 * len(names) + 1.6))
    aucs = [columns[n]["auc"] for n in names]
    errors = [[a - columns[n]["auc_interval"][0] for n, a in zip(names, aucs)],
              [columns[n]["auc_interval"][1] - a for n, a in zip(names, aucs)]]
    colors = ["tab:red" if columns[n]["garbled"] else "tab:blue" for n in names]
    axes.barh(names, aucs, xerr=errors, color=colors, capsize=3)
    ceiling, floor = voice["ceiling"]["auc"], voice["floor_auc"]
    axes.axvline(ceiling, color="tab:green", linestyle="--", label=f"ceiling: your own posts ({ceiling:.2f})")
    axes.axvline(floor, color="tab:gray", linestyle="--", label=f"floor: other people ({floor:.2f})")
    for y, name in enumerate(names):
        score = columns[name]["score"]
        label = "garbled" if columns[name]["garbled"] else "score n/a" if score is None else f"score {score:.2f}"
        axes.text(0.01, y, label, va="center", fontsize=8, color="white", fontweight="bold")
    axes.set_xlim(0, 1)
    axes.invert_yaxis()
    axes.set_xlabel("detector AUC vs your held-out posts (0.5 = can't tell; lower = sounds more like you)")
    axes.set_title("Does it sound like you?")
    axes.legend(loc="lower right", fontsize=8)
    figure.tight_layout()
    return figure
