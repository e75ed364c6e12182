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
loss and LoRA gradients with the ``sdpa`` path).
"""

from __future__ import annotations

import itertools

NAME = "segment_sdpa"


def segment_sdpa(module, query, key, value, attention_mask, dropout: float = 0.0, scaling=None, **kwargs):
    """transformers' attention-function signature; ``query`` is (batch, heads, positions, dim)."""
    import torch
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    bounds = kwargs.get("cu_seq_lens_q")
    if bounds is None or query.shape[0] != 1 or key.shape[2] != query.shape[2] or kwargs.get("output_attentions"):
        return sdpa_attention_forward(module, query, key, value, attention_mask, dropout=dropout, scaling=scaling,
                                      **kwargs)
    bounds = bounds.tolist()
    gqa = query.shape[1] != key.shape[1]
    parts = [torch.nn.functional.scaled_dot_product_attention(
        query[:, :, start:stop], key[:, :, start:stop], value[:, :, start:stop], dropout_p=dropout, scale=scaling,
        is_causal=True, enable_gqa=gqa) for start, stop in itertools.pairwise(bounds) if stop > start]
    return torch.cat(parts, dim=2).transpose(1, 2).contiguous(), None


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
