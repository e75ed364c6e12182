"""Chat templates: the ones VoiceTune gives or adapts (and the one place a system prompt is folded), and
what an exported model needs to know about its template.

Chat templates that VoiceTune gives or adapts, and the one place a system prompt is folded.

A base (pretrained, not instruct) model has no chat template, yet SFT, DPO, Compare and Export all
render conversations with one. The embedded Gemma 3 base gets Gemma's own turn format
(``<start_of_turn>user`` / ``<start_of_turn>model`` turns, each closed by ``<end_of_turn>``), which
has no system role. Such a template gets :data:`SYSTEM_FOLD` in front: a system message is folded
into the first user turn (``system + "\\n\\n" + user``), as Google's Gemma instruct template does.
Because the folding lives inside the template, every renderer (the data build's report, TRL's
trainers, Compare, Evaluate, the GGUF's embedded template, the Ollama TEMPLATE read from it) folds
the same way.

What an exported model needs to know about its chat template: the end-of-turn token, the tokens
that end a reply, and the template's turn structure (which the Ollama Modelfile's Go TEMPLATE
is written from).

The structure is read by *rendering* the model's own (Jinja) chat template on probe conversations,
not by parsing it: a reply is ``prefix`` + one ``start + content + end`` block per message + the
generation prompt. :class:`TurnFormat` holds those pieces; :meth:`TurnFormat.render` rebuilds any
conversation from them and :func:`turn_format` refuses a template the pieces do not reproduce
exactly (a template whose turns depend on more than role and content).
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import UserError

_MARK = "\x1evoicetune-{}\x1e"
ROLES = ("system", "user", "assistant")


def _render(tokenizer, messages: list[dict], generation_prompt: bool) -> str:
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=generation_prompt)


def end_of_turn(tokenizer) -> str:
    """The special token the chat template puts right after an assistant reply (``<|im_end|>`` for
    ChatML); the tokenizer's eos token when the template puts none there."""
    if not tokenizer.chat_template:
        return tokenizer.eos_token
    reply = _MARK.format("reply")
    text = _render(tokenizer, [{"role": "user", "content": "hi"}, {"role": "assistant", "content": reply}], False)
    after = text[text.index(reply) + len(reply):]
    ids = tokenizer(after, add_special_tokens=False)["input_ids"] if after.strip() else []
    special = set(tokenizer.all_special_ids) | {i for i, t in tokenizer.added_tokens_decoder.items() if t.special}
    if ids and ids[0] in special:
        return tokenizer.convert_ids_to_tokens(ids[0])
    return tokenizer.eos_token


def end_tokens(tokenizer, *eos_ids) -> list[str]:
    """Every token that ends a reply: the end-of-turn token first, then the tokenizer's eos and the
    eos ids of the model/generation config (``eos_ids``: ints or lists), special tokens only."""
    special = set(tokenizer.all_special_tokens) | {t.content for t in tokenizer.added_tokens_decoder.values() if t.special}
    ids = []
    for value in eos_ids:
        ids += value if isinstance(value, (list, tuple)) else [value]
    names = [end_of_turn(tokenizer), tokenizer.eos_token] + [tokenizer.convert_ids_to_tokens(int(i)) for i in ids
                                                             if i is not None]
    out = []
    for name in names:
        if name and name in special and name not in out:
            out.append(name)
    return out


@dataclass(frozen=True)
class TurnFormat:
    """A chat template as text pieces: ``start[role] + content + end[role]`` per message."""

    start: dict[str, str]
    end: dict[str, str]
    no_system: str
    """What the template writes before the first message when that is not a system message
    (a default system prompt, a BOS string, or nothing)."""
    generation_prompt: str
    """What opens the assistant's reply (``add_generation_prompt=True``)."""
    system_folded: bool = False
    """The template has no system role: the system prompt opens the first user turn
    (``start["system"]`` is that turn's opening, ``end["system"]`` the separator, and the user
    message right after it has no opening of its own)."""

    def render(self, messages: list[dict], generation_prompt: bool = True) -> str:
        text = "" if messages and messages[0]["role"] == "system" else self.no_system
        previous = None
        for message in messages:
            role = message["role"]
            start = "" if self.system_folded and previous == "system" and role == "user" else self.start[role]
            text += start + message["content"] + self.end[role]
            previous = role
        return text + (self.generation_prompt if generation_prompt else "")


def _strip_suffix(text: str, suffix: str, what: str) -> str:
    if not text.endswith(suffix):
        raise ValueError(what)
    return text[:len(text) - len(suffix)] if suffix else text


def turn_format(tokenizer) -> TurnFormat:
    """Read the template's pieces from renders of probe conversations; checked on 3-turn
    conversations with and without a system prompt (UserError if the pieces do not rebuild them)."""
    if not tokenizer.chat_template:
        raise UserError("the model has no chat template, so no Ollama TEMPLATE can be written; export --to gguf "
                        "and give the runtime a template yourself.")
    s, u1, a1, u2, a2 = (_MARK.format(n) for n in ("s", "u1", "a1", "u2", "a2"))
    conversation = [{"role": "system", "content": s}, {"role": "user", "content": u1},
                    {"role": "assistant", "content": a1}, {"role": "user", "content": u2},
                    {"role": "assistant", "content": a2}]
    try:
        text = _render(tokenizer, conversation, False)
        parts, rest = [], text
        for mark in (s, u1, a1, u2, a2):
            before, rest = rest.split(mark, 1)
            parts.append(before)
        parts.append(rest)
        p0, p1, p2, p3, p4, p5 = parts
        prompt_only = _render(tokenizer, conversation[:2], False)
        generation = _render(tokenizer, conversation[:2], True)[len(prompt_only):]
        assistant_end = p5
        user_start = p3[len(assistant_end):] if p3.startswith(assistant_end) else None
        if user_start is None or p2 != p4:
            raise ValueError("turns differ by position")
        user_end = _strip_suffix(p2, generation, "the generation prompt does not open the reply")
        folded = folds_system(tokenizer)
        system_end = p1 if folded else _strip_suffix(p1, user_start, "the system turn is not followed by a user turn")
        no_system_text = _render(tokenizer, conversation[1:], False)
        no_system = _strip_suffix(no_system_text.split(u1, 1)[0], user_start, "no user turn first")
    except (ValueError, IndexError) as e:  # a marker missing, or pieces that do not line up
        raise UserError(f"this chat template does not render as one block per message ({e}); export --to gguf "
                        "(the GGUF carries the template itself) and write the Ollama TEMPLATE by hand.") from None
    except Exception as e:  # noqa: BLE001 - a Jinja template may raise anything (e.g. "no system role")
        raise UserError(f"the chat template refused a probe conversation ({str(e).splitlines()[0][:160]}); export "
                        "--to gguf and write the Ollama TEMPLATE by hand.") from None
    fmt = TurnFormat(start={"system": p0, "user": user_start, "assistant": generation},
                     end={"system": system_end, "user": user_end, "assistant": assistant_end},
                     no_system=no_system, generation_prompt=generation, system_folded=folded)
    checks = [conversation[:4], conversation[1:4], conversation[1:2]]
    for messages in checks:
        for prompt in (True, False):
            if fmt.render(messages, prompt) != _render(tokenizer, messages, prompt):
                raise UserError("the chat template's turns depend on more than role and content, so an Ollama "
                                "TEMPLATE cannot reproduce it; export --to gguf and write the TEMPLATE by hand.")
    return fmt


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


def has_system_role(tokenizer) -> bool:
    """Whether the tokenizer's chat template renders a system message (folded or as its own turn)."""
    probe = [{"role": "system", "content": "\x1esystem\x1e"}, {"role": "user", "content": "hi"}]
    try:
        return "\x1esystem\x1e" in _render(tokenizer, probe, False)
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
