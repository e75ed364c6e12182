"""What every kind of run shares: the interface a trainer module meets (:class:`TrainFunction`,
:class:`BuiltTrainer`), :func:`execute` (train, resume, cancel, save, keep status.json true), the run
folder's config.json, TrainingArguments, atomic checkpoints and the errors a user can act on.

Checkpoints are written into ``checkpoints/.staging`` and renamed into place when complete, so a
full disk or a kill during a save never leaves a half-written ``checkpoint-N`` that resume would
pick up. The final adapter goes through :func:`pipeline.fsio.atomic_dir` for the same reason.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import signal
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Protocol

from ..errors import UserError
from ..fsio import atomic_dir, atomic_write_json
from ..gpu import import_record, is_main_process
from ..models import Backend, package_versions
from ..weights import base_weights
from ..workspace import Run, validate_name
from .metrics import RowSpec, StopOnSignal, TokenCounter
from .settings import CommonSettings

VERSIONED = ("torch", "transformers", "trl", "peft", "datasets", "accelerate", "bitsandbytes", "unsloth")
STAGING = ".staging"
FULL_DISK_BYTES = 16 * 2**20
"""Less free space than this after a failed checkpoint write means the disk filled up."""


class TrainFunction(Protocol):
    """What each trainer module offers (``RunKind.train`` in settings.py names it): train a run of its
    kind into run folder ``out`` (on top of run folder ``parent`` for a kind with one), or resume it
    from its last checkpoint with its recorded settings; returns the run summary (the CLI's --json)."""

    def __call__(self, data_dir: str | Path | None, out: str | Path, settings: CommonSettings | None = None, *,
                 parent: str | Path | None = None, resume: bool = False, log: Callable = print) -> dict: ...


@dataclass
class BuiltTrainer:
    """What a trainer module's build step hands :func:`execute`: a TRL trainer (with :class:`TrainerMixin`)
    ready to train, and the facts the run folder records about it. Nothing is trained yet."""

    trainer: Any
    tokenizer: Any
    backend: Backend
    """The backend that runs it (saved in config.json with the reason it was chosen)."""
    model_path: Path
    """The base model's resolved folder."""
    train_examples: int
    dropped_too_long: int
    """Training examples left out for their length."""
    rows: RowSpec = field(default_factory=RowSpec)
    """What this kind's metrics.jsonl rows add (TRL values kept, log-ratio drift)."""
    config_extra: dict = field(default_factory=dict)
    """Kind-specific config.json fields (DPO: ``reference``, ``policy``, ``sft_merge``)."""
    summary_metrics: dict[str, str] = field(default_factory=dict)
    """Summary fields read from the last metrics row: ``{summary key: row key}``."""


def set_threads(settings: CommonSettings) -> int:
    """Use one torch thread per core: oversubscribing 2 cores with hyper-threads or extra threads
    slows every matmul down."""
    import torch

    threads = settings.threads or max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
    torch.set_num_threads(threads)
    return threads


def write_config(run: Run, kind: str, settings: CommonSettings, model_path: Path, backend: Backend,
                 data_dir: Path, data_fingerprint: str, parent: Path | None = None, extra: dict | None = None) -> dict:
    """Write ``config.json`` per the run-folder contract; an existing one (resume) keeps its ``created``."""
    created = run.config().get("created") if run.config_path.exists() else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    config = {
        "kind": kind,
        "name": run.name,
        "base_model": settings.model,
        "base_model_path": str(model_path),
        "base_weights": base_weights(model_path),
        "parent": str(parent) if parent else None,
        "backend": asdict(backend),
        "settings": settings.as_dict(),
        "versions": package_versions(VERSIONED),
        "data": {"dir": str(Path(data_dir).resolve()), "fingerprint": data_fingerprint},
        "cuda": cuda_record(),
        "import_order": import_record(),
        "created": created,
        **(extra or {}),
    }
    if is_main_process():
        atomic_write_json(run.config_path, config)
    return config


def cuda_record() -> dict:
    """This machine's CUDA facts for config.json, with ``problem`` set (and logged by the caller) when a
    GPU is there that torch cannot use (:func:`pipeline.gpu.cuda_problem`)."""
    from ..gpu import cuda_facts

    return cuda_facts().as_dict()


def training_arguments(config_cls, run: Run, settings: CommonSettings, device: str, has_eval: bool, **extra):
    """The TRL config (SFTConfig/DPOConfig/...) for ``settings``: our defaults, not TRL's.

    Weights stay in their load dtype (float32 on CPU) and ``dtype=auto`` adds mixed precision
    (:func:`pipeline.gpu.mixed_precision`): on CUDA bf16 at compute capability >= 8, fp16 below (a
    T4, where bf16 is emulated); on a CPU bf16 autocast where bf16 matmuls are native (AVX512-BF16/AMX,
    1.5x faster than float32 on this project's CPU). No gradient checkpointing unless asked; tqdm off
    (we write our own rows).
    """
    from ..gpu import device_capability, mixed_precision
    from ..models import native_bf16

    precision = mixed_precision(settings.dtype, device, device_capability(device),
                                cpu_bf16=device == "cpu" and native_bf16("cpu"))
    eval_kwargs = {}
    if has_eval:
        eval_kwargs = (dict(eval_strategy="steps", eval_steps=settings.eval_steps) if settings.eval_steps > 0
                       else dict(eval_strategy="no"))
    return config_cls(
        output_dir=str(run.checkpoints_dir),
        learning_rate=settings.learning_rate,
        lr_scheduler_type=settings.lr_scheduler,
        warmup_steps=settings.warmup_ratio,  # a float < 1 is a ratio of the total steps (transformers 5)
        num_train_epochs=settings.epochs,
        max_steps=settings.max_steps,
        per_device_train_batch_size=settings.batch_size,
        per_device_eval_batch_size=settings.batch_size,
        gradient_accumulation_steps=settings.grad_accum,
        gradient_checkpointing=settings.gradient_checkpointing,
        seed=settings.seed,
        data_seed=settings.seed,
        logging_steps=settings.logging_steps,
        save_strategy="steps",
        save_steps=settings.save_steps,
        save_total_limit=settings.save_total_limit,
        **precision,
        use_cpu=device == "cpu",
        report_to=[],
        disable_tqdm=True,
        dataloader_num_workers=0,
        remove_unused_columns=True,
        **eval_kwargs,
        **extra,
    )


class TrainerMixin:
    """Put before a TRL trainer class: counts the real tokens of every training batch into
    ``self.token_counter``, and builds checkpoints in a staging folder, then renames them into place."""

    def __init__(self, *args, **kwargs):
        self.token_counter = TokenCounter()
        super().__init__(*args, **kwargs)

    def training_step(self, model, inputs, *args, **kwargs):
        self.token_counter.add(inputs)
        return super().training_step(model, inputs, *args, **kwargs)

    def _save_checkpoint(self, model, trial):
        """Every rank saves into the staging folder (rank files such as ``rng_state_1.pth`` are per
        process); only rank 0 clears it before and renames it into place after, between barriers."""
        final_root = Path(self.args.output_dir)
        staging = final_root / STAGING
        main = self.is_world_process_zero()
        if main:
            shutil.rmtree(staging, ignore_errors=True)
        self.accelerator.wait_for_everyone()
        self.args.output_dir = str(staging)
        try:
            super()._save_checkpoint(model, trial)
        except BaseException as error:
            # torch.save's zip writer reports a full disk as a RuntimeError ("unexpected pos ..."), not ENOSPC
            disk_full = isinstance(error, RuntimeError) and shutil.disk_usage(final_root).free < FULL_DISK_BYTES
            shutil.rmtree(staging, ignore_errors=True)
            if disk_full:
                raise OSError(errno.ENOSPC, f"No space left on device ({str(error).splitlines()[0][:120]})") from error
            raise
        finally:
            self.args.output_dir = str(final_root)
        self.accelerator.wait_for_everyone()
        if main:
            for folder in sorted(staging.glob("checkpoint-*")):
                target = final_root / folder.name
                shutil.rmtree(target, ignore_errors=True)
                os.replace(folder, target)
            shutil.rmtree(staging, ignore_errors=True)
        self.accelerator.wait_for_everyone()
        if self.args.should_save:
            from transformers.trainer_utils import rotate_checkpoints

            rotate_checkpoints(output_dir=str(final_root), save_total_limit=self.args.save_total_limit,
                               best_model_checkpoint=self.state.best_model_checkpoint, use_mtime=False)


def last_checkpoint(run: Run) -> str | None:
    """The newest complete checkpoint folder of ``run`` (None if there is none)."""
    from transformers.trainer_utils import get_last_checkpoint

    if not run.checkpoints_dir.is_dir():
        return None
    return get_last_checkpoint(str(run.checkpoints_dir))


def save_adapter(model, tokenizer, run: Run, adapter_name: str = "default") -> Path:
    """Save the trained LoRA adapter (only it) to ``run/adapter`` atomically (rank 0 only)."""
    if not is_main_process():
        return run.adapter_dir
    with atomic_dir(run.adapter_dir) as tmp:
        model.save_pretrained(str(tmp), selected_adapters=[adapter_name] if adapter_name != "default" else None)
        if adapter_name != "default":  # PEFT saves a named adapter in a subfolder; the contract wants it at the root
            for item in (tmp / adapter_name).iterdir():
                os.replace(item, tmp / item.name)
            (tmp / adapter_name).rmdir()
        tokenizer.save_pretrained(str(tmp))
    return run.adapter_dir


@contextlib.contextmanager
def cancellable(stopper: StopOnSignal) -> Iterator[None]:
    """Route SIGTERM/SIGINT to ``stopper`` while training (the runner's Cancel sends SIGTERM)."""
    previous = {sig: signal.signal(sig, stopper.request) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@contextlib.contextmanager
def user_errors(settings: CommonSettings, saving_to: Path) -> Iterator[None]:
    """Turn out-of-memory and disk-full failures into one-line UserErrors with the fix."""
    import torch

    try:
        yield
    except torch.OutOfMemoryError:
        raise UserError(
            f"out of memory (batch_size={settings.batch_size}, max_length={settings.max_length}, "
            f"4-bit={'on' if settings.load_in_4bit else 'off'}); try a smaller --batch-size with more "
            "--grad-accum, --4bit, a shorter --max-length, or --gradient-checkpointing."
        ) from None
    except RuntimeError as e:
        if "out of memory" in str(e).lower() or "can't allocate memory" in str(e).lower():
            raise UserError(f"out of memory ({str(e).splitlines()[0][:120]}); try a smaller --batch-size, --4bit, "
                            "a shorter --max-length, or --gradient-checkpointing.") from None
        raise
    except OSError as e:
        if e.errno == errno.ENOSPC:
            raise UserError(f"disk full while writing under {saving_to}; free some space and run again with "
                            "--resume (the last complete checkpoint was kept).") from None
        raise


def load_for_training(settings: CommonSettings, log: Callable, purpose: str = "sft"):
    """(model, tokenizer, backend, model_path) for the hf backend, ready for PEFT."""
    from ..models import load_model, resolve_model_path

    # dtype auto loads float32 on CPU; bf16 then comes from autocast (see training_arguments), so a
    # LoRA delta merged into these weights (DPO) is not rounded away by bf16's 8-bit mantissa.
    check_gpu_memory(purpose, settings, resolve_model_path(settings.model, log=log), log=log)
    model, tokenizer, backend, model_path = load_model(settings.model, settings.load_options(), log=log, purpose=purpose)
    check_targets(model, settings)
    return model, tokenizer, backend, model_path


def check_gpu_memory(kind: str, settings: CommonSettings, model_path: Path, merged_float32: bool = False,
                     log: Callable = print) -> dict | None:
    """Before loading on CUDA: refuse a run whose memory estimate exceeds this GPU, naming the fix
    (:func:`pipeline.gpu_fit.check_fits`); nothing to check on a CPU."""
    import torch

    from ..gpu import local_rank
    from ..gpu_fit import GIB, Plan, check_fits

    if settings.device == "cpu" or not torch.cuda.is_available():
        return None
    gpu = torch.cuda.get_device_properties(local_rank())
    estimate = check_fits(Path(model_path) / "config.json", Plan.from_settings(kind, settings, merged_float32),
                          gpu.total_memory, gpu.name)
    log(f"GPU memory estimate: {estimate['total'] / GIB:.1f} GiB of {gpu.total_memory / GIB:.1f} GiB on {gpu.name}")
    return estimate


def check_targets(model, settings: CommonSettings) -> None:
    """Every LoRA target module must exist in the model (PEFT's own error is a traceback)."""
    from ..models import lora_targets

    present = {name.rsplit(".", 1)[-1] for name, _ in model.named_modules()}
    missing = [t for t in settings.targets() if t not in present]
    if missing:
        raise UserError(f"target_modules {', '.join(missing)}: not in {settings.model}; use 'all', 'attention-only' "
                        f"or some of {', '.join(lora_targets(model)) or 'its linear layers'}.")


def choose(settings: CommonSettings) -> str:
    """The backend name that will run these settings (``unsloth`` or ``hf``)."""
    from ..models import choose_backend

    return choose_backend(settings.backend, settings.device, purpose="sft").name


def check_new_run(run: Run) -> None:
    """Refuse to train over an existing run (its adapter and metrics would be mixed with the new ones)."""
    validate_name(run.name, "run name (the --out folder's name)")
    if run.config_path.exists() or run.has_adapter():
        raise UserError(f"{run.path} already holds a run; pick another --out, or pass --resume to continue it.")


def resume_inputs(run: Run, kind: str):
    """(settings, data_dir) recorded by the run being resumed: a resume uses the same config."""
    from .settings import settings_from_dict

    if not run.config_path.exists():
        raise UserError(f"{run.path}: nothing to resume (no config.json); start a new run without --resume.")
    if run.kind != kind:
        raise UserError(f"{run.path} is a {run.kind} run; resume it with `train {run.kind} --resume`.")
    if run.data_dir is None:
        raise UserError(f"{run.config_path}: no data folder recorded; start a new run with --data.")
    return settings_from_dict(kind, run.settings), run.data_dir


def run_inputs(out, kind: str, settings: CommonSettings, data_dir, parent, resume: bool):
    """``(run, settings, data_dir, parent run or None)`` of a run on top of another: a new run's checked
    inputs, or those the run being resumed recorded."""
    run = Run(Path(out).resolve())
    if resume:
        settings, data_dir = resume_inputs(run, kind)
        return run, settings, data_dir, run.parent
    settings.validate()
    check_new_run(run)
    return run, settings, data_dir, Run(Path(parent).resolve()) if parent else None


def _load_checkpoint_adapter(trainer, checkpoint: str, step: int) -> None:
    """Put a checkpoint's LoRA weights into the trainer's model, as training had left them."""
    from peft.utils import set_peft_model_state_dict
    from safetensors.torch import load_file

    set_peft_model_state_dict(trainer.model, load_file(str(Path(checkpoint) / "adapter_model.safetensors")))
    trainer.state.global_step = step


def _trim_metrics(run: Run, step: int) -> None:
    """On resume, drop rows logged after the checkpoint (those steps are trained again)."""
    from ..fsio import atomic_write_jsonl

    if run.metrics_path.exists() and is_main_process():
        atomic_write_jsonl(run.metrics_path, [r for r in run.metrics() if r.get("step", 0) <= step])


def execute(run: Run, kind: str, settings: CommonSettings, data_dir, log: Callable, build: Callable[[], BuiltTrainer],
            fingerprint: str, resume: bool = False, parent: Path | None = None) -> dict:
    """Build the trainer, train (resuming from the last checkpoint when asked), save, keep status.json true."""
    from transformers import PrinterCallback

    from ..chat_template import template_note
    from .metrics import MetricsCallback

    set_status = run.set_status if is_main_process() else (lambda *args, **kwargs: None)  # rank 0 writes
    set_status("running", pid=os.getpid(), step=0, max_steps=settings.max_steps, eta_s=None)
    stopper = StopOnSignal()
    try:
        with user_errors(settings, run.path), cancellable(stopper):
            built = build()
            trainer = built.trainer
            config = write_config(run, kind, settings, built.model_path, built.backend, Path(data_dir), fingerprint,
                                  parent=parent, extra={"chat_template": template_note(built.tokenizer), **built.config_extra})
            if config["cuda"]["problem"]:
                log(f"warning: {config['cuda']['problem']}")
            checkpoint = last_checkpoint(run) if resume else None
            checkpoint_step = int(checkpoint.rsplit("-", 1)[-1]) if checkpoint else 0
            if resume:
                _trim_metrics(run, checkpoint_step)
                log(f"resuming from {checkpoint}" if checkpoint else "no checkpoint yet: starting from step 0")
            elif run.metrics_path.exists() and is_main_process():
                run.metrics_path.unlink()
            metrics = MetricsCallback(run, trainer.token_counter, built.rows, log=log)
            trainer.remove_callback(PrinterCallback)  # it prints raw log dicts to stdout; our rows replace them
            trainer.add_callback(metrics)
            trainer.add_callback(stopper)
            log(f"{kind}: {built.train_examples} training examples on {built.backend.name}/{built.backend.device}")
            if 0 < settings.max_steps <= checkpoint_step:
                # The run had trained all its steps and died before saving the adapter; transformers
                # would train one step past max_steps from here, so the checkpoint is the adapter.
                _load_checkpoint_adapter(trainer, checkpoint, checkpoint_step)
            elif not stopper.requested:  # a cancel during loading stops here, before step 1
                trainer.train(resume_from_checkpoint=checkpoint)
            step = trainer.state.global_step
            if stopper.requested:
                set_status("cancelled", pid=None, step=step, max_steps=trainer.state.max_steps, eta_s=None,
                               checkpoint=last_checkpoint(run))
                log(f"cancelled at step {step}; the checkpoint is kept, resume with --resume")
                return _summary(run, built, step, metrics.last_row, state="cancelled")
            if trainer.eval_dataset is not None and settings.eval_steps <= 0:
                trainer.evaluate()  # its on_log event writes the eval_loss row
            save_adapter(trainer.model, built.tokenizer, run)
    except UserError as e:
        set_status("failed", pid=None, error=str(e))
        raise
    except BaseException as e:
        set_status("failed", pid=None, error=f"{type(e).__name__}: {str(e)[:300]}")
        raise
    set_status("done", pid=None, step=step, max_steps=step, eta_s=0)
    return _summary(run, built, step, metrics.last_row, state="done")


def _summary(run: Run, built: BuiltTrainer, step: int, last_row: dict, state: str) -> dict:
    return {
        "state": state,
        "run_dir": str(run.path),
        "adapter_dir": str(run.adapter_dir) if state == "done" else None,
        "backend": built.backend.name,
        "device": built.backend.device,
        "steps": step,
        "train_examples": built.train_examples,
        "dropped_too_long": built.dropped_too_long,
        "final_loss": last_row.get("loss"),
        **{key: last_row.get(metric) for key, metric in built.summary_metrics.items()},
    }
