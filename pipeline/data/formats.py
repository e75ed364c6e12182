"""The six instruction-data formats, converted to and from TRL conversational ``messages``.

=====================  =================================================================
``messages``/``openai``  ``{"messages": [{"role", "content"}, ...]}`` (TRL and OpenAI chat
                         fine-tuning use the same shape, so both names write it)
``alpaca``               ``{"instruction", "input", "output"}``
``sharegpt``             ``{"conversations": [{"from": "system|human|gpt", "value"}, ...]}``
``dolly``                ``{"instruction", "context", "response"}``
``prompt-completion``    ``{"prompt", "completion"}`` (strings; TRL's message lists also read)
``instruction-response`` ``{"instruction", "input", "response"}``
=====================  =================================================================

A system prompt travels as an extra ``system`` key in the single-turn formats (many data sets do
this) and is lost only in ``prompt-completion``. Multi-turn conversations fit only ``messages``
and ``sharegpt``; converting one to a single-turn format is refused rather than silently cut.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import UserError
from ..fsio import atomic_write_json, atomic_write_jsonl

FORMATS = ("messages", "alpaca", "sharegpt", "openai", "dolly", "prompt-completion", "instruction-response")
_SHAREGPT_ROLES = {"human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant",
                   "system": "system", "chatgpt": "assistant", "bing": "assistant", "bard": "assistant"}
_TO_SHAREGPT = {"user": "human", "assistant": "gpt", "system": "system"}
# key -> (instruction field, context field, answer field)
_SINGLE_TURN = {
    "alpaca": ("instruction", "input", "output"),
    "dolly": ("instruction", "context", "response"),
    "instruction-response": ("instruction", "input", "response"),
}


def check_format(name: str) -> str:
    if name not in FORMATS:
        raise UserError(f"unknown format {name!r}: use one of {', '.join(FORMATS)}.")
    return name


def detect_format(row: dict, where: str = "") -> str:
    """The format of one record, from its keys; UserError showing the keys seen when none fits."""
    keys = set(row) if isinstance(row, dict) else set()
    if "messages" in keys:
        return "messages"
    if "conversations" in keys:
        return "sharegpt"
    if {"instruction", "output"} <= keys:
        return "alpaca"
    if {"instruction", "response"} <= keys:
        return "dolly" if "context" in keys else "instruction-response"
    if {"prompt", "completion"} <= keys:
        return "prompt-completion"
    seen = ", ".join(sorted(map(str, keys))) or "none"
    raise UserError(f"{where}: not a known instruction format (keys seen: {seen}); expected one of "
                    f"{', '.join(FORMATS)} (e.g. instruction/input/output for alpaca).")


def to_messages(row: dict, fmt: str, where: str = "") -> list[dict]:
    """One record in ``fmt`` -> a list of chat messages ending with the assistant's answer."""
    try:
        if fmt in ("messages", "openai"):
            messages = [{"role": m["role"], "content": m["content"]} for m in row["messages"]]
        elif fmt == "sharegpt":
            speakers = [t["from"] for t in row["conversations"] if t["from"] not in _SHAREGPT_ROLES]
            if speakers:
                raise UserError(f"{where}: unknown sharegpt speaker 'from': {speakers[0]!r}; use human, gpt or system.")
            messages = [{"role": _SHAREGPT_ROLES[t["from"]], "content": t["value"]} for t in row["conversations"]]
        elif fmt == "prompt-completion":
            prompt, completion = row["prompt"], row["completion"]
            messages = (prompt if isinstance(prompt, list) else [{"role": "user", "content": prompt}]) + (
                completion if isinstance(completion, list) else [{"role": "assistant", "content": completion}])
        else:
            instruction_key, context_key, answer_key = _SINGLE_TURN[fmt]
            user = str(row[instruction_key]).strip()
            context = str(row.get(context_key) or "").strip()
            if context:
                user = f"{user}\n\n{context}"
            messages = [{"role": "user", "content": user}, {"role": "assistant", "content": row[answer_key]}]
            if row.get("system"):
                messages.insert(0, {"role": "system", "content": row["system"]})
    except KeyError as e:
        raise UserError(f"{where}: a {fmt} record is missing {e}; fix that record.") from None
    except TypeError:
        raise UserError(f"{where}: a {fmt} record has the wrong shape (a list of turns was expected); fix that record.") from None
    roles = [m["role"] for m in messages if m["role"] not in ("system", "user", "assistant")]
    if roles:
        raise UserError(f"{where}: unknown role {roles[0]!r}; use system, user or assistant.")
    if not messages or messages[-1]["role"] != "assistant" or not all(isinstance(m["content"], str) for m in messages):
        raise UserError(f"{where}: a {fmt} record must end with an assistant answer and hold text only.")
    return messages


def from_messages(messages: list[dict], fmt: str, where: str = "") -> dict:
    """A list of chat messages -> one record in ``fmt``."""
    check_format(fmt)
    if fmt in ("messages", "openai"):
        return {"messages": messages}
    if fmt == "sharegpt":
        return {"conversations": [{"from": _TO_SHAREGPT[m["role"]], "value": m["content"]} for m in messages]}
    system = [m["content"] for m in messages if m["role"] == "system"]
    turns = [m for m in messages if m["role"] != "system"]
    if len(turns) != 2 or turns[0]["role"] != "user" or turns[1]["role"] != "assistant":
        raise UserError(f"{where}: a conversation with {len(turns)} turns does not fit {fmt} (one instruction, "
                        "one answer); convert to messages or sharegpt instead.")
    if fmt == "prompt-completion":
        return {"prompt": turns[0]["content"], "completion": turns[1]["content"]}
    instruction_key, context_key, answer_key = _SINGLE_TURN[fmt]
    record = {instruction_key: turns[0]["content"], context_key: "", answer_key: turns[1]["content"]}
    if system:
        record["system"] = system[0]
    return record


def read_records(path: Path, text: str | None = None) -> list[tuple[int, dict]]:
    """A ``.jsonl`` file (one object a line) or a ``.json`` array, as (line or index, record) pairs."""
    path = Path(path)
    if text is None:
        if not path.is_file():
            raise UserError(f"{path}: file not found; check the path.")
        try:
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError as e:
            raise UserError(f"{path}: not UTF-8 text (byte {e.object[e.start]:#04x} at offset {e.start}); "
                            "save the file as UTF-8.") from None
    stripped = text.lstrip()
    if not stripped:
        raise UserError(f"{path}: the file is empty; add records or pick another file.")
    if stripped.startswith("["):
        try:
            data = json.loads(stripped)
        except json.JSONDecodeError as e:
            raise UserError(f"{path}:{e.lineno}: bad JSON ({e.msg}); fix the file.") from None
        rows = list(enumerate(data, start=1))
    else:
        rows = []
        for number, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                try:
                    rows.append((number, json.loads(line)))
                except json.JSONDecodeError as e:
                    raise UserError(f"{path}:{number}: bad JSON ({e.msg}); fix or remove that line.") from None
    if not rows:
        raise UserError(f"{path}: no records (an empty JSON array); add records or pick another file.")
    for number, row in rows:
        if not isinstance(row, dict):
            raise UserError(f"{path}:{number}: expected a JSON object, got {type(row).__name__}.")
    return rows


def convert_file(src: Path, fmt: str, dst: Path) -> dict:
    """Convert an instruction file (format auto-detected) to ``fmt``; ``.json`` out writes an array."""
    check_format(fmt)
    rows = read_records(src)
    detected = detect_format(rows[0][1], f"{src}:{rows[0][0]}")
    out = []
    for number, row in rows:
        where = f"{src}:{number}"
        row_format = detect_format(row, where)
        if row_format != detected:
            raise UserError(f"{where}: this record is {row_format} but the file started as {detected}; "
                            "use one format per file.")
        out.append(from_messages(to_messages(row, row_format, where), fmt, where))
    if Path(dst).suffix == ".json":
        atomic_write_json(dst, out)
    else:
        atomic_write_jsonl(dst, out)
    return {"input": str(src), "detected": detected, "format": fmt, "records": len(out), "output": str(dst)}
