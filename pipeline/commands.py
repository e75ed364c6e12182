"""The foundation's commands: ``models``, ``generate`` and ``doctor``."""

from __future__ import annotations

import platform
import time

from .cli import add_command, add_model_flags, load_options
from .errors import UserError
from .generation import SAMPLING_FLAGS


def register(subparsers) -> None:
    p = add_command(subparsers, "models", run_models,
                    "resolve a model spec and describe it (parameters, architecture, LoRA targets, template, backend)")
    add_model_flags(p)

    p = add_command(subparsers, "generate", run_generate, "generate a reply to one prompt, streamed to the terminal")
    add_model_flags(p)
    p.add_argument("--prompt", required=True, help="what to ask the model")
    p.add_argument("--system", default=None, help="optional system prompt")
    SAMPLING_FLAGS.add_to(p)
    p.add_argument("--adapter", default=None, metavar="RUN_OR_DIR",
                   help="serve a trained policy: a run folder (a DPO run stacks its SFT parent), an adapter folder "
                        "or a Hub adapter id; the base defaults to the one it was trained on")
    p.set_defaults(model=None, load_in_4bit=None)  # None: 'default', or the adapter's own base, loaded as it trained

    p = add_command(subparsers, "doctor", run_doctor, "check versions, CPU/GPU, backends and the default model")
    p.add_argument("--skip-model", action="store_true", help="do not load the default model")


def run_models(args, log) -> dict:
    from .models import describe_model

    info = describe_model(args.model, load_options(args), log=log)
    if not args.json:
        for key in ("path", "licence", "architecture", "parameters", "layers", "context_length", "lora_target_modules",
                    "chat_template_note"):
            log(f"{key}: {info[key]}")
        log(f"backend: {info['backend']['name']} ({info['backend']['reason']})")
        return {}
    return info


def run_generate(args, log) -> dict:
    from .generation import GenerationStats, as_messages, stream_chat
    from .models import load_model

    as_messages(args.prompt, args.system)  # an empty prompt fails before a model loads
    settings = SAMPLING_FLAGS.from_args(args)
    stats = GenerationStats()
    if args.adapter:
        from .serving.variants import Variants

        variants = Variants.from_run(args.adapter, base=args.model, options=load_options(args), log=log)
        backend = variants.backend
        stream = variants.stream(variants.policy, args.prompt, settings, system=args.system, stats=stats)
    else:
        model, tokenizer, backend, _ = load_model(args.model or "default", load_options(args), log=log)
        stream = stream_chat(model, tokenizer, args.prompt, settings, system=args.system, stats=stats)
    pieces = []
    for piece in stream:
        pieces.append(piece)
        log(piece, end="")
    log("")
    for notice in stats.notices:
        log(f"notice: {notice}")
    return {"text": "".join(pieces), "backend": backend.name, **stats.as_dict()}


def run_doctor(args, log) -> dict:
    import torch

    from .models import default_model_dir, ensure_default_model, package_versions

    versions = package_versions(("torch", "transformers", "peft", "trl", "datasets", "huggingface_hub", "accelerate",
                                 "bitsandbytes", "gradio", "unsloth"))
    from .models import device_summary
    from .gpu_fit import presets_for

    summary = device_summary()  # unsloth is looked for, not imported: doctor runs before any training
    report = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu_count": torch.get_num_threads(),
        "cuda": torch.cuda.is_available(),
        "cuda_facts": summary["cuda"],
        "cuda_problem": summary["problem"],
        "gpus": summary["gpus"],
        "backend": summary["backend"],
        "backend_reason": summary["reason"],
        "versions": versions,
    }
    if summary["cuda"]["memory_bytes"]:
        report["gpu_presets"] = presets_for(summary["cuda"]["memory_bytes"][0])
    if not args.skip_model:
        try:
            path = ensure_default_model(log=log)
            start = time.perf_counter()
            from .models import load_model

            load_model("default")
            report.update(default_model=str(path), default_model_ok=True,
                          default_model_load_s=round(time.perf_counter() - start, 2))
        except UserError as e:
            report.update(default_model=str(default_model_dir()), default_model_ok=False, default_model_error=str(e))
    if not args.json:
        for key, value in versions.items():
            log(f"{key:16} {value or 'not installed'}")
        log(f"device: {'CUDA: ' + ', '.join(report['gpus']) if report['cuda'] else 'CPU only'}")
        log(f"backend: {summary['backend']} ({summary['reason']})")
        if summary["problem"]:
            log(f"WARNING: {summary['problem']}")
        for row in report.get("gpu_presets", []):
            log(f"preset {row['model']:44} {row['estimate_gib']:5.1f} GiB (4-bit SFT) {'fits' if row['fits'] else 'too big'}")
        if "default_model_ok" in report:
            log(f"default model: {'ok' if report['default_model_ok'] else report['default_model_error']}")
    return report
