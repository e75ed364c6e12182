"""Variants: one base model in memory, base | SFT | DPO switched per column (real PEFT adapters)."""

from __future__ import annotations

import collections
import shutil

import pytest
import torch

from pipeline.errors import UserError
from pipeline.serving.variants import Variants
from pipeline.generation import SamplingSettings, stream_chat

PROMPT = "Write a post about hiring."
pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def variants(lora_runs):
    return Variants.from_run(lora_runs["dpo"], log=lambda *a, **k: None)


def _logits(model, tokenizer) -> torch.Tensor:
    ids = tokenizer.apply_chat_template([{"role": "user", "content": PROMPT}], add_generation_prompt=True,
                                        return_tensors="pt", return_dict=True)["input_ids"]
    with torch.no_grad():
        return model(input_ids=ids).logits


def _merged_reference(base_dir, adapters):
    """A plain model with ``adapters`` merged in one after another (what a column must equal)."""
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(base_dir, dtype=torch.float32).eval()
    for adapter in adapters:
        model = PeftModel.from_pretrained(model, str(adapter)).merge_and_unload()
    return model


@pytest.mark.parametrize("switch", ["merge", "stack"])
def test_columns_equal_base_plus_their_lora_deltas(lora_runs, tiny_model_dir, switch):
    v = Variants.from_run(lora_runs["dpo"], switch=switch, log=lambda *a, **k: None)
    assert v.switch == switch and list(v.columns) == ["base", "sft", "dpo"]
    sft, dpo = lora_runs["sft"] / "adapter", lora_runs["dpo"] / "adapter"
    expected = {"base": [], "sft": [sft], "dpo": [sft, dpo]}
    outputs = {}
    for column in ("dpo", "base", "sft", "dpo"):  # switch back and forth
        with v.use(column) as model:
            outputs[column] = _logits(model, v.tokenizer)
    for column, adapters in expected.items():
        reference = _logits(_merged_reference(tiny_model_dir, adapters), v.tokenizer)
        torch.testing.assert_close(outputs[column], reference, atol=2e-4, rtol=1e-4)
    # the adapters really move the model: the columns differ
    assert (outputs["dpo"] - outputs["sft"]).abs().max() > 1e-3
    assert (outputs["sft"] - outputs["base"]).abs().max() > 1e-3


def test_one_base_model_resident(variants, tiny_model_dir):
    from transformers import AutoModelForCausalLM

    plain = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    memory = variants.memory()
    assert memory["base_parameters"] == sum(p.numel() for p in plain.parameters())
    assert 0 < memory["adapter_parameters"] < 0.05 * memory["base_parameters"]
    pointers = {}
    for column in ("base", "sft", "dpo"):
        with variants.use(column) as model:
            pointers[column] = {n: p.data_ptr() for n, p in model.named_parameters() if "lora_" not in n}
    assert pointers["base"] == pointers["sft"] == pointers["dpo"]  # the same tensors, no copies
    with variants.use("base") as model:
        base_weights = {n.replace("base_layer.", ""): p for n, p in model.named_parameters() if "lora_" not in n}
        for name, q in plain.named_parameters():
            torch.testing.assert_close(base_weights[name], q, atol=1e-6, rtol=0)  # un-merging restores them


def test_switching_is_deterministic(variants, lora_runs, tiny_model_dir):
    from peft import PeftModel

    from pipeline.models import load_model

    settings = SamplingSettings(max_new_tokens=20, temperature=0.9, seed=7)
    first, _ = variants.generate("sft", PROMPT, settings)
    variants.generate("dpo", PROMPT, settings)
    variants.generate("base", PROMPT, settings)
    again, _ = variants.generate("sft", PROMPT, settings)
    model, tokenizer, _, _ = load_model(str(tiny_model_dir), log=lambda *a, **k: None)
    fresh = PeftModel.from_pretrained(model, str(lora_runs["sft"] / "adapter")).eval()
    alone = "".join(stream_chat(fresh, tokenizer, PROMPT, settings))
    assert first == again == alone and first.strip()


def _batched(variants, settings, prompt=PROMPT):
    texts, finals, events = {}, {}, list(variants.stream_columns(prompt, settings))
    for column, piece, stats in events:
        texts[column] = texts.get(column, "") + piece
        if stats is not None:
            finals[column] = stats
    return texts, finals, events


def test_stream_columns_reports_stats_per_column(variants):
    texts, finals, events = _batched(variants, SamplingSettings(max_new_tokens=12, temperature=5.0, seed=1))
    order = [column for column, _, _ in events]
    first_end = next(i for i, (_, _, stats) in enumerate(events) if stats is not None)
    assert set(order[:first_end]) == {"base", "sft", "dpo"}  # the three stream at once: all before any ends
    assert set(finals) == {"base", "sft", "dpo"}
    for column, stats in finals.items():
        assert texts[column] and stats.finished
        assert 0 < stats.new_tokens <= 12 and stats.tokens_per_s > 0 and 0 < stats.first_token_s <= stats.total_s
        assert any("temperature=5.0 is out of range" in n for n in stats.notices)  # clamped with a notice


@pytest.mark.parametrize("switch", ["merge", "stack"])
@pytest.mark.parametrize("temperature", [0.0, 0.9])
@pytest.mark.parametrize("weight_major", [True, False])
def test_one_batch_gives_each_column_the_text_it_gets_alone(lora_runs, switch, temperature, weight_major, monkeypatch):
    """Greedy: the batched rows equal today's one-column-at-a-time decoding. Sampling: each row has
    its own generator seeded with the seed, so it draws what ``generate`` draws for that column alone.
    Both orders of the decode steps' products (which one runs is timed per machine) give that."""
    from pipeline.serving import batched

    monkeypatch.setattr(batched, "_ORDER_CHOICE", collections.defaultdict(lambda: weight_major))
    v = Variants.from_run(lora_runs["dpo"], switch=switch, log=lambda *a, **k: None)
    settings = SamplingSettings(max_new_tokens=24, temperature=temperature, seed=5)
    modules = [(name, type(m)) for name, m in v._inner.named_modules()]
    texts, finals, _ = _batched(v, settings)
    assert [(name, type(m)) for name, m in v._inner.named_modules()] == modules  # every wrapper taken out
    for column in ("base", "sft", "dpo"):
        alone, stats = v.generate(column, PROMPT, settings)
        assert texts[column] == alone
        assert finals[column].new_tokens == stats.new_tokens
    if temperature:
        assert len(set(texts.values())) == 3  # the adapters really change the text
    assert _batched(v, settings, PROMPT)[0] == texts  # the model is left as it was
    with v.use("sft") as model:  # switching still works after a batch
        assert model is v._inner


def test_the_faster_order_of_few_rows_is_timed_once():
    import torch

    from pipeline.serving import batched

    weights = [torch.randn(48, 64), torch.randn(64, 48)]
    first = batched.weight_major_is_faster(weights, 3)
    assert isinstance(first, bool) and len(batched._ORDER_CHOICE) >= 1
    key = next(k for k in batched._ORDER_CHOICE if k[0] == ((48, 64), (64, 48)) and k[-1] == 3)
    batched._ORDER_CHOICE[key] = not first  # a second call reads the recorded choice, it does not time again
    assert batched.weight_major_is_faster(weights, 3) is (not first)
    del batched._ORDER_CHOICE[key]


def test_few_rows_run_weight_major_with_the_same_values():
    import torch

    from pipeline.serving.batched import FEW_ROWS, few_rows_linear

    torch.manual_seed(0)
    linear = torch.nn.Linear(64, 48)
    for shape in [(1, 64), (3, 1, 64), (FEW_ROWS, 64), (2, 20, 64)]:  # the last one: a prompt, F.linear as is
        x = torch.randn(shape)
        out = few_rows_linear(linear, x)
        assert out.shape == (*shape[:-1], 48) and out.is_contiguous()
        torch.testing.assert_close(out, linear(x), rtol=1e-5, atol=1e-5)


def test_closing_a_batched_stream_frees_the_model(variants):
    stream = variants.stream_columns(PROMPT, SamplingSettings(max_new_tokens=400, temperature=1.0))
    next(stream)
    stream.close()
    assert variants._lock.acquire(timeout=5)
    variants._lock.release()
    assert _batched(variants, SamplingSettings(max_new_tokens=4))[1]["dpo"].finished


def test_long_prompt_is_cut_with_a_notice_and_empty_prompt_refused(variants):
    text, stats = variants.generate("dpo", "word " * 3000, SamplingSettings(max_new_tokens=4))
    assert stats.prompt_tokens <= 1024 - 4 and any("its start was cut" in n for n in stats.notices)
    with pytest.raises(UserError, match="prompt is empty"):
        list(variants.stream_columns("   ", SamplingSettings()))


def test_closing_a_stream_stops_generation_and_frees_the_model(variants):
    stream = variants.stream("sft", PROMPT, SamplingSettings(max_new_tokens=400, temperature=1.0))
    next(stream)
    stream.close()  # what a UI's Stop does
    assert variants._lock.acquire(timeout=5)  # free at once, not after 400 tokens
    variants._lock.release()


def test_bad_sources_fail_with_clear_errors(lora_runs, tiny_model_dir, tmp_path):
    from support.tiny_models import build_tiny_model

    no_adapter = tmp_path / "sft-broken"
    shutil.copytree(lora_runs["sft"], no_adapter)
    shutil.rmtree(no_adapter / "adapter")
    with pytest.raises(UserError, match="has no adapter"):
        Variants.load(str(tiny_model_dir), sft=str(no_adapter))
    other = build_tiny_model(tmp_path / "other-llama", tiny_model_dir, seed=3)
    with pytest.raises(UserError) as error:
        Variants.from_run(lora_runs["dpo"], base=str(other))
    assert str(tiny_model_dir) in str(error.value) and str(other) in str(error.value)
    with pytest.raises(UserError, match="HF_HUB_OFFLINE"):
        Variants.load(str(tiny_model_dir), sft="someone/not-cached-adapter")
    with pytest.raises(UserError, match="not found"):
        Variants.load(str(tiny_model_dir), dpo=str(tmp_path / "missing-run"))


def test_a_hub_adapter_fills_a_column(hub, lora_runs, tiny_model_dir):
    from huggingface_hub import HfApi

    api = HfApi()
    api.create_repo("alice/voice-sft")
    api.upload_folder(repo_id="alice/voice-sft", folder_path=str(lora_runs["sft"] / "adapter"))
    remote = Variants.load(str(tiny_model_dir), sft="alice/voice-sft", log=lambda *a, **k: None)
    local = Variants.load(str(tiny_model_dir), sft=str(lora_runs["sft"]), log=lambda *a, **k: None)
    outputs = []
    for v in (remote, local):
        with v.use("sft") as model:
            outputs.append(_logits(model, v.tokenizer))
    torch.testing.assert_close(outputs[0], outputs[1])
    with pytest.raises(UserError, match="not found on the Hub"):
        Variants.load(str(tiny_model_dir), sft="alice/no-such-adapter")


def test_the_app_path_keeps_one_shared_model(lora_runs, tiny_model_dir):
    from pipeline.serving.variants import shared_variants, stream_columns

    sources = {"base": str(tiny_model_dir), "sft": str(lora_runs["sft"]), "dpo": str(lora_runs["dpo"])}
    events = list(stream_columns(str(tiny_model_dir), sources, PROMPT, SamplingSettings(max_new_tokens=4),
                                 log=lambda *a, **k: None))
    assert sorted(c for c, _, stats in events if stats is not None) == ["base", "dpo", "sft"]
    first = shared_variants(str(tiny_model_dir), sources["sft"], sources["dpo"])
    assert shared_variants(str(tiny_model_dir), sources["sft"], sources["dpo"]) is first  # reused, not reloaded
    assert list(shared_variants(str(tiny_model_dir), None, sources["dpo"]).columns) == ["base", "dpo"]
