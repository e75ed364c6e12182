"""Runs on the Hub: an adapter with its model card (push), and an adapter repo as a run folder (pull)."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Callable

from ..cards import TEMPLATES_DIR, render_card
from ..adapters import base_model_id, point_adapter_at_base, trained_4bit
from ..errors import UserError
from ..fsio import atomic_dir, atomic_write_json
from ..merge import combine_adapters, merge_full_model
from ..models import DEFAULT_SPEC
from ..workspace import Run
from .client import PushResult, check_repo_id, connect, hub_step, push_folder, repo_url

# ----------------------------------------------------------------------------- runs (adapters)


REWARD_MEANING = {
    "voice": "P(the author wrote it) by the voice detector fitted on the author's training posts only",
    "fluency": "mean token surprisal under the base model at or under the author's own (0 at 1.5x: word salad pays nothing)",
    "adherence": "the share of the brief's topic words the answer uses",
    "form": "length, lines, hashtags, mentions and emoji within the author's own ranges",
    "judge": "an LLM judge's 0-10 rating of the answer against the brief, over 10",
}
"""What each GRPO reward component pays, in the model card's words (pipeline/train/rewards.py)."""


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
    stages = [link.kind or "sft" for link in run.chain()[:-1]] if kind in ("dpo", "grpo") else []
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
        voice=card_scorecard(evaluation.get("voice") or {}), base_weights=config.get("base_weights") or {},
        chat_template=config.get("chat_template"), stages=stages,
        grpo=grpo_card(config) if kind == "grpo" else None,
    )


def grpo_card(config: dict) -> dict:
    """A GRPO run's sampling knobs and reward (each weighted component and what pays) as the card shows them."""
    from ..train.settings import GRPOSettings

    settings = {**vars(GRPOSettings()), **(config.get("settings") or {})}
    weights = (config.get("reward") or {}).get("weights") or {  # the weights above 0, as the reward keeps them
        name: settings[f"{name}_weight"] for name in GRPOSettings().weights() if settings[f"{name}_weight"] > 0}
    return {**{k: settings[k] for k in ("group_size", "briefs_per_step", "temperature", "max_completion_length",
                                        "beta", "max_steps")},
            "weights": weights, "meaning": REWARD_MEANING}


def card_scorecard(voice: dict) -> dict:
    """eval.json's voice scorecard as the model card shows it: the verdict, floor and ceiling, and one
    row per column (AUC with interval, calibrated score, fluency, against few-shot); {} when none."""
    if "columns" not in voice:
        return {"verdict": voice["verdict"], "rows": []} if voice.get("verdict") else {}
    rows = [{"column": name, "auc": c["auc"], "low": c["auc_interval"][0], "high": c["auc_interval"][1],
             "score": c["score"], "fluency": c["fluency_ratio"], "garbled": c["garbled"],
             "few_shot": (voice.get("few_shot") or {}).get(name, "")} for name, c in voice["columns"].items()]
    return {"verdict": voice.get("verdict", ""), "ceiling": voice["ceiling"]["auc"], "floor": voice["floor_auc"],
            "rows": rows, "contradictions": voice.get("contradictions") or []}


def _copy_adapter(source: Path, target: Path, base_id: str | None) -> None:
    """Copy an adapter folder, pointing its ``base_model_name_or_path`` at the Hub id when known."""
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(".*", "__pycache__"), dirs_exist_ok=True)
    point_adapter_at_base(target, base_id)


def _public_run_config(config: dict, base_id: str | None) -> dict:
    """The run's config without local paths (they name the user's folders)."""
    public = {k: v for k, v in config.items() if k not in ("base_model_path", "parent", "data")}
    public["base_model_id"] = base_id
    public["has_parent_sft"] = bool(config.get("parent"))
    public["data_fingerprint"] = (config.get("data") or {}).get("fingerprint")
    return public


def _not_combinable(kind: str) -> str:
    return {"sft": "an SFT run", "dpo": "a DPO run trained on the base",
            "grpo": "a GRPO run (its chain is pushed as one adapter per stage)"}.get(kind, f"a {kind} run")


def _base_path(run: Run, log: Callable) -> Path:
    from ..models import resolve_model_path

    path = run.base_model_path
    return path if path and (path / "config.json").is_file() else resolve_model_path(run.base_model or DEFAULT_SPEC, log=log)


def push_run(run_dir: str | os.PathLike, repo_id: str, *, combined: bool = False, merged: bool = False,
             private: bool = True, token: str | None = None, base_model: str | None = None,
             dataset_repo: str | None = None, license: str = "apache-2.0", cards_dir: Path = TEMPLATES_DIR,
             log: Callable = print) -> PushResult:
    """Push a run's adapter and model card (a DPO run adds its SFT parent under ``sft/``; a GRPO run
    adds each run of its chain under ``sft/`` and ``dpo/``, and its card names the reward and its weights).

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
    # The runs this one's adapter stacks on (SFT for a DPO run; SFT, then DPO if any, for a GRPO run),
    # each pushed under a folder named after its kind.
    parents = run.chain()[:-1] if kind in ("dpo", "grpo") else []
    for link in parents:
        if not link.has_adapter():
            raise UserError(f"{link.adapter_dir}: the parent {(link.kind or 'sft').upper()} adapter of this "
                            f"{kind.upper()} run is missing; the {kind.upper()} adapter only works on top of it.")
    parent = parents[0] if kind == "dpo" and parents else None
    if combined and parent is None:
        raise UserError("--combined joins a DPO run's adapter with its parent SFT adapter; this run is "
                        f"{_not_combinable(kind)}: push without --combined (--merged gives one model).")
    base_id = check_repo_id(base_model) if base_model else base_model_id(run)
    merged_repo = check_repo_id(f"{repo_id}-merged") if merged else None
    card_args = dict(base_id=base_id, dataset_repo=dataset_repo, license=license, cards_dir=cards_dir)
    card = model_card_text(run, config, repo_id, combined=combined, merged_repo=merged_repo, **card_args)
    merged_card = model_card_text(run, config, merged_repo, adapter_repo=repo_id, **card_args) if merged else ""
    api = connect(token, repo_id, "model", log)
    adapters = [(link.kind or "sft", link.adapter_dir) for link in parents] + [(kind, run.adapter_dir)]
    public_config = _public_run_config(config, base_id)
    with tempfile.TemporaryDirectory(prefix="voicetune-push-") as tmp:
        staging, merged_staging = Path(tmp) / "adapter", Path(tmp) / "merged"
        _copy_adapter(run.adapter_dir, staging, base_id)
        for link_kind, adapter_dir in adapters[:-1]:
            _copy_adapter(adapter_dir, staging / link_kind, base_id)
        if combined:
            log("Joining SFT + DPO into one adapter (PEFT cat)...")
            difference = combine_adapters(_base_path(run, log), parent.adapter_dir, run.adapter_dir,
                                          staging / "combined")
            log(f"Combined adapter matches SFT + DPO (largest relative logit difference {difference:.1e}).")
            point_adapter_at_base(staging / "combined", base_id)
        atomic_write_json(staging / "voicetune_run.json", public_config)
        (staging / "README.md").write_text(card, encoding="utf-8")
        result = push_folder(api, staging, repo_id, "model", title=f"{kind.upper()} adapter from run {run.name}",
                              private=private, managed=("sft/", "dpo/", "combined/"), log=log)
        if not merged:
            return result
        log("Merging the adapters into the base weights...")
        merge_full_model(_base_path(run, log), adapters, merged_staging, four_bit=trained_4bit(run))
        atomic_write_json(merged_staging / "voicetune_run.json", public_config)
        (merged_staging / "README.md").write_text(merged_card, encoding="utf-8")
        merged_result = push_folder(api, merged_staging, merged_repo, "model", private=private, log=log,
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
    api = connect(token, repo_id, "model", log, write=False)
    commit = hub_step("reading the repo", lambda: api.repo_info(repo_id, revision=revision).sha, repo_id, "model", log)
    with atomic_dir(out) as tmp:
        download = tmp / ".download"
        hub_step("downloading", lambda: snapshot_download(
            repo_id, revision=commit, local_dir=download, token=token or None, ignore_patterns=[".*"],
        ), repo_id, "model", log)
        if not (download / "adapter_config.json").is_file():
            raise UserError(f"{repo_id}: no adapter_config.json at the repo root; it is not a PEFT adapter repo.")
        shutil.rmtree(download / ".cache", ignore_errors=True)
        run_info = json.loads((download / "voicetune_run.json").read_text()) if (download / "voicetune_run.json").is_file() else {}
        if run_info.get("kind") == "grpo":  # its chain (sft/, dpo/) would need a run folder per stage
            raise UserError(f"{repo_id}: a GRPO repo (an adapter per stage of its chain) cannot be pulled as a run yet; "
                            "load it with PEFT as its model card shows, or pull its -merged repo as a base model.")
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
