"""Pairwise judging with the seeds' rubric: hook efficacy, formatting ("bento"), no fluff.

Two judges share one interface, :meth:`Judge.verdicts`:

* :class:`RuleJudge` (the default): scores each post 1-5 per criterion from the style metrics and
  prefers the higher total (a tie when they are equal);
* :class:`TeacherJudge`: asks a teacher LLM (``pipeline.teacher``: ``local`` or an OpenAI-compatible
  URL, the dataset builder's options) which post is better under the rubric.

Every comparison is asked in both orders (A/B, then B/A); a verdict that flips with the order is
position bias and counts as a tie. :func:`judge_variants` reports win / tie / loss rates of each
variant against the base.
"""

from __future__ import annotations

import re

from ..errors import UserError
from .style import HOOK_WORDS_MAX, load_lexicon, post_metrics

RUBRIC = """Judge two social media posts written for the same brief. Criteria, equally weighted:
1. Hook efficacy: the first line is under 10 words and makes the reader want to click "see more".
2. Formatting (the bento): short lines, clear line breaks, bullet points where they help.
3. No fluff: no filler adjectives, no stock phrases ("in today's fast-paced world", "delve", "leverage")."""
ASK = ("{rubric}\n\nBrief: {brief}\n\nPost A:\n{a}\n\nPost B:\n{b}\n\n"
       "Which post is better under the criteria? Answer with exactly one word: A, B or TIE.")
VERDICT = re.compile(r"\b(TIE|A|B)\b")
PROVOCATIVE = re.compile(r"\d|[?!:]|\b(?:I|you|no|not|never|stop|wrong|nobody|why|how)\b", re.IGNORECASE)


def rubric_scores(text: str) -> dict:
    """1-5 per criterion for one post, and their total (3-15)."""
    m = post_metrics(text, load_lexicon())
    hook_line = next((line for line in text.strip().splitlines() if line.strip()), "")
    words = m["hook_words"]
    if words == 0:
        hook = 1
    elif words < HOOK_WORDS_MAX:
        hook = 4 + bool(PROVOCATIVE.search(hook_line))
    else:
        hook = 3 if words <= 15 else 2 if words <= 25 else 1
    formatting = 1 + (m["lines"] >= 3) + (m["blank_line_share"] > 0) + (m["bullet_share"] > 0) \
        + (m["words"] > 0 and m["words"] / max(1, m["lines"]) <= 20)
    fluff = m["fluff_per_100_words"]
    no_fluff = 5 if fluff == 0 else 4 if fluff < 2 else 3 if fluff < 4 else 2 if fluff < 8 else 1
    return {"hook": hook, "formatting": formatting, "no_fluff": no_fluff, "total": hook + formatting + no_fluff}


class Judge:
    """Pairwise verdicts: ``"a"``, ``"b"`` or ``"tie"`` per (brief, a, b), asked in both orders."""

    name = ""

    def verdicts(self, briefs: list[str], a: list[str], b: list[str]) -> tuple[list[str], float]:
        """The combined verdicts and the share of comparisons whose two orders agreed."""
        first = self._ask(briefs, a, b)
        second = [{"a": "b", "b": "a"}.get(v, v) for v in self._ask(briefs, b, a)]  # back to a/b
        combined = [x if x == y else "tie" for x, y in zip(first, second)]
        agreed = sum(x == y for x, y in zip(first, second)) / len(first) if first else 1.0
        return combined, agreed

    def _ask(self, briefs: list[str], a: list[str], b: list[str]) -> list[str]:
        raise NotImplementedError


class RuleJudge(Judge):
    """The rubric scored from the text itself (deterministic, no model)."""

    name = "rule"

    def _ask(self, briefs, a, b):
        out = []
        for x, y in zip(a, b):
            sx, sy = rubric_scores(x)["total"], rubric_scores(y)["total"]
            out.append("a" if sx > sy else "b" if sy > sx else "tie")
        return out


class TeacherJudge(Judge):
    """The rubric asked of a teacher LLM (greedy, cached by the teacher)."""

    def __init__(self, teacher, name: str):
        self.teacher = teacher
        self.name = name
        self.unparsed = 0

    def _ask(self, briefs, a, b):
        conversations = [[{"role": "system", "content": "You are a strict editor of social media posts."},
                          {"role": "user", "content": ASK.format(rubric=RUBRIC, brief=brief, a=x, b=y)}]
                         for brief, x, y in zip(briefs, a, b)]
        replies = self.teacher.chat(conversations, max_new_tokens=8, temperature=0.0)
        return [self._parse(r) for r in replies]

    def _parse(self, reply: str) -> str:
        found = VERDICT.search(reply.strip().upper())
        if not found:
            self.unparsed += 1  # an answer that names no post counts as a tie
            return "tie"
        return found.group(1).lower()


def make_judge(spec: str = "rule", model: str | None = None, *, cache_dir=None, log=print) -> Judge | None:
    """``rule`` (default) -> :class:`RuleJudge`; ``none`` -> no judging; ``local`` or an
    ``http(s)://`` URL -> :class:`TeacherJudge` through ``pipeline.teacher.make_teacher``."""
    spec = (spec or "rule").strip()
    if spec == "rule":
        return RuleJudge()
    if spec == "none":
        return None
    from ..teacher import make_teacher

    if not (spec == "local" or spec.startswith(("http://", "https://"))):
        raise UserError(f"unknown judge {spec!r}: use rule, none, local, or the URL of an OpenAI-compatible server.")
    teacher = make_teacher(spec, model, cache_dir=cache_dir)
    return TeacherJudge(teacher, f"teacher:{spec}" + (f" ({model})" if model else ""))


def judge_variants(judge: Judge, briefs: list[str], generations: dict[str, list[str]], baseline: str = "base") -> dict:
    """Win / tie / loss rates of every variant against ``baseline`` on the same briefs."""
    out = {"judge": judge.name}
    for variant, texts in generations.items():
        if variant == baseline or baseline not in generations:
            continue
        verdicts, agreed = judge.verdicts(briefs, texts, generations[baseline])
        n = len(verdicts)
        out[f"{variant}_vs_{baseline}"] = {
            "win": round(verdicts.count("a") / n, 4) if n else None,
            "tie": round(verdicts.count("tie") / n, 4) if n else None,
            "loss": round(verdicts.count("b") / n, 4) if n else None,
            "n": n,
            "order_agreement": round(agreed, 4),
        }
    if isinstance(judge, TeacherJudge):
        out["unparsed_replies"] = judge.unparsed
    return out
