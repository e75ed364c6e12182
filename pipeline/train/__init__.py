"""Training: QLoRA SFT and DPO on top of it, run as child-process jobs.

settings.py  SFTSettings / DPOSettings (typed, documented) and the quick/standard presets
data.py      reading sft/ and dpo/ JSONL in TRL's formats, with line-numbered errors
sft.py       TRL SFTTrainer (+ Unsloth via unsloth_backend.py); measure_sft_throughput for bench/
dpo.py       DPO/IPO/hinge/SimPO/ORPO/KTO on the merged SFT policy; measure_dpo_throughput
lm_head.py   the compact CPU LM head (reply tokens only) TRL's trainers and evaluation score through
common.py    run folder, config.json, TrainingArguments, atomic checkpoints, OOM/disk-full errors
metrics.py   metrics.jsonl rows (real tokens/s, ETA, KL estimate + warning), cancel callback
runner.py    jobs: start_job / cancel / resume / job_status / list_runs, one at a time per workspace
sweep.py     beta sweep table
cli.py       `train sft|dpo|sweep-beta` and `runs`
"""
