"""Bad input and a misbehaving Hub: one-line UserErrors, retries, nothing changed locally or remotely."""

from __future__ import annotations

import shutil

import pytest

from support.hub_data import folder_digest
from support.hub_server import BOB_TOKEN, READ_TOKEN, WRITE_TOKEN
from pipeline.errors import UserError


def quiet(*args, **kwargs):
    pass


@pytest.mark.parametrize("repo_id", ["no-slash", "alice/bad name", "a/b/c", "alice/double--dash", "alice/x.git", ""])
def test_invalid_repo_ids_fail_before_any_request(hub, data_dir, repo_id):
    from pipeline.hub.datasets import push_dataset

    with pytest.raises(UserError, match="invalid repo id"):
        push_dataset(data_dir, repo_id, log=quiet)
    assert hub.requests == []


def test_token_problems_each_get_their_fix(hub, data_dir, monkeypatch, tmp_path):
    from pipeline.hub.datasets import push_dataset

    monkeypatch.delenv("HF_TOKEN")
    with pytest.raises(UserError, match=r"no Hugging Face token: set HF_TOKEN, run `hf auth login`"):
        push_dataset(data_dir, "alice/ada", log=quiet)
    assert hub.requests == []

    with pytest.raises(UserError, match=r"rejected the token \(HTTP 401\)"):
        push_dataset(data_dir, "alice/ada", token="hf_not_a_real_token", log=quiet)
    with pytest.raises(UserError, match=r"this token \(alice\) is read-only"):
        push_dataset(data_dir, "alice/ada", token=READ_TOKEN, log=quiet)
    assert hub.repos == {}

    # The server enforces it too: a read-only token gets 403 on a write.
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError

    with pytest.raises(HfHubHTTPError) as raised:
        HfApi(token=READ_TOKEN).create_repo("alice/ada")
    assert raised.value.response.status_code == 403

    # An explicit token (the UI passes the signed-in user's) wins over none in the environment.
    result = push_dataset(data_dir, "alice/ada", token=WRITE_TOKEN, log=quiet)
    assert result.changed and WRITE_TOKEN not in repr(result.as_dict())


def test_someone_elses_repo_is_refused_and_left_unchanged(hub, data_dir):
    from pipeline.hub.datasets import push_dataset

    bob = push_dataset(data_dir, "bob/shared", private=False, token=BOB_TOKEN, log=quiet)
    (data_dir / "README.md").write_text((data_dir / "README.md").read_text() + "\nAlice was here.\n")
    with pytest.raises(UserError, match=r"refused to write to dataset repo bob/shared .*HTTP 403"):
        push_dataset(data_dir, "bob/shared", log=quiet)
    assert hub.repos[("dataset", "bob/shared")].head.sha == bob.commit


def test_5xx_is_retried_then_reported_and_a_later_push_succeeds(hub, data_dir):
    from pipeline.hub.datasets import push_dataset

    before = folder_digest(data_dir)
    logs = []
    hub.fail_next(500, times=1)
    assert push_dataset(data_dir, "alice/ada", log=logs.append).changed  # one 500, then fine
    assert any("answered HTTP 500; trying again in 1 s (1/3)" in line for line in logs)

    (data_dir / "README.md").write_text((data_dir / "README.md").read_text() + "\nMore.\n")
    before = folder_digest(data_dir)
    head = hub.repos[("dataset", "alice/ada")].head.sha
    hub.fail_next(503, times=3)
    with pytest.raises(UserError, match=r"answered HTTP 503 on all 3 tries; your local files are unchanged"):
        push_dataset(data_dir, "alice/ada", log=quiet)
    assert folder_digest(data_dir) == before and hub.repos[("dataset", "alice/ada")].head.sha == head

    assert push_dataset(data_dir, "alice/ada", log=quiet).files == ("README.md",)


def test_a_hanging_hub_times_out_then_a_retry_succeeds(hub, data_dir, monkeypatch):
    from pipeline.hub.datasets import push_dataset

    monkeypatch.setenv("VOICETUNE_HUB_TIMEOUT", "0.5")
    before = folder_digest(data_dir)
    hub.hang_next(times=3, seconds=5)
    with pytest.raises(UserError, match=r"did not answer within 0.5 s on all 3 tries"):
        push_dataset(data_dir, "alice/ada", log=quiet)
    assert folder_digest(data_dir) == before and hub.repos == {}
    assert push_dataset(data_dir, "alice/ada", log=quiet).changed


def test_run_without_adapter_bad_template_and_offline_mode(hub, hub_runs, tmp_path, monkeypatch):
    from huggingface_hub import constants

    from pipeline.cards import TEMPLATES_DIR
    from pipeline.hub.runs import push_run

    unfinished = tmp_path / "runs" / "sft-2"
    unfinished.mkdir(parents=True)
    shutil.copy(hub_runs["sft"] / "config.json", unfinished / "config.json")
    (unfinished / "status.json").write_text('{"state": "running"}')
    with pytest.raises(UserError, match=r"sft-2/adapter: no adapter yet \(run state: running\)"):
        push_run(unfinished, "alice/ada-sft", log=quiet)

    cards = tmp_path / "cards"
    shutil.copytree(TEMPLATES_DIR, cards)
    (cards / "model_card.md").write_text("---\n{{ metadata }}\n---\n{% for x in %}\n")
    with pytest.raises(UserError, match=rf"card template {cards / 'model_card.md'}:4: .*fix the template"):
        push_run(hub_runs["sft"], "alice/ada-sft", cards_dir=cards, log=quiet)
    assert hub.requests == []

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(UserError, match="HF_HUB_OFFLINE=1 is set"):
        push_run(hub_runs["sft"], "alice/ada-sft", log=quiet)
    assert hub.requests == []


def test_pull_errors(hub, tmp_path):
    from pipeline.hub.runs import pull_adapter

    with pytest.raises(UserError, match="model repo alice/nothing .* not found"):
        pull_adapter("alice/nothing", None, tmp_path / "out", log=quiet)
    assert not (tmp_path / "out").exists()

    existing = tmp_path / "runs" / "sft-1"
    existing.mkdir(parents=True)
    (existing / "config.json").write_text('{"kind": "sft"}')
    requests = len(hub.requests)
    with pytest.raises(UserError, match="already exists and is not a pulled adapter"):
        pull_adapter("alice/nothing", None, existing, log=quiet)
    assert (existing / "config.json").read_text() == '{"kind": "sft"}' and len(hub.requests) == requests
