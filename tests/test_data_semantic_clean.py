"""Semantic cleaning against a loopback OpenAI-compatible server that answers fixed labels (a stand-in
teacher): on its own and as the build's step between dedupe and engagement."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from pipeline.data import BuildSettings, build_dataset
from pipeline.data.post import Post
from pipeline.data.semantic_clean import parse_label, semantic_clean
from pipeline.errors import UserError
from pipeline.fsio import read_jsonl
from pipeline.teacher import make_teacher

# What the stand-in teacher answers for a post containing the key (chatty, as real models are).
ANSWERS = {
    "50% off": "promotion",
    "Flash sale": "Label: Promotion.",
    "Use code": '{"label": "promotion"}',
    "Join my webinar": "promotion",
    "https://example.com/x": "bare link",
    "thanks!": "Reply fragment",
    "RT @": "someone else’s words (a repost)",
    "Gratitude": "I am not able to help with that request.",
}
OWN = ["I rewrote our deploy script in an afternoon and cut release time from an hour to ten minutes.",
       "Hiring lesson: the best interview question I know is 'what did you change your mind about last year?'"]


class FakeTeacher:
    def __init__(self):
        self.asked = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                asked = body["messages"][-1]["content"]
                if "<<<\n" in asked:  # a label to give
                    post = asked.split("<<<\n", 1)[1].split("\n>>>", 1)[0]
                    answer = next((a for key, a in ANSWERS.items() if key in post), "keep")
                else:  # the build's other questions to its teacher (briefs)
                    answer = "Write a short post about something you learned at work this week."
                server.asked += 1
                payload = json.dumps({"choices": [{"message": {"role": "assistant", "content": answer}}]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


@pytest.fixture
def teacher_server():
    server = FakeTeacher()
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()


@pytest.mark.parametrize("reply, label", [
    ("keep", "keep"), ("Keep.", "keep"), ("**Bare link**", "bare link"), ('{"label": "reply fragment"}', "reply fragment"),
    ("Someone else's words: it is a quote.", "someone else's words"), ("promotion, not keep", "promotion"),
    ("This looks like a repost", "someone else's words"), ("It could be promotion or a bare link", None),
    ("", None), ("I cannot label this.", None),
])
def test_parse_label(reply, label):
    assert parse_label(reply) == label


def test_labels_drop_posts_by_reason_with_examples_and_never_rewrite(teacher_server, tmp_path):
    posts = [Post(t, "in.csv") for t in [
        *OWN, "50% off all courses this week only!", "Flash sale: templates at half price.", "Use code VOICE for 20%.",
        "Join my webinar on Friday, seats are limited.", "https://example.com/x", "@dan thanks!",
        "RT @carol: a great thread about compilers", "Gratitude is a practice, not a feeling; I keep a list each night."]]
    originals = [p.text for p in posts]
    teacher = make_teacher(teacher_server.url, "fake", cache_dir=tmp_path, batch_size=4)
    result = semantic_clean(posts, teacher)
    assert [p.text for p in result.kept] == [*OWN, originals[-1]]  # the garbage answer keeps its post
    assert all(kept is original for kept, original in zip(result.kept, [posts[0], posts[1], posts[-1]]))
    assert [p.text for p in posts] == originals
    assert result.removed == {"promotion": 4, "bare link": 1, "reply fragment": 1, "someone else's words": 1}
    assert result.removed.examples["promotion"] == originals[2:5] and result.labels["unclear"] == 1
    report = result.report()
    assert report["kept"] == 3 and json.loads(json.dumps(report)) == report

    asked = teacher_server.asked
    again = semantic_clean(posts, make_teacher(teacher_server.url, "fake", cache_dir=tmp_path))  # cached: asked once
    assert teacher_server.asked == asked == len(posts) and again.removed == result.removed


def test_only_the_chosen_reasons_drop(teacher_server, tmp_path):
    posts = [Post("50% off all courses", "a"), Post("@dan thanks!", "a")]
    result = semantic_clean(posts, make_teacher(teacher_server.url, "fake", cache_dir=tmp_path), drop=("promotion",))
    assert [p.text for p in result.kept] == ["@dan thanks!"] and result.labels["reply fragment"] == 1


def test_local_teacher_in_process(tiny_model_dir, tmp_path):
    """The local model path: a random tiny model answers noise, which keeps every post as it was."""
    posts = [Post(t, "a") for t in [*OWN, "50% off all courses this week only!"]]
    result = semantic_clean(posts, make_teacher("local", local_model=str(tiny_model_dir), cache_dir=tmp_path))
    assert sum(result.labels.values()) == 3 and len(result.kept) + sum(result.removed.values()) == 3
    assert all(p.text == t for p, t in zip(posts, [*OWN, "50% off all courses this week only!"]))
    assert len(list(tmp_path.rglob("*.json"))) == 3  # cached like the briefs


def test_the_build_step_between_dedupe_and_engagement(teacher_server, tmp_path, tiny_model_dir):
    """``semantic_clean=True`` with the build's teacher: a counted step after dedupe, the report's block with
    examples, and the SFT answers are the kept posts as written."""
    rows = [*OWN, "50% off all courses this week only, today and tomorrow!",
            "Join my webinar on Friday, seats are limited, sign up now.", "Gratitude is a practice, not a feeling."]
    posts_file = tmp_path / "posts.jsonl"
    posts_file.write_text("".join(json.dumps({"text": t}) + "\n" for t in rows))
    settings = BuildSettings(model=str(tiny_model_dir), teacher=teacher_server.url, teacher_model="fake",
                             semantic_clean=True, cache_dir=tmp_path / "cache", validation_frac=0, test_frac=0)
    report = build_dataset([posts_file], tmp_path / "data", settings)
    names = [s["step"] for s in report.steps]
    assert names[names.index("dedupe") + 1] == "semantic_clean"
    step = report.steps[names.index("semantic_clean")]
    assert step == {"step": "semantic_clean", "kept": 3, "removed": {"promotion": 2},
                    "examples": {"promotion": rows[2:4]}}
    assert report.semantic_clean["removed"] == {"promotion": 2} and report.semantic_clean["labels"]["unclear"] == 1
    answers = [r["messages"][-1]["content"] for r in read_jsonl(tmp_path / "data" / "sft" / "train.jsonl")]
    assert sorted(answers) == sorted([*OWN, rows[-1]])
    saved = json.loads((tmp_path / "data" / "report.json").read_text())
    assert saved["semantic_clean"]["examples"] == {"promotion": rows[2:4]} and saved["settings"]["semantic_clean"]
    assert "left out (never rewritten): promotion 2." in (tmp_path / "data" / "README.md").read_text()


def test_the_build_step_needs_a_teacher(tmp_path):
    with pytest.raises(UserError, match="--semantic-clean needs a teacher to label the posts"):
        build_dataset([tmp_path / "posts.csv"], tmp_path / "data", BuildSettings(semantic_clean=True))
