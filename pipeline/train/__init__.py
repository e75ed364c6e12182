"""Training: QLoRA SFT and DPO on top of it, run as child-process jobs.

settings.py  the settings of each kind of run (typed, documented), the presets, and KINDS: the
             registry of run kinds (settings class, trainer function, CLI help, parent kind)
losses.py    LOSSES: DPO's family of losses, one row each (TRL trainer, reference, data shape, knobs)
flags.py     settings <-> command-line flags (generated from the fields; settings_argv for the runner)
common.py    the trainer interface (TrainFunction, BuiltTrainer) and execute(): config.json,
             TrainingArguments, atomic checkpoints, resume, cancel, OOM/disk-full errors
sft.py       TRL SFTTrainer (+ Unsloth via unsloth_backend.py)
dpo.py       every loss in losses.py on the merged SFT policy
attention.py causal attention per packed example (padding-free packed rows)
metrics.py   metrics.jsonl rows (real tokens/s, ETA, log-ratio drift + warning), cancel callback
runner.py    jobs: start_job / cancel / resume / job_status / list_runs, one at a time per workspace
sweep.py     beta sweep table
cli.py       `train KIND` for each registered kind, `train sweep-beta` and `runs`
"""
