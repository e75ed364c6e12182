"""GRPO's reward: a weighted sum of components, each a score in [0, 1] per answer.

* ``voice``: the voice scorer's P(the author wrote it), fitted once per run on the author's
  *training* posts (posts.jsonl's train split, else the SFT training answers) against the shipped
  reference pool and the training pairs' generic answers; the held-out posts that Evaluate uses are
  never seen.
* ``fluency``: the fluency guard, as a reward: the answer's mean token surprisal under the fixed
  reference model over that of the author's training posts (the scorecard's fluency ratio). A ratio
  at or under 1 pays 1, at or over the scorecard's "garbled" line (1.5) pays 0, linear between: word
  salad pays nothing, whatever its words.
* ``adherence``: the answer is about the brief. The brief's topic words (words of 3+ letters that are
  neither stop words nor request words like "write" or "post") are compared with the answer's words
  by their first 5 letters (a crude stem: "juniors" meets "junior", "shipping" meets "shipped");
  the reward is the share of topic words the answer uses, capped at 3 needed. Embedding-free and
  model-free on purpose: it costs nothing per step and cannot be gamed by fluent off-topic prose.
  A brief with no topic word pays 1 (nothing to check).
* ``form``: characters, lines, hashtags, mentions and emoji each within the author's own range (the
  10th to 90th percentile of the training posts): 1 inside, falling linearly to 0 at one range width
  (at least 1 for counts, a quarter of the upper bound for characters) outside; the mean of the five.
* ``judge``: an OpenAI-compatible endpoint (:class:`pipeline.teacher.HttpTeacher`) rates each answer
  from 0 to 10 for fitting the brief as a post a person would write; the reward is the rating / 10
  (an unparseable reply pays 0). Off unless a URL is given.

The reward model state (scorer, reference model, ranges) is built once per run and reused on every
step; the reference model caches each text's surprisal, so voice and fluency share one pass.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from ..errors import UserError
from ..voice.calibration import GARBLED_RATIO
from ..voice.profile import CONVENTIONS

COMPONENTS = ("voice", "fluency", "adherence", "form", "judge")
"""Reward components, in the order they are logged (``rewards/<name>/mean`` in metrics.jsonl)."""
FORM_CONVENTIONS = ("characters", "lines", "hashtags", "mentions", "emoji")
STEM = 5
NEEDED_TOPIC_WORDS = 3
_WORD = re.compile(r"[a-z][a-z'’-]{2,}")
STOP_WORDS = frozenset("""
a about above after again against all also am an and any are as at be because been before being below
between both but by can could did do does doing down during each few for from further had has have having
he her here hers him his how i if in into is it its itself just me more most my no nor not now of off on
once only or other our ours out over own same she should so some such than that the their theirs them then
there these they this those through to too under until up very was we were what when where which while who
whom why will with would you your yours
""".split())
REQUEST_WORDS = frozenset("""
write post posts tweet thread linkedin share short long piece draft words word please give make create
compose something paragraph caption update blog article story sentence sentences one two three few quick
""".split())
JUDGE_PROMPT = ("Rate the answer below from 0 to 10: how well does it do what the brief asks, as a post a real "
                "person would publish? Reply with the number only.\n\nBrief: {brief}\n\nAnswer: {answer}")


def topic_words(brief: str) -> set[str]:
    """The brief's topic-word stems (no stop words, no request words)."""
    return {w[:STEM] for w in _WORD.findall(brief.lower()) if w not in STOP_WORDS and w not in REQUEST_WORDS}


def adherence(brief: str, answer: str) -> float:
    """Share of the brief's topic words the answer uses (``NEEDED_TOPIC_WORDS`` suffice); 1 with none."""
    wanted = topic_words(brief)
    if not wanted:
        return 1.0
    used = {w[:STEM] for w in _WORD.findall(answer.lower())}
    return min(1.0, len(wanted & used) / min(len(wanted), NEEDED_TOPIC_WORDS))


def fluency_reward(ratio: float) -> float:
    """1 at or under the author's own surprisal, 0 at or over the garbled line, linear between."""
    if ratio != ratio:
        return 0.0
    return min(1.0, max(0.0, (GARBLED_RATIO - ratio) / (GARBLED_RATIO - 1.0)))


@dataclass(frozen=True)
class FormRange:
    """One convention's range over the author's training posts (10th to 90th percentile)."""

    name: str
    low: float
    high: float

    def score(self, value: float) -> float:
        if self.low <= value <= self.high:
            return 1.0
        floor = 0.25 * self.high if self.name == "characters" else 1.0
        width = max(self.high - self.low, floor)
        distance = self.low - value if value < self.low else value - self.high
        return max(0.0, 1.0 - distance / width)


def form_ranges(posts: list[str]) -> list[FormRange]:
    """The author's range of each of ``FORM_CONVENTIONS``."""
    import numpy as np

    ranges = []
    for name in FORM_CONVENTIONS:
        values = np.asarray([CONVENTIONS[name](p) for p in posts], dtype=float)
        low, high = np.quantile(values, [0.1, 0.9])
        ranges.append(FormRange(name, float(low), float(high)))
    return ranges


def form(ranges: list[FormRange], answer: str) -> float:
    """Mean of each convention's in-range score."""
    return sum(r.score(CONVENTIONS[r.name](answer)) for r in ranges) / len(ranges)


def judge_rating(reply: str) -> float:
    """The first number 0-10 of a judge's reply, over 10 (0 when there is none)."""
    found = re.search(r"\d+(?:\.\d+)?", reply)
    return min(10.0, float(found.group())) / 10 if found else 0.0


def training_posts(data_dir) -> tuple[list[str], list[str]]:
    """``(the author's training posts, generic answers)``: posts.jsonl's train split (the SFT training
    answers when the folder has no posts.jsonl) and the training pairs' rejected answers."""
    from ..data.folder import DataFolder

    folder = DataFolder(data_dir)
    posts = [p["text"] for p in folder.posts() if p.get("split") == "train"]
    if not posts:
        posts = [e["completion"][-1]["content"] for e in folder.sft_examples("train")]
    generic = [p["rejected"][-1]["content"] for p in folder.pairs("train", required=False)]
    return posts, generic


class VoiceReward:
    """The weighted reward of one run: ``components(briefs, answers) -> {name: [score]}`` for the
    components with a weight above 0, and ``functions()``: one TRL reward function per component."""

    def __init__(self, weights: dict[str, float], data_dir, *, reference_model: str = "default",
                 judge_url: str = "", judge_model: str | None = None, judge_api_key_env: str = "OPENAI_API_KEY",
                 max_per_side: int = 300, seed: int = 0, log: Callable = print):
        from ..voice.detector import MIN_PER_SIDE
        from ..voice.reference import reference_texts
        from ..voice.scorer import VoiceScorer
        from ..voice.surprisal import ReferenceModel

        self.weights = {name: w for name, w in weights.items() if w > 0}
        if not self.weights:
            raise UserError("bad setting: every reward weight is 0; give at least one of "
                            f"{', '.join(n + '_weight' for n in COMPONENTS)} a weight above 0.")
        self.judge = None
        if "judge" in self.weights:  # first: a judge that is down fails the run before anything loads
            from ..teacher import HttpTeacher, chat_completions_url, check_reachable

            if not judge_url:
                raise UserError("bad setting: judge_weight > 0 needs --judge-url (an OpenAI-compatible endpoint).")
            check_reachable(chat_completions_url(judge_url), who="reward judge",
                            fix="start the server, fix --judge-url, or set --judge-weight 0")
            self.judge = HttpTeacher(judge_url, judge_model, api_key_env=judge_api_key_env, max_retries=1)
        posts, generic = training_posts(data_dir)
        if len(posts) < MIN_PER_SIDE:
            raise UserError(f"{data_dir}: {len(posts)} training posts; the voice reward needs at least {MIN_PER_SIDE}.")
        self.reference = ReferenceModel(reference_model, log=log)
        self.scorer = None
        if "voice" in self.weights:
            log(f"reward: fitting the voice scorer on {len(posts)} training posts")
            self.scorer = VoiceScorer.fit(posts, reference_texts() + generic, reference_model=self.reference,
                                          max_per_side=max_per_side, seed=seed)
        self.author_surprisal = self.reference.mean_surprisal(posts) if "fluency" in self.weights else None
        self.ranges = form_ranges(posts)

    def components(self, briefs: list[str], answers: list[str]) -> dict[str, list[float]]:
        """Each weighted component's score of each answer (``briefs[i]`` asked for ``answers[i]``)."""
        scores: dict[str, list[float]] = {}
        if self.scorer is not None:
            scores["voice"] = self.scorer.score(answers)
        if self.author_surprisal:
            scores["fluency"] = [fluency_reward(self.reference.mean_surprisal([a]) / self.author_surprisal)
                                 if a.strip() else 0.0 for a in answers]
        if "adherence" in self.weights:
            scores["adherence"] = [adherence(b, a) for b, a in zip(briefs, answers)]
        if "form" in self.weights:
            scores["form"] = [form(self.ranges, a) for a in answers]
        if self.judge is not None:
            asks = [[{"role": "user", "content": JUDGE_PROMPT.format(brief=b, answer=a)}] for b, a in zip(briefs, answers)]
            scores["judge"] = [judge_rating(r) for r in self.judge.chat(asks, max_new_tokens=8)]
        return {name: scores[name] for name in COMPONENTS if name in scores}

    def total(self, briefs: list[str], answers: list[str]) -> list[float]:
        """The weighted sum per answer."""
        scores = self.components(briefs, answers)
        return [sum(self.weights[n] * scores[n][i] for n in scores) for i in range(len(answers))]

    def functions(self) -> tuple[list[Callable], list[float]]:
        """TRL reward functions (one per weighted component, named after it) and their weights.

        TRL calls every function on the same batch; the first call scores every component once and
        the others read its result, so a batch is scored once."""
        memo: dict = {}

        def scored(prompts, completions) -> dict[str, list[float]]:
            answers = [_text(c) for c in completions]
            key = tuple(answers)
            if memo.get("key") != key:
                memo["key"], memo["scores"] = key, self.components([_brief(p) for p in prompts], answers)
            return memo["scores"]

        functions = []
        for name in self.weights:
            def component(prompts, completions, _name=name, **_):
                return scored(prompts, completions)[_name]
            component.__name__ = name
            functions.append(component)
        return functions, list(self.weights.values())


def _text(completion) -> str:
    """A completion's text (TRL passes conversational completions as message lists)."""
    return completion[-1]["content"] if isinstance(completion, list) else str(completion)


def _brief(prompt) -> str:
    if isinstance(prompt, list):
        return next((m["content"] for m in reversed(prompt) if m["role"] == "user"), "")
    return str(prompt)
