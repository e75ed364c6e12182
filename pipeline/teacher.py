"""A teacher LLM: reverse instructions, negative rewrites and the evaluation's judge.

``make_teacher(spec)`` returns ``None`` for ``"none"`` (callers then use their deterministic
fallback), a :class:`LocalTeacher` for ``"local"`` (a model spec run in-process, loaded on first
use, batched generation with left padding) or an :class:`HttpTeacher` for an ``http(s)://`` URL
of any OpenAI-compatible ``/v1/chat/completions`` endpoint.

Every reply is cached on disk under a hash of (teacher identity, messages, parameters), so a
re-run asks only what it has not asked before. An HTTP teacher checks that its server answers
when it is made, so an unreachable URL fails before the caller writes anything.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

from .errors import UserError
from .fsio import atomic_write_json
from .workspace import voicetune_home

# Server answers worth asking again: rate limits and server-side failures.
RETRYABLE_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}


def default_cache_dir() -> Path:
    return voicetune_home() / "cache" / "teacher"


class Teacher:
    """Batched, cached chat completions. Subclasses implement ``_generate`` for one batch."""

    identity: str = ""
    """What the cache key is made of besides the messages (the model path, or URL + model name)."""

    def __init__(self, *, cache_dir: Path | None, batch_size: int):
        if batch_size < 1:
            raise UserError(f"teacher batch size must be at least 1 (got {batch_size}).")
        self.cache_dir = Path(cache_dir) if cache_dir else default_cache_dir()
        self.batch_size = batch_size
        self.cache_hits = 0
        self.generated = 0

    def chat(self, conversations: list[list[dict]], *, max_new_tokens: int = 256,
             temperature: float = 0.0) -> list[str]:
        """One reply per conversation (same order); cached replies are not asked again."""
        keys = [self._key(c, max_new_tokens, temperature) for c in conversations]
        replies: dict[str, str] = {}
        todo: dict[str, list[dict]] = {}
        for key, conversation in zip(keys, conversations):
            cached = self._cache_get(key)
            if cached is not None:
                replies[key] = cached
                self.cache_hits += 1
            else:
                todo.setdefault(key, conversation)  # identical conversations are asked once
        # Similar lengths together: less padding in a local batch, similar latency over HTTP.
        pending = sorted(todo, key=lambda k: sum(len(m.get("content", "")) for m in todo[k]))
        for start in range(0, len(pending), self.batch_size):
            batch = pending[start:start + self.batch_size]
            answers = self._generate([todo[k] for k in batch], max_new_tokens, temperature)
            for key, answer in zip(batch, answers):
                replies[key] = answer
                self._cache_put(key, answer)
                self.generated += 1
        return [replies[k] for k in keys]

    def _generate(self, conversations: list[list[dict]], max_new_tokens: int, temperature: float) -> list[str]:
        raise NotImplementedError

    def _key(self, conversation: list[dict], max_new_tokens: int, temperature: float) -> str:
        payload = json.dumps([self.identity, conversation, max_new_tokens, round(float(temperature), 4)],
                             ensure_ascii=False, sort_keys=True)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()

    def _cache_path(self, key: str) -> Path:
        return self.cache_dir / key[:2] / f"{key}.json"

    def _cache_get(self, key: str) -> str | None:
        path = self._cache_path(key)
        try:
            return json.loads(path.read_text(encoding="utf-8"))["reply"]
        except (OSError, ValueError, KeyError, TypeError):
            return None  # missing or unreadable: ask again (the new answer overwrites it)

    def _cache_put(self, key: str, reply: str) -> None:
        atomic_write_json(self._cache_path(key), {"teacher": self.identity, "reply": reply})


class LocalTeacher(Teacher):
    """A model spec run in this process; loaded on the first batch that needs it."""

    def __init__(self, model_spec: str = "default", *, cache_dir: Path | None = None, batch_size: int = 8):
        super().__init__(cache_dir=cache_dir, batch_size=batch_size)
        from .models import resolve_model_path

        self.model_spec = model_spec
        self.model_path = resolve_model_path(model_spec, log=lambda *a, **k: None)
        self.identity = f"local:{self.model_path}"
        self._model = None
        self._tokenizer = None

    def _load(self):
        if self._model is None:
            from .models import load_model

            self._model, self._tokenizer, _, _ = load_model(str(self.model_path), log=lambda *a, **k: None)
        return self._model, self._tokenizer

    def _generate(self, conversations: list[list[dict]], max_new_tokens: int, temperature: float) -> list[str]:
        import torch

        from .generation import chat_input_ids, context_length

        model, tokenizer = self._load()
        max_prompt = max(1, context_length(model) - max_new_tokens)
        notices: list[str] = []
        rows = [chat_input_ids(tokenizer, c, max_prompt, notices) for c in conversations]
        width = max(len(r) for r in rows)
        pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        # Left padding: every row's last prompt token sits in the last column, where generation starts.
        input_ids = torch.tensor([[pad_id] * (width - len(r)) + r for r in rows], device=model.device)
        attention = torch.tensor([[0] * (width - len(r)) + [1] * len(r) for r in rows], device=model.device)
        kwargs = dict(input_ids=input_ids, attention_mask=attention, max_new_tokens=max_new_tokens,
                      pad_token_id=pad_id, repetition_penalty=1.1)
        if temperature > 0:
            kwargs.update(do_sample=True, temperature=temperature, top_p=0.95)
        else:
            kwargs.update(do_sample=False)
        torch.manual_seed(0)
        with torch.no_grad():
            output = model.generate(**kwargs)
        return [tokenizer.decode(row[width:], skip_special_tokens=True).strip() for row in output]


class HttpTeacher(Teacher):
    """An OpenAI-compatible chat-completions endpoint; a batch is sent as concurrent requests."""

    def __init__(self, url: str, model: str | None, *, api_key_env: str = "OPENAI_API_KEY",
                 cache_dir: Path | None = None, batch_size: int = 8, max_retries: int = 3,
                 timeout_s: float = 60.0):
        super().__init__(cache_dir=cache_dir, batch_size=batch_size)
        if not model:
            raise UserError(f"teacher {url}: name the model to ask with --teacher-model (for `transformers "
                            "serve`, the model folder path it serves).")
        self.endpoint = chat_completions_url(url)
        self.model = model
        self.api_key_env = api_key_env
        self.max_retries = max(0, max_retries)
        self.timeout_s = timeout_s
        self.identity = f"{self.endpoint}#{model}"
        check_reachable(self.endpoint, timeout_s=min(timeout_s, 10.0))

    def _generate(self, conversations: list[list[dict]], max_new_tokens: int, temperature: float) -> list[str]:
        with ThreadPoolExecutor(max_workers=min(self.batch_size, len(conversations))) as pool:
            return list(pool.map(lambda c: self._ask(c, max_new_tokens, temperature), conversations))

    def _ask(self, conversation: list[dict], max_new_tokens: int, temperature: float) -> str:
        body = json.dumps({"model": self.model, "messages": conversation, "max_tokens": max_new_tokens,
                           "temperature": temperature, "stream": False}).encode("utf-8")
        headers = {"Content-Type": "application/json"}
        key = os.environ.get(self.api_key_env, "") if self.api_key_env else ""
        if key:
            headers["Authorization"] = f"Bearer {key}"
        last_problem = ""
        for attempt in range(self.max_retries + 1):
            if attempt:
                time.sleep(min(0.5 * 2 ** (attempt - 1), 8.0))
            request = urllib.request.Request(self.endpoint, data=body, headers=headers, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                    return _reply_text(json.loads(response.read().decode("utf-8")), self.endpoint)
            except urllib.error.HTTPError as e:
                detail = _short(e.read().decode("utf-8", "replace"))
                if e.code in (401, 403):
                    raise UserError(f"teacher {self.endpoint} refused the request (HTTP {e.code}); set a valid "
                                    f"key in the environment variable {self.api_key_env}.") from None
                if e.code not in RETRYABLE_STATUS:
                    raise UserError(f"teacher {self.endpoint} answered HTTP {e.code}: {detail}; check "
                                    "--teacher-model and the server.") from None
                last_problem = f"HTTP {e.code}: {detail}"
            except (urllib.error.URLError, TimeoutError, ConnectionError, socket.timeout) as e:
                last_problem = str(getattr(e, "reason", e)) or type(e).__name__
            except ValueError:
                raise UserError(f"teacher {self.endpoint} did not answer JSON; is it an OpenAI-compatible "
                                "/v1/chat/completions endpoint?") from None
        raise UserError(f"teacher {self.endpoint} failed after {self.max_retries + 1} tries ({last_problem}); "
                        "check the server or use --teacher none.")


def chat_completions_url(url: str) -> str:
    """``http://host:port``, ``.../v1`` or the full path -> the ``/v1/chat/completions`` URL."""
    url = url.rstrip("/")
    if url.endswith("/chat/completions"):
        return url
    if url.endswith("/v1"):
        return url + "/chat/completions"
    return url + "/v1/chat/completions"


def check_reachable(url: str, timeout_s: float = 10.0, who: str = "teacher",
                    fix: str = "start the server, fix --teacher, or use --teacher none") -> None:
    """Open a TCP connection to the URL's host; UserError (naming ``who`` and the ``fix``) if nothing
    listens there."""
    parts = urlsplit(url)
    if not parts.hostname:
        raise UserError(f"{who} URL {url!r} has no host; use e.g. http://127.0.0.1:8000.")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname, port), timeout=timeout_s):
            pass
    except OSError as e:
        reason = e.strerror or type(e).__name__
        raise UserError(f"{who} {url} is unreachable ({reason}); {fix}.") from None


def _reply_text(payload: dict, endpoint: str) -> str:
    try:
        content = payload["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError):
        raise UserError(f"teacher {endpoint} answered without choices[0].message.content; is it an "
                        "OpenAI-compatible chat endpoint?") from None
    return (content or "").strip()


def _short(text: str, limit: int = 160) -> str:
    return " ".join(text.split())[:limit]


def make_teacher(spec: str = "none", model: str | None = None, *, api_key_env: str = "OPENAI_API_KEY",
                 cache_dir: Path | None = None, local_model: str = "default", batch_size: int = 8,
                 max_retries: int = 3, timeout_s: float = 60.0) -> Teacher | None:
    """``none`` -> None; ``local`` -> ``local_model`` in-process; ``http(s)://...`` -> that endpoint + ``model``."""
    spec = (spec or "none").strip()
    if spec == "none":
        return None
    if spec == "local":
        return LocalTeacher(local_model, cache_dir=cache_dir, batch_size=batch_size)
    if spec.startswith(("http://", "https://")):
        return HttpTeacher(spec, model, api_key_env=api_key_env, cache_dir=cache_dir, batch_size=batch_size,
                           max_retries=max_retries, timeout_s=timeout_s)
    raise UserError(f"unknown teacher {spec!r}: use none, local, or an http(s):// URL of an OpenAI-compatible server.")
