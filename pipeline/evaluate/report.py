"""One evaluation report per run: every metric for each column (base, few-shot base, SFT, DPO), written
to ``eval.json``, led by the voice scorecard (:mod:`.voice_report`).

The held-out data is ``dpo/{split}.jsonl`` and ``sft/{split}.jsonl`` of a data folder (TRL
conversational or standard format). A missing split falls back to ``validation``; with neither,
a split is carved from ``train`` (seeded) and the report says so: those pairs were trained on.

The defaults score a seeded sample (``limit`` briefs, ``max_pairs`` pairs), not every held-out row:
each figure carries an interval, so the report says how sure it is instead of spending half an hour.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import asdict, dataclass, replace
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
    limit: int = 24
    """Held-out briefs each column writes a post for (voice scorecard, style, similarity, judge, See More):
    the held-out pairs' briefs first, then those of the other held-out posts (``sft/{split}``), a seeded
    sample when there are more. More briefs narrow the scorecard's intervals (the report says how many
    would separate base from DPO)."""
    max_pairs: int = 48
    """Held-out pairs scored for the margins and SFT examples for perplexity, a seeded sample (0 = all)."""
    max_new_tokens: int = 120
    """Length cap of each generated post."""
    temperature: float = 0.7
    """Sampling temperature of the generations (0 = greedy); every column samples a brief with the same
    seed (``seed`` + the brief's number), so the briefs' samples are not drawn from one random stream."""
    seed: int = 0
    """Seed of generation, of the samples and of a carved split."""
    few_shot: int = 4
    """Training posts the few-shot column shows the base model before each brief (0 = no few-shot column)."""
    bootstrap: int = 1000
    """Bootstrap draws of each scorecard AUC's 95% interval."""
    max_per_side: int = 100
    """At most this many real posts (and reference texts) a side in each scorecard comparison, a seeded
    sample: every text is scored once by the reference model, so this bounds the scorecard's cost."""
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
    briefs: list[list[dict]]
    """The briefs the columns write for (all held-out briefs, before ``limit`` samples them)."""


def load_held_out(run_dir: str | Path | None, data_dir: str | Path | None, settings: EvalSettings) -> HeldOut:
    """Read and check the held-out split of ``data_dir`` (default: the data the run trained on)."""
    data_dir = Path(data_dir) if data_dir else _run_data_dir(run_dir)
    notices: list[str] = []
    folder = DataFolder(data_dir)
    pairs, split = folder.held_out_pairs(settings.split, settings.seed, notices)
    examples = folder.held_out_examples(split["name"], pairs, notices)
    briefs = generation_briefs(pairs, examples, settings.limit, settings.seed)
    if settings.max_pairs:
        pairs, examples = _sample(pairs, settings.max_pairs, settings.seed), _sample(examples, settings.max_pairs, settings.seed)
    return HeldOut(data_dir, pairs, examples, split, notices, briefs)


def _sample(rows: list, limit: int, seed: int) -> list:
    """At most ``limit`` of ``rows``, a seeded sample kept in order."""
    if len(rows) <= limit:
        return rows
    return [rows[i] for i in sorted(random.Random(seed).sample(range(len(rows)), limit))]


def evaluate_run(run_dir: str | Path | None = None, data_dir: str | Path | None = None,
                 settings: EvalSettings = EvalSettings(), *, variants: Variants | None = None,
                 held_out: HeldOut | None = None, out_path: str | Path | None = None,
                 progress: Callable[[str, float], None] | None = None, log=print) -> dict:
    """Evaluate the columns of ``variants`` (default: those ``run_dir`` implies) and the few-shot base on
    the held-out split of ``data_dir`` (or ``held_out``, already read); writes ``eval.json`` (into
    ``run_dir`` unless ``out_path``) and returns it."""
    from . import judge as judging
    from .voice_report import annotate

    started = time.perf_counter()
    step = _Progress(progress, log)
    if run_dir is None and out_path is None:
        raise UserError("nowhere to write eval.json: give --run RUN_DIR or --out PATH.")
    judge = judging.make_judge(settings.judge, settings.judge_model, log=log)  # bad input fails before loading
    held_out = held_out or load_held_out(run_dir, data_dir, settings)
    for note in held_out.notices:
        log(f"notice: {note}")
    if variants is None:
        if run_dir is None:
            raise UserError("nothing to evaluate: give --run RUN_DIR (or --sft/--dpo with --out).")
        step("loading the base model and adapters", 0.0)
        variants = Variants.from_run(run_dir, log=log)
    notices = held_out.notices + variants.notices
    generations = write_posts(variants, held_out, settings, step)
    scored = score_columns(variants, held_out, generations, settings, notices, step)
    texts = text_metrics(held_out, generations, judge, settings, variants.base_spec, step, log)
    voice = annotate(texts.pop("voice"), texts["burrows_delta"], scored["margins"])
    picks = human_picks(run_dir, held_out.data_dir, judge, settings.seed)
    report = {
        "run": str(Path(run_dir).resolve()) if run_dir else None, "data": str(held_out.data_dir),
        "split": held_out.split, "base_model": variants.base_spec, "columns": variants.describe()["columns"],
        "voice": voice, **scored, **texts, "human_picks": picks,
        "samples": [{"brief": _user_text(brief), **{c: generations[c][i] for c in generations}}
                    for i, brief in enumerate(held_out.briefs[:3])],
        "settings": asdict(settings), "notices": notices,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "elapsed_s": round(time.perf_counter() - started, 1),
    }
    target = Path(out_path) if out_path else Path(run_dir) / "eval.json"
    atomic_write_json(target, report)
    report["eval_path"] = str(target)
    step("done", 1.0)
    return report


def write_posts(variants: Variants, held_out: HeldOut, settings: EvalSettings, step) -> dict[str, list[str]]:
    """Each column's post for each brief: the served columns decoded as one batch, then the few-shot
    column (the base model with ``few_shot`` training posts before the brief)."""
    from ..serving.fewshot import COLUMN as FEW_SHOT, few_shot_examples, stream_few_shot

    sampling = SamplingSettings(max_new_tokens=settings.max_new_tokens, temperature=settings.temperature,
                                seed=settings.seed)
    briefs = held_out.briefs
    generations: dict[str, list[str]] = {column: [] for column in variants.columns}
    examples = few_shot_examples(training_pairs(held_out), settings.few_shot, settings.seed) if settings.few_shot else []
    if examples:
        generations = {"base": generations.pop("base", []), FEW_SHOT: [], **generations}
    for number, brief in enumerate(briefs):
        step(f"writing post {number + 1}/{len(briefs)} ({', '.join(generations)})", 0.5 * number / max(1, len(briefs)))
        per_brief = replace(sampling, seed=settings.seed + number)  # every column the same seed; briefs their own
        for column, text in variants.generate_columns(brief, per_brief).items():
            generations[column].append(text)
        if examples:
            generations[FEW_SHOT].append("".join(stream_few_shot(variants, examples, brief, per_brief)))
    return generations


def training_pairs(held_out: HeldOut) -> list[dict]:
    """The training pairs the few-shot examples and the generic floor come from, without any row a
    carved split holds out."""
    rows = DataFolder(held_out.data_dir).pairs("train", required=False)
    carved = set(held_out.split.get("rows") or []) if held_out.split.get("made") else set()
    return [row for i, row in enumerate(rows) if i not in carved]


def score_columns(variants: Variants, held_out: HeldOut, generations: dict[str, list[str]], settings: EvalSettings,
                  notices: list[str], step) -> dict:
    """Reward margins (on the held-out pairs and against another generator) and perplexity per served column."""
    from .margins import encode_pairs, margins_with_tokens, summarize
    from .perplexity import encode_examples, perplexity
    from ..scoring import resolve_precision

    tokenizer = variants.tokenizer
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    run = dict(batch_size=settings.batch_size, pad_id=pad_id, precision=settings.precision)
    pairs = encode_pairs(tokenizer, held_out.pairs, settings.max_length)
    examples = encode_examples(tokenizer, held_out.examples, settings.max_length)
    cut = sum(c.truncated or r.truncated for c, r in pairs) + sum(e.truncated for e in examples)
    if cut:
        notices.append(f"{cut} held-out sequence(s) longer than {settings.max_length} tokens were cut to fit.")
    generators = rejected_generators(held_out.data_dir, "base" in variants.columns)
    other = []
    if generators["margins_other_generator"] and generations.get("base"):
        other = encode_pairs(tokenizer, other_generator_pairs(held_out.pairs, held_out.briefs, generations["base"],
                                                              generators["margins_other_generator"]),
                             settings.max_length)
    margins, margins_other, ppl = {}, {}, {}
    columns = list(variants.columns)
    for index, column in enumerate(columns):
        with variants.use(column) as model:
            step(f"{column}: reward margins on {len(pairs)} pairs", 0.5 + 0.3 * index / len(columns))
            margins[column] = summarize(*margins_with_tokens(model, pairs, **run), seed=settings.seed)
            if other:
                margins_other[column] = summarize(*margins_with_tokens(model, other, **run), seed=settings.seed)
            step(f"{column}: perplexity on {len(examples)} posts", 0.5 + 0.3 * (index + 0.5) / len(columns))
            ppl[column] = perplexity(model, examples, **run)
    return {"margins": {c: m["mean"] for c, m in margins.items()},
            "chosen_win_rate": {c: m["chosen_win_rate"] for c, m in margins.items()},
            "margins_detail": margins, "margins_other_generator": margins_other, "rejected_generators": generators,
            "pairs": len(pairs), "perplexity": {c: round(v, 4) if v is not None else None for c, v in ppl.items()},
            "scoring_precision": resolve_precision(settings.precision, compute_device(variants.model).type)}


def text_metrics(held_out: HeldOut, generations: dict[str, list[str]], judge, settings: EvalSettings,
                 reference_spec: str, step, log) -> dict:
    """The figures read off the generated posts: the voice scorecard, Burrows' Delta, style,
    similarity to the gold posts, the judge and the See More proxy."""
    from . import judge as judging
    from .similarity import embed, similarity_report
    from .style import against_base, summarize as summarize_style
    from .stylometry import burrows_delta
    from .voice_report import author_texts, generic_texts, voice_section

    data_dir, split = held_out.data_dir, held_out.split
    train_pairs = training_pairs(held_out)
    train, held = author_texts(DataFolder(data_dir).posts(), split, train_pairs, held_out.pairs)
    generic = generic_texts(train_pairs)
    voice = voice_section(train, held, generic, generations, reference_spec,
                          seed=settings.seed, bootstrap=settings.bootstrap, max_per_side=settings.max_per_side,
                          progress=lambda message: step(f"voice scorecard: {message}", 0.85), log=log)
    step("style, similarity, judge and See More", 0.95)
    gold_texts, gold_source = gold_posts(data_dir, held_out.pairs, split)
    style = {name: summarize_style(texts) for name, texts in {**generations, "gold": gold_texts}.items()}
    if "base" in style:
        style = {name: (against_base(s, style["base"]) if name != "base" else s) for name, s in style.items()}
    gold_embeddings = embed(gold_texts)
    briefs = [_user_text(b) for b in held_out.briefs]
    return {"style": style, "gold": {"posts": len(gold_texts), "source": gold_source},
            "similarity": {c: similarity_report(embed(texts), gold_embeddings) for c, texts in generations.items()},
            "judge": judging.judge_variants(judge, briefs, generations) if judge and briefs else {"judge": "none"},
            "see_more": see_more(data_dir, split, generations, gold_texts, settings.seed),
            "burrows_delta": burrows_delta(train + generic, held, generations), "voice": voice}


def see_more(data_dir: Path, split: dict, generations: dict[str, list[str]], gold_texts: list[str], seed: int) -> dict:
    """The See More proxy (an engagement classifier on the training posts) and its probability per column."""
    from .seemore import SeeMore, train as train_see_more

    posts = DataFolder(data_dir).posts()
    train_posts, test_posts = split_posts(posts, split)
    proxy = (train_see_more(train_posts, seed=seed, held_out=test_posts) if posts
             else {"skipped": "no posts.jsonl in the data folder."})
    if not isinstance(proxy, SeeMore):
        return {"classifier": proxy, "probability": {}}
    held_texts = [p["text"] for p in test_posts] or gold_texts
    return {"classifier": proxy.report,
            "probability": {name: proxy.probability(texts) for name, texts in {**generations, "gold": held_texts}.items()}}


def human_picks(run_dir: str | Path | None, data_dir: Path, judge, seed: int) -> dict | None:
    """The workspace's Compare picks (:func:`pipeline.picks.pick_report`), when the run has a workspace with picks."""
    from . import judge as judging
    from ..picks import pick_report
    from ..workspace import Workspace

    if run_dir is None:
        return None
    preferences = Workspace.of_run(Run(Path(run_dir).resolve())).preferences_path
    if not preferences.is_file():
        return None
    return pick_report(preferences, data_dir, judge if isinstance(judge, judging.TeacherJudge) else None, seed)


def _user_text(brief: list[dict]) -> str:
    return next((m["content"] for m in reversed(brief) if m["role"] == "user"), "")


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


def generation_briefs(pairs: list[dict], examples: list[dict], limit: int, seed: int = 0) -> list[list[dict]]:
    """Up to ``limit`` distinct held-out prompts, a seeded sample: the pairs' first, then the other
    held-out posts' (a sample of each when there are more)."""
    seen: dict[str, list[dict]] = {}
    for row in pairs + examples:
        seen.setdefault(json.dumps(row["prompt"], sort_keys=True), row["prompt"])
    from_pairs = list(dict.fromkeys(json.dumps(r["prompt"], sort_keys=True) for r in pairs))
    others = [key for key in seen if key not in set(from_pairs)]
    keys = _sample(from_pairs, limit, seed)
    keys += _sample(others, limit - len(keys), seed) if limit > len(keys) else []
    return [seen[key] for key in keys]


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


def _run_data_dir(run_dir: str | Path | None) -> Path:
    if run_dir is None:
        raise UserError("no data folder: pass --data DIR.")
    run = Run(Path(run_dir))
    if run.data_dir is None:
        raise UserError(f"{run.config_path}: no data folder recorded; pass --data DIR.")
    return run.data_dir
