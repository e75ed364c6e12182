"""Export: wall time of a q8_0 GGUF export of a DPO run on the default model, and decode speed of
that GGUF in llama.cpp against the HF model as Compare serves it (same prompt, greedy, same threads).

The runs are bench_compare's: random, small LoRA deltas (r16, all projections) on the default
model, an SFT run and a DPO run on top of it. llama.cpp is the one ``make llama`` built.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from bench.bench_compare import PROMPT, make_runs
from bench.figures import Figure, emit, quick_flag


def main() -> None:
    import torch

    from pipeline.export import ExportSettings, export_run
    from pipeline.export.llama_worker import greedy
    from pipeline.serving.variants import Variants
    from pipeline.generation import SamplingSettings, chat_input_ids

    quick = quick_flag()
    tokens = 24 if quick else 128
    threads = torch.get_num_threads()
    with tempfile.TemporaryDirectory(prefix="bench-export-") as tmp:
        sft, dpo = make_runs(Path(tmp))
        start = time.perf_counter()
        summary = export_run(dpo, ExportSettings(to="gguf", quant="q8_0", lora_gguf=False), log=lambda *a, **k: None)
        export_s = time.perf_counter() - start
        gguf = str(Path(summary["out"]) / summary["gguf"])
        gguf_mb = round(Path(gguf).stat().st_size / 1e6, 1)

        variants = Variants.load(sft=str(sft), dpo=str(dpo), log=lambda *a, **k: None)
        settings = SamplingSettings(max_new_tokens=tokens, temperature=0)
        ids = chat_input_ids(variants.tokenizer, [{"role": "user", "content": PROMPT}], 4096, [])
        runs = 1 if quick else 3
        hf_rates, llama_rates = [], []
        variants.generate("dpo", PROMPT, settings)  # warm-up
        greedy(gguf, ids, tokens, [], threads=threads)
        for _ in range(runs):
            hf_rates.append(variants.generate("dpo", PROMPT, settings)[1].tokens_per_s)
            out, seconds = greedy(gguf, ids, tokens, [], threads=threads)
            llama_rates.append(len(out) / seconds)
    hf, llama = sorted(hf_rates)[runs // 2], sorted(llama_rates)[runs // 2]
    details = {"tokens": tokens, "threads": threads, "runs": runs, "switch": variants.switch}
    emit([
        Figure("export: q8_0 GGUF of a DPO run, default model (s)", round(export_s, 1), 60.0, higher_is_better=False,
               unit="s", details={"gguf_mb": gguf_mb}),
        Figure("decode: llama.cpp q8_0 / HF Compare (DPO column) tokens/s", round(llama / hf, 2), None,
               details={**details, "llama_cpp_tokens_per_s": round(llama, 1), "hf_tokens_per_s": round(hf, 1)}),
    ])


if __name__ == "__main__":
    main()
