"""Training: our SFT and DPO vs TRL's trainers with their defaults, same model, data, LoRA and steps.

* SFT: real (non-pad) tokens/s, ours (packing, completion-only loss, the compact LM head, the
  quick preset) / TRL SFTTrainer defaults; and the fraction of the CPU's FLOP ceiling our SFT
  reaches: the model FLOPs the step needs per second over the measured matmul rate in the precision
  training runs its matmuls in (bf16 where the CPU has it natively). Needed FLOPs: 4 x the decoder's
  parameters per token (forward + backward through frozen weights) plus 4 x the LM head's per
  completion token (the only ones with a loss: the head never runs on prompt tokens, so counting
  it there would flatter the figure); LoRA's and attention's own FLOPs are not counted.
* DPO: steps/s end to end (trainer set-up, which for ours includes the reference log-probs, plus
  the steps), ours / TRL DPOTrainer defaults; both on the base policy (no SFT parent), same pairs.
Each pair of figures is measured one after the other in this process, on the same data.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from bench.figures import Figure, emit, quick_flag
from bench.sample_data import sample_data_dir


def matmul_flops_per_s(dtype, size: int = 1024, repeats: int = 20) -> float:
    """The CPU's ``dtype`` matmul rate with the threads training uses (the FLOP ceiling)."""
    import torch

    a, b = torch.randn(size, size, dtype=dtype), torch.randn(size, size, dtype=dtype)
    a @ b
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    return 2 * size ** 3 * repeats / (time.perf_counter() - start)


def main() -> None:
    import torch

    from bench.train_throughput import measure_dpo_throughput, measure_sft_throughput
    from pipeline.gpu import mixed_precision
    from pipeline.models import load_model, native_bf16
    from pipeline.train.common import set_threads
    from pipeline.train.settings import settings_for

    quick = quick_flag()
    sft_steps, dpo_steps = (2, 2) if quick else (12, 8)
    data = sample_data_dir()
    quiet = lambda *a, **k: None  # noqa: E731
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        sft = {mode: measure_sft_throughput(data, settings_for("sft", "quick"), sft_steps, tmp / f"sft-{mode}",
                                            trl_defaults=mode == "trl", log=quiet) for mode in ("trl", "ours")}
        dpo = {mode: measure_dpo_throughput(data, None, settings_for("dpo", "quick"), dpo_steps, tmp / f"dpo-{mode}",
                                            trl_defaults=mode == "trl", log=quiet) for mode in ("trl", "ours")}
    settings = settings_for("sft", "quick")
    set_threads(settings)
    dtype = torch.bfloat16 if mixed_precision(settings.dtype, "cpu", None, native_bf16("cpu"))["bf16"] else torch.float32
    ceiling = matmul_flops_per_s(dtype)
    model, _, _, _ = load_model("default")
    params = sum(p.numel() for p in model.parameters())  # the tied LM head counted once
    head = model.get_output_embeddings().weight.numel()
    ours = sft["ours"]
    achieved = 4 * ((params - head) * ours["tokens"] + head * ours["completion_tokens"]) / ours["seconds"]
    end_to_end = {mode: r["steps"] / (r["setup_s"] + r["seconds"]) for mode, r in dpo.items()}
    emit([
        Figure("SFT: real tokens/s, ours / TRL defaults", sft["ours"]["tokens_per_s"] / sft["trl"]["tokens_per_s"], 1.5,
               details={"ours": sft["ours"], "trl": sft["trl"]}),
        Figure("SFT: fraction of the CPU FLOP ceiling", achieved / ceiling, 0.5, unit="",
               details={"model_flops_per_s": round(achieved), "matmul_flops_per_s": round(ceiling),
                        "matmul_dtype": str(dtype).removeprefix("torch."), "parameters": params,
                        "lm_head_parameters": head}),
        Figure("DPO: steps/s end to end, ours / TRL defaults", end_to_end["ours"] / end_to_end["trl"], 1.2,
               details={"ours": dpo["ours"], "trl": dpo["trl"]}),
    ])


if __name__ == "__main__":
    main()
