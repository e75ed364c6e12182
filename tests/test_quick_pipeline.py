"""The product's promise on the real default model and the sample posts: the quick presets take
SFT then DPO through the CLI, the held-out reward margins come out ordered base < SFT < DPO, and
the authorship test calls few of the untrained voice's posts the author's and more of a trained
one's. The untrained voice is the base column: a voice trained for 0 steps is the base model (a
LoRA adapter starts at zero)."""

from __future__ import annotations

import pytest
from conftest import last_json, run_cli

SAMPLE = "examples/posts.csv"


@pytest.mark.slow
def test_quick_sft_then_dpo_orders_the_margins_on_the_default_model(tmp_path, default_model_dir):
    data, sft, dpo = tmp_path / "data", tmp_path / "runs" / "sft", tmp_path / "runs" / "dpo"
    steps = [
        ("data", "build", "--input", SAMPLE, "--out", str(data)),
        ("train", "sft", "--data", str(data), "--out", str(sft), "--preset", "quick"),
        ("train", "dpo", "--data", str(data), "--sft", str(sft), "--out", str(dpo), "--preset", "quick"),
        # margins and perplexity on every test pair; 8 short posts per variant (+ 8 base answers to
        # training briefs for the authorship test) keep generation brief
        ("eval", "--run", str(dpo), "--data", str(data), "--split", "test", "--limit", "8",
         "--max-new-tokens", "64", "--authorship-answers", "8", "--judge", "none"),
    ]
    summaries = []
    for argv in steps:
        result = run_cli(*argv, "--json", timeout=900)
        assert result.returncode == 0, result.stderr[-2000:]
        summaries.append(last_json(result.stdout))
    trained_dpo, report = summaries[2], summaries[3]
    assert summaries[1]["steps"] == 40 and trained_dpo["steps"] == 30
    assert trained_dpo["final_margin"] > 0 and trained_dpo["final_logratio_drift"] < 0.2
    margins = report["margins"]
    assert report["pairs"] >= 5
    assert margins["base"] < margins["sft"] < margins["dpo"], margins
    assert report["chosen_win_rate"]["dpo"] > report["chosen_win_rate"]["base"]
    voice = report["voice_rate"]
    assert report["authorship"]["auc"] >= 0.8, report["authorship"]  # held-out posts vs held-out base answers
    assert voice["base"]["mean"] <= 0.25 and voice["base"]["n"] == 8, voice
    assert max(voice["sft"]["mean"], voice["dpo"]["mean"]) >= voice["base"]["mean"] + 0.25, voice
