"""Bad input, case by case: the exact one-line message, no traceback, exit code 2, nothing half-written.

Each case is a ``python -m pipeline`` command line and the exact ``error: ...`` line it must print.
The table runs in-process through :func:`pipeline.cli.main` (the same code path as the CLI: it
catches UserError, prints ``error: ...`` and returns 2), which saves a child process's ~4 s of
imports per case; ``test_exit_code_2_from_a_real_child_process`` runs a few of them as real child
processes, with and without ``--json``, to prove the exit code and the JSON error line end to end.

Placeholders in argv and messages: ``{F}`` the case files next to this module (read-only inputs),
``{T}`` the test's temp folder (where outputs would go), ``{TINY}`` the tiny model folder, ``{L}`` and
``{H}`` the URL and host:port of the loopback server a ``data fetch`` case talks to (tests/fetch_server.py).
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest
from support.car_fixtures import dag_cbor, varint
from conftest import last_json, run_cli
from support.fetch_server import serve_author_feed, serve_mastodon, serve_slow

from pipeline.data.sources import expected as expected_exports

FILES = Path(__file__).resolve().parent / "files"
NAME_RULE = "use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit (no '/', no '..')."
REPO_RULE = ("use OWNER/NAME with letters, digits, '-', '_' or '.' (no '--' or '..', not ending in '.' or '.git'), "
             "e.g. alice/voicetune-sft.")
SFT_FORMAT = '{"messages": [{"role": "user", "content": ...}, {"role": "assistant", "content": ...}]}'
DPO_FORMAT = ('{"prompt": [{"role": "user", "content": ...}], "chosen": [{"role": "assistant", "content": ...}], '
              '"rejected": [{"role": "assistant", "content": ...}]}')
FORMATS = "messages, alpaca, sharegpt, openai, dolly, prompt-completion, instruction-response"
TRAIN = ("--model", "{TINY}", "--no-4bit", "--max-steps", "1", "--batch-size", "1", "--max-length", "128")


@dataclass(frozen=True)
class Case:
    id: str
    argv: tuple[str, ...]
    message: str
    """The exact text after ``error: ``."""
    setup: Callable[[Path, Path], None] | None = None
    """Prepares ``{T}`` given the tiny model folder (e.g. an existing folder the command must not touch)."""
    needs_no_cuda: bool = False
    serve: Callable | None = None
    """Gives the loopback server (``{L}``) its routes, for a ``data fetch`` case."""


def build(input_file: str, *extra: str) -> tuple[str, ...]:
    return ("data", "build", "--input", input_file, "--out", "{T}/data", *extra)


def convert(input_file: str) -> tuple[str, ...]:
    return ("data", "convert", "--input", input_file, "--to", "alpaca", "--out", "{T}/converted.jsonl")


def sft(folder: str, *extra: str, out: str = "{T}/runs/sft-1") -> tuple[str, ...]:
    return ("train", "sft", "--data", folder, "--out", out, *TRAIN, *extra)


def grpo(folder: str, *extra: str) -> tuple[str, ...]:
    return ("train", "grpo", "--data", folder, "--out", "{T}/runs/grpo-1", *TRAIN, *extra)


def dpo(folder: str, *extra: str) -> tuple[str, ...]:
    return ("train", "dpo", "--data", folder, "--out", "{T}/runs/dpo-1", *TRAIN, *extra)


def a_zip(path: Path, entries: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries.items():
            z.writestr(name, data)


def fetch(*targets_and_flags: str) -> tuple[str, ...]:
    return ("data", "fetch", *targets_and_flags, "--delay-s", "0", "--out", "{T}/public.jsonl")


CAR_HEADER = dag_cbor({"version": 1, "roots": []})


def truncated_car(tmp: Path, tiny: Path) -> None:
    """A repository download cut off inside its first block (the header says CAR v1)."""
    (tmp / "repo.car").write_bytes(varint(len(CAR_HEADER)) + CAR_HEADER + varint(80) + b"\x01\x71\x12\x20" + b"\x00" * 8)


def foreign_folder(tmp: Path, tiny: Path) -> None:
    (tmp / "data").mkdir()
    (tmp / "data" / "notes.txt").write_text("mine")


def a_file_where_the_folder_goes(tmp: Path, tiny: Path) -> None:
    (tmp / "data").write_text("not a folder")


def trained_runs(tmp: Path, tiny: Path) -> None:
    """runs/sft-1 with a real LoRA adapter on the tiny model; runs/sft-2 with a config but no adapter yet;
    other-base/: a tiny model of another size."""
    import shutil

    from support.hub_data import write_hub_run
    from support.tiny_models import build_tiny_model

    sft = write_hub_run(tmp / "runs", "sft-1", "sft", tiny, None, seed=1, targets=["q_proj", "v_proj"])
    (tmp / "runs" / "sft-2").mkdir()
    shutil.copy(sft / "config.json", tmp / "runs" / "sft-2" / "config.json")
    build_tiny_model(tmp / "other-base", tiny, hidden_size=32, intermediate_size=64)


def dpo_run_on_base(tmp: Path, tiny: Path) -> None:
    """runs/dpo-1: a DPO run with a LoRA adapter trained on the base model (no SFT parent)."""
    from support.hub_data import write_hub_run

    write_hub_run(tmp / "runs", "dpo-1", "dpo", tiny, None, seed=1, targets=["q_proj", "v_proj"])


OK_POSTS = "{F}/ok_posts.csv"
CASES = [
    # ---------------------------------------------------------------- ingest (data build)
    Case("empty-file", build("{F}/empty.csv"),
         "{F}/empty.csv: the file is empty; export your posts again or pick another file."),
    Case("blank-lines-only", build("{F}/blank_lines.jsonl"),
         "{F}/blank_lines.jsonl: the file is empty; export your posts again or pick another file."),
    Case("binary-not-text", build("{F}/binary.csv"),
         "{F}/binary.csv: a binary file, not text; export your posts as CSV or JSONL (UTF-8)."),
    Case("broken-utf16", build("{F}/broken_utf16.csv"),
         "{F}/broken_utf16.csv: starts like UTF-16 text but does not decode as it; export it again as CSV (UTF-8)."),
    Case("bad-json-at-line-3", build("{F}/bad_json_line3.jsonl"),
         "{F}/bad_json_line3.jsonl:3: bad JSON (Expecting value); fix or remove that line."),
    Case("csv-without-text-column", build("{F}/no_text_column.csv"),
         "{F}/no_text_column.csv: no text column (columns found: title, likes); name the post column 'text' "
         "(or content, full_text, ShareCommentary)."),
    Case("csv-header-only", build("{F}/header_only.csv"),
         "{F}/header_only.csv: a header but no rows; add posts below the header."),
    Case("nan-engagement-everywhere", build("{F}/nan_engagement.csv"),
         "every post was removed by the ingest step (non-numeric engagement: 2); check the files have posts in a "
         "text column and plain numbers in the engagement columns."),
    Case("unknown-file-type", build("{F}/posts.xlsx"),
         "{F}/posts.xlsx: unknown file type .xlsx; use .csv, .jsonl, .json, an X archive tweets.js, a feed .xml, "
         ".md/.txt/.html, a Bluesky .car, or a platform's export .zip."),
    Case("x-archive-bad-json", build("{F}/bad_archive/tweets.js"),
         "{F}/bad_archive/tweets.js:3: bad JSON in the X archive (Expecting property name enclosed in double "
         "quotes); re-export tweets.js."),
    Case("x-archive-not-a-list", build("{F}/object_archive/tweets.js"),
         "{F}/object_archive/tweets.js: expected `window.YTD.tweets.part0 = [...]` (a list of tweets)."),
    Case("zip-that-is-no-export", build("{T}/photos.zip"),
         "{T}/photos.zip: not an export this tool reads (it holds IMG_0001.jpg); expected one of: "
         f"{expected_exports()}.", setup=lambda tmp, tiny: a_zip(tmp / "photos.zip", {"IMG_0001.jpg": b"\xff\xd8"})),
    Case("zip-path-traversal", build("{T}/export.zip"),
         "{T}/export.zip: entry '../outside.csv' climbs out of the zip ('..'); refusing this zip: download the export "
         "again from the platform.", setup=lambda tmp, tiny: a_zip(tmp / "export.zip", {"../outside.csv": b"text\nhi"})),
    Case("zip-inside-a-zip", build("{T}/export.zip"),
         "{T}/export.zip: entry 'twitter-2026.zip' is another archive inside the zip; unpack the outer one and give "
         "the inner one.", setup=lambda tmp, tiny: a_zip(tmp / "export.zip", {"twitter-2026.zip": b"PK"})),
    Case("zip-bomb", build("{T}/bomb.zip"),
         "{T}/bomb.zip: entry 'data/tweets.js' inflates more than 100 times: a zip bomb, not an export; refusing it.",
         setup=lambda tmp, tiny: a_zip(tmp / "bomb.zip", {"data/tweets.js": b"0" * 2**22})),
    Case("feed-that-is-html", build("{T}/feed.xml"),
         "{T}/feed.xml: an HTML page, not a feed; save the feed itself (its address usually ends in /feed, /rss or "
         ".xml) or give the export file.",
         setup=lambda tmp, tiny: (tmp / "feed.xml").write_text("<!DOCTYPE html><html><body>my blog</body></html>")),
    Case("corrupt-bluesky-car", build("{T}/repo.car"),
         f"{{T}}/repo.car: not a readable Bluesky repository .car (the block at byte {1 + len(CAR_HEADER)} runs past "
         "the end of the file (truncated download?)); download it again from Settings > Account > Export my data.",
         setup=truncated_car),
    Case("all-filtered-out", build("{F}/too_short.csv"),
         "every post was removed by the filter step (shorter than 30 chars: 3); lower --min-chars or raise "
         "--max-chars."),
    Case("format-fails-auto-detection", build("{F}/unknown_format.jsonl"),
         f"{{F}}/unknown_format.jsonl:1 (no 'text' field, and: not a known instruction format (keys seen: answer, "
         f"question); expected one of {FORMATS} (e.g. instruction/input/output for alpaca)."),
    Case("empty-json-array", build("{F}/empty_array.json"),
         "{F}/empty_array.json: no records (an empty JSON array); add records or pick another file."),
    Case("jsonl-of-numbers", build("{F}/scalar_lines.jsonl"),
         "{F}/scalar_lines.jsonl:1: expected a JSON object, got int."),
    Case("missing-input-file", build("{T}/nowhere.csv"), "{T}/nowhere.csv: file not found; check the path."),
    Case("out-is-a-file", build(OK_POSTS), "{T}/data is a file; --out needs a folder path.",
         setup=a_file_where_the_folder_goes),
    Case("out-is-someone-elses-folder", build(OK_POSTS),
         "{T}/data exists and is not a data folder (no report.json or sft/); building would replace it: choose a "
         "new or empty folder.", setup=foreign_folder),
    Case("bad-engagement-weights", build(OK_POSTS, "--weights", "1,2"),
         "--weights '1,2': give three numbers likes,comments,reposts, e.g. 1,2,3."),
    Case("min-chars-above-max", build(OK_POSTS, "--min-chars", "100", "--max-chars", "50"),
         "character limits must satisfy 0 <= min (100) <= max (50)."),
    Case("top-frac-out-of-range", build(OK_POSTS, "--top-frac", "1.5"), "--top-frac must be in (0, 1] (got 1.5)."),
    Case("teacher-negatives-without-teacher", build(OK_POSTS, "--negatives", "teacher"),
         "--negatives teacher needs a teacher: add --teacher local or --teacher URL."),
    Case("unreachable-teacher", build(OK_POSTS, "--teacher", "http://127.0.0.1:9", "--teacher-model", "m"),
         "teacher http://127.0.0.1:9/v1/chat/completions is unreachable (Connection refused); start the server, "
         "fix --teacher, or use --teacher none."),
    # ---------------------------------------------------------------- public posts (data fetch)
    Case("fetch-missing-profile", fetch("bsky:nobody.test", "--bsky-api", "{L}"),
         "bsky:nobody.test: the Bluesky AppView refused it (InvalidRequest Profile not found); check the handle (e.g. "
         "name.bsky.social): the profile may be missing, deactivated or suspended.",
         serve=lambda server: serve_author_feed(server, [])),
    Case("fetch-private-profile", fetch("mastodon:@locked@social.example", "--mastodon-url", "{L}"),
         "mastodon:@locked@{H}: private or needs a login (HTTP 401 from {L}/api/v1/accounts/7/statuses?limit=40&"
         "exclude_reblogs=true); only public posts can be fetched: export your data from the platform instead.",
         serve=lambda server: serve_mastodon(server, [])),
    Case("fetch-server-times-out", fetch("bsky:alice.test", "--bsky-api", "{L}", "--timeout-s", "0.5"),
         "{L}/xrpc/app.bsky.feed.getAuthorFeed?actor=alice.test&limit=100&filter=posts_with_replies: the server did "
         "not answer within 0.5 s; try again later or raise --timeout-s.",
         serve=lambda server: serve_slow(server, "/xrpc/app.bsky.feed.getAuthorFeed", 2)),
    Case("fetch-out-not-jsonl", ("data", "fetch", "bsky:alice.test", "--out", "{T}/public.csv"),
         "{T}/public.csv: the posts are written as JSONL; name the file .jsonl."),
    # ---------------------------------------------------------------- formats (data convert)
    Case("convert-unknown-format", convert("{F}/unknown_format.jsonl"),
         f"{{F}}/unknown_format.jsonl:1: not a known instruction format (keys seen: answer, question); expected one "
         f"of {FORMATS} (e.g. instruction/input/output for alpaca)."),
    Case("convert-two-formats-in-one-file", convert("{F}/convert/mixed.jsonl"),
         "{F}/convert/mixed.jsonl:2: this record is sharegpt but the file started as alpaca; use one format per file."),
    Case("convert-multi-turn-to-single-turn", convert("{F}/convert/multi_turn.jsonl"),
         "{F}/convert/multi_turn.jsonl:1: a conversation with 4 turns does not fit alpaca (one instruction, one "
         "answer); convert to messages or sharegpt instead."),
    Case("convert-unknown-sharegpt-speaker", convert("{F}/convert/sharegpt_speaker.jsonl"),
         "{F}/convert/sharegpt_speaker.jsonl:1: unknown sharegpt speaker 'from': 'robot'; use human, gpt or system."),
    Case("convert-wrong-role", convert("{F}/convert/wrong_role.jsonl"),
         "{F}/convert/wrong_role.jsonl:1: unknown role 'bot'; use system, user or assistant."),
    Case("convert-no-answer", convert("{F}/convert/ends_with_user.jsonl"),
         "{F}/convert/ends_with_user.jsonl:1: a messages record must end with an assistant answer and hold text only."),
    Case("convert-not-utf8", convert("{F}/convert/latin1.jsonl"),
         "{F}/convert/latin1.jsonl: not UTF-8 text (byte 0xe9 at offset 36); save the file as UTF-8."),
    Case("convert-empty-array", convert("{F}/empty_array.json"),
         "{F}/empty_array.json: no records (an empty JSON array); add records or pick another file."),
    Case("convert-wrong-shape", convert("{F}/convert/messages_not_list.jsonl"),
         "{F}/convert/messages_not_list.jsonl:1: a messages record has the wrong shape (a list of turns was "
         "expected); fix that record."),
    # ---------------------------------------------------------------- training data
    Case("missing-data-dir", sft("{T}/no-data"),
         "{T}/no-data/sft/train.jsonl: not found; build the dataset first (Dataset tab or `python -m pipeline data "
         "build`), or point --data at a folder with sft/train.jsonl."),
    Case("empty-sft-split", sft("{F}/train/empty"),
         "{F}/train/empty/sft/train.jsonl: the file is empty; it needs at least one example."),
    Case("sft-rows-in-another-format", sft("{F}/train/alpaca_rows"),
         f"{{F}}/train/alpaca_rows/sft/train.jsonl:1: no 'messages' field (found instruction, output); expected TRL "
         f"conversational format {SFT_FORMAT}."),
    Case("sft-wrong-role", sft("{F}/train/wrong_role"),
         f"{{F}}/train/wrong_role/sft/train.jsonl:1: field 'messages' has a message without a valid role "
         f"(system/user/assistant) and string content; expected TRL format {SFT_FORMAT}."),
    Case("sft-no-user-turn", sft("{F}/train/no_user_turn"),
         f"{{F}}/train/no_user_turn/sft/train.jsonl:1: 'messages' needs a user turn followed by an assistant turn; "
         f"expected {SFT_FORMAT}."),
    Case("sft-bad-json-at-line-2", sft("{F}/train/bad_json_line2"),
         "{F}/train/bad_json_line2/sft/train.jsonl:2: bad JSON (Expecting value); fix or remove that line."),
    Case("every-example-over-long", sft("{F}/train/over_long", "--max-length", "64"),
         "{F}/train/over_long/sft/train.jsonl: every example is longer than max_length=64 tokens (shortest: 393); "
         "raise --max-length or shorten the examples."),
    Case("dpo-wrong-columns", dpo("{F}/train/dpo_prompt_completion"),
         f"{{F}}/train/dpo_prompt_completion/dpo/train.jsonl:1: missing field(s) chosen, rejected; expected TRL "
         f"conversational preference format {DPO_FORMAT}."),
    Case("dpo-answers-as-strings", dpo("{F}/train/dpo_strings"),
         f"{{F}}/train/dpo_strings/dpo/train.jsonl:1: field 'chosen' is a string while 'prompt' is not; give all three "
         f"as strings (TRL standard) or all as message lists (TRL conversational, {DPO_FORMAT})."),
    Case("dpo-chosen-equals-rejected", dpo("{F}/train/dpo_identical"),
         "{F}/train/dpo_identical/dpo/train.jsonl:2: chosen == rejected (the same answer twice teaches nothing); "
         "remove that pair or give it a different rejected answer."),
    Case("dpo-sft-run-missing", dpo("{F}/train/dpo_ok", "--sft", "{T}/runs/no-such-run"),
         "{T}/runs/no-such-run/config.json: not found; is this a VoiceTune run folder?"),
    Case("grpo-from-a-dpo-run-without-sft", grpo("{F}/train/ok", "--from", "{T}/runs/dpo-1"),
         "{T}/runs/dpo-1: a DPO run trained on the base model (no SFT parent); start GRPO from an SFT run or a DPO "
         "run trained on one.", setup=dpo_run_on_base),
    Case("grpo-zero-weights", grpo("{F}/train/ok", "--voice-weight", "0", "--fluency-weight", "0",
                                   "--adherence-weight", "0", "--form-weight", "0"),
         "bad setting: every reward weight is 0; give at least one of voice_weight, fluency_weight, adherence_weight, "
         "form_weight, judge_weight a weight above 0."),
    Case("grpo-group-of-one", grpo("{F}/train/ok", "--group-size", "1"),
         "bad setting: group_size must be >= 2 (a group of 1 has no spread: every advantage is 0)."),
    Case("grpo-judge-down", grpo("{F}/train/ok", "--judge-weight", "1", "--judge-url", "http://127.0.0.1:9",
                                 "--judge-model", "judge"),
         "reward judge http://127.0.0.1:9/v1/chat/completions is unreachable (Connection refused); start the server, "
         "fix --judge-url, or set --judge-weight 0."),
    # ---------------------------------------------------------------- settings and run names
    Case("lora-r-zero", sft("{F}/train/ok", "--lora-r", "0"), "bad setting: lora_r must be >= 1."),
    Case("dropout-above-one", sft("{F}/train/ok", "--lora-dropout", "1.5"), "bad setting: lora_dropout must be in [0, 1)."),
    Case("negative-learning-rate", sft("{F}/train/ok", "--learning-rate", "-1"), "bad setting: learning_rate must be > 0."),
    Case("max-length-too-small", sft("{F}/train/ok", "--max-length", "8"), "bad setting: max_length must be >= 16."),
    Case("no-steps-no-epochs", sft("{F}/train/ok", "--max-steps", "-1", "--epochs", "0"),
         "bad setting: set max_steps > 0 or epochs > 0."),
    Case("beta-zero", dpo("{F}/train/dpo_ok", "--beta", "0"), "bad setting: beta must be > 0."),
    Case("unknown-target-module", sft("{F}/train/ok", "--target-modules", "qkv_proj"),
         "target_modules qkv_proj: not in {TINY}; use 'all', 'attention-only' or some of q_proj, k_proj, v_proj, "
         "o_proj, gate_proj, up_proj, down_proj."),
    Case("bad-run-name", sft("{F}/train/ok", out="{T}/runs/my run!"),
         f"invalid run name (the --out folder's name) 'my run!': {NAME_RULE}"),
    Case("resume-without-a-run", ("train", "sft", "--out", "{T}/runs/sft-1", "--resume"),
         "{T}/runs/sft-1: nothing to resume (no config.json); start a new run without --resume."),
    Case("train-without-data", ("train", "sft", "--out", "{T}/runs/sft-1", "--model", "{TINY}"),
         "--data is required (a folder with sft/ and dpo/ JSONL), unless you pass --resume."),
    Case("sweep-bad-betas", ("train", "sweep-beta", "--data", "{F}/train/dpo_ok", "--out", "{T}/sweep", "--betas", "a,b"),
         "--betas 'a,b': use comma-separated numbers like 0.05,0.1,0.3."),
    Case("runs-of-a-missing-project", ("runs", "--workspace", "{T}/typo"),
         "{T}/typo: no such project folder; pass --workspace with the folder that holds runs/."),
    # ---------------------------------------------------------------- model specs and backends
    Case("unknown-hub-model-offline", ("models", "--model", "no/such-model"),
         "model 'no/such-model' is not in the local Hugging Face cache and HF_HUB_OFFLINE=1; unset HF_HUB_OFFLINE to "
         "download it, or use --model default."),
    Case("unknown-model-spec", ("models", "--model", "./missing-folder"),
         "unknown model './missing-folder': the embedded models are default, gemma3-270m; or give an existing model "
         "folder, or a Hub id like 'HuggingFaceTB/SmolLM2-135M-Instruct'."),
    Case("unknown-embedded-model", ("models", "--model", "gemma3"),
         "unknown model 'gemma3': the embedded models are default, gemma3-270m; or give an existing model folder, or "
         "a Hub id like 'HuggingFaceTB/SmolLM2-135M-Instruct'."),
    Case("folder-that-is-not-a-model", ("models", "--model", "{F}/train"),
         "{F}/train: no config.json; pass a transformers model folder, a Hub id or 'default'."),
    Case("unsloth-without-cuda", ("models", "--model", "{TINY}", "--backend", "unsloth"),
         "backend 'unsloth' needs a CUDA GPU and the unsloth package (no CUDA GPU); use --backend hf, or install "
         "requirements-gpu.txt on a GPU machine.", needs_no_cuda=True),
    Case("cuda-without-gpu", ("models", "--model", "{TINY}", "--device", "cuda"),
         "device 'cuda' requested but no CUDA GPU is visible; use --device cpu or auto.", needs_no_cuda=True),
    # ---------------------------------------------------------------- prompts
    Case("empty-prompt", ("generate", "--model", "{TINY}", "--prompt", ""),
         "the prompt is empty; type what the model should write."),
    Case("blank-prompt", ("generate", "--model", "{TINY}", "--prompt", "  \n "),
         "the prompt is empty; type what the model should write."),
    # ---------------------------------------------------------------- runs and adapters (compare, eval, push)
    Case("compare-a-run-without-adapter", ("compare", "--run", "{T}/runs/sft-2", "--prompt", "hi"),
         "{T}/runs/sft-2/adapter: the run has no adapter (state: none); finish or resume the training first, or pick "
         "another run.", setup=trained_runs),
    Case("adapter-trained-on-another-base", ("compare", "--run", "{T}/runs/sft-1", "--base", "{T}/other-base",
                                             "--prompt", "hi", "--max-new-tokens", "2"),
         "{T}/runs/sft-1 was trained on base model '{TINY}', but the base loaded is '{T}/other-base' "
         "({T}/other-base); pick that base (--base {TINY}) or an adapter trained on '{T}/other-base'.",
         setup=trained_runs),
    Case("eval-without-pairs", ("eval", "--run", "{T}/runs/sft-1", "--data", "{F}/train/ok"),
         "{F}/train/ok: no dpo/test.jsonl, dpo/validation.jsonl or dpo/train.jsonl; point --data at a folder with "
         "TRL-format dpo/test.jsonl.", setup=trained_runs),
    Case("push-a-run-without-adapter", ("push", "--run", "{T}/runs/sft-2", "--repo", "alice/ok"),
         "{T}/runs/sft-2/adapter: no adapter yet (run state: none); push after training finishes.", setup=trained_runs),
    # ---------------------------------------------------------------- repo ids and Hub commands
    Case("repo-id-without-owner", ("push", "--data", "{F}/train/ok", "--repo", "no-slash"),
         f"invalid repo id 'no-slash': {REPO_RULE}"),
    Case("repo-id-with-dotdot", ("pull", "--repo", "alice/../x", "--out", "{T}/pulled"),
         f"invalid repo id 'alice/../x': {REPO_RULE}"),
    Case("space-id-with-space", ("deploy-space", "--repo", "alice/my space"),
         f"invalid repo id 'alice/my space': {REPO_RULE}"),
    Case("combined-with-a-dataset", ("push", "--data", "{F}/train/ok", "--repo", "alice/ok", "--combined"),
         "--combined, --merged, --gguf and --cards-dir apply to --run, not --data."),
    Case("push-a-missing-run", ("push", "--run", "{T}/runs/nothing", "--repo", "alice/ok"),
         "{T}/runs/nothing: no such run folder; pick a run under runs/."),
    Case("push-a-folder-without-splits", ("push", "--data", "{F}/convert", "--repo", "alice/ok"),
         "{F}/convert: no sft/*.jsonl or dpo/*.jsonl splits; build the dataset first (python -m pipeline data build) "
         "or pass the data folder."),
]


def fill(text: str, tmp: Path, tiny: Path, url: str = "") -> str:
    return (text.replace("{F}", str(FILES)).replace("{T}", str(tmp)).replace("{TINY}", str(tiny))
            .replace("{L}", url).replace("{H}", url.split("://")[-1]))


def tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")} if root.exists() else set()


def assert_nothing_half_written(tmp: Path, before: set[str], message: str) -> None:
    """No new file or folder, except a run folder's status.json (training) or eval-status.json (evaluation)
    that records this failure (a job that could not start is marked failed, so the app shows its error)."""
    new = tree(tmp) - before
    assert not [p for p in new if ".tmp" in p or ".staging" in p], new
    runs = {p for p in new if p.startswith("runs")}
    for path in sorted(runs):
        parts = Path(path).parts
        if len(parts) == 3:
            assert parts[2] in ("status.json", "eval-status.json"), new
            status = json.loads((tmp / path).read_text())
            assert status["state"] == "failed" and status["error"] == message, status
        else:
            assert len(parts) <= 2, new
    assert new - runs == set(), new


@pytest.fixture(scope="module")
def cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def test_the_table_covers_every_area():
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids)) >= 30
    commands = {c.argv[0] + (" " + c.argv[1] if c.argv[0] in ("data", "train") else "") for c in CASES}
    assert {"data build", "data fetch", "data convert", "train sft", "train dpo", "train grpo", "models", "generate",
            "push", "pull", "deploy-space", "runs"} <= commands


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case: Case, tmp_path, tiny_model_dir, capsys, cuda, request):
    from pipeline.cli import main

    if case.needs_no_cuda and cuda:
        pytest.skip("this machine has CUDA")
    if case.setup:
        case.setup(tmp_path, tiny_model_dir)
    url = ""
    if case.serve:
        server = request.getfixturevalue("loopback")
        case.serve(server)
        url = server.url
    before, inputs_before = tree(tmp_path), {p: (FILES / p).read_bytes() for p in tree(FILES) if (FILES / p).is_file()}
    argv = [fill(a, tmp_path, tiny_model_dir, url) for a in case.argv]
    expected = fill(case.message, tmp_path, tiny_model_dir, url)

    code = main(argv)
    out, err = capsys.readouterr()

    errors = [line for line in err.splitlines() if line.startswith("error: ")]
    assert errors == [f"error: {expected}"], err[-2000:]
    assert code == 2
    assert "Traceback" not in out + err
    assert_nothing_half_written(tmp_path, before, expected)
    assert {p: (FILES / p).read_bytes() for p in tree(FILES) if (FILES / p).is_file()} == inputs_before
    if case.setup is foreign_folder:
        assert (tmp_path / "data" / "notes.txt").read_text() == "mine"


CHILD_CASES = ["empty-file", "convert-not-utf8", "repo-id-without-owner", "runs-of-a-missing-project"]


@pytest.mark.parametrize("case_id", CHILD_CASES)
def test_exit_code_2_from_a_real_child_process(case_id, tmp_path, tiny_model_dir):
    case = next(c for c in CASES if c.id == case_id)
    argv = [fill(a, tmp_path, tiny_model_dir) for a in case.argv]
    expected = fill(case.message, tmp_path, tiny_model_dir)
    before = tree(tmp_path)
    json_mode = case_id in ("empty-file", "runs-of-a-missing-project")

    proc = run_cli(*argv, *(["--json"] if json_mode else []), timeout=300)

    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "Traceback" not in proc.stdout + proc.stderr
    assert [line for line in proc.stderr.splitlines() if line.startswith("error: ")] == [f"error: {expected}"]
    if json_mode:
        assert last_json(proc.stdout) == {"ok": False, "command": case.argv[0], "error": expected}
    assert_nothing_half_written(tmp_path, before, expected)


@dataclass(frozen=True)
class Notice:
    """Bad input that is handled, not refused: the command succeeds and says what it did."""

    id: str
    argv: tuple[str, ...]
    lines: tuple[str, ...]
    """Lines the command must print (exactly, anywhere in its output)."""


NOTICES = [
    Notice("latin1-and-non-numeric-row", ("data", "build", "--input", "{F}/latin1_posts.csv", "--out", "{T}/data",
                                          "--model", "{TINY}"),
           ("note: latin1_posts.csv: not valid UTF-8; read as latin-1 (check accented characters).",
            "      ingest:      2  (removed: non-numeric engagement 1)")),
    Notice("sampling-out-of-range", ("generate", "--model", "{TINY}", "--prompt", "hi", "--temperature", "9",
                                     "--top-p", "3", "--max-new-tokens", "4"),
           ("notice: temperature=9.0 is out of range 0.0..2.0; using 2.0.",
            "notice: top_p=3.0 is out of range 0.05..1.0; using 1.0.")),
    Notice("prompt-longer-than-the-context", ("generate", "--model", "{TINY}", "--prompt", "word " * 5000,
                                              "--max-new-tokens", "2"),
           ("notice: the prompt has 5031 tokens, more than the 1022 that fit; its start was cut.",)),
]


@pytest.mark.parametrize("case", NOTICES, ids=[c.id for c in NOTICES])
def test_handled_bad_input_says_what_it_did(case: Notice, tmp_path, tiny_model_dir, capsys):
    from pipeline.cli import main

    code = main([fill(a, tmp_path, tiny_model_dir) for a in case.argv])
    out, err = capsys.readouterr()

    assert code == 0, err[-2000:]
    printed = (out + err).splitlines()
    for line in case.lines:
        assert line in printed, (out + err)[-3000:]
    if case.argv[:2] == ("data", "build"):
        assert json.loads((tmp_path / "data" / "report.json").read_text())["counts"]["posts"] == 2
        assert not [p for p in tree(tmp_path) if ".tmp" in p]
