"""Frozen weights cast to bf16 once per run, not once per step (CPU bf16 autocast).

Under autocast a frozen fp32 ``nn.Linear`` weight is cast to bf16 on every forward: autocast caches
casts only of weights that require grad, and only within one forward. On a 2-core CPU with the 135M
default model those casts (the base projections under each LoRA, and the 49k x 576 tied LM head)
were about a sixth of a quick-preset SFT step. PEFT adds two more casts per LoRA layer: it casts the
bf16 input up to the adapter's fp32 and autocast casts it straight back.

:func:`use_frozen_bf16` gives each frozen base projection and the LM head a bf16 copy of its weight,
used only while CPU autocast runs in bf16 (training's forward and backward); outside autocast the
layer runs on its float32 weight as before. With LoRA dropout off it also stops PEFT's input cast
(with dropout on, the dropout would then round in bf16, so it is left alone). Autocast would have
multiplied the same bf16 values: the loss and gradients are bit-for-bit those of the plain path
(a test compares them). The copies cost half the frozen weights' float32 memory.

:func:`bf16_weight_copies` does the same for a block of inference (margin scoring in several bf16
batches, where autocast cast every weight again for each batch).
"""

from __future__ import annotations

import contextlib
import types


def in_cpu_bf16_autocast() -> bool:
    """Whether CPU autocast is on and casts to bf16 (training's forward and backward on a bf16 CPU)."""
    import torch

    return torch.is_autocast_enabled("cpu") and torch.get_autocast_dtype("cpu") == torch.bfloat16


def _bf16_linear_forward(self, x):
    import torch
    import torch.nn.functional as F

    if in_cpu_bf16_autocast():
        bias = None if self.bias is None else self.bias.to(torch.bfloat16)
        return F.linear(x.to(torch.bfloat16), self.bf16_weight, bias)
    return F.linear(x, self.weight, self.bias)


def _give_bf16_copy(linear) -> None:
    import torch

    linear.bf16_weight = linear.weight.detach().to(torch.bfloat16)  # an attribute, not a buffer: never saved
    linear.forward = types.MethodType(_bf16_linear_forward, linear)


def use_frozen_bf16(trainer) -> int:
    """Cast ``trainer``'s frozen CPU projections (and LM head) to bf16 once, where its training
    autocasts to bf16 on a CPU; returns how many layers got a copy (0: nothing to do)."""
    import torch
    from peft.tuners.lora import LoraLayer
    from torch import nn

    from ..models import unwrap_peft

    model = trainer.model
    if not trainer.args.bf16 or next(model.parameters()).device.type != "cpu":
        return 0
    layers = 0
    for module in model.modules():
        if not isinstance(module, LoraLayer):
            continue
        base = module.get_base_layer()
        if type(base) is nn.Linear and not base.weight.requires_grad and base.weight.dtype == torch.float32:
            _give_bf16_copy(base)
            layers += 1
        if all(isinstance(d, nn.Identity) for d in module.lora_dropout.values()):
            module.cast_input_dtype_enabled = False
    head = unwrap_peft(model).get_output_embeddings()
    if type(head) is nn.Linear and not head.weight.requires_grad and head.weight.dtype == torch.float32:
        _give_bf16_copy(head)
        layers += 1
    return layers


@contextlib.contextmanager
def bf16_weight_copies(model):
    """Within the block, each float32 CPU ``nn.Linear`` of ``model`` multiplies with a bf16 copy of its
    weight under CPU bf16 autocast, made once at the start: for scoring many batches, where autocast
    cast every weight again for each batch (about a tenth of bf16 margin scoring on the default
    model). The same bf16 values, so the same outputs; the copies and forwards go at the end."""
    import torch
    from torch import nn

    given = [m for m in model.modules()
             if type(m) is nn.Linear and m.weight.dtype == torch.float32 and m.weight.device.type == "cpu"
             and "forward" not in vars(m)]  # a layer that already has its own forward (training's copies) is left alone
    for module in given:
        _give_bf16_copy(module)
    try:
        yield len(given)
    finally:
        for module in given:
            del module.bf16_weight, module.forward  # back to the class's forward
