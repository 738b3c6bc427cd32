"""Unconditional image generation through the public API, on small models the tests build."""

import numpy as np
import pytest
import torch

import aigc
from aigc.errors import AigcError
from aigc.pipelines.image import generate_images, image_grid, latent_walk, reconstruct


@pytest.fixture(scope="module")
def tiny_ddpm(tmp_path_factory):
    """A tiny random unconditional diffusers pipeline, saved like a Hub model."""
    from diffusers import DDPMPipeline, DDPMScheduler, UNet2DModel

    torch.manual_seed(0)
    unet = UNet2DModel(sample_size=16, in_channels=3, out_channels=3, layers_per_block=1, block_out_channels=(8, 16),
                       norm_num_groups=8, down_block_types=("DownBlock2D", "DownBlock2D"),
                       up_block_types=("UpBlock2D", "UpBlock2D"))
    folder = tmp_path_factory.mktemp("tiny-ddpm")
    DDPMPipeline(unet=unet, scheduler=DDPMScheduler(num_train_timesteps=100)).save_pretrained(folder)
    return str(folder)


@pytest.fixture(scope="module")
def tiny_gan_and_vae(tmp_path_factory):
    folders = {}
    for kind, sizes in (("dcgan", dict(width=8, z_dim=16)), ("vae", dict(width=8, latent=4))):
        out = tmp_path_factory.mktemp(kind)
        aigc.train(kind, "digits", steps=4, seed=0, out=out, batch_size=16, eval_every=4, sample_every=4,
                   checkpoint_every=4, **sizes).wait()
        folders[kind] = str(out / "best")
    return folders


def arrays(images):
    return [np.asarray(im) for im in images]


def test_a_diffusers_pipeline_loads_by_path_and_the_seed_fixes_the_images(tiny_ddpm):
    a = generate_images(tiny_ddpm, num_images=3, seed=5, steps=3)
    b = generate_images(tiny_ddpm, num_images=3, seed=5, steps=3)
    c = generate_images(tiny_ddpm, num_images=3, seed=6, steps=3)
    assert [im.size for im in a] == [(16, 16)] * 3 and a[0].mode == "RGB"
    assert all(np.array_equal(x, y) for x, y in zip(arrays(a), arrays(b)))
    assert not np.array_equal(arrays(a)[0], arrays(c)[0])
    assert not np.array_equal(arrays(a)[0], arrays(a)[1])  # one seed, different images


@pytest.mark.parametrize("scheduler", ["dpm++", "ddim", "ddpm"])
def test_every_scheduler_samples(tiny_ddpm, scheduler):
    images = generate_images(tiny_ddpm, num_images=2, seed=0, steps=4, scheduler=scheduler)
    assert len(images) == 2 and np.asarray(images[0]).std() > 0


@pytest.mark.parametrize("kwargs, words", [
    (dict(num_images=0), "number of images must be between 1 and"),
    (dict(num_images=10_000), "number of images must be between 1 and"),
    (dict(num_images=float("nan")), "finite number"),
    (dict(num_images="many"), "must be a number"),
    (dict(steps=-3), "steps must be between 1 and"),
    (dict(steps=2.5), "whole number"),
    (dict(scheduler="euler-magic"), "Unknown scheduler"),
    (dict(seed=-7), r"seed must be -1 \(a new random seed\) or a whole number from 0 to 9,223,372,036,854,775,807"),
])
def test_invalid_numbers_get_one_sentence(tiny_ddpm, kwargs, words):
    with pytest.raises(AigcError, match=words) as info:
        generate_images(tiny_ddpm, **{"num_images": 2, "steps": 2, **kwargs})
    assert str(info.value).count(". ") == 0 and str(info.value).endswith(".")


def test_an_uncached_hub_id_offline_is_one_sentence():
    with pytest.raises(AigcError, match="not in the local cache"):
        generate_images("someone/not-a-cached-pipeline", num_images=1)


def test_a_text_pipeline_folder_is_refused_for_images(tmp_path, tiny_gpt2):
    with pytest.raises(AigcError, match="is a gpt2 model, not an unconditional image generator"):
        generate_images(str(tiny_gpt2), num_images=1)


def test_gan_and_vae_runs_load_by_path_sample_and_walk(tiny_gan_and_vae):
    for kind, folder in tiny_gan_and_vae.items():
        a = generate_images(folder, num_images=4, seed=1)
        assert len(a) == 4 and a[0].size == (32, 32) and a[0].mode == "L"
        assert np.array_equal(np.asarray(a[0]), np.asarray(generate_images(folder, num_images=4, seed=1)[0]))
        frames = latent_walk(folder, seed_a=1, seed_b=2, frames=5)
        # the walk starts at seed A's first image: the same latent as generate_images(seed=1)[0]
        assert len(frames) == 5 and np.abs(np.asarray(frames[0], float) - np.asarray(a[0], float)).max() <= 1
        assert not np.array_equal(np.asarray(frames[0]), np.asarray(frames[-1]))


def test_the_vae_reconstructs_a_real_digit_and_the_gan_cannot(tiny_gan_and_vae):
    original, rebuilt = reconstruct(tiny_gan_and_vae["vae"], index=3)
    assert original.size == rebuilt.size == (32, 32)
    with pytest.raises(AigcError, match="not a VAE"):
        reconstruct(tiny_gan_and_vae["dcgan"])


def test_a_diffusion_model_has_no_latent_walk(tiny_ddpm):
    with pytest.raises(AigcError, match="no latent space"):
        latent_walk(tiny_ddpm)


def test_the_grid_lays_images_out_in_rows(tiny_gan_and_vae):
    images = generate_images(tiny_gan_and_vae["dcgan"], num_images=6, seed=0)
    grid = image_grid(images, nrow=3, scale=2)
    assert grid.size == (2 * (3 * 34 + 2), 2 * (2 * 34 + 2))


def test_the_cli_writes_one_png_per_image_and_a_grid(tiny_gan_and_vae, tmp_path, capsys):
    from PIL import Image

    from aigc.__main__ import main

    assert main(["generate", "image", "--model", tiny_gan_and_vae["dcgan"], "-n", "3", "--seed", "4", "--out", str(tmp_path)]) == 0
    files = sorted(p.name for p in tmp_path.glob("*.png"))
    assert files == ["best-seed4-00.png", "best-seed4-01.png", "best-seed4-02.png", "best-seed4-grid.png"]
    again = generate_images(tiny_gan_and_vae["dcgan"], num_images=1, seed=5)[0]  # image 1 of seed 4 is seed 5
    assert np.array_equal(np.asarray(Image.open(tmp_path / "best-seed4-01.png")), np.asarray(again))
    assert "seed 4" in capsys.readouterr().out
