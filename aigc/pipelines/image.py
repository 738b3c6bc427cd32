"""Unconditional image generation: sample grids, latent walks and VAE reconstructions.

Every function takes plain numbers (validated here, whatever the caller) and returns
PIL images; `draw`, `walk_gif` and `reconstruction_pngs` write them as files for a page
instead (the app runs them in its picture worker). A seed fixes the noise, drawn on the
CPU, so the same seed gives the same images on any device.
"""

from __future__ import annotations

import random
import time
from typing import Callable

import numpy as np
import torch
from PIL import Image
from torchvision.transforms.functional import pil_to_tensor, to_pil_image
from torchvision.utils import make_grid

from .. import limits
from ..errors import AigcError
from ..loaders import ImageModel
from ..models.diffusion import DEFAULT_SCHEDULER, DEFAULT_STEPS, SCHEDULERS
from ..models.sampling import generators, latents
from ..paths import OUTPUTS, new_output
from ..registry import load
from . import validate
from .controls import Controls, own_model

DISPLAY_SCALE = 4  # 32x32 samples are shown enlarged without blur, so strokes stay crisp
DENOISING = frozenset({"steps", "scheduler"})
# The options of each kind of unconditional model; "hub" is any diffusers pipeline (sampled as "diffusion").
OPTIONS = {"dcgan": frozenset({"walk"}), "vae": frozenset({"walk", "reconstruct"}), "diffusion": DENOISING,
           "hub": DENOISING}


def controls(model: str) -> Controls:
    """What the unconditional image model `model` takes (see `aigc.pipelines.controls`), without loading it."""
    own = own_model(model, "image")
    kind = own[1]["kind"] if own else "hub"
    options = OPTIONS.get(kind, frozenset())
    defaults = {"steps": DEFAULT_STEPS, "scheduler": DEFAULT_SCHEDULER} if "steps" in options else {}
    return Controls(kind, options, defaults)


def _seed(seed) -> int:
    seed = validate.seed(seed)
    return random.randrange(2**31) if seed is None else seed


def to_pil(images: torch.Tensor) -> list[Image.Image]:
    """A batch in [-1, 1] as PIL images (grayscale for one channel)."""
    images = ((images.float().cpu().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    return [to_pil_image(im) for im in images]


def image_grid(images: list[Image.Image], nrow: int | None = None, scale: int = 1) -> Image.Image:
    """One picture of the images in rows (torchvision `make_grid`), optionally enlarged without blur."""
    if not images:
        raise AigcError("There are no images to put in a grid.")
    batch = torch.stack([pil_to_tensor(im.convert("RGB")) for im in images])
    nrow = nrow or max(1, round(len(images) ** 0.5))
    grid = to_pil_image(make_grid(batch, nrow=nrow, padding=2, pad_value=80))
    if all(im.mode == "L" for im in images):
        grid = grid.convert("L")  # gray stays gray: a third of the bytes to write
    return grid.resize((grid.width * scale, grid.height * scale), Image.NEAREST) if scale > 1 else grid


def display_scale(width: int) -> int:
    """How many times a picture `width` pixels wide is enlarged on the page: DISPLAY_SCALE for small samples, else 1."""
    return DISPLAY_SCALE if width < 128 else 1


def for_display(im: Image.Image) -> Image.Image:
    """A small picture enlarged without blur (`display_scale`); a large one as it is."""
    scale = display_scale(im.width)
    return im.resize((im.width * scale, im.height * scale), Image.NEAREST) if scale > 1 else im


def save_png(picture: Image.Image, stem: str) -> str:
    """`picture` as a new PNG in outputs/images, its name starting with `stem`."""
    path = new_output(OUTPUTS / "images", stem, ".png")
    picture.save(path, compress_level=1)  # flat-colored samples compress well anyway; level 6 costs far more time
    return str(path)


def draw(generate: Callable[..., list[Image.Image]], stem: str, **kwargs) -> tuple[list[str], str, float]:
    """The pictures of `generate(**kwargs)` as PNG files for a page: each one (small ones
    enlarged without blur) and a grid of them all, eight to a row; with the seconds that
    `generate` took. `stem` starts the files' names."""
    start = time.perf_counter()
    images = generate(**kwargs)
    seconds = time.perf_counter() - start
    return (*page_files(images, stem, nrow=min(8, len(images))), seconds)


def page_files(images: list[Image.Image], stem: str, nrow: int) -> tuple[list[str], str]:
    """`images` as PNG files for a page: each one (small ones enlarged without blur), and a
    grid of them all, `nrow` to a row. `stem` starts the files' names."""
    grid = image_grid(images, nrow=nrow, scale=display_scale(images[0].width))
    return [save_png(for_display(im), f"{stem}-{i + 1:02d}") for i, im in enumerate(images)], save_png(grid, f"{stem}-grid")


@torch.inference_mode()
def sample_batch(model: ImageModel, n: int, seed: int, steps: int | None, scheduler: str | None) -> torch.Tensor:
    if model.kind == "diffusion":
        from ..models.diffusion import sample

        return sample(model.net, n, steps or DEFAULT_STEPS, scheduler or DEFAULT_SCHEDULER, generator=generators(seed, n))
    return _decode(model, latents(seed, n, model.latent).to(model.device))


def _decode(model: ImageModel, z: torch.Tensor) -> torch.Tensor:
    out = model.net(z.view(len(z), -1, 1, 1)) if model.kind == "dcgan" else model.net.decode(z)
    return out.float().cpu()


def generate_images(model: str = "dcgan-digits", num_images: int = 16, seed: int | None = None,
                    steps: int | None = None, scheduler: str | None = None) -> list[Image.Image]:
    """`num_images` samples of an unconditional model. `steps` and `scheduler` apply to diffusion."""
    lim = limits.current()
    num_images = validate.number("number of images", num_images, 1, lim.max_images, integer=True)
    if steps is not None:
        steps = validate.number("steps", steps, 1, lim.max_diffusion_steps, integer=True)
    if scheduler is not None and scheduler not in SCHEDULERS:
        raise AigcError(f"Unknown scheduler '{str(scheduler)[:40]}'; choose one of {', '.join(SCHEDULERS)}.")
    seed = _seed(seed)
    m = load(model, "image")
    return to_pil(sample_batch(m, num_images, seed, steps, scheduler))


def _slerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Spherical interpolation: Gaussian noise lives near a sphere, and a straight line
    between two points cuts through its low-density middle (White, 2016)."""
    a_n, b_n = a / a.norm(), b / b.norm()
    omega = torch.arccos((a_n * b_n).sum().clamp(-1, 1))
    if omega.abs() < 1e-4:
        return (1 - t)[:, None] * a + t[:, None] * b
    return (torch.sin((1 - t) * omega)[:, None] * a + torch.sin(t * omega)[:, None] * b) / torch.sin(omega)


@torch.inference_mode()
def latent_walk(model: str = "dcgan-digits", seed_a: int = 0, seed_b: int = 1, frames: int = 16) -> list[Image.Image]:
    """Frames that move through the latent space from seed_a's image to seed_b's (GAN and VAE)."""
    frames = validate.number("frames", frames, 2, limits.current().max_walk_frames, integer=True)
    seed_a, seed_b = _seed(seed_a), _seed(seed_b)
    m = load(model, "image")
    if m.latent is None:
        raise AigcError(f"'{m.info.name}' has no latent space to walk through; choose a GAN or a VAE.")
    a, b = latents(seed_a, 1, m.latent)[0], latents(seed_b, 1, m.latent)[0]
    z = _slerp(a, b, torch.linspace(0, 1, frames))
    return to_pil(_decode(m, z.to(m.device)))


@torch.inference_mode()
def reconstruct(model: str = "vae-digits", index: int | None = None) -> tuple[Image.Image, Image.Image]:
    """A held-out real digit and the VAE's reconstruction of it (the mean of its posterior)."""
    from ..data.images import digits, split

    m = load(model, "image")
    if m.kind != "vae":
        raise AigcError(f"'{m.info.name}' is not a VAE; only a VAE reconstructs images.")
    if m.config.get("channels") != 1:
        raise AigcError(f"'{m.info.name}' was not trained on digits, so there is no real digit to compare with.")
    held_out = split(digits())[1]
    index = random.randrange(len(held_out)) if index is None else validate.number("index", index, 0, len(held_out) - 1, integer=True)
    x = held_out.batch(torch.tensor([index]))["image"]
    mean, _ = m.net.encode(x.to(m.device))
    return to_pil(x)[0], to_pil(m.net.decode(mean).float().cpu())[0]


def walk_gif(model: str = "dcgan-digits", seed_a: int = 0, seed_b: int = 1, frames: int = 16) -> str:
    """`latent_walk` as a looping GIF in outputs/images that morphs seed A's image into seed B's and back; its path."""
    import imageio.v3 as iio

    images = latent_walk(model, seed_a=seed_a, seed_b=seed_b, frames=frames)
    loop = [np.asarray(for_display(im).convert("RGB")) for im in images + images[-2:0:-1]]
    path = new_output(OUTPUTS / "images", f"{model}-walk-{seed_a}-{seed_b}", ".gif")
    iio.imwrite(path, np.stack(loop), duration=80, loop=0)
    return str(path)


def reconstruction_pngs(model: str = "vae-digits") -> tuple[str, str]:
    """`reconstruct` as two PNGs in outputs/images, enlarged for a page: (the real digit, the VAE's copy)."""
    original, copy = reconstruct(model)
    return save_png(for_display(original), f"{model}-original"), save_png(for_display(copy), f"{model}-reconstruction")
