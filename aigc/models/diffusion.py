"""A small denoising diffusion model from diffusers parts (Ho et al., 2020).

The network is a diffusers `UNet2DModel` (three resolutions, self-attention at the
coarsest), trained to predict the noise under a cosine schedule of 1,000 steps
(Nichol and Dhariwal, 2021). It ships as a `DDPMPipeline`, so
`DiffusionPipeline.from_pretrained(folder)` loads it; sampling swaps in a fast solver:
DPM-Solver++ (Lu et al., 2022) or DDIM (Song et al., 2021) in 10 to 50 steps.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from ..progress import Steps

if TYPE_CHECKING:
    from diffusers import DDPMPipeline, DDPMScheduler, UNet2DModel

# The sampling solvers by name (the diffusers class of each), the default first. diffusers is imported
# where a model is built or sampled, so that the pipelines and the page read these names without it.
SCHEDULERS = {"ddim": "DDIMScheduler", "dpm++": "DPMSolverMultistepScheduler", "ddpm": "DDPMScheduler"}
DEFAULT_SCHEDULER, DEFAULT_STEPS = "ddim", 25
# Where each solver places its steps. Started at t = 999 of a cosine schedule (where almost no
# signal is left), DPM-Solver++ diverges on these models (measured: no digits at all), so it
# uses "leading" steps; DDIM starts from pure noise with "trailing" steps (Lin et al., 2024).
SPACING = {"dpm++": "leading", "ddim": "trailing", "ddpm": "leading"}


def make_unet(channels: int = 1, width: int = 16, size: int = 32, classes: int | None = None) -> UNet2DModel:
    """`classes`: a class-conditional UNet, with one more embedding, `classes`, for "no label"
    (classifier-free guidance, Ho and Salimans, 2021)."""
    from diffusers import UNet2DModel

    w = width
    return UNet2DModel(
        sample_size=size, in_channels=channels, out_channels=channels, layers_per_block=1,
        num_class_embeds=None if classes is None else classes + 1,
        block_out_channels=(w, 2 * w, 4 * w), norm_num_groups=min(8, w),
        down_block_types=("DownBlock2D", "DownBlock2D", "AttnDownBlock2D"),
        up_block_types=("AttnUpBlock2D", "UpBlock2D", "UpBlock2D"),
    )


def training_scheduler() -> DDPMScheduler:
    from diffusers import DDPMScheduler

    return DDPMScheduler(num_train_timesteps=1000, beta_schedule="squaredcos_cap_v2", prediction_type="epsilon")


def solver(training: DDPMScheduler, name: str):
    """A sampling solver configured from the training schedule."""
    if name not in SCHEDULERS:
        raise ValueError(f"Unknown scheduler '{name}'; choose one of {', '.join(SCHEDULERS)}.")
    import diffusers

    # Explicit, because a config's default values are not carried from one scheduler class to another.
    return getattr(diffusers, SCHEDULERS[name]).from_config(training.config, timestep_spacing=SPACING[name])


@torch.inference_mode()
def sample(pipe: DDPMPipeline, n: int, steps: int = DEFAULT_STEPS, scheduler: str = DEFAULT_SCHEDULER,
           generator: torch.Generator | list[torch.Generator] | None = None) -> torch.Tensor:
    """`n` images in [-1, 1], shape (n, C, H, W), on the CPU, from the pipeline's UNet with the
    solver `scheduler`. The loop is DDPMPipeline's own, written out here because that pipeline
    takes no step callback and each step is told to `aigc.progress.reporting`."""
    from diffusers.utils.torch_utils import randn_tensor

    unet, sched = pipe.unet, solver(pipe.scheduler, scheduler)
    size = unet.config.sample_size
    shape = (n, unet.config.in_channels, *((size, size) if isinstance(size, int) else size))
    if unet.device.type == "mps":  # as DDPMPipeline: noise drawn on the CPU, reproducible
        x = randn_tensor(shape, generator=generator, dtype=unet.dtype).to(unet.device)
    else:
        x = randn_tensor(shape, generator=generator, device=unet.device, dtype=unet.dtype)
    sched.set_timesteps(steps)
    for t in Steps(sched.timesteps):
        x = sched.step(unet(x, t).sample, t, x, generator=generator).prev_sample
    images = (x / 2 + 0.5).clamp(0, 1)
    return (images.float().cpu() * 2 - 1).clamp(-1, 1)


@torch.inference_mode()
def sample_guided(unet: UNet2DModel, training: DDPMScheduler, labels: torch.Tensor, guidance: float = 3.0,
                  steps: int = DEFAULT_STEPS, scheduler: str = DEFAULT_SCHEDULER,
                  generator: torch.Generator | list[torch.Generator] | None = None) -> torch.Tensor:
    """Images of the given class labels in [-1, 1], on the CPU, with classifier-free guidance:
    the noise estimate moves from the unconditional one past the conditional one,
    eps = eps(no label) + guidance * (eps(label) - eps(no label)); guidance 1 is plain
    conditional sampling (one network call per step instead of two)."""
    from diffusers.utils.torch_utils import randn_tensor

    sched = solver(training, scheduler)
    sched.set_timesteps(steps)
    cfg = unet.config
    device, dtype = unet.device, unet.dtype
    x = randn_tensor((len(labels), cfg.in_channels, cfg.sample_size, cfg.sample_size), generator=generator)
    x = (x * sched.init_noise_sigma).to(device, dtype)
    labels = labels.to(device)
    no_label = torch.full_like(labels, cfg.num_class_embeds - 1)
    for t in Steps(sched.timesteps):
        inp = sched.scale_model_input(x, t)
        if guidance == 1:
            eps = unet(inp, t, class_labels=labels).sample
        else:
            cond, uncond = unet(torch.cat([inp, inp]), t, class_labels=torch.cat([labels, no_label])).sample.chunk(2)
            eps = uncond + guidance * (cond - uncond)
        x = sched.step(eps, t, x, generator=generator).prev_sample
    return x.float().cpu().clamp(-1, 1)
