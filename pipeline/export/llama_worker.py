"""The calls into llama.cpp (llama-cpp-python). Export runs them in a child process
(``python -m pipeline.export.llama_worker ...``), so that a failed assertion inside the C++ library
ends the child, never the app or the CLI calling it; :func:`greedy` (tests, bench) runs in-process.

    quantize IN.gguf OUT.gguf q8_0|q4_k_m     llama.cpp's own quantiser (llama_model_quantize)
    inspect FILE.gguf TOKEN_ID...              print, as JSON, what llama.cpp reads from the file:
                                               architecture, eos/eot ids, which ids end generation, chat template
"""

from __future__ import annotations

import ctypes
import json
import sys

FTYPES = {"q8_0": "LLAMA_FTYPE_MOSTLY_Q8_0", "q4_k_m": "LLAMA_FTYPE_MOSTLY_Q4_K_M"}


def quantize(source: str, target: str, quant: str) -> int:
    import llama_cpp

    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = getattr(llama_cpp, FTYPES[quant])
    return llama_cpp.llama_model_quantize(source.encode(), target.encode(), ctypes.byref(params))


def _meta(model, key: str) -> str | None:
    import llama_cpp

    buffer = ctypes.create_string_buffer(1 << 20)
    n = llama_cpp.llama_model_meta_val_str(model, key.encode(), buffer, len(buffer))
    return buffer.value.decode("utf-8", "replace") if n >= 0 else None


def inspect(path: str, token_ids: list[int]) -> dict:
    import llama_cpp

    llama_cpp.llama_backend_init()
    params = llama_cpp.llama_model_default_params()
    params.vocab_only = True
    model = llama_cpp.llama_model_load_from_file(path.encode(), params)
    if not model:
        raise SystemExit(f"llama.cpp could not load {path}")
    try:
        vocab = llama_cpp.llama_model_get_vocab(model)
        return {"architecture": _meta(model, "general.architecture"), "chat_template": _meta(model, "tokenizer.chat_template"),
                "eos": llama_cpp.llama_vocab_eos(vocab), "eot": llama_cpp.llama_vocab_eot(vocab),
                "n_vocab": llama_cpp.llama_vocab_n_tokens(vocab), "tokenizer": _meta(model, "tokenizer.ggml.model"),
                "end_of_generation": {str(i): bool(llama_cpp.llama_vocab_is_eog(vocab, i)) for i in token_ids}}
    finally:
        llama_cpp.llama_model_free(model)


def greedy(path: str, prompt_ids: list[int], max_new_tokens: int, end_ids: list[int], *, threads: int | None = None,
           lora: str | None = None) -> tuple[list[int], float]:
    """Greedy decoding of ``prompt_ids`` in llama.cpp: the new token ids (stopping after one of
    ``end_ids``) and the seconds it took, prompt processing included (model loading not)."""
    import time

    from llama_cpp import Llama

    llm = Llama(model_path=path, n_ctx=len(prompt_ids) + max_new_tokens + 8, n_threads=threads,
                n_threads_batch=threads, lora_path=lora, verbose=False)
    out, start = [], time.perf_counter()
    try:
        for token in llm.generate(prompt_ids, top_k=1, top_p=1.0, min_p=0.0, temp=0.0, repeat_penalty=1.0):
            out.append(int(token))
            if token in end_ids or len(out) >= max_new_tokens:
                break
    finally:
        llm.close()
    return out, time.perf_counter() - start


def main(argv: list[str]) -> int:
    command, *rest = argv
    if command == "quantize":
        return 1 if quantize(*rest) else 0
    if command == "inspect":
        print(json.dumps(inspect(rest[0], [int(i) for i in rest[1:]])))
        return 0
    raise SystemExit(f"unknown command {command!r}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
