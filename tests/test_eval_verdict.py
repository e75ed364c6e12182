"""The words eval.json puts on the voice scorecard: the headline, the few-shot comparison, the
contradictions between figures, and the briefs the intervals need; on hand-made scorecards."""

from pipeline.evaluate.voice_report import annotate, briefs_to_separate, few_shot_verdicts


def _column(auc, low, high, score=0.1, fluency=1.0, garbled=False, n=24):
    return {"auc": auc, "auc_interval": [low, high], "score": score, "fluency_ratio": fluency, "garbled": garbled,
            "detection": {"n_other": n}}


def _voice(**columns):
    return {"columns": columns, "ceiling": {"auc": 0.52}, "floor_auc": 0.9}


def test_the_headline_says_how_often_the_detector_tells_the_policy_apart_and_how_it_fares_against_few_shot():
    voice = annotate(_voice(base=_column(1.0, 0.98, 1.0, 0.0), fewshot=_column(0.9, 0.82, 0.96),
                            sft=_column(0.89, 0.8, 0.95), dpo=_column(0.87, 0.79, 0.94)), {}, {})
    assert voice["few_shot"] == {"sft": "ties", "dpo": "ties"}
    assert voice["verdict"] == ("Sounds like you: not yet. A detector tells DPO from your posts 9 times in 10; "
                                "few-shot prompting does as well.")
    better = annotate(_voice(base=_column(1.0, 0.98, 1.0), fewshot=_column(0.95, 0.9, 0.99),
                             dpo=_column(0.52, 0.42, 0.62, score=0.9)), {}, {})
    assert better["verdict"] == ("Sounds like you: yes. A detector cannot tell DPO from your posts better than a coin "
                                 "toss; it beats few-shot prompting.")
    worse = few_shot_verdicts({"fewshot": _column(0.6, 0.5, 0.7), "sft": _column(0.95, 0.9, 1.0)})
    assert worse == {"sft": "loses to"}
    garbled = annotate(_voice(base=_column(1.0, 1.0, 1.0), dpo=_column(0.6, 0.5, 0.7, 0.8, 2.0, True)), {}, {})
    assert garbled["verdict"].startswith("Sounds like you: no, its text is garbled.")
    assert any("garbled" in c for c in garbled["contradictions"])
    assert annotate({"skipped": "too few texts"}, {}, {})["verdict"] == "No voice verdict: too few texts"


def test_contradictions_are_flagged_not_hidden():
    voice = _voice(base=_column(1.0, 0.98, 1.0), dpo=_column(0.8, 0.7, 0.9))  # the detector: DPO is closer
    found = annotate(voice, {"delta": {"base": 0.30, "dpo": 0.40}}, {"base": -5.0, "dpo": -9.0})["contradictions"]
    assert found == [
        "the detector says DPO is closer to your voice than base, but Burrows' Delta rises (0.3 -> 0.4; lower = closer).",
        "the detector says DPO is closer to your voice than base, but the reward margin falls (-5.0 -> -9.0; higher = "
        "prefers your posts)."]
    agreeing = annotate(voice, {"delta": {"base": 0.40, "dpo": 0.30}}, {"base": -9.0, "dpo": 5.0})
    assert agreeing["contradictions"] == []
    same = _voice(base=_column(1.0, 1.0, 1.0), dpo=_column(1.0, 1.0, 1.0))  # no difference: nothing to contradict
    assert annotate(same, {"delta": {"base": 0.3, "dpo": 0.4}}, {"base": -9.0, "dpo": 5.0})["contradictions"] == []


def test_briefs_to_separate_grow_as_the_gap_shrinks():
    wide = {"base": _column(0.9, 0.8, 1.0, n=24), "dpo": _column(0.7, 0.6, 0.8, n=24)}
    assert briefs_to_separate(wide) == 24  # the intervals just touch: the sample already separates them
    close = {"base": _column(0.9, 0.8, 1.0, n=24), "dpo": _column(0.85, 0.75, 0.95, n=24)}
    assert briefs_to_separate(close) == 384  # (0.2 / 0.05)^2 x 24
    assert briefs_to_separate({"base": close["base"]}) is None


def test_the_terminal_report_leads_with_the_verdict_then_the_scorecard():
    from pipeline.evaluate.cli import report_lines

    detection = {"auc": 0.87, "low": 0.79, "high": 0.94, "n_other": 24}
    column = {**_column(0.87, 0.79, 0.94, score=0.2, fluency=1.1), "detection": detection}
    voice = annotate({**_voice(base={**column, "auc": 1.0, "detection": {**detection, "auc": 1.0}}, dpo=column),
                      "ceiling": {**detection, "auc": 0.52}, "floors": {"other people": {**detection, "auc": 0.9}}},
                     {"delta": {"base": 0.3, "dpo": 0.4}}, {})
    lines = report_lines({"voice": voice, "margins": {"dpo": 1.0}, "chosen_win_rate": {"dpo": 0.8},
                          "perplexity": {"dpo": 12.0}, "notices": ["a notice"]})
    assert lines[0] == voice["verdict"] and lines[1].startswith("ceiling (your held-out vs training posts): AUC 0.52")
    assert "dpo: AUC 0.87 [0.79, 0.94] (n=24), voice score 0.2, fluency 1.1x" in lines
    assert any(line.startswith("contradiction: the detector says DPO is closer") for line in lines)
    assert lines[-1] == "notice: a notice"
