"""build_dataset end to end on the sample corpus: the data folder contract, the report, the card,
`datasets.load_dataset`, atomic output, bad input, teacher/base generation with the cache, the CLI."""

import json
from dataclasses import replace
from pathlib import Path

import pytest

from conftest import last_json, run_cli
from pipeline.data import BuildSettings, build_dataset
from pipeline.errors import UserError
from pipeline.fsio import read_jsonl
from support.teacher_models import build_chatty_model, free_port

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
INPUTS = [EXAMPLES / "posts.csv", EXAMPLES / "tweets.js", EXAMPLES / "Shares.csv"]


@pytest.fixture(scope="module")
def built(tmp_path_factory, tiny_model_dir):
    out = tmp_path_factory.mktemp("build") / "data"
    messages = []
    report = build_dataset(INPUTS, out, BuildSettings(model=str(tiny_model_dir), format="alpaca", negatives="rule"),
                           progress=lambda f, m: messages.append((f, m)))
    return out, report, messages


def test_counts_after_each_step(built):
    out, report, messages = built
    steps = {s["step"]: s for s in report.steps}
    assert steps["ingest"]["kept"] == 356 and steps["ingest"]["removed"] == {"non-numeric engagement": 2}
    assert steps["filter"]["removed"] == {"retweet": 7, "reply": 8, "shorter than 30 chars": 5}
    assert steps["dedupe"]["removed"] == {"exact": 9, "near": 5} and steps["dedupe"]["kept"] == 322
    # up to three removed posts per reason, as the step saw them (cleaned), for the Dataset tab
    examples = {name: steps[name]["examples"] for name in ("filter", "dedupe")}
    assert {k: len(v) for k, v in examples["filter"].items()} == {"retweet": 3, "reply": 3, "shorter than 30 chars": 3}
    assert all(len(t) < 30 for t in examples["filter"]["shorter than 30 chars"])
    assert [len(v) for v in examples["dedupe"].values()] == [3, 3] and report.semantic_clean is None
    assert report.counts["gold"] == 161 and report.counts["dpo_pairs"] == 161
    assert report.per_source["posts.csv"]["kept"] == 300 and report.per_source["Shares.csv"]["kind"] == "linkedin"
    assert "3 posts" not in " ".join(report.notices) and any("no engagement" in n for n in report.notices)
    assert messages[-1] == (1.0, "done") and [f for f, _ in messages] == sorted(f for f, _ in messages)
    assert json.loads((out / "report.json").read_text())["counts"] == report.counts


def test_data_folder_contract_and_splits(built):
    out, report, _ = built
    sft = {s: read_jsonl(out / "sft" / f"{s}.jsonl") for s in ("train", "validation", "test")}
    dpo = {s: read_jsonl(out / "dpo" / f"{s}.jsonl") for s in ("train", "validation", "test")}
    assert {s: len(r) for s, r in sft.items()} == report.splits["sft"] and min(report.splits["sft"].values()) >= 10
    prompts = {s: {r["messages"][-2]["content"] for r in rows} for s, rows in sft.items()}
    assert not (prompts["train"] & prompts["test"]) and not (prompts["train"] & prompts["validation"])
    for split, rows in dpo.items():  # a post's split is the same in sft and dpo
        assert {r["prompt"][-1]["content"] for r in rows} <= prompts[split]
    row = dpo["train"][0]
    assert [m["role"] for m in row["prompt"]] == ["user"] and row["chosen"][0]["role"] == "assistant"
    assert row["chosen"][0]["content"] != row["rejected"][0]["content"]
    texts = [r["messages"][-1]["content"] for rows in sft.values() for r in rows]
    assert not any("http" in t or "@maria" in t or "!!!" in t for t in texts)
    assert any("[URL]" in t for t in texts) and any("\n- " in t or "\n→ " in t for t in texts)
    posts = read_jsonl(out / "posts.jsonl")
    assert len(posts) == 322 and sum(p["gold"] for p in posts) == 161
    assert {"text", "source", "engagement", "score", "gold", "split"} <= set(posts[0])
    gold_texts = {p["text"] for p in posts if p["gold"]}
    assert all(r["chosen"][0]["content"] in gold_texts for rows in dpo.values() for r in rows)
    alpaca = read_jsonl(out / "exports" / "alpaca" / "train.jsonl")
    assert len(alpaca) == report.splits["sft"]["train"] and set(alpaca[0]) == {"instruction", "input", "output"}


def test_quality_report(built):
    _, report, _ = built
    q = report.quality
    assert q["length_balance"]["imbalance"] < 0.2 and q["length_balance"]["warning"] is None
    assert q["identical_pairs_removed"] == 0 and q["tokens"]["sft"]["over_limit"] == 0
    assert q["separability"]["auc"] < 0.9 and q["separability"]["warning"] is None
    assert q["tokens"]["sft"]["tokens"]["max"] > 50 and len(q["near_duplicates"]) == 5
    assert len(report.samples) == 5 and all("<|im_start|>assistant" in s["rendered"] and s["tokens"] > 20
                                            for s in report.samples)
    assert len(report.engagement["scores"]) == 322 and report.engagement["gold_threshold"] > 0.4


def test_card_and_load_dataset(built):
    from datasets import load_dataset
    from huggingface_hub import DatasetCard

    out, report, _ = built
    card = DatasetCard.load(out / "README.md")
    assert card.data.license == "cc-by-4.0" and set(card.data.tags) == {"sft", "dpo", "preference", "synthetic"}
    assert card.data.size_categories == ["n<1K"] and "synthetic" in card.text.lower()
    sft = load_dataset(str(out), "sft")
    dpo = load_dataset(str(out), "dpo")
    assert sft.num_rows == report.splits["sft"] and dpo.num_rows == report.splits["dpo"]
    assert dpo["train"].column_names == ["prompt", "chosen", "rejected"]


def test_bad_builds_write_nothing(tmp_path, tiny_model_dir, built):
    settings = BuildSettings(model=str(tiny_model_dir), negatives="rule")
    with pytest.raises(UserError, match=r"every post was removed by the filter step \(.*shorter than 5000 chars"):
        build_dataset(INPUTS, tmp_path / "a", replace(settings, min_chars=5000, max_chars=6000))
    with pytest.raises(UserError, match="unreachable"):
        build_dataset(INPUTS, tmp_path / "b", replace(settings, teacher=f"http://127.0.0.1:{free_port()}", teacher_model="m"))
    with pytest.raises(UserError, match="needs a teacher"):
        build_dataset(INPUTS, tmp_path / "c", replace(settings, negatives="teacher"))
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no partial or temp folders
    home = tmp_path / "home"
    (home / "notes.txt").parent.mkdir()
    (home / "notes.txt").write_text("mine")
    with pytest.raises(UserError, match="is not a data folder"):
        build_dataset(INPUTS, home, settings)
    # A failed rebuild leaves the previous data folder as it was.
    out = built[0]
    before = (out / "sft" / "train.jsonl").read_text()
    with pytest.raises(UserError):
        build_dataset([tmp_path / "missing.csv"], out, settings)
    assert (out / "sft" / "train.jsonl").read_text() == before


def test_local_teacher_and_base_negatives_are_cached(tmp_path, tiny_model_dir):
    model = build_chatty_model(tmp_path / "chatty", tiny_model_dir)
    rows = ["text,likes"] + [f'"Post {i}: shipping small diffs beats big launches.\n\n- item {i}\n- another {i}",{i}'
                             for i in range(10)]
    (tmp_path / "p.csv").write_text("\n".join(rows) + "\n")
    settings = BuildSettings(model=str(model), teacher="local", negatives="base", top_frac=1.0,
                             cache_dir=tmp_path / "cache", brief_max_new_tokens=12, negative_max_new_tokens=12)
    first = build_dataset([tmp_path / "p.csv"], tmp_path / "d1", settings)
    # One model serves the briefs and the base answers; identical prompts are asked once.
    # (template briefs no longer quote the hook, so these near-identical posts share a fallback brief: fewer asks)
    assert 11 <= first.teacher["teacher_generated"] <= 20 and first.teacher["teacher_cache_hits"] == 0
    briefs = {r["messages"][-2]["content"] for r in read_jsonl(tmp_path / "d1" / "sft" / "train.jsonl")}
    template = sum(b.startswith("Write a post about") for b in briefs)
    assert template <= first.counts["brief_fallbacks"]  # model briefs were used where usable
    second = build_dataset([tmp_path / "p.csv"], tmp_path / "d2", settings)
    assert second.teacher["teacher_generated"] == 0 and second.teacher["teacher_cache_hits"] == 20
    assert (tmp_path / "d1" / "dpo" / "train.jsonl").read_text() == (tmp_path / "d2" / "dpo" / "train.jsonl").read_text()


def test_cli_build_json_and_error(tmp_path, tiny_model_dir):
    out = tmp_path / "persona"
    result = run_cli("data", "build", "--input", str(EXAMPLES / "persona_alpaca.json"), "--out", str(out),
                     "--model", str(tiny_model_dir), "--system", "You are Old Tamsin.", "--json")
    assert result.returncode == 0, result.stderr
    summary = last_json(result.stdout)
    assert summary["ok"] and summary["sft_examples"] == 64 and summary["dpo_pairs"] == 64  # no engagement: all gold
    first = read_jsonl(out / "sft" / "train.jsonl")[0]["messages"]
    assert first[0] == {"role": "system", "content": "You are Old Tamsin."} and first[1]["content"].endswith("?")
    (tmp_path / "bad.csv").write_text("title\nx\n")
    bad = run_cli("data", "build", "--input", str(tmp_path / "bad.csv"), "--out", str(tmp_path / "o"), "--json")
    assert bad.returncode == 2 and "no text column (columns found: title)" in last_json(bad.stdout)["error"]
    assert not (tmp_path / "o").exists()


@pytest.mark.slow
def test_default_model_as_teacher_and_base(tmp_path, default_model_dir):
    """The real default model writes briefs and rejected answers; unusable ones fall back, lengths stay balanced."""
    from pipeline.data.negatives import rule_rewrite

    posts = ["Tiny teams win by saying no.\n\nNo to custom work.\nNo to on-prem.",
             "Shipped status pages today.\n\n- 40 lines of config\n- 0 new servers",
             "Talk to the users who leave.\n\nThey tell you what the ones who stay won't.",
             "Boring stack, happy life.\n\nPostgres. One app. One queue. Upgrades take an afternoon."]
    (tmp_path / "p.jsonl").write_text("".join(json.dumps({"text": t}) + "\n" for t in posts))
    settings = BuildSettings(model="default", teacher="local", negatives="base", cache_dir=tmp_path / "c",
                             brief_max_new_tokens=32, negative_max_new_tokens=48)
    report = build_dataset([tmp_path / "p.jsonl"], tmp_path / "data", settings)
    assert report.counts["dpo_pairs"] == 4 and report.teacher["teacher_generated"] == 8  # no engagement: all gold
    pairs = [r for s in ("train", "validation", "test") for r in read_jsonl(tmp_path / "data" / "dpo" / f"{s}.jsonl")]
    rule_made = sum(r["rejected"][0]["content"] == rule_rewrite(r["chosen"][0]["content"]) for r in pairs)
    assert rule_made == report.counts["negative_fallbacks"] < 2  # the model's own answers, not the rule's
    assert report.quality["length_balance"]["ratio_mean"] < 1.25  # trimmed to about the post's length


def test_length_warning_advises_by_the_negatives_method_in_use():
    from pipeline.data.quality import length_balance

    def pair(chosen, rejected):
        return {"chosen": [{"role": "assistant", "content": chosen}], "rejected": [{"role": "assistant", "content": rejected}]}

    pairs = [pair("short post", "a much, much longer rejected answer")] * 3
    rule = length_balance(pairs, "rule")["warning"]
    assert "rejected answers are" in rule and "use --negatives rule" not in rule and "--loss ipo or simpo" in rule
    assert "use --negatives rule" in length_balance(pairs, "base")["warning"]
    assert length_balance([pair("same length", "same lengtH")], "rule")["warning"] is None
