"""Pictures edited by library models, as `aigc.loaders` loads them for the task "edit": super-resolution by
Swin2SR (Conde et al. 2022) through transformers, by Stable Diffusion's x4 upscaler (a latent diffusion model
guided by a prompt) and by latent diffusion super-resolution (Rombach et al. 2022) through diffusers; and
InstructPix2Pix (Brooks et al. 2023), which changes a picture as an instruction says ("make it snowy").

An upscaler's answer is exactly `scale` times wider and taller than its picture: a model that needs sides in
multiples of some number gets the picture padded by mirroring its edges, and the padding is cut off its answer
(the pipelines' own preprocessing would otherwise crop or stretch it). Their answers are Hub models' pictures,
held to `limits.max_side` as text-to-image's are: a picture whose answer would be larger is refused, since
shrinking it to upscale it again gives back less than it had; InstructPix2Pix answers at the picture's size,
shrunk to `limits.max_side` (with a `Notice`) as image-to-image does. Every argument is checked here, whatever
the caller, and whatever the library raises becomes one sentence (AigcError).
"""

from __future__ import annotations

import contextlib
import math
import random
import threading
import warnings
from collections.abc import Callable

import numpy as np
import torch
from PIL import Image

from .. import limits
from ..errors import AigcError, Notice
from ..loaders import EditModel
from ..progress import Steps, step_callback
from ..registry import load
from . import validate
from .conditional import open_image
from .controls import MAX_GUIDANCE

DEFAULT_UPSCALER = "caidas/swin2SR-classical-sr-x2-64"
DEFAULT_INSTRUCT = "timbrooks/instruct-pix2pix"
MIN_SIDE = 8  # pixels: below this a picture has nothing to upscale
# What each pipeline runs with unless told otherwise. The x4 upscaler's own 75 steps and LDM's 100 are slow
# for what more steps add; 20 steps at 7.5 and 1.5 are InstructPix2Pix's paper settings with fewer steps.
DEFAULTS = {"StableDiffusionUpscalePipeline": {"steps": 25, "guidance": 9.0},
            "LDMSuperResolutionPipeline": {"steps": 50},
            "StableDiffusionInstructPix2PixPipeline": {"steps": 20, "guidance": 7.5, "image_guidance": 1.5},
            "Swin2SRForImageSuperResolution": {}}


def hub_upscale(image, model: str, prompt: str = "", steps: int | None = None, guidance_scale: float | None = None,
                seed: int | None = None) -> Image.Image:
    """The uploaded picture `scale` times wider and taller by the upscaler `model` (its EditModel's `scale`).

    `prompt`, `guidance_scale` (the x4 upscaler) and `steps`, `seed` (the diffusion upscalers) apply where the
    model takes them and are ignored elsewhere; `None`: the model's own default (`DEFAULTS`).
    """
    prompt = validate.text("prompt", prompt, limits.current().caption_chars).strip()
    steps, guidance, seed = _steps(steps), _guidance("guidance scale", guidance_scale), _seed(seed)
    picture = open_image(image)
    m = _library_model(model, "upscale")
    _check_upscale_size(m, picture)
    named = m.config["class"]
    if named == "Swin2SRForImageSuperResolution":
        return _run(m, lambda: _swin2sr(m, picture))
    own = DEFAULTS[named]
    options = {"num_inference_steps": steps or own["steps"], "generator": torch.Generator().manual_seed(seed)}
    pipe = m.net
    if named == "StableDiffusionUpscalePipeline":
        options.update(prompt=prompt, guidance_scale=own["guidance"] if guidance is None else guidance)
        options.update(step_callback(pipe, options["num_inference_steps"]))
        multiple, told = math.lcm(pipe.vae_scale_factor, _unet_factor(pipe.unet)), contextlib.nullcontext()
    else:  # LDMSuperResolutionPipeline floors the picture's sides to multiples of 32 and takes no step callback
        multiple, told = math.lcm(32, _unet_factor(pipe.unet)), _unet_steps(pipe, options["num_inference_steps"])
    with told:
        answer = _run(m, lambda: pipe(image=_mirrored(picture, multiple), **options).images[0])
    return answer.crop((0, 0, picture.width * m.scale, picture.height * m.scale))


def instruct(image, instruction, model: str = DEFAULT_INSTRUCT, steps: int | None = None,
             guidance_scale: float | None = None, image_guidance_scale: float | None = None,
             seed: int | None = None) -> Image.Image:
    """The uploaded picture changed as `instruction` says ("make it snowy"), at its own size (shrunk to the
    side limit, with a `Notice`). `guidance_scale` weighs the instruction, `image_guidance_scale` the picture;
    guidance is off unless the first is above 1 and the second at least 1. `None`: `DEFAULTS`."""
    instruction = validate.text("instruction", instruction, limits.current().caption_chars).strip()
    if not instruction:
        raise AigcError("Type what to change in the picture, for example 'make it snowy'.")
    steps, seed = _steps(steps), _seed(seed)
    guidance = _guidance("guidance scale", guidance_scale)
    image_guidance = _guidance("image guidance scale", image_guidance_scale)
    picture = _fitted(open_image(image), limits.current().max_side)
    m = _library_model(model, "instruct")
    own, pipe = DEFAULTS[m.config["class"]], m.net
    options = {"num_inference_steps": steps or own["steps"], "generator": torch.Generator().manual_seed(seed),
               "guidance_scale": own["guidance"] if guidance is None else guidance,
               "image_guidance_scale": own["image_guidance"] if image_guidance is None else image_guidance}
    options.update(step_callback(pipe, options["num_inference_steps"]))
    answer = _run(m, lambda: pipe(instruction, image=_mirrored(picture, pipe.vae_scale_factor), **options).images[0])
    return answer.crop((0, 0, picture.width, picture.height))


# -- checks -------------------------------------------------------------------------------------------------

def _steps(steps) -> int | None:
    return None if steps is None else validate.number("steps", steps, 1, limits.current().max_diffusion_steps,
                                                      integer=True)


def _guidance(name: str, value) -> float | None:
    return None if value is None else validate.number(name, value, 0, MAX_GUIDANCE)


def _seed(seed) -> int:
    seed = validate.seed(seed)
    return random.randrange(2**31) if seed is None else seed


def _library_model(model: str, what: str) -> EditModel:
    """The loaded library model `model`, refused with one sentence when it does something else than `what`."""
    m = load(model, "edit")
    if m.kind != "hub":
        raise AigcError(f"'{m.info.name}' is one of this app's own picture tools, not a library model.")
    if m.what != what:
        if what == "upscale":
            raise AigcError(f"'{m.info.name}' changes a picture as an instruction says and does not upscale; "
                            f"choose an upscaler such as {DEFAULT_UPSCALER}.")
        raise AigcError(f"'{m.info.name}' upscales a picture and follows no instruction; choose an instruction "
                        f"follower such as {DEFAULT_INSTRUCT}.")
    return m


def _check_upscale_size(m: EditModel, picture: Image.Image) -> None:
    width, height = picture.size
    if min(width, height) < MIN_SIDE:
        raise AigcError(f"The image is {width}x{height} pixels; an upscaler needs at least {MIN_SIDE} pixels a side.")
    side = limits.current().max_side
    most = side // m.scale
    if max(width, height) > most:
        raise AigcError(f"The image is {width}x{height} pixels, and '{m.info.name}' makes it {m.scale} times larger, "
                        f"beyond the limit of {side:,} pixels a side: upload one of at most {most:,} pixels a side "
                        "(or a crop of it).")


def _fitted(picture: Image.Image, side: int) -> Image.Image:
    """`picture` shrunk to fit `side` on its longer side, told as a Notice; as it is when it fits."""
    if min(picture.size) < MIN_SIDE:
        raise AigcError(f"The image is {picture.width}x{picture.height} pixels; editing needs at least {MIN_SIDE} "
                        "pixels a side.")
    if max(picture.size) <= side:
        return picture
    ratio = side / max(picture.size)
    size = tuple(max(MIN_SIDE, round(s * ratio)) for s in picture.size)
    warnings.warn(f"The image was shrunk from {picture.width}x{picture.height} to {size[0]}x{size[1]} pixels, "
                  f"the limit being {side:,} pixels a side.", Notice, stacklevel=3)
    return picture.resize(size, Image.Resampling.LANCZOS)


# -- running the models ---------------------------------------------------------------------------------------

def _run(m: EditModel, call: Callable[[], Image.Image]) -> Image.Image:
    """`call()` without gradients, whatever it raises (but this app's own sentences) said in one sentence."""
    try:
        with torch.inference_mode():
            return call()
    except AigcError:
        raise
    except torch.OutOfMemoryError:
        raise AigcError(f"'{m.info.name}' ran out of memory on this picture; try a smaller one.") from None
    except Exception as exc:  # the libraries fail in many ways, each told as one sentence
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200].rstrip(". ")
        raise AigcError(f"'{m.info.name}' could not edit this picture: {first}.") from exc


def _swin2sr(m: EditModel, picture: Image.Image) -> Image.Image:
    pixels = m.processor(picture, return_tensors="pt")["pixel_values"]
    out = m.net(pixel_values=pixels.to(m.device, torch.float32)).reconstruction[0]
    # the processor pads the sides (always by at least one pixel); the answer for the padding is cut off
    out = out[:, :picture.height * m.scale, :picture.width * m.scale].clamp(0, 1)
    return Image.fromarray((out.permute(1, 2, 0).float().cpu().numpy() * 255).round().astype(np.uint8))


def _unet_factor(unet) -> int:
    """How many times a UNet halves the sides: pictures whose latents divide by it need no padding inside."""
    return 2 ** (len(unet.config.block_out_channels) - 1)


def _mirrored(picture: Image.Image, multiple: int) -> Image.Image:
    """`picture` padded on the right and bottom to sides in multiples of `multiple`, by mirroring its edges
    (mirrored content upscales like the picture's own, where black would bleed into its edges)."""
    pad_w, pad_h = -picture.width % multiple, -picture.height % multiple
    if not pad_w and not pad_h:
        return picture
    return Image.fromarray(np.pad(np.asarray(picture), ((0, pad_h), (0, pad_w), (0, 0)), mode="symmetric"))


@contextlib.contextmanager
def _unet_steps(pipe, steps: int):
    """Each call of the pipeline's UNet told to `aigc.progress` as a denoising step, for pipelines that take no
    step callback (LDM super-resolution calls its UNet once a step). Calls from other threads (another request
    on the same model) are not counted."""
    counted = Steps(range(steps))
    if counted.callback is None:  # nobody listens
        yield
        return
    ticks = iter(counted)
    next(ticks)  # Steps tells a step done when the next one is asked for: the first is asked for now
    caller = threading.get_ident()

    def on_forward(module, args, output):
        if threading.get_ident() == caller:
            next(ticks, None)

    handle = pipe.unet.register_forward_hook(on_forward)
    try:
        yield
    finally:
        handle.remove()
