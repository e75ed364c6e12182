"""VoiceTune's headless library: build a voice dataset, train SFT then DPO adapters, compare,
evaluate and publish. The Gradio app (``app.py``, ``ui/``) and the CLI (``python -m pipeline``)
are two faces of the same functions; nothing here imports gradio."""

__version__ = "0.1.0"


def _silence_harmless_bitsandbytes_notice() -> None:
    """On a CPU with AVX512-BF16, importing bitsandbytes tries to fetch a fused 4-bit kernel from the Hub
    through the ``kernels`` package and logs "Failed to load CPU gemm_4bit_forward ..." when it cannot.
    Nothing is lost (bitsandbytes' own CPU kernels run instead, and nothing here may download code), but
    every training log opened with it and read like a failure: drop that one message."""
    import logging

    class DropKernelFetchNotice(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            return "gemm_4bit_forward from kernels-community" not in str(record.msg)

    logging.getLogger("bitsandbytes.backends.cpu.ops").addFilter(DropKernelFetchNotice())


_silence_harmless_bitsandbytes_notice()
