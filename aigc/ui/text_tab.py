"""Text tab: continue a prompt with a built-in model or a Hub id, streamed as it is written; or edit a
passage with a masked language model (aigc.ui.text_edit)."""

from __future__ import annotations

import json
import threading
from typing import Iterator

import gradio as gr

from .. import compat, limits
from ..device import random_seed
from ..paths import ASSETS
from ..pipelines import text as pipeline
from ..catalog import list_models
from ..serving import Engine, Stream
from . import text_edit
from .endpoint import endpoint
from .i18n import i18n, language, say

# The page is redrawn at most 25 times a second, not at every token: as live to the eye, and
# a fraction of the server's work when many people generate at once.
UPDATE_SECONDS = 0.04
# Streams being written, by browser session, so that Stop ends the right one at once.
_active: dict[str, Stream] = {}
_active_lock = threading.Lock()


def generate_text(prompt: str, model: str, max_new_tokens: int, temperature: float, top_k: int,
                  top_p: float, seed: int, request: gr.Request = None, *, engine: Engine) -> Iterator[tuple[str, str]]:
    """Endpoint `generate_text`: yields (prompt + text so far, notes) as tokens arrive. The text is
    written where the engine keeps text models (`pipeline.write`); this only relays its events."""
    session = getattr(request, "session_hash", None) or ""
    # The last text and its note go first: they would stand for this request if loading the model
    # failed. (Blanking them in the browser instead breaks the stream: Gradio sends a streamed
    # string as additions to the value it sent before, and the browser's would no longer be that.)
    yield "", ""
    stream = engine.stream("write", pipeline.write, prompt, model=model, max_new_tokens=max_new_tokens,
                           temperature=temperature, top_k=top_k, top_p=top_p, seed=seed, every=UPDATE_SECONDS)
    with _active_lock:
        _active[session] = stream
    shown, notes, finish = "", "", None
    try:
        for event in stream:
            if isinstance(event, pipeline.Prompt):
                shown, notes = event.shown, " ".join(event.notices)
            elif isinstance(event, pipeline.Finish):
                finish = event
                continue
            else:
                shown += event
            yield shown, notes
    finally:
        stream.close()
        with _active_lock:
            if _active.get(session) is stream:
                del _active[session]
    if finish is None:  # not written to the end (never so for `write`, which is told to stop and says so)
        return
    key = {"eos": "note.text_eos", "stopped": "note.text_stopped"}.get(finish.reason, "note.text")
    said = say(language(request), key, seed=finish.seed, n=finish.tokens, tps=finish.tokens_per_s)
    yield shown, (notes + " " if notes else "") + said


def stop(request: gr.Request = None) -> None:
    with _active_lock:
        stream = _active.get(getattr(request, "session_hash", None) or "")
    if stream is not None:
        stream.close()


def build(engine: Engine) -> tuple[gr.Dropdown, gr.Dropdown]:
    """Two modes: continue a prompt, or edit a passage (aigc.ui.text_edit); the two model lists."""
    cap = limits.current()
    builtin = [m.name for m in list_models("text")]
    examples = json.loads((ASSETS / "examples.json").read_text(encoding="utf-8"))["text"]
    with gr.Tabs():
        with gr.Tab(i18n("text.mode_write"), id="text-write"):
            with gr.Row(equal_height=False):
                with gr.Column(scale=2):
                    prompt = gr.Textbox(label=i18n("common.prompt"), lines=5, placeholder=i18n("text.prompt_placeholder"),
                                        elem_id="text-prompt")
                    model = gr.Dropdown(builtin, value=builtin[0] if builtin else None, label=i18n("common.model"), allow_custom_value=True,
                                        info=i18n("text.model_info"), elem_id="text-model")
                    with gr.Accordion(i18n("text.sampling"), open=True):
                        max_new_tokens = gr.Slider(1, cap.max_new_tokens, value=min(300, cap.max_new_tokens), step=1, label=i18n("text.max_new_tokens"))
                        temperature = gr.Slider(0, 2, value=0.8, step=0.05, label=i18n("text.temperature"), info=i18n("text.temperature_info"))
                        with gr.Row():
                            top_k = gr.Slider(0, 200, value=50, step=1, label="Top-k", info=i18n("text.top_k_info"))
                            top_p = gr.Slider(0.05, 1, value=0.95, step=0.01, label="Top-p")
                        with gr.Row():
                            seed = gr.Number(-1, label=i18n("common.seed"), info=i18n("common.seed_info"), precision=0, minimum=-1)
                            dice = gr.Button(i18n("common.random_seed"), size="sm")
                    with gr.Row():
                        go = gr.Button(i18n("common.generate"), variant="primary", elem_id="text-generate")
                        halt = gr.Button(i18n("common.stop"), variant="stop", elem_id="text-stop")
                with gr.Column(scale=3):
                    output = gr.Textbox(label=i18n("text.output"), lines=22, max_lines=40, interactive=False, buttons=["copy"], elem_id="text-output", autoscroll=True)
                    notes = gr.Markdown(elem_classes="aigc-notice", elem_id="text-notes")
            shipped = [row for row in examples if row[1] in builtin]  # an example of a model this server lacks would fail
            if shipped:
                compat.examples_without_header(shipped, [prompt, model], label=i18n("common.examples"))
        with gr.Tab(i18n("text.mode_edit"), id="text-edit"):
            fill_model = text_edit.build(engine)
    inputs = [prompt, model, max_new_tokens, temperature, top_k, top_p, seed]
    # One queue for both ways of asking, as wide as a round of the text batcher (pipelines/text.py)
    writing = dict(concurrency_id="text", concurrency_limit=pipeline.MAX_BATCH)
    generate = endpoint(engine, generate_text, seeds=("seed",))
    go.click(generate, inputs, [output, notes], api_name="generate_text", **writing)
    prompt.submit(generate, inputs, [output, notes], api_visibility="private", **writing)
    # Stop closes the stream rather than cancelling the event, so the note still says what was
    # written (seed, tokens) and the text can be made again.
    halt.click(stop, None, None, api_visibility="private", queue=False)
    dice.click(lambda: random_seed(), None, seed, api_visibility="private", queue=False)
    return model, fill_model  # the app refreshes their choices when a training run adds a model
