"""Rule negatives that are not separable by trivial features, and the quality report's check of it."""

import re

import pytest
from support.paths import EXAMPLES

from pipeline.data.ingest import read_all
from pipeline.data.negatives import contains_either, is_stock_opener, rule_rewrite
from pipeline.data.quality import SEPARABILITY_LIMIT, containment, separability


@pytest.fixture(scope="module")
def posts():
    texts = [p.text for r in read_all([EXAMPLES / "posts.csv"]) for p in r.posts if len(p.text) > 60]
    return list(dict.fromkeys(texts))[:150]


def _pairs(posts, rewrite):
    return [{"prompt": [{"role": "user", "content": "Write a post."}], "chosen": [{"role": "assistant", "content": p}],
             "rejected": [{"role": "assistant", "content": rewrite(p)}]} for p in posts]


def test_rule_negatives_vary_openers_keep_line_breaks_and_stay_grammatical(posts):
    rewrites = [rule_rewrite(p) for p in posts]
    assert rewrites == [rule_rewrite(p) for p in posts]  # deterministic
    stock = sum(is_stock_opener(r) for r in rewrites) / len(rewrites)
    assert 0.2 < stock < 0.6, stock  # sometimes a stock opener, not always
    assert len({" ".join(r.split()[:2]) for r in rewrites if is_stock_opener(r)}) >= 6
    assert 0.5 < sum("\n" in r for r in rewrites) / len(rewrites) < 0.95
    for post, rewrite in zip(posts, rewrites):
        assert 0.6 < len(rewrite) / len(post) < 1.6, (post, rewrite)
        # the old rewrite hedged anything, even labels and imperatives ("it may be the case that unpopular opinion:")
        assert not re.search(r"\bthat [a-z][\w ]*:", rewrite), rewrite
        assert ". ." not in rewrite and ".." not in rewrite.replace("...", "") and ":." not in rewrite
        sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+", rewrite) if len(s.split()) > 3]
        assert len(sentences) == len(set(sentences)), rewrite  # no sentence copied twice
    listed = rule_rewrite("My checklist:\n\n- Ship weekly\n- Write the docs first\n- Call users\n\nThat's it.")
    assert "ship weekly, write the docs first and call users." in listed or "- Ship weekly" in listed


def test_separability_flags_trivially_separable_negatives_and_not_the_rule_ones(posts):
    def old_style(post):  # the former rule rewrite's shape: one paragraph behind a stock opener
        return "In today's fast-paced digital landscape, it could be argued that " + " ".join(post.split())

    before = separability(_pairs(posts, old_style))
    assert before["auc"] > SEPARABILITY_LIMIT and "separable" in before["warning"]
    assert before["rejected_with_line_breaks"] == 0 and before["rejected_with_stock_opener"] == 1
    after = separability(_pairs(posts, rule_rewrite))
    assert after["auc"] < SEPARABILITY_LIMIT and after["warning"] is None, after
    assert separability(_pairs(posts[:6], rule_rewrite))["skipped"].startswith("6 pairs")


def test_rule_negatives_never_contain_the_post_and_the_report_flags_pairs_that_do(posts):
    short = ['learning how to say "1 2 3" and "hut hut hut" at army', "Ship it.", "I'm done with meetings today.",
             "Pricing is a feature. Charge more.", "good morning"]
    for post in posts + short:
        rewrite = rule_rewrite(post)
        assert not contains_either(rewrite, post), (post, rewrite)
    report = containment(_pairs(short, lambda p: p + " Let's unlock the potential together."))
    assert report["pairs"] == len(short) and report["share"] == 1.0 and "inside the other" in report["warning"]
    assert report["examples"][0]["chosen"] == short[0]
    clean = containment(_pairs(posts + short, rule_rewrite))
    assert clean["pairs"] == 0 and clean["warning"] is None
