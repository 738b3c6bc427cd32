"""The shipped image models draw digits of every class, by the judge's measure, and their
cards tell the truth."""

import numpy as np
import pytest
import torch
from conftest import sampling_allowance, shipped_card

from aigc.evaluation.digits import judge
from aigc.evaluation.images import reconstruction_quality
from aigc.pipelines.image import generate_images, latent_walk, reconstruct, sample_batch
from aigc.catalog import builtin_models
from aigc.registry import load

# (name, samples judged here). The cards hold the figures for 1,000 samples; a fresh sample
# must come within sampling error of them (conftest.sampling_allowance).
SHIPPED = [("dcgan-digits", 500), ("vae-digits", 500), ("ddpm-digits", 100)]


def test_every_shipped_image_model_is_listed():
    names = {m.name for m in builtin_models() if m.task == "image"}
    assert {name for name, _ in SHIPPED} <= names


@pytest.mark.slow  # an evaluation: hundreds of samples, judged
@pytest.mark.parametrize("name, samples", SHIPPED)
def test_samples_are_digits_of_all_ten_classes_as_the_cards_say(name, samples):
    scores = judge(sample_batch(load(name, "image"), samples, 1000, None, None))
    card = shipped_card("image", name)
    confident = card["confident_digits"]
    assert abs(scores["confident_digits"] - confident) <= sampling_allowance(confident, samples), scores
    assert scores["classes_covered"] == card["classes_covered"] == 10
    assert confident <= card["real_confident_digits"] + 0.05  # the baseline is beside it


@pytest.mark.parametrize("name", [name for name, _ in SHIPPED])
def test_same_seed_same_images(name):
    a = generate_images(name, num_images=4, seed=7, steps=5)
    b = generate_images(name, num_images=4, seed=7, steps=5)
    assert all(np.array_equal(np.asarray(x), np.asarray(y)) for x, y in zip(a, b))
    assert not np.array_equal(np.asarray(a[0]), np.asarray(a[1]))


@pytest.mark.parametrize("name", ["dcgan-digits", "vae-digits"])
def test_the_latent_walk_changes_gradually(name):
    frames = np.stack([np.asarray(f, dtype=np.float32) for f in latent_walk(name, seed_a=0, seed_b=1, frames=12)])
    steps = np.abs(np.diff(frames, axis=0)).mean(axis=(1, 2))
    ends = np.abs(frames[-1] - frames[0]).mean()
    assert ends > 10  # two different digits
    assert steps.max() < ends  # no jump between neighbours as large as the whole walk


def test_the_vae_reconstructs_held_out_digits_as_its_card_says():
    quality = reconstruction_quality(load("vae-digits", "image").net)  # every held-out digit: no sampling error
    card = shipped_card("image", "vae-digits")
    assert quality["recon_psnr"] == pytest.approx(card["recon_psnr"], abs=0.05)
    assert quality["recon_ssim"] == pytest.approx(card["recon_ssim"], abs=0.002)
    original, recon = reconstruct("vae-digits", index=3)
    a, b = np.asarray(original, dtype=np.float32), np.asarray(recon, dtype=np.float32)
    assert np.abs(a - b).mean() < np.abs(a - a.mean()).mean()  # closer to the original than a flat image


@pytest.mark.slow  # diffusers loaded and run twice
def test_the_diffusion_checkpoint_is_a_diffusers_pipeline_that_draws_the_apps_pictures():
    from diffusers import DDPMPipeline, DiffusionPipeline

    pipe = DiffusionPipeline.from_pretrained(load("ddpm-digits", "image").info.location)
    assert type(pipe) is DDPMPipeline
    # diffusers alone, with the scheduler saved beside the UNet, draws what the app draws with "ddpm"
    generators = [torch.Generator().manual_seed(7 + i) for i in range(2)]  # image i of seed s comes from seed s + i
    out = pipe(batch_size=2, num_inference_steps=4, generator=generators, output_type="np").images
    ours = np.stack([np.asarray(im, dtype=np.float32) for im in
                     generate_images("ddpm-digits", num_images=2, seed=7, steps=4, scheduler="ddpm")])
    assert out.shape == (2, 32, 32, 1) and np.abs(out[..., 0] * 255 - ours.reshape(out.shape[:3])).max() <= 1
