"""Export on the real default model (slow): the GGUF continues like the merged model, and ends turns.

A real SFT + DPO run on the default model (the project's trainers, 24 steps each at lr 1e-3 on the
Ada posts), exported as merged, GGUF f16 and Ollama (q8_0). For 3 chat-templated prompts, greedy:
llama.cpp's first 16 new tokens equal the merged transformers model's at f16; at q8_0 too, or they part
at a near-tie (the merged model's logits for the two tokens within 0.05, about 0.2% of their range: Q8_0
rounds weights and activations; measured here: all 47-48 tokens of every reply equal at both). Every
llama.cpp generation ends on the end-of-turn token before MAX_NEW_TOKENS (a clean stop).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from support.ada_data import write_data
from support.greedy import PROMPTS, assert_alike, chat_ids, hf_greedy
from support.trained_runs import make_runs

from pipeline.export import ExportSettings, export_run

pytestmark = pytest.mark.slow
MAX_NEW_TOKENS = 160


def test_default_model_gguf_continues_like_the_merged_model_and_stops(tmp_path, default_model_dir):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from pipeline.export.llama_worker import greedy

    runs = make_runs(tmp_path, default_model_dir, write_data(tmp_path / "data"), lr=1e-3, steps=24)
    quiet = lambda *a, **k: None  # noqa: E731
    merged = export_run(runs["dpo"], ExportSettings(to="merged", out=tmp_path / "merged"), log=quiet)
    files = {quant: export_run(runs["dpo"], ExportSettings(to=to, quant=quant, lora_gguf=False, out=tmp_path / quant),
                               log=quiet)
             for to, quant in (("gguf", "f16"), ("ollama", "q8_0"))}
    model = AutoModelForCausalLM.from_pretrained(merged["out"], dtype=torch.float32)
    tokenizer = AutoTokenizer.from_pretrained(merged["out"])
    end_of_turn = tokenizer.convert_tokens_to_ids(merged["end_tokens"][0])
    for prompt in PROMPTS[:3]:
        ids = chat_ids(tokenizer, prompt)
        expected = hf_greedy(model, ids, MAX_NEW_TOKENS, [end_of_turn])
        for quant, summary in files.items():
            got, _ = greedy(str(Path(summary["out"]) / summary["gguf"]), ids, MAX_NEW_TOKENS, [end_of_turn], threads=1)
            assert_alike(model, ids, expected, got, near_tie=0.05 if quant == "q8_0" else None)
            # it ends its reply where the merged model does (the runs now come from the project's trainers,
            # 24 steps: a reply may run to the cap in both, which says nothing about the export)
            assert (got[-1] == end_of_turn) == (expected[-1] == end_of_turn), (quant, prompt, tokenizer.decode(got))
