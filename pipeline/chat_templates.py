"""Chat templates that VoiceTune gives or adapts, and the one place a system prompt is folded.

A base (pretrained, not instruct) model has no chat template, yet SFT, DPO, Compare and Export all
render conversations with one. The embedded Gemma 3 base gets Gemma's own turn format
(``<start_of_turn>user`` / ``<start_of_turn>model`` turns, each closed by ``<end_of_turn>``), which
has no system role. Such a template gets :data:`SYSTEM_FOLD` in front: a system message is folded
into the first user turn (``system + "\\n\\n" + user``), as Google's Gemma instruct template does.
Because the folding lives inside the template, every renderer (the data build's report, TRL's
trainers, Compare, Evaluate, the GGUF's embedded template, the Ollama TEMPLATE read from it) folds
the same way.
"""

from __future__ import annotations

SYSTEM_SEPARATOR = "\n\n"

SYSTEM_FOLD = (
    "{%- if messages and messages[0]['role'] == 'system' -%}"
    "{%- if messages|length > 1 and messages[1]['role'] == 'user' -%}"
    "{%- set messages = [{'role': 'user', 'content': messages[0]['content'] + '\\n\\n' + messages[1]['content']}]"
    " + messages[2:] -%}"
    "{%- else -%}"
    "{%- set messages = [{'role': 'user', 'content': messages[0]['content']}] + messages[1:] -%}"
    "{%- endif -%}"
    "{%- endif -%}"
)
"""A Jinja preamble that turns a leading system message into the start of the first user turn."""

GEMMA_TURNS = (
    "{{ bos_token }}"
    "{%- for message in messages -%}"
    "{%- if message['role'] == 'system' -%}"
    "{{ raise_exception('Gemma turns have no system role') }}"
    "{%- endif -%}"
    "{{ '<start_of_turn>' + ('model' if message['role'] == 'assistant' else 'user') + '\n' }}"
    "{{ message['content'] + '<end_of_turn>\n' }}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{ '<start_of_turn>model\n' }}{%- endif -%}"
)
"""Gemma's turn format (user and model turns only); the content is kept verbatim (no trim)."""

GEMMA_TEMPLATE = SYSTEM_FOLD + GEMMA_TURNS
"""What the embedded Gemma 3 base trains and serves with."""

GEMMA_STOP = "<end_of_turn>"


def _render(tokenizer, messages: list[dict]) -> str:
    return tokenizer.apply_chat_template(messages, tokenize=False)


def has_system_role(tokenizer) -> bool:
    """Whether the tokenizer's chat template renders a system message (folded or as its own turn)."""
    probe = [{"role": "system", "content": "\x1esystem\x1e"}, {"role": "user", "content": "hi"}]
    try:
        return "\x1esystem\x1e" in _render(tokenizer, probe)
    except Exception:  # noqa: BLE001 - a Jinja template raises anything (Gemma 2: "System role not supported")
        return False


def folds_system(tokenizer) -> bool:
    """Whether the chat template writes a system prompt into the first user turn (no turn of its own)."""
    if not getattr(tokenizer, "chat_template", None) or not has_system_role(tokenizer):
        return False
    system, user = "\x1esystem\x1e", "\x1euser\x1e"
    folded = _render(tokenizer, [{"role": "system", "content": system}, {"role": "user", "content": user}])
    return folded == _render(tokenizer, [{"role": "user", "content": system + SYSTEM_SEPARATOR + user}])


def ensure_system_role(tokenizer) -> bool:
    """Give a chat template without a system role :data:`SYSTEM_FOLD` (returns whether it changed)."""
    template = getattr(tokenizer, "chat_template", None)
    if not isinstance(template, str) or has_system_role(tokenizer):
        return False
    tokenizer.chat_template = SYSTEM_FOLD + template
    return True


def template_note(tokenizer) -> str:
    """One line for cards and reports: which template renders conversations and where the system prompt goes."""
    template = getattr(tokenizer, "chat_template", None)
    if not template:
        return "no chat template: messages are joined as plain paragraphs"
    name = "Gemma turns (<start_of_turn>user/model ... <end_of_turn>)" if template == GEMMA_TEMPLATE else \
        "the model's own chat template"
    if folds_system(tokenizer):
        return f"{name}; no system role: the system prompt is folded into the first user turn (system, blank line, user)"
    return f"{name}; the system prompt is its own turn"
