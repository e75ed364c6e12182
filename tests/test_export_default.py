"""Export on the real default model (slow): the GGUF speaks like the merged model, and stops.

A real SFT + DPO run on the default model (tests/lora_runs.py's trainer, 24 steps each at lr 2e-4 on the Ada
posts), exported as merged, GGUF f16 and Ollama (q8_0). For 5 chat-templated prompts, greedy:
llama.cpp's first 16 new tokens equal the merged transformers model's at f16 and q8_0, and every
llama.cpp generation ends on the end-of-turn token before the token limit (a clean stop).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from lora_runs import make_runs, write_data
from test_export import PROMPTS, agreement, chat_ids, hf_greedy

from pipeline.export import ExportSettings, export_run

pytestmark = pytest.mark.slow
MAX_NEW_TOKENS = 160


def test_default_model_gguf_continues_like_the_merged_model_and_stops(tmp_path, default_model_dir):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from pipeline.export.llama_worker import greedy

    runs = make_runs(tmp_path, default_model_dir, write_data(tmp_path / "data"), lr=2e-4)
    quiet = lambda *a, **k: None  # noqa: E731
    merged = export_run(runs["dpo"], ExportSettings(to="merged", out=tmp_path / "merged"), log=quiet)
    files = {quant: export_run(runs["dpo"], ExportSettings(to=to, quant=quant, lora_gguf=False, out=tmp_path / quant),
                               log=quiet)
             for to, quant in (("gguf", "f16"), ("ollama", "q8_0"))}
    model = AutoModelForCausalLM.from_pretrained(merged["out"], dtype=torch.float32)
    tokenizer = AutoTokenizer.from_pretrained(merged["out"])
    end_of_turn = tokenizer.convert_tokens_to_ids(merged["end_tokens"][0])
    for prompt in PROMPTS:
        ids = chat_ids(tokenizer, prompt)
        expected = hf_greedy(model, ids, 24, [end_of_turn])
        for quant, summary in files.items():
            got, _ = greedy(str(Path(summary["out"]) / summary["gguf"]), ids, MAX_NEW_TOKENS, [end_of_turn], threads=1)
            assert agreement(expected, got) >= min(16, len(expected)), (quant, prompt, expected, got[:24])
            assert got[-1] == end_of_turn and len(got) < MAX_NEW_TOKENS, (quant, prompt, tokenizer.decode(got))
