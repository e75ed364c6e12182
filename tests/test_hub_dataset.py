"""Push a data folder to the loopback Hub, load it back with ``datasets``, re-push idempotently."""

from __future__ import annotations

import json

from conftest import last_json, run_cli
from support.hub_data import DPO_ROWS, SFT_ROWS
from support.hub_server import WRITE_TOKEN


def test_push_dataset_round_trip_card_and_idempotent_repush(hub, data_dir, tmp_path):
    from datasets import load_dataset
    from huggingface_hub import DatasetCard

    from pipeline.hub.datasets import push_dataset

    logs = []
    result = push_dataset(data_dir, "alice/ada-posts", log=logs.append)
    repo = hub.repos[("dataset", "alice/ada-posts")]
    assert result.changed and result.commit == repo.head.sha and repo.private
    assert result.url == f"{hub.endpoint}/datasets/alice/ada-posts"
    assert "add README.md, dpo/test-00000-of-00001.parquet" in repo.head.message

    for config, rows in (("sft", SFT_ROWS), ("dpo", DPO_ROWS)):
        loaded = load_dataset("alice/ada-posts", config, cache_dir=str(tmp_path / "cache"))
        assert sorted(loaded) == ["test", "train", "validation"]
        assert loaded["train"].to_list() == rows[:4]
        assert loaded["validation"].to_list() == rows[4:5] and loaded["test"].to_list() == rows[5:]

    card = DatasetCard.load("alice/ada-posts", repo_type="dataset")
    assert card.data.license == "cc-by-4.0"
    assert {"sft", "dpo", "preference", "synthetic"} <= set(card.data.tags)
    assert [c["config_name"] for c in card.data.configs] == ["sft", "dpo"]
    assert "synthetic generic rewrites" in card.text

    commits = len(repo.commits)
    again = push_dataset(data_dir, "alice/ada-posts", log=logs.append)
    assert not again.changed and again.commit == result.commit and len(repo.commits) == commits

    rows = [json.loads(line) for line in (data_dir / "sft" / "train.jsonl").read_text().splitlines()]
    rows[0]["messages"][1]["content"] = "Edited."
    (data_dir / "sft" / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    edited = push_dataset(data_dir, "alice/ada-posts", log=logs.append)
    assert edited.changed and edited.files == ("sft/train-00000-of-00001.parquet",)
    assert repo.head.message == "Dataset from data: update sft/train-00000-of-00001.parquet"
    assert load_dataset("alice/ada-posts", "sft", split="train", cache_dir=str(tmp_path / "cache2"))[0]["messages"][1]["content"] == "Edited."


def test_cli_push_with_stored_login_token_prints_url_and_commit_never_the_token(hub, data_dir, tmp_path):
    home = tmp_path / "login-home"
    home.mkdir()
    (home / "token").write_text(WRITE_TOKEN)  # what `hf auth login` stores
    env = {"HF_TOKEN": "", "HF_HOME": str(home)}
    proc = run_cli("push", "--data", str(data_dir), "--repo", "alice/ada-cli", "--public", "--json", env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    summary = last_json(proc.stdout)
    repo = hub.repos[("dataset", "alice/ada-cli")]
    assert summary["ok"] and summary["url"] == f"{hub.endpoint}/datasets/alice/ada-cli"
    assert summary["commit"] == repo.head.sha and not repo.private
    assert WRITE_TOKEN not in proc.stdout + proc.stderr
    assert all(WRITE_TOKEN.encode() not in p.read_bytes() for p in data_dir.parent.rglob("*") if p.is_file())

    proc = run_cli("push", "--data", str(data_dir), "--repo", "alice/ada-cli", "--json", env={"HF_TOKEN": "",
                   "HF_HOME": str(tmp_path / "empty-home")}, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1].startswith("error: no Hugging Face token: set HF_TOKEN")
    assert last_json(proc.stdout)["ok"] is False


def test_a_built_data_folder_without_its_card_is_pushed_with_the_card_rendered_again(hub, tmp_path):
    import csv

    from datasets import load_dataset
    from huggingface_hub import DatasetCard

    from pipeline.data.build import BuildSettings, build_dataset
    from pipeline.fsio import read_jsonl
    from pipeline.hub.datasets import push_dataset

    posts = tmp_path / "posts.csv"
    with open(posts, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["text", "likes", "comments"])
        writer.writeheader()
        topics = ["billing", "search", "onboarding", "pricing", "caching", "logging", "exports", "invoices",
                  "webhooks", "alerts", "backups", "payroll", "sharing", "imports", "reports", "themes",
                  "uploads", "tagging", "filters", "comments", "calendars", "mobile", "offline", "printing"]
        # distinct topics: a template brief names the post's most used word, and one brief never spans two splits
        writer.writerows({"text": f"Post {i}: I shipped {topic} on a Friday, and {topic} taught me {i} things about rollbacks.",
                          "likes": 3 * i, "comments": i} for i, topic in enumerate(topics))
    data = tmp_path / "data"
    build_dataset([posts], data, BuildSettings(negatives="rule"))
    built_card = (data / "README.md").read_text()
    (data / "README.md").unlink()

    push_dataset(data, "alice/built", log=lambda *a: None)
    card = DatasetCard.load("alice/built", repo_type="dataset")
    assert card.text == DatasetCard(built_card).text and card.data.license == "cc-by-4.0"
    loaded = load_dataset("alice/built", "dpo", split="train", cache_dir=str(tmp_path / "cache"))
    assert loaded.to_list() == read_jsonl(data / "dpo" / "train.jsonl")
    assert not (data / "README.md").exists()  # the push did not write into the data folder
