"""Attention for CPU training: packed SFT rows one example at a time; padded batches in bf16.

TRL's padding-free packing puts several examples in one row and passes their boundaries
(``cu_seq_lens_q``) with restarting position ids. transformers' ``sdpa`` path then builds a
block-diagonal mask and attends over the whole packed row: a 512-token row of four examples
computes 512 x 512 scores where the examples need four 128 x 128 causal blocks, and with an
explicit mask the kernel cannot use its causal shortcut. On this project's CPU that was about a
sixth of each quick-preset step.

:func:`use_segment_attention` switches a model to ``segment_sdpa``: for a packed row it runs SDPA
causally on each example's slice. Mathematically the same attention (a test compares loss and LoRA
gradients with the ``sdpa`` path). In bf16 (CPU autocast) each example runs the eager formula
instead of the flash kernel, whose CPU backward is slow in bf16 (:func:`_causal_bf16`), and so do
padded batches (DPO's pairs) with the boolean mask transformers builds for sdpa: the flash kernel's
bf16 backward was a fifth of a DPO step on an Intel Xeon with AMX. Anything else (float32 padded
batches, decoding with a cache, a float mask) goes to transformers' own ``sdpa`` function unchanged.
"""

from __future__ import annotations

import functools
import itertools

NAME = "segment_sdpa"


def segment_sdpa(module, query, key, value, attention_mask, dropout: float = 0.0, scaling=None, **kwargs):
    """transformers' attention-function signature; ``query`` is (batch, heads, positions, dim)."""
    import torch
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    from ..cpu.frozen_bf16 import in_cpu_bf16_autocast

    # bf16 also under CPU bf16 autocast, where the rotary embedding hands over float32 queries and
    # keys and SDPA would cast them to bf16 itself (segment attention runs on CPU models only)
    bf16 = (query.dtype == torch.bfloat16 or in_cpu_bf16_autocast()) and dropout == 0.0
    scale = scaling if scaling is not None else query.shape[-1] ** -0.5
    length = query.shape[2]
    usable = key.shape[2] == length and length > 1 and not kwargs.get("output_attentions")
    bounds = kwargs.get("cu_seq_lens_q")
    bounds = bounds.tolist() if bounds is not None else None
    if bounds is None and bf16 and usable and (attention_mask is None or attention_mask.dtype == torch.bool):
        # a padded batch (DPO's pairs, evaluation): the mask sdpa would get, on the bf16 formula
        return _causal_bf16(query, key, value, scale, attention_mask).transpose(1, 2).contiguous(), None
    if not bounds or bounds[0] != 0 or bounds[-1] != length or query.shape[0] != 1 or not usable:
        return sdpa_attention_forward(module, query, key, value, attention_mask, dropout=dropout, scaling=scaling,
                                      **kwargs)
    # split, not slicing: the backward of N slices fills N zero tensors of the whole row and adds them up
    sizes = [stop - start for start, stop in itertools.pairwise(bounds)]
    if bf16:
        attend = functools.partial(_causal_bf16, scale=scale)
    else:
        attend = functools.partial(torch.nn.functional.scaled_dot_product_attention, dropout_p=dropout, scale=scaling,
                                   is_causal=True, enable_gqa=query.shape[1] != key.shape[1])
    parts = [attend(q, k, v).transpose(1, 2)
             for q, k, v in zip(query.split(sizes, 2), key.split(sizes, 2), value.split(sizes, 2)) if q.shape[2]]
    return torch.cat(parts, dim=1), None  # (batch, positions, heads, dim), as transformers' functions return it


def _causal_bf16(query, key, value, scale: float, allowed=None):
    """Causal attention as transformers' eager path computes it (bf16 matmuls, float32 softmax).

    ``allowed``: None (causal), or the boolean (batch, 1, positions, positions) mask transformers
    builds for sdpa (causal and padding; True = attend). Masked scores get float32's lowest value, as
    in the eager path, so a query that may attend nowhere (a padding position) gives no NaN.

    The query heads that share a key/value head are stacked along the rows of one matmul with it:
    no copy of the keys and values per query head, and their gradients are summed in the matmul's
    float32 accumulator (the broadcast form rounded each head's part to bf16, then summed those).
    The output and the query gradients are bit for bit the broadcast form's. For bf16 on CPU,
    forward plus backward of a 115-token example took about half the time of the broadcast form,
    which took 0.6-0.7x that of PyTorch's flash kernel."""
    import torch

    # a packed row's example slice, cast here, comes out contiguous: stacking its query heads is free
    query, key, value = (t.to(torch.bfloat16) for t in (query, key, value))
    batch, heads, length, dim = query.shape
    kv_heads = key.shape[1]
    groups = heads // kv_heads
    stacked = query.reshape(batch, kv_heads, groups * length, dim)
    scores = (stacked @ key.transpose(-1, -2)).float() * scale
    if allowed is None:
        masked = torch.ones(length, length, dtype=torch.bool, device=query.device).triu(1)
    else:
        masked = ~allowed.unsqueeze(2)  # (batch, 1, 1, positions, positions): every head and group
    scores = scores.view(batch, kv_heads, groups, length, length).masked_fill(masked, torch.finfo(torch.float32).min)
    weights = scores.softmax(-1).to(torch.bfloat16).view(batch, kv_heads, groups * length, length)
    return (weights @ value).view(batch, heads, length, dim)


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
