"""Publish on the Hugging Face Hub: datasets and adapters with cards, pulls, and a Space deploy.

* :func:`push_dataset`: a data folder's ``sft/`` and ``dpo/`` splits as Parquet (one config each)
  plus its dataset card, in one commit.
* :func:`push_run`: a run's LoRA adapter with a model card; a DPO run also carries its parent SFT
  adapter (``sft/``), and optionally one exact combined adapter (``combined/``: SFT and DPO
  concatenated into one LoRA) and a merged full model (its own repo, ``OWNER/NAME-merged``).
* :func:`pull_adapter`: an adapter repo into a local run folder (config.json + adapter/), which
  Compare and DPO take like any run.
* :func:`deploy_space`: this app as a Gradio Space with a Space README asking for OAuth sign-in.

Every push compares the local files with the remote tree first and commits only what changed
(an unchanged folder makes no commit), with a message naming the files. Transient failures (5xx,
timeouts, dropped connections) are retried; since a push is idempotent, retrying the whole step
is safe. Auth: an explicit token (the UI passes the signed-in user's OAuth token), else HF_TOKEN,
else the token stored by ``hf auth login``. The token is never logged, written, returned or put
in a card. Endpoint and offline mode come from huggingface_hub (HF_ENDPOINT, HF_HUB_OFFLINE).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

from .adapters import trained_4bit
from .cards import TEMPLATES_DIR, render_card
from .errors import UserError
from .fsio import atomic_dir, atomic_write_json, read_jsonl
from .models import DEFAULT_HUB_ID, DEFAULT_SPEC, HUB_ID
from .workspace import Run

PROJECT_ROOT = Path(__file__).resolve().parents[1]
TIMEOUT_ENV = "VOICETUNE_HUB_TIMEOUT"
DEFAULT_TIMEOUT_S = 60.0
RETRY_WAITS_S = (1.0, 2.0)
"""Pauses between tries of a step that failed transiently (3 tries in all)."""
SPLITS = ("train", "validation", "test")
DATASET_COLUMNS = {"sft": ("messages",), "dpo": ("prompt", "chosen", "rejected")}
SPACE_OAUTH_SCOPES = ["read-repos", "write-repos", "manage-repos"]
SPACE_FILES = ("app.py", "pipeline/**/*.py", "ui/**/*.py", "ui/**/*.css", "ui/**/*.js", "datasets_cards/*.md",
               "examples/**/*", "requirements-base.txt")
SPACE_MANAGED = ("pipeline/", "ui/", "datasets_cards/", "examples/")
_TOKEN_FIX = "set HF_TOKEN, run `hf auth login`, or sign in with Hugging Face in the app"


@dataclass(frozen=True)
class PushResult:
    """What a push did: the repo URL, the commit now at its head, and the paths it changed."""

    url: str
    commit: str
    changed: bool
    files: tuple[str, ...] = ()
    message: str = ""
    related: tuple["PushResult", ...] = ()
    """Pushes made alongside (the merged model's repo)."""

    def as_dict(self) -> dict:
        return {"url": self.url, "commit": self.commit, "changed": self.changed, "files": list(self.files),
                "message": self.message, "related": [r.as_dict() for r in self.related]}


# ----------------------------------------------------------------------------- auth, retries, errors


def check_repo_id(repo_id: str) -> str:
    """Return ``repo_id`` if it is ``OWNER/NAME``, else raise a UserError saying why."""
    repo_id = (repo_id or "").strip()
    if not HUB_ID.match(repo_id) or ".." in repo_id or "--" in repo_id or repo_id.endswith((".", ".git")):
        raise UserError(f"invalid repo id {repo_id!r}: use OWNER/NAME with letters, digits, '-', '_' or '.' "
                        "(no '--' or '..', not ending in '.' or '.git'), e.g. alice/voicetune-sft.")
    return repo_id


def resolve_token(token: str | None = None) -> str:
    """The token to write with: ``token``, else HF_TOKEN, else the one stored by ``hf auth login``."""
    from huggingface_hub import get_token

    token = token or get_token()
    if not token:
        raise UserError(f"no Hugging Face token: {_TOKEN_FIX} (the token needs write access).")
    return token


def endpoint() -> str:
    from huggingface_hub import constants

    return constants.ENDPOINT


def repo_url(repo_id: str, repo_type: str = "model") -> str:
    prefix = {"model": "", "dataset": "datasets/", "space": "spaces/"}[repo_type]
    return f"{endpoint()}/{prefix}{repo_id}"


def _configure_timeout() -> float:
    """Give huggingface_hub's shared HTTP client a timeout (it has none, so a hung Hub would hang us)."""
    import httpx
    from huggingface_hub import set_client_factory
    from huggingface_hub.utils import _http

    seconds = float(os.environ.get(TIMEOUT_ENV) or DEFAULT_TIMEOUT_S)
    if getattr(_configure_timeout, "seconds", None) != seconds:
        def client_factory() -> httpx.Client:
            client = _http.default_client_factory()
            client.timeout = httpx.Timeout(seconds)
            return client

        set_client_factory(client_factory)
        _configure_timeout.seconds = seconds
    return seconds


def _transient(error: BaseException) -> str | None:
    """How the Hub failed if it is worth another try (5xx, 429, timeout, network), else None."""
    import httpx
    from huggingface_hub.errors import HfHubHTTPError

    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, HfHubHTTPError) and error.response is not None:
            status = error.response.status_code
            if status >= 500 or status == 429:
                return f"answered HTTP {status}"
            if status == 412:  # someone committed between our read of the head and our commit
                return "moved on during the push (HTTP 412)"
        if isinstance(error, httpx.TimeoutException):
            return f"did not answer within {_configure_timeout():g} s"
        if isinstance(error, (httpx.NetworkError, httpx.RemoteProtocolError)):
            return f"could not be reached ({type(error).__name__})"
        error = error.__cause__ or error.__context__
    return None


def _as_user_error(error: BaseException, repo_id: str, repo_type: str) -> UserError | None:
    """Translate a huggingface_hub error into a one-line fix, or None if it is not the user's to fix."""
    from huggingface_hub.errors import (HfHubHTTPError, HFValidationError, LocalTokenNotFoundError,
                                        OfflineModeIsEnabled, RepositoryNotFoundError, RevisionNotFoundError)

    where = f"{repo_type} repo {repo_id} on {endpoint()}"
    if isinstance(error, OfflineModeIsEnabled):
        return UserError("HF_HUB_OFFLINE=1 is set, so the Hub cannot be reached; unset it (or set it to 0) to publish.")
    if isinstance(error, LocalTokenNotFoundError):
        return UserError(f"no Hugging Face token: {_TOKEN_FIX}.")
    if isinstance(error, HFValidationError):
        return UserError(f"invalid repo id {repo_id!r}: {str(error).splitlines()[0]}")
    if isinstance(error, RevisionNotFoundError):
        return UserError(f"{where}: revision not found; check --revision (a branch, tag or commit id).")
    if isinstance(error, RepositoryNotFoundError):
        return UserError(f"{where} not found (or private and this token cannot read it); check the name and the token.")
    if isinstance(error, HfHubHTTPError) and error.response is not None:
        status = error.response.status_code
        said = (getattr(error, "server_message", None) or "").strip().splitlines()
        said = f" ({said[0]})" if said else ""
        if status == 401:
            return UserError(f"the Hub rejected the token (HTTP 401){said}: it is invalid or expired; {_TOKEN_FIX} "
                             "with a valid token.")
        if status == 403:
            return UserError(f"the Hub refused to write to {where} (HTTP 403){said}: use a token with write access, "
                             "and a namespace you own or belong to.")
        if status in (400, 409, 422):
            return UserError(f"the Hub refused the change to {where} (HTTP {status}){said}.")
    return None


def _hub_step(action: str, fn: Callable, repo_id: str, repo_type: str, log: Callable):
    """Run ``fn`` (an idempotent Hub step), retrying transient failures; errors become UserErrors."""
    tries = len(RETRY_WAITS_S) + 1
    for attempt in range(1, tries + 1):
        try:
            return fn()
        except UserError:
            raise
        except Exception as error:  # noqa: BLE001 - sorted into transient / user-fixable / bug below
            reason = _transient(error)
            if reason is None:
                translated = _as_user_error(error, repo_id, repo_type)
                if translated is None:
                    raise
                raise translated from None
            if attempt == tries:
                raise UserError(f"{action}: the Hub at {endpoint()} {reason} on all {tries} tries; your local files "
                                "are unchanged: try again later (a push sends only what the repo still lacks).") from None
            wait = RETRY_WAITS_S[attempt - 1]
            log(f"{action}: the Hub {reason}; trying again in {wait:g} s ({attempt}/{tries}).")
            time.sleep(wait)


def _connect(token: str | None, repo_id: str, repo_type: str, log: Callable, *, write: bool = True):
    """An HfApi for ``token``; for writes, the token is checked first (it exists, is valid, can write)."""
    from huggingface_hub import HfApi, constants

    if constants.HF_HUB_OFFLINE:
        raise UserError("HF_HUB_OFFLINE=1 is set, so the Hub cannot be reached; unset it (or set it to 0) to publish.")
    token = resolve_token(token) if write else token
    _configure_timeout()
    api = HfApi(token=token if token else None)
    if not write:
        return api
    who = _hub_step("checking the token", lambda: api.whoami(), repo_id, repo_type, log)
    role = ((who.get("auth") or {}).get("accessToken") or {}).get("role")
    if role == "read":
        raise UserError(f"this token ({who.get('name')}) is read-only: create a token with write access and {_TOKEN_FIX}.")
    return api


# ----------------------------------------------------------------------------- one idempotent commit


def _git_blob_sha1(path: Path) -> str:
    digest = hashlib.sha1(b"blob %d\0" % path.stat().st_size)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _same_as_remote(local: Path, remote) -> bool:
    if remote.lfs is not None:
        return remote.lfs.size == local.stat().st_size and remote.lfs.sha256 == _sha256(local)
    return remote.size == local.stat().st_size and remote.blob_id == _git_blob_sha1(local)


def _summary(title: str, added: list[str], updated: list[str], deleted: list[str]) -> str:
    def names(paths: list[str]) -> str:
        shown = ", ".join(paths[:4])
        return shown + (f" and {len(paths) - 4} more" if len(paths) > 4 else "")

    parts = [f"{verb} {names(paths)}" for verb, paths in (("add", added), ("update", updated), ("delete", deleted)) if paths]
    return f"{title}: {'; '.join(parts)}"


def _push_folder(api, folder: Path, repo_id: str, repo_type: str, *, title: str, private: bool,
                 managed: tuple[str, ...] = (), space_sdk: str | None = None, log: Callable = print) -> PushResult:
    """Make the repo's files under ``folder``'s paths equal to ``folder``, in at most one commit.

    Remote files under a ``managed`` folder prefix that ``folder`` does not have are deleted (so a
    re-push without ``--combined`` removes a stale ``combined/``); other remote files, e.g. ones
    added on the website, are left alone.
    """
    from huggingface_hub import CommitOperationAdd, CommitOperationDelete
    from huggingface_hub.hf_api import RepoFile

    local = {p.relative_to(folder).as_posix(): p for p in sorted(folder.rglob("*")) if p.is_file()}

    def step() -> PushResult:
        api.create_repo(repo_id, repo_type=repo_type, private=private, exist_ok=True, space_sdk=space_sdk)
        head = api.repo_info(repo_id, repo_type=repo_type).sha
        remote = {f.path: f for f in api.list_repo_tree(repo_id, repo_type=repo_type, revision=head, recursive=True)
                  if isinstance(f, RepoFile)}
        added = [p for p in local if p not in remote]
        updated = [p for p in local if p in remote and not _same_as_remote(local[p], remote[p])]
        deleted = [p for p in remote if p not in local and p.startswith(managed)] if managed else []
        url = repo_url(repo_id, repo_type)
        if not (added or updated or deleted):
            log(f"{url} is up to date at {head[:12]}: nothing to commit.")
            return PushResult(url, head, False)
        message = _summary(title, added, updated, deleted)
        operations = [CommitOperationAdd(path_in_repo=p, path_or_fileobj=str(local[p])) for p in added + updated]
        operations += [CommitOperationDelete(path_in_repo=p) for p in deleted]
        log(f"Committing to {url}: {message}")
        info = api.create_commit(repo_id, operations, commit_message=message, repo_type=repo_type, parent_commit=head)
        return PushResult(url, info.oid, True, tuple(added + updated + deleted), message)

    return _hub_step(f"pushing to {repo_id}", step, repo_id, repo_type, log)


# ----------------------------------------------------------------------------- datasets


def dataset_splits(data_dir: Path) -> dict[str, dict[str, Path]]:
    """``{"sft": {"train": path, ...}, "dpo": {...}}`` for the non-empty splits the data folder has
    (the builder writes every split file, empty ones included)."""
    def has_rows(path: Path) -> bool:
        return path.is_file() and bool(path.read_text(encoding="utf-8").strip())

    found = {config: {split: data_dir / config / f"{split}.jsonl" for split in SPLITS
                      if has_rows(data_dir / config / f"{split}.jsonl")}
             for config in DATASET_COLUMNS}
    found = {config: splits for config, splits in found.items() if splits}
    if not found:
        raise UserError(f"{data_dir}: no sft/*.jsonl or dpo/*.jsonl splits; build the dataset first "
                        "(python -m pipeline data build) or pass the data folder.")
    return found


def _write_parquet(path: Path, config: str, out: Path) -> int:
    from datasets import Dataset

    rows = read_jsonl(path)
    for number, row in enumerate(rows, start=1):
        missing = [c for c in DATASET_COLUMNS[config] if not isinstance(row.get(c), list)]
        if missing:
            raise UserError(f"{path}: row {number} has no {missing[0]!r} list of messages; rebuild the dataset.")
    try:
        Dataset.from_list(rows).to_parquet(str(out))
    except Exception as e:  # pyarrow type clashes between rows
        raise UserError(f"{path}: rows do not share one schema ({type(e).__name__}: {str(e)[:120]}); "
                        "rebuild the dataset.") from None
    return len(rows)


def dataset_card_text(data_dir: Path, splits: dict[str, dict[str, Path]]) -> str:
    """The data folder's README.md (rendered again from report.json if it is missing) with ``configs``
    pointing at the Parquet files we upload."""
    from huggingface_hub import DatasetCard

    readme = data_dir / "README.md"
    text = readme.read_text(encoding="utf-8") if readme.is_file() else _card_from_report(data_dir)
    try:
        card = DatasetCard(text)
    except Exception as e:  # bad YAML front matter
        raise UserError(f"{readme}: the card's YAML metadata does not parse ({str(e).splitlines()[0]}); fix it or "
                        "rebuild the dataset.") from None
    card.data["configs"] = [
        {"config_name": config, "data_files": [{"split": split, "path": f"{config}/{split}-*.parquet"} for split in found]}
        for config, found in splits.items()
    ]
    return str(card)


def _card_from_report(data_dir: Path) -> str:
    """Render the dataset card again from ``report.json`` (for a data folder whose README.md was lost)."""
    from dataclasses import fields

    from .data.build import BuildReport, BuildSettings
    from .data.card import render_dataset_card

    report_path = data_dir / "report.json"
    if not report_path.is_file():
        raise UserError(f"{data_dir / 'README.md'}: no dataset card (and no report.json to render one from); "
                        "rebuild the dataset or write a README.md there.")
    try:
        report = BuildReport(**json.loads(report_path.read_text(encoding="utf-8")))
        names = {f.name for f in fields(BuildSettings)} - {"teacher", "cache_dir"}
        settings = BuildSettings(**{k: v for k, v in report.settings.items() if k in names})
    except (TypeError, ValueError) as e:
        raise UserError(f"{report_path}: not a report this version can render a card from ({e}); rebuild the "
                        "dataset.") from None
    return render_dataset_card(report, settings)


def push_dataset(data_dir: str | os.PathLike, repo_id: str, *, private: bool = True, token: str | None = None,
                 log: Callable = print) -> PushResult:
    """Push a data folder's SFT and DPO splits (one config each, Parquet) and its card to a dataset repo."""
    repo_id = check_repo_id(repo_id)
    data_dir = Path(data_dir).expanduser().resolve()
    splits = dataset_splits(data_dir)
    card = dataset_card_text(data_dir, splits)
    api = _connect(token, repo_id, "dataset", log)
    with tempfile.TemporaryDirectory(prefix="voicetune-push-") as tmp:
        staging = Path(tmp)
        counts = []
        for config, found in splits.items():
            (staging / config).mkdir()
            for split, path in found.items():
                counts.append(f"{config}/{split} {_write_parquet(path, config, staging / config / f'{split}-00000-of-00001.parquet')}")
        (staging / "README.md").write_text(card, encoding="utf-8")
        log(f"Dataset rows: {', '.join(counts)}")
        return _push_folder(api, staging, repo_id, "dataset", title=f"Dataset from {data_dir.name}", private=private,
                            managed=tuple(f"{c}/" for c in DATASET_COLUMNS), log=log)


# ----------------------------------------------------------------------------- runs (adapters)


def base_model_id(run: Run) -> str | None:
    """The base model's Hub id when we know it (``default`` or a Hub id), else None (a local folder)."""
    spec = str(run.base_model or "")
    if spec == DEFAULT_SPEC:
        return DEFAULT_HUB_ID
    if HUB_ID.match(spec) and not Path(spec).expanduser().exists():
        return spec
    return None


def _stage_value(value, stage: str, *keys: str) -> float | None:
    """A number from eval.json given plain (0.6), per stage ({"sft": 0.6}) or as a stage's summary
    ({"sft": {"mean": 0.6}}, the first of ``keys`` present)."""
    if isinstance(value, dict) and stage in value:
        value = value[stage]
    if isinstance(value, dict):
        value = next((value[k] for k in keys if isinstance(value.get(k), (int, float))), None)
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def model_card_text(run: Run, config: dict, repo_id: str, *, base_id: str | None, dataset_repo: str | None,
                    license: str, combined: bool = False, merged_repo: str | None = None, adapter_repo: str | None = None,
                    cards_dir: Path = TEMPLATES_DIR) -> str:
    """Render ``model_card.md`` for a run: YAML metadata (with model-index from eval.json) and body.

    With ``adapter_repo`` the card describes a merged model (``repo_id``) made from that adapter repo.
    """
    from huggingface_hub import EvalResult, ModelCardData

    kind = run.kind or "sft"
    settings = run.settings
    backend = (config.get("backend") or {}).get("name", "hf")
    evaluation = _json_or_empty(run.eval_path)
    if run.eval_path.is_file() and not evaluation:
        raise UserError(f"{run.eval_path}: not readable JSON; run `python -m pipeline eval --run {run.path}` again.")

    def margin(stage: str) -> float | None:
        return _stage_value(evaluation.get("margins"), stage, "mean", "margin")

    def win_rate(stage: str) -> float | None:
        return _stage_value(evaluation.get("chosen_win_rate"), stage, "mean")

    margins = [(stage, margin(stage), win_rate(stage)) for stage in ("base", "sft", "dpo") if margin(stage) is not None]
    dataset_name = dataset_repo or "voicetune-preferences"
    metrics = [("reward_margin", "Reward margin (chosen - rejected)", margin(kind)),
               ("accuracy", "Chosen win rate", win_rate(kind)),
               ("perplexity", "Perplexity", _stage_value(evaluation.get("perplexity"), kind, "mean", "perplexity"))]
    eval_split = (evaluation.get("split") or {}).get("name") or "test"
    eval_results = [EvalResult(task_type="text-generation", task_name="Voice style transfer",
                               dataset_type=dataset_name, dataset_name=dataset_name, dataset_split=eval_split,
                               metric_type=metric, metric_name=name, metric_value=value)
                    for metric, name, value in metrics if value is not None]
    tags = ["trl", kind, "lora", "voicetune"] + (["qlora"] if settings.get("load_in_4bit") else []) \
        + (["unsloth"] if backend == "unsloth" else []) + (["merged"] if adapter_repo else [])
    metadata = ModelCardData(
        base_model=base_id, library_name="transformers" if adapter_repo else "peft", license=license, tags=tags,
        datasets=[dataset_repo] if dataset_repo else None, pipeline_tag="text-generation",
        model_name=repo_id, eval_results=eval_results or None,
    )
    has_parent = kind == "dpo" and run.parent is not None
    return render_card(
        "model_card.md", templates_dir=cards_dir,
        metadata=metadata.to_yaml(), repo_id=repo_id, kind=kind, run_name=config.get("name", run.name),
        base_model=base_id or str(run.base_model or "your base model"), base_known=base_id is not None,
        backend=backend, settings=settings, margins=margins, evaluation_metrics=[m for m in metrics if m[2] is not None],
        has_parent=has_parent, combined=combined, merged_repo=merged_repo, as_merged=adapter_repo is not None,
        adapter_repo=adapter_repo, dataset_repo=dataset_repo,
        versions=config.get("versions") or {}, created=config.get("created", ""),
        trained_4bit=trained_4bit(run) if run.config_path.exists() else bool(settings.get("load_in_4bit")),
        eval_split=eval_split, eval_notices=evaluation.get("notices") or [],
        voice_rate=evaluation.get("voice_rate") or {}, base_weights=config.get("base_weights") or {},
    )


def _copy_adapter(source: Path, target: Path, base_id: str | None) -> None:
    """Copy an adapter folder, pointing its ``base_model_name_or_path`` at the Hub id when known."""
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(".*", "__pycache__"), dirs_exist_ok=True)
    _point_at_base(target, base_id)


def _point_at_base(adapter_dir: Path, base_id: str | None) -> None:
    """Set the adapter config's base model to its Hub id (a local path means nothing to others)."""
    config_path = adapter_dir / "adapter_config.json"
    if base_id and config_path.is_file():
        adapter_config = json.loads(config_path.read_text(encoding="utf-8"))
        adapter_config["base_model_name_or_path"] = base_id
        config_path.write_text(json.dumps(adapter_config, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def _public_run_config(config: dict, base_id: str | None) -> dict:
    """The run's config without local paths (they name the user's folders)."""
    public = {k: v for k, v in config.items() if k not in ("base_model_path", "parent", "data")}
    public["base_model_id"] = base_id
    public["has_parent_sft"] = bool(config.get("parent"))
    public["data_fingerprint"] = (config.get("data") or {}).get("fingerprint")
    return public


def _load_stacked(base_path: Path, adapters: list[tuple[str, Path]], four_bit: bool = False):
    """The float32 base with ``adapters`` loaded and all active (LoRA deltas add), in eval mode.

    ``four_bit``: the base as a 4-bit run trained on it, Q(W): quantised to NF4 then dequantised to
    float32, so merged weights are exactly the trained policy (not the full-precision W + deltas).
    """
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    from .models import nf4_config

    if four_bit:
        model = AutoModelForCausalLM.from_pretrained(str(base_path), dtype=torch.float32, device_map={"": "cpu"},
                                                     quantization_config=nf4_config(torch.float32)).dequantize()
    else:
        model = AutoModelForCausalLM.from_pretrained(str(base_path), dtype=torch.float32)
    (first_name, first_dir), rest = adapters[0], adapters[1:]
    model = PeftModel.from_pretrained(model, str(first_dir), adapter_name=first_name)
    for name, path in rest:
        model.load_adapter(str(path), adapter_name=name)
    model.base_model.set_adapter([name for name, _ in adapters], inference_mode=True)
    return model.eval()


def combine_adapters(base_path: Path, sft_dir: Path, dpo_dir: Path, out_dir: Path, *, tolerance: float = 1e-4) -> float:
    """Write one LoRA equal to SFT + DPO (PEFT ``cat``: ranks add up, exact) and return the measured
    largest logit difference between it and the two stacked adapters."""
    import torch

    model = _load_stacked(base_path, [("sft", sft_dir), ("dpo", dpo_dir)])
    model.add_weighted_adapter(["sft", "dpo"], [1.0, 1.0], adapter_name="combined", combination_type="cat")
    probe = torch.arange(1, 33).unsqueeze(0) % model.config.vocab_size
    with torch.no_grad():
        stacked = model(probe).logits
        model.base_model.set_adapter("combined", inference_mode=True)
        alone = model(probe).logits
    difference = float((stacked - alone).abs().max() / stacked.abs().max().clamp_min(1e-6))
    if difference > tolerance:
        raise UserError(f"the combined adapter differs from SFT + DPO by {difference:.2e} (relative) on a probe; "
                        "these adapters cannot be joined exactly (rsLoRA/DoRA?); push without --combined.")
    with tempfile.TemporaryDirectory() as tmp:
        model.save_pretrained(tmp, selected_adapters=["combined"])
        shutil.copytree(Path(tmp) / "combined", out_dir, dirs_exist_ok=True)
    return difference


def merge_full_model(base_path: Path, adapters: list[tuple[str, Path]], out_dir: Path, four_bit: bool = False,
                     dtype=None) -> None:
    """Save base + adapters merged into plain weights (float32) with the tokenizer, as a model folder
    (``four_bit``: into the dequantised 4-bit base the run trained on, see :func:`_load_stacked`; with
    ``dtype``, the matrices are cast to it after merging and the vectors, such as norms, stay float32)."""
    from transformers import AutoTokenizer

    model = _load_stacked(base_path, adapters, four_bit).merge_and_unload(adapter_names=[name for name, _ in adapters])
    for parameter in model.parameters() if dtype is not None else ():
        if parameter.dim() > 1:
            parameter.data = parameter.data.to(dtype)
    model.save_pretrained(str(out_dir), safe_serialization=True)
    AutoTokenizer.from_pretrained(str(adapters[0][1]) if (adapters[0][1] / "tokenizer.json").is_file()
                                  else str(base_path)).save_pretrained(str(out_dir))


def _base_path(run: Run, log: Callable) -> Path:
    from .models import resolve_model_path

    path = run.base_model_path
    return path if path and (path / "config.json").is_file() else resolve_model_path(run.base_model or DEFAULT_SPEC, log=log)


def push_run(run_dir: str | os.PathLike, repo_id: str, *, combined: bool = False, merged: bool = False,
             private: bool = True, token: str | None = None, base_model: str | None = None,
             dataset_repo: str | None = None, license: str = "apache-2.0", cards_dir: Path = TEMPLATES_DIR,
             log: Callable = print) -> PushResult:
    """Push a run's adapter and model card (a DPO run adds its SFT parent under ``sft/``).

    ``combined`` adds ``combined/``: one LoRA equal to SFT + DPO (exact, checked on a probe).
    ``merged`` also pushes ``REPO-merged``: the base with the adapters merged in, a plain
    transformers model (its own repo: transformers ignores ``subfolder`` when a repo root holds an
    adapter). Its result is in ``related``. ``base_model`` overrides the base model's Hub id (needed
    when the run trained on a local folder); ``dataset_repo`` names the dataset repo the card links to.
    """
    repo_id = check_repo_id(repo_id)
    run = Run(Path(run_dir).expanduser().resolve())
    if not run.path.is_dir():
        raise UserError(f"{run.path}: no such run folder; pick a run under runs/.")
    config = run.config()
    if not run.has_adapter():
        raise UserError(f"{run.adapter_dir}: no adapter yet (run state: {run.status().get('state')}); push after "
                        "training finishes.")
    kind = run.kind or "sft"
    parent = run.parent if kind == "dpo" else None
    if parent is not None and not parent.has_adapter():
        raise UserError(f"{parent.adapter_dir}: the parent SFT adapter of this DPO run is missing; a DPO adapter "
                        "only works on top of it.")
    if combined and parent is None:
        raise UserError("--combined joins a DPO run's adapter with its parent SFT adapter; this run is "
                        f"{'an SFT run' if kind == 'sft' else 'a DPO run trained on the base'}: push without --combined.")
    base_id = check_repo_id(base_model) if base_model else base_model_id(run)
    merged_repo = check_repo_id(f"{repo_id}-merged") if merged else None
    card_args = dict(base_id=base_id, dataset_repo=dataset_repo, license=license, cards_dir=cards_dir)
    card = model_card_text(run, config, repo_id, combined=combined, merged_repo=merged_repo, **card_args)
    merged_card = model_card_text(run, config, merged_repo, adapter_repo=repo_id, **card_args) if merged else ""
    api = _connect(token, repo_id, "model", log)
    adapters = [("sft", parent.adapter_dir), ("dpo", run.adapter_dir)] if parent else [(kind, run.adapter_dir)]
    public_config = _public_run_config(config, base_id)
    with tempfile.TemporaryDirectory(prefix="voicetune-push-") as tmp:
        staging, merged_staging = Path(tmp) / "adapter", Path(tmp) / "merged"
        _copy_adapter(run.adapter_dir, staging, base_id)
        if parent is not None:
            _copy_adapter(parent.adapter_dir, staging / "sft", base_id)
        if combined:
            log("Joining SFT + DPO into one adapter (PEFT cat)...")
            difference = combine_adapters(_base_path(run, log), parent.adapter_dir, run.adapter_dir,
                                          staging / "combined")
            log(f"Combined adapter matches SFT + DPO (largest relative logit difference {difference:.1e}).")
            _point_at_base(staging / "combined", base_id)
        atomic_write_json(staging / "voicetune_run.json", public_config)
        (staging / "README.md").write_text(card, encoding="utf-8")
        result = _push_folder(api, staging, repo_id, "model", title=f"{kind.upper()} adapter from run {run.name}",
                              private=private, managed=("sft/", "combined/"), log=log)
        if not merged:
            return result
        log("Merging the adapters into the base weights...")
        merge_full_model(_base_path(run, log), adapters, merged_staging, four_bit=trained_4bit(run))
        atomic_write_json(merged_staging / "voicetune_run.json", public_config)
        (merged_staging / "README.md").write_text(merged_card, encoding="utf-8")
        merged_result = _push_folder(api, merged_staging, merged_repo, "model", private=private, log=log,
                                     title=f"{kind.upper()} model (adapters merged) from run {run.name}")
        return replace(result, related=(merged_result,))


# ----------------------------------------------------------------------------- pull


def pull_adapter(repo_id: str, revision: str | None, out_dir: str | os.PathLike, token: str | None = None,
                 log: Callable = print) -> Path:
    """Download an adapter repo into ``out_dir`` as a run folder (config.json, adapter/, status.json).

    A VoiceTune DPO repo also gives ``parent/`` (its SFT run, referenced by config.json's ``parent``)
    and ``combined/`` when it has one; any PEFT LoRA repo works (it is taken as an SFT-like adapter).
    """
    from huggingface_hub import snapshot_download

    out = Path(out_dir).expanduser().resolve()
    repo_id = check_repo_id(repo_id)
    if out.exists() and any(out.iterdir()) and "source" not in _json_or_empty(out / "config.json"):
        raise UserError(f"{out} already exists and is not a pulled adapter; pick a new folder (pulling replaces it).")
    api = _connect(token, repo_id, "model", log, write=False)
    commit = _hub_step("reading the repo", lambda: api.repo_info(repo_id, revision=revision).sha, repo_id, "model", log)
    with atomic_dir(out) as tmp:
        download = tmp / ".download"
        _hub_step("downloading", lambda: snapshot_download(
            repo_id, revision=commit, local_dir=download, token=token or None, ignore_patterns=[".*"],
        ), repo_id, "model", log)
        if not (download / "adapter_config.json").is_file():
            raise UserError(f"{repo_id}: no adapter_config.json at the repo root; it is not a PEFT adapter repo.")
        shutil.rmtree(download / ".cache", ignore_errors=True)
        run_info = json.loads((download / "voicetune_run.json").read_text()) if (download / "voicetune_run.json").is_file() else {}
        adapter_config = json.loads((download / "adapter_config.json").read_text())
        source = {"repo": repo_id, "revision": revision or "main", "commit": commit, "url": repo_url(repo_id)}
        base = run_info.get("base_model_id") or adapter_config.get("base_model_name_or_path") or run_info.get("base_model")
        parent = None
        if (download / "sft" / "adapter_config.json").is_file():
            parent = _pulled_run(tmp / "parent", {"kind": "sft", "name": f"{out.name}-parent",
                                                                    "base_model": base, "parent": None, "source": source})
            (download / "sft").rename(tmp / "parent" / "adapter")
        if (download / "combined" / "adapter_config.json").is_file():
            (download / "combined").rename(tmp / "combined")
        for name in ("README.md", "voicetune_run.json"):
            if (download / name).is_file():
                (download / name).rename(tmp / name)
        config = {**run_info, "kind": run_info.get("kind", "sft"), "name": out.name, "base_model": base,
                  "parent": str(out / "parent") if parent else None, "source": source}
        _pulled_run(tmp, config)
        download.rename(tmp / "adapter")
    log(f"Pulled {repo_id}@{commit[:12]} into {out}")
    return out


def _json_or_empty(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _pulled_run(folder: Path, config: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_json(folder / "config.json", {k: v for k, v in config.items() if k not in ("base_model_id", "has_parent_sft")})
    Run(folder).set_status("done", source=config["source"]["repo"])
    return folder


# ----------------------------------------------------------------------------- Space


def space_hardware_choices() -> list[str]:
    from huggingface_hub import SpaceHardware

    return [h.value for h in SpaceHardware]


def space_readme_text(repo_id: str, hardware: str, sdk: str = "gradio", cards_dir: Path = TEMPLATES_DIR) -> str:
    """Render ``space_readme.md``: the SDK, the app, suggested hardware and OAuth sign-in with write scopes."""
    import yaml

    name = repo_id.split("/")[-1]
    runtime = ({"sdk": "gradio", "sdk_version": importlib.metadata.version("gradio"), "python_version": "3.11",
                "app_file": "app.py"} if sdk == "gradio" else {"sdk": "docker", "app_port": 7860})
    metadata = {
        "title": name, "emoji": "🎙️", "colorFrom": "indigo", "colorTo": "pink", **runtime,
        "suggested_hardware": hardware, "hf_oauth": True, "hf_oauth_scopes": SPACE_OAUTH_SCOPES,
        "pinned": False, "license": "apache-2.0",
        "short_description": "Teach an open model one voice with SFT and DPO",
    }
    return render_card("space_readme.md", templates_dir=cards_dir,
                       metadata=yaml.safe_dump(metadata, sort_keys=False, allow_unicode=True).strip(),
                       repo_id=repo_id, title=name, hardware=hardware, sdk=sdk, gpu=not hardware.startswith("cpu"),
                       scopes=SPACE_OAUTH_SCOPES)


def _space_files(project_root: Path, hardware: str, sdk: str) -> dict[str, Path]:
    """``{path in the Space: local file}``: the app, plus how the Space installs it."""
    gpu = not hardware.startswith("cpu")
    files = {path.relative_to(project_root).as_posix(): path
             for pattern in SPACE_FILES for path in sorted(project_root.glob(pattern))
             if path.is_file() and "__pycache__" not in path.parts}
    if sdk == "gradio":  # the Space pip-installs requirements.txt on top of its Gradio image
        files["requirements.txt"] = project_root / ("requirements-gpu.txt" if gpu else "requirements.txt")
    else:  # the Space builds the project's Dockerfile (GPU: Unsloth; CPU: torch's CPU wheel)
        for name in ("Makefile", ".dockerignore", "requirements.txt", "requirements-gpu.txt", "requirements-dev.txt"):
            files[name] = project_root / name
        files["Dockerfile"] = project_root / ("Dockerfile" if gpu else "Dockerfile.cpu")
    missing = [str(path) for path in files.values() if not path.is_file()]
    if missing or "app.py" not in files:
        raise UserError(f"{missing[0] if missing else project_root / 'app.py'} not found; deploy from a VoiceTune checkout.")
    return files


def deploy_space(repo_id: str, hardware: str = "cpu-basic", token: str | None = None, *, sdk: str = "gradio",
                 private: bool = True, cards_dir: Path = TEMPLATES_DIR, project_root: Path = PROJECT_ROOT,
                 log: Callable = print) -> PushResult:
    """Create (or update) a Space running this app, committing only the files that changed.

    ``sdk="gradio"`` runs app.py on Hugging Face's Gradio image with requirements.txt;
    ``sdk="docker"`` builds the project's Dockerfile, which also converts the embedded default
    model into the image. The README suggests ``hardware``: the Space owner picks (and pays for)
    hardware in the Space's settings. A GPU suggestion ships the Unsloth stack, a CPU one the
    transformers stack.
    """
    repo_id = check_repo_id(repo_id)
    if hardware not in space_hardware_choices():
        raise UserError(f"unknown Space hardware {hardware!r}: use one of {', '.join(space_hardware_choices())}.")
    if sdk not in ("gradio", "docker"):
        raise UserError(f"unknown Space sdk {sdk!r}: use gradio or docker.")
    files = _space_files(Path(project_root), hardware, sdk)
    readme = space_readme_text(repo_id, hardware, sdk, cards_dir)
    api = _connect(token, repo_id, "space", log)
    with tempfile.TemporaryDirectory(prefix="voicetune-space-") as tmp:
        staging = Path(tmp)
        for name, path in files.items():
            (staging / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, staging / name)
        (staging / "README.md").write_text(readme, encoding="utf-8")
        return _push_folder(api, staging, repo_id, "space", title=f"Deploy VoiceTune ({sdk}, {hardware})",
                            private=private, managed=SPACE_MANAGED, space_sdk=sdk, log=log)
