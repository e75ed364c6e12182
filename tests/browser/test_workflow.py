"""The whole workflow through the page, in headless Chromium, on the sample posts and a tiny Llama.

Dataset -> SFT (a few steps) -> DPO (a few steps) -> Compare (three columns, a pick) -> Evaluate (a job
followed across a reload, while a second project's dataset build runs in another tab) -> Publish to a
Hub look-alike on loopback; plus the bad inputs a visitor meets first (a file without
posts, an empty brief, a push without a token), each a short message in the page. One screenshot per
tab lands in test-output/screenshots/.
"""

from __future__ import annotations

import json
import re
import shutil
import time

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import REPO, AppProcess

pytestmark = [pytest.mark.browser, pytest.mark.slow]
TRAIN_TIMEOUT_MS = 240_000
EVAL_LIMIT = "2"
"""Held-out briefs Evaluate writes for: enough that it is still running when the other project's build ends."""


@pytest.fixture(scope="module")
def hub():
    from tests.support.hub_server import HubServer

    with HubServer() as fake:
        yield fake


@pytest.fixture(scope="module")
def studio(tmp_path_factory, hub):
    """The app on loopback, talking to the loopback Hub, with no token of its own."""
    tmp = tmp_path_factory.mktemp("workflow")
    env = {"HF_ENDPOINT": hub.endpoint, "HF_HUB_DISABLE_XET": "1", "HF_HUB_OFFLINE": "0", "HF_TOKEN": "",
           "HF_HOME": str(tmp / "hf-home"), "HF_HUB_DISABLE_PROGRESS_BARS": "1"}
    app = AppProcess(tmp / "projects", env=env)
    yield app
    app.stop()


def message(page, *fragments: str, timeout: float = 30_000) -> str:
    """Wait for a toast (gr.Error / gr.Warning) containing every fragment; close it; return its text."""
    toast = page.locator(".toast-body")
    for fragment in fragments:
        toast = toast.filter(has_text=fragment)
    toast.first.wait_for(timeout=timeout)
    text = toast.first.inner_text()
    for close in page.locator(".toast-close").all():
        close.click()
    page.locator(".toast-body").first.wait_for(state="detached")
    return text


def field(page, elem_id: str):
    return page.locator(f"#{elem_id} textarea, #{elem_id} input").first


def tab(page, name: str) -> None:
    page.get_by_role("tab", name=name).click()


def wait_for_text(page, elem_id: str, pattern: str, timeout: float) -> str:
    """Wait until element ``elem_id`` matches ``pattern``; an error message in the page fails at once."""
    target = page.locator(f"#{elem_id}").filter(has_text=re.compile(pattern)).first
    error = page.locator(".toast-body").first
    target.or_(error).wait_for(timeout=timeout)
    if not target.is_visible():
        pytest.fail(f"the page showed an error while waiting for {elem_id}: {error.inner_text()}")
    return page.locator(f"#{elem_id}").inner_text()


class Laps:
    """Seconds per step, printed and saved to test-output/browser-timings.json (for the report)."""

    def __init__(self):
        self.start = self.last = time.perf_counter()
        self.laps: dict[str, float] = {}

    def __call__(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = round(now - self.last, 1)
        self.last = now
        print(f"{name}: {self.laps[name]} s", flush=True)

    def save(self) -> None:
        self.laps["total"] = round(time.perf_counter() - self.start, 1)
        out = REPO / "test-output" / "browser-timings.json"
        out.parent.mkdir(exist_ok=True)
        out.write_text(json.dumps(self.laps, indent=2))


UNTRANSLATED = re.compile(r"\b(common|upload_text|errors|file|dropdown|dataframe|plot)\.[a-z_]+\b")
LINE_PATHS = """(id) => [...document.querySelectorAll('#' + id + ' g.mark-line path')].map(
    p => ({d: p.getAttribute('d') || '', stroke: p.getAttribute('stroke')}))"""


def drawn_lines(page, elem_id: str) -> list[str]:
    """The SVG paths of the lines plot ``elem_id`` draws with a colour and at least two points."""
    return [p["d"] for p in page.evaluate(LINE_PATHS, elem_id) if p["stroke"] and p["d"].count("L") >= 1]


def untranslated_keys(page) -> set[str]:
    """Gradio's i18n keys left in the page's text or in what it announces to screen readers."""
    text = page.evaluate("""() => document.body.innerText + ' ' +
        [...document.querySelectorAll('[role=status]')].map(e => e.textContent).join(' ')""")
    return {m.group(0) for m in UNTRANSLATED.finditer(text)}


def test_dataset_sft_dpo_compare_evaluate_publish(studio, hub, page, screenshot, tmp_path, tiny_model_dir):
    lap = Laps()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    try:
        workflow(studio, hub, page, screenshot, tmp_path, tiny_model_dir, lap)
    finally:
        lap.save()
    assert not errors, errors


def workflow(studio, hub, page, screenshot, tmp_path, model_dir, lap):
    page.goto(studio.url)
    tab(page, "Dataset")
    page.locator("#posts-files").get_by_text("posts.csv").wait_for()  # the sample project is seeded and open
    # The base model: a 2-layer random Llama with the default model's tokenizer and chat template, so the
    # three training/generation steps take seconds; every page path is the same as with `default`.
    # The page reads model folders only inside the projects root (or the model cache), so it goes there.
    inside_root = studio.root / ".models" / "tiny-llama"
    shutil.copytree(model_dir, inside_root, dirs_exist_ok=True)
    model = page.locator("#base-model input")
    model.fill(str(inside_root))
    model.press("Enter")

    # Bad input 1: a file with no posts column is refused with the columns it has.
    bad = tmp_path / "notes.csv"
    bad.write_text("title,likes\nhello,3\n")
    page.locator("#posts-upload input[type=file]").set_input_files(str(bad))
    page.locator("#posts-files").get_by_text("notes.csv").wait_for()
    page.locator("#build-dataset").click()
    text = message(page, "notes.csv", "no text column")
    assert "title, likes" in text and "Traceback" not in text
    page.locator("#posts-files").get_by_text("notes.csv").click()  # untick it

    # The top 10% of posts by engagement become preference pairs (fewer pairs: a quicker DPO and evaluation).
    top_frac = page.locator("#top-frac input[type=number]")
    top_frac.fill("0.1")
    top_frac.press("Enter")
    page.locator("#build-dataset").click()
    wait_for_text(page, "dataset-summary", "Dataset ready", timeout=120_000)
    assert "python -m pipeline data build --input" in field(page, "dataset-cli").input_value()
    screenshot(page, "1-dataset")
    lap("dataset")
    data = studio.root / "sample" / "data"
    assert (data / "sft" / "train.jsonl").is_file() and (data / "dpo" / "train.jsonl").is_file()

    # With no SFT run yet, DPO asks instead of training on the base model without a word.
    tab(page, "DPO")
    page.locator("#start-dpo").click()
    assert "no SFT run chosen" in message(page, "SFT run")

    tab(page, "SFT")
    field(page, "sft-max-steps").fill("2")
    page.locator("#start-sft").click()
    status = wait_for_text(page, "sft-status", r": (done|failed|cancelled)", timeout=TRAIN_TIMEOUT_MS)
    assert ": done" in status, status
    page.locator("#sft-loss-plot canvas, #sft-loss-plot svg").first.wait_for()
    page.wait_for_timeout(1500)  # the plot redraws after its last 2 s refresh
    assert drawn_lines(page, "sft-loss-plot"), "the SFT loss plot draws no line"
    screenshot(page, "2-sft")
    lap("sft")

    # A reload midway lists every project, those made since the app started too, and nothing fails on load.
    (studio.root / "second").mkdir()
    page.reload()
    options: set[str] = set()
    for _ in range(20):  # the page's load event lists the projects a moment after the page shows
        page.locator("#project input").click()
        options = {text.replace("✓", "").strip() for text in page.get_by_role("option").all_inner_texts()}
        page.keyboard.press("Escape")
        if "second" in options:
            break
        page.wait_for_timeout(1000)
    assert {"sample", "second"} <= options, options
    assert model.input_value() == str(inside_root)  # the project's base model, not the default again

    tab(page, "DPO")
    page.get_by_role("button", name="Use the latest SFT run").click()
    for _ in range(40):  # the button's handler answers asynchronously: start only once the run is picked
        if page.locator("#dpo-sft-run input").input_value().startswith("sft-"):
            break
        page.wait_for_timeout(500)
    field(page, "dpo-max-steps").fill("2")
    page.locator("#start-dpo").click()
    status = wait_for_text(page, "dpo-status", r": (done|failed|cancelled)", timeout=TRAIN_TIMEOUT_MS)
    assert ": done" in status, status
    page.wait_for_timeout(1500)
    for plot in ("dpo-loss-plot", "dpo-margin-plot", "dpo-drift-plot"):
        assert drawn_lines(page, plot), f"the {plot} draws no line"
    assert "drift from the SFT policy" in page.locator("#dpo-drift-plot").inner_text()
    screenshot(page, "3-dpo")
    lap("dpo")

    tab(page, "Compare")
    page.locator("#compare-latest").click()
    # Bad input 2: an empty brief.
    page.locator("#compare-generate").click()
    assert "prompt is empty" in message(page, "empty")
    field(page, "compare-prompt").fill("Write a LinkedIn post about shipping on Fridays")
    page.locator("#compare-generate").click()
    for column in ("base", "sft", "dpo"):
        wait_for_text(page, f"compare-{column}-stats", r"tok/s", timeout=120_000)
        assert field(page, f"compare-{column}").input_value().strip()
    # The answer length follows the posts' own (the slider left the 128 it starts at).
    page.get_by_text("Sampling (the same for all three columns)").click()
    assert page.locator("#compare-max-new-tokens input[type=number]").input_value() != "128"
    page.locator("#pick-dpo").click()
    wait_for_text(page, "pick-status", "Saved", timeout=30_000)
    picks = [json.loads(line) for line in (studio.root / "sample" / "preferences.jsonl").read_text().splitlines()]
    assert picks and picks[-1]["source"] == "human"
    screenshot(page, "4-compare")
    # Stop mid-generation returns every column to idle (the longest answers: time to press Stop).
    tokens = page.locator("#compare-max-new-tokens input[type=number]")
    tokens.fill("512")
    tokens.press("Enter")
    page.locator("#compare-generate").click()
    page.locator("#compare-base-stats, #compare-sft-stats, #compare-dpo-stats").filter(
        has_text="generating").first.wait_for(timeout=120_000)
    # force: no actionability wait; under load the streaming columns keep the page busy past the click's timeout
    page.get_by_role("button", name="Stop").click(force=True)
    for column in ("base", "sft", "dpo"):
        expect(page.locator(f"#compare-{column}-stats")).not_to_contain_text("generating", timeout=10_000)
    lap("compare")

    # Evaluate runs as a job: Start answers at once with the command, the status line follows the child.
    tab(page, "Evaluate")
    page.get_by_role("button", name="Use the latest DPO run").click()
    for _ in range(40):
        if page.locator("#eval-run input").input_value().startswith("dpo-"):
            break
        page.wait_for_timeout(500)
    field(page, "eval-limit").fill(EVAL_LIMIT)
    page.locator("#start-eval").click()
    field(page, "evaluate-cli").wait_for()
    for _ in range(20):
        if "python -m pipeline eval --run" in field(page, "evaluate-cli").input_value():
            break
        page.wait_for_timeout(500)
    assert "python -m pipeline eval --run" in field(page, "evaluate-cli").input_value()
    wait_for_text(page, "eval-status", "evaluation: running", timeout=30_000)
    lap("evaluate started")
    # Meanwhile a second project's dataset build (another browser tab) runs to the end: nothing waits for Evaluate.
    (studio.root / "second" / "uploads").mkdir()
    shutil.copy(studio.root / "sample" / "uploads" / "posts.csv", studio.root / "second" / "uploads")
    other, other_errors = page.context.new_page(), []
    other.on("console", lambda m: other_errors.append(m.text) if m.type == "error" else None)
    other.goto(studio.url)
    tab(other, "Dataset")
    other.locator("#posts-files").get_by_text("posts.csv").wait_for()
    other.locator("#project input").click()
    other.get_by_role("option", name="second").click()
    wait_for_text(other, "dataset-summary", "No dataset in this project yet", timeout=30_000)  # switched
    other.get_by_label("rule", exact=True).check()  # rule negatives: no model, so the build is quick
    other.locator("#build-dataset").click()
    wait_for_text(other, "dataset-summary", "Dataset ready", timeout=120_000)
    assert (studio.root / "second" / "data" / "dpo" / "train.jsonl").is_file()
    evaluating = page.locator("#eval-status").inner_text()
    other.close()
    lap("second project's build")
    assert "evaluation: running" in evaluating, evaluating  # the build finished while Evaluate ran
    assert not other_errors, other_errors
    # A reload while it runs: selecting the run (the tab picks the latest) follows the same job to its report.
    page.reload()
    tab(page, "Evaluate")
    wait_for_text(page, "eval-summary", "Reward margins", timeout=420_000)
    assert "evaluation: done" in page.locator("#eval-status").inner_text()
    screenshot(page, "5-evaluate")
    lap("evaluate")

    tab(page, "Publish")
    field(page, "push-data-repo").fill("alice/voice-data")
    # Bad input 3: no token anywhere (none typed, none on the server).
    page.locator("#push-data").click()
    assert "no Hugging Face token" in message(page, "token")
    from tests.support.hub_server import WRITE_TOKEN

    field(page, "hub-token").fill(WRITE_TOKEN)
    page.locator("#push-data").click()
    wait_for_text(page, "publish-result", "Pushed", timeout=120_000)
    assert b"sft" in hub.file_bytes("dataset", "alice/voice-data", "README.md")
    field(page, "push-run-repo").fill("alice/voice-dpo")
    page.locator("#push-run-button").click()
    wait_for_text(page, "publish-result", "voice-dpo", timeout=120_000)
    assert hub.file_bytes("model", "alice/voice-dpo", "adapter_config.json")
    screenshot(page, "6-publish")
    lap("publish")
    assert WRITE_TOKEN not in studio.log() and WRITE_TOKEN not in page.content()

    # Long work can be cancelled from the page: a long SFT run stops cleanly once it is training.
    tab(page, "SFT")
    field(page, "sft-max-steps").fill("500")
    page.locator("#start-sft").click()
    wait_for_text(page, "sft-status", r"sft-2\*?\*?: running · step [1-9]", timeout=TRAIN_TIMEOUT_MS)
    page.locator("#sft-cancel").click()
    status = wait_for_text(page, "sft-status", r": (cancelled|failed|done)", timeout=120_000)
    assert "cancelled" in status, status
    lap("cancel")
    assert not untranslated_keys(page), untranslated_keys(page)
    assert "Traceback" not in studio.log(), studio.log()[-3000:]
