"""``build_dataset``: raw posts -> a data folder (SFT examples, preference pairs, report, card).

Steps, each counted in the report: ingest -> clean -> filter -> dedupe -> (semantic clean) -> engagement (gold set)
-> reverse instructions (briefs) -> SFT examples -> negatives (preference pairs) -> quality checks
-> splits -> output. The folder is built beside its final place and renamed when complete, so a
failed build leaves no partial folder (and an existing data folder untouched).
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit

from ..errors import UserError
from ..flags import SettingsFlags
from ..fsio import atomic_dir, atomic_write_json, atomic_write_jsonl, atomic_write_text
from ..teacher import Teacher, make_teacher
from .briefs import teacher_conversation, template_brief, usable_brief
from .clean import CleanOptions, clean_text
from .dedupe import dedupe
from .engagement import EngagementWeights, score_posts, select_gold
from .filters import FilterOptions, filter_posts
from .formats import FORMATS, check_format, from_messages
from .ingest import read_all
from .negatives import METHODS, rewrite_conversation, rule_rewrite, trim_to_length, usable_negative
from .post import Post
from .quality import (containment, duplicate_prompts, length_balance, rendered_samples, separability,
                      split_identical, token_limits)
from .semantic_clean import semantic_clean
from .sources import brief_word, source
from .splits import SPLITS, split_by_prompt

Progress = Callable[[float, str], None]
MAX_PLOT_POINTS = 5000


@dataclass
class BuildSettings:
    """Every knob of the dataset builder (the ``data build`` flags and the Dataset tab's boxes are these fields)."""

    teacher: str = "none"
    """Who writes the briefs: ``none`` (deterministic template), ``local`` (``model`` in-process) or an
    ``http(s)://`` OpenAI-compatible endpoint."""
    teacher_model: str | None = None
    """The model name to ask an HTTP teacher for."""
    teacher_key_env: str = "OPENAI_API_KEY"
    """Environment variable holding the HTTP teacher's key (never logged or written)."""
    negatives: str = "base"
    """Rejected answers: ``base`` (the base model's own answer to the brief: a different voice on the
    same request), ``rule`` (a corporate rewrite of the post, fast, no model) or ``teacher`` (the
    teacher's corporate rewrite)."""
    top_k: int | None = None
    """Gold set = the top-N posts by engagement score (overrides ``top_frac``)."""
    top_frac: float = 0.5
    """Gold set = this top fraction by engagement score. Preference pairs are made from gold posts;
    SFT examples from every kept post."""
    min_chars: int = 30
    """Posts shorter than this (in characters, after cleaning) are dropped."""
    max_chars: int = 3000
    """Longer posts are dropped; a platform with a lower post limit (X: 280) has that limit instead."""
    keep_replies: bool = False
    """Keep replies (dropped by default: they answer someone else's post and rarely stand alone)."""
    keep_retweets: bool = False
    """Keep retweets (dropped by default: they are someone else's words)."""
    remove_emoji: bool = False
    """Strip emoji while cleaning (kept by default: emoji are part of many voices)."""
    dedupe_threshold: float = 0.8
    """MinHash Jaccard similarity at which a post counts as a near-duplicate."""
    semantic_clean: bool = False
    """Let the teacher label every post and leave out pure promotion, bare links, reply fragments and
    someone else's words (a post is kept as written or left out, never rewritten); needs ``--teacher``."""
    weights: str = "1,2,3"
    """Engagement score weights ``likes,comments,reposts`` (a comment costs the reader more than a like,
    a repost puts the post in front of a new audience)."""
    system_prompt: str | None = None
    """Optional system prompt describing the voice, put in every example."""
    format: str = "messages"
    """Also export the SFT splits in this format under ``exports/`` (sft/ is always ``messages``)."""
    model: str = "default"
    """Model spec whose tokenizer checks lengths and renders samples; also the local teacher and the
    ``base`` negatives' model."""
    max_tokens: int = 1024
    """Token limit the training will use; longer examples are reported."""
    validation_frac: float = 0.05
    """Share of the briefs held out as the validation split."""
    test_frac: float = 0.05
    """Share of the briefs held out as the test split (Compare and Evaluate read it)."""
    seed: int = 0
    """Seed of the splits, the samples shown and the separability check."""
    teacher_batch_size: int = 16
    """Conversations per batch (local: one padded batch; HTTP: concurrent requests)."""
    brief_max_new_tokens: int = 48
    """A brief is one sentence."""
    negative_max_new_tokens: int = 256
    """Cap on a model-written rejected answer (each is also budgeted by its post's length and trimmed to
    about that length, so length does not become the preference signal)."""
    cache_dir: Path | None = None
    """Teacher reply cache (default ``$VOICETUNE_HOME/cache/teacher``)."""
    license: str = "cc-by-4.0"
    """The dataset card's license: what you may share these posts under."""
    language: str = "en"
    """The dataset card's language code."""

    def engagement_weights(self) -> EngagementWeights:
        try:
            likes, comments, reposts = (float(x) for x in self.weights.split(","))
        except ValueError:
            raise UserError(f"--weights {self.weights!r}: give three numbers likes,comments,reposts, e.g. 1,2,3.") from None
        return EngagementWeights(likes, comments, reposts)

    def check(self) -> None:
        if self.negatives not in METHODS:
            raise UserError(f"unknown negatives {self.negatives!r}: use {', '.join(METHODS)}.")
        if self.negatives == "teacher" and self.teacher == "none":
            raise UserError("--negatives teacher needs a teacher: add --teacher local or --teacher URL.")
        if self.semantic_clean and self.teacher == "none":
            raise UserError("--semantic-clean needs a teacher to label the posts: add --teacher local or --teacher URL.")
        check_format(self.format)
        if self.min_chars < 0 or self.max_chars < self.min_chars:
            raise UserError(f"character limits must satisfy 0 <= min ({self.min_chars}) <= max ({self.max_chars}).")
        if self.max_tokens < 16:
            raise UserError(f"--max-tokens must be at least 16 (got {self.max_tokens}).")
        self.engagement_weights()


BUILD_FLAGS = SettingsFlags(BuildSettings, names={"system_prompt": "system", "teacher_batch_size": "batch-size"},
                            choices={"negatives": METHODS, "format": FORMATS})
"""``python -m pipeline data build``'s flags (and the Dataset tab's command)."""


@dataclass
class BuildReport:
    """What the build did; ``report.json`` is ``as_dict()``."""

    out_dir: str
    counts: dict
    steps: list[dict]
    """Each step's kept count, removed count per reason and (filter, dedupe, semantic clean) up to three
    removed examples per reason."""
    semantic_clean: dict | None
    """The teacher's labels, removed posts per reason and examples (None when it did not run)."""
    per_source: dict
    engagement: dict
    quality: dict
    samples: list[dict]
    splits: dict
    teacher: dict
    notices: list[str]
    timings_s: dict
    settings: dict

    def as_dict(self) -> dict:
        return asdict(self)

    def summary_lines(self) -> list[str]:
        """A readable summary for the terminal and the tab."""
        lines = [f"{s['step']:>12}: {s['kept']:>6}" + (f"  (removed: {', '.join(f'{k} {v}' for k, v in s['removed'].items())})"
                                                        if s["removed"] else "") for s in self.steps]
        balance = self.quality["length_balance"]
        lines.append(f"chosen/rejected chars: mean {balance['chosen_chars']['mean']}/{balance['rejected_chars']['mean']}"
                     f", median {balance['chosen_chars']['median']}/{balance['rejected_chars']['median']}")
        if self.quality.get("chat_template"):
            lines.append(f"chat template: {self.quality['chat_template']}")
        lines += [f"warning: {w}" for w in self.quality["warnings"]]
        lines += [f"note: {n}" for n in self.notices]
        return lines


def build_dataset(inputs: list[Path], out_dir: Path, settings: BuildSettings = BuildSettings(),
                  progress: Progress | None = None) -> BuildReport:
    """Build the data folder ``out_dir`` from ``inputs``; returns the report (also written there)."""
    settings.check()
    out_dir = Path(out_dir)
    _refuse_foreign_folder(out_dir)
    progress = progress or (lambda fraction, message: None)
    laps = Laps()
    teacher, base = _teachers(settings)  # first: an unreachable URL fails here, before any work or any write
    progress(0.0, "reading posts")
    results, posts, steps, notices, deduped = _read_posts(inputs, settings, progress, laps)
    semantic = None
    if settings.semantic_clean:
        progress(0.1, "semantic cleaning")
        semantic = semantic_clean(posts, teacher, progress=lambda f, m: progress(0.1 + 0.05 * f, m))
        posts = semantic.kept
        steps.append(semantic.removed.step("semantic_clean", len(posts)))
        _require(posts, "semantic_clean", semantic.removed, "build without --semantic-clean")
        laps("semantic_clean")
    available = score_posts(posts, settings.engagement_weights())
    gold_count = select_gold(posts, settings.top_k, settings.top_frac)
    steps.append({"step": "gold", "kept": gold_count, "removed": {}})
    if not available["posts_with_engagement"]:
        notices.append("no engagement columns: every post counts equally (all are gold; --top-k/--top-frac ignored).")
    elif available["posts_with_engagement"] < len(posts):
        notices.append(f"{len(posts) - available['posts_with_engagement']} posts have no engagement data; they "
                       "score 0.5 (neutral).")
    laps("engagement")

    progress(0.15, "writing briefs")
    briefs, brief_fallbacks = write_briefs(posts, teacher, settings, progress)
    laps("briefs")
    sft_rows, dpo_by_post, negative_fallbacks, identical = _examples(posts, briefs, settings, teacher, base, progress)
    steps.append({"step": "sft", "kept": len(sft_rows), "removed": {}})
    steps.append({"step": "dpo", "kept": len(dpo_by_post), "removed": {"chosen == rejected": identical} if identical else {}})
    if not dpo_by_post:
        notices.append("no preference pairs: DPO needs some; check the gold set and the negatives.")
    laps("negatives")

    progress(0.9, "checking quality")
    assignment = split_by_prompt(list(range(len(posts))), lambda i: briefs[i], settings.validation_frac,
                                 settings.test_frac, settings.seed)
    split_of = {i: name for name, ids in assignment.items() for i in ids}
    sft = {name: [sft_rows[i] for i in ids] for name, ids in assignment.items()}
    dpo = {name: [dpo_by_post[i] for i in ids if i in dpo_by_post] for name, ids in assignment.items()}
    quality, samples = _quality(settings, sft_rows, [r for rows in dpo.values() for r in rows], briefs, identical,
                                deduped.examples)
    laps("quality")

    report = BuildReport(
        out_dir=str(out_dir.resolve()),
        counts={"ingested": steps[0]["kept"], "posts": len(posts), "gold": gold_count, "sft_examples": len(sft_rows),
                "dpo_pairs": len(dpo_by_post), "brief_fallbacks": brief_fallbacks,
                "negative_fallbacks": negative_fallbacks, "per_platform": _per_platform(results, posts)},
        steps=steps,
        semantic_clean=semantic.report() if semantic else None,
        per_source=_per_source(results, posts, dpo_by_post),
        engagement={**available, "weights": asdict(settings.engagement_weights()), **_plot_data(posts)},
        quality=quality,
        samples=samples,
        splits={"sft": {k: len(v) for k, v in sft.items()}, "dpo": {k: len(v) for k, v in dpo.items()}},
        teacher=_teacher_info(settings, teacher, base),
        notices=notices,
        timings_s=laps.timings,
        settings=_settings_dict(settings),
    )
    progress(0.95, "writing the data folder")
    write_folder(out_dir, report, posts, briefs, split_of, sft, dpo, settings)
    progress(1.0, "done")
    return report


class Laps:
    """Seconds each step took, for the report's ``timings_s``."""

    def __init__(self):
        self.timings: dict[str, float] = {}
        self.clock = time.perf_counter()

    def __call__(self, name: str) -> None:
        now = time.perf_counter()
        self.timings[name] = round(now - self.clock, 3)
        self.clock = now


def _teachers(settings: BuildSettings) -> tuple[Teacher | None, Teacher | None]:
    """The brief writer and, for ``base`` negatives, the base model (the same one when the teacher is local)."""
    teacher = make_teacher(settings.teacher, settings.teacher_model, api_key_env=settings.teacher_key_env,
                           cache_dir=settings.cache_dir, local_model=settings.model,
                           batch_size=settings.teacher_batch_size)
    base = None
    if settings.negatives == "base":
        base = teacher if settings.teacher == "local" else make_teacher(
            "local", cache_dir=settings.cache_dir, local_model=settings.model, batch_size=settings.teacher_batch_size)
    return teacher, base


def _read_posts(inputs: list[Path], settings: BuildSettings, progress: Progress, laps: Laps):
    """Ingest, clean, filter and dedupe: the kept posts, with a counted step each."""
    results = read_all(inputs)
    posts = [p for r in results for p in r.posts]
    notices = [n for r in results for n in r.notices]
    steps = [{"step": "ingest", "kept": len(posts),
              "removed": dict(sum((r.skipped for r in results), Counter()))}]
    unparsed = sum(r.unparsed_dates for r in results)
    if unparsed:
        notices.append(f"{unparsed} dates could not be read; those posts have no velocity.")
    _require(posts, "ingest", steps[-1]["removed"],
             "check the files have posts in a text column and plain numbers in the engagement columns")
    laps("ingest")

    progress(0.05, "cleaning")
    posts = clean_posts(posts, CleanOptions(remove_emoji=settings.remove_emoji))
    steps.append({"step": "clean", "kept": len(posts),
                  "removed": {"empty after cleaning": steps[-1]["kept"] - len(posts)} if steps[-1]["kept"] > len(posts) else {}})
    _require(posts, "clean", steps[-1]["removed"], "turn off some cleaning options")
    filter_options = FilterOptions(settings.min_chars, settings.max_chars, not settings.keep_replies,
                                   not settings.keep_retweets)
    posts, removed = filter_posts(posts, filter_options)
    steps.append(removed.step("filter", len(posts)))
    _require(posts, "filter", removed, "lower --min-chars or raise --max-chars")
    laps("clean+filter")

    progress(0.1, "removing duplicates")
    deduped = dedupe(posts, settings.dedupe_threshold)
    steps.append(deduped.removed.step("dedupe", len(deduped.kept)))
    laps("dedupe")
    return results, deduped.kept, steps, notices, deduped


def _examples(posts: list[Post], briefs: list[str], settings: BuildSettings, teacher: Teacher | None,
              base: Teacher | None, progress: Progress) -> tuple[list[dict], dict[int, dict], int, int]:
    """SFT rows (one per post) and preference pairs by post index (gold posts; pairs with chosen ==
    rejected removed); also the negatives that fell back to ``rule`` and the identical pairs removed."""
    systems = [p.system or settings.system_prompt for p in posts]
    sft_rows = [{"messages": _prompt(s, b) + [{"role": "assistant", "content": p.text}]}
                for p, b, s in zip(posts, briefs, systems)]
    gold = [i for i, p in enumerate(posts) if p.gold]
    progress(0.55, f"writing {len(gold)} rejected answers ({settings.negatives})")
    rejected, fallbacks = write_negatives([posts[i] for i in gold], [briefs[i] for i in gold],
                                          [systems[i] for i in gold], settings, teacher, base, progress)
    dpo_by_post = {i: {"prompt": _prompt(systems[i], briefs[i]),
                       "chosen": [{"role": "assistant", "content": posts[i].text}],
                       "rejected": [{"role": "assistant", "content": r}]} for i, r in zip(gold, rejected)}
    kept_pairs, identical = split_identical(list(dpo_by_post.values()))
    kept_ids = {id(p) for p in kept_pairs}
    return sft_rows, {i: row for i, row in dpo_by_post.items() if id(row) in kept_ids}, fallbacks, identical


def _quality(settings: BuildSettings, sft_rows: list[dict], dpo_rows: list[dict], briefs: list[str], identical: int,
             near_duplicates: list) -> tuple[dict, list[dict]]:
    """The report's quality checks (with their warnings) and the samples rendered with the chat template."""
    from ..chat_template import template_note
    from ..models import load_tokenizer, resolve_model_path

    tokenizer = load_tokenizer(resolve_model_path(settings.model, log=lambda *a, **k: None))
    balance = length_balance(dpo_rows, settings.negatives)
    tokens = token_limits(tokenizer, sft_rows, dpo_rows, settings.max_tokens)
    separable = separability(dpo_rows, seed=settings.seed)
    contained = containment(dpo_rows)
    quality = {"length_balance": balance, "separability": separable, "containment": contained,
               "identical_pairs_removed": identical, "duplicate_prompts": duplicate_prompts(briefs), "tokens": tokens,
               "near_duplicates": near_duplicates, "chat_template": template_note(tokenizer),
               "warnings": [w for w in (balance["warning"], separable["warning"], contained["warning"]) if w]}
    if identical:
        quality["warnings"].append(f"{identical} pairs had chosen == rejected (an error); they were removed.")
    for name in ("sft", "dpo_chosen", "dpo_rejected"):
        if tokens[name]["over_limit"]:
            quality["warnings"].append(f"{tokens[name]['over_limit']} {name} examples exceed {settings.max_tokens} tokens "
                                       f"({tokens[name]['tokens_cut']} tokens would be cut).")
    return quality, rendered_samples(tokenizer, sft_rows, 5, settings.seed)


def clean_posts(posts: list[Post], options: CleanOptions = CleanOptions()) -> list[Post]:
    """Clean every post's text in place; posts left empty are dropped."""
    kept = []
    for post in posts:
        post.text = clean_text(post.text, options)
        if post.text:
            kept.append(post)
    return kept


def ask(teacher: Teacher, conversations: list[list[dict]], budgets: list[int], progress: Progress,
        start: float, end: float, label: str) -> list[str]:
    """Ask one batch at a time, batches of similar length and token budget (less padding; a batch of
    short answers stops early); the progress bar moves between batches."""
    order = sorted(range(len(conversations)),
                   key=lambda i: (budgets[i], sum(len(m["content"]) for m in conversations[i])))
    answers: list[str] = [""] * len(conversations)
    chunk = teacher.batch_size
    for n in range(0, len(order), chunk):
        progress(start + (end - start) * n / max(1, len(order)), f"{label} {n}/{len(order)}")
        ids = order[n:n + chunk]
        replies = teacher.chat([conversations[i] for i in ids], max_new_tokens=max(budgets[i] for i in ids))
        for i, reply in zip(ids, replies):
            answers[i] = reply
    return answers


def write_briefs(posts: list[Post], teacher: Teacher | None, settings: BuildSettings,
                 progress: Progress) -> tuple[list[str], int]:
    """One brief per post: the input's own, the teacher's, or the template (teacher answers that do
    not look like a brief fall back to the template; counted)."""
    briefs = [p.brief or template_brief(p, brief_word(p.platform)) for p in posts]
    todo = [i for i, p in enumerate(posts) if not p.brief]
    fallbacks = 0
    if teacher is not None and todo:
        answers = ask(teacher, [teacher_conversation(posts[i]) for i in todo], [settings.brief_max_new_tokens] * len(todo),
                      progress, 0.15, 0.55, "briefs")
        for i, answer in zip(todo, answers):
            brief = usable_brief(answer, posts[i])
            if brief:
                briefs[i] = brief
            else:
                fallbacks += 1
    return briefs, fallbacks


def write_negatives(posts: list[Post], briefs: list[str], systems: list[str | None], settings: BuildSettings,
                    teacher: Teacher | None, base: Teacher | None, progress: Progress) -> tuple[list[str], int]:
    """A rejected answer per post (``settings.negatives``); unusable model answers fall back to ``rule``."""
    rule = [rule_rewrite(p.text) for p in posts]
    if settings.negatives == "rule" or not posts:
        return rule, 0
    # Room for an answer as long as the post (about 3.5 characters a token, +30%), within the cap.
    budgets = [min(settings.negative_max_new_tokens, 16 + round(len(p.text) / 3.5 * 1.3)) for p in posts]
    if settings.negatives == "teacher":
        answers = ask(teacher, [rewrite_conversation(p.text) for p in posts], budgets, progress, 0.55, 0.9, "rewrites")
    else:
        answers = ask(base, [_prompt(s, b) for s, b in zip(systems, briefs)], budgets, progress, 0.55, 0.9,
                      "base answers")
    out, fallbacks = [], 0
    for answer, post, fallback in zip(answers, posts, rule):
        if usable_negative(answer, post.text):
            out.append(trim_to_length(answer.strip(), len(post.text)))
        else:
            out.append(fallback)
            fallbacks += 1
    return out, fallbacks


def write_folder(out_dir: Path, report: BuildReport, posts: list[Post], briefs: list[str], split_of: dict[int, str],
                 sft: dict[str, list[dict]], dpo: dict[str, list[dict]], settings: BuildSettings) -> None:
    """Everything at once, atomically: sft/, dpo/, posts.jsonl, report.json, README.md, exports/."""
    from .card import render_dataset_card

    with atomic_dir(out_dir) as tmp:
        for name in SPLITS:
            atomic_write_jsonl(tmp / "sft" / f"{name}.jsonl", sft[name])
            atomic_write_jsonl(tmp / "dpo" / f"{name}.jsonl", dpo[name])
            if settings.format not in ("messages", "openai"):
                atomic_write_jsonl(tmp / "exports" / settings.format / f"{name}.jsonl",
                                   [from_messages(r["messages"], settings.format) for r in sft[name]])
        atomic_write_jsonl(tmp / "posts.jsonl", [post_row(p, briefs[i], split_of[i]) for i, p in enumerate(posts)])
        atomic_write_json(tmp / "report.json", report.as_dict())
        atomic_write_text(tmp / "README.md", render_dataset_card(report, settings))


def post_row(post: Post, brief: str, split: str) -> dict:
    """One line of posts.jsonl (the evaluation's gold set and "See More" classifier read it)."""
    row = {"text": post.text, "source": post.source, "platform": post.platform, "kind": post.kind,
           "engagement": post.engagement, "score": round(post.score, 6), "gold": post.gold, "velocity": post.velocity,
           "follower_ratio": post.follower_ratio, "brief": brief, "split": split}
    for name in ("likes", "comments", "reposts", "impressions", "followers", "author", "url"):
        row[name] = getattr(post, name)
    for name in ("posted_at", "scraped_at"):
        value = getattr(post, name)
        row[name] = value.isoformat() if value else None
    return row


def _prompt(system: str | None, brief: str) -> list[dict]:
    return ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": brief}]


def _require(posts: list[Post], step: str, removed: dict, fix: str) -> None:
    if not posts:
        reasons = ", ".join(f"{k}: {v}" for k, v in removed.items() if v) or "nothing usable"
        raise UserError(f"every post was removed by the {step} step ({reasons}); {fix}.")


def _refuse_foreign_folder(out_dir: Path) -> None:
    """The output folder is replaced as a whole: refuse to replace one that is not a data folder."""
    if out_dir.is_file():
        raise UserError(f"{out_dir} is a file; --out needs a folder path.")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not (
            (out_dir / "report.json").is_file() or (out_dir / "sft").is_dir() or (out_dir / "dpo").is_dir()):
        raise UserError(f"{out_dir} exists and is not a data folder (no report.json or sft/); building would "
                        "replace it: choose a new or empty folder.")


def _per_source(results, posts: list[Post], dpo_by_post: dict[int, dict]) -> dict:
    """Per input: the source that read it (``kind``, its ``label``), and its posts at each stage."""
    table = {r.path.name: {"kind": r.kind, "label": getattr(source(r.kind), "LABEL", r.kind), "encoding": r.encoding,
                           "ingested": len(r.posts), "skipped": sum(r.skipped.values()),
                           "skipped_by_reason": dict(r.skipped), "kept": 0, "gold": 0, "dpo_pairs": 0}
             for r in results}
    for i, post in enumerate(posts):
        row = table[post.source]
        row["kept"] += 1
        row["gold"] += post.gold
        row["dpo_pairs"] += i in dpo_by_post
    return table


def _per_platform(results, posts: list[Post]) -> dict:
    """Posts per platform (registry name), read and kept: several inputs of one platform add up."""
    table: dict[str, dict] = {}
    for post in (p for r in results for p in r.posts):
        table.setdefault(post.platform, {"ingested": 0, "kept": 0})["ingested"] += 1
    for post in posts:
        table.setdefault(post.platform, {"ingested": 0, "kept": 0})["kept"] += 1
    return table


def _plot_data(posts: list[Post]) -> dict:
    """Scores for the tab's plots (every post, or an even sample of MAX_PLOT_POINTS)."""
    step = max(1, len(posts) // MAX_PLOT_POINTS)
    sample = posts[::step]
    gold_scores = [p.score for p in posts if p.gold]
    return {"scores": [round(p.score, 4) for p in sample],
            "engagement_values": [p.engagement for p in sample],
            "gold_flags": [p.gold for p in sample],
            "gold_threshold": round(min(gold_scores), 4) if gold_scores else None,
            "top_posts": [{"text": p.text[:200], "score": round(p.score, 4), "engagement": p.engagement}
                          for p in sorted(posts, key=lambda p: -p.score)[:5]]}


def _teacher_info(settings: BuildSettings, teacher: Teacher | None, base: Teacher | None) -> dict:
    spec = settings.teacher
    if spec.startswith(("http://", "https://")):
        parts = urlsplit(spec)  # no user:password@, no query string: only where it was
        spec = f"{parts.scheme}://{parts.hostname}{f':{parts.port}' if parts.port else ''}{parts.path}"
    info = {"teacher": spec, "teacher_model": settings.teacher_model, "negatives": settings.negatives}
    for name, t in (("teacher", teacher), ("base", base)):
        if t is not None:
            info[f"{name}_generated"] = t.generated
            info[f"{name}_cache_hits"] = t.cache_hits
    return info


def _settings_dict(settings: BuildSettings) -> dict:
    out = asdict(settings)
    out["teacher"] = _teacher_info(settings, None, None)["teacher"]
    out["cache_dir"] = str(settings.cache_dir) if settings.cache_dir else None
    return out


__all__ = ["BuildSettings", "BuildReport", "build_dataset", "FORMATS"]
