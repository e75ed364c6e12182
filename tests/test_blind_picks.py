"""Blind Compare picks: the shown position is stored, picks on held-out briefs stay out of DPO
training (and are counted), position balance and judge agreement are reported, and the picks file
is part of the DPO data fingerprint."""

import json

from pipeline.data.folder import DataFolder
from pipeline.evaluate.judge import RuleJudge
from pipeline.fsio import atomic_write_jsonl
from pipeline.picks import blind_order, judge_agreement, pick_report, record_pick, trainable_picks

VOICE = "I hired wrong for 3 years.\n\n- I stopped guessing.\n- I asked.\n\nSmall fix."
FLUFF = "In today's fast-paced world, hiring is an incredibly important and truly transformative journey."
MIDDLE = "Hiring matters. We should all think about it more."


def _data(workspace):
    row = {"messages": [{"role": "user", "content": "Write about Fridays."}, {"role": "assistant", "content": VOICE}]}
    atomic_write_jsonl(workspace.data_dir / "sft" / "test.jsonl", [row])
    atomic_write_jsonl(workspace.data_dir / "dpo" / "train.jsonl", [{"prompt": row["messages"][:1],
                                                                      "chosen": row["messages"][1:],
                                                                      "rejected": [{"role": "assistant", "content": FLUFF}]}])


def test_blind_picks_store_the_position_and_held_out_briefs_stay_out_of_training(workspace):
    import random

    _data(workspace)
    orders = {tuple(blind_order(rng=random.Random(seed))) for seed in range(20)}
    assert len(orders) > 3 and all(sorted(o) == ["base", "dpo", "sft"] for o in orders)
    answers = {"base": FLUFF, "sft": MIDDLE, "dpo": VOICE}
    record_pick(workspace, "Write about Mondays.", answers, "dpo", shown=["sft", "dpo", "base"])
    message = record_pick(workspace, "Write about Fridays.", answers, "dpo", shown=["dpo", "base", "sft"])
    assert "test split" in message and "leaves it out" in message
    rows = [json.loads(line) for line in workspace.preferences_path.read_text().splitlines()]
    assert [r["shown"]["position"] for r in rows] == [1, 1, 0, 0] and [r["split"] for r in rows] == [None, None, "test", "test"]
    picks, excluded = trainable_picks(workspace.preferences_path, workspace.data_dir)
    assert len(picks) == 2 and excluded == 2
    assert all(p["prompt"][-1]["content"] == "Write about Mondays." for p in picks)
    report = pick_report(workspace.preferences_path, workspace.data_dir)
    assert report["picks"] == 2 and report["pairs"] == 4 and report["held_out_pairs_excluded"] == 2
    assert report["blind_picks"] == 2 and report["position_counts"] == {"1": 1, "2": 1, "3": 0}
    assert 0 < report["position_p_value"] <= 1


def test_judge_agreement_is_cohens_kappa_against_the_human_picks():
    def pair(chosen, rejected):
        return {"prompt": [{"role": "user", "content": "Write about hiring."}],
                "chosen": [{"role": "assistant", "content": chosen}], "rejected": [{"role": "assistant", "content": rejected}]}

    agree = judge_agreement([pair(VOICE, FLUFF)] * 6, RuleJudge())
    assert agree["kappa"] == 1.0 and agree["agreement"] == 1.0 and agree["pairs"] == 6
    mixed = judge_agreement([pair(VOICE, FLUFF)] * 4 + [pair(FLUFF, VOICE)] * 4, RuleJudge())
    assert mixed["agreement"] == 0.5 and mixed["kappa"] < 0.5


def test_the_picks_file_joins_the_dpo_fingerprint(workspace):
    _data(workspace)
    folder, picks = DataFolder(workspace.data_dir), (workspace.preferences_path,)
    before = folder.fingerprint("dpo", extra=picks)  # no picks yet
    assert before == folder.fingerprint("dpo")
    record_pick(workspace, "Write about Mondays.", {"base": FLUFF, "dpo": VOICE}, "dpo")
    after = folder.fingerprint("dpo", extra=picks)
    assert after != before and after == folder.fingerprint("dpo", extra=picks)


def test_which_is_real_trials_are_seeded_and_guesses_give_accuracy_with_an_interval(workspace):
    from pipeline.compare.which_is_real import trial
    from pipeline.picks import guess_report, guesses_path, record_guess, wilson_interval

    rows = [{"prompt": [{"role": "user", "content": f"Write about topic {i}."}],
             "chosen": [{"role": "assistant", "content": f"{VOICE} ({i})"}],
             "rejected": [{"role": "assistant", "content": FLUFF}]} for i in range(4)]
    atomic_write_jsonl(workspace.data_dir / "dpo" / "test.jsonl", rows)
    first_round = [trial(workspace.data_dir, n, seed=3) for n in range(4)]
    assert sorted(t.real for t in first_round) == sorted(r["chosen"][0]["content"] for r in rows)  # each brief once
    assert [trial(workspace.data_dir, n, seed=3) for n in range(4)] == first_round  # seeded
    assert {t.real_position for t in [trial(workspace.data_dir, n) for n in range(12)]} == {0, 1}  # both sides
    shown = first_round[0].shown("generated post")
    assert shown[first_round[0].real_position] == first_round[0].real and "generated post" in shown

    for n in range(12):  # right 9 times of 12
        current = trial(workspace.data_dir, n)
        guess = current.real_position if n < 9 else 1 - current.real_position
        row = record_guess(workspace, current, f"generated {n}", "dpo", guess)
        assert row["correct"] == (n < 9) and row["shown"]["order"][current.real_position] == "real"
    stored = [json.loads(line) for line in guesses_path(workspace).read_text().splitlines()]
    assert len(stored) == 12 and stored[0]["source"] == "human" and stored[0]["answers"]["dpo"] == "generated 0"
    assert stored[0]["split"] == "test" and stored[0]["prompt"] == first_round[0].brief or stored[0]["prompt"]
    report = guess_report(guesses_path(workspace), "dpo")
    assert (report["trials"], report["correct"], report["accuracy"]) == (12, 9, 0.75)
    assert (report["low"], report["high"]) == (0.4677, 0.9111)  # the Wilson interval of 9/12
    assert report["text"].startswith("you told them apart 9 of 12 times (75%, 95% interval 47%-91%")
    assert "cannot reliably tell them apart" in report["text"]  # the interval holds chance
    assert wilson_interval(40, 40)[0] > 0.9 and guess_report(guesses_path(workspace), "sft")["trials"] == 0
    # the guesses never become DPO training pairs
    assert not workspace.preferences_path.exists() or trainable_picks(workspace.preferences_path, None)[0] == []
