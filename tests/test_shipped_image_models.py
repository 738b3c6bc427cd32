"""The shipped image models draw digits of every class, by the judge's measure, and their
cards tell the truth."""

import numpy as np
import pytest
import torch

from aigc.evaluation.digits import judge
from aigc.evaluation.images import reconstruction_quality
from aigc.pipelines.image import generate_images, latent_walk, reconstruct, sample_batch
from aigc.catalog import builtin_models
from aigc.registry import load

# (name, samples judged here, least share of confident digits). The cards hold the figures
# for 1,000 samples; these bounds leave room for the smaller sample drawn here.
SHIPPED = [("dcgan-digits", 500, 0.5), ("vae-digits", 500, 0.4), ("ddpm-digits", 100, 0.5)]


def test_every_shipped_image_model_is_listed():
    names = {m.name for m in builtin_models() if m.task == "image"}
    assert {name for name, _, _ in SHIPPED} <= names


@pytest.mark.parametrize("name, samples, least", SHIPPED)
def test_samples_are_digits_of_all_ten_classes(name, samples, least):
    model = load(name, "image")
    scores = judge(sample_batch(model, samples, 1000, None, None))
    assert scores["confident_digits"] >= least
    assert scores["classes_covered"] == 10
    card = model.info.card["metrics"]
    assert card["classes_covered"] == 10 and card["confident_digits"] >= least
    assert card["confident_digits"] <= card["real_confident_digits"] + 0.05  # the baseline is beside it


@pytest.mark.parametrize("name", [name for name, _, _ in SHIPPED])
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


def test_the_vae_reconstructs_held_out_digits():
    quality = reconstruction_quality(load("vae-digits", "image").net)
    assert quality["recon_psnr"] > 22 and quality["recon_ssim"] > 0.85
    original, recon = reconstruct("vae-digits", index=3)
    a, b = np.asarray(original, dtype=np.float32), np.asarray(recon, dtype=np.float32)
    assert np.abs(a - b).mean() < np.abs(a - a.mean()).mean()  # closer to the original than a flat image


def test_the_diffusion_checkpoint_is_a_diffusers_pipeline():
    from diffusers import DiffusionPipeline

    pipe = DiffusionPipeline.from_pretrained(load("ddpm-digits", "image").info.location)
    out = pipe(batch_size=1, num_inference_steps=2, generator=torch.Generator().manual_seed(0), output_type="np")
    assert out.images.shape == (1, 32, 32, 1)
