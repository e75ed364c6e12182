"""Push run adapters to the loopback Hub, load them back with PEFT, parse the cards, pull them."""

from __future__ import annotations

import json

import pytest

from support.hub_data import EVAL

PROMPT_IDS = [[1, 17, 42, 99, 7, 300, 12]]


def _logits_and_greedy(model):
    import torch

    ids = torch.tensor(PROMPT_IDS)
    with torch.no_grad():
        logits = model(ids).logits
        tokens = model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=8, do_sample=False,
                                pad_token_id=0)[0, ids.shape[1]:].tolist()
    return logits, tokens


def _base(tiny_model_dir):
    import torch
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(str(tiny_model_dir), dtype=torch.float32).eval()


def test_sft_adapter_round_trip_with_peft_and_model_card(hub, hub_runs, tiny_model_dir):
    import torch
    from huggingface_hub import ModelCard
    from peft import PeftModel

    from pipeline.hub.runs import push_run

    result = push_run(hub_runs["sft"], "alice/ada-sft", base_model="HuggingFaceTB/SmolLM2-135M-Instruct",
                      dataset_repo="alice/ada-posts", log=lambda *a: None)
    assert result.changed and result.url == f"{hub.endpoint}/alice/ada-sft"
    assert hub.repos[("model", "alice/ada-sft")].head.message.startswith("SFT adapter from run sft-1: add README.md")

    local = PeftModel.from_pretrained(_base(tiny_model_dir), str(hub_runs["sft"] / "adapter")).eval()
    remote = PeftModel.from_pretrained(_base(tiny_model_dir), "alice/ada-sft").eval()
    (local_logits, local_tokens), (remote_logits, remote_tokens) = map(_logits_and_greedy, (local, remote))
    base_logits, _ = _logits_and_greedy(_base(tiny_model_dir))
    assert not torch.allclose(base_logits, local_logits, atol=1e-3)  # the adapter really changes the model
    assert torch.equal(local_logits, remote_logits) and local_tokens == remote_tokens

    card = ModelCard.load("alice/ada-sft")
    assert card.data.base_model == "HuggingFaceTB/SmolLM2-135M-Instruct"
    assert card.data.library_name == "peft" and card.data.pipeline_tag == "text-generation"
    assert card.data.license == "apache-2.0" and card.data.datasets == ["alice/ada-posts"]
    assert {"trl", "sft", "qlora", "voicetune"} <= set(card.data.tags) and "unsloth" not in card.data.tags
    results = {r.metric_type: r.metric_value for r in card.data.eval_results}
    assert results == {"reward_margin": EVAL["margins"]["sft"], "accuracy": EVAL["chosen_win_rate"]["sft"],
                       "perplexity": EVAL["perplexity"]["sft"]}
    assert "| learning_rate | 0.0002 |" in card.text and "| dpo | 1.8700 | 0.83 |" in card.text
    assert 'PeftModel.from_pretrained(base, "alice/ada-sft")' in card.text
    assert "/home/ada" not in card.text and "hf_test" not in card.text

    uploaded = json.loads(hub.file_bytes("model", "alice/ada-sft", "adapter_config.json"))
    assert uploaded["base_model_name_or_path"] == "HuggingFaceTB/SmolLM2-135M-Instruct"
    run_info = json.loads(hub.file_bytes("model", "alice/ada-sft", "voicetune_run.json"))
    assert run_info["kind"] == "sft" and "base_model_path" not in run_info and "/home/ada" not in json.dumps(run_info)


def test_dpo_run_with_exact_combined_adapter_then_pull(hub, hub_runs, tiny_model_dir, tmp_path):
    import torch
    from peft import PeftModel

    from pipeline.hub.runs import pull_adapter, push_run
    from pipeline.workspace import Run

    first = push_run(hub_runs["dpo"], "alice/ada-dpo", combined=True, log=lambda *a: None)
    repo = hub.repos[("model", "alice/ada-dpo")]
    assert {"adapter_model.safetensors", "sft/adapter_model.safetensors", "combined/adapter_model.safetensors",
            "README.md"} <= set(repo.head.files)
    assert repo.head.files["combined/adapter_model.safetensors"].lfs

    stacked = PeftModel.from_pretrained(_base(tiny_model_dir), str(hub_runs["sft"] / "adapter"), adapter_name="sft")
    stacked.load_adapter(str(hub_runs["dpo"] / "adapter"), adapter_name="dpo")
    stacked.base_model.set_adapter(["sft", "dpo"], inference_mode=True)
    combined = PeftModel.from_pretrained(_base(tiny_model_dir), "alice/ada-dpo", subfolder="combined").eval()
    (stacked_logits, stacked_tokens), (combined_logits, combined_tokens) = map(_logits_and_greedy, (stacked.eval(), combined))
    assert torch.allclose(stacked_logits, combined_logits, atol=1e-4, rtol=1e-4) and stacked_tokens == combined_tokens

    # Re-push without --combined: the stale combined/ goes, in one commit whose message says so.
    second = push_run(hub_runs["dpo"], "alice/ada-dpo", log=lambda *a: None)
    assert second.changed and not any(p.startswith("combined/") for p in repo.head.files)
    assert repo.head.message == ("DPO adapter from run dpo-1: update README.md; "
                                 "delete combined/adapter_config.json, combined/adapter_model.safetensors")
    assert not push_run(hub_runs["dpo"], "alice/ada-dpo", log=lambda *a: None).changed

    # Pull the first revision (which had combined/) as a run folder with its parent SFT run.
    out = pull_adapter("alice/ada-dpo", first.commit, tmp_path / "runs" / "pulled-dpo", log=lambda *a: None)
    run = Run(out)
    config = run.config()
    assert config["kind"] == "dpo" and config["source"]["commit"] == first.commit and run.status()["state"] == "done"
    parent = Run(out / "parent")
    assert config["parent"] == str(parent.path) and parent.has_adapter() and parent.config()["kind"] == "sft"
    for pulled, original in ((run.adapter_dir, hub_runs["dpo"]), (parent.adapter_dir, hub_runs["sft"])):
        assert (pulled / "adapter_model.safetensors").read_bytes() == (original / "adapter" / "adapter_model.safetensors").read_bytes()
    assert (out / "combined" / "adapter_config.json").is_file() and not (out / ".download").exists()


def test_merged_full_model_matches_the_adapter(hub, hub_runs, tiny_model_dir):
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    from pipeline.hub.runs import push_run

    from huggingface_hub import ModelCard

    result = push_run(hub_runs["sft"], "alice/ada", merged=True, log=lambda *a: None)
    assert [r.url for r in result.related] == [f"{hub.endpoint}/alice/ada-merged"]
    merged = AutoModelForCausalLM.from_pretrained("alice/ada-merged", dtype=torch.float32).eval()
    card = ModelCard.load("alice/ada-merged")
    assert card.data.library_name == "transformers" and "merged" in card.data.tags
    assert "[alice/ada-merged](https://huggingface.co/alice/ada-merged)" in ModelCard.load("alice/ada").text
    from pipeline.models import nf4_config

    # the fixture's run trained on a 4-bit base: the merged model is the trained policy, Q(W) + dSFT
    trained_base = AutoModelForCausalLM.from_pretrained(str(tiny_model_dir), dtype=torch.float32, device_map={"": "cpu"},
                                                        quantization_config=nf4_config(torch.float32)).dequantize()
    local = PeftModel.from_pretrained(trained_base, str(hub_runs["sft"] / "adapter")).eval()
    (merged_logits, merged_tokens), (local_logits, local_tokens) = map(_logits_and_greedy, (merged, local))
    assert torch.allclose(merged_logits, local_logits, atol=1e-4, rtol=1e-4) and merged_tokens == local_tokens


def test_combined_needs_a_dpo_run_with_a_parent(hub, hub_runs):
    from pipeline.errors import UserError
    from pipeline.hub.runs import push_run

    with pytest.raises(UserError, match="this run is an SFT run"):
        push_run(hub_runs["sft"], "alice/x", combined=True, log=lambda *a: None)
    assert hub.requests == []


def test_cli_push_run_then_pull_json(hub, hub_runs, tmp_path):
    from conftest import last_json, run_cli

    proc = run_cli("push", "--run", str(hub_runs["sft"]), "--repo", "alice/cli-sft", "--json", timeout=120)
    assert proc.returncode == 0, proc.stderr
    pushed = last_json(proc.stdout)
    assert pushed["url"] == f"{hub.endpoint}/alice/cli-sft" and pushed["commit"] == hub.repos[("model", "alice/cli-sft")].head.sha

    proc = run_cli("pull", "--repo", "alice/cli-sft", "--out", str(tmp_path / "runs" / "pulled"), "--json", timeout=120)
    assert proc.returncode == 0, proc.stderr
    pulled = last_json(proc.stdout)
    assert pulled["commit"] == pushed["commit"] and pulled["kind"] == "sft" and pulled["parent"] is None
    assert (tmp_path / "runs" / "pulled" / "adapter" / "adapter_model.safetensors").is_file()

    proc = run_cli("push", "--run", str(tmp_path / "runs" / "missing"), "--repo", "alice/cli-sft", timeout=120)
    assert proc.returncode == 2 and proc.stderr.startswith("error: ") and "Traceback" not in proc.stderr


@pytest.mark.parametrize("value, expected", [(0.5, 0.5), ({"sft": 0.6, "dpo": 2.0}, 0.6), ({"sft": {"mean": 0.7}}, 0.7),
                                             ({"dpo": 1.0}, None), (True, None), (None, None)])
def test_eval_json_numbers_are_read_in_each_shape(value, expected):
    from pipeline.hub.runs import _stage_value

    assert _stage_value(value, "sft", "mean") == expected


def test_grpo_run_pushes_its_chain_and_its_card_names_the_reward(hub, hub_runs, tiny_model_dir, tmp_path):
    import torch
    from huggingface_hub import ModelCard
    from peft import PeftModel
    from support.hub_data import write_hub_run

    from pipeline.errors import UserError
    from pipeline.hub.runs import pull_adapter, push_run

    run = write_hub_run(tmp_path / "runs", "grpo-1", "grpo", tiny_model_dir, hub_runs["dpo"], seed=3,
                        targets=["q_proj", "v_proj"])
    config = json.loads((run / "config.json").read_text())
    config["settings"].update(group_size=6, briefs_per_step=2, beta=0.02, voice_weight=1.0, fluency_weight=0.5,
                              adherence_weight=0.0, form_weight=0.25, judge_weight=0.0)
    config["reward"] = {"weights": {"voice": 1.0, "fluency": 0.5, "form": 0.25}, "voice_fit": "the training posts only"}
    (run / "config.json").write_text(json.dumps(config))

    with pytest.raises(UserError, match="a GRPO run"):
        push_run(run, "alice/ada-grpo", combined=True, log=lambda *a: None)
    push_run(run, "alice/ada-grpo", log=lambda *a: None)
    files = set(hub.repos[("model", "alice/ada-grpo")].head.files)
    assert {"adapter_model.safetensors", "sft/adapter_model.safetensors", "dpo/adapter_model.safetensors"} <= files

    card = ModelCard.load("alice/ada-grpo")
    assert "grpo" in card.data.tags and "Group Relative Policy Optimization (GRPO) with a voice reward" in card.text
    assert "6 answers to each of 2 training briefs" in card.text and "(beta 0.02)" in card.text
    assert "| voice | 1.0 |" in card.text and "| fluency | 0.5 |" in card.text and "| form | 0.25 |" in card.text
    assert "| adherence |" not in card.text and "| judge |" not in card.text
    assert 'model.base_model.set_adapter(["sft", "dpo", "grpo"])' in card.text

    # The card's loading code (PEFT, from the Hub) serves the same policy as the local chain stacked.
    remote = PeftModel.from_pretrained(_base(tiny_model_dir), "alice/ada-grpo", subfolder="sft", adapter_name="sft")
    remote.load_adapter("alice/ada-grpo", subfolder="dpo", adapter_name="dpo")
    remote.load_adapter("alice/ada-grpo", adapter_name="grpo")
    remote.base_model.set_adapter(["sft", "dpo", "grpo"], inference_mode=True)
    local = PeftModel.from_pretrained(_base(tiny_model_dir), str(hub_runs["sft"] / "adapter"), adapter_name="sft")
    local.load_adapter(str(hub_runs["dpo"] / "adapter"), adapter_name="dpo")
    local.base_model.set_adapter(["sft", "dpo"], inference_mode=True)
    without_grpo, _ = _logits_and_greedy(local.eval())
    local.load_adapter(str(run / "adapter"), adapter_name="grpo")
    local.base_model.set_adapter(["sft", "dpo", "grpo"], inference_mode=True)
    (remote_logits, remote_tokens), (local_logits, local_tokens) = map(_logits_and_greedy, (remote.eval(), local.eval()))
    assert torch.equal(remote_logits, local_logits) and remote_tokens == local_tokens
    assert not torch.allclose(without_grpo, local_logits, atol=1e-3)  # the GRPO delta is really active

    with pytest.raises(UserError, match="GRPO repo"):
        pull_adapter("alice/ada-grpo", None, tmp_path / "runs" / "pulled", log=lambda *a: None)
    assert not (tmp_path / "runs" / "pulled").exists()
