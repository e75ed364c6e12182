"""Each tab's "Same thing from a terminal" command parses back to the settings the tab runs, in
public mode too; boxes are bound to settings fields by name and typed by the settings."""

from __future__ import annotations

import shlex
from dataclasses import fields

import pytest

from ui.common import AppConfig, cli_command


def shown_args(argv: list):
    """The command as the tab shows it (``cli_command``), typed again."""
    return typed_again(cli_command(*argv))


def typed_again(shown: str):
    """A command line as shown in a tab's box, parsed by the real CLI."""
    from pipeline.cli import build_parser

    words = shlex.split(shown)
    assert words[:3] == ["python", "-m", "pipeline"]
    return build_parser().parse_args(words[3:])


def call_as_gradio(event, workspace, box_value):
    """``event``'s handler called with its inputs the way Gradio calls it: the session state is
    ``workspace``, the posts list ticks posts.csv, every other box gives ``box_value(box)``."""
    import gradio as gr
    from gradio.helpers import special_args

    values = []
    for block in event.inputs:
        if isinstance(block, gr.State):
            values.append(str(workspace.root))
        elif isinstance(block, gr.CheckboxGroup):
            values.append(["posts.csv"])
        else:
            values.append(box_value(block))
    args, *_ = special_args(event.fn, values)
    return event.fn(*args)


@pytest.fixture(params=[False, True], ids=["local", "public"])
def config(request, tmp_path) -> AppConfig:
    return AppConfig(root=tmp_path / "projects", public=request.param)


def test_dataset_tab(config):
    from pipeline.data.build import BUILD_FLAGS
    from pipeline.workspace import Workspace
    from ui.dataset_tab import build_settings, command

    workspace = Workspace(config.root / "p")
    boxes = {"negatives": "base", "top_frac": 0.5 if config.public else 0.3, "seed": 3.0, "min_chars": 10.0,
             "max_chars": 3000.0, "semantic_clean": True}
    settings = build_settings(config, boxes, "local", None, None, "default")
    argv = command(workspace, ["posts.csv", "more.jsonl", "twitter-2026.zip", "repo.car"], settings)
    args = shown_args(argv)
    assert BUILD_FLAGS.from_args(args) == settings
    assert [p.name for p in args.input] == ["posts.csv", "more.jsonl", "twitter-2026.zip", "repo.car"]
    assert args.out.name == "data" and settings.semantic_clean and "--semantic-clean" in argv
    assert (settings.negatives, settings.seed, settings.min_chars) == ("base", 3, 10)
    assert "--max-chars" not in argv and "--model" not in argv  # boxes at their default are not sent
    if config.public:  # the gold-set cap replaces the fraction (the CLI takes both; top_k wins)
        assert settings.top_k == config.public_max_posts and "--top-k" in argv and "--top-frac" not in argv
    else:
        assert settings.top_frac == 0.3 and "--top-k" not in argv
        url = build_settings(config, boxes, "url", " http://127.0.0.1:9/v1 ", "teacher-7b", "default")
        assert BUILD_FLAGS.from_args(shown_args(command(workspace, ["posts.csv"], url))) == url
        assert (url.teacher, url.teacher_model) == ("http://127.0.0.1:9/v1", "teacher-7b")


def test_dataset_tab_fetch(config):
    from pipeline.data.remote.fetch import FETCH_FLAGS
    from pipeline.workspace import Workspace
    from ui.dataset_tab import fetch_command, fetch_targets
    from ui.knobs import settings_from_boxes

    workspace = Workspace(config.root / "p")
    targets = fetch_targets(" https://you.example/blog/\nbsky:you.bsky.social, mastodon:@you@social.example ")
    settings = settings_from_boxes(FETCH_FLAGS, None, {"max_pages": 3.0, "delay_s": 0.5})
    args = shown_args(fetch_command(workspace, targets, settings))
    assert FETCH_FLAGS.from_args(args) == settings and (settings.max_pages, settings.delay_s) == (3, 0.5)
    assert args.targets == ["https://you.example/blog/", "bsky:you.bsky.social", "mastodon:@you@social.example"]
    assert args.out == workspace.uploads_dir / "public-posts.jsonl"


@pytest.mark.parametrize("kind", ["sft", "dpo", "grpo"])
def test_training_tabs(config, kind):
    """The runner launches (and the tab shows) ``settings_argv`` of what ``training_settings`` builds."""
    from pipeline.train.flags import FLAGS, settings_argv, settings_from_args
    from ui.jobs import training_settings

    flags = FLAGS[kind]
    fixed = {"with_human_picks": True} if kind == "dpo" else {}
    for preset in flags.presets:
        filled = {name: getattr(flags.base(preset), name) for name in ("max_steps", "lora_r", "learning_rate",
                                                                       "batch_size")}
        settings = training_settings(config, kind, preset, filled, "default", **fixed)
        args = shown_args(["train", kind, "--data", "d", "--out", "o", *settings_argv(kind, settings)])
        assert settings_from_args(kind, args) == settings
        steps = flags.base(preset).max_steps
        if config.public:
            assert settings.max_steps == min(steps if steps > 0 else 60, 60)
        else:  # a preset's boxes as the preset filled them: nothing sent but the preset (standard = 1 epoch)
            assert settings == flags.cls(**{**flags.presets[preset], **fixed})
            assert settings_argv(kind, settings) == ["--preset", preset, *(["--with-human-picks"] if fixed else [])]

    changed = {"max_steps": 7.0, "learning_rate": 1.234e-4, "lora_r": 4, "batch_size": 3.0, "lora_dropout": 0.07}
    settings = training_settings(config, kind, "standard", changed, "default")
    assert (settings.max_steps, settings.learning_rate, settings.lora_r, settings.batch_size) == (7, 1.234e-4, 4, 3)
    assert settings.lora_dropout == 0.07  # a float box stays a float
    assert settings_from_args(kind, shown_args(["train", kind, "--out", "o", *settings_argv(kind, settings)])) == settings


def test_compare_tab(config):
    from pipeline.generation import SAMPLING_FLAGS
    from ui.compare_tab import command, sampling_settings

    settings = sampling_settings({"max_new_tokens": 96.0, "temperature": 0.35, "top_p": 0.9, "seed": 2.0})
    sources = {"sft": str(config.root / "p" / "runs" / "sft-1"), "dpo": "someone/voice-dpo"}
    args = shown_args(command("default", sources, "Write about Fridays", settings))
    assert SAMPLING_FLAGS.from_args(args) == settings and (settings.max_new_tokens, settings.seed) == (96, 2)
    assert (args.model, args.sft, args.dpo, args.prompt) == ("default", sources["sft"], "someone/voice-dpo",
                                                             ["Write about Fridays"])


def test_evaluate_tab(config):
    from pipeline.evaluate.cli import EVAL_FLAGS
    from pipeline.evaluate.job import eval_argv
    from pipeline.workspace import Run
    from ui.evaluate_tab import eval_settings

    settings = eval_settings({"split": "validation", "judge": "none", "limit": 3.0, "precision": "float32"})
    args = shown_args(eval_argv(Run(config.root / "p" / "runs" / "dpo-1"), config.root / "p" / "data", settings))
    assert EVAL_FLAGS.from_args(args) == settings and settings.limit == 3
    assert args.run_dir.endswith("dpo-1") and args.data.endswith("data")


def test_evaluate_tab_voice_score_box(config):
    """The "score any texts" box shows `voice score` with its settings; the real CLI parses them back."""
    from pathlib import Path

    from pipeline.voice.flags import VOICE_SCORE_FLAGS, score_argv
    from pipeline.voice.score import VoiceScoreSettings

    data, texts = config.root / "p" / "data", config.root / "p" / "voice-score-texts.jsonl"
    for settings in (VoiceScoreSettings(), VoiceScoreSettings(reference_voices=[Path("them.csv"), Path("us.jsonl")],
                                                              folds=3, seed=2)):
        args = shown_args(score_argv(data, texts, settings))
        assert (args.voice_command, args.data.name, args.input.name) == ("score", "data", texts.name)
        assert VOICE_SCORE_FLAGS.from_args(args) == settings
        assert (args.reference_voices, args.folds, args.seed) == (settings.reference_voices, settings.folds, settings.seed)


def test_export_tab(config):
    from pipeline.export import EXPORT_FLAGS
    from ui.export_tab import command, export_settings

    for boxes in ({"to": "gguf", "quant": "q8_0"}, {"to": "ollama", "quant": "q4_k_m"}):
        settings = export_settings(boxes)
        argv = command(config.root / "p" / "runs" / "dpo-1", settings)
        assert EXPORT_FLAGS.from_args(shown_args(argv)) == settings
    assert argv[3:] == ["--to", "ollama", "--quant", "q4_k_m"]


def test_publish_tab(config):
    from pipeline.hub.push import PUSH_FLAGS
    from ui.publish_tab import push_command, push_settings

    for boxes in ({"private": True, "combined": False}, {"private": False, "combined": True}):
        settings = push_settings(boxes)
        args = shown_args(push_command("--run", config.root / "p" / "runs" / "dpo-1", "you/voice", settings))
        assert PUSH_FLAGS.from_args(args) == settings and args.repo == "you/voice"
        assert (args.private is not False, settings.combined) == (boxes["private"], boxes["combined"])


def test_knobs_take_value_and_type_from_the_settings_and_presets_fill_them():
    import gradio as gr

    from pipeline.train.flags import FLAGS
    from ui.knobs import Knobs

    with gr.Blocks():
        knobs = Knobs(FLAGS["sft"], preset="quick")
        steps = knobs.add("max_steps", gr.Number, label="Max steps")
        rate = knobs.add("learning_rate", gr.Number, label="Learning rate")
        four_bit = knobs.add("load_in_4bit", gr.Checkbox, label="4-bit")
    assert (steps.value, steps.precision) == (40, 0) and rate.value == 3e-4 and rate.precision is None
    assert four_bit.value is False
    assert knobs.components == [steps, rate, four_bit]
    assert knobs.fill("standard") == [-1, 2e-4, True]
    assert knobs.named([1, 2, 3]) == {"max_steps": 1, "learning_rate": 2, "load_in_4bit": 3}
    with pytest.raises(ValueError):
        knobs.named([1, 2])  # a handler that lost a box fails, not shifts


def test_every_settings_field_of_every_step_is_documented():
    from pipeline.data.build import BuildSettings
    from pipeline.data.remote.fetch import FetchSettings
    from pipeline.evaluate.report import EvalSettings
    from pipeline.export import ExportSettings
    from pipeline.flags import field_docs
    from pipeline.generation import SamplingSettings
    from pipeline.hub.push import PushSettings

    for cls in (BuildSettings, FetchSettings, EvalSettings, ExportSettings, SamplingSettings, PushSettings):
        assert set(field_docs(cls)) == {f.name for f in fields(cls)}, cls.__name__


def test_the_dataset_tab_as_gradio_calls_it_builds_what_its_command_says(tmp_path):
    """The Build button's handler, called with its event's inputs the way Gradio calls it (public mode,
    two knobs changed): the data folder's recorded settings are the shown command's."""
    from dataclasses import asdict

    import app
    from pipeline.data.build import BUILD_FLAGS
    from pipeline.data.folder import DataFolder
    from ui.common import open_project

    config = AppConfig(root=tmp_path, public=True)
    event = next(f for f in app.build_app(config).fns.values() if f.fn is not None and f.fn.__name__ == "run_build")
    workspace = open_project(config, "sample")  # seeded with the sample posts
    changed = {"Min characters": 40, "Rejected answers (negatives)": "rule"}  # rule: no generation in a unit test
    shown = call_as_gradio(event, workspace, lambda box: changed.get(box.label, box.value))
    settings = BUILD_FLAGS.from_args(typed_again(shown))
    recorded = DataFolder(workspace.data_dir).report()["settings"]
    assert recorded == asdict(settings) and (settings.min_chars, settings.top_k) == (40, config.public_max_posts)
    assert settings.negatives == "rule"
    # what the tab shows next: posts per input and, per step and reason, the count and three removed posts
    from ui.dataset_tab import _views

    _, _, per_source, removed, *_ = _views(workspace)
    assert per_source.to_dict("records")[0]["input"] == "posts.csv"
    rows = {(r["step"], r["reason"]): r for r in removed.to_dict("records")}
    assert rows[("filter", "shorter than 40 chars")]["removed"] >= 3
    assert len(rows[("filter", "shorter than 40 chars")]["examples"].split("\n---\n")) == 3
    assert rows[("dedupe", "exact")]["examples"]


@pytest.mark.parametrize("kind", ["sft", "dpo"])
def test_picking_the_standard_preset_fills_the_boxes_and_runs_its_epochs(tmp_path, kind):
    """The preset radio's change event, as wired on the page: the boxes get the preset's values and
    the run they start is the preset's (one epoch, no step cap sent)."""
    import app
    from pipeline.train.flags import settings_argv
    from ui.jobs import training_settings

    config = AppConfig(root=tmp_path)
    fills = [f for f in app.build_app(config).fns.values() if getattr(f.fn, "__name__", "") == "fill"]
    event = next(f for f in fills if f.fn.__self__.flags.cls.__name__ == f"{kind.upper()}Settings")
    knobs = event.fn.__self__
    assert event.outputs == knobs.components and knobs.boxes["max_steps"].value == knobs.flags.base("quick").max_steps
    values = knobs.named(event.fn("standard"))
    settings = training_settings(config, kind, "standard", values, "default")
    assert (settings.max_steps, settings.epochs) == (-1, 1.0)
    assert settings_argv(kind, settings) == ["--preset", "standard"]


def test_the_fetch_button_as_gradio_calls_it_writes_a_posts_file_the_build_reads(tmp_path, loopback, monkeypatch):
    """The Fetch handler with its event's inputs (a blog whose pages are cached, so no browser starts):
    the posts land among the uploads, ticked, and the shown command parses to the settings that ran."""
    from support.fetch_server import BLOG, BLOG_PAGE_2, PAGES, serve_site

    import app
    from pipeline.data.ingest import ingest
    from pipeline.data.remote.fetch import FETCH_FLAGS, PageCache, RenderedPage
    from ui.common import open_project

    monkeypatch.setenv("VOICETUNE_HOME", str(tmp_path / "home"))
    serve_site(loopback)
    for name in ("blog.html", "blog2.html"):
        url = f"{loopback.url}/{name}"
        PageCache(None).put(RenderedPage(url, url, 200, (PAGES / name).read_text()))
    config = AppConfig(root=tmp_path / "projects")
    event = next(f for f in app.build_app(config).fns.values() if f.fn is not None and f.fn.__name__ == "run_fetch")
    workspace = open_project(config, "sample")
    ticked, shown = call_as_gradio(event, workspace, lambda box: f"{loopback.url}/blog.html" if box.label.startswith(
        "Public pages") else 2 if box.label == "Pages per URL" else 0 if box.label.startswith("Seconds") else box.value)
    assert ticked["value"] == ["posts.csv", "public-posts.jsonl"]
    settings = FETCH_FLAGS.from_args(typed_again(shown))
    assert (settings.max_pages, settings.delay_s) == (2, 0) and typed_again(shown).targets == [f"{loopback.url}/blog.html"]
    posts = ingest(workspace.uploads_dir / "public-posts.jsonl").posts
    assert [p.text for p in posts] == BLOG + BLOG_PAGE_2
