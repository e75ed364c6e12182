"""An instruction data set (Alpaca, ShareGPT, ... see :mod:`pipeline.data.formats`): its answers
become posts whose brief is already written."""

from __future__ import annotations

from ..formats import detect_format, to_messages
from ..post import Post
from .base import IngestResult, SourceFiles
from .jsonl import SUFFIXES, records

NAME = "instructions"
LABEL = "instruction data set"
MAX_CHARS = None
EXPECTS = "a .jsonl/.json file in alpaca, sharegpt, messages, dolly or prompt-completion format"


def detect(files: SourceFiles) -> bool:
    return files.suffix in SUFFIXES


def read(files: SourceFiles) -> IngestResult:
    rows = records(files)
    path = files.where(files.name)
    fmt = detect_format(rows[0][1], f"{path}:{rows[0][0]} (no 'text' field, and")
    notice = f"{files.name}: an instruction data set ({fmt}); its instructions are the briefs."
    result = IngestResult(files.path, NAME, notices=[notice])
    for number, row in rows:
        where = f"{path}:{number}"
        messages = to_messages(row, detect_format(row, where), where)
        users = [m for m in messages if m["role"] == "user"]
        systems = [m for m in messages if m["role"] == "system"]
        answer = messages[-1]["content"]
        if not users or not answer.strip():
            result.skipped["no instruction or empty answer"] += 1
            continue
        # A multi-turn conversation contributes its last exchange (the brief and the voice's answer).
        result.posts.append(Post(text=answer, source=files.name, platform=NAME, line=number,
                                 brief=users[-1]["content"], system=systems[0]["content"] if systems else None))
    return result
