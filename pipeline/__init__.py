"""VoiceTune's headless library: build a voice dataset, train SFT then DPO adapters, compare,
evaluate and publish. The Gradio app (``app.py``, ``ui/``) and the CLI (``python -m pipeline``)
are two faces of the same functions; nothing here imports gradio."""

__version__ = "0.1.0"
