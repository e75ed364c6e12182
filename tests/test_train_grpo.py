"""GRPO with a voice reward: each reward component on texts whose answer is known, a two-step run on
the tiny model from an SFT run and from a DPO run (the adapter moves, every component is logged, the
chain serves as a column), the reward-hacking warning, and a kill -9 mid-run then --resume."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support.voice_data import TOPICS, generic_post, voice_post, write_voice_data

from pipeline.errors import UserError
from pipeline.workspace import Run

QUIET = dict(log=lambda *a, **k: None)
ROOT = Path(__file__).resolve().parents[1]


def grpo_settings(model, **overrides):
    from pipeline.train.settings import settings_for

    values = dict(model=str(model), max_steps=2, group_size=2, briefs_per_step=2, max_completion_length=12,
                  save_steps=1, dtype="float32", learning_rate=5e-2, voice_texts=40)
    return settings_for("grpo", "quick", **{**values, **overrides})


@pytest.fixture(scope="module")
def chain(tmp_path_factory, tiny_model_dir):
    """A data folder, a finished SFT run and a DPO run on it (tiny model)."""
    from pipeline.train.dpo import train_dpo
    from pipeline.train.settings import settings_for
    from pipeline.train.sft import train_sft

    root = tmp_path_factory.mktemp("grpo")
    data = write_voice_data(root / "data", n_train=12, n_eval=4)
    common = dict(model=str(tiny_model_dir), load_in_4bit=False, max_steps=2, batch_size=2, dtype="float32")
    train_sft(data, root / "runs" / "sft", settings_for("sft", "quick", max_length=128, **common), **QUIET)
    train_dpo(data, root / "runs" / "dpo", settings_for("dpo", "quick", max_prompt_length=64,
                                                         max_completion_length=96, **common),
              parent=root / "runs" / "sft", **QUIET)
    return data, Run(root / "runs" / "sft"), Run(root / "runs" / "dpo")


@pytest.fixture(scope="module")
def reward(chain, tiny_model_dir):
    from pipeline.train.rewards import VoiceReward
    from pipeline.train.settings import GRPOSettings

    return VoiceReward(GRPOSettings().weights(), chain[0], reference_model=str(tiny_model_dir), max_per_side=40,
                       **QUIET)


def test_voice_pays_the_authors_held_out_post_more_than_other_peoples(reward):
    from pipeline.voice.reference import reference_texts

    rng = random.Random(7)
    held_out = [voice_post(topic, rng) for topic in TOPICS[:6]]  # unseen posts in the author's voice
    others = reference_texts()[:6]
    mine, theirs = reward.components(["x"] * 6, held_out)["voice"], reward.components(["x"] * 6, others)["voice"]
    assert min(mine) > 0.7 and max(theirs) < 0.3, (mine, theirs)


def test_fluency_pays_nothing_for_word_salad(chain, tiny_model_dir):
    from pipeline.train.rewards import VoiceReward, fluency_reward

    assert fluency_reward(1.0) == 1.0 and fluency_reward(1.5) == 0.0 and fluency_reward(float("nan")) == 0.0
    # The tiny random model finds every text about equally surprising: word salad is checked on the
    # default model's fluency in the slow test below; here the formula and the empty answer.
    only = VoiceReward({"fluency": 1.0}, chain[0], reference_model=str(tiny_model_dir), max_per_side=40, **QUIET)
    assert only.components(["x"], [""])["fluency"] == [0.0]


@pytest.mark.slow
def test_fluency_on_the_default_model_word_salad_pays_nothing(chain):
    from pipeline.train.rewards import VoiceReward

    rng = random.Random(3)
    real = voice_post("code review", rng)
    words = " ".join(voice_post(t, rng) for t in TOPICS[:3]).split()
    rng.shuffle(words)
    salad = " ".join(words[:40])
    reward = VoiceReward({"fluency": 1.0}, chain[0], **QUIET)
    fluent, garbled = reward.components(["x", "x"], [real, salad])["fluency"]
    assert fluent > 0.8 and garbled == 0.0, (fluent, garbled)


def test_adherence_pays_little_for_an_off_brief_answer():
    from pipeline.train.rewards import adherence

    brief = "Write a LinkedIn post about hiring juniors."
    on = "We kept hiring juniors for 6 weeks.\n\nEvery junior shipped something."
    off = "Pricing is hard. We doubled ours and nobody left."
    assert adherence(brief, on) == 1.0
    assert adherence(brief, off) == 0.0
    assert adherence("Write a post.", off) == 1.0  # no topic word: nothing to check


def test_form_pays_the_authors_own_shape(reward):
    from pipeline.train.rewards import form

    rng = random.Random(1)
    assert form(reward.ranges, voice_post("pricing", rng)) == 1.0
    shouting = "#" + " #".join(["growth"] * 12) + " " + "🚀" * 10 + " word" * 300
    assert form(reward.ranges, shouting) < 0.4


def test_the_total_is_the_weighted_sum(reward):
    briefs = ["Write a LinkedIn post about burnout."] * 2
    answers = [voice_post("burnout", random.Random(2)), generic_post("burnout", random.Random(2))]
    scores = reward.components(briefs, answers)
    assert set(scores) == {"voice", "fluency", "adherence", "form"}
    expected = [sum(reward.weights[n] * scores[n][i] for n in scores) for i in range(2)]
    assert reward.total(briefs, answers) == pytest.approx(expected)


def adapter_tensors(run: Run) -> dict:
    from safetensors.torch import load_file

    return load_file(str(run.adapter_dir / "adapter_model.safetensors"))


@pytest.fixture(scope="module")
def grpo_runs(tmp_path_factory, chain, tiny_model_dir) -> dict[str, Run]:
    """Two-step GRPO runs from the SFT run and from the DPO run."""
    import torch

    from pipeline.train.grpo import train_grpo

    data, sft, dpo = chain
    root = tmp_path_factory.mktemp("grpo-runs")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for name, start in (("sft", sft), ("dpo", dpo)):
            summary = train_grpo(data, root / name, grpo_settings(tiny_model_dir), parent=start.path, **QUIET)
            assert summary["state"] == "done" and summary["steps"] == 2
    finally:
        torch.set_num_threads(threads)
    return {name: Run(root / name) for name in ("sft", "dpo")}


@pytest.mark.parametrize("parent", ["sft", "dpo"])
def test_two_grpo_steps_move_the_adapter_and_log_every_component(chain, grpo_runs, parent):
    from pipeline.adapters import resolve_column

    _, sft, dpo = chain
    start = sft if parent == "sft" else dpo
    run = grpo_runs[parent]
    rows = [r for r in run.metrics() if "loss" in r]
    assert [r["step"] for r in rows] == [1, 2]
    for row in rows:
        for key in ("reward", "reward_std", "group_reward_spread", "kl", "completions/mean_length", "tokens_per_s",
                    "rewards/voice/mean", "rewards/fluency/mean", "rewards/adherence/mean", "rewards/form/mean"):
            assert key in row, (key, row)
        assert 0.0 <= row["rewards/voice/mean"] <= 1.0 and row["tokens_per_s"] > 0
    # The LoRA B matrices start at zero: after two steps some have moved.
    assert any(float(t.abs().sum()) > 0 for name, t in adapter_tensors(run).items() if "lora_B" in name)
    config = run.config()
    assert config["kind"] == "grpo" and Path(config["parent"]) == start.path
    assert config["reward"]["weights"] == {"voice": 1.0, "fluency": 0.5, "adherence": 0.5, "form": 0.25}
    column = resolve_column(str(run.path))
    assert [ref.path for ref in column.adapters] == [link.adapter_dir.resolve() for link in start.chain()] + \
        [run.adapter_dir.resolve()]


def test_the_chain_serves_as_one_column(grpo_runs):
    """base -> SFT -> DPO -> GRPO: three adapters stacked in one Compare column, and that column differs
    from the DPO policy under it."""
    import torch

    from pipeline.serving.variants import Variants

    variants = Variants.from_run(grpo_runs["dpo"].path, **QUIET)
    assert len(variants.columns["dpo"].adapters) == 3 and len(variants.columns["sft"].adapters) == 1
    ids = torch.tensor([[1, 2, 3, 4, 5]])
    logits = {}
    for column in ("sft", "dpo"):
        with variants.use(column) as model, torch.no_grad():
            logits[column] = model(input_ids=ids).logits
    assert not torch.allclose(logits["sft"], logits["dpo"])


def test_reward_hacking_warning():
    from pipeline.train.grpo import reward_hacking_warning

    rising = [{"reward": 0.5 + 0.1 * i, "rewards/fluency/mean": 0.9 - 0.1 * i, "rewards/adherence/mean": 0.8}
              for i in range(6)]
    assert "fluency" in reward_hacking_warning(rising) and "adherence" not in reward_hacking_warning(rising)
    honest = [{**r, "rewards/fluency/mean": 0.9} for r in rising]
    assert reward_hacking_warning(honest) is None


def test_grpo_refuses_a_dpo_run_without_an_sft_parent(tmp_path, chain, tiny_model_dir):
    from pipeline.train.dpo import train_dpo
    from pipeline.train.grpo import train_grpo
    from pipeline.train.settings import settings_for

    data = chain[0]
    settings = settings_for("dpo", "quick", model=str(tiny_model_dir), max_steps=1, batch_size=2, dtype="float32",
                            max_prompt_length=64, max_completion_length=32)
    train_dpo(data, tmp_path / "dpo-on-base", settings, **QUIET)
    with pytest.raises(UserError, match="a DPO run trained on the base model"):
        train_grpo(data, tmp_path / "grpo", grpo_settings(tiny_model_dir), parent=tmp_path / "dpo-on-base", **QUIET)


def test_kill_9_mid_run_then_resume(tmp_path, chain, tiny_model_dir):
    """A child process killed with SIGKILL after its first checkpoint resumes from it and finishes."""
    data, sft, _ = chain
    out = tmp_path / "grpo"
    argv = [sys.executable, "-m", "pipeline", "train", "grpo", "--data", str(data), "--out", str(out),
            "--from", str(sft.path), "--preset", "quick", "--model", str(tiny_model_dir), "--max-steps", "6",
            "--group-size", "2", "--briefs-per-step", "1", "--max-completion-length", "12", "--save-steps", "2",
            "--dtype", "float32", "--threads", "1", "--voice-texts", "40"]
    child = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 240
        while not (out / "checkpoints" / "checkpoint-2").is_dir():
            assert child.poll() is None and time.monotonic() < deadline, "no checkpoint before the child ended"
            time.sleep(0.2)
        os.killpg(child.pid, signal.SIGKILL)
    finally:
        child.wait()
    assert not Run(out).has_adapter()
    resumed = subprocess.run([sys.executable, "-m", "pipeline", "train", "grpo", "--out", str(out), "--resume",
                              "--json"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    summary = json.loads(resumed.stdout.strip().splitlines()[-1])
    assert summary["state"] == "done" and summary["steps"] == 6
    steps = [r["step"] for r in Run(out).metrics() if "loss" in r]
    assert steps == sorted(set(steps)) and steps[-1] == 6 and Run(out).has_adapter()


def test_the_parent_flag_is_from_and_takes_sft_or_dpo_runs():
    from pipeline.cli import build_parser
    from pipeline.train.flags import settings_argv, settings_from_args
    from pipeline.train.settings import run_kind, settings_for

    assert (run_kind("grpo").parent_option, run_kind("grpo").parents) == ("--from", ("sft", "dpo"))
    assert (run_kind("dpo").parent_option, run_kind("dpo").parents) == ("--sft", ("sft",))
    settings = settings_for("grpo", "quick", group_size=6, judge_weight=0.5, judge_url="http://127.0.0.1:9")
    args = build_parser().parse_args(["train", "grpo", "--data", "d", "--out", "o", "--from", "runs/dpo-1",
                                      *settings_argv("grpo", settings)])
    assert args.parent == "runs/dpo-1" and settings_from_args("grpo", args) == settings
