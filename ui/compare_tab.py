"""Compare tab: base | SFT | DPO answering the same brief side by side, streaming, and human picks.

One base model stays in memory with the SFT and DPO adapters on it; the three columns decode
together as one batch, a row per column, and stream side by side (the pipeline's Variants). Many visitors can generate at once up to ``--compare-concurrency``; the rest
wait in Gradio's queue and see their position. A pick appends a preference pair to the project's
``preferences.jsonl``, which the DPO tab can train on. In blind mode the three answers are shown
in a shuffled order as "Answer 1/2/3" and named only after the pick (the pick stores what was on
screen). The text boxes and pick buttons are positions on screen: in plain mode position i is
base, SFT, DPO. "Which one is real?" shows one held-out post of the author and the most trained
column's post for the same brief, in a seeded random order; the guesses are stored with the picks
and the accuracy is shown with its interval.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import gradio as gr

from pipeline.compare.budget import CAP
from pipeline.errors import UserError
from pipeline.generation import SAMPLING_FLAGS, SamplingSettings, as_messages

from .common import POLICY_KINDS, Studio, allowed_path, cli_box, cli_command, needs, quiet, runs_of_kind, user_errors, workspace_of
from .knobs import Knobs, settings_from_boxes

COLUMNS = ("base", "sft", "dpo")
GENERATING = "generating…"
DEFAULT_NEW_TOKENS = 128
"""Until the project has a dataset; then the posts' own length (``suggest_new_tokens``)."""
TITLES = {"base": "Base", "sft": "SFT", "dpo": "DPO"}


def sampling_settings(values: dict) -> SamplingSettings:
    """The sampling the Generate button runs: the boxes' ``values`` (by field name) over the defaults."""
    return settings_from_boxes(SAMPLING_FLAGS, None, values)


def command(model: str, sources: dict, prompt: str, settings: SamplingSettings) -> list:
    """``python -m pipeline compare`` with the same columns, brief and sampling."""
    columns = [arg for column in ("sft", "dpo") if sources.get(column) for arg in (f"--{column}", sources[column])]
    return ["compare", "--base", model, *columns, "--prompt", prompt, *SAMPLING_FLAGS.argv(settings)]


def build(studio: Studio) -> None:
    config = studio.config
    needs("the base model (top of the page), an **SFT** run and a **DPO** run, or a Hub adapter id for "
          "either column.")
    with gr.Row(equal_height=True):
        sft_source = gr.Dropdown(label="SFT column: run or Hub adapter id", choices=[], allow_custom_value=not config.public,
                                 elem_id="compare-sft", scale=2)
        dpo_source = gr.Dropdown(label="DPO column: a DPO or GRPO run, or a Hub adapter id", choices=[], allow_custom_value=not config.public,
                                 elem_id="compare-dpo", scale=2)
        latest = gr.Button("Use the latest runs", scale=1, elem_id="compare-latest")
    with gr.Row(equal_height=True):
        prompt = gr.Textbox(label="Brief", lines=2, placeholder="Write a LinkedIn post about shipping on Fridays",
                            elem_id="compare-prompt", scale=4)
        held_out = gr.Button("A brief from the test split", scale=1, elem_id="compare-held-out")
    knobs = Knobs(SAMPLING_FLAGS)
    with gr.Accordion("Sampling (the same for all three columns)", open=False), gr.Row():
        knobs.add("max_new_tokens", gr.Slider, minimum=16, maximum=CAP, value=DEFAULT_NEW_TOKENS, step=16,
                  label="Max new tokens", info="set from the length of your own posts once the project has a dataset",
                  elem_id="compare-max-new-tokens")
        knobs.add("temperature", gr.Slider, minimum=0.0, maximum=1.5, step=0.05, label="Temperature (0 = greedy)")
        knobs.add("top_p", gr.Slider, minimum=0.1, maximum=1.0, step=0.05, label="Top-p")
        knobs.add("seed", gr.Number, label="Seed")
    with gr.Row():
        generate = gr.Button("Generate", variant="primary", elem_id="compare-generate")
        stop = gr.Button("Stop", variant="stop")
        blind = gr.Checkbox(value=False, label="Blind: shuffle the answers and hide which is which until you pick",
                            elem_id="compare-blind")
    cli = cli_box("compare-cli")
    texts, stats = _answer_boxes()
    answers = gr.State({})

    def run_compare(path, sft, dpo, prompt, model, blind, *values):
        from pipeline.picks import blind_order
        from pipeline.serving.variants import stream_columns

        workspace = workspace_of(path)
        model = allowed_path(config, model, "base model")
        settings = sampling_settings(knobs.named(values))
        sources = {"sft": _source(config, workspace, sft) if sft else None,
                   "dpo": _source(config, workspace, dpo) if dpo else None}
        shown = cli_command(*command(model, sources, prompt, settings))
        order = blind_order(COLUMNS) if blind else list(COLUMNS)  # the column shown at each position
        text = {c: "" for c in COLUMNS}
        stat = {c: "" for c in COLUMNS}
        finished: dict = {}
        for column, piece, done in stream_columns(model, sources, prompt, settings, log=quiet):
            text[column] += piece
            stat[column] = _stats_text(done) if done is not None else GENERATING
            if done is not None:
                finished[column] = done.as_dict()
            row = {"prompt": prompt, **{c: text[c] for c in COLUMNS if text[c]}, "stats": dict(finished),
                   **({"shown": order} if blind else {})}
            yield (*[gr.update(value=text[c], label=_label(order, i, blind)) for i, c in enumerate(order)],
                   *[stat[c] for c in order], row, shown)

    # The brief is checked first: an empty one gives one message, not an error badge on every column.
    event = generate.click(user_errors(as_messages), prompt, None).success(
        user_errors(run_compare),
        [studio.workspace, sft_source, dpo_source, prompt, studio.model, blind, *knobs.components],
        [*texts.values(), *stats.values(), answers, cli], concurrency_id="compare",
        concurrency_limit=config.compare_concurrency, api_name="compare")
    # twice: a chunk the cancelled stream had already sent may land after the first pass
    stop.click(stopped, list(stats.values()), list(stats.values()), cancels=[event], queue=False).then(
        stopped, list(stats.values()), list(stats.values()), queue=False)
    _picks_and_export(studio, event, texts, answers, blind)
    held_out.click(user_errors(held_out_brief), studio.workspace, prompt)
    _which_is_real(studio, sft_source, dpo_source, knobs)
    latest.click(user_errors(latest_runs), studio.workspace, [sft_source, dpo_source])
    studio.on_workspace_change(latest_runs, [sft_source, dpo_source])
    # The answer length follows the project's posts, unless the user moved the slider themselves.
    new_tokens, suggested = knobs.boxes["max_new_tokens"], gr.State(DEFAULT_NEW_TOKENS)
    for trigger in (studio.workspace.change, latest.click):
        trigger(user_errors(suggest_new_tokens), [studio.workspace, new_tokens, suggested], [new_tokens, suggested],
                queue=False)


def stopped(*stats: str) -> list[str]:
    """Stop's effect on the columns' stats lines: those still generating say they were stopped."""
    return ["stopped" if text == GENERATING else text for text in stats]


def suggest_new_tokens(path, current, suggested):
    """The max-new-tokens slider sized to the project's posts (see pipeline.compare.budget), if it
    still holds the previous suggestion; the new suggestion is remembered."""
    from pipeline.compare.budget import new_token_budget

    budget = new_token_budget(workspace_of(path).data_dir, log=quiet) if path else None
    if budget is None or current != suggested:
        return gr.skip(), suggested
    return budget, budget


def _which_is_real(studio: Studio, sft_source, dpo_source, knobs: Knobs) -> None:
    """The blind two-alternative test: a held-out post and a generation for its brief; which is real?"""
    with gr.Accordion("Which one is real? A blind test of the voice", open=False):
        gr.Markdown("One of these is a post you wrote (held out from training), the other the most trained "
                    "column's post for the same brief. Near 50% right means it passes for you.", elem_classes="hint")
        next_pair = gr.Button("Next pair", elem_id="real-next")
        brief = gr.Markdown(elem_id="real-brief")
        with gr.Row(equal_height=True):
            shown = [gr.Textbox(label=f"{side}", lines=8, max_lines=16, interactive=False, elem_id=f"real-{side}")
                     for side in ("A", "B")]
        with gr.Row():
            guesses = [gr.Button(f"{side} is real", elem_id=f"real-pick-{side}") for side in ("A", "B")]
        result = gr.Markdown(elem_id="real-result")
    state = gr.State({})

    def next_trial(path, sft, dpo, model, *values):
        from pipeline.compare.which_is_real import trial
        from pipeline.fsio import read_jsonl
        from pipeline.picks import guesses_path
        from pipeline.serving.variants import shared_variants

        if not (sft or dpo):
            raise UserError("no trained column: pick an SFT or DPO run above first.")
        workspace = workspace_of(path)
        model = allowed_path(studio.config, model, "base model")
        done = guesses_path(workspace)
        current = trial(workspace.data_dir, len(read_jsonl(done)) if done.is_file() else 0)
        column = "dpo" if dpo else "sft"
        variants = shared_variants(model, _source(studio.config, workspace, sft) if sft else None,
                                   _source(studio.config, workspace, dpo) if dpo else None, log=quiet)
        settings = sampling_settings(knobs.named(values))
        generated = "".join(piece for _, piece, _ in variants.stream_columns(current.brief, settings, columns=(column,)))
        texts = current.shown(generated)
        brief_text = next((m["content"] for m in reversed(current.brief) if m["role"] == "user"), "")
        return (f"**Brief {current.number + 1}:** {brief_text}", *[gr.update(value=t, label=side)
                                                                 for t, side in zip(texts, "AB")],
                {"trial": current.__dict__, "generated": generated, "column": column}, "")

    def guess(position: int):
        def pick(path, pending):
            from pipeline.compare.which_is_real import Trial
            from pipeline.picks import guess_report, guesses_path, record_guess

            if not pending:
                raise UserError("press 'Next pair' first.")
            workspace = workspace_of(path)
            current = Trial(**pending["trial"])
            row = record_guess(workspace, current, pending["generated"], pending["column"], position)
            report = guess_report(guesses_path(workspace), pending["column"])
            names = ["yours" if side == "real" else TITLES[side] for side in row["shown"]["order"]]
            said = "Right" if row["correct"] else "Wrong"
            return (f"{said}: A was {names[0]}, B was {names[1]}. Against {TITLES[pending['column']]}, {report['text']}",
                    *[gr.update(label=f"{side}: {name}") for side, name in zip("AB", names)], {})
        return pick

    next_pair.click(user_errors(next_trial), [studio.workspace, sft_source, dpo_source, studio.model, *knobs.components],
                    [brief, *shown, state, result], concurrency_id="compare")
    for position, button in enumerate(guesses):
        button.click(user_errors(guess(position)), [studio.workspace, state], [result, *shown, state])


def _answer_boxes() -> tuple[dict, dict]:
    """A text box and a stats line per column, side by side."""
    texts, stats = {}, {}
    with gr.Row(equal_height=True):
        for column in COLUMNS:
            with gr.Column():
                texts[column] = gr.Textbox(label=TITLES[column], lines=10, max_lines=20, interactive=False,
                                           elem_id=f"compare-{column}")
                stats[column] = gr.Markdown(elem_id=f"compare-{column}-stats")
    return texts, stats


def _picks_and_export(studio: Studio, event, texts: dict, answers: gr.State, blind: gr.Checkbox) -> None:
    """The pick buttons (a preference pair each) and the export of the session's comparisons."""
    with gr.Row():
        picks = {column: gr.Button(f"{TITLES[column]} is best", elem_id=f"pick-{column}") for column in COLUMNS}
        tie = gr.Button("Tie", elem_id="pick-tie")
    gr.Markdown("Picks on briefs from the dataset's validation or test split are saved but left out of DPO "
                "training, so the evaluation stays held out.", elem_classes="hint")
    pick_status = gr.Markdown(elem_id="pick-status")
    with gr.Row():
        export = gr.Button("Export this session's comparisons (JSONL + Markdown)", size="sm")
        exported = gr.File(label="Comparison export", file_count="multiple", visible=False, elem_id="compare-export")
    history = gr.State([])
    event.success(lambda row, rows: rows + [row], [answers, history], history, queue=False)
    export.click(user_errors(_export), history, exported)
    for position, button in enumerate(picks.values()):
        button.click(user_errors(_pick(position)), [studio.workspace, answers], [pick_status, *texts.values()])
    tie.click(user_errors(_pick(None)), [studio.workspace, answers], [pick_status, *texts.values()])

    def blind_labels(on):
        return [gr.update(value=f"Answer {i + 1} is best" if on else f"{TITLES[c]} is best")
                for i, c in enumerate(COLUMNS)]

    blind.change(blind_labels, blind, list(picks.values()), queue=False)


def _export(rows):
    from pipeline.picks import export_comparison

    folder = Path(tempfile.mkdtemp(prefix="voicetune-compare-"))
    result = export_comparison(rows, folder / "comparison.jsonl", folder / "comparison.md")
    return gr.update(value=[result["jsonl"], result["markdown"]], visible=True)


def _pick(position: int | None):
    """The handler of the pick button at ``position`` on screen (None: Tie)."""
    def pick(path, answers):
        from pipeline.picks import record_pick

        if not answers or not answers.get("prompt"):
            raise UserError("nothing to pick yet: generate the three answers first.")
        workspace = workspace_of(path)
        order = answers.get("shown") or list(COLUMNS)
        best = "tie" if position is None else order[position]
        result = record_pick(workspace, answers["prompt"], {c: answers.get(c, "") for c in COLUMNS}, best,
                             shown=answers.get("shown"))
        reveal = ""
        if answers.get("shown"):
            reveal = " Blind order: " + ", ".join(f"answer {i + 1} = {TITLES[c]}" for i, c in enumerate(order)) + "."
        labels = [gr.update(label=f"{_label(order, i, bool(answers.get('shown')))}: {TITLES[c]}"
                            if answers.get("shown") else TITLES[c]) for i, c in enumerate(order)]
        return (f"Saved: {result}.{reveal} The DPO tab can train on these picks.", *labels)
    return pick


def held_out_brief(path):
    import random

    from pipeline.data.folder import DataFolder

    folder = DataFolder(workspace_of(path).data_dir)
    if not folder.split_path("sft", "test").is_file():
        raise UserError("no test split yet: build the dataset in the Dataset tab first.")
    briefs = folder.briefs("test")
    if not briefs:
        raise UserError("sft/test.jsonl is empty; rebuild the dataset with more posts.")
    return random.choice(briefs)


def latest_runs(path):
    workspace = workspace_of(path)
    sft, dpo = runs_of_kind(workspace, "sft", with_adapter=True), runs_of_kind(workspace, POLICY_KINDS, with_adapter=True)
    return (gr.update(choices=sft, value=sft[0] if sft else None),
            gr.update(choices=dpo, value=dpo[0] if dpo else None))


def _label(order: list[str], position: int, blind: bool) -> str:
    return f"Answer {position + 1}" if blind else TITLES[order[position]]


def _source(config, workspace, source: str) -> str:
    """A run name in this project becomes its folder; anything else must be a Hub adapter id or a
    folder the page may read (see :func:`~ui.common.allowed_path`)."""
    run = workspace.runs_dir / source
    return str(run) if "/" not in source and run.is_dir() else allowed_path(config, source, "adapter")


def _stats_text(stats) -> str:
    data = stats.as_dict() if hasattr(stats, "as_dict") else dict(stats)
    text = (f"latency {data.get('first_token_s', 0):.2f} s to first token · {data.get('tokens_per_s', 0):.1f} tok/s · "
            f"{data.get('new_tokens', 0)} tokens")
    for notice in data.get("notices") or []:
        text += f"  \n⚠ {notice}"
    return text
