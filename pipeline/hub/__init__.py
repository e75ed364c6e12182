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

Files: ``client.py`` (auth, retries, one idempotent commit), ``datasets.py``, ``runs.py`` (adapters,
model card, pull), ``space.py``, ``cli.py`` (``push``, ``pull``, ``deploy-space``). Merging adapters
into one or into the base weights is :mod:`pipeline.merge`.
"""

from .client import PushResult, check_repo_id, connect, endpoint, push_folder, repo_url, resolve_token
from .datasets import dataset_card_text, dataset_splits, push_dataset
from ..adapters import base_model_id
from .runs import model_card_text, pull_adapter, push_run
from .space import deploy_space, space_hardware_choices, space_readme_text

__all__ = ["PushResult", "check_repo_id", "connect", "endpoint", "push_folder", "repo_url", "resolve_token",
           "dataset_card_text", "dataset_splits", "push_dataset", "base_model_id", "model_card_text", "pull_adapter",
           "push_run", "deploy_space", "space_hardware_choices", "space_readme_text"]
