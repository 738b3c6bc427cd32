"""Image tab: sample grids from the built-in GAN, VAE and diffusion models or a Hub pipeline;
a latent walk between two seeds; a VAE's reconstruction of a real digit."""

from __future__ import annotations

import gradio as gr

from .. import limits
from ..device import random_seed
from ..pipelines import image as pipeline
from ..catalog import list_models
from ..serving import Engine
from .endpoint import endpoint
from .i18n import i18n
from .notes import blank_on, images_note
from .steps import moving

# (model, images, seed, denoising steps, scheduler): each built-in kind once, diffusion with few and many steps
EXAMPLES = [["dcgan-digits", 16, 7, 25, "ddim"], ["vae-digits", 16, 3, 25, "ddim"],
            ["ddpm-digits", 8, 1, 10, "dpm++"], ["ddpm-digits", 8, 1, 50, "ddim"]]


def generate_images(model: str, num_images: int, seed: int, steps: int, scheduler: str, progress=gr.Progress(),
                    request: gr.Request = None, *, engine: Engine):
    """Endpoint `generate_images`: (gallery, grid PNG path, notes)."""
    takes = pipeline.controls(model)
    samples, grid, seconds = engine.call("draw", pipeline.draw, pipeline.generate_images, f"{model}-seed{seed}",
                                         progress=moving(progress), model=model, num_images=num_images, seed=seed,
                                         steps=takes.given("steps", steps),
                                         scheduler=takes.given("scheduler", scheduler))
    return samples, grid, images_note(seed, len(samples), seconds, request)


def walk(model: str, seed_a: int, seed_b: int, frames: int, request: gr.Request = None, *, engine: Engine):
    """A GIF that morphs seed A's image into seed B's, and back."""
    return engine.call("draw", pipeline.walk_gif, model, seed_a=seed_a, seed_b=seed_b, frames=frames)


def reconstruct(model: str, request: gr.Request = None, *, engine: Engine):
    return engine.call("draw", pipeline.reconstruction_pngs, model)


def _controls_for(model: str):
    """The denoising controls, the latent walk and the reconstruction, each shown when the model takes it."""
    takes = pipeline.controls(model)
    return (gr.update(visible="steps" in takes), gr.update(visible="walk" in takes),
            gr.update(visible="reconstruct" in takes))


def build(engine: Engine) -> gr.Dropdown:
    cap = limits.current()
    models = list_models("image")
    names = [m.name for m in models]
    default = "dcgan-digits" if "dcgan-digits" in names else (names[0] if names else None)
    takes = pipeline.controls(default)
    with gr.Row(equal_height=False):
        with gr.Column(scale=2):
            model = gr.Dropdown(names, value=default, label=i18n("common.model"), allow_custom_value=True, elem_id="image-model",
                                info=i18n("image.model_info"))
            num = gr.Slider(1, cap.max_images, value=min(16, cap.max_images), step=1, label=i18n("common.num_images"))
            with gr.Row():
                seed = gr.Number(-1, label=i18n("common.seed"), info=i18n("common.seed_info"), precision=0, minimum=-1)
                dice = gr.Button(i18n("common.random_seed"), size="sm")
            with gr.Group(visible="steps" in takes) as diffusion_box:
                steps = gr.Slider(1, cap.max_diffusion_steps, value=pipeline.DEFAULT_STEPS, step=1,
                                  label=i18n("common.denoising_steps"))
                scheduler = gr.Radio(list(pipeline.SCHEDULERS), value=pipeline.DEFAULT_SCHEDULER, label=i18n("image.scheduler"),
                                     info=i18n("image.scheduler_info"))
            go = gr.Button(i18n("common.generate"), variant="primary", elem_id="image-generate")
        with gr.Column(scale=3):
            gallery = gr.Gallery(label=i18n("common.samples"), format="png", columns=6, height="auto", object_fit="contain", elem_id="image-gallery")
            with gr.Row():
                grid_file = gr.File(label=i18n("common.grid"), elem_id="image-grid")
                notes = gr.Markdown(elem_classes="aigc-notice", elem_id="image-notes")
    with gr.Accordion(i18n("image.walk"), open=False, visible="walk" in takes) as walk_box:
        with gr.Row():
            seed_a = gr.Number(0, label=i18n("image.seed_a"), precision=0, minimum=0)
            seed_b = gr.Number(1, label=i18n("image.seed_b"), precision=0, minimum=0)
            frames = gr.Slider(2, cap.max_walk_frames, value=16, step=1, label=i18n("common.frames"))
            walk_go = gr.Button(i18n("image.walk_button"))
        animation = gr.Image(label=i18n("image.walk_gif"), type="filepath", elem_id="image-walk", height=160)
    with gr.Accordion(i18n("image.vae"), open=False, visible="reconstruct" in takes) as recon_box:
        recon_go = gr.Button(i18n("image.reconstruct_button"))
        with gr.Row():
            original = gr.Image(label=i18n("image.real_digit"), height=160)
            rebuilt = gr.Image(label=i18n("image.reconstruction"), height=160)

    shipped = [row for row in EXAMPLES if row[0] in names]
    if shipped:
        gr.Examples(shipped, [model, num, seed, steps, scheduler], label=i18n("common.examples_then_generate"),
                    example_labels=[row[0] + (f" · {row[3]} steps" if "steps" in pipeline.controls(row[0]) else "")
                                    for row in shipped])
    model.change(_controls_for, model, [diffusion_box, walk_box, recon_box], queue=False, api_visibility="private")
    blank_on([go.click], notes)
    go.click(endpoint(engine, generate_images, seeds=("seed",)), [model, num, seed, steps, scheduler],
             [gallery, grid_file, notes], api_name="generate_images", concurrency_limit=4)
    walk_go.click(endpoint(engine, walk), [model, seed_a, seed_b, frames], animation, api_name="latent_walk",
                  concurrency_limit=2)
    recon_go.click(endpoint(engine, reconstruct), model, [original, rebuilt], api_name="reconstruct", concurrency_limit=2)
    dice.click(lambda: random_seed(), None, seed, api_visibility="private", queue=False)
    return model  # the app refreshes its choices when a training run adds a model
