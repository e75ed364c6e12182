"""The Ollama ``Modelfile``: FROM the GGUF, a Go TEMPLATE equal to the model's chat template,
a ``PARAMETER stop`` per end token, the voice's system prompt, and Compare's sampling defaults.

Ollama renders TEMPLATE with Go's text/template over ``.Messages`` (each with ``.Role`` and
``.Content``); when a request has no system message and the Modelfile has a SYSTEM, Ollama puts
that system message first. Every literal piece is written as a quoted Go string, so no chat
template text (braces, quotes, trailing newlines) can be misread as template syntax.
"""

from __future__ import annotations

import json

from ..errors import UserError
from ..generation import SamplingSettings
from ..chat_template import ROLES, TurnFormat


def _go(text: str) -> str:
    """``{{ "text" }}``: a Go string literal (JSON's escapes are valid Go escapes; non-ASCII kept as is)."""
    return "{{ " + json.dumps(text, ensure_ascii=False) + " }}" if text else ""


def go_template(fmt: TurnFormat) -> str:
    """The Go text/template that renders ``.Messages`` as ``fmt`` does, with the generation prompt
    after a conversation that does not end on an assistant message."""
    branches = []
    for role in ROLES:
        keyword = "if" if not branches else "else if"
        start = _go(fmt.start[role])
        if fmt.system_folded and role == "user" and start:  # the system prompt already opened this turn
            start = '{{ if ne $last "system" }}' + start + "{{ end }}"
        branches.append(f'{{{{ {keyword} eq .Role "{role}" }}}}{start}{{{{ .Content }}}}{_go(fmt.end[role])}')
    first_not_system = '{{ if or (not .Messages) (ne (index .Messages 0).Role "system") }}' + _go(fmt.no_system) + "{{ end }}"
    # $last is the previous message's role inside the loop and the last one's after it.
    return ('{{ $last := "" }}' + (first_not_system if fmt.no_system else "")
            + "{{ range .Messages }}" + "".join(branches) + "{{ end }}{{ $last = .Role }}{{ end }}"
            + '{{ if ne $last "assistant" }}' + _go(fmt.generation_prompt) + "{{ end }}")


def _quoted(text: str, what: str) -> str:
    if '"""' in text:
        raise UserError(f'the {what} contains """, which a Modelfile cannot quote; remove it and export again.')
    return f'"""{text}"""'


def modelfile_text(gguf_name: str, fmt: TurnFormat, stops: list[str], system: str | None,
                   sampling: SamplingSettings = SamplingSettings()) -> str:
    """The Modelfile for ``gguf_name`` (a file next to it)."""
    lines = ["# Made by VoiceTune: ollama create NAME -f Modelfile && ollama run NAME", f"FROM ./{gguf_name}",
             f"TEMPLATE {_quoted(go_template(fmt), 'chat template')}"]
    if system:
        lines.append(f"SYSTEM {_quoted(system, 'system prompt')}")
    lines += [f"PARAMETER stop {json.dumps(stop)}" for stop in stops]
    lines += [f"PARAMETER temperature {sampling.temperature:g}", f"PARAMETER top_p {sampling.top_p:g}",
              f"PARAMETER top_k {sampling.top_k}", f"PARAMETER repeat_penalty {sampling.repetition_penalty:g}",
              f"PARAMETER num_predict {sampling.max_new_tokens}"]
    return "\n".join(lines) + "\n"
