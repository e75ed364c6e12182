"""Attention over packed SFT batches, one packed example at a time (CPU).

TRL's padding-free packing puts several examples in one row and passes their boundaries
(``cu_seq_lens_q``) with restarting position ids. transformers' ``sdpa`` path then builds a
block-diagonal mask and attends over the whole packed row: a 512-token row of four examples
computes 512 x 512 scores where the examples need four 128 x 128 causal blocks, and with an
explicit mask the kernel cannot use its causal shortcut. On this project's CPU that was about a
sixth of each quick-preset step.

:func:`use_segment_attention` switches a model to ``segment_sdpa``: for a packed row it runs SDPA
causally on each example's slice; anything else (padded batches, evaluation, generation) goes to
transformers' own ``sdpa`` function unchanged. Mathematically the same attention (a test compares
loss and LoRA gradients with the ``sdpa`` path). In bf16 (CPU autocast) each example runs the eager
formula instead of the flash kernel, whose CPU backward is slow in bf16 (:func:`_causal_bf16`).
"""

from __future__ import annotations

import functools
import itertools

NAME = "segment_sdpa"


def segment_sdpa(module, query, key, value, attention_mask, dropout: float = 0.0, scaling=None, **kwargs):
    """transformers' attention-function signature; ``query`` is (batch, heads, positions, dim)."""
    import torch
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    from .frozen_bf16 import in_cpu_bf16_autocast

    bounds = kwargs.get("cu_seq_lens_q")
    if bounds is None or query.shape[0] != 1 or key.shape[2] != query.shape[2] or kwargs.get("output_attentions"):
        return sdpa_attention_forward(module, query, key, value, attention_mask, dropout=dropout, scaling=scaling,
                                      **kwargs)
    bounds = bounds.tolist()
    # bf16 also under CPU bf16 autocast, where the rotary embedding hands over float32 queries and
    # keys and SDPA would cast them to bf16 itself (segment attention runs on CPU models only)
    if (query.dtype == torch.bfloat16 or in_cpu_bf16_autocast()) and dropout == 0.0:
        attend = functools.partial(_causal_bf16, scale=scaling if scaling is not None else query.shape[-1] ** -0.5)
    else:
        attend = functools.partial(torch.nn.functional.scaled_dot_product_attention, dropout_p=dropout, scale=scaling,
                                   is_causal=True, enable_gqa=query.shape[1] != key.shape[1])
    parts = [attend(query[:, :, start:stop], key[:, :, start:stop], value[:, :, start:stop])
             for start, stop in itertools.pairwise(bounds) if stop > start]
    return torch.cat(parts, dim=2).transpose(1, 2).contiguous(), None


def _causal_bf16(query, key, value, scale: float):
    """Causal attention as transformers' eager path computes it (bf16 matmuls, float32 softmax), the
    query heads grouped onto their shared key/value head. For bf16 on CPU, forward plus backward of
    a 48-128 token example took 0.6-0.7x the time of PyTorch's flash kernel (about equal at 256)."""
    import torch

    query, key, value = (t.to(torch.bfloat16) for t in (query, key, value))
    batch, heads, length, dim = query.shape
    kv_heads = key.shape[1]
    grouped = query.view(batch, kv_heads, heads // kv_heads, length, dim)
    scores = (grouped @ key.unsqueeze(2).transpose(-1, -2)).float() * scale
    future = torch.ones(length, length, dtype=torch.bool, device=query.device).triu(1)
    weights = scores.masked_fill(future, float("-inf")).softmax(-1).to(torch.bfloat16)
    return (weights @ value.unsqueeze(2)).view(batch, heads, length, dim)


def use_segment_attention(model) -> bool:
    """Run ``model``'s attention with :func:`segment_sdpa` (CPU models on ``sdpa`` only); True if switched."""
    from transformers import AttentionInterface
    from transformers.masking_utils import ALL_MASK_ATTENTION_FUNCTIONS, sdpa_mask

    if next(model.parameters()).device.type != "cpu" or model.config._attn_implementation != "sdpa":
        return False
    AttentionInterface.register(NAME, segment_sdpa)
    ALL_MASK_ATTENTION_FUNCTIONS.register(NAME, sdpa_mask)  # padded batches still get sdpa's mask
    model.set_attn_implementation(NAME)
    return True
