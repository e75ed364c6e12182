"""Frozen weights cast to bf16 once (CPU bf16 autocast): the same loss and LoRA gradients, bit for
bit, as autocast casting them every step; float32 training and the no-autocast path are untouched."""

from __future__ import annotations

import torch
from support.voice_data import write_voice_data

from pipeline.workspace import Run

QUIET = dict(log=lambda *a, **k: None)


def loss_and_grads(trainer, batch) -> tuple[float, dict]:
    model = trainer.model
    with torch.autocast("cpu", dtype=torch.bfloat16):
        loss = trainer.compute_loss(model, batch)
    loss.backward()
    grads = {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
    model.zero_grad(set_to_none=True)
    return loss.item(), grads


def undo(model) -> None:
    """Back to the plain path: each layer's class forward, PEFT's input casts on."""
    from peft.tuners.tuners_utils import BaseTunerLayer

    for module in model.modules():
        if hasattr(module, "bf16_weight"):
            del module.forward
        if isinstance(module, BaseTunerLayer):
            module.cast_input_dtype_enabled = True


def native_bf16_cpu(monkeypatch) -> None:
    """``dtype=auto`` as on a CPU with AVX512-BF16/AMX: float32 weights, bf16 autocast (any CPU runs it)."""
    monkeypatch.setattr("pipeline.models.native_bf16", lambda device: True)


def test_bf16_copies_train_exactly_like_autocast_casts(tmp_path, tiny_model_dir, monkeypatch):
    native_bf16_cpu(monkeypatch)
    from pipeline.train.settings import settings_for
    from pipeline.train.sft import build_sft_trainer

    data = write_voice_data(tmp_path / "data", n_train=6, n_eval=0)
    settings = settings_for("sft", "quick", model=str(tiny_model_dir), max_steps=1, batch_size=2, max_length=128)
    trainer = build_sft_trainer(data, Run(tmp_path / "run"), settings, **QUIET).trainer
    model = trainer.model
    copies = [m for m in model.modules() if hasattr(m, "bf16_weight")]
    assert len(copies) == 7 * model.config.num_hidden_layers + 1  # every LoRA'd projection and the LM head
    assert all(m.weight.dtype == torch.float32 and m.bf16_weight.dtype == torch.bfloat16 for m in copies)
    torch.manual_seed(0)
    for p in model.parameters():  # LoRA B off zero, so the adapter path carries a gradient
        if p.requires_grad:
            p.data.normal_(0, 0.02)
    batch = trainer._prepare_inputs(next(iter(trainer.get_train_dataloader())))
    model.train()
    fast_loss, fast_grads = loss_and_grads(trainer, batch)
    layer, x = copies[0], torch.randn(3, copies[0].in_features)
    outside = layer(x)  # no autocast: the float32 weight, as before
    undo(model)
    plain_loss, plain_grads = loss_and_grads(trainer, batch)
    assert torch.equal(outside, torch.nn.functional.linear(x, layer.weight, layer.bias))
    assert fast_loss == plain_loss
    assert fast_grads.keys() == plain_grads.keys() and len(plain_grads) > 0
    for name, grad in plain_grads.items():
        assert torch.equal(fast_grads[name], grad), name


def test_float32_training_and_lora_dropout_keep_the_plain_path(tmp_path, tiny_model_dir, monkeypatch):
    native_bf16_cpu(monkeypatch)
    from peft.tuners.lora import LoraLayer

    from pipeline.train.settings import settings_for
    from pipeline.train.sft import build_sft_trainer

    data = write_voice_data(tmp_path / "data", n_train=6, n_eval=0)
    common = dict(model=str(tiny_model_dir), max_steps=1, batch_size=2, max_length=128)
    fp32 = build_sft_trainer(data, Run(tmp_path / "fp32"), settings_for("sft", "quick", dtype="float32", **common),
                             **QUIET).trainer
    assert not any(hasattr(m, "bf16_weight") for m in fp32.model.modules())
    dropout = build_sft_trainer(data, Run(tmp_path / "dropout"),
                                settings_for("sft", "quick", lora_dropout=0.1, **common), **QUIET).trainer
    lora = [m for m in dropout.model.modules() if isinstance(m, LoraLayer)]
    assert lora and all(m.cast_input_dtype_enabled for m in lora)  # dropout rounds in float32, as before
    assert all(hasattr(m.get_base_layer(), "bf16_weight") for m in lora)


def test_scoring_casts_the_weights_once_with_the_same_log_probs(tiny_model_dir):
    """Margins scored in several bf16 batches: each weight is cast to bf16 once for the call
    (``bf16_weight_copies``), not by autocast in every batch; the log-probs are bit for bit the
    same, and the model is left as it was."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from pipeline.scoring import _weights_cast_once, encode_shared, pair_logprobs
    from pipeline.cpu.frozen_bf16 import bf16_weight_copies

    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir).eval()
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    ids = torch.tensor([tokenizer("One voice, many posts: write like this.")["input_ids"]])

    def logits():
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16):
            return model(input_ids=ids).logits

    plain = logits()
    with bf16_weight_copies(model) as layers:
        copied = logits()
        assert layers == 7 * model.config.num_hidden_layers + 1  # every projection and the LM head
    assert torch.equal(copied, plain)
    assert not any(hasattr(m, "bf16_weight") or "forward" in vars(m) for m in model.modules())
    for precision, batches, copies in (("bfloat16", 3, True), ("bfloat16", 1, False), ("float32", 3, False)):
        with _weights_cast_once(model, precision, "cpu", batches=batches):
            assert hasattr(model.lm_head, "bf16_weight") is copies, (precision, batches)

    pairs = [tuple(encode_shared(tokenizer, [{"role": "user", "content": f"Brief {i}"}],
                                 [[{"role": "assistant", "content": f"A post number {i}, short."}],
                                  [{"role": "assistant", "content": "As an AI, here is a generic post."}]], 256))
             for i in range(5)]
    batched = pair_logprobs(model, pairs, batch_size=2, precision="bfloat16", pad_id=tokenizer.pad_token_id or 0)
    assert len(batched) == 5 and all(c < 0 and r < 0 for c, r in batched)
    assert not any(hasattr(m, "bf16_weight") for m in model.modules())
