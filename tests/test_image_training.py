"""Image kinds train through the shared trainer: losses move the right way, runs resume."""

import json

import pytest
import torch
from conftest import sampling_allowance, shipped_card
from safetensors.torch import load_file

import aigc
from aigc.data.images import digits
from aigc.evaluation.digits import frechet_distance, judge
from aigc.training.dcgan import diff_augment

TINY_GAN = dict(width=16, z_dim=32, batch_size=32, eval_every=40, sample_every=80, checkpoint_every=40)
TINY_VAE = dict(width=16, latent=6, batch_size=32, eval_every=40, sample_every=80, checkpoint_every=40)


@pytest.mark.slow  # a training run
def test_dcgan_discriminator_learns_to_tell_real_from_fake(tmp_path):
    # 80 tiny steps say nothing about sample quality (the shipped card measures that);
    # they do show both players learning: D separates real from fake better than chance.
    events = list(aigc.train("dcgan", "digits", steps=80, seed=0, out=tmp_path, **TINY_GAN))
    late = [e.data for e in events if e.type == "step"][-20:]
    assert sum(d["d_real"] - d["d_fake"] for d in late) / len(late) > 0.05
    assert sum(d["d_loss"] for d in late) / len(late) < 1.386  # log(4): a coin-flipping D
    evals = [e.data for e in events if e.type == "eval"]
    assert len(evals) == 2 and all(e["frechet_distance"] > 0 for e in evals)
    sample = next(e for e in events if e.type == "sample")
    assert sample.data["image"].endswith(".png")
    best = tmp_path / "best"
    config = json.loads((best / "config.json").read_text())
    assert config["kind"] == "dcgan" and set(load_file(best / "generator.safetensors")) >= {"net.0.weight"}
    assert not (best / "discriminator.safetensors").exists()  # a release holds what sampling needs only


@pytest.mark.slow  # a training run
def test_dcgan_resumes_where_it_stopped(tmp_path):
    list(aigc.train("dcgan", "digits", steps=40, seed=0, out=tmp_path, **TINY_GAN))
    events = list(aigc.train("dcgan", "digits", steps=60, seed=0, out=tmp_path, **TINY_GAN))
    steps = [e.step for e in events if e.type == "step"]  # reported every log_every steps, or sooner on a slow machine
    assert events[0].data["resumed"] and events[0].step == 40
    assert 40 < steps[0] <= 50 and steps[-1] == 60


@pytest.mark.slow  # a training run
def test_vae_lowers_its_training_and_held_out_loss(tmp_path):
    events = list(aigc.train("vae", "digits", steps=80, seed=0, out=tmp_path, **TINY_VAE))
    losses = [e.data["loss"] for e in events if e.type == "step"]
    assert losses[-1] < 0.7 * losses[0]
    evals = [e.data for e in events if e.type == "eval"]
    assert evals[-1]["val_loss"] < evals[0]["val_loss"]
    assert json.loads((tmp_path / "best" / "config.json").read_text())["latent"] == 6


@pytest.mark.slow  # a training run
def test_diffusion_lowers_its_denoising_loss_and_saves_a_diffusers_pipeline(tmp_path):
    from diffusers import DDPMPipeline

    events = list(aigc.train("diffusion", "digits", steps=60, seed=0, out=tmp_path, width=8, batch_size=32, lr=2e-3,
                             warmup=5, eval_every=30, sample_every=60, checkpoint_every=60, sample_steps=2))
    losses = [e.data["loss"] for e in events if e.type == "step"]
    assert sum(losses[-3:]) / 3 < 0.6 * sum(losses[:2]) / 2  # noise prediction beats the untrained guess
    validation = [e.data["val_loss"] for e in events if e.type == "eval"]  # held-out digits, fixed noise
    assert len(validation) == 2 and validation[1] < validation[0] < 1.5
    pipe = DDPMPipeline.from_pretrained(tmp_path / "best")
    assert list(pipe.unet.config.block_out_channels) == [8, 16, 32]


def test_diff_augment_keeps_shape_and_range_and_moves_pixels():
    x = digits().batch(torch.arange(16))["image"]
    y = diff_augment(x, torch.Generator().manual_seed(0))
    assert y.shape == x.shape and y.min() >= -1 and y.max() <= 1 and not torch.equal(x, y)


def test_the_digit_judge_tells_real_digits_from_noise():
    real = digits().batch(torch.arange(400))["image"]
    noise = torch.rand(400, 1, 32, 32) * 2 - 1
    real_scores, noise_scores = judge(real, digits().labels[:400]), judge(noise)
    # the judge is shipped weights: on real digits it scores as the cards say it does
    confident = shipped_card("image", "dcgan-digits")["real_confident_digits"]
    accuracy = shipped_card("evaluation", "digit-classifier")["heldout_accuracy"]
    assert abs(real_scores["confident_digits"] - confident) <= sampling_allowance(confident, 400), real_scores
    assert abs(real_scores["label_accuracy"] - accuracy) <= sampling_allowance(accuracy, 400), real_scores
    assert real_scores["classes_covered"] == 10
    assert noise_scores["confident_digits"] < 0.05
    assert frechet_distance(real) < 5 < 100 < frechet_distance(noise)


@pytest.mark.slow  # a training run
def test_the_conditional_gan_learns_to_reject_wrong_labels(tmp_path):
    # The matching-aware discriminator: after a short run it scores real images with their
    # own label above the same images with a wrong label.
    events = list(aigc.train("cgan", "digits", steps=80, seed=0, out=tmp_path, embed=8, **{**TINY_GAN, "eval_every": 80}))
    late = [e.data for e in events if e.type == "step"][-20:]
    assert sum(d["d_real"] - d["d_wrong"] for d in late) / len(late) > 0.05
    config = json.loads((tmp_path / "best" / "config.json").read_text())
    assert config["kind"] == "cgan" and config["class_names"] == [str(i) for i in range(10)]
    card = (tmp_path / "best" / "README.md").read_text()
    assert "task: conditional" in card and "label_accuracy" in card


@pytest.mark.slow  # a training run
def test_text2img_learns_to_name_attributes_and_saves_its_vocabulary(tmp_path):
    events = list(aigc.train("text2img", "shapes", steps=40, seed=0, out=tmp_path, embed=16, **{**TINY_GAN, "eval_every": 40}))
    steps = [e.data for e in events if e.type == "step"]
    # the discriminator's attribute heads learn from real images: their loss falls from chance
    assert sum(d["d_aux"] for d in steps[-2:]) / 2 < 0.8 * sum(d["d_aux"] for d in steps[:1])
    scores = [e.data for e in events if e.type == "eval"][-1]
    assert {"color_accuracy", "shape_accuracy", "position_accuracy", "partial_color_accuracy"} <= set(scores)
    config = json.loads((tmp_path / "best" / "config.json").read_text())
    assert config["kind"] == "text2img" and "star" in config["vocabulary"] and "the" in config["filler"]


@pytest.mark.slow  # a training run
def test_guided_diffusion_lowers_its_loss_and_saves_unet_and_scheduler(tmp_path):
    from diffusers import UNet2DModel

    events = list(aigc.train("guided-diffusion", "digits", steps=60, seed=0, out=tmp_path, width=8, batch_size=32, lr=2e-3,
                             warmup=5, eval_every=1000, sample_every=1000, checkpoint_every=60, sample_steps=2))
    losses = [e.data["loss"] for e in events if e.type == "step"]
    assert sum(losses[-3:]) / 3 < 0.6 * sum(losses[:2]) / 2
    model = tmp_path / "checkpoint" / "model"
    unet = UNet2DModel.from_pretrained(model / "unet")
    assert unet.config.num_class_embeds == 11  # ten digits and "no label", for classifier-free guidance
    assert json.loads((model / "config.json").read_text())["guidance"] == 2.0  # the default, measured best for cddpm-digits
