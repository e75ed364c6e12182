"""Compare: human picks appended to preferences.jsonl, exports, and the compare / generate CLI."""

from __future__ import annotations

import json

import pytest

from conftest import last_json, run_cli
from support.trained_runs import ONE_THREAD_ENV
from pipeline.errors import UserError
from pipeline.picks import export_comparison, record_pick, ties_path
from pipeline.data.folder import read_pairs
from pipeline.workspace import Workspace

ANSWERS = {"base": "In today's world, hiring matters.", "sft": "Hiring is hard.\n\n- ask\n- listen",
           "dpo": "I hired wrong for 3 years.\n\n- I stopped guessing."}


def test_picks_are_appended_as_dpo_pairs_and_survive_a_restart(workspace):
    message = record_pick(workspace, "Write about hiring", ANSWERS, "dpo")
    assert "2 pair(s)" in message
    record_pick(workspace, "Write about pricing", {**ANSWERS, "sft": ANSWERS["dpo"]}, "dpo")  # same text: no pair
    again = Workspace(workspace.root)  # a new process reading the same project
    picks = read_pairs(again.preferences_path)  # the DPO trainer's own reader accepts them
    assert len(picks) == 3
    assert {p["rejected"][0]["content"] for p in picks[:2]} == {ANSWERS["base"], ANSWERS["sft"]}
    assert all(p["chosen"][0]["content"] == ANSWERS["dpo"] for p in picks)
    rows = [json.loads(line) for line in again.preferences_path.read_text().splitlines()]
    assert all(r["source"] == "human" and r["time"] and r["prompt"][-1]["role"] == "user" for r in rows)


def test_a_tie_is_kept_apart_from_the_training_pairs(workspace):
    record_pick(workspace, "Write about hiring", ANSWERS, "tie")
    assert not workspace.preferences_path.exists()
    tie = json.loads(ties_path(workspace).read_text())
    assert tie["answers"] == ANSWERS
    with pytest.raises(UserError, match="no answer"):
        record_pick(workspace, "Write about hiring", {"base": "x", "sft": ""}, "sft")
    with pytest.raises(UserError, match="brief is empty"):
        record_pick(workspace, " ", ANSWERS, "dpo")
    with pytest.raises(UserError, match="pick 'tie'"):
        record_pick(workspace, "p", {"base": "same", "dpo": "same"}, "dpo")


def test_export_writes_jsonl_and_markdown(tmp_path):
    rows = [{"prompt": "Write about hiring", **ANSWERS,
             "stats": {c: {"new_tokens": 5, "tokens_per_s": 10.0, "first_token_s": 0.1} for c in ANSWERS}}]
    out = export_comparison(rows, tmp_path / "cmp.jsonl")
    assert [json.loads(line) for line in (tmp_path / "cmp.jsonl").read_text().splitlines()] == rows
    markdown = (tmp_path / "cmp.md").read_text()
    assert out["markdown"].endswith("cmp.md") and "## 1. Write about hiring" in markdown
    assert markdown.index("### base") < markdown.index("### sft") < markdown.index("### dpo")
    with pytest.raises(UserError, match="nothing to export"):
        export_comparison([], tmp_path / "empty.jsonl")
    assert not (tmp_path / "empty.jsonl").exists()


def test_compare_cli_streams_three_columns_and_exports(lora_runs, tmp_path):
    out = tmp_path / "batch.jsonl"
    result = run_cli("compare", "--run", str(lora_runs["dpo"]), "--prompt", "Write about hiring", "--data",
                     str(lora_runs["data"]), "--limit", "1", "--max-new-tokens", "8", "--seed", "3",
                     "--top-p", "7", "--export", str(out), "--json", env=ONE_THREAD_ENV)
    assert result.returncode == 0, result.stderr
    summary = last_json(result.stdout)
    assert summary["switch"] == "merge" and set(summary["columns"]) == {"base", "sft", "dpo"}
    assert summary["columns"]["dpo"]["adapters"] == [str(lora_runs["sft"] / "adapter"),
                                                    str(lora_runs["dpo"] / "adapter")]
    assert len(summary["rows"]) == 2 and any("top_p=7" in n for n in summary["notices"])
    for row in summary["rows"]:
        for column in ("base", "sft", "dpo"):
            assert row[column] and row["stats"][column]["new_tokens"] > 0
    assert "=== dpo ===" in result.stderr  # streamed to the terminal
    assert len(out.read_text().splitlines()) == 2 and out.with_suffix(".md").is_file()


def test_generate_cli_serves_a_run_and_refuses_bad_input(lora_runs, tiny_model_dir):
    result = run_cli("generate", "--adapter", str(lora_runs["dpo"]), "--prompt", "Write about hiring",
                     "--max-new-tokens", "6", "--json", env=ONE_THREAD_ENV)
    assert result.returncode == 0, result.stderr
    assert last_json(result.stdout)["new_tokens"] > 0
    result = run_cli("compare", "--run", str(lora_runs["dpo"]), "--prompt", " ", "--json", env=ONE_THREAD_ENV)
    assert result.returncode == 2 and "prompt is empty" in last_json(result.stdout)["error"]
