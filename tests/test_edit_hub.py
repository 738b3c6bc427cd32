"""The Edit image tab's library models, offline: a tiny random Swin2SR (transformers) and tiny random Stable
Diffusion x4 upscaler, LDM super-resolution and InstructPix2Pix pipelines (diffusers), built here and loaded by
path as Hub models load. Upscalers answer exactly x2 / x4 whatever the picture's sides; the diffusion models
follow their seed and report their steps; other models, pictures too large for the limits and bad arguments
are answered with one sentence each."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace

import numpy as np
import pytest
import torch
from PIL import Image

from aigc import limits
from aigc.errors import AigcError, Notice
from aigc.loaders import EditModel
from aigc.pipelines.edit_hub import hub_upscale, instruct
from aigc.progress import reporting
from aigc.registry import load


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Tiny models are all per-operation overhead: a second thread only waits for the first."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def picture(width: int, height: int, seed: int = 0) -> Image.Image:
    """Smooth colours with some noise: a picture whose edges and corners all differ."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    base = np.stack([x * 255 / width, y * 255 / height, (x + y) * 127 / (width + height)], axis=-1)
    return Image.fromarray(np.clip(base + rng.normal(0, 20, base.shape), 0, 255).astype(np.uint8))


def pixels(image: Image.Image) -> np.ndarray:
    return np.asarray(image, dtype=np.int16)


def one_sentence(info) -> bool:
    text = str(info.value)
    return text.endswith(".") and "\n" not in text and "Traceback" not in text


def steps_told(call) -> list[tuple[int, int]]:
    told = []
    with reporting(lambda done, total: told.append((done, total))):
        call()
    return told


# -- the tiny models -------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tiny_swin2sr(tmp_path_factory) -> str:
    """A tiny random Swin2SR x2 (the architecture of caidas/swin2SR-classical-sr-x2-64) and its image processor."""
    from transformers import Swin2SRConfig, Swin2SRForImageSuperResolution, Swin2SRImageProcessor

    folder = tmp_path_factory.mktemp("tiny-swin2sr")
    config = Swin2SRConfig(image_size=16, embed_dim=8, depths=[1], num_heads=[1], window_size=4, upscale=2,
                           upsampler="pixelshuffledirect")
    torch.manual_seed(0)
    Swin2SRForImageSuperResolution(config).save_pretrained(folder)
    Swin2SRImageProcessor(size_divisor=4).save_pretrained(folder)
    return str(folder)


@pytest.fixture(scope="module")
def parts(tiny_sd):
    """The tiny Stable Diffusion's tokenizer and CLIP text model (tests/conftest.py builds them without a
    download), and makers of tiny UNets and VAEs for the pipelines below."""
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import CLIPTextModel, CLIPTokenizer

    def unet(in_channels: int, **more):
        return UNet2DConditionModel(block_out_channels=(32, 64), layers_per_block=1, sample_size=8,
                                    in_channels=in_channels, out_channels=4, cross_attention_dim=32, norm_num_groups=32,
                                    down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
                                    up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"), attention_head_dim=4, **more)

    def vae(levels: int, **more):  # each level after the first halves the sides
        return AutoencoderKL(block_out_channels=(32,) * levels, in_channels=3, out_channels=3, latent_channels=4,
                             norm_num_groups=32, down_block_types=("DownEncoderBlock2D",) * levels,
                             up_block_types=("UpDecoderBlock2D",) * levels, sample_size=16, **more)

    return {"tokenizer": CLIPTokenizer.from_pretrained(tiny_sd / "tokenizer"),
            "text_encoder": CLIPTextModel.from_pretrained(tiny_sd / "text_encoder"), "unet": unet, "vae": vae}


@pytest.fixture(scope="module")
def tiny_upscaler(parts, tmp_path_factory) -> str:
    """A tiny random StableDiffusionUpscalePipeline laid out as stabilityai/stable-diffusion-x4-upscaler: a VAE
    that decodes latents 4 times larger, a UNet that reads the noised picture beside its latents and the noise
    level as a class label, a DDPM scheduler that noises the picture and a DDIM scheduler."""
    from diffusers import DDIMScheduler, DDPMScheduler, StableDiffusionUpscalePipeline

    folder = tmp_path_factory.mktemp("tiny-upscaler") / "pipeline"
    torch.manual_seed(0)
    # the x4 upscaler's VAE scales latents by 1/12 (diffusers resets any other factor, with a warning)
    pipe = StableDiffusionUpscalePipeline(vae=parts["vae"](3, scaling_factor=0.08333),
                                          text_encoder=parts["text_encoder"], tokenizer=parts["tokenizer"],
                                          unet=parts["unet"](7, num_class_embeds=1000),
                                          low_res_scheduler=DDPMScheduler(), scheduler=DDIMScheduler(),
                                          max_noise_level=350)
    pipe.save_pretrained(folder)
    return str(folder)


@pytest.fixture(scope="module")
def tiny_ldm(tmp_path_factory) -> str:
    """A tiny random LDMSuperResolutionPipeline laid out as CompVis/ldm-super-resolution-4x-openimages: a VQ-VAE
    that decodes 4 times larger and a UNet that reads the picture beside its latents."""
    from diffusers import DDIMScheduler, LDMSuperResolutionPipeline, UNet2DModel, VQModel

    folder = tmp_path_factory.mktemp("tiny-ldm") / "pipeline"
    torch.manual_seed(0)
    vqvae = VQModel(block_out_channels=(32,) * 3, in_channels=3, out_channels=3, latent_channels=3,
                    num_vq_embeddings=16, vq_embed_dim=3, norm_num_groups=32,
                    down_block_types=("DownEncoderBlock2D",) * 3, up_block_types=("UpDecoderBlock2D",) * 3)
    unet = UNet2DModel(sample_size=8, in_channels=6, out_channels=3, block_out_channels=(32, 64), layers_per_block=1,
                       down_block_types=("DownBlock2D",) * 2, up_block_types=("UpBlock2D",) * 2, norm_num_groups=32)
    LDMSuperResolutionPipeline(vqvae=vqvae, unet=unet, scheduler=DDIMScheduler()).save_pretrained(folder)
    return str(folder)


@pytest.fixture(scope="module")
def tiny_pix2pix(parts, tmp_path_factory) -> str:
    """A tiny random StableDiffusionInstructPix2PixPipeline laid out as timbrooks/instruct-pix2pix: a UNet that
    reads the picture's latents beside its own, and Euler ancestral sampling (which draws noise every step)."""
    from diffusers import EulerAncestralDiscreteScheduler, StableDiffusionInstructPix2PixPipeline

    folder = tmp_path_factory.mktemp("tiny-pix2pix") / "pipeline"
    torch.manual_seed(0)
    pipe = StableDiffusionInstructPix2PixPipeline(vae=parts["vae"](2), text_encoder=parts["text_encoder"],
                                                  tokenizer=parts["tokenizer"], unet=parts["unet"](8),
                                                  scheduler=EulerAncestralDiscreteScheduler(), safety_checker=None,
                                                  feature_extractor=None, requires_safety_checker=False)
    pipe.save_pretrained(folder)
    return str(folder)


# -- upscaling --------------------------------------------------------------------------------------------------

def test_swin2sr_loads_through_transformers_and_upscales_exactly_x2(tiny_swin2sr):
    m = load(tiny_swin2sr, "edit")
    assert isinstance(m, EditModel) and (m.kind, m.what, m.scale) == ("hub", "upscale", 2)
    assert m.config == {"library": "transformers", "class": "Swin2SRForImageSuperResolution"}
    small = picture(13, 10)  # sides that the processor pads (to 16x12) and the answer is cut back from
    big = hub_upscale(small, tiny_swin2sr)
    assert big.size == (26, 20) and big.mode == "RGB"
    assert np.array_equal(pixels(big), pixels(hub_upscale(small, tiny_swin2sr, seed=5)))  # no noise drawn
    assert np.abs(pixels(big) - pixels(small.resize((26, 20)))).max() > 0  # the network's answer, not a resize


def test_the_x4_upscaler_follows_its_seed_and_prompt_and_reports_each_step(tiny_upscaler):
    m = load(tiny_upscaler, "edit")
    assert (m.what, m.scale, m.config["class"]) == ("upscale", 4, "StableDiffusionUpscalePipeline")
    small = picture(13, 10)  # padded to 16x12 for the VAE and UNet, cut back to 52x40
    told = []
    with reporting(lambda done, total: told.append((done, total))):
        a = hub_upscale(small, tiny_upscaler, prompt="a fox", steps=2, seed=1)
    assert a.size == (52, 40) and told == [(1, 2), (2, 2)]
    b = hub_upscale(small, tiny_upscaler, prompt="a fox", steps=2, seed=1)
    c = hub_upscale(small, tiny_upscaler, prompt="a fox", steps=2, seed=2)
    d = hub_upscale(small, tiny_upscaler, prompt="a cat", steps=2, seed=1, guidance_scale=5)
    assert np.array_equal(pixels(a), pixels(b))
    assert np.abs(pixels(a) - pixels(c)).max() > 0
    assert np.abs(pixels(a) - pixels(d)).max() > 0


def test_ldm_super_resolution_upscales_x4_any_size_and_reports_steps_it_has_no_callback_for(tiny_ldm):
    m = load(tiny_ldm, "edit")
    assert (m.what, m.scale, m.config["class"]) == ("upscale", 4, "LDMSuperResolutionPipeline")
    small = picture(20, 12)  # the pipeline alone would floor both sides to 0 (multiples of 32) and fail
    assert steps_told(lambda: hub_upscale(small, tiny_ldm, steps=3, seed=1)) == [(1, 3), (2, 3), (3, 3)]
    a, b = hub_upscale(small, tiny_ldm, steps=2, seed=1), hub_upscale(small, tiny_ldm, steps=2, seed=1)
    c = hub_upscale(small, tiny_ldm, steps=2, seed=2)
    assert a.size == (80, 48)
    assert np.array_equal(pixels(a), pixels(b)) and np.abs(pixels(a) - pixels(c)).max() > 0


# -- following an instruction ----------------------------------------------------------------------------------

def test_instruct_pix2pix_keeps_the_size_and_follows_seed_instruction_and_image_guidance(tiny_pix2pix):
    m = load(tiny_pix2pix, "edit")
    assert (m.what, m.scale, m.config["class"]) == ("instruct", 1, "StableDiffusionInstructPix2PixPipeline")
    photo = picture(30, 22)  # not a multiple of the VAE's 2: padded, then cut back
    told = []
    with reporting(lambda done, total: told.append((done, total))):
        a = instruct(photo, "make it snowy", model=tiny_pix2pix, steps=2, seed=3)
    assert a.size == (30, 22) and told == [(1, 2), (2, 2)]
    same = instruct(photo, "make it snowy", model=tiny_pix2pix, steps=2, seed=3)
    others = [instruct(photo, "make it snowy", model=tiny_pix2pix, steps=2, seed=4),
              instruct(photo, "make it red", model=tiny_pix2pix, steps=2, seed=3),
              instruct(photo, "make it snowy", model=tiny_pix2pix, steps=2, seed=3, image_guidance_scale=3)]
    assert np.array_equal(pixels(a), pixels(same))
    assert all(np.abs(pixels(a) - pixels(o)).max() > 0 for o in others)


def test_a_picture_over_the_side_limit_is_shrunk_for_instructions_with_a_notice(tiny_pix2pix):
    shrunk = "shrunk from 48x40 to 32x27 pixels, the limit being 32 pixels a side"
    with limits.using(replace(limits.PRIVATE, max_side=32)), pytest.warns(Notice, match=shrunk):
        answer = instruct(picture(48, 40), "make it snowy", model=tiny_pix2pix, steps=1, seed=0)
    assert answer.size == (32, 27)


# -- what is refused -------------------------------------------------------------------------------------------

def test_an_upscale_over_the_side_limit_is_refused_with_the_largest_picture_allowed(tiny_swin2sr, tiny_ldm):
    with limits.using(replace(limits.PRIVATE, max_side=64)):
        assert hub_upscale(picture(32, 20), tiny_swin2sr).size == (64, 40)  # exactly at the limit
        for model, scale, most in ((tiny_swin2sr, 2, 32), (tiny_ldm, 4, 16)):
            refusal = (f"33x20 pixels, and '.*' makes it {scale} times larger, beyond the limit of 64 pixels a side: "
                       f"upload one of at most {most} pixels")
            with pytest.raises(AigcError, match=refusal) as info:
                hub_upscale(picture(33, 20), model, steps=1)
            assert one_sentence(info), info.value
    with pytest.raises(AigcError, match="at least 8 pixels a side") as info:
        hub_upscale(picture(40, 5), tiny_swin2sr)
    assert one_sentence(info)


def test_models_that_do_something_else_are_refused_with_one_sentence(tiny_sd, tiny_gpt2, tiny_swin2sr, tiny_pix2pix):
    cases = [
        (lambda: load(str(tiny_sd), "edit"), "is a StableDiffusionPipeline, not a picture editor; .* runs Stable"),
        (lambda: load(str(tiny_gpt2), "edit"), "is a gpt2 model, not a picture editor; .* Swin2SR"),
        (lambda: hub_upscale(picture(16, 16), tiny_pix2pix), "does not upscale; choose an upscaler such as caidas/"),
        (lambda: instruct(picture(16, 16), "make it snowy", model=tiny_swin2sr), "follows no instruction"),
        (lambda: hub_upscale(picture(16, 16), "someone/not-a-cached-upscaler"), "not in the local cache"),
    ]
    for call, words in cases:
        with pytest.raises(AigcError, match=words) as info:
            call()
        assert one_sentence(info), info.value


def test_bad_arguments_get_one_sentence(tiny_swin2sr, tiny_pix2pix):
    photo = picture(16, 16)
    cases = [
        (lambda: hub_upscale(None, tiny_swin2sr), "Upload an image"),
        (lambda: hub_upscale(photo, tiny_swin2sr, steps=0), "steps must be between 1 and"),
        (lambda: hub_upscale(photo, tiny_swin2sr, guidance_scale=-1), "guidance scale must be between 0 and"),
        (lambda: hub_upscale(photo, tiny_swin2sr, seed=-5), "seed must be -1"),
        (lambda: hub_upscale(photo, tiny_swin2sr, prompt=7), "The prompt must be text"),
        (lambda: instruct(photo, "  ", model=tiny_pix2pix), "Type what to change"),
        (lambda: instruct(photo, "x" * 5000, model=tiny_pix2pix), "The instruction is 5,000 characters long"),
        (lambda: instruct(photo, "snow", model=tiny_pix2pix, image_guidance_scale=99), "image guidance scale must be"),
        (lambda: instruct(picture(40, 5), "snow", model=tiny_pix2pix), "at least 8 pixels a side"),
    ]
    for call, words in cases:
        with pytest.raises(AigcError, match=words) as info:
            call()
        assert one_sentence(info), info.value


def test_a_library_failure_while_editing_is_one_sentence(tiny_upscaler, tmp_path):
    """A pipeline whose scheduler allows less noise than the x4 upscaler adds (20): diffusers refuses the call."""
    broken = tmp_path / "broken-upscaler"
    shutil.copytree(tiny_upscaler, broken)
    index = json.loads((broken / "model_index.json").read_text())
    (broken / "model_index.json").write_text(json.dumps({**index, "max_noise_level": 10}))
    with pytest.raises(AigcError, match="could not edit this picture: `noise_level` has to be <= 10") as info:
        hub_upscale(picture(16, 16), str(broken), steps=1)
    assert one_sentence(info), info.value
