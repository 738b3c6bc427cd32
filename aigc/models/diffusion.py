"""A small denoising diffusion model from diffusers parts (Ho et al., 2020).

The network is a diffusers `UNet2DModel` (three resolutions, self-attention at the
coarsest), trained to predict the noise under a cosine schedule of 1,000 steps
(Nichol and Dhariwal, 2021). It ships as a `DDPMPipeline`, so
`DiffusionPipeline.from_pretrained(folder)` loads it; sampling swaps in a fast solver:
DPM-Solver++ (Lu et al., 2022) or DDIM (Song et al., 2021) in 10 to 50 steps.
"""

from __future__ import annotations

import torch
from diffusers import DDIMScheduler, DDPMPipeline, DDPMScheduler, DPMSolverMultistepScheduler, UNet2DModel

SCHEDULERS = {"dpm++": DPMSolverMultistepScheduler, "ddim": DDIMScheduler, "ddpm": DDPMScheduler}
DEFAULT_SCHEDULER, DEFAULT_STEPS = "ddim", 25
# Where each solver places its steps. Started at t = 999 of a cosine schedule (where almost no
# signal is left), DPM-Solver++ diverges on these models (measured: no digits at all), so it
# uses "leading" steps; DDIM starts from pure noise with "trailing" steps (Lin et al., 2024).
SPACING = {"dpm++": "leading", "ddim": "trailing", "ddpm": "leading"}


def make_unet(channels: int = 1, width: int = 16, size: int = 32) -> UNet2DModel:
    w = width
    return UNet2DModel(
        sample_size=size, in_channels=channels, out_channels=channels, layers_per_block=1,
        block_out_channels=(w, 2 * w, 4 * w), norm_num_groups=min(8, w),
        down_block_types=("DownBlock2D", "DownBlock2D", "AttnDownBlock2D"),
        up_block_types=("AttnUpBlock2D", "UpBlock2D", "UpBlock2D"),
    )


def training_scheduler() -> DDPMScheduler:
    return DDPMScheduler(num_train_timesteps=1000, beta_schedule="squaredcos_cap_v2", prediction_type="epsilon")


def with_scheduler(pipe: DDPMPipeline, name: str) -> DDPMPipeline:
    """The same pipeline sampling with another solver, configured from the training schedule."""
    if name not in SCHEDULERS:
        raise ValueError(f"Unknown scheduler '{name}'; choose one of {', '.join(SCHEDULERS)}.")
    # Explicit, because a config's default values are not carried from one scheduler class to another.
    scheduler = SCHEDULERS[name].from_config(pipe.scheduler.config, timestep_spacing=SPACING[name])
    return DDPMPipeline(unet=pipe.unet, scheduler=scheduler)


@torch.inference_mode()
def sample(pipe: DDPMPipeline, n: int, steps: int = DEFAULT_STEPS, scheduler: str = DEFAULT_SCHEDULER,
           generator: torch.Generator | list[torch.Generator] | None = None) -> torch.Tensor:
    """`n` images in [-1, 1], shape (n, C, H, W), on the CPU."""
    pipe = with_scheduler(pipe, scheduler)
    pipe.set_progress_bar_config(disable=True)
    images = pipe(batch_size=n, generator=generator, num_inference_steps=steps, output_type="pt").images
    return (images.float().cpu() * 2 - 1).clamp(-1, 1)
