"""What fills a Compare/Evaluate column: run folders, adapter folders and Hub adapters.

A column is the base model plus a stack of LoRA adapters whose deltas add:

* an SFT run folder -> ``[its adapter]``;
* a DPO run folder  -> ``[its parent SFT run's adapter, its adapter]`` (a DPO adapter holds only
  the DPO delta, trained on top of base + SFT; ``parent: null`` means it was trained on the base);
* a GRPO run folder -> its chain's adapters then its own (``[SFT, GRPO]`` or ``[SFT, DPO, GRPO]``:
  each adapter holds the delta trained on top of the ones before it);
* an adapter folder (``adapter_config.json``) -> ``[that adapter]``;
* a Hub id ``owner/name`` -> the adapter downloaded with ``snapshot_download`` (read from the local
  cache when ``HF_HUB_OFFLINE=1``).

Every adapter records the base model it was trained on; :func:`check_base` refuses one trained on
another base, naming both.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import UserError
from .fsio import read_json
from .models import DEFAULT_MODEL_NAME, DEFAULT_SPEC, EMBEDDED, HUB_ID, default_model_dir
from .workspace import Run

ADAPTER_FILES = ["adapter_config.json", "adapter_model.safetensors", "adapter_model.bin", "*.json", "*.md"]
_SNAPSHOT = re.compile(r"models--([^/]+)--([^/]+)/snapshots/")


@dataclass(frozen=True)
class AdapterRef:
    """One LoRA adapter folder and the base model it was trained on."""

    path: Path
    """The folder holding ``adapter_config.json`` and the weights."""
    base_model: str | None
    """The base recorded by training (run config ``base_model_path``, else the adapter config's
    ``base_model_name_or_path``); None when nothing recorded it."""
    label: str
    """How the user named it (run folder, adapter folder or Hub id), for messages."""


@dataclass(frozen=True)
class ColumnSource:
    """The adapters one column stacks on the base model, in training order."""

    spec: str
    """What the user gave: a run folder, an adapter folder or a Hub id."""
    adapters: tuple[AdapterRef, ...]
    base_model: str | None
    """The base model spec of the run (its ``base_model``), used when no base is given."""
    kind: str | None
    """``sft`` / ``dpo`` / ``grpo`` for run folders, None for bare adapters."""
    load_in_4bit: bool | None = None
    """Whether the run trained on a 4-bit NF4 base (the first run of its chain); None for bare adapters."""


def resolve_column(spec: str, log=print) -> ColumnSource:
    """Turn a run folder, adapter folder or Hub adapter id into the adapters it stacks."""
    spec = str(spec).strip()
    if not spec:
        raise UserError("an empty adapter source: give a run folder, an adapter folder or a Hub adapter id.")
    path = Path(spec).expanduser()
    if path.is_dir():
        run_dir = _run_folder(path)
        if run_dir is not None:
            return _from_run(Run(run_dir), spec)
        if (path / "adapter_config.json").is_file():
            ref = AdapterRef(path.resolve(), _adapter_base(path), spec)
            return ColumnSource(spec, (ref,), ref.base_model, None)
        raise UserError(f"{path}: neither a run folder (config.json + adapter/) nor an adapter folder "
                        "(adapter_config.json); pick a finished run or a PEFT adapter folder.")
    if path.exists() or spec.startswith((".", "/", "~")) or not HUB_ID.match(spec):
        raise UserError(f"adapter source {spec!r} not found: give an existing run folder, an adapter folder or a "
                        "Hub adapter id like 'owner/my-voice-adapter'.")
    folder = download_adapter(spec, log)
    ref = AdapterRef(folder, _adapter_base(folder), spec)
    return ColumnSource(spec, (ref,), ref.base_model, None)


def _run_folder(path: Path) -> Path | None:
    """``path`` if it is a run folder, its parent if it is a run's ``adapter/``, else None."""
    for candidate in (path, path.parent if path.name == "adapter" else None):
        if candidate is not None and Run(candidate).is_run():
            return candidate.resolve()
    return None


def _from_run(run: Run, spec: str) -> ColumnSource:
    chain = run.chain()
    for link in chain:
        if not link.has_adapter():
            state = link.status().get("state", "none")
            raise UserError(f"{link.adapter_dir}: the run has no adapter (state: {state}); finish or resume "
                            "the training first, or pick another run.")
    refs = [AdapterRef(link.adapter_dir.resolve(),
                       str(link.base_model_path or link.base_model or "") or _adapter_base(link.adapter_dir),
                       str(link.path)) for link in chain]
    return ColumnSource(spec, tuple(refs), run.base_model, run.kind, trained_4bit(run))


def trained_4bit(run: Run) -> bool:
    """Whether the base under a run's adapters was 4-bit NF4 in training: the setting of its chain's root
    (an SFT run, or a DPO run trained on the base); a DPO run on an SFT parent reuses its parent's base."""
    return bool(run.chain()[0].settings.get("load_in_4bit"))


def _adapter_base(folder: Path) -> str | None:
    path = folder / "adapter_config.json"
    config = read_json(path, missing="the adapter folder is incomplete (download or train it again).")
    if config.get("peft_type", "LORA") != "LORA":
        raise UserError(f"{path}: a {config.get('peft_type')} adapter; only LoRA adapters can fill a column.")
    return config.get("base_model_name_or_path")


def download_adapter(repo_id: str, log=print) -> Path:
    """A Hub adapter as a local folder (the HF cache); offline and not cached -> UserError."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError, RepositoryNotFoundError

    offline = os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes")
    try:
        return Path(snapshot_download(repo_id, local_files_only=True, allow_patterns=ADAPTER_FILES))
    except LocalEntryNotFoundError:
        if offline:
            raise UserError(f"adapter {repo_id!r} is not in the local Hugging Face cache and HF_HUB_OFFLINE=1; "
                            "unset HF_HUB_OFFLINE to download it, or use a local run folder.") from None
    log(f"Downloading adapter {repo_id} from the Hub...")
    try:
        folder = Path(snapshot_download(repo_id, allow_patterns=ADAPTER_FILES))
    except RepositoryNotFoundError:
        raise UserError(f"adapter {repo_id!r} was not found on the Hub (or it is private: set HF_TOKEN).") from None
    except Exception as e:  # network errors come in many types; the fix is the same
        raise UserError(f"could not download adapter {repo_id!r} ({type(e).__name__}); check the network, "
                        "or use a local run folder.") from None
    if not (folder / "adapter_config.json").is_file():
        raise UserError(f"{repo_id} has no adapter_config.json: it is not a PEFT adapter repository.")
    return folder


def model_names(spec_or_path: str | os.PathLike) -> set[str]:
    """Names that identify a base model: its resolved folder and its bare model name (lower case).

    ``default``, the converted default folder and ``HuggingFaceTB/SmolLM2-135M-Instruct`` all share
    the name ``smollm2-135m-instruct``; a Hub cache snapshot path gives its repository's name.
    """
    text = str(spec_or_path).strip()
    if text == DEFAULT_SPEC:
        text = str(default_model_dir())
    names = {text.rstrip("/").rsplit("/", 1)[-1].lower()}
    snapshot = _SNAPSHOT.search(text)
    if snapshot:
        names = {snapshot.group(2).lower()}
    path = Path(text).expanduser()
    if path.exists():
        names.add(str(path.resolve()))
        if path.resolve() == default_model_dir().resolve():
            names.add(DEFAULT_MODEL_NAME.lower())
    return names


def same_base(recorded: str | None, base_path: Path) -> bool:
    """Whether an adapter recorded as trained on ``recorded`` fits the base loaded from ``base_path``."""
    return recorded is None or bool(model_names(recorded) & model_names(base_path))


def check_base(ref: AdapterRef, base_spec: str, base_path: Path) -> None:
    """Refuse an adapter trained on another base model, naming both."""
    if not same_base(ref.base_model, base_path):
        raise UserError(f"{ref.label} was trained on base model {ref.base_model!r}, but the base loaded is "
                        f"{base_spec!r} ({base_path}); pick that base (--base {ref.base_model}) or an adapter "
                        f"trained on {base_spec!r}.")


def base_model_id(run: Run) -> str | None:
    """The base model's Hub id when we know it (``default`` or a Hub id), else None (a local folder)."""
    spec = str(run.base_model or "")
    if spec in EMBEDDED:
        return EMBEDDED[spec].hub_id
    if HUB_ID.match(spec) and not Path(spec).expanduser().exists():
        return spec
    return None


def point_adapter_at_base(adapter_dir: Path, base_id: str | None) -> None:
    """Set the adapter config's base model to its Hub id (a local path means nothing to others)."""
    config_path = adapter_dir / "adapter_config.json"
    if base_id and config_path.is_file():
        adapter_config = json.loads(config_path.read_text(encoding="utf-8"))
        adapter_config["base_model_name_or_path"] = base_id
        config_path.write_text(json.dumps(adapter_config, indent=2, sort_keys=True) + "\n", encoding="utf-8")
