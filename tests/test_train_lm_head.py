"""The compact CPU LM head gives the trainers the same per-token log-probs, loss and gradients as a
plain forward over the full logits, in one piece or in recomputed chunks, for SFT and DPO."""

from __future__ import annotations

import pytest
import torch
from support.voice_data import write_voice_data

from pipeline.workspace import Run

QUIET = dict(log=lambda *a, **k: None)


def plain_logps(model, batch) -> torch.Tensor:
    """log P(label) at every shifted position from the model's ordinary full-vocabulary logits (0 where unlabelled)."""
    labels = batch["labels"][:, 1:]
    inputs = {k: v for k, v in batch.items() if k != "labels"}
    logits = model(**inputs, use_cache=False).logits[:, :-1].float()
    logps = torch.log_softmax(logits, -1).gather(-1, labels.clamp(min=0).unsqueeze(-1)).squeeze(-1)
    return torch.where(labels != -100, logps, 0.0)


def lora_grads(model) -> dict:
    return {n: p.grad.clone() for n, p in model.named_parameters() if p.requires_grad and p.grad is not None}


@pytest.mark.parametrize("chunk_tokens", [2048, 7])
def test_sft_head_matches_the_full_logits(tmp_path, tiny_model_dir, monkeypatch, chunk_tokens):
    from pipeline.cpu import lm_head
    from pipeline.train.settings import settings_for
    from pipeline.train.sft import build_sft_trainer

    monkeypatch.setattr(lm_head, "CHUNK_TOKENS", chunk_tokens)  # 7: many chunks, each recomputed in backward
    data = write_voice_data(tmp_path / "data", n_train=6, n_eval=0)
    settings = settings_for("sft", "quick", model=str(tiny_model_dir), max_steps=1, batch_size=2, max_length=128,
                            dtype="float32", lora_dropout=0.0)
    trainer = build_sft_trainer(data, Run(tmp_path / "run"), settings, **QUIET).trainer
    model = trainer.model
    batch = next(iter(trainer.get_train_dataloader()))
    torch.manual_seed(0)
    for p in model.parameters():  # move LoRA B off zero so the adapter (and its gradient path) matters
        if p.requires_grad:
            p.data.normal_(0, 0.02)

    compact = model(**batch, fused_lm_head=True)
    (-compact.log_probs.sum()).backward()
    compact_grads = lora_grads(model)
    model.zero_grad()
    plain = plain_logps(model, batch)
    (-plain.sum()).backward()
    plain_grads = lora_grads(model)

    nothing = model(**{**batch, "labels": torch.full_like(batch["labels"], -100)}, fused_lm_head=True)
    nothing.loss.backward()  # a micro-batch without reply tokens: a differentiable zero, not an error
    assert nothing.loss.item() == 0 and not nothing.label_mask.any()
    model.zero_grad()

    labelled = batch["labels"][:, 1:] != -100
    assert labelled.sum() > 20 and (~labelled).sum() > 5  # prompts are skipped, replies scored
    assert torch.allclose(compact.log_probs, plain.detach(), atol=1e-5)
    assert torch.equal(compact.label_mask, labelled)
    with torch.no_grad():  # token accuracy: the label's logit is the top one (argmax of the full logits)
        logits = model(**{k: v for k, v in batch.items() if k != "labels"}, use_cache=False).logits[:, :-1]
    top1 = logits.argmax(-1) == batch["labels"][:, 1:]
    assert torch.equal(compact.is_top1, top1 & labelled) and top1[labelled].any() and not top1[labelled].all()
    assert compact_grads.keys() == plain_grads.keys() and len(compact_grads) > 0
    for name, grad in plain_grads.items():
        assert torch.allclose(compact_grads[name], grad, atol=1e-5, rtol=1e-3), name


def test_dpo_reference_column_is_the_loss_at_step_zero(tmp_path, tiny_model_dir):
    """The in-memory reference pass and the training loss score the same tokens the same way: before
    any update, policy and reference log-probs agree, so every reward starts at zero."""
    from pipeline.train.dpo import build_dpo_trainer
    from pipeline.train.settings import settings_for

    data = write_voice_data(tmp_path / "data", n_train=6, n_eval=2)
    settings = settings_for("dpo", "quick", model=str(tiny_model_dir), max_steps=2, batch_size=2, dtype="float32",
                            max_prompt_length=64, max_completion_length=96)
    trainer = build_dpo_trainer(data, Run(tmp_path / "dpo"), settings, None, **QUIET).trainer
    assert trainer.precompute_ref_logps
    assert {"ref_chosen_logps", "ref_rejected_logps"} <= set(trainer.train_dataset.column_names)
    assert "ref_chosen_logps" not in trainer.eval_dataset.column_names  # computed when first needed...
    assert trainer.evaluate()["eval_rewards/margins"] == pytest.approx(0.0, abs=1e-4)  # ...at step 0: policy = reference
    assert {"ref_chosen_logps", "ref_rejected_logps"} <= set(trainer.eval_dataset.column_names)
    batch = next(iter(trainer.get_train_dataloader()))
    trainer.model.eval()
    with torch.no_grad():
        trainer.compute_loss(trainer.model, batch)
    logged = trainer._metrics["eval"]
    assert logged["rewards/chosen"][-1] == pytest.approx(0.0, abs=1e-4)
    assert logged["rewards/rejected"][-1] == pytest.approx(0.0, abs=1e-4)
    assert all(v < -1 for v in batch["ref_chosen_logps"].tolist())  # real sums of log-probs, not zeros
