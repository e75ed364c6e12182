"""DPO on the tiny model: the reference is the SFT policy, the saved adapter is only the DPO delta
(base + SFT + DPO adapters active together = the trained policy), the CLI's --json and metrics
rows, each loss of the table on its own formula (one of them on the base model), the beta sweep, the log-ratio drift and
its warning."""

from __future__ import annotations

import math

import pytest
import torch
from conftest import last_json
from support.voice_data import write_voice_data

from pipeline.errors import UserError
from pipeline.workspace import Run

QUIET = dict(log=lambda *a, **k: None)


def dpo_settings(**overrides):
    from pipeline.train.settings import settings_for

    values = dict(max_steps=2, batch_size=2, save_steps=10, dtype="float32", max_prompt_length=64,
                  max_completion_length=96)
    return settings_for("dpo", "quick", **{**values, **overrides})


@pytest.fixture(scope="module")
def sft_run(tmp_path_factory, tiny_model_dir):
    """A finished SFT run whose adapter moved the policy well away from the base (high lr)."""
    from pipeline.train.settings import settings_for
    from pipeline.train.sft import train_sft

    root = tmp_path_factory.mktemp("dpo")
    data = write_voice_data(root / "data", n_train=8, n_eval=2)
    settings = settings_for("sft", "quick", model=str(tiny_model_dir), load_in_4bit=False, max_steps=3,
                            batch_size=2, max_length=128, learning_rate=2e-2, warmup_ratio=0.0, dtype="float32")
    train_sft(data, root / "runs" / "sft", settings, **QUIET)
    return data, Run(root / "runs" / "sft")


def completion_logps(model, tokenizer, prompt, completion) -> float:
    """Sum of log-probs of ``completion``'s tokens after ``prompt`` (computed independently of TRL)."""
    prompt_ids = tokenizer.apply_chat_template(prompt, add_generation_prompt=True, return_dict=False)
    full_ids = tokenizer.apply_chat_template(prompt + completion, return_dict=False)
    ids = torch.tensor([full_ids])
    with torch.no_grad():
        logits = model(input_ids=ids).logits[0, :-1].float()
    logps = torch.log_softmax(logits, -1).gather(-1, ids[0, 1:, None])[:, 0]
    return float(logps[len(prompt_ids) - 1:].sum())


def test_reference_log_probs_are_the_sft_policy(tmp_path, sft_run, tiny_model_dir):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    from pipeline.models import load_tokenizer
    from pipeline.train.dpo import build_dpo_trainer

    data, sft = sft_run
    built = build_dpo_trainer(data, Run(tmp_path / "dpo"), dpo_settings(), sft, **QUIET)
    trainer = built.trainer
    assert built.config_extra["reference"] == "sft"
    # the pass before step 1 is in status.json as a phase the page shows, counted in pairs
    status = Run(tmp_path / "dpo").status()
    assert status["phase"] == "computing reference log-probs" and status["unit"] == "pairs"
    assert status["done"] == status["total"] == len(trainer.train_dataset) and status["max_steps"] == 2
    tokenizer = load_tokenizer(tiny_model_dir)
    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32).eval()
    base_logps = [completion_logps(base, tokenizer, r["prompt"], r["chosen"]) for r in trainer.train_dataset]
    sft_policy = PeftModel.from_pretrained(base, str(sft.adapter_dir)).eval()  # adapter NOT merged: independent
    for i, row in enumerate(trainer.train_dataset):
        expected = completion_logps(sft_policy, tokenizer, row["prompt"], row["chosen"])
        assert row["ref_chosen_logps"] == pytest.approx(expected, abs=2e-3)
        assert abs(row["ref_chosen_logps"] - base_logps[i]) > 0.05  # ...and visibly not the base's
        rejected = completion_logps(sft_policy, tokenizer, row["prompt"], row["rejected"])
        assert row["ref_rejected_logps"] == pytest.approx(rejected, abs=2e-3)


def test_dpo_cli_saves_only_the_dpo_delta(tmp_path, sft_run, tiny_model_dir, capsys):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    from pipeline.cli import main

    data, sft = sft_run
    out = tmp_path / "runs" / "dpo-1"
    assert main(["train", "dpo", "--data", str(data), "--sft", str(sft.path), "--out", str(out), "--preset", "quick",
                 "--max-steps", "3", "--batch-size", "2", "--learning-rate", "5e-3", "--dtype", "float32",
                 "--json"]) == 0
    summary = last_json(capsys.readouterr().out)
    assert summary["steps"] == 3 and summary["adapter_dir"] == str(out / "adapter")
    assert isinstance(summary["final_loss"], float) and isinstance(summary["final_margin"], float)
    run = Run(out)
    config = run.config()
    assert config["kind"] == "dpo" and config["parent"] == str(sft.path) and config["reference"] == "sft"
    assert config["base_model"] == str(tiny_model_dir) and config["settings"]["beta"] == 0.1
    rows = [r for r in run.metrics() if "loss" in r]
    for key in ("rewards/chosen", "rewards/rejected", "rewards/margins", "rewards/accuracies", "logratio_drift", "tokens_per_s"):
        assert key in rows[-1], key
    assert rows[-1]["rewards/margins"] != 0.0

    # serving per the contract: base + SFT adapter + DPO adapter, both active ...
    ids = torch.tensor([[1, 9690, 198, 11126, 253, 2096, 30, 2, 198, 1, 520, 9531, 198]])
    served = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32),
                                       str(sft.adapter_dir), adapter_name="sft")
    served.load_adapter(str(run.adapter_dir), adapter_name="dpo")
    served.base_model.set_adapter(["sft", "dpo"])
    # ... equals the policy DPO trained: SFT merged into the base, DPO adapter on top
    merged = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32),
                                       str(sft.adapter_dir)).merge_and_unload()
    trained = PeftModel.from_pretrained(merged, str(run.adapter_dir))
    sft_only = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32),
                                         str(sft.adapter_dir))
    with torch.no_grad():
        a, b, c = (m.eval()(input_ids=ids).logits for m in (served, trained, sft_only))
    assert torch.allclose(a, b, atol=1e-4)
    assert not torch.allclose(b, c, atol=1e-4)  # the DPO delta is there, not folded into the SFT one


BETA, GAMMA = 0.2, 0.3
"""Not the defaults, so a loss that ignored the settings would not match its formula."""


def _sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


LOSS_SIGNALS = {
    # The loss TRL logged, recomputed from the values logged with it (one pair per batch, so a batch
    # mean is that pair's value); rewards are beta x the log-ratio (x the log-prob without a reference).
    "sigmoid": lambda row, n: -math.log(_sigmoid(row["rewards/margins"])),
    "hinge": lambda row, n: max(0.0, 1 - row["rewards/margins"]),
    "ipo": lambda row, n: (row["rewards/chosen"] / (BETA * n["chosen"]) - row["rewards/rejected"] / (BETA * n["rejected"])
                           - 1 / (2 * BETA)) ** 2,  # per-token log-ratios
    "simpo": lambda row, n: -math.log(_sigmoid(row["rewards/margins"] - GAMMA)),  # per-token log-probs
    "orpo": lambda row, n: row["nll_loss"] - BETA * row["log_odds_ratio"],
    # the pair's desirable and undesirable replies in one batch, each against the KL estimate
    "kto": lambda row, n: ((1 - _sigmoid(row["rewards/chosen"] - BETA * row["kl"]))
                           + (1 - _sigmoid(BETA * row["kl"] - row["rewards/rejected"]))) / 2,
}


def test_every_loss_in_the_table_has_its_signal_test():
    from pipeline.train.losses import LOSSES

    assert set(LOSS_SIGNALS) == set(LOSSES)


@pytest.fixture(scope="module")
def one_pair(tmp_path_factory):
    """A data folder of one pair: every step of a two-step run trains on it."""
    return write_voice_data(tmp_path_factory.mktemp("one-pair") / "data", n_train=1, n_eval=0)


@pytest.mark.parametrize("name", list(LOSS_SIGNALS))
def test_each_loss_trains_two_steps_on_its_own_formula(tmp_path, sft_run, one_pair, tiny_model_dir, name):
    import json

    from pipeline.models import load_tokenizer
    from pipeline.train.dpo import train_dpo
    from pipeline.train.losses import LOSSES

    loss = LOSSES[name]
    settings = dpo_settings(loss_type=name, model=str(tiny_model_dir), beta=BETA, batch_size=2 if loss.labelled else 1, learning_rate=5e-3,
                            warmup_ratio=0.0, **({"simpo_gamma": GAMMA} if "simpo_gamma" in loss.knobs else {}))
    # one loss trains on the base model: its reference is then the base, and config.json says so
    parent = None if name == "kto" else sft_run[1].path
    summary = train_dpo(one_pair, tmp_path / "dpo", settings, parent=parent, **QUIET)
    run = Run(tmp_path / "dpo")
    assert summary["state"] == "done" and summary["steps"] == 2 and run.has_adapter()
    config = run.config()
    assert config["parent"] == (str(parent) if parent else None)
    assert config["reference"] == (("sft" if parent else "base") if loss.reference else "reference-free")
    pair = json.loads((one_pair / "dpo" / "train.jsonl").read_text())
    tokenizer = load_tokenizer(tiny_model_dir)
    prompt = len(tokenizer.apply_chat_template(pair["prompt"], add_generation_prompt=True, return_dict=False))
    tokens = {key: len(tokenizer.apply_chat_template(pair["prompt"] + pair[key], return_dict=False)) - prompt
              for key in ("chosen", "rejected")}
    rows = [r for r in run.metrics() if "loss" in r]
    assert [r["step"] for r in rows] == [1, 2]
    for row in rows:
        assert row["loss"] == pytest.approx(LOSS_SIGNALS[name](row, tokens), rel=1e-4, abs=1e-5), row
        assert ("logratio_drift" in row) == bool(loss.reference)
    if loss.reference:  # the policy starts as the reference, then one update moves it
        assert rows[0]["rewards/margins"] == pytest.approx(0.0, abs=1e-4)
        assert abs(rows[1]["rewards/margins"]) > 1e-3


def test_a_knob_of_another_loss_is_refused():
    with pytest.raises(UserError, match=r"simpo_gamma applies to the simpo loss only, not to sigmoid"):
        dpo_settings(loss_type="sigmoid", simpo_gamma=0.3)
    with pytest.raises(UserError, match=r"drift_warning applies to the sigmoid, ipo, hinge, kto losses only"):
        dpo_settings(loss_type="orpo", drift_warning=0.5)


def test_beta_sweep_tabulates_each_beta(tmp_path, sft_run):
    from pipeline.train.sweep import sweep_beta

    data, sft = sft_run
    result = sweep_beta(data, tmp_path / "sweep", sft.path, dpo_settings(max_steps=1), [0.05, 0.5], **QUIET)
    assert [r["beta"] for r in result["rows"]] == [0.05, 0.5]
    assert all(r["margin"] is not None and r["eval_margin"] is not None for r in result["rows"])
    for row in result["rows"]:  # TRL's margins scale with beta; the table compares them divided by it
        assert row["margin_per_beta"] == pytest.approx(row["margin"] / row["beta"], rel=1e-3, abs=1e-4)
        assert row["eval_margin_per_beta"] == pytest.approx(row["eval_margin"] / row["beta"], rel=1e-3, abs=1e-4)
    assert "eval_margin_per_beta" in result["table"].splitlines()[0] and len(result["table"].splitlines()) == 3
    assert (tmp_path / "sweep" / "sweep.json").is_file()


def test_logratio_drift_and_warning(tmp_path):
    from transformers import TrainerControl, TrainerState, TrainingArguments

    from pipeline.train.losses import REWARDS
    from pipeline.train.metrics import MetricsCallback, RowSpec, TokenCounter

    counter = TokenCounter()
    counter.add({"input_ids": torch.ones(4, 20), "attention_mask": torch.ones(4, 20),
                 "completion_mask": torch.ones(4, 10)})  # 2 pairs, 10 completion tokens each
    warnings = []
    callback = MetricsCallback(Run(tmp_path), counter, RowSpec(REWARDS, drift_beta=0.1, drift_warning=0.2),
                               log=warnings.append)
    state = TrainerState(global_step=1, max_steps=10, epoch=0.1)
    args = TrainingArguments(output_dir=str(tmp_path / "out"), use_cpu=True, report_to=[])
    callback.on_log(args, state, TrainerControl(), logs={"loss": 0.5, "learning_rate": 1e-4, "rewards/chosen": 0.5,
                                                         "rewards/rejected": 0.3, "rewards/margins": 0.2,
                                                         "rewards/accuracies": 1.0})
    row = Run(tmp_path).metrics()[-1]
    # (0.5 + 0.3) / (2 * beta * 10 tokens) = 0.4 nats per token > 0.2
    assert row["logratio_drift"] == pytest.approx(0.4) and "kl" not in row
    assert "log-ratio drift 0.400 > 0.2" in row["warning"] and any("warning: log-ratio drift" in w for w in warnings)


def test_human_picks_join_the_training_pairs(tmp_path, tiny_model_dir):
    import json

    from pipeline.models import load_tokenizer
    from pipeline.train.dpo import load_pairs

    data = write_voice_data(tmp_path / "data", n_train=3, n_eval=0)
    pick = {"prompt": [{"role": "user", "content": "Write about Mondays."}],
            "chosen": [{"role": "assistant", "content": "Mondays: ship small."}],
            "rejected": [{"role": "assistant", "content": "Mondays are an important part of the week."}],
            "source": "human", "time": "2026-11-23T12:00:00Z"}
    test_brief = {**pick, "prompt": [{"role": "user", "content": "Write about Fridays."}], "split": "test"}
    preferences = tmp_path / "preferences.jsonl"
    preferences.write_text(json.dumps(pick) + "\n" + json.dumps(test_brief) + "\n")
    tokenizer = load_tokenizer(tiny_model_dir)
    said = []
    train, _, dropped = load_pairs(data, tokenizer, dpo_settings(max_steps=-1), preferences, said.append)
    assert len(train) == 4 and dropped == 0  # the pick on a test brief is left out, and the log says so
    assert said == ["human picks: 1 pair(s) added, 1 left out (their briefs are in the validation/test split)"]
    assert train[-1] == {k: pick[k] for k in ("prompt", "chosen", "rejected")}
    with pytest.raises(UserError, match="every prompt is longer than max_prompt_length=8"):
        load_pairs(data, tokenizer, dpo_settings(max_steps=-1, max_prompt_length=8), None)
