"""Audio tab: digits said by the built-in models, sound effects from a caption, speech or music from a Hub
model; the clip plays in the page, with its waveform and spectrogram, and downloads as a WAV."""

from __future__ import annotations

import gradio as gr

from .. import compat, limits
from ..catalog import list_models
from ..device import random_seed
from ..pipelines import audio as pipeline
from ..serving import Engine
from .endpoint import endpoint
from .i18n import i18n, language, say, translate
from .notes import blank_on
from .steps import moving

EXAMPLES = [["seven", "mel-digits"], ["3 1 4", "mel-digits"], ["a long high rising chirp", "sfx-diffusion"],
            ["a short low drum", "sfx-diffusion"], ["nine", "wavenet-digits"], ["a fast siren", "sfx-diffusion"]]
CONDITION_LABELS = {"digits": i18n("audio.digits"), "caption": i18n("common.caption"), "prompt": i18n("common.prompt")}
CONDITION_INFO = {"digits": i18n("audio.digits_info"), "caption": i18n("audio.caption_info"),
                  "prompt": i18n("audio.prompt_info")}


def _controls_for(model: str):
    """Each slider shown when the model takes it; the text box named for what the model makes sound from."""
    takes = pipeline.controls(model)
    return (gr.update(visible="steps" in takes, value=takes.defaults.get("steps", 16)),
            gr.update(visible="guidance" in takes, value=takes.defaults.get("guidance", 2.0)),
            gr.update(visible="temperature" in takes), gr.update(visible="seconds" in takes),
            gr.update(label=CONDITION_LABELS[takes.condition], info=CONDITION_INFO[takes.condition]))


def generate_audio(what: str, model: str, num_clips: int, seed: int, steps: int, guidance: float, temperature: float,
                   seconds: float, progress=gr.Progress(), request: gr.Request = None, *, engine: Engine):
    """Endpoint `generate_audio`: (WAV path, waveform PNG, spectrogram PNG, notes). A model that writes
    sample by sample (WaveNet) shows its waveform growing first."""
    takes = pipeline.controls(model)
    if takes.kind == "wavenet":
        stream = engine.stream("draw", pipeline.write, what, model=model, num_clips=num_clips, seed=seed,
                               temperature=temperature)
        try:
            for kind, value in stream:
                if kind == "partial":
                    yield gr.update(), value, gr.update(), gr.update()
                else:
                    yield _answer(*value, seed, request)
        finally:
            stream.close()
        return
    answer = engine.call(
        "draw", pipeline.draw, what, model=model, num_clips=num_clips, seed=seed, steps=takes.given("steps", steps),
        guidance=takes.given("guidance", guidance), temperature=takes.given("temperature", temperature),
        seconds=takes.given("seconds", seconds), progress=moving(progress))
    yield _answer(*answer, seed, request)


def _answer(wav: str, wave: str, spectrogram: str, said: dict, seed: int, request) -> tuple:
    lang = language(request)
    notes = say(lang, "note.audio", seed=seed, **{k: v for k, v in said.items() if k != "notes"})
    return wav, wave, spectrogram, " ".join([notes, *(translate(note, lang) for note in said["notes"])])


def build(engine: Engine, tab: gr.Tab | None = None) -> gr.Dropdown:
    """The tab's layout and events."""
    cap = limits.current()
    names = [m.name for m in list_models("audio")]
    default = pipeline.DEFAULT_MODEL if pipeline.DEFAULT_MODEL in names else (names[0] if names else None)
    takes = pipeline.controls(default)
    with gr.Row(equal_height=False):
        with gr.Column(scale=2):
            model = gr.Dropdown(names, value=default, label=i18n("common.model"), allow_custom_value=True,
                                elem_id="audio-model", info=i18n("audio.model_info"))
            what = gr.Textbox(EXAMPLES[0][0], label=CONDITION_LABELS[takes.condition], max_lines=3,
                              info=CONDITION_INFO[takes.condition], elem_id="audio-what")
            takes_slider = gr.Slider(1, cap.max_clips, value=1, step=1, label=i18n("audio.takes"),
                                     elem_id="audio-takes")
            with gr.Row():
                steps = gr.Slider(1, cap.max_diffusion_steps, value=takes.defaults.get("steps", 16), step=1,
                                  label=i18n("common.denoising_steps"), visible="steps" in takes, elem_id="audio-steps")
                guidance = gr.Slider(0, pipeline.MAX_GUIDANCE, value=takes.defaults.get("guidance", 2.0), step=0.5,
                                     label=i18n("common.guidance"), visible="guidance" in takes,
                                     elem_id="audio-guidance")
            temperature = gr.Slider(0.05, 2.0, value=1.0, step=0.05, label=i18n("audio.temperature"),
                                    visible="temperature" in takes, elem_id="audio-temperature")
            seconds = gr.Slider(1, cap.max_audio_seconds, value=min(5.0, cap.max_audio_seconds), step=0.5,
                                label=i18n("audio.seconds"), visible="seconds" in takes, elem_id="audio-seconds")
            with gr.Row():
                seed = gr.Number(-1, label=i18n("common.seed"), info=i18n("common.seed_info"), precision=0, minimum=-1,
                                 elem_id="audio-seed")
                dice = gr.Button(i18n("common.random_seed"), size="sm")
            go = gr.Button(i18n("common.generate"), variant="primary", elem_id="audio-generate")
        with gr.Column(scale=3):
            clip = gr.Audio(label=i18n("audio.clip"), type="filepath", interactive=False, autoplay=True,
                            elem_id="audio-output")
            wave = gr.Image(label=i18n("audio.waveform"), interactive=False, height=130, elem_id="audio-waveform")
            spectrogram = gr.Image(label=i18n("audio.spectrogram"), interactive=False, height=180,
                                   elem_id="audio-spectrogram")
            notes = gr.Markdown(elem_classes="aigc-notice", elem_id="audio-notes")
    shipped = [row for row in EXAMPLES if row[1] in names]  # an example of a model this server lacks would fail
    if shipped:
        compat.examples_without_header(shipped, [what, model], label=i18n("common.examples_then_generate"))

    controls_for = endpoint(engine, _controls_for)
    shown = [steps, guidance, temperature, seconds, what]
    model.change(controls_for, model, shown, queue=False, api_visibility="private")
    if tab is not None:
        tab.select(controls_for, model, shown, queue=False, api_visibility="private")
    inputs = [what, model, takes_slider, seed, steps, guidance, temperature, seconds]
    outputs = [clip, wave, spectrogram, notes]
    blank_on([go.click, what.submit], notes)
    generate = endpoint(engine, generate_audio, seeds=("seed",))
    go.click(generate, inputs, outputs, api_name="generate_audio", concurrency_limit=2)
    what.submit(generate, inputs, outputs, api_visibility="private", concurrency_limit=2)
    dice.click(lambda: random_seed(), None, seed, api_visibility="private", queue=False)
    return model
