"""Packed SFT batches: attention per packed example gives the loss and LoRA gradients of
transformers' sdpa over the whole row with its block-diagonal mask."""

from __future__ import annotations

import torch
from support.voice_data import write_voice_data

from pipeline.workspace import Run


def _loss_and_grads(model, batch):
    model.zero_grad()
    loss = model(**batch, fused_lm_head=True).loss
    loss.backward()
    return loss.detach(), {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}


def test_segment_attention_matches_sdpa_on_packed_rows(tmp_path, tiny_model_dir):
    from pipeline.train.attention import NAME
    from pipeline.train.settings import settings_for
    from pipeline.train.sft import build_sft_trainer

    data = write_voice_data(tmp_path / "data", n_train=8, n_eval=0)
    settings = settings_for("sft", "quick", model=str(tiny_model_dir), max_steps=1, batch_size=3, max_length=256,
                            dtype="float32")
    trainer = build_sft_trainer(data, Run(tmp_path / "run"), settings, log=lambda *a, **k: None).trainer
    model, inner = trainer.model, trainer.model.get_base_model()
    assert inner.config._attn_implementation == NAME
    batch = next(iter(trainer.get_train_dataloader()))
    assert len(batch["cu_seq_lens_q"]) > 3  # a row packs several examples
    torch.manual_seed(0)
    for p in model.parameters():  # LoRA B off zero, so every adapter weight gets a gradient
        if p.requires_grad:
            p.data.normal_(0, 0.02)
    segment = _loss_and_grads(model, batch)
    inner.set_attn_implementation("sdpa")
    whole_row = _loss_and_grads(model, batch)
    torch.testing.assert_close(segment[0], whole_row[0], atol=1e-6, rtol=1e-6)
    assert segment[1].keys() == whole_row[1].keys() and segment[1]
    for name, grad in whole_row[1].items():
        torch.testing.assert_close(segment[1][name], grad, atol=1e-6, rtol=1e-4, msg=name)
    # packed examples really are kept apart: attending across them changes the loss
    inner.set_attn_implementation("sdpa")
    crossing = model(**{k: v for k, v in batch.items() if k not in ("cu_seq_lens_q", "cu_seq_lens_k", "max_length_q",
                                                                     "max_length_k", "seq_idx", "position_ids")},
                     fused_lm_head=True).loss
    assert abs(crossing.item() - whole_row[0].item()) > 1e-4


def test_bf16_segments_are_as_close_to_float32_as_the_flash_kernel():
    """The bf16 path (eager formula per example) against float32 attention: output and input
    gradients no further off than PyTorch's bf16 flash kernel, and examples still kept apart."""
    from pipeline.train.attention import segment_sdpa

    torch.manual_seed(0)
    bounds = torch.tensor([0, 37, 100, 164])
    q, k, v = (torch.randn(1, h, 164, 16) for h in (6, 2, 2))

    def attend(fn, dtype):
        inputs = [t.detach().to(dtype, copy=True).requires_grad_() for t in (q, k, v)]
        out = fn(*inputs)
        (out.float() * torch.linspace(-1, 1, out.numel()).view_as(out)).sum().backward()
        return [out.float()] + [t.grad.float() for t in inputs]

    def ours(q, k, v):
        return segment_sdpa(None, q, k, v, None, cu_seq_lens_q=bounds)[0]

    def flash(q, k, v):
        parts = [torch.nn.functional.scaled_dot_product_attention(q[:, :, a:b], k[:, :, a:b], v[:, :, a:b],
                                                                  is_causal=True, enable_gqa=True)
                 for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist())]
        return torch.cat(parts, dim=2).transpose(1, 2)

    exact = attend(flash, torch.float32)
    for got, kernel, want in zip(attend(ours, torch.bfloat16), attend(flash, torch.bfloat16), exact):
        assert (got - want).abs().max() <= 2 * (kernel - want).abs().max() + 1e-3
    moved = q.clone()
    moved[:, :, :37] += 1  # the first example's queries: the others' outputs must not change
    first = segment_sdpa(None, q.bfloat16(), k.bfloat16(), v.bfloat16(), None, cu_seq_lens_q=bounds)[0]
    second = segment_sdpa(None, moved.bfloat16(), k.bfloat16(), v.bfloat16(), None, cu_seq_lens_q=bounds)[0]
    assert torch.equal(first[:, 37:], second[:, 37:]) and not torch.equal(first[:, :37], second[:, :37])


def test_bf16_autocast_attends_with_the_bf16_path():
    """Under CPU bf16 autocast the rotary embedding hands float32 queries and keys to attention
    (values are bf16): that is a bf16 attention all the same (SDPA would cast them), so it gets the
    eager formula, not the flash kernel whose bf16 backward is slow."""
    from pipeline.train.attention import segment_sdpa

    torch.manual_seed(0)
    bounds = torch.tensor([0, 40, 96])
    q, k, v = (torch.randn(1, h, 96, 16) for h in (6, 2, 2))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        in_training = segment_sdpa(None, q, k, v.bfloat16(), None, cu_seq_lens_q=bounds)[0]
        flash = torch.cat([torch.nn.functional.scaled_dot_product_attention(
            q[:, :, a:b], k[:, :, a:b], v[:, :, a:b].bfloat16(), is_causal=True, enable_gqa=True)
            for a, b in ((0, 40), (40, 96))], dim=2).transpose(1, 2)
    eager = segment_sdpa(None, q.bfloat16(), k.bfloat16(), v.bfloat16(), None, cu_seq_lens_q=bounds)[0]
    assert in_training.dtype == torch.bfloat16
    assert torch.equal(in_training, eager) and not torch.equal(in_training, flash)


def test_stacked_query_heads_give_the_broadcast_form_and_sum_kv_gradients_in_float32():
    """The query heads of a key/value head stacked into one matmul (:func:`_causal_bf16`): the same
    output and query gradients as broadcasting the key/value head to each query head, bit for bit;
    key/value gradients summed in float32 are at least as close to a float32 attention on average."""
    from pipeline.train.attention import _causal_bf16

    def broadcast(query, key, value, scale):  # the former formula: keys and values copied per query head
        query, key, value = (t.to(torch.bfloat16) for t in (query, key, value))
        batch, heads, length, dim = query.shape
        grouped = query.view(batch, key.shape[1], heads // key.shape[1], length, dim)
        scores = (grouped @ key.unsqueeze(2).transpose(-1, -2)).float() * scale
        future = torch.ones(length, length, dtype=torch.bool).triu(1)
        weights = scores.masked_fill(future, float("-inf")).softmax(-1).to(torch.bfloat16)
        return (weights @ value.unsqueeze(2)).view(batch, heads, length, dim)

    def float32(query, key, value, scale):
        groups = query.shape[1] // key.shape[1]
        return torch.nn.functional.scaled_dot_product_attention(
            query, key.repeat_interleave(groups, 1), value.repeat_interleave(groups, 1), is_causal=True, scale=scale)

    torch.manual_seed(0)
    q, k, v, weight = torch.randn(1, 9, 115, 64), torch.randn(1, 3, 115, 64), torch.randn(1, 3, 115, 64), torch.randn(1, 9, 115, 64)

    def run(fn):
        inputs = [t.clone().requires_grad_() for t in (q, k, v)]
        out = fn(*inputs, 0.125)
        (out.float() * weight).sum().backward()
        return [out.float()] + [t.grad for t in inputs]

    stacked, old, exact = run(_causal_bf16), run(broadcast), run(float32)
    assert torch.equal(stacked[0], old[0]) and torch.equal(stacked[1], old[1])
    for i in (2, 3):  # key and value gradients
        assert (stacked[i] - old[i]).abs().max() <= 0.02 * old[i].abs().max()
        assert (stacked[i] - exact[i]).abs().mean() <= (old[i] - exact[i]).abs().mean()


def test_padded_batches_take_the_bf16_formula_with_their_mask():
    """A padded batch (DPO's pairs) under CPU bf16 autocast: the mask transformers builds for sdpa
    (causal and padding) on the bf16 formula; the real positions come out as close to a float32
    attention as PyTorch's bf16 kernel with that mask, padding keys are never attended to, and a
    padding query that may attend nowhere gives no NaN."""
    from transformers.masking_utils import sdpa_mask

    from pipeline.train.attention import segment_sdpa

    torch.manual_seed(0)
    q, k, v = (torch.randn(2, h, 40, 16) for h in (6, 2, 2))
    real = torch.ones(2, 40, dtype=torch.bool)
    real[0, :7] = False  # the first row is left-padded, the second right-padded
    real[1, 31:] = False
    mask = sdpa_mask(batch_size=2, q_length=40, kv_length=40, attention_mask=real, allow_is_causal_skip=False)
    assert mask.dtype == torch.bool and mask.shape == (2, 1, 40, 40)

    def kernel(q, k, v, dtype):
        groups = q.shape[1] // k.shape[1]
        out = torch.nn.functional.scaled_dot_product_attention(
            q.to(dtype), k.repeat_interleave(groups, 1).to(dtype), v.repeat_interleave(groups, 1).to(dtype),
            attn_mask=mask)
        return out.transpose(1, 2).float()

    with torch.autocast("cpu", dtype=torch.bfloat16):
        ours = segment_sdpa(None, q, k, v.bfloat16(), mask)[0].float()
    exact, bf16_kernel = kernel(q, k, v, torch.float32), kernel(q, k, v, torch.bfloat16)
    assert torch.isfinite(ours).all()
    rows = real[:, :, None, None].expand_as(ours)  # real query positions
    assert (ours - exact)[rows].abs().max() <= 2 * (bf16_kernel - exact)[rows].abs().max() + 1e-3
    moved = k.clone()
    moved[0, :, :7] += 5  # the left padding's keys
    moved[1, :, 31:] += 5  # the right padding's keys
    with torch.autocast("cpu", dtype=torch.bfloat16):
        unmoved = segment_sdpa(None, q, moved, v.bfloat16(), mask)[0].float()
    assert torch.equal(unmoved[rows], ours[rows])
