"""Conditional image generation: by class label, by caption, and with Hub text-to-image,
image-to-image and inpainting pipelines.

`condition` is a label name ("7") for label models and a caption for the others. Every
argument is checked here, whatever the caller, and a bad one is answered with one
sentence (AigcError). Image i of seed s is drawn from seed s + i, as in `image.py`.
"""

from __future__ import annotations

import random
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from .. import limits
from ..data import shapes
from ..errors import AigcError
from ..loaders import ConditionalModel
from ..models.sampling import conditioned, generators
from ..progress import step_callback
from ..registry import load
from . import validate
from .captions import caption_ids
from .controls import MAX_GUIDANCE, Controls, own_model
from .image import _seed, page_files, to_pil

DEFAULT_MODEL = "cgan-digits"
DEFAULT_HUB_MODEL = "stabilityai/sd-turbo"
PER_LABEL = 8  # images in each row of `label_rows`
GUIDED = {"guidance": 3.0, "sample_steps": 25}  # a guided diffusion model's defaults when its config.json names none
HUB_SIZE = 512  # the side a Hub pipeline's size controls start at (SD-Turbo's own)
# The options of each kind of conditional model, and what its text box holds.
OPTIONS = {"cgan": frozenset({"all_labels"}), "guided-diffusion": frozenset({"guidance", "steps", "all_labels"}),
           "text2img": frozenset(), "hub": frozenset({"guidance", "steps", "negative_prompt", "size"})}
CONDITION = {"cgan": "label", "guided-diffusion": "label", "text2img": "caption", "hub": "prompt"}


def controls(model: str) -> Controls:
    """What the conditional model `model` takes (see `aigc.pipelines.controls`), without loading it."""
    own = own_model(model, "conditional")
    if own is None:
        guidance, steps = hub_defaults(model)
        return Controls("hub", OPTIONS["hub"], {"guidance": guidance, "steps": steps, "width": HUB_SIZE,
                                                "height": HUB_SIZE}, CONDITION["hub"])
    config = own[1]
    kind = config["kind"]
    options = OPTIONS.get(kind, frozenset())
    defaults = dict(zip(("guidance", "steps"), guided_defaults(config))) if "guidance" in options else {}
    labels = tuple(config["class_names"]) if config.get("class_names") else None
    return Controls(kind, options, defaults, CONDITION.get(kind, "caption"), labels)


def guided_defaults(config: dict) -> tuple[float, int]:
    """(guidance, steps) a guided diffusion model runs with unless told otherwise: its config.json's."""
    return float(config.get("guidance", GUIDED["guidance"])), int(config.get("sample_steps", GUIDED["sample_steps"]))


def hub_defaults(location: str) -> tuple[float, int]:
    """(guidance, steps) a Hub text-to-image pipeline runs with unless told otherwise: a turbo model is
    distilled for one step without guidance; others get the usual 7.5 and 25 steps."""
    return (0.0, 1) if "turbo" in location.lower() else (7.5, 25)


def _steps(steps) -> int | None:
    if steps is None:
        return None
    return validate.number("steps", steps, 1, limits.current().max_diffusion_steps, integer=True)


def _guidance(value) -> float | None:
    return None if value is None else validate.number("guidance scale", value, 0, MAX_GUIDANCE)


def label_index(model: ConditionalModel, condition) -> int:
    labels = model.labels
    if isinstance(condition, (int, np.integer)) and not isinstance(condition, bool):
        condition = str(int(condition))
    name = condition.strip() if isinstance(condition, str) else None
    if not name:
        raise AigcError(f"Choose a label: '{model.info.name}' draws {', '.join(labels)}.")
    if name not in labels:
        raise AigcError(f"'{name[:40]}' is not a label of '{model.info.name}'; it draws {', '.join(labels)}.")
    return labels.index(name)


@torch.inference_mode()
def _guided(model: ConditionalModel, labels: torch.Tensor, seed: int, guidance: float | None, steps: int | None) -> torch.Tensor:
    from ..models.diffusion import sample_guided

    own_guidance, own_steps = guided_defaults(model.config)
    guidance = own_guidance if guidance is None else guidance
    steps = steps or own_steps
    return sample_guided(model.net, model.scheduler, labels, guidance, steps, generator=generators(seed, len(labels)))


def draw(model: ConditionalModel, conditions: list, seed: int, guidance=None, steps=None) -> list[Image.Image]:
    """One picture per condition from a built-in model (checked, loaded), image i from seed + i."""
    if model.kind == "text2img":
        for c in conditions:
            caption_ids(model, c)  # refuses empty captions and unknown words, with one sentence
        return to_pil(conditioned(model.net, model.config["z_dim"], completed_captions(model, conditions, seed), seed))
    labels = torch.tensor([label_index(model, c) for c in conditions])
    if model.kind == "cgan":
        return to_pil(conditioned(model.net, model.config["z_dim"], labels, seed))
    return to_pil(_guided(model, labels, seed, guidance, steps))


def completed_captions(model: ConditionalModel, captions: list[str], seed: int, complete: bool = True) -> torch.Tensor:
    """Word ids of the captions, each attribute a caption leaves out drawn at random (image i
    from seed + i), as the training data draws it. The generator also follows partial captions
    by itself (it was trained with attributes dropped), but measured less well: its card gives
    both figures."""
    if not complete:
        return model.vocabulary.encode(captions, model.config["caption_length"])
    full = [shapes.caption(shapes.complete(shapes.parse_caption(c), random.Random(seed + i)))
            for i, c in enumerate(captions)]
    return model.vocabulary.encode(full, model.config["caption_length"])


def _size(name: str, value) -> int | None:
    if value is None:
        return None
    value = validate.number(name, value, 64, limits.current().max_side, integer=True)
    return value - value % 8  # the VAE halves the side three times


def _hub_options(model: ConditionalModel, seed: int, n: int, guidance, steps, negative_prompt) -> dict:
    own_guidance, own_steps = hub_defaults(model.info.location)
    negative_prompt = validate.text("negative prompt", negative_prompt, limits.current().caption_chars) or None
    return {"num_inference_steps": steps or own_steps,
            "guidance_scale": own_guidance if guidance is None else guidance,
            "negative_prompt": negative_prompt, "generator": generators(seed, n), "num_images_per_prompt": n}


def _prompt(caption) -> str:
    caption = validate.text("prompt", caption, limits.current().caption_chars).strip()
    if not caption:
        raise AigcError("Type a prompt that describes the picture, for example 'a watercolor fox in the snow'.")
    return caption


def generate_conditional(condition, model: str = DEFAULT_MODEL, num_images: int = 16, guidance_scale: float | None = None,
                         seed: int | None = None, steps: int | None = None, negative_prompt: str | None = None,
                         width: int | None = None, height: int | None = None) -> list[Image.Image]:
    """`num_images` pictures of `condition`: a label name ("7") or a caption.

    `guidance_scale` and `steps` apply to diffusion models (`None`: the model's own default);
    `negative_prompt`, `width` and `height` to Hub pipelines.
    """
    num_images = validate.number("number of images", num_images, 1, limits.current().max_images, integer=True)
    guidance, steps = _guidance(guidance_scale), _steps(steps)
    width, height = _size("width", width), _size("height", height)
    seed = _seed(seed)
    m = load(model, "conditional")
    if m.kind != "hub":
        return draw(m, [condition] * num_images, seed, guidance, steps)
    options = _hub_options(m, seed, num_images, guidance, steps, negative_prompt)
    options.update(step_callback(m.net, options["num_inference_steps"]))
    return list(m.net(_prompt(condition), width=width, height=height, **options).images)


def label_rows(model: str = DEFAULT_MODEL, per_label: int = PER_LABEL, seed: int | None = None,
               guidance_scale: float | None = None, steps: int | None = None) -> tuple[list[str], list[Image.Image]]:
    """Every label of a label model, `per_label` images each, label by label: (labels, images).
    Row r uses the same seeds as every other row, so rows differ by their label alone."""
    per_label = validate.number("images per label", per_label, 1, 16, integer=True)
    guidance, steps = _guidance(guidance_scale), _steps(steps)
    seed = _seed(seed)
    m = load(model, "conditional")
    if not m.labels:
        raise AigcError(f"'{m.info.name}' follows captions, not labels; type a caption instead.")
    images = []
    for label in m.labels:
        images += draw(m, [label] * per_label, seed, guidance, steps)
    return m.labels, images


def label_sheet(model: str = DEFAULT_MODEL, per_label: int = PER_LABEL, seed: int | None = None,
                guidance_scale: float | None = None, steps: int | None = None) -> tuple[list[tuple[str, str]], str, list[str], float]:
    """`label_rows` as PNG files for a page: ([(image, its label)], the grid of all rows, the labels,
    seconds the drawing took)."""
    seed, start = _seed(seed), time.perf_counter()
    labels, images = label_rows(model, per_label, seed, guidance_scale, steps)
    seconds = time.perf_counter() - start
    per_row = len(images) // len(labels)
    files, grid = page_files(images, f"{model}-labels-seed{seed}", nrow=per_row)
    return [(path, labels[i // per_row]) for i, path in enumerate(files)], grid, labels, seconds


# -- Hub image-to-image and inpainting --------------------------------------------------------------

def open_image(value, what: str = "image", mode: str | None = None) -> Image.Image:
    """An uploaded picture (PIL image, array or file path) as RGB, refused when it is not an
    image or too large. The size is read from the header before any pixel is decoded."""
    lim = limits.current()
    if value is None:
        raise AigcError(f"Upload {'an' if what[0] in 'aeiou' else 'a'} {what} first.")
    if isinstance(value, np.ndarray):
        if value.ndim not in (2, 3) or value.size == 0:
            raise AigcError(f"The {what} must be a picture (a 2-D or 3-D array), not shape {value.shape}.")
        value = Image.fromarray(value.astype(np.uint8) if value.dtype != np.uint8 else value)
    elif isinstance(value, (str, Path)):
        path = Path(value)
        if not path.is_file():
            raise AigcError(f"The {what} file was not found.")
        if path.stat().st_size > lim.upload_bytes:
            raise AigcError(f"The {what} file is {path.stat().st_size / 1e6:.1f} MB; the limit is {lim.upload_bytes / 1e6:.0f} MB.")
        try:
            value = Image.open(path)
        except (UnidentifiedImageError, OSError):
            raise AigcError(f"The {what} file is not a picture this app can read (PNG, JPEG, WebP, ...).") from None
    elif not isinstance(value, Image.Image):
        raise AigcError(f"The {what} must be a picture, not {type(value).__name__}.")
    if value.width * value.height > lim.upload_pixels:
        raise AigcError(f"The {what} is {value.width}x{value.height} pixels; the limit is {lim.upload_pixels:,} pixels in all.")
    try:
        return value.convert(mode or ("RGB" if what == "image" else "L"))
    except (OSError, Image.DecompressionBombError):
        raise AigcError(f"The {what} file is damaged or not a picture this app can read.") from None


def _working_size(image: Image.Image) -> tuple[int, int]:
    """The upload's size, shrunk to fit the side limit, in multiples of 8."""
    scale = min(1.0, limits.current().max_side / max(image.size))
    return tuple(max(64, int(side * scale) // 8 * 8) for side in image.size)


def _hub_pipeline(model: str, task: str):
    m = load(model, "conditional")
    if m.kind != "hub":
        raise AigcError(f"'{m.info.name}' draws from a label or caption only; {task} needs a Hub pipeline such as {DEFAULT_HUB_MODEL}.")
    from diffusers import AutoPipelineForImage2Image, AutoPipelineForInpainting

    auto = AutoPipelineForImage2Image if task == "image-to-image" else AutoPipelineForInpainting
    try:
        pipe = auto.from_pipe(m.net)
    except (ValueError, KeyError) as exc:
        raise AigcError(f"'{m.info.name}' has no {task} pipeline in diffusers.") from exc
    pipe.set_progress_bar_config(disable=True)  # a twin does not inherit its original's settings
    return m, pipe


def image_to_image(image, prompt, model: str = DEFAULT_HUB_MODEL, strength: float = 0.6, num_images: int = 1,
                   guidance_scale: float | None = None, seed: int | None = None, steps: int | None = None,
                   negative_prompt: str | None = None) -> list[Image.Image]:
    """The uploaded picture redrawn to follow `prompt`; `strength` 0 keeps it, 1 replaces it."""
    strength = validate.number("strength", strength, 0.05, 1.0)
    return _edit("image-to-image", image, None, prompt, model, strength, num_images, guidance_scale, seed, steps, negative_prompt)


def inpaint(image, mask, prompt, model: str = DEFAULT_HUB_MODEL, strength: float = 1.0, num_images: int = 1,
            guidance_scale: float | None = None, seed: int | None = None, steps: int | None = None,
            negative_prompt: str | None = None) -> list[Image.Image]:
    """The white part of `mask` (same size as `image`) repainted to follow `prompt`."""
    strength = validate.number("strength", strength, 0.05, 1.0)
    return _edit("inpainting", image, mask, prompt, model, strength, num_images, guidance_scale, seed, steps, negative_prompt)


def _edit(task, image, mask, prompt, model, strength, num_images, guidance_scale, seed, steps, negative_prompt):
    num_images = validate.number("number of images", num_images, 1, min(4, limits.current().max_images), integer=True)
    guidance, steps = _guidance(guidance_scale), _steps(steps)
    prompt, seed = _prompt(prompt), _seed(seed)
    picture = open_image(image)
    extra = {}
    if task == "inpainting":
        painted = open_image(mask, "mask")
        if painted.size != picture.size:
            raise AigcError(f"The mask is {painted.width}x{painted.height} but the image is {picture.width}x{picture.height}; "
                            "paint the mask over the image itself.")
        if painted.getextrema()[1] < 128:
            raise AigcError("The mask is empty: paint over the part of the image to change.")
        extra["mask_image"] = painted
    width, height = _working_size(picture)
    m, pipe = _hub_pipeline(model, task)
    options = _hub_options(m, seed, num_images, guidance, steps, negative_prompt)
    # Image-to-image runs only strength * steps denoising steps: keep at least one.
    options["num_inference_steps"] = max(options["num_inference_steps"], int(np.ceil(1 / strength)))
    if "mask_image" in extra:
        extra["mask_image"] = extra["mask_image"].resize((width, height))
        extra.update(width=width, height=height)
    options.update(step_callback(pipe, options["num_inference_steps"]))
    return list(pipe(prompt, image=picture.resize((width, height)), strength=strength, **extra, **options).images)
