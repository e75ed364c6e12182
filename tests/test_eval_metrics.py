"""Text metrics of the evaluation: style, rubric judge, embeddings similarity, See More proxy."""

from __future__ import annotations

import pytest

from support.ada_data import chosen_post, posts, rejected_post
from pipeline.evaluate import judge as judging
from pipeline.evaluate.seemore import SeeMore, train
from pipeline.evaluate.similarity import similarity_report
from pipeline.evaluate.style import against_base, load_lexicon, post_metrics, summarize
from pipeline.errors import UserError

VIRAL = chosen_post("hiring", 1)
GENERIC = rejected_post("hiring", 1)


def test_style_metrics_of_one_post():
    m = post_metrics(VIRAL)
    assert m["hook_words"] == 7  # "I got hiring wrong for 3 years."
    assert m["lines"] == 6 and m["bullet_share"] == pytest.approx(3 / 6)
    assert m["blank_line_share"] == pytest.approx(3 / 9)
    assert m["fluff_per_100_words"] == 0 and m["structural_entropy"] > 1.0
    g = post_metrics(GENERIC)
    assert g["lines"] == 1 and g["bullet_share"] == 0 and g["structural_entropy"] == 0
    # "In today's fast-paced world", "incredibly", "truly", "transformative", "leverage", "unlock", "seamless", "synergy"
    assert g["fluff_per_100_words"] > 20


def test_lexicon_is_a_data_file_matched_on_word_boundaries(tmp_path):
    lexicon = tmp_path / "lexicon.txt"
    lexicon.write_text("# comment\nsynergy\nat the end of the day\n")
    pattern = load_lexicon(lexicon)
    assert len(pattern.findall("Synergy! At the end\nof the day, synergyish synergy.")) == 3
    assert post_metrics("synergyish words only", pattern)["fluff_per_100_words"] == 0


def test_summary_and_change_against_the_base():
    base = summarize([GENERIC, GENERIC])
    tuned = against_base(summarize([VIRAL, GENERIC]), base)
    assert base["short_hook_rate"] == 0 and tuned["short_hook_rate"] == 0.5 and tuned["bullet_post_rate"] == 0.5
    flat = summarize(["one two three\nfour five", "one two\nthree four five"])
    varied = against_base(summarize([VIRAL]), flat)
    assert flat["line_length_variance"] == 0.25 and varied["variance_change_vs_base"] > 0.2
    assert varied["variance_target_met"] is True


def test_rule_judge_prefers_the_rubric_and_asks_both_orders():
    scores = judging.rubric_scores(VIRAL)
    assert scores == {"hook": 5, "formatting": 5, "no_fluff": 5, "total": 15}
    assert judging.rubric_scores(GENERIC)["total"] < 8
    report = judging.judge_variants(judging.make_judge("rule"), ["b1", "b2"],
                                    {"base": [GENERIC, VIRAL], "dpo": [VIRAL, VIRAL]})
    assert report["dpo_vs_base"] == {"win": 0.5, "tie": 0.5, "loss": 0.0, "n": 2, "order_agreement": 1.0}
    assert judging.make_judge("none") is None
    with pytest.raises(UserError, match="unknown judge"):
        judging.make_judge("gpt4")


class AlwaysFirst:
    """A position-biased LLM: answers "A" whatever the posts (stands in for a remote judge)."""

    def chat(self, conversations, *, max_new_tokens=256, temperature=0.0):
        assert all("Post A:" in c[-1]["content"] and "Post B:" in c[-1]["content"] for c in conversations)
        return ["A"] * len(conversations)


def test_teacher_judge_cancels_position_bias():
    report = judging.judge_variants(judging.TeacherJudge(AlwaysFirst(), "biased"), ["b"] * 3,
                                    {"base": [GENERIC] * 3, "sft": [VIRAL] * 3})
    assert report["sft_vs_base"]["tie"] == 1.0 and report["sft_vs_base"]["order_agreement"] == 0.0


def test_teacher_judge_with_a_local_model(tiny_model_dir, tmp_path):
    from pipeline.teacher import make_teacher

    teacher = make_teacher("local", local_model=str(tiny_model_dir), cache_dir=tmp_path / "cache")
    judge = judging.TeacherJudge(teacher, "local")
    report = judging.judge_variants(judge, ["Write about hiring"], {"base": [GENERIC], "dpo": [VIRAL]})
    result = report["dpo_vs_base"]
    assert result["n"] == 1 and result["win"] + result["tie"] + result["loss"] == pytest.approx(1.0)
    assert 0 <= report["unparsed_replies"] <= 2 and teacher.generated == 2  # both orders were asked


def test_similarity_and_diversity():
    same = similarity_report([VIRAL, VIRAL], [VIRAL])
    assert same["gold_similarity"] == pytest.approx(1.0, abs=1e-3) and same["diversity"] == pytest.approx(0, abs=1e-3)
    gold = [chosen_post("pricing", 4), chosen_post("burnout", 5)]
    viral, generic = similarity_report([VIRAL], gold), similarity_report([GENERIC], gold)
    assert viral["gold_similarity"] > generic["gold_similarity"] + 0.1
    assert similarity_report([VIRAL, GENERIC], gold)["diversity"] > 0.2


def test_see_more_proxy_learns_engagement_from_text():
    proxy = train(posts(40))
    assert isinstance(proxy, SeeMore)
    assert proxy.report["held_out"] == 10 and proxy.report["accuracy"] >= 0.8 and proxy.report["auc"] >= 0.8
    assert proxy.probability([chosen_post("pricing", 30)]) > proxy.probability([rejected_post("pricing", 30)])
    assert "needs 12+" in train(posts(6))["skipped"]
