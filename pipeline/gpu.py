"""GPU facts and the decisions taken from them: CUDA health, precision, backend, Unsloth import order, ranks.

Each decision is a pure function of the facts (so a CPU machine can test what a GPU would do);
:func:`cuda_facts` gathers the facts of this machine.

* **CUDA health.** torch 2.13.0 from PyPI is the CUDA 13 build, which needs an NVIDIA driver >= 580.
  When torch was built with CUDA and ``nvidia-smi`` lists a GPU but ``torch.cuda.is_available()`` is
  False (an old driver, a container started without ``--gpus``), :func:`cuda_problem` says so; the
  doctor, the app's header and every run's config.json show it, instead of silently using the CPU.
* **Precision.** ``torch.cuda.is_bf16_supported()`` counts emulation and says True on a T4
  (compute capability 7.5), where bf16 is slow and Unsloth loads float16. :func:`auto_dtype` takes
  bf16 at capability >= 8 only, else float16 (with ``fp16=True`` mixed precision in training:
  :func:`mixed_precision`). Unsloth 2026.10.9 decides the same way
  (``SUPPORTS_BFLOAT16 = capability[0] >= 8`` in ``unsloth/models/_utils.py``).
* **Backend.** :func:`pick_backend`: Unsloth only for SFT and GRPO on CUDA with unsloth installed; DPO and
  serving (Compare, Evaluate, generate, pushes) always use transformers + PEFT: DPO merges the SFT
  adapter with PEFT, and Unsloth's patched Llama forward rejects the 4-D boolean masks of the
  one-row-per-pair scorer (``_unmask_unattended``).
* **Import order.** Unsloth patches transformers, peft and trl when it is imported and warns when
  any of them came first (``critical_modules = ["trl", "transformers", "peft"]`` in
  ``unsloth/_gpu_init.py``). :func:`import_unsloth_first` runs in the training entry point before
  either is imported; the web process only asks :func:`unsloth_installed` (``find_spec``).
* **Ranks.** Under ``accelerate launch`` each process has ``RANK``/``LOCAL_RANK``/``WORLD_SIZE``;
  only rank 0 writes the run folder, each rank loads onto ``cuda:LOCAL_RANK``.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass, field

UNSLOTH_PATCHES = ("trl", "transformers", "peft")
"""What Unsloth must be imported before (``critical_modules`` in unsloth/_gpu_init.py, 2026.10.9)."""
CUDA13_DRIVER_FLOOR = 580
"""The oldest NVIDIA driver for torch's CUDA 13 build (what PyPI's torch 2.13.0 is on Linux)."""


@dataclass(frozen=True)
class CudaFacts:
    """What this machine says about CUDA (see :func:`cuda_facts`)."""

    torch_cuda: str | None = None
    """The CUDA version torch was built with (``torch.version.cuda``); None for a CPU build."""
    available: bool = False
    """``torch.cuda.is_available()``."""
    nvidia_smi_gpus: list[str] = field(default_factory=list)
    """GPU names ``nvidia-smi -L`` lists (empty without nvidia-smi)."""
    driver: str | None = None
    """The NVIDIA driver version nvidia-smi reports."""
    capabilities: list[tuple[int, int]] = field(default_factory=list)
    """Compute capability per visible GPU (when available)."""
    names: list[str] = field(default_factory=list)
    """torch's name per visible GPU."""
    memory_bytes: list[int] = field(default_factory=list)
    """Total memory per visible GPU."""

    def as_dict(self) -> dict:
        return {**asdict(self), "problem": cuda_problem(self)}


def cuda_facts() -> CudaFacts:
    """This machine's facts (imports torch; runs ``nvidia-smi`` when it is on PATH, 10 s at most)."""
    import torch

    gpus, driver = [], None
    if shutil.which("nvidia-smi"):
        try:
            out = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version", "--format=csv,noheader"],
                                 capture_output=True, text=True, timeout=10, check=False).stdout
            rows = [line.split(",") for line in out.splitlines() if line.strip()]
            gpus = [r[0].strip() for r in rows]
            driver = rows[0][1].strip() if rows and len(rows[0]) > 1 else None
        except (OSError, subprocess.SubprocessError):
            pass
    available = torch.cuda.is_available()
    count = torch.cuda.device_count() if available else 0
    return CudaFacts(
        torch_cuda=torch.version.cuda, available=available, nvidia_smi_gpus=gpus, driver=driver,
        capabilities=[tuple(torch.cuda.get_device_capability(i)) for i in range(count)],
        names=[torch.cuda.get_device_name(i) for i in range(count)],
        memory_bytes=[torch.cuda.get_device_properties(i).total_memory for i in range(count)],
    )


def cuda_problem(facts: CudaFacts) -> str | None:
    """One line when a GPU is there but torch cannot use it (None when all is well or there is no GPU)."""
    if facts.available or not facts.nvidia_smi_gpus:
        return None
    gpu = f"nvidia-smi sees {len(facts.nvidia_smi_gpus)} GPU(s) ({facts.nvidia_smi_gpus[0]}"
    gpu += f", driver {facts.driver})" if facts.driver else ")"
    if facts.torch_cuda is None:
        return (f"{gpu} but this torch is a CPU build: training runs on the CPU. Install the CUDA build "
                "(requirements-gpu.txt, or the GPU Dockerfile).")
    hint = ""
    try:
        major = int(str(facts.driver).split(".")[0])
        if str(facts.torch_cuda).startswith("13") and major < CUDA13_DRIVER_FLOOR:
            hint = f" torch's CUDA {facts.torch_cuda} build needs driver >= {CUDA13_DRIVER_FLOOR}: update the driver."
    except ValueError:
        pass
    return (f"{gpu} but torch (built with CUDA {facts.torch_cuda}) cannot use it: torch.cuda.is_available() is "
            f"False, so training would run on the CPU.{hint or ' Check the driver and that the container has the GPU (--gpus all).'}")


# ----------------------------------------------------------------------------- precision


def auto_dtype(device: str, capability: tuple[int, int] | None = None) -> str:
    """The weight dtype ``auto`` means: float32 on CPU; on CUDA bfloat16 at compute capability >= 8
    (Ampere and later), float16 below (T4, V100: bf16 there is emulated)."""
    if device != "cuda":
        return "float32"
    return "bfloat16" if capability is not None and capability[0] >= 8 else "float16"


def native_cuda_bf16(capability: tuple[int, int] | None) -> bool:
    return capability is not None and capability[0] >= 8


def mixed_precision(dtype: str, device: str, capability: tuple[int, int] | None, cpu_bf16: bool) -> dict:
    """``{"bf16": bool, "fp16": bool}`` for the training arguments.

    ``auto``: on CUDA bf16 at capability >= 8, else fp16 (a T4); on CPU bf16 autocast where the CPU
    has native bf16 matmuls (``cpu_bf16``), else none. An explicit ``bfloat16``/``float16`` is kept.
    """
    if dtype == "bfloat16":
        return {"bf16": True, "fp16": False}
    if dtype == "float16":
        return {"bf16": False, "fp16": device == "cuda"}
    if dtype != "auto":
        return {"bf16": False, "fp16": False}
    if device == "cuda":
        bf16 = native_cuda_bf16(capability)
        return {"bf16": bf16, "fp16": not bf16}
    return {"bf16": cpu_bf16, "fp16": False}


def device_capability(device: str) -> tuple[int, int] | None:
    """This process's GPU capability (its ``LOCAL_RANK`` device), None off CUDA."""
    if device != "cuda":
        return None
    import torch

    return tuple(torch.cuda.get_device_capability(local_rank())) if torch.cuda.is_available() else None


# ----------------------------------------------------------------------------- backend


def unsloth_installed() -> bool:
    """Whether unsloth is installed (``find_spec``: nothing is imported, no patch applied)."""
    return importlib.util.find_spec("unsloth") is not None


def pick_backend(requested: str, purpose: str, cuda: bool, installed: bool, processes: int = 1) -> tuple[str, str]:
    """``(backend, reason)`` for ``requested`` (auto|hf|unsloth) and ``purpose`` (sft|grpo|dpo|serve).

    Only SFT and GRPO (generation-bound: Unsloth's fast generation) train with Unsloth, and ``auto``
    only on one process: Unsloth 2026.10.9 says
    "Multi-GPU is not yet supported (beta available on request)" (unsloth/_gpu_init.py), so a
    ``--gpus N`` run takes hf unless Unsloth is asked for. An explicit ``unsloth`` for DPO or serving
    is answered with ``hf`` and the reason (the caller decides whether that is an error).
    """
    if requested == "hf":
        return "hf", "requested"
    if purpose not in ("sft", "grpo"):
        why = ("DPO trains with transformers + PEFT + TRL (the SFT adapter is merged with PEFT)" if purpose == "dpo"
               else "Compare/Evaluate/pushes serve with transformers + PEFT (Unsloth's patched forward rejects "
                    "the 4-D masks of pair scoring)")
        return "hf", why
    if not cuda:
        return "hf", "auto: no CUDA GPU, using transformers + PEFT"
    if not installed:
        return "hf", "auto: unsloth is not installed, using transformers + PEFT"
    if processes > 1 and requested == "auto":
        return "hf", f"auto: {processes} processes (DDP); Unsloth marks multi-GPU as beta, using transformers + PEFT"
    return "unsloth", "requested" if requested == "unsloth" else "auto: CUDA GPU and unsloth available"


def wants_unsloth_first(kind: str, backend: str, device: str, cuda_built: bool, installed: bool,
                        processes: int = 1) -> bool:
    """Whether the training entry point must import unsloth before anything imports transformers:
    an SFT or GRPO run that may pick Unsloth (``auto`` on one process, or ``unsloth``; not ``--device cpu``)
    on a CUDA build of torch with unsloth installed. (``cuda_built``: torch was built with CUDA;
    availability is checked later and only decides the backend.)"""
    may_pick = backend == "unsloth" or (backend == "auto" and processes == 1)
    return kind in ("sft", "grpo") and may_pick and device != "cpu" and cuda_built and installed


_import_record: dict | None = None


def import_unsloth_first(kind: str, backend: str, device: str) -> dict:
    """Import unsloth now if this run may use it (see :func:`wants_unsloth_first`); returns (and
    keeps, for :func:`import_record`) which of transformers/peft/trl were already imported."""
    global _import_record
    already = [m for m in UNSLOTH_PATCHES if m in sys.modules]
    record = {"checked_at": "train entry point", "loaded_before_backend": already, "unsloth": "not needed"}
    if wants_unsloth_first(kind, backend, device, _torch_cuda_built(), unsloth_installed(), world_size()):
        try:
            import unsloth  # noqa: F401  (must come before transformers, peft and trl: it patches them)
            record["unsloth"] = ("imported first" if not already
                                 else f"imported after {', '.join(already)} (its patches are incomplete)")
        except Exception as e:  # unsloth raises many kinds of errors on unsupported set-ups
            record["unsloth"] = f"failed to import: {type(e).__name__}: {str(e)[:200]}"
    _import_record = record
    return record


def import_record() -> dict:
    """What :func:`import_unsloth_first` found in this process (for config.json), or that it did not run
    (training called from Python, not through ``python -m pipeline train``)."""
    return _import_record or {"checked_at": None, "unsloth": "imported" if "unsloth" in sys.modules else "not imported"}


def _torch_cuda_built() -> bool:
    import torch

    return torch.version.cuda is not None


# ----------------------------------------------------------------------------- ranks and GPUs


def local_rank() -> int:
    return int(os.environ.get("LOCAL_RANK", "0") or 0)


def world_size() -> int:
    return int(os.environ.get("WORLD_SIZE", "1") or 1)


def is_main_process() -> bool:
    """Rank 0 (or no distributed launch): the one process that writes the run folder."""
    return int(os.environ.get("RANK", "0") or 0) == 0


def launch_processes(requested: int, visible: int) -> int:
    """Processes to launch for ``--gpus N`` with ``visible`` CUDA GPUs: 1 (plain python) unless N > 1.

    Multi-GPU is opt-in: more GPUs than asked for are left alone. Asking for more than are visible
    is an error.
    """
    from .errors import UserError

    if requested < 1:
        raise UserError(f"--gpus {requested}: use 1 or more.")
    if requested > 1 and requested > visible:
        raise UserError(f"--gpus {requested}: only {visible} CUDA GPU(s) visible; use --gpus {max(visible, 1)}.")
    return requested
