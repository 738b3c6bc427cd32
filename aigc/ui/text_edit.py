"""The Text tab's Edit mode: fill blanks of a passage with a masked language model, or rewrite it word
by word, and see the result as a difference against the passage.

Blanks are "[MASK]" typed in the passage, or words selected there and blanked with a button. Filling
answers each blank's candidates with their probabilities; each blank is then a row of choices (the
model's first choice picked), and every pick redraws the edited passage at once, in the browser's
session, without the model.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from ..catalog import list_models
from ..device import random_seed
from ..pipelines import fill
from ..serving import Engine
from .endpoint import endpoint
from .i18n import i18n, language, say, translate
from .notes import blank_on

EXAMPLES = ["Good night, sweet [MASK]: and flights of angels sing thee to thy rest!",
            "O Romeo, Romeo! wherefore art thou [MASK]?",
            "Now is the winter of our [MASK] made glorious [MASK] by this sun of York.",
            "If music be the food of [MASK], play on."]
HUB_EXAMPLE = "bert-base-uncased"
DIFF_COLOURS = {"-": "#f87171", "+": "#4ade80"}


def fill_blanks(passage: str, model: str, top_k: int, request: gr.Request = None, *,
                engine: Engine) -> tuple[dict[str, Any], str]:
    """Endpoint `fill_mask`: each blank of `passage` with its candidates, as
    {"passage": ..., "blanks": [{"at": [start, end], "candidates": [[word, probability], ...]}, ...]},
    and a note."""
    blanks, notes = engine.call("write", fill.fill_mask, passage, model=model, top_k=top_k)
    found = {"passage": passage, "blanks": [{"at": [b.start, b.end], "candidates": [[w, round(p, 4)] for w, p in b.candidates]}
                                           for b in blanks]}
    lang = language(request)
    return found, " ".join([say(lang, "note.fill", n=len(blanks)), *(translate(n, lang) for n in notes)])


def _choices(found: dict | None) -> list:
    """One row of choices per blank (the model's first choice picked), the rest hidden; then the edit."""
    blanks = (found or {}).get("blanks", [])
    picks = [b["candidates"][0][0] if b["candidates"] else None for b in blanks]
    rows = [gr.update(visible=True, value=pick, choices=[(f"{w}  {p:.0%}", w) for w, p in b["candidates"]])
            for b, pick in zip(blanks, picks)]
    rows += [gr.update(visible=False, value=None, choices=[])] * (fill.MAX_BLANKS - len(rows))
    return [*rows, *_edited(found, *picks)]


def _edited(found: dict | None, *picks: str | None) -> tuple[list, str]:
    """The passage with the picked words in its blanks, as a difference against it, and as text."""
    if not found:
        return [], ""
    spans = [tuple(b["at"]) for b in found["blanks"]]
    text = fill.put_words(found["passage"], spans, list(picks[:len(spans)]))
    return fill.Rewrite(found["passage"], text, []).diff(), text


def rewrite_passage(passage: str, model: str, temperature: float, keep: str, seed: int,
                    request: gr.Request = None, *, engine: Engine) -> tuple[list, str, str]:
    """Endpoint `rewrite`: the passage rewritten word by word (the words in `keep` stay), as a difference
    against it, as text, and a note."""
    done = engine.call("write", fill.rewrite, passage, model=model, temperature=temperature, keep=keep, seed=seed)
    lang = language(request)
    said = say(lang, "note.rewrite", seed=seed, n=len(done.changed), words=len(fill.WORD.findall(passage)))
    return done.diff(), done.text, " ".join([said, *(translate(n, lang) for n in done.notes)])


def _blank_selection(passage: str, selection: list[int] | None) -> str:
    return fill.blank_words(passage or "", *(selection or (0, 0)))


def _selected(evt: gr.SelectData) -> list[int] | None:
    start, end = evt.index if isinstance(evt.index, (list, tuple)) else (None, None)
    return [start, end] if start is not None and end is not None and end > start else None


def build(engine: Engine) -> gr.Dropdown:
    names = [m.name for m in list_models("fill")]
    default = fill.DEFAULT_MODEL if fill.DEFAULT_MODEL in names else (names[0] if names else HUB_EXAMPLE)
    with gr.Row(equal_height=False):
        with gr.Column(scale=2):
            passage = gr.Textbox(EXAMPLES[0], label=i18n("edit.passage"), lines=6, max_lines=16,
                                 placeholder=i18n("edit.passage_placeholder"), elem_id="edit-passage")
            model = gr.Dropdown(names, value=default, label=i18n("common.model"), allow_custom_value=True,
                                info=i18n("edit.model_info"), elem_id="edit-model")
            with gr.Row():
                blank = gr.Button(i18n("edit.blank_selection"), size="sm", elem_id="edit-blank")
                go = gr.Button(i18n("edit.fill"), variant="primary", elem_id="edit-fill")
            top_k = gr.Slider(1, 10, value=fill.TOP_K, step=1, label=i18n("edit.top_k"))
            with gr.Accordion(i18n("edit.rewrite_section"), open=False):
                temperature = gr.Slider(0, 2, value=0.8, step=0.05, label=i18n("text.temperature"),
                                        info=i18n("edit.temperature_info"))
                keep = gr.Textbox(label=i18n("edit.keep"), info=i18n("edit.keep_info"), max_lines=2, elem_id="edit-keep")
                with gr.Row():
                    seed = gr.Number(-1, label=i18n("common.seed"), info=i18n("common.seed_info"), precision=0, minimum=-1)
                    dice = gr.Button(i18n("common.random_seed"), size="sm")
                again = gr.Button(i18n("edit.rewrite"), elem_id="edit-rewrite")
        with gr.Column(scale=3):
            picks = [gr.Radio([], label=str(i18n("edit.blank")) + f" {i + 1}", visible=False, elem_id=f"edit-pick-{i}")
                     for i in range(fill.MAX_BLANKS)]
            result = gr.HighlightedText(label=i18n("edit.result"), color_map=DIFF_COLOURS, show_inline_category=False,
                                        elem_id="edit-result")
            text = gr.Textbox(label=i18n("edit.result_text"), lines=3, interactive=False, buttons=["copy"],
                              elem_id="edit-text")
            use = gr.Button(i18n("edit.use"), size="sm", elem_id="edit-use")
            notes = gr.Markdown(elem_classes="aigc-notice", elem_id="edit-notes")
    gr.Examples([[e] for e in EXAMPLES], inputs=[passage], label=i18n("common.examples"))
    found = gr.JSON(visible=False)  # what the last fill answered: the picks are applied to it

    selection = gr.State(None)
    passage.select(_selected, None, selection, queue=False, api_visibility="private", show_progress="hidden")
    passage.input(lambda: None, None, selection, queue=False, api_visibility="private", show_progress="hidden")
    blank.click(endpoint(engine, _blank_selection), [passage, selection], passage, queue=False, api_visibility="private")

    editing = dict(concurrency_id="edit", concurrency_limit=2)
    blank_on([go.click, passage.submit, again.click], notes)
    ask = endpoint(engine, fill_blanks)
    for trigger, visibility in ((go.click, "public"), (passage.submit, "private")):
        kw = {"api_name": "fill_mask"} if visibility == "public" else {"api_visibility": "private"}
        trigger(ask, [passage, model, top_k], [found, notes], **kw, **editing).success(
            _choices, found, [*picks, result, text], queue=False, api_visibility="private", show_progress="hidden")
    for pick in picks:
        pick.input(_edited, [found, *picks], [result, text], queue=False, api_visibility="private", show_progress="hidden")
    again.click(endpoint(engine, rewrite_passage, seeds=("seed",)), [passage, model, temperature, keep, seed],
                [result, text, notes], api_name="rewrite", **editing).success(
        lambda: [None, *_choices(None)[:fill.MAX_BLANKS]], None, [found, *picks], queue=False, api_visibility="private",
        show_progress="hidden")
    use.click(lambda t: t or gr.update(), text, passage, queue=False, api_visibility="private")
    dice.click(lambda: random_seed(), None, seed, api_visibility="private", queue=False)
    return model
