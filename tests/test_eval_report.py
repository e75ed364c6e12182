"""Reward margins, perplexity and the eval.json report on real SFT/DPO adapters."""

from __future__ import annotations

import json
import math
import shutil
from dataclasses import replace

import pytest

from conftest import last_json, run_cli
from support.ada_data import dpo_rows
from support.trained_runs import ONE_THREAD_ENV
from pipeline.evaluate.margins import encode_pairs, reward_margins, summarize
from pipeline.evaluate.perplexity import encode_examples, perplexity
from pipeline.evaluate.report import EvalSettings, evaluate_run
from pipeline.scoring import completion_logprobs, encode
from pipeline.serving.variants import Variants

pytestmark = pytest.mark.usefixtures("one_thread")
QUIET = dict(log=lambda *a, **k: None)


@pytest.fixture(scope="module")
def variants(lora_runs):
    return Variants.from_run(lora_runs["dpo"], **QUIET)


def test_completion_logprob_matches_a_direct_computation(variants):
    import torch

    tokenizer = variants.tokenizer
    row = dpo_rows(1)[0]
    seq = encode(tokenizer, row["prompt"], row["chosen"], 1024)
    text = tokenizer.apply_chat_template(row["prompt"] + row["chosen"], tokenize=False)
    assert tokenizer.decode(seq.prompt + seq.completion) == text  # prompt + completion = the whole chat
    with variants.use("dpo") as model:
        (total, count), = completion_logprobs(model, [seq], precision="float32")
        ids = torch.tensor([seq.prompt + seq.completion])
        logp = model(input_ids=ids).logits[0, :-1].log_softmax(-1)
        direct = logp.gather(-1, ids[0, 1:, None])[len(seq.prompt) - 1:].sum().item()
    assert count == len(seq.completion) and total == pytest.approx(direct, abs=1e-3)


def test_batched_margins_equal_one_pair_at_a_time_and_order_the_variants(variants, lora_runs):
    from pipeline.data.folder import read_pairs

    pairs = encode_pairs(variants.tokenizer, read_pairs(lora_runs["data"] / "dpo" / "test.jsonl"))
    results = {}
    for column in ("base", "sft", "dpo"):
        with variants.use(column) as model:
            batched = reward_margins(model, pairs, batch_size=4, precision="float32")
            assert batched == pytest.approx(reward_margins(model, pairs, per_pair=True, precision="float32"), abs=1e-3)
            # bf16 matmuls (what precision=auto picks on a CPU with native bf16): close, not exact
            assert reward_margins(model, pairs, precision="bfloat16") == pytest.approx(batched, abs=0.1 + 0.05 * max(map(abs, batched)))
            results[column] = summarize(batched)
    assert results["base"]["mean"] < results["sft"]["mean"] < results["dpo"]["mean"]
    assert all(r["pairs"] == 6 and 0 <= r["chosen_win_rate"] <= 1 for r in results.values())


def test_pair_rows_score_like_separate_sequences_with_eager_attention(tiny_model_dir):
    """The one-row-per-pair 4D mask also works where attention adds the mask to its scores (eager)."""
    from transformers import AutoModelForCausalLM

    from pipeline.scoring import pair_logprobs
    from pipeline.models import load_tokenizer

    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir, attn_implementation="eager").eval()
    pairs = encode_pairs(load_tokenizer(tiny_model_dir), dpo_rows(3))
    flat = completion_logprobs(model, [s for pair in pairs for s in pair], precision="float32")
    paired = pair_logprobs(model, pairs, precision="float32")
    assert [v for pair in paired for v in pair] == pytest.approx([total for total, _ in flat], abs=1e-3)


def test_long_sequences_are_cut_keeping_the_completion(variants):
    row = dpo_rows(1)[0]
    seq = encode(variants.tokenizer, row["prompt"], row["chosen"], 32)
    assert seq.truncated and len(seq.prompt) + len(seq.completion) == 32 and len(seq.completion) == 24
    with variants.use("sft") as model:
        ppl = perplexity(model, encode_examples(variants.tokenizer, [{"prompt": row["prompt"],
                                                                       "completion": row["chosen"]}]))
    assert math.isfinite(ppl) and ppl > 1


@pytest.fixture(scope="module")
def evaluated(variants, lora_runs, tmp_path_factory):
    """One finished evaluation: (what evaluate_run returned, the eval.json it wrote)."""
    out = tmp_path_factory.mktemp("eval") / "eval.json"
    settings = EvalSettings(limit=5, max_new_tokens=12, judge="rule", few_shot=3, bootstrap=50)
    report = evaluate_run(lora_runs["dpo"], lora_runs["data"], settings, variants=variants, out_path=out, **QUIET)
    return report, json.loads(out.read_text())


def test_evaluate_run_writes_the_report(evaluated, lora_runs):
    report, saved = evaluated
    assert saved["margins"] == report["margins"] and set(saved["margins"]) == {"base", "sft", "dpo"}
    assert saved["margins"]["base"] < saved["margins"]["sft"] < saved["margins"]["dpo"]
    assert set(saved["chosen_win_rate"]) == set(saved["perplexity"]) == {"base", "sft", "dpo"}
    columns = {"base", "fewshot", "sft", "dpo"}
    assert set(saved["style"]) == columns | {"gold"} and "variance_change_vs_base" in saved["style"]["gold"]
    # these posts.jsonl rows have no split, so gold falls back to the held-out chosen posts (never training posts)
    assert saved["style"]["gold"]["posts"] == 6 and saved["gold"]["source"] == "chosen posts of the held-out pairs"
    for column, detail in saved["margins_detail"].items():
        assert detail["low"] <= detail["mean"] <= detail["high"] and detail["mean"] == saved["margins"][column]
        assert detail["per_token"]["low"] <= detail["per_token"]["mean"] <= detail["per_token"]["high"]
    assert saved["rejected_generators"] == {"margins": "unknown (no report.json)", "margins_other_generator": "base"}
    assert set(saved["margins_other_generator"]) == {"base", "sft", "dpo"}
    assert saved["margins_other_generator"]["base"]["pairs"] == 5  # the base answers to the 5 generated briefs
    voice = saved["voice"]  # the scorecard: every column, the few-shot one included, with floor and ceiling
    assert set(voice["columns"]) == columns and list(voice["columns"])[:2] == ["base", "fewshot"]
    for column in voice["columns"].values():
        low, high = column["auc_interval"]
        assert low <= column["auc"] <= high and 4 <= column["detection"]["n_other"] <= 5
        assert column["score"] is None or 0 <= column["score"] <= 1
        assert column["fluency_ratio"] > 0 and "overall" in column["profile_match"]
    assert voice["ceiling"]["n_real"] >= 4 and "other people" in voice["floors"]
    assert voice["verdict"].startswith("Sounds like you: ") and "DPO" in voice["verdict"]
    assert set(voice["few_shot"]) == {"sft", "dpo"} and voice["few_shot"]["dpo"] in ("beats", "ties", "loses to")
    assert voice["verdict"].endswith({"beats": "it beats few-shot prompting.", "ties": "few-shot prompting does as well.",
                                      "loses to": "few-shot prompting does better."}[voice["few_shot"]["dpo"]])
    assert "voice_rate" not in saved and "authorship" not in saved
    assert set(saved["burrows_delta"]) == {"skipped"} or set(saved["burrows_delta"]["delta"]) == columns
    assert set(saved["similarity"]) == columns
    assert set(saved["judge"]) == {"judge", "fewshot_vs_base", "sft_vs_base", "dpo_vs_base"}
    assert saved["see_more"]["classifier"]["auc"] is not None and set(saved["see_more"]["probability"]) == \
        columns | {"gold"}
    assert saved["split"] == {"name": "test", "source": str(lora_runs["data"] / "dpo" / "test.jsonl"), "made": False}
    assert len(saved["samples"]) == 3 and saved["notices"] == []


def test_the_evaluate_tab_leads_with_the_verdict_the_scorecard_backs(evaluated):
    from ui.evaluate_tab import report_views

    _, saved = evaluated
    text, bars, scorecard, profile, figures, style = report_views(saved)
    voice = saved["voice"]
    assert text.startswith(f"### {voice['verdict']}") and "Sounds like you: " in text
    assert f"Your own posts score **{voice['ceiling']['auc']:.4g}** (the ceiling)" in text
    assert "Against few-shot prompting" in text and "p = )" not in text
    assert list(scorecard["column"]) == list(voice["columns"])
    assert scorecard.iloc[0, 1].startswith(f"{voice['columns']['base']['auc']:.4g} [")
    assert bars.axes[0].get_xlim() == (0.0, 1.0)  # the bar axis runs from 0 to 1, floor and ceiling marked
    assert {line.get_label().split(":")[0] for line in bars.axes[0].lines if not line.get_label().startswith("_")} == \
        {"ceiling", "floor"}
    assert profile is not None and set(figures["better"]) >= {"higher = prefers your posts", "lower = closer word use"}
    assert style is not None
    old = {k: v for k, v in saved.items() if k != "voice"}
    assert report_views(old)[0].startswith("**This eval.json predates the voice scorecard")
    skipped = {**saved, "voice": {"verdict": "No voice verdict: too few texts", "skipped": "too few texts"}}
    table = report_views(skipped)[2]  # headers without rows, not Gradio's placeholder 1 2 3
    assert table.empty and list(table.columns) == list(scorecard.columns)


def test_the_few_shot_prompt_holds_k_training_posts_and_no_held_out_one(lora_runs):
    from pipeline.data.folder import DataFolder
    from pipeline.evaluate.report import load_held_out, training_pairs
    from pipeline.serving.fewshot import few_shot_examples, few_shot_prompt

    held_out = load_held_out(None, lora_runs["data"], EvalSettings())
    examples = few_shot_examples(training_pairs(held_out), 4, seed=0)
    prompt = few_shot_prompt(examples, held_out.briefs[0])
    answers = [m["content"] for m in prompt if m["role"] == "assistant"]
    train_posts = {r["chosen"][-1]["content"] for r in DataFolder(lora_runs["data"]).pairs("train")}
    held_posts = {r["chosen"][-1]["content"] for split in ("validation", "test")
                  for r in DataFolder(lora_runs["data"]).pairs(split)}
    assert len(answers) == 4 and set(answers) <= train_posts and not set(answers) & held_posts
    system, *turns = held_out.briefs[0]
    assert prompt[0] == system and prompt[-len(turns):] == turns  # the brief's system turn first, its request last
    assert few_shot_examples(training_pairs(held_out), 4, seed=1) != examples  # the seed picks them
    # a split carved from train keeps its held-out rows out of the examples
    carved = replace(held_out, split={"name": "train", "made": True, "rows": list(range(10))})
    assert len(training_pairs(carved)) == len(DataFolder(lora_runs["data"]).pairs("train")) - 10


def test_defaults_score_a_seeded_sample_not_everything(lora_runs):
    from pipeline.evaluate.report import load_held_out

    small = load_held_out(None, lora_runs["data"], EvalSettings(limit=3, max_pairs=4, seed=0))
    again = load_held_out(None, lora_runs["data"], EvalSettings(limit=3, max_pairs=4, seed=0))
    other = load_held_out(None, lora_runs["data"], EvalSettings(limit=3, max_pairs=4, seed=5))
    assert len(small.pairs) == 4 and len(small.examples) == 4 and len(small.briefs) == 3
    assert small.pairs == again.pairs and small.briefs == again.briefs and small.pairs != other.pairs
    assert len(load_held_out(None, lora_runs["data"], EvalSettings(max_pairs=0)).pairs) == 6  # 0 = all


def test_no_held_out_split_makes_one_and_says_so(variants, lora_runs, tmp_path):
    data = tmp_path / "data"
    (data / "dpo").mkdir(parents=True)
    shutil.copy(lora_runs["data"] / "dpo" / "train.jsonl", data / "dpo" / "train.jsonl")
    settings = EvalSettings(limit=1, max_new_tokens=4, judge="none")
    report = evaluate_run(None, data, settings, variants=variants, out_path=tmp_path / "eval.json", **QUIET)
    assert report["split"]["made"] is True and report["pairs"] == 1
    assert any("no held-out split" in n and "optimistic" in n for n in report["notices"])
    assert any("perplexity is measured on the chosen posts" in n for n in report["notices"])
    assert report["see_more"]["classifier"] == {"skipped": "no posts.jsonl in the data folder."}
    assert report["judge"] == {"judge": "none"}
    assert "skipped" in report["voice"] and report["voice"]["verdict"].startswith("No voice verdict")


def test_bad_eval_input_is_one_line_error(lora_runs, tmp_path):
    bad = tmp_path / "bad"
    (bad / "dpo").mkdir(parents=True)
    (bad / "dpo" / "test.jsonl").write_text('{"prompt": "p", "chosen": "c"}\n')
    result = run_cli("eval", "--run", str(lora_runs["dpo"]), "--data", str(bad), "--json", env=ONE_THREAD_ENV)
    assert result.returncode == 2
    error = last_json(result.stdout)["error"]
    assert "test.jsonl:1: missing field(s) rejected" in error
    assert not (lora_runs["dpo"] / "eval.json").exists()


@pytest.mark.slow
def test_eval_cli_json_line(lora_runs, tmp_path):
    out = tmp_path / "cli-eval.json"
    result = run_cli("eval", "--run", str(lora_runs["dpo"]), "--limit", "1", "--max-new-tokens", "8",
                     "--out", str(out), "--json", env=ONE_THREAD_ENV)
    assert result.returncode == 0, result.stderr
    summary = last_json(result.stdout)
    for key in ("margins", "chosen_win_rate", "perplexity"):
        assert set(summary[key]) == {"base", "sft", "dpo"}
    assert set(summary["style"]) == {"base", "fewshot", "sft", "dpo", "gold"} and summary["eval_path"] == str(out)
    assert summary["margins"]["base"] < summary["margins"]["sft"] < summary["margins"]["dpo"]
