"""Conditional image tab: pictures of a label ("7") or a caption ("a large red star") from the
built-in models, or of any prompt from a Hub text-to-image pipeline; with a Hub pipeline
also image-to-image and inpainting of an uploaded picture."""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from .. import compat, limits
from ..device import random_seed
from ..errors import AigcError
from ..pipelines import conditional as pipeline
from ..pipelines.image import draw
from ..catalog import list_models
from ..serving import Engine
from .endpoint import endpoint
from .editor import file_of as _file
from .editor import mask_from_editor as _mask_from_editor
from .i18n import i18n, language, refuse_upload, say
from .notes import blank_on, images_note
from .steps import moving

EXAMPLES = [["7", "cgan-digits"], ["3", "cddpm-digits"], ["a large red star in the top right", "text2img-shapes"],
            ["blue circle", "text2img-shapes"], ["small yellow triangle at the bottom", "text2img-shapes"],
            ["green", "text2img-shapes"]]
PER_LABEL = 6  # one gallery row per label: the gallery fits six thumbnails across
HUB_EXAMPLES = ["a watercolor painting of a lighthouse at dawn", "a corgi astronaut, studio photo"]
# The text box's name for what a model draws from (`Controls.condition`).
CONDITION_LABELS = {"label": i18n("common.label"), "caption": i18n("common.caption"), "prompt": i18n("common.prompt")}


def _controls_for(model: str):
    """Guidance and steps (at the model's own values), the Hub options and Show all labels, each shown when
    the model takes it; the text box named for what the model draws from."""
    takes = pipeline.controls(model)
    return (_at_default(takes, "guidance"), _at_default(takes, "steps"), gr.update(visible=_hub_options(takes)),
            gr.update(visible="all_labels" in takes), gr.update(label=CONDITION_LABELS[takes.condition]))


def _at_default(takes: pipeline.Controls, option: str):
    """A slider shown when the model takes `option`, moved to the model's own value (a hidden one stays put)."""
    value = takes.defaults.get(option)
    return gr.update(visible=option in takes, **({"value": value} if value is not None else {}))


def _hub_options(takes: pipeline.Controls) -> bool:
    return "negative_prompt" in takes or "size" in takes


def generate_conditional(condition: str, model: str, num_images: int, guidance_scale: float, seed: int,
                         steps: int, negative_prompt: str, width: int, height: int, progress=gr.Progress(),
                         request: gr.Request = None, *, engine: Engine):
    """Endpoint `generate_conditional`: (gallery, grid PNG path, notes)."""
    takes = pipeline.controls(model)
    samples, grid, seconds = engine.call(
        "draw", draw, pipeline.generate_conditional, f"{model}-seed{seed}", progress=moving(progress),
        condition=condition, model=model, num_images=num_images, seed=seed,
        guidance_scale=takes.given("guidance", guidance_scale), steps=takes.given("steps", steps),
        negative_prompt=takes.given("negative_prompt", negative_prompt),
        width=takes.given("size", width), height=takes.given("size", height))
    return samples, grid, images_note(seed, len(samples), seconds, request)


def show_all_labels(model: str, guidance_scale: float, seed: int, steps: int, progress=gr.Progress(),
                    request: gr.Request = None, *, engine: Engine):
    """Endpoint `show_all_labels`: one row per label, the same seeds in every row."""
    takes = pipeline.controls(model)
    shown, grid, labels, seconds = engine.call(
        "draw", pipeline.label_sheet, model, per_label=PER_LABEL, seed=seed,
        guidance_scale=takes.given("guidance", guidance_scale), steps=takes.given("steps", steps),
        progress=moving(progress))
    return shown, grid, say(language(request), "note.labels", seed=seed, labels=", ".join(labels), s=seconds)


def check_picture(value, request: gr.Request = None):
    """As soon as a picture arrives, a file that is not one is answered, under the user's own
    name, and removed (the page would otherwise show a broken thumbnail until Redraw)."""
    if value is None:
        return gr.update()
    path = _file(value)
    name = (value.get("orig_name") if isinstance(value, dict) else None) or Path(str(path)).name
    try:
        pipeline.open_image(path, "image")
    except AigcError as exc:
        refuse_upload(name, exc, request)
        return None
    return gr.update()


NOT_A_PICTURE = "The image file is not a picture this app can read (PNG, JPEG, WebP, ...)."
# The Inpaint editor opens a picture in the browser and sends nothing to the server until Repaint;
# a file the browser cannot decode would be dropped without a word. This script, run in the page,
# tries to decode each file chosen there and, for one that fails, clicks a hidden button whose
# event answers it like any other upload, with the file's name.
CHECK_EDITOR_UPLOADS = """<script>
document.addEventListener("change", async (event) => {
  const input = event.target;
  if (!(input instanceof HTMLInputElement) || input.type !== "file" || !input.closest("#inpaint-editor")) return;
  const file = input.files && input.files[0];
  if (!file) return;
  try { (await createImageBitmap(file)).close(); return; } catch (_) {}
  window.aigcRefusedPicture = file.name;
  document.querySelector("#inpaint-refused")?.click();
}, true);
</script>"""


def refuse_editor_upload(name: str, request: gr.Request = None) -> None:
    """The answer to a file the Inpaint editor could not open (see CHECK_EDITOR_UPLOADS)."""
    if name:
        refuse_upload(name[:120], NOT_A_PICTURE, request)


def image_to_image(image, prompt: str, model: str, strength: float, guidance_scale: float, seed: int,
                   steps: int, negative_prompt: str, progress=gr.Progress(), request: gr.Request = None, *,
                   engine: Engine):
    """Endpoint `image_to_image`: (gallery, notes)."""
    images = engine.call("draw", pipeline.image_to_image, _file(image), prompt, model=model, strength=strength,
                         guidance_scale=guidance_scale, seed=seed, steps=steps, negative_prompt=negative_prompt,
                         progress=moving(progress))
    return images, say(language(request), "note.seed", seed=seed)


def inpaint(edited, prompt: str, model: str, strength: float, guidance_scale: float, seed: int, steps: int,
            negative_prompt: str, progress=gr.Progress(), request: gr.Request = None, *, engine: Engine):
    """Endpoint `inpaint`: the painted part of the picture redrawn: (gallery, notes)."""
    image, mask = _mask_from_editor(edited)
    images = engine.call("draw", pipeline.inpaint, image, mask, prompt, model=model, strength=strength,
                         guidance_scale=guidance_scale, seed=seed, steps=steps, negative_prompt=negative_prompt,
                         progress=moving(progress))
    return images, say(language(request), "note.seed", seed=seed)


def _hub_settings(cap, prefix: str):
    hub = pipeline.controls(pipeline.DEFAULT_HUB_MODEL).defaults
    model = gr.Textbox(pipeline.DEFAULT_HUB_MODEL, label=i18n("hub.model"), elem_id=f"{prefix}-model",
                       info=i18n("hub.model_info"))
    prompt = gr.Textbox(label=i18n("common.prompt"), lines=2, placeholder=HUB_EXAMPLES[0], elem_id=f"{prefix}-prompt")
    negative = gr.Textbox(label=i18n("common.negative_prompt"), placeholder="blurry, low quality")
    with gr.Row():
        strength = gr.Slider(0.05, 1.0, value=0.6 if prefix == "img2img" else 1.0, step=0.05, label=i18n("hub.strength"),
                             info=i18n("hub.strength_info"))
        steps = gr.Slider(1, cap.max_diffusion_steps, value=max(hub["steps"], 2), step=1, label=i18n("hub.steps"))
    with gr.Row():
        guidance = gr.Slider(0, pipeline.MAX_GUIDANCE, value=hub["guidance"], step=0.5, label=i18n("common.guidance"))
        seed = gr.Number(-1, label=i18n("common.seed"), info=i18n("hub.seed_info"), precision=0, minimum=-1)
    return model, prompt, negative, strength, steps, guidance, seed


def build(engine: Engine) -> gr.Dropdown:
    cap = limits.current()
    models = list_models("conditional")
    names = [m.name for m in models]
    default = pipeline.DEFAULT_MODEL if pipeline.DEFAULT_MODEL in names else (names[0] if names else None)
    takes = pipeline.controls(default)
    hub = pipeline.controls(pipeline.DEFAULT_HUB_MODEL).defaults  # the size options start at a Hub pipeline's
    with gr.Tab(i18n("cond.by_condition")):
        with gr.Row(equal_height=False):
            with gr.Column(scale=2):
                model = gr.Dropdown(names, value=default, label=i18n("common.model"), allow_custom_value=True, elem_id="cond-model",
                                    info=i18n("cond.model_info"))
                condition = gr.Textbox("7", label=CONDITION_LABELS[takes.condition], elem_id="cond-condition",
                                       max_lines=3, info=i18n("cond.condition_info"))
                num = gr.Slider(1, cap.max_images, value=min(16, cap.max_images), step=1, label=i18n("common.num_images"))
                guidance = gr.Slider(0, pipeline.MAX_GUIDANCE, value=takes.defaults.get("guidance", hub["guidance"]),
                                     step=0.5, label=i18n("common.guidance"), visible="guidance" in takes,
                                     info=i18n("cond.guidance_info"))
                steps = gr.Slider(1, cap.max_diffusion_steps, value=takes.defaults.get("steps", hub["steps"]), step=1,
                                  label=i18n("common.denoising_steps"), visible="steps" in takes)
                with gr.Row():
                    seed = gr.Number(-1, label=i18n("common.seed"), info=i18n("common.seed_info"), precision=0, minimum=-1)
                    dice = gr.Button(i18n("common.random_seed"), size="sm")
                with gr.Accordion(i18n("cond.hub_options"), open=False, visible=_hub_options(takes)) as hub_box:
                    negative = gr.Textbox(label=i18n("common.negative_prompt"), placeholder="blurry, low quality")
                    with gr.Row():
                        width = gr.Slider(64, cap.max_side, value=hub["width"], step=8, label=i18n("cond.width"))
                        height = gr.Slider(64, cap.max_side, value=hub["height"], step=8, label=i18n("cond.height"))
                with gr.Row():
                    go = gr.Button(i18n("common.generate"), variant="primary", elem_id="cond-generate")
                    all_go = gr.Button(i18n("cond.show_all"), visible="all_labels" in takes, elem_id="cond-all")
            with gr.Column(scale=3):
                gallery = gr.Gallery(label=i18n("common.samples"), format="png", columns=PER_LABEL, height="auto", object_fit="contain", elem_id="cond-gallery")
                with gr.Row():
                    grid_file = gr.File(label=i18n("common.grid"))
                    notes = gr.Markdown(elem_classes="aigc-notice", elem_id="cond-notes")
        compat.examples_without_header(EXAMPLES, [condition, model], label=i18n("common.examples_then_generate"))
    with gr.Tab(i18n("cond.img2img")):
        with gr.Row(equal_height=False):
            with gr.Column(scale=2):
                source = gr.Image(label=i18n("cond.source"), type="filepath", sources=["upload", "clipboard"], height=300)
                i2i = _hub_settings(cap, "img2img")
                i2i_go = gr.Button(i18n("cond.redraw"), variant="primary")
            with gr.Column(scale=3):
                i2i_gallery = gr.Gallery(label=i18n("cond.result"), columns=2, height="auto", object_fit="contain")
                i2i_notes = gr.Markdown(elem_classes="aigc-notice")
    with gr.Tab(i18n("cond.inpaint")):
        with gr.Row(equal_height=False):
            with gr.Column(scale=2):
                gr.Markdown(i18n("cond.editor"))  # not the label: the editor's toolbar sits over a long one
                editor = gr.ImageEditor(label=i18n("cond.editor_label"), type="pil", elem_id="inpaint-editor",
                                        sources=["upload", "clipboard"], layers=False, height=360,
                                        brush=gr.Brush(colors=["#ffffff"], color_mode="fixed"))
                inp = _hub_settings(cap, "inpaint")
                inp_go = gr.Button(i18n("cond.repaint"), variant="primary")
                refused = gr.Button(visible="hidden", elem_id="inpaint-refused")
            with gr.Column(scale=3):
                inp_gallery = gr.Gallery(label=i18n("cond.result"), columns=2, height="auto", object_fit="contain")
                inp_notes = gr.Markdown(elem_classes="aigc-notice")

    model.change(_controls_for, model, [guidance, steps, hub_box, all_go, condition], queue=False, api_visibility="private")
    blank_on([go.click, condition.submit, all_go.click], notes)
    blank_on([i2i_go.click], i2i_notes)
    blank_on([inp_go.click], inp_notes)
    conditional = endpoint(engine, generate_conditional, seeds=("seed",))
    go.click(conditional, [condition, model, num, guidance, seed, steps, negative, width, height],
             [gallery, grid_file, notes], api_name="generate_conditional", concurrency_limit=2)
    condition.submit(conditional, [condition, model, num, guidance, seed, steps, negative, width, height],
                     [gallery, grid_file, notes], api_visibility="private", concurrency_limit=2)
    all_go.click(endpoint(engine, show_all_labels, seeds=("seed",)), [model, guidance, seed, steps], [gallery, grid_file, notes],
                 api_name="show_all_labels", concurrency_limit=2)
    dice.click(lambda: random_seed(), None, seed, api_visibility="private", queue=False)
    m, prompt, negative_i, strength, steps_i, guidance_i, seed_i = i2i
    source.upload(check_picture, source, source, preprocess=False, api_visibility="private", show_progress="hidden")
    i2i_go.click(endpoint(engine, image_to_image, seeds=("seed",)), [source, prompt, m, strength, guidance_i, seed_i, steps_i, negative_i],
                 [i2i_gallery, i2i_notes], api_name="image_to_image", concurrency_limit=1, preprocess=False)
    m, prompt, negative_p, strength, steps_p, guidance_p, seed_p = inp
    refused.click(refuse_editor_upload, refused, None, js="() => [window.aigcRefusedPicture]", api_visibility="private",
                  show_progress="hidden")
    inp_go.click(endpoint(engine, inpaint, seeds=("seed",)), [editor, prompt, m, strength, guidance_p, seed_p, steps_p, negative_p],
                 [inp_gallery, inp_notes], api_name="inpaint", concurrency_limit=1, preprocess=False)
    return model  # the app refreshes its choices when a training run adds a model
