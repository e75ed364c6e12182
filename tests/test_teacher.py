"""The teacher: none/local/HTTP, batching with left padding, the disk cache, unreachable URLs,
and a real OpenAI-compatible server (`transformers serve`) on loopback."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from support.teacher_models import build_chatty_model, free_port

from pipeline.errors import UserError
from pipeline.teacher import chat_completions_url, make_teacher

CONVERSATIONS = [[{"role": "user", "content": "Write a short post about shipping on Fridays."}],
                 [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}],
                 [{"role": "user", "content": "List three reasons to write tests, one per line, with examples."}]]



@pytest.fixture(scope="module")
def chatty_model_dir(tmp_path_factory, tiny_model_dir) -> Path:
    return build_chatty_model(tmp_path_factory.mktemp("chatty"), tiny_model_dir)



def test_specs_and_unreachable_url(tmp_path):
    assert make_teacher("none") is None
    with pytest.raises(UserError, match="unknown teacher 'gpt'"):
        make_teacher("gpt")
    with pytest.raises(UserError, match="--teacher-model"):
        make_teacher("http://127.0.0.1:9", None, cache_dir=tmp_path / "cache")
    start = time.perf_counter()
    with pytest.raises(UserError, match=r"teacher http://127.0.0.1:\d+/v1/chat/completions is unreachable"):
        make_teacher(f"http://127.0.0.1:{free_port()}", "m", cache_dir=tmp_path / "cache")
    assert time.perf_counter() - start < 5
    assert not (tmp_path / "cache").exists()
    assert chat_completions_url("http://h:1/v1/") == "http://h:1/v1/chat/completions"


def test_local_batched_equals_one_by_one_and_is_cached(chatty_model_dir, tmp_path):
    batched = make_teacher("local", local_model=str(chatty_model_dir), cache_dir=tmp_path / "a", batch_size=3)
    replies = batched.chat(CONVERSATIONS, max_new_tokens=8)
    assert len(replies) == 3 and all(len(r.split()) >= 2 for r in replies) and len(set(replies)) == 3
    single = make_teacher("local", local_model=str(chatty_model_dir), cache_dir=tmp_path / "b", batch_size=1)
    # Left padding + attention mask: a row's greedy answer does not depend on its batch neighbours.
    assert single.chat(CONVERSATIONS, max_new_tokens=8) == replies
    assert batched.generated == 3 and batched.cache_hits == 0
    again = make_teacher("local", local_model=str(chatty_model_dir), cache_dir=tmp_path / "a")
    assert again.chat(CONVERSATIONS + [CONVERSATIONS[0]], max_new_tokens=8) == replies + [replies[0]]
    assert again.generated == 0 and again.cache_hits == 4 and again._model is None  # never loaded
    assert len(list((tmp_path / "a").rglob("*.json"))) == 3
    assert again.chat(CONVERSATIONS[:1], max_new_tokens=9) and again.generated == 1  # other params: asked again


@pytest.mark.slow
def test_http_teacher_against_transformers_serve(tiny_model_dir, tmp_path):
    port = free_port()
    serve = Path(sys.executable).with_name("transformers")
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    server = subprocess.Popen([str(serve), "serve", str(tiny_model_dir), "--port", str(port), "--host", "127.0.0.1"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 90
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert server.poll() is None and time.time() < deadline, "transformers serve did not start"
                time.sleep(0.5)
        os.environ["VT_TEST_TEACHER_KEY"] = "sk-test-not-logged"
        teacher = make_teacher(f"http://127.0.0.1:{port}", str(tiny_model_dir), cache_dir=tmp_path / "cache",
                               api_key_env="VT_TEST_TEACHER_KEY", batch_size=2, timeout_s=60)
        replies = teacher.chat(CONVERSATIONS, max_new_tokens=6)
        assert len(replies) == 3 and all(isinstance(r, str) for r in replies) and teacher.generated == 3
        assert teacher.chat(CONVERSATIONS, max_new_tokens=6) == replies and teacher.cache_hits == 3
        cached = "".join(p.read_text() for p in (tmp_path / "cache").rglob("*.json"))
        assert "sk-test" not in cached
        # The builder over HTTP: briefs and rewrites asked of the server (the tiny model's answers are
        # noise, so they fall back to the template and the rule rewrite, and are counted).
        from pipeline.data import BuildSettings, build_dataset

        shares = Path(__file__).resolve().parents[1] / "examples" / "Shares.csv"
        report = build_dataset([shares], tmp_path / "data", BuildSettings(
            model=str(tiny_model_dir), teacher=f"http://127.0.0.1:{port}/v1", teacher_model=str(tiny_model_dir),
            teacher_key_env="VT_TEST_TEACHER_KEY", negatives="teacher", cache_dir=tmp_path / "cache",
            brief_max_new_tokens=6, negative_max_new_tokens=6))
        assert report.teacher["teacher_generated"] == 20 and report.counts["dpo_pairs"] == 10
        assert report.counts["brief_fallbacks"] + report.counts["negative_fallbacks"] <= 20
        assert "sk-test" not in (tmp_path / "data" / "report.json").read_text()
        wrong = make_teacher(f"http://127.0.0.1:{port}", "no-such-model", cache_dir=tmp_path / "c2", max_retries=0)
        with pytest.raises(UserError, match=f"teacher http://127.0.0.1:{port}/v1/chat/completions"):
            wrong.chat(CONVERSATIONS[:1], max_new_tokens=4)
    finally:
        os.environ.pop("VT_TEST_TEACHER_KEY", None)
        server.terminate()
        server.wait(timeout=30)
