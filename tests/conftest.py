"""Shared fixtures. Tests never touch the network: the Hub is switched off here."""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import tempfile
from pathlib import Path

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
for variable, prefix in (("AIGC_RUNS", "aigc-runs-"), ("AIGC_OUTPUTS", "aigc-outputs-")):  # not the checkout's own folders
    if variable not in os.environ:
        os.environ[variable] = tempfile.mkdtemp(prefix=prefix)
        atexit.register(shutil.rmtree, os.environ[variable], ignore_errors=True)  # the load test leaves ~40,000 pictures

import pytest  # noqa: E402

from aigc.net import app_process, free_port  # noqa: E402,F401 - the tests' and the benchmarks' one copy


@pytest.fixture(scope="session")
def tiny_gpt2(tmp_path_factory) -> Path:
    """A tiny random GPT-2 with a byte-level BPE tokenizer, saved like a Hub model."""
    from tokenizers import ByteLevelBPETokenizer
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    folder = tmp_path_factory.mktemp("tiny-gpt2")
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(["To be, or not to be: that is the question."] * 20, vocab_size=300,
                            special_tokens=["<|endoftext|>"], show_progress=False)
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe._tokenizer, eos_token="<|endoftext|>",
                                        bos_token="<|endoftext|>")
    config = GPT2Config(vocab_size=len(tokenizer), n_positions=64, n_embd=32, n_layer=2, n_head=2,
                        bos_token_id=tokenizer.eos_token_id, eos_token_id=tokenizer.eos_token_id)
    torch.manual_seed(0)
    GPT2LMHeadModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_chat_gpt2(tiny_gpt2, tmp_path_factory) -> Path:
    """The same tiny model with a chat template, as instruction-tuned Hub models have."""
    import shutil

    from transformers import AutoTokenizer

    folder = tmp_path_factory.mktemp("tiny-chat-gpt2")
    shutil.copytree(tiny_gpt2, folder, dirs_exist_ok=True)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    tokenizer.chat_template = ("{% for m in messages %}[{{ m['role'] }}] {{ m['content'] }}\n{% endfor %}"
                               "{% if add_generation_prompt %}[assistant] {% endif %}")
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def app_url():
    """The real app, served on a free localhost port for the session."""
    from aigc.ui import CSS, THEME, build_demo

    demo = build_demo()
    demo.queue(default_concurrency_limit=2)
    port = free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, theme=THEME, css=CSS, quiet=True)
    yield f"http://127.0.0.1:{port}/"
    demo.close()


CHROMIUM = os.environ.get("AIGC_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--disable-quic", "--no-first-run"]
needs_chromium = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Chromium is not installed (apt-get install chromium)")


@pytest.fixture(scope="session")
def browser():
    """Debian's headless Chromium, driven by Playwright (never `playwright install`), one for the session."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        yield chromium
        chromium.close()


@contextlib.contextmanager
def open_page(browser, url: str, locale: str = "en-US"):
    """A page of the app in a browser set to `locale`, once its first tab is drawn; closed afterwards,
    after a full-page screenshot into $AIGC_SCREENSHOTS when that is set."""
    context = browser.new_context(locale=locale, viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        page.goto(url, wait_until="domcontentloaded")
        page.locator("#text-prompt textarea").wait_for(timeout=60_000)
        yield page
    finally:
        shots = os.environ.get("AIGC_SCREENSHOTS")
        if shots:
            Path(shots).mkdir(parents=True, exist_ok=True)
            name = os.environ["PYTEST_CURRENT_TEST"].split("::")[-1].split(" ")[0]
            context.pages[0].screenshot(path=str(Path(shots) / f"{name}-{locale}.png"), full_page=True)
        context.close()


def stop_every_run() -> None:
    """Stop the runs the app's trainer has going, and wait until they have saved and ended."""
    from aigc.training.jobs import JOBS

    while (run := JOBS.active()) is not None:
        run.stop()
        run.wait()


@pytest.fixture
def no_run_training():
    """No run of the app trains before or after the test: the app trains one run at a time, so a run
    another test left going would make this test's Start wait, and its result depend on the order."""
    stop_every_run()
    yield
    stop_every_run()


def shipped_card(task: str, name: str) -> dict:
    """The metrics on the card of a shipped model (checkpoints/<task>/<name>/README.md): tests of
    shipped weights take their bounds from here, so that weights trained again come with their own."""
    from aigc.cards import read_card
    from aigc.paths import CHECKPOINTS

    return read_card(CHECKPOINTS / task / name)["metrics"]


def sampling_allowance(card_share: float, samples: int) -> float:
    """How far a share measured on a fresh sample of `samples` may lie from the `card_share` that the
    card measured on its own, larger sample: four binomial standard errors, and at least one sample's
    worth or 0.05. A model as good as its card stays within it on any seeds; one loaded or sampled
    wrongly falls towards chance, far outside it."""
    return max(4 * (card_share * (1 - card_share) / samples) ** 0.5, 1 / samples, 0.05)


@pytest.fixture(scope="session")
def tiny_sd(tmp_path_factory) -> Path:
    """A tiny random Stable Diffusion pipeline (UNet, VAE, CLIP text model and a tokenizer made
    from a handmade vocabulary), saved like a Hub model: 16x16 pictures in a few seconds."""
    import json
    import string

    import torch
    from diffusers import AutoencoderKL, EulerDiscreteScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    folder = tmp_path_factory.mktemp("tiny-sd")
    words = folder / "words"
    words.mkdir()
    vocab = ["<|startoftext|>", "<|endoftext|>", *string.ascii_lowercase, *(c + "</w>" for c in string.ascii_lowercase)]
    (words / "vocab.json").write_text(json.dumps({t: i for i, t in enumerate(vocab)}))
    (words / "merges.txt").write_text("#version: 0.2\n")
    tokenizer = CLIPTokenizer(str(words / "vocab.json"), str(words / "merges.txt"), model_max_length=77)
    torch.manual_seed(0)
    text = CLIPTextModel(CLIPTextConfig(vocab_size=len(vocab), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                                        num_attention_heads=4, max_position_embeddings=77, bos_token_id=0, eos_token_id=1,
                                        pad_token_id=1))
    unet = UNet2DConditionModel(block_out_channels=(32, 64), layers_per_block=1, sample_size=8, in_channels=4, out_channels=4,
                                down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
                                up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"), cross_attention_dim=32,
                                norm_num_groups=32, attention_head_dim=4)
    vae = AutoencoderKL(block_out_channels=(32, 64), in_channels=3, out_channels=3, latent_channels=4, norm_num_groups=32,
                        down_block_types=("DownEncoderBlock2D",) * 2, up_block_types=("UpDecoderBlock2D",) * 2, sample_size=16)
    pipe = StableDiffusionPipeline(vae=vae, text_encoder=text, tokenizer=tokenizer, unet=unet,
                                   scheduler=EulerDiscreteScheduler(steps_offset=1), safety_checker=None, feature_extractor=None,
                                   requires_safety_checker=False)
    pipe.save_pretrained(folder / "pipeline")
    return folder / "pipeline"


def probe_video(path) -> dict:
    """Codec, pixel format, size, fps and number of frames of a video, read by the ffmpeg that
    imageio-ffmpeg ships (copying the stream to nowhere counts its frames without decoding)."""
    import re
    import subprocess

    import imageio_ffmpeg

    out = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(path), "-map", "0:v:0", "-c", "copy",
                          "-f", "null", "-"], capture_output=True, text=True, timeout=60).stderr
    stream = re.search(r"Stream #0:0.*?: Video: (\w+).*?, (\w+)\(?.*?, (\d+)x(\d+).*?, ([\d.]+) fps", out)
    assert stream, out
    codec, pix_fmt, width, height, fps = stream.groups()
    frames = int(re.findall(r"frame=\s*(\d+)", out)[-1])
    return {"codec": codec, "pix_fmt": pix_fmt, "width": int(width), "height": int(height), "fps": float(fps), "frames": frames}


def write_tiny_text2video(folder: Path, width: int = 8, seed: int = 0) -> Path:
    """A random (untrained) text2video checkpoint in the shipped layout: config.json with the
    `moving-shapes` caption words, and generator.safetensors. Small enough to run in milliseconds."""
    import json

    import torch
    from safetensors.torch import save_file

    from aigc.data.moving_shapes import MOTION_WORDS
    from aigc.models.video import video_generator
    from aigc.training.cgan import CAPTION_WORDS, FILLER_WORDS

    words = list(dict.fromkeys([*CAPTION_WORDS, *MOTION_WORDS]))  # "left" and "right" are in both
    config = {"kind": "text2video", "channels": 3, "size": 32, "frames": 16, "z_dim": 8, "width": width, "embed": 16,
              "caption_length": 10, "vocabulary": words, "filler": list(FILLER_WORDS)}
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps(config, indent=1))
    torch.manual_seed(seed)
    generator = video_generator(config)
    # DCGAN's N(0, 0.02) start draws near-uniform gray; wider weights give frames that differ
    # visibly with the seed, the caption and the time step, so tests can tell them apart.
    for module in generator.net.modules():
        if isinstance(module, torch.nn.ConvTranspose2d):
            torch.nn.init.normal_(module.weight, 0.0, 0.2)
    save_file(generator.state_dict(), str(folder / "generator.safetensors"))
    return folder


@pytest.fixture(scope="session")
def tiny_text2video(tmp_path_factory) -> Path:
    return write_tiny_text2video(tmp_path_factory.mktemp("tiny-text2video") / "text2video-tiny")


@pytest.fixture(scope="session")
def tiny_t2v(tmp_path_factory) -> Path:
    """A tiny random text-to-video diffusers pipeline (the pipeline class of ali-vilab/text-to-video-ms-1.7b:
    a 3D UNet, a VAE, a CLIP text model and a handmade tokenizer), saved like a Hub model: 16x16 frames."""
    import json
    import string

    import torch
    from diffusers import AutoencoderKL, DDIMScheduler, TextToVideoSDPipeline, UNet3DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    folder = tmp_path_factory.mktemp("tiny-t2v")
    words = folder / "words"
    words.mkdir()
    vocab = ["<|startoftext|>", "<|endoftext|>", *string.ascii_lowercase, *(c + "</w>" for c in string.ascii_lowercase)]
    (words / "vocab.json").write_text(json.dumps({t: i for i, t in enumerate(vocab)}))
    (words / "merges.txt").write_text("#version: 0.2\n")
    tokenizer = CLIPTokenizer(str(words / "vocab.json"), str(words / "merges.txt"), model_max_length=77)
    torch.manual_seed(0)
    text = CLIPTextModel(CLIPTextConfig(vocab_size=len(vocab), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                                        num_attention_heads=4, max_position_embeddings=77, bos_token_id=0, eos_token_id=1,
                                        pad_token_id=1))
    unet = UNet3DConditionModel(block_out_channels=(16, 32), layers_per_block=1, sample_size=8, in_channels=4, out_channels=4,
                                down_block_types=("CrossAttnDownBlock3D", "DownBlock3D"),
                                up_block_types=("UpBlock3D", "CrossAttnUpBlock3D"), cross_attention_dim=32,
                                attention_head_dim=4, norm_num_groups=8)
    vae = AutoencoderKL(block_out_channels=(16, 32), in_channels=3, out_channels=3, latent_channels=4, norm_num_groups=8,
                        down_block_types=("DownEncoderBlock2D",) * 2, up_block_types=("UpDecoderBlock2D",) * 2, sample_size=16)
    scheduler = DDIMScheduler(beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012, clip_sample=False,
                              set_alpha_to_one=False)
    pipe = TextToVideoSDPipeline(vae=vae, text_encoder=text, tokenizer=tokenizer, unet=unet, scheduler=scheduler)
    pipe.save_pretrained(folder / "pipeline")
    return folder / "pipeline"


@pytest.fixture(scope="session")
def tiny_wan(tmp_path_factory) -> Path:
    """A tiny random WanPipeline (the pipeline class of Wan-AI/Wan2.1-T2V-1.3B-Diffusers, the Hub default:
    a 3D transformer, Wan's causal video VAE, a UMT5 text encoder and a T5 tokenizer made from a
    handmade vocabulary), saved like a Hub model. Its VAE compresses time 4x, as the real one does."""
    import string

    import torch
    from diffusers import AutoencoderKLWan, FlowMatchEulerDiscreteScheduler, WanPipeline, WanTransformer3DModel
    from transformers import T5Tokenizer, UMT5Config, UMT5EncoderModel

    folder = tmp_path_factory.mktemp("tiny-wan")
    pieces = ["<pad>", "</s>", "<unk>", "▁", *string.ascii_lowercase, *("▁" + c for c in string.ascii_lowercase)]
    tokenizer = T5Tokenizer(vocab=[(p, -1.0 - len(p)) for p in pieces], extra_ids=0)
    torch.manual_seed(0)
    text = UMT5EncoderModel(UMT5Config(vocab_size=len(tokenizer), d_model=32, d_kv=8, d_ff=64, num_layers=2,
                                       num_heads=4, relative_attention_num_buckets=8, pad_token_id=0, eos_token_id=1))
    vae = AutoencoderKLWan(base_dim=3, z_dim=16, dim_mult=[1, 1, 1, 1], num_res_blocks=1,
                           temperal_downsample=[False, True, True])
    transformer = WanTransformer3DModel(patch_size=(1, 2, 2), num_attention_heads=2, attention_head_dim=12,
                                        in_channels=16, out_channels=16, text_dim=32, freq_dim=256, ffn_dim=32,
                                        num_layers=2, rope_max_seq_len=32)
    pipe = WanPipeline(tokenizer=tokenizer, text_encoder=text, vae=vae, transformer=transformer,
                       scheduler=FlowMatchEulerDiscreteScheduler(shift=7.0))
    pipe.save_pretrained(folder / "pipeline")
    return folder / "pipeline"


@pytest.fixture(scope="session")
def tiny_mel(tmp_path_factory):
    """A random, untrained spectrogram diffusion model, saved as training saves one."""
    import json

    import torch
    from safetensors.torch import save_file

    from aigc.data import audio as data
    from aigc.models.mel_diffusion import MelUNet

    folder = tmp_path_factory.mktemp("tiny-mel")
    torch.manual_seed(0)
    net = MelUNet(widths=(16, 16, 32), embed=32)
    (folder / "config.json").write_text(json.dumps({"kind": "mel-diffusion", "task": "audio", **net.config,
                                                    "frames": data.FRAMES, "guidance": 2.0, "sample_steps": 3,
                                                    "class_names": list(data.DIGIT_WORDS)}))
    save_file(net.state_dict(), folder / "model.safetensors")
    return str(folder)


@pytest.fixture(scope="session")
def toy_lines() -> str:
    """Four sentences in a random order: the words before and after a blank tell what it is, its
    position does not."""
    import random

    return "\n".join(random.Random(0).choices(["the red fox runs far", "a blue whale swims deep",
                                                "the red fox sleeps now", "a blue whale sings low"], k=160))


@pytest.fixture(scope="session")
def toy_bert(tmp_path_factory, toy_lines) -> str:
    """A tiny BERT that learns `toy_lines` in a second, saved as a Hub model is (no card)."""
    import torch
    from transformers import DataCollatorForLanguageModeling

    from aigc.data.text import line_blocks
    from aigc.models.bert import bert_from_scratch, wordpiece_tokenizer

    tokenizer = wordpiece_tokenizer(toy_lines, vocab_size=100)
    torch.manual_seed(0)
    model = bert_from_scratch(tokenizer, n_layer=2, n_embd=64, n_head=2, max_len=32, dropout=0.0)
    lines = tokenizer(line_blocks(toy_lines, tokenizer, 32), padding="max_length", max_length=32,
                      return_special_tokens_mask=True)
    examples = [dict(zip(lines, values)) for values in zip(*lines.values())]
    collate = DataCollatorForLanguageModeling(tokenizer, mlm_probability=0.3)
    opt = torch.optim.AdamW(model.parameters(), lr=5e-3)
    for step in range(400):
        batch = collate([examples[(step * 16 + i) % len(examples)] for i in range(16)])
        loss = model(**batch).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
    folder = tmp_path_factory.mktemp("toy-bert")
    model.eval().save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return str(folder)
