"""Video tab: a caption to a short clip, from the built-in text2video model or a Hub
text-to-video pipeline; shown as a looping MP4, a GIF to download and a strip of its frames."""

from __future__ import annotations

import gradio as gr

from .. import compat, limits
from ..device import random_seed
from ..pipelines import video as pipeline
from ..catalog import list_models
from ..serving import Engine
from .endpoint import endpoint
from .i18n import i18n, language, say
from .notes import blank_on
from .steps import moving

EXAMPLES = [["a large red star in the top right moving left", "text2video-shapes"],
            ["blue circle bouncing", "text2video-shapes"],
            ["a small yellow square moving down", "text2video-shapes"],
            ["green triangle in the bottom left moving right", "text2video-shapes"],
            ["purple moving up", "text2video-shapes"]]
STRIP_ROW = 8  # frames per row of the strip: 16 frames make two rows that fit the column
# The text box's name for what a model draws from (`Controls.condition`).
CONDITION_LABELS = {"caption": i18n("common.caption"), "prompt": i18n("common.prompt")}


def _controls_for(model: str):
    """Steps and guidance shown when the model takes them, the frames slider as long as the model draws,
    the text box named for what the model draws from."""
    takes = pipeline.controls(model)
    return (gr.update(visible="steps" in takes), gr.update(visible="guidance" in takes),
            gr.update(maximum=takes.maxima["frames"]), gr.update(label=CONDITION_LABELS[takes.condition]))


def generate_video(prompt: str, model: str, num_frames: int, fps: int, seed: int, steps: int,
                   guidance_scale: float, progress=gr.Progress(), request: gr.Request = None, *, engine: Engine):
    """Endpoint `generate_video`: (MP4 path, GIF path, frame strip, notes)."""
    takes = pipeline.controls(model)
    mp4, gif, strip, n, fps, seconds = engine.call(
        "draw", pipeline.clip_files, prompt, model=model, num_frames=num_frames, fps=fps, seed=seed,
        steps=takes.given("steps", steps), guidance_scale=takes.given("guidance", guidance_scale), strip_row=STRIP_ROW,
        progress=moving(progress))
    return mp4, gif, strip, say(language(request), "note.video", seed=seed, n=n, s=seconds, length=n / fps, fps=fps)


def build(engine: Engine, tab: gr.Tab | None = None) -> gr.Dropdown:
    """The tab's layout and events; `tab`, when given, fits the frames slider to the model when opened."""
    cap = limits.current()
    models = list_models("video")
    names = [m.name for m in models]
    default = pipeline.DEFAULT_MODEL if pipeline.DEFAULT_MODEL in names else (names[0] if names else None)
    takes = pipeline.controls(default)
    hub = pipeline.controls(pipeline.DEFAULT_HUB_MODEL).defaults  # where steps and guidance start
    with gr.Row(equal_height=False):
        with gr.Column(scale=2):
            model = gr.Dropdown(names, value=default, label=i18n("common.model"), allow_custom_value=True, elem_id="video-model",
                                info=i18n("video.model_info"))
            prompt = gr.Textbox(EXAMPLES[0][0], label=CONDITION_LABELS[takes.condition],
                                elem_id="video-prompt", max_lines=3, info=i18n("video.prompt_info"))
            with gr.Row():
                # Built as wide as a Hub pipeline may go, so API callers reach it too; opening the tab or
                # choosing a built-in model narrows it to the frames that model draws.
                frames = gr.Slider(pipeline.MIN_FRAMES, cap.max_video_frames, value=min(16, cap.max_video_frames), step=1,
                                   label=i18n("common.frames"), elem_id="video-frames")
                fps = gr.Slider(1, pipeline.MAX_FPS, value=8, step=1, label=i18n("video.fps"), elem_id="video-fps")
            with gr.Row():
                steps = gr.Slider(1, cap.max_diffusion_steps, value=hub["steps"], step=1,
                                  label=i18n("common.denoising_steps"), visible="steps" in takes, elem_id="video-steps")
                guidance = gr.Slider(0, pipeline.MAX_GUIDANCE, value=hub["guidance"], step=0.5,
                                     label=i18n("common.guidance"), visible="guidance" in takes, elem_id="video-guidance")
            with gr.Row():
                seed = gr.Number(-1, label=i18n("common.seed"), info=i18n("common.seed_info"), precision=0, minimum=-1,
                                 elem_id="video-seed")
                dice = gr.Button(i18n("common.random_seed"), size="sm")
            go = gr.Button(i18n("common.generate"), variant="primary", elem_id="video-generate")
        with gr.Column(scale=3):
            video = gr.Video(label=i18n("video.clip"), autoplay=True, loop=True, interactive=False, height=384, elem_id="video-output")
            strip = gr.Image(label=i18n("video.strip"), type="pil", interactive=False, elem_id="video-strip")
            with gr.Row():
                gif = gr.File(label=i18n("video.gif"), elem_id="video-gif")
                notes = gr.Markdown(elem_classes="aigc-notice", elem_id="video-notes")
    compat.examples_without_header(EXAMPLES, [prompt, model], label=i18n("common.examples_then_generate"))

    controls_for = endpoint(engine, _controls_for)  # under the server's limits: a Hub model's most frames
    model.change(controls_for, model, [steps, guidance, frames, prompt], queue=False, api_visibility="private")
    if tab is not None:
        tab.select(controls_for, model, [steps, guidance, frames, prompt], queue=False, api_visibility="private")
    inputs, outputs = [prompt, model, frames, fps, seed, steps, guidance], [video, gif, strip, notes]
    # One clip at a time: a Hub pipeline's scheduler keeps per-call state, so two calls on it would collide.
    blank_on([go.click, prompt.submit], notes)
    generate = endpoint(engine, generate_video, seeds=("seed",))
    go.click(generate, inputs, outputs, api_name="generate_video", concurrency_limit=1)
    prompt.submit(generate, inputs, outputs, api_visibility="private", concurrency_limit=1)
    dice.click(lambda: random_seed(), None, seed, api_visibility="private", queue=False)
    return model  # the app refreshes its choices when a training run adds a model
