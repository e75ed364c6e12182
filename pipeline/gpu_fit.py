"""Which models fit which GPU: Hub presets sized to Space hardware, and a memory estimate that refuses
a training run that cannot fit before anything is loaded, naming the change that makes it fit.

The estimate (:func:`estimate_training_memory`) adds, in bytes:

* **weights**: 4-bit NF4 linear layers at 0.52 bytes/parameter (4 bits + double-quantised absmax),
  embeddings and an untied LM head at 2 bytes; 16-bit weights at 2; float32 at 4. A DPO run on an
  SFT parent holds the base with the SFT adapter merged in float32 (4 bytes/parameter, see
  :mod:`pipeline.train.dpo`).
* **LoRA + optimizer**: r x (in + out) per targeted projection, 16 bytes each (float32 weight,
  gradient and AdamW's two moments).
* **activations**: per token and layer, the tensors a LoRA backward keeps, (6h + 2·kv + 4i) values
  in 16-bit (h hidden, kv the key/value width, i the MLP width), or one hidden state per layer plus one
  layer's worth with gradient checkpointing; DPO scores chosen and rejected, two sequences per pair.
* **logits**: one chunk of 4096 positions x vocabulary in float32, forward and backward (the CUDA
  LM heads of TRL and Unsloth are chunked).
* **overhead**: 0.8 GiB (CUDA context, kernels) + 10% (allocator fragmentation).

It is an estimate, meant to refuse what clearly cannot fit (a 3B model in 16-bit on a 16 GB T4),
not to promise that what passes will; the measured peaks are in bench/gpu when a GPU was lent.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

GIB = 2**30


@dataclass(frozen=True)
class Arch:
    """The shape numbers of a decoder that the estimate needs (from its config.json)."""

    layers: int
    hidden: int
    intermediate: int
    vocab: int
    heads: int
    kv_heads: int
    tied: bool = True
    head_dim: int | None = None
    """Width of one attention head when it is not hidden / heads (Gemma 3: 256 at any hidden size)."""

    @classmethod
    def from_config(cls, config: dict) -> Arch:
        text = config.get("text_config") or config
        heads = int(text["num_attention_heads"])
        head_dim = text.get("head_dim")
        return cls(layers=int(text["num_hidden_layers"]), hidden=int(text["hidden_size"]),
                   intermediate=int(text["intermediate_size"]), vocab=int(text["vocab_size"]), heads=heads,
                   kv_heads=int(text.get("num_key_value_heads") or heads),
                   tied=bool(config.get("tie_word_embeddings", text.get("tie_word_embeddings", True))),
                   head_dim=int(head_dim) if head_dim and int(head_dim) != int(text["hidden_size"]) // heads else None)

    @property
    def head_width(self) -> int:
        return self.head_dim or self.hidden // self.heads

    @property
    def kv_width(self) -> int:
        return self.kv_heads * self.head_width

    def projections(self) -> dict[str, tuple[int, int]]:
        """(in, out) of each projection of one layer."""
        h, i, kv, q = self.hidden, self.intermediate, self.kv_width, self.heads * self.head_width
        return {"q_proj": (h, q), "k_proj": (h, kv), "v_proj": (h, kv), "o_proj": (q, h),
                "gate_proj": (h, i), "up_proj": (h, i), "down_proj": (i, h)}

    def linear_parameters(self) -> int:
        return self.layers * sum(a * b for a, b in self.projections().values())

    def embedding_parameters(self) -> int:
        return self.vocab * self.hidden * (1 if self.tied else 2)

    def parameters(self) -> int:
        return self.linear_parameters() + self.embedding_parameters()


@dataclass(frozen=True)
class ModelPreset:
    """A Hub model for the GPU model picker."""

    hub_id: str
    arch: Arch
    note: str


_QWEN_05 = Arch(24, 896, 4864, 151936, 14, 2)
_QWEN_15 = Arch(28, 1536, 8960, 151936, 12, 2)
_QWEN_3 = Arch(36, 2048, 11008, 151936, 16, 2)
_LLAMA_1 = Arch(16, 2048, 8192, 128256, 32, 8)
_LLAMA_3 = Arch(28, 3072, 8192, 128256, 24, 8)
GPU_PRESETS = (
    ModelPreset("HuggingFaceTB/SmolLM2-360M-Instruct", Arch(32, 960, 2560, 49152, 15, 5), "0.36B, the default's bigger sibling"),
    ModelPreset("Qwen/Qwen2.5-0.5B-Instruct", _QWEN_05, "0.5B"),
    ModelPreset("unsloth/Qwen2.5-0.5B-Instruct-bnb-4bit", _QWEN_05, "0.5B, pre-quantised 4-bit (smaller download)"),
    ModelPreset("unsloth/Llama-3.2-1B-Instruct-bnb-4bit", _LLAMA_1, "1.2B, pre-quantised 4-bit"),
    ModelPreset("Qwen/Qwen2.5-1.5B-Instruct", _QWEN_15, "1.5B"),
    ModelPreset("unsloth/Qwen2.5-1.5B-Instruct-bnb-4bit", _QWEN_15, "1.5B, pre-quantised 4-bit"),
    ModelPreset("HuggingFaceTB/SmolLM2-1.7B-Instruct", Arch(24, 2048, 8192, 49152, 32, 32), "1.7B"),
    ModelPreset("unsloth/Qwen2.5-3B-Instruct-bnb-4bit", _QWEN_3, "3.1B, pre-quantised 4-bit"),
    ModelPreset("unsloth/Llama-3.2-3B-Instruct-bnb-4bit", _LLAMA_3, "3.2B, pre-quantised 4-bit"),
)


@dataclass(frozen=True)
class Plan:
    """What a training run will hold in GPU memory (the settings that matter for it)."""

    kind: str = "sft"
    """``sft`` or ``dpo``."""
    load_in_4bit: bool = True
    weight_bytes: int = 2
    """Bytes per unquantised weight (2 for bf16/fp16, 4 for float32)."""
    merged_float32: bool = False
    """A DPO run on an SFT parent: the base + SFT merged in float32."""
    lora_r: int = 16
    targets: tuple[str, ...] = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
    batch_size: int = 4
    grad_accum: int = 1
    max_length: int = 512
    gradient_checkpointing: bool = False

    @classmethod
    def from_settings(cls, kind: str, settings, merged_float32: bool = False) -> Plan:
        length = (settings.max_prompt_length + settings.max_completion_length) if kind == "dpo" else settings.max_length
        return cls(kind=kind, load_in_4bit=settings.load_in_4bit and not merged_float32,
                   weight_bytes=4 if settings.dtype == "float32" else 2, merged_float32=merged_float32,
                   lora_r=settings.lora_r, targets=tuple(settings.targets()), batch_size=settings.batch_size,
                   grad_accum=settings.grad_accum, max_length=length,
                   gradient_checkpointing=settings.gradient_checkpointing)


def estimate_training_memory(arch: Arch, plan: Plan) -> dict:
    """Bytes per part and ``total`` (see the module doc for each formula)."""
    if plan.merged_float32:
        weights = 4 * arch.parameters()
    elif plan.load_in_4bit:
        weights = int(0.52 * arch.linear_parameters()) + 2 * arch.embedding_parameters()
    else:
        weights = plan.weight_bytes * arch.parameters()
    shapes = arch.projections()
    lora_parameters = arch.layers * sum(plan.lora_r * sum(shapes[t]) for t in plan.targets if t in shapes)
    tokens = plan.batch_size * plan.max_length * (2 if plan.kind == "dpo" else 1)
    per_layer = (6 * arch.hidden + 2 * arch.kv_width + 4 * arch.intermediate) * 2
    if plan.gradient_checkpointing:
        activations = tokens * (arch.layers * arch.hidden * 2 + per_layer)
    else:
        activations = tokens * arch.layers * per_layer
    logits = min(tokens, 4096) * arch.vocab * 4 * 2
    parts = {"weights": weights, "lora_and_optimizer": 16 * lora_parameters, "activations": activations,
             "logits": logits}
    subtotal = sum(parts.values())
    parts["overhead"] = int(0.8 * GIB + 0.1 * subtotal)
    parts["total"] = subtotal + parts["overhead"]
    return parts


def fits(arch: Arch, plan: Plan, gpu_bytes: int) -> bool:
    return estimate_training_memory(arch, plan)["total"] <= gpu_bytes


def suggest_fix(arch: Arch, plan: Plan, gpu_bytes: int) -> str | None:
    """The first change (cumulative, cheapest first) that makes ``plan`` fit, as CLI flags; None if none does."""
    steps = []
    if not plan.load_in_4bit and not plan.merged_float32:
        steps.append(("--4bit", dict(load_in_4bit=True)))
    if not plan.gradient_checkpointing:
        steps.append(("--gradient-checkpointing", dict(gradient_checkpointing=True)))
    batch, accum = plan.batch_size, plan.grad_accum
    while batch > 1:
        batch, accum = batch // 2, accum * 2
        steps.append((f"--batch-size {batch} --grad-accum {accum}", dict(batch_size=batch, grad_accum=accum)))
    length = plan.max_length
    while length > 256 and plan.kind == "sft":
        length //= 2
        steps.append((f"--max-length {length}", dict(max_length=length)))
    flags, current = [], plan
    for flag, change in steps:
        current = replace(current, **change)
        flags = [f for f in flags if not f.startswith(flag.split()[0])] + [flag]
        if fits(arch, current, gpu_bytes):
            return " ".join(flags)
    return None


def check_fits(config_path: Path, plan: Plan, gpu_bytes: int, gpu_name: str = "this GPU") -> dict:
    """The estimate for the model whose ``config.json`` is ``config_path``; a UserError naming the fix
    when it cannot fit in ``gpu_bytes``."""
    from .errors import UserError

    config = json.loads(Path(config_path).read_text(encoding="utf-8"))
    arch = Arch.from_config(config)
    if (config.get("quantization_config") or {}).get("load_in_4bit") and not plan.merged_float32:
        plan = replace(plan, load_in_4bit=True)  # a pre-quantised bnb-4bit repo loads 4-bit whatever the flag
    estimate = estimate_training_memory(arch, plan)
    if estimate["total"] <= gpu_bytes:
        return estimate
    fix = suggest_fix(arch, plan, gpu_bytes)
    smaller = [p.hub_id for p in GPU_PRESETS if fits(p.arch, replace(plan, load_in_4bit=True), gpu_bytes)]
    advice = (f"try {fix}" if fix else "no setting makes it fit: pick a smaller model"
              + (f" (e.g. {smaller[-1]})" if smaller else ""))
    raise UserError(f"this run needs about {estimate['total'] / GIB:.1f} GiB of GPU memory (weights "
                    f"{estimate['weights'] / GIB:.1f}, activations {estimate['activations'] / GIB:.1f}) but {gpu_name} "
                    f"has {gpu_bytes / GIB:.1f} GiB; {advice}.")


def presets_for(gpu_bytes: int, plan: Plan = Plan()) -> list[dict]:
    """The presets, each with its estimate under ``plan`` (4-bit) and whether it fits ``gpu_bytes``."""
    rows = []
    for preset in GPU_PRESETS:
        total = estimate_training_memory(preset.arch, replace(plan, load_in_4bit=True))["total"]
        rows.append({"model": preset.hub_id, "parameters_b": round(preset.arch.parameters() / 1e9, 2),
                     "note": preset.note, "estimate_gib": round(total / GIB, 1), "fits": total <= gpu_bytes})
    return rows


def model_choices(gpu_bytes: int | None, plan: Plan = Plan()) -> list[str]:
    """The app's base-model picker: the embedded models, then on a GPU the presets whose 4-bit SFT estimate fits."""
    from .models import EMBEDDED

    if not gpu_bytes:
        return list(EMBEDDED)
    return list(EMBEDDED) + [row["model"] for row in presets_for(gpu_bytes, plan) if row["fits"]]
