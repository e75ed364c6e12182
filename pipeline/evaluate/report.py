"""One evaluation report per run: every metric for base | SFT | DPO, written to ``eval.json``.

The held-out data is ``dpo/{split}.jsonl`` and ``sft/{split}.jsonl`` of a data folder (TRL
conversational or standard format). A missing split falls back to ``validation``; with neither,
a split is carved from ``train`` (seeded) and the report says so: those pairs were trained on.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

from ..data.folder import DataFolder
from ..errors import UserError
from ..fsio import atomic_write_json
from ..infer import SamplingSettings, Variants, generate_text
from ..workspace import Run
from ..models import compute_device

GOLD_FALLBACK_SHARE = 0.25


@dataclass
class EvalSettings:
    """What to evaluate and how much of it."""

    split: str = "test"
    """Held-out split of the data folder (``test`` or ``validation``)."""
    judge: str = "rule"
    """``rule`` (rubric scorer), ``none``, ``local`` (the local model as judge) or an OpenAI-compatible URL."""
    judge_model: str | None = None
    """Model name sent to a judge URL."""
    limit: int = 8
    """Held-out briefs each variant writes a post for (style, similarity, judge, See More)."""
    max_pairs: int = 0
    """Held-out pairs scored for the margins and SFT examples for perplexity (0 = all)."""
    max_new_tokens: int = 160
    """Length cap of each generated post."""
    temperature: float = 0.7
    """Sampling temperature of the generations (0 = greedy); the same seed for every variant."""
    seed: int = 0
    """Seed of generation and of a carved split."""
    batch_size: int = 8
    """Pairs (margins) or sequences (perplexity) per scoring batch (8 measured fastest on a 2-core CPU)."""
    precision: str = "auto"
    """Matmul precision of margins and perplexity: ``auto`` (bf16 where the hardware has native bf16
    matmuls, else float32), ``float32`` (exact) or ``bfloat16``."""
    max_length: int = 1024
    """Longest scored sequence in tokens (longer ones are cut, and counted)."""


@dataclass
class HeldOut:
    """The held-out data an evaluation reads, checked before any model loads."""

    data_dir: Path
    pairs: list[dict]
    """TRL conversational preference rows (margins; their prompts are the briefs)."""
    examples: list[dict]
    """``{"prompt", "completion"}`` SFT examples (perplexity)."""
    split: dict
    """Where the pairs came from: ``name``, ``source``, ``made`` (carved from train)."""
    notices: list[str]
    quoted_briefs: int = 0
    """Held-out briefs that quoted their answer (the quote is removed here; see ``answer_free_brief``)."""


def load_held_out(run_dir: str | Path | None, data_dir: str | Path | None, settings: EvalSettings) -> HeldOut:
    """Read and check the held-out split of ``data_dir`` (default: the data the run trained on)."""
    data_dir = Path(data_dir) if data_dir else _run_data_dir(run_dir)
    notices: list[str] = []
    folder = DataFolder(data_dir)
    pairs, split = folder.held_out_pairs(settings.split, settings.seed, notices)
    examples = folder.held_out_examples(split["name"], pairs, notices)
    if settings.max_pairs:
        pairs, examples = pairs[:settings.max_pairs], examples[:settings.max_pairs]
    quoted = _drop_quoted_answers(pairs, "chosen")
    _drop_quoted_answers(examples, "completion")
    if quoted:
        notices.append(f"{quoted} of {len(pairs)} held-out pair brief(s) quoted their answer (\"The angle: ...\"); the quote was removed "
                       "for this evaluation. Rebuild the data without --quote-hook for briefs that never hold it.")
    return HeldOut(data_dir, pairs, examples, split, notices, quoted)


def _drop_quoted_answers(rows: list[dict], answer_key: str) -> int:
    """Rewrite, in place, each row's last user turn without the quotes it takes from its answer."""
    from ..data.briefs import answer_free_brief

    changed = 0
    for row in rows:
        answer = row[answer_key][-1]["content"]
        turns = [dict(m) for m in row["prompt"]]
        user = max((i for i, m in enumerate(turns) if m["role"] == "user"), default=None)
        if user is None:
            continue
        cleaned = answer_free_brief(turns[user]["content"], answer)
        if cleaned != turns[user]["content"] and cleaned:
            turns[user]["content"] = cleaned
            row["prompt"] = turns
            changed += 1
    return changed


def evaluate_run(run_dir: str | Path | None = None, data_dir: str | Path | None = None,
                 settings: EvalSettings = EvalSettings(), *, variants: Variants | None = None,
                 held_out: HeldOut | None = None, out_path: str | Path | None = None,
                 progress: Callable[[str, float], None] | None = None, log=print) -> dict:
    """Evaluate the columns of ``variants`` (default: those ``run_dir`` implies) on the held-out split
    of ``data_dir`` (or ``held_out``, already read); writes ``eval.json`` (into ``run_dir`` unless
    ``out_path``) and returns it."""
    from . import judge as judging
    from .margins import encode_pairs, reward_margins, summarize as summarize_margins
    from .perplexity import encode_examples, perplexity
    from .scoring import resolve_precision
    from .seemore import SeeMore, train as train_see_more
    from .similarity import embed, similarity_report
    from .style import against_base, summarize as summarize_style

    started = time.perf_counter()
    step = _Progress(progress, log)
    if run_dir is None and out_path is None:
        raise UserError("nowhere to write eval.json: give --run RUN_DIR or --out PATH.")
    judge = judging.make_judge(settings.judge, settings.judge_model, log=log)  # bad input fails before loading
    held_out = held_out or load_held_out(run_dir, data_dir, settings)
    data_dir, pairs_rows, sft_rows = held_out.data_dir, held_out.pairs, held_out.examples
    split_info, notices = held_out.split, list(held_out.notices)
    for note in notices:
        log(f"notice: {note}")
    if variants is None:
        if run_dir is None:
            raise UserError("nothing to evaluate: give --run RUN_DIR (or --sft/--dpo with --out).")
        step("loading the base model and adapters", 0.0)
        variants = Variants.from_run(run_dir, log=log)
    notices += variants.notices
    briefs = [row["prompt"] for row in pairs_rows[:settings.limit]]

    tokenizer = variants.tokenizer
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    pairs = encode_pairs(tokenizer, pairs_rows, settings.max_length)
    examples = encode_examples(tokenizer, sft_rows, settings.max_length)
    cut = sum(c.truncated or r.truncated for c, r in pairs) + sum(e.truncated for e in examples)
    if cut:
        notices.append(f"{cut} held-out sequence(s) longer than {settings.max_length} tokens were cut to fit.")
    sampling = SamplingSettings(max_new_tokens=settings.max_new_tokens, temperature=settings.temperature,
                                seed=settings.seed)
    columns = list(variants.columns)
    margins, ppl, generations = {}, {}, {}
    for index, column in enumerate(columns):
        share = 1 / len(columns)
        with variants.use(column) as model:
            step(f"{column}: reward margins on {len(pairs)} pairs", index * share)
            margins[column] = summarize_margins(reward_margins(model, pairs, batch_size=settings.batch_size,
                                                               pad_id=pad_id, precision=settings.precision))
            step(f"{column}: perplexity on {len(examples)} posts", (index + 0.3) * share)
            ppl[column] = perplexity(model, examples, batch_size=settings.batch_size, pad_id=pad_id,
                                     precision=settings.precision)
            generations[column] = []
            for number, brief in enumerate(briefs):
                step(f"{column}: writing post {number + 1}/{len(briefs)}", (index + 0.5 + 0.5 * number / len(briefs)) * share)
                text, _ = generate_text(model, tokenizer, brief, sampling)
                generations[column].append(text)

    step("style, similarity, judge and See More", 0.95)
    gold_texts, gold_source = gold_posts(data_dir, pairs_rows)
    style = {name: summarize_style(texts) for name, texts in {**generations, "gold": gold_texts}.items()}
    if "base" in style:
        style = {name: (against_base(s, style["base"]) if name != "base" else s) for name, s in style.items()}
    gold_embeddings = embed(gold_texts)
    similarity = {column: similarity_report(embed(texts), gold_embeddings) for column, texts in generations.items()}
    brief_texts = [next((m["content"] for m in reversed(b) if m["role"] == "user"), "") for b in briefs]
    judged = judging.judge_variants(judge, brief_texts, generations) if judge and briefs else {"judge": "none"}
    posts = DataFolder(data_dir).posts()
    proxy = train_see_more(posts, seed=settings.seed) if posts else {"skipped": "no posts.jsonl in the data folder."}
    if isinstance(proxy, SeeMore):
        see_more = {"classifier": proxy.report,
                    "probability": {name: proxy.probability(texts) for name, texts in {**generations, "gold": gold_texts}.items()}}
    else:
        see_more = {"classifier": proxy, "probability": {}}

    report = {
        "run": str(Path(run_dir).resolve()) if run_dir else None,
        "data": str(data_dir),
        "split": split_info,
        "base_model": variants.base_spec,
        "columns": variants.describe()["columns"],
        "margins": {c: m["mean"] for c, m in margins.items()},
        "chosen_win_rate": {c: m["chosen_win_rate"] for c, m in margins.items()},
        "pairs": len(pairs),
        "briefs_quoting_answer": held_out.quoted_briefs,
        "scoring_precision": resolve_precision(settings.precision, compute_device(variants.model).type),
        "perplexity": {c: round(v, 4) if v is not None else None for c, v in ppl.items()},
        "style": style,
        "similarity": similarity,
        "gold": {"posts": len(gold_texts), "source": gold_source},
        "judge": judged,
        "see_more": see_more,
        "samples": [{"brief": brief_texts[i], **{c: generations[c][i] for c in generations}}
                    for i in range(min(3, len(briefs)))],
        "settings": asdict(settings),
        "notices": notices,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "elapsed_s": round(time.perf_counter() - started, 1),
    }
    target = Path(out_path) if out_path else Path(run_dir) / "eval.json"
    atomic_write_json(target, report)
    report["eval_path"] = str(target)
    step("done", 1.0)
    return report


class _Progress:
    def __init__(self, callback, log):
        self.callback, self.log = callback, log

    def __call__(self, message: str, fraction: float) -> None:
        if self.callback:
            self.callback(message, fraction)
        else:
            self.log(f"[{fraction:4.0%}] {message}")


# ----------------------------------------------------------------------------- held-out data


def gold_posts(data_dir: Path, pairs: list[dict]) -> tuple[list[str], str]:
    """The gold set: posts marked ``gold`` in posts.jsonl, else its top quarter by score, else the
    chosen posts of the held-out pairs."""
    posts = DataFolder(data_dir).posts()
    gold = [p["text"] for p in posts if p.get("gold") and isinstance(p.get("text"), str)]
    if gold:
        return gold, "posts.jsonl gold"
    scored = sorted((p for p in posts if isinstance(p.get("score"), (int, float)) and isinstance(p.get("text"), str)),
                    key=lambda p: -p["score"])
    if scored:
        return [p["text"] for p in scored[:max(1, int(len(scored) * GOLD_FALLBACK_SHARE))]], "posts.jsonl top quarter by score"
    return [p["chosen"][-1]["content"] for p in pairs], "chosen posts of the held-out pairs"


def _run_data_dir(run_dir: str | Path | None) -> Path:
    if run_dir is None:
        raise UserError("no data folder: pass --data DIR.")
    run = Run(Path(run_dir))
    if run.data_dir is None:
        raise UserError(f"{run.config_path}: no data folder recorded; pass --data DIR.")
    return run.data_dir
