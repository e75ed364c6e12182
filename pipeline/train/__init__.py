"""Training: QLoRA SFT and DPO on top of it, run as child-process jobs.

settings.py  SFTSettings / DPOSettings (typed, documented) and the quick/standard presets
flags.py     settings <-> command-line flags (generated from the fields; settings_argv for the runner)
sft.py       TRL SFTTrainer (+ Unsloth via unsloth_backend.py)
dpo.py       DPO/IPO/hinge/SimPO/ORPO/KTO on the merged SFT policy
lm_head.py   the compact CPU LM head (reply tokens only) TRL's trainers and evaluation score through
attention.py causal attention per packed example (padding-free packed rows)
common.py    config.json, TrainingArguments, atomic checkpoints, OOM/disk-full errors
metrics.py   metrics.jsonl rows (real tokens/s, ETA, log-ratio drift + warning), cancel callback
runner.py    jobs: start_job / cancel / resume / job_status / list_runs, one at a time per workspace
sweep.py     beta sweep table
cli.py       `train sft|dpo|sweep-beta` and `runs`
"""
