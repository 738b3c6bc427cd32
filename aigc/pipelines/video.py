"""Text to video: a caption to a short clip, from this project's text2video GAN or a Hub
text-to-video pipeline, written as an H.264 MP4 (or a looping GIF).

Every argument is checked here, whatever the caller, and a bad one is answered with one
sentence (AigcError). A seed fixes the clip: the noise is drawn on the CPU, as in `image.py`.
The built-in model draws all its frames at once (16 for `text2video-shapes`); asking for
fewer keeps the first ones, so a short clip is the start of the long one with the same seed.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from .. import limits
from ..errors import AigcError
from ..loaders import VideoModel
from ..models.sampling import conditioned
from ..paths import OUTPUTS, new_output
from ..progress import step_callback
from ..registry import load
from . import validate
from .captions import caption_ids
from .controls import MAX_GUIDANCE, Controls, own_model
from .image import _seed

DEFAULT_MODEL = "text2video-shapes"
DEFAULT_HUB_MODEL = "Wan-AI/Wan2.1-T2V-1.3B-Diffusers"  # WanPipeline; any text-to-video pipeline id loads too
FORMATS = ("mp4", "gif")
MIN_FRAMES = 2  # one frame is a picture, not a clip
MAX_FPS = 30
HUB_STEPS = 25  # half the usual 50, for half the wait; the steps slider or steps= asks for more
# What the page's guidance starts at for a Hub pipeline: WanPipeline's own default, the pipeline of
# DEFAULT_HUB_MODEL (another pipeline's own is known only once it is loaded; ModelScope's is 9.0).
HUB_GUIDANCE = 5.0
BUILTIN_FRAMES = 16  # what a built-in model draws when its config.json does not say
MIN_SIDE = 64
SIDE_MULTIPLE = 16  # Wan's VAE shrinks frames 8x and its transformer takes 2x2 patches
MIN_WIDTH = 256  # 32x32 frames are enlarged to at least this width, without blur, so browsers show them crisply
MP4_QUALITY = 8  # imageio's 0-10 scale; 8 is x264 CRF 10, so the shapes' hard edges do not smear


@dataclass
class Clip:
    """The frames of one generated clip, (frames, height, width, 3) uint8 at the model's size."""

    frames: np.ndarray
    fps: int
    seed: int
    model: str

    @property
    def seconds(self) -> float:
        return len(self.frames) / self.fps

    def save(self, format: str = "mp4", folder: str | Path | None = None) -> Path:
        """A new file in `folder` (default outputs/videos): an H.264 MP4 (yuv420p, what every browser
        plays) or a looping GIF."""
        format = _format(format)
        path = new_output(Path(folder) if folder is not None else OUTPUTS / "videos", f"{self.model}-seed{self.seed}", f".{format}")
        frames = enlarge(self.frames)
        if format == "mp4":
            import imageio.v3 as iio

            # The FFMPEG plugin runs imageio-ffmpeg's own ffmpeg binary. macro_block_size=2 keeps our
            # even sizes as they are (the default 16 would rescale them); +faststart puts the index
            # first, so a browser starts playing before the whole file has arrived.
            iio.imwrite(path, frames, plugin="FFMPEG", fps=self.fps, codec="libx264", pixelformat="yuv420p",
                        quality=MP4_QUALITY, macro_block_size=2, ffmpeg_log_level="error",
                        output_params=["-movflags", "+faststart"])
        else:
            pictures = [Image.fromarray(f) for f in frames]
            pictures[0].save(path, save_all=True, append_images=pictures[1:], duration=round(1000 / self.fps), loop=0)
        return path

    def strip(self, nrow: int | None = None, scale: int = 1) -> Image.Image:
        """The frames side by side (`nrow` to a row; all in one by default), optionally enlarged without blur."""
        from .image import image_grid

        return image_grid([Image.fromarray(f) for f in self.frames], nrow=nrow or len(self.frames), scale=scale)


def enlarge(frames: np.ndarray) -> np.ndarray:
    """Frames repeated pixel by pixel (nearest neighbour) to at least MIN_WIDTH wide, padded to even
    sides: yuv420p stores color for 2x2 pixel blocks, so H.264 encoders refuse odd sizes."""
    scale = max(1, math.ceil(MIN_WIDTH / frames.shape[2]))
    if scale > 1:
        frames = frames.repeat(scale, axis=1).repeat(scale, axis=2)
    pad = ((0, 0), (0, frames.shape[1] % 2), (0, frames.shape[2] % 2), (0, 0))
    return np.pad(frames, pad, mode="edge") if any(p[1] for p in pad) else frames


def controls(model: str) -> Controls:
    """What the video model `model` takes (see `aigc.pipelines.controls`), without loading it; its
    "frames" maximum is what a built-in model draws, or the server's limit for a Hub pipeline."""
    own = own_model(model, "video")
    if own is None:
        return Controls("hub", frozenset({"steps", "guidance"}), {"steps": HUB_STEPS, "guidance": HUB_GUIDANCE},
                        "prompt", maxima={"frames": limits.current().max_video_frames})
    config = own[1]
    return Controls(config["kind"], frozenset(), {}, "caption",
                    maxima={"frames": int(config.get("frames", BUILTIN_FRAMES))})


def _format(format) -> str:
    name = format.lower().lstrip(".") if isinstance(format, str) else None
    if name not in FORMATS:
        raise AigcError(f"Unknown video format '{str(format)[:20]}'; choose mp4 or gif.")
    return name


def _prompt(prompt) -> str:
    prompt = validate.text("prompt", prompt, limits.current().caption_chars).strip()
    if not prompt:
        raise AigcError("Type a prompt that describes the clip, for example 'a panda playing guitar on a beach'.")
    return prompt


@torch.inference_mode()
def builtin_clip(model: VideoModel, prompt, num_frames: int, seed: int) -> np.ndarray:
    """A built-in caption-to-clip model's first `num_frames` frames for `prompt`, uint8 (T, H, W, 3)."""
    ids = caption_ids(model, prompt)
    clip = conditioned(model.net, model.net.z_dim, ids, seed)[0, :num_frames]
    return ((clip.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()


def to_uint8(frames) -> np.ndarray:
    """A pipeline's frames (float arrays in [0, 1], tensors, or PIL images) as (T, H, W, 3) uint8."""
    if isinstance(frames, (list, tuple)):
        frames = [np.asarray(f.convert("RGB")) if isinstance(f, Image.Image) else np.asarray(f) for f in frames]
        frames = np.stack(frames)
    elif torch.is_tensor(frames):
        frames = frames.float().cpu().numpy()
    frames = np.asarray(frames)
    if frames.ndim == 4 and frames.shape[1] in (1, 3) and frames.shape[-1] not in (1, 3):
        frames = frames.transpose(0, 2, 3, 1)  # (T, C, H, W) tensors
    if frames.dtype != np.uint8:
        frames = (np.clip(frames.astype(np.float32), 0, 1) * 255).round().astype(np.uint8)
    return np.repeat(frames, 3, axis=-1) if frames.shape[-1] == 1 else frames[..., :3]


def _size(name: str, value) -> int | None:
    if value is None:
        return None
    value = validate.number(name, value, MIN_SIDE, limits.current().max_side, integer=True)
    return value - value % SIDE_MULTIPLE


def _hub_frames(model: VideoModel, prompt, num_frames: int, seed: int, steps, guidance, width, height) -> np.ndarray:
    # A VAE that compresses time by t (Wan: 4) decodes 1 + k*t frames and its pipeline rounds any other
    # count down: ask for the next valid count and keep the first num_frames.
    t = getattr(model.net, "vae_scale_factor_temporal", 1)
    options = {"num_frames": num_frames + (1 - num_frames) % t, "num_inference_steps": steps or HUB_STEPS,
               "output_type": "np", "generator": torch.Generator().manual_seed(seed)}
    # None leaves the pipeline's own default (Wan: guidance 5.0 at 480x832; ModelScope: 9.0 at 256x256)
    chosen = {"guidance_scale": guidance, "width": width, "height": height}
    options.update({k: v for k, v in chosen.items() if v is not None})
    options.update(step_callback(model.net, options["num_inference_steps"]))
    frames = model.net(_prompt(prompt), **options).frames[0]
    return to_uint8(frames)[:num_frames]


def make_clip(prompt, model: str = DEFAULT_MODEL, num_frames: int = 16, fps: int = 8, seed: int | None = None,
              steps: int | None = None, guidance_scale: float | None = None, width: int | None = None,
              height: int | None = None) -> Clip:
    """A clip of `prompt` (checked, not yet written to a file). See `generate_video`."""
    fps = validate.number("fps", fps, 1, MAX_FPS, integer=True)
    width, height = _size("width", width), _size("height", height)
    if steps is not None:
        steps = validate.number("steps", steps, 1, limits.current().max_diffusion_steps, integer=True)
    guidance = None if guidance_scale is None else validate.number("guidance scale", guidance_scale, 0, MAX_GUIDANCE)
    seed = _seed(seed)
    m = load(model, "video")
    most = m.net.frames if m.kind == "text2video" else limits.current().max_video_frames
    num_frames = validate.number("number of frames", num_frames, MIN_FRAMES, most, integer=True)
    if m.kind == "text2video":
        frames = builtin_clip(m, prompt, num_frames, seed)
    else:
        frames = _hub_frames(m, prompt, num_frames, seed, steps, guidance, width, height)
    return Clip(frames, fps, seed, m.info.name)


def clip_files(prompt, model: str = DEFAULT_MODEL, num_frames: int = 16, fps: int = 8, seed: int | None = None,
               steps: int | None = None, guidance_scale: float | None = None,
               strip_row: int = 8) -> tuple[str, str, str, int, int, float]:
    """A clip of `prompt` written for a page: (MP4, GIF, a PNG strip of its frames `strip_row` to a row,
    small frames enlarged without blur; frames, fps, seconds the drawing took)."""
    from .image import display_scale, save_png

    start = time.perf_counter()
    clip = make_clip(prompt, model, num_frames, fps, seed, steps, guidance_scale)
    seconds = time.perf_counter() - start
    strip = clip.strip(nrow=strip_row, scale=display_scale(clip.frames.shape[2]))
    return (str(clip.save("mp4")), str(clip.save("gif")), save_png(strip, f"{clip.model}-seed{clip.seed}-frames"),
            len(clip.frames), clip.fps, seconds)


def generate_video(prompt, model: str = DEFAULT_MODEL, num_frames: int = 16, fps: int = 8, seed: int | None = None,
                   format: str = "mp4", steps: int | None = None, guidance_scale: float | None = None,
                   width: int | None = None, height: int | None = None) -> Path:
    """A clip of `prompt`, written to a new file under outputs/videos: an H.264 MP4 or a looping GIF.

    The built-in `text2video-shapes` follows captions such as 'a large red star in the top right
    moving left' and draws up to 16 frames (fewer: the first ones). `steps`, `guidance_scale`,
    `width` and `height` apply to Hub pipelines (`None`: 25 steps, the pipeline's own guidance and
    size; sides are rounded down to a multiple of 16).
    """
    format = _format(format)
    return make_clip(prompt, model, num_frames, fps, seed, steps, guidance_scale, width, height).save(format)
