"""One evaluation report per run: every metric for base | SFT | DPO, written to ``eval.json``.

The held-out data is ``dpo/{split}.jsonl`` and ``sft/{split}.jsonl`` of a data folder (TRL
conversational or standard format). A missing split falls back to ``validation``; with neither,
a split is carved from ``train`` (seeded) and the report says so: those pairs were trained on.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

from ..data.folder import DataFolder
from ..errors import UserError
from ..fsio import atomic_write_json
from ..serving.variants import Variants
from ..generation import SamplingSettings
from ..workspace import Run
from ..models import compute_device


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
    """Held-out briefs each variant writes a post for (style, similarity, judge, See More, voice rate):
    the held-out pairs' briefs first, then those of the other held-out posts (``sft/{split}``)."""
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
    authorship_answers: int = 16
    """Base-model answers to training-split briefs added to the generic side of the authorship
    test's training data (with the training negatives); 0 = the negatives only."""


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


def load_held_out(run_dir: str | Path | None, data_dir: str | Path | None, settings: EvalSettings) -> HeldOut:
    """Read and check the held-out split of ``data_dir`` (default: the data the run trained on)."""
    data_dir = Path(data_dir) if data_dir else _run_data_dir(run_dir)
    notices: list[str] = []
    folder = DataFolder(data_dir)
    pairs, split = folder.held_out_pairs(settings.split, settings.seed, notices)
    examples = folder.held_out_examples(split["name"], pairs, notices)
    if settings.max_pairs:
        pairs, examples = pairs[:settings.max_pairs], examples[:settings.max_pairs]
    return HeldOut(data_dir, pairs, examples, split, notices)


def evaluate_run(run_dir: str | Path | None = None, data_dir: str | Path | None = None,
                 settings: EvalSettings = EvalSettings(), *, variants: Variants | None = None,
                 held_out: HeldOut | None = None, out_path: str | Path | None = None,
                 progress: Callable[[str, float], None] | None = None, log=print) -> dict:
    """Evaluate the columns of ``variants`` (default: those ``run_dir`` implies) on the held-out split
    of ``data_dir`` (or ``held_out``, already read); writes ``eval.json`` (into ``run_dir`` unless
    ``out_path``) and returns it."""
    from . import judge as judging
    from .authorship import burrows_delta, train as train_authorship
    from .margins import encode_pairs, margins_with_tokens, summarize as summarize_margins
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
    briefs = generation_briefs(pairs_rows, sft_rows, settings.limit)

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
    generators = rejected_generators(data_dir, "base" in columns)
    other_rows = pairs_rows if generators["margins_other_generator"] else []
    train_briefs = authorship_briefs(data_dir, settings.authorship_answers) if "base" in columns else []
    margins, margins_other, ppl, base_train_answers = {}, {}, {}, []
    generations: dict[str, list[str]] = {column: [] for column in columns}
    for number, brief in enumerate(briefs):  # every column's post in one batch: about one column's time
        step(f"writing post {number + 1}/{len(briefs)} ({', '.join(columns)} in one batch)", 0.4 * number / len(briefs))
        for column, text in variants.generate_columns(brief, sampling).items():
            generations[column].append(text)
    for number, brief in enumerate(train_briefs):
        step(f"base: answering training brief {number + 1}/{len(train_briefs)} (authorship test)",
             0.4 + 0.1 * number / len(train_briefs))
        base_train_answers.append(variants.generate("base", brief, sampling)[0])
    for index, column in enumerate(columns):
        share = 0.45 / len(columns)
        with variants.use(column) as model:
            step(f"{column}: reward margins on {len(pairs)} pairs", 0.5 + index * share)
            margins[column] = summarize_margins(*margins_with_tokens(model, pairs, batch_size=settings.batch_size,
                                                                     pad_id=pad_id, precision=settings.precision),
                                                seed=settings.seed)
            if other_rows and generations.get("base"):
                rows = other_generator_pairs(other_rows, briefs, generations["base"],
                                             generators["margins_other_generator"])
                margins_other[column] = summarize_margins(*margins_with_tokens(
                    model, encode_pairs(tokenizer, rows, settings.max_length), batch_size=settings.batch_size,
                    pad_id=pad_id, precision=settings.precision), seed=settings.seed)
            step(f"{column}: perplexity on {len(examples)} posts", 0.5 + (index + 0.5) * share)
            ppl[column] = perplexity(model, examples, batch_size=settings.batch_size, pad_id=pad_id,
                                     precision=settings.precision)

    step("style, similarity, judge and See More", 0.95)
    gold_texts, gold_source = gold_posts(data_dir, pairs_rows, split_info)
    style = {name: summarize_style(texts) for name, texts in {**generations, "gold": gold_texts}.items()}
    if "base" in style:
        style = {name: (against_base(s, style["base"]) if name != "base" else s) for name, s in style.items()}
    gold_embeddings = embed(gold_texts)
    similarity = {column: similarity_report(embed(texts), gold_embeddings) for column, texts in generations.items()}
    brief_texts = [next((m["content"] for m in reversed(b) if m["role"] == "user"), "") for b in briefs]
    judged = judging.judge_variants(judge, brief_texts, generations) if judge and briefs else {"judge": "none"}
    posts = DataFolder(data_dir).posts()
    train_posts, test_posts = split_posts(posts, split_info)
    proxy = (train_see_more(train_posts, seed=settings.seed, held_out=test_posts) if posts
             else {"skipped": "no posts.jsonl in the data folder."})
    if isinstance(proxy, SeeMore):
        held_texts = [p["text"] for p in test_posts] or gold_texts
        see_more = {"classifier": proxy.report,
                    "probability": {name: proxy.probability(texts)
                                    for name, texts in {**generations, "gold": held_texts}.items()}}
    else:
        see_more = {"classifier": proxy, "probability": {}}
    step("authorship test and Burrows' Delta", 0.97)
    real_train, generic_train, sources = authorship_training_texts(data_dir, train_posts, base_train_answers)
    real_held = [p["text"] for p in test_posts]
    authorship = train_authorship(real_train, generic_train, real_held, generations.get("base", []), sources)
    if isinstance(authorship, dict):
        authorship_report, voice_rate = authorship, {}
    else:
        authorship_report = authorship.report
        voice_rate = {column: authorship.voice_rate(texts, settings.seed) for column, texts in generations.items()}
    delta = burrows_delta(real_train + generic_train, real_held, generations)
    human_picks = None
    if run_dir is not None:
        from ..picks import pick_report
        from ..workspace import Workspace

        preferences = Workspace.of_run(Run(Path(run_dir).resolve())).preferences_path
        if preferences.is_file():
            human_picks = pick_report(preferences, data_dir, judge if isinstance(judge, judging.TeacherJudge) else None,
                                      settings.seed)

    report = {
        "run": str(Path(run_dir).resolve()) if run_dir else None,
        "data": str(data_dir),
        "split": split_info,
        "base_model": variants.base_spec,
        "columns": variants.describe()["columns"],
        "margins": {c: m["mean"] for c, m in margins.items()},
        "chosen_win_rate": {c: m["chosen_win_rate"] for c, m in margins.items()},
        "margins_detail": margins,
        "margins_other_generator": margins_other,
        "rejected_generators": generators,
        "pairs": len(pairs),
        "scoring_precision": resolve_precision(settings.precision, compute_device(variants.model).type),
        "perplexity": {c: round(v, 4) if v is not None else None for c, v in ppl.items()},
        "style": style,
        "similarity": similarity,
        "gold": {"posts": len(gold_texts), "source": gold_source},
        "authorship": authorship_report,
        "voice_rate": voice_rate,
        "burrows_delta": delta,
        "human_picks": human_picks,
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


def gold_posts(data_dir: Path, pairs: list[dict], split: dict | None = None) -> tuple[list[str], str]:
    """The gold set, held-out posts only: the posts of the evaluated split in posts.jsonl (those
    marked ``gold`` among them, else all of them), else the chosen posts of the held-out pairs."""
    _, held = split_posts(DataFolder(data_dir).posts(), split or {"name": "test"})
    gold = [p["text"] for p in held if p.get("gold")]
    if gold:
        return gold, f"posts.jsonl gold, {held[0]['split']} split"
    if held:
        return [p["text"] for p in held], f"posts.jsonl, {held[0]['split']} split"
    return [p["chosen"][-1]["content"] for p in pairs], "chosen posts of the held-out pairs"


def split_posts(posts: list[dict], split: dict) -> tuple[list[dict], list[dict]]:
    """posts.jsonl rows with text: (training split, evaluated split); no held-out posts when the
    evaluated pairs were carved from train or the rows have no ``split``."""
    rows = [p for p in posts if isinstance(p.get("text"), str) and p["text"].strip()]
    if split.get("made") or not any("split" in p for p in rows):
        return rows, []
    return ([p for p in rows if p.get("split") == "train"], [p for p in rows if p.get("split") == split["name"]])


def rejected_generators(data_dir: Path, have_base: bool) -> dict:
    """Who wrote the rejected answers of the held-out pairs (the training negatives' generator, from
    report.json) and of the second margin table (another generator: the base model's answers to the
    held-out briefs, or the rule rewrite when training used base answers)."""
    report = DataFolder(data_dir).report_path
    try:
        trained = (json.loads(report.read_text()).get("teacher") or {}).get("negatives") if report.is_file() else None
    except (OSError, ValueError):
        trained = None
    other = "rule" if trained == "base" else "base" if have_base else None
    return {"margins": trained or "unknown (no report.json)", "margins_other_generator": other}


def generation_briefs(pairs: list[dict], examples: list[dict], limit: int) -> list[list[dict]]:
    """Up to ``limit`` distinct held-out prompts: the pairs' first, then the other held-out posts'."""
    seen: dict[str, list[dict]] = {}
    for row in pairs + examples:
        seen.setdefault(json.dumps(row["prompt"], sort_keys=True), row["prompt"])
    return list(seen.values())[:limit]


def other_generator_pairs(rows: list[dict], briefs: list[list[dict]], base_answers: list[str],
                          generator: str) -> list[dict]:
    """The held-out pairs whose brief was generated for, with their rejected answer from ``generator``
    (``base``: the base model's answer to that brief; ``rule``: the rule rewrite of the chosen post)."""
    from ..data.negatives import rule_rewrite

    answer_of = {json.dumps(b, sort_keys=True): a for b, a in zip(briefs, base_answers)}
    out = []
    for row in rows:
        answer = answer_of.get(json.dumps(row["prompt"], sort_keys=True))
        rejected = rule_rewrite(row["chosen"][-1]["content"]) if generator == "rule" else answer
        if answer is not None and rejected.strip():
            out.append({**row, "rejected": [{"role": "assistant", "content": rejected}]})
    return out


def authorship_briefs(data_dir: Path, limit: int) -> list[list[dict]]:
    """Up to ``limit`` training-split briefs for base answers."""
    rows = DataFolder(data_dir).pairs("train", required=False) if limit > 0 else []
    order = list(range(len(rows)))
    random.Random(0).shuffle(order)
    return [rows[i]["prompt"] for i in sorted(order[:limit])]


def authorship_training_texts(data_dir: Path, train_posts: list[dict], base_answers: list[str]):
    """The authorship test's training texts: (real posts, generic texts, generic source counts)."""
    pairs = DataFolder(data_dir).pairs("train", required=False)
    negatives = [r["rejected"][-1]["content"] for r in pairs]
    real = [p["text"] for p in train_posts] or [r["chosen"][-1]["content"] for r in pairs]
    generators = rejected_generators(data_dir, True)["margins"]
    sources = {f"training negatives ({generators})": len(negatives), "base answers to training briefs": len(base_answers)}
    return real, negatives + [a for a in base_answers if a.strip()], sources


def _run_data_dir(run_dir: str | Path | None) -> Path:
    if run_dir is None:
        raise UserError("no data folder: pass --data DIR.")
    run = Run(Path(run_dir))
    if run.data_dir is None:
        raise UserError(f"{run.config_path}: no data folder recorded; pass --data DIR.")
    return run.data_dir
