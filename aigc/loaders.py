"""How each kind of model loads: the loaded models' types, and one table of loaders by (task, kind).

A model's kind is the `kind` in the config.json of this project's own models ("dcgan", "cgan",
...), "diffusers" for a folder holding a diffusers pipeline (model_index.json), "transformers"
for a transformers model's folder (a config.json with a `model_type`), and "hub" for a Hub id.
What every loader shares (the device, config.json, the Hub's keyword arguments, quiet libraries,
the sentence for a failure) is written once here. Weights load from safetensors only.
See docs/architecture.md for the registry's parts and for adding a kind.
"""

from __future__ import annotations

import inspect
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from .catalog import ModelInfo
from .errors import AigcError

# --- the loaded models ---------------------------------------------------------------------------


@dataclass
class TextModel:
    info: ModelInfo
    model: Any  # a transformers causal LM
    tokenizer: Any
    device: Any

    @property
    def context_length(self) -> int:
        config = self.model.config
        for attr in ("n_positions", "max_position_embeddings", "n_ctx", "max_sequence_length"):
            value = getattr(config, attr, None)
            if isinstance(value, int) and value > 0:
                return value
        return 2048


@dataclass
class ImageModel:
    """An unconditional image generator: a DCGAN or VAE of this project, or a diffusers pipeline."""

    info: ModelInfo
    kind: str  # "dcgan", "vae" or "diffusion"
    net: Any  # Generator, VAE or DiffusionPipeline
    config: dict[str, Any]
    device: Any

    @property
    def latent(self) -> int | None:
        return {"dcgan": self.config.get("z_dim"), "vae": self.config.get("latent")}.get(self.kind)


@dataclass
class ConditionalModel:
    """A generator that follows a condition: this project's label or caption models, or a
    diffusers text-to-image pipeline (whose img2img and inpainting twins share its weights)."""

    info: ModelInfo
    kind: str  # "cgan", "text2img", "guided-diffusion" or "hub"
    net: Any  # ConditionalGenerator, UNet2DModel or a diffusers pipeline
    config: dict[str, Any]
    device: Any
    scheduler: Any = None  # the training scheduler of a guided diffusion model
    vocabulary: Any = None  # the Vocabulary of a caption model

    @property
    def labels(self) -> list[str] | None:
        return self.config.get("class_names") if self.kind in ("cgan", "guided-diffusion") else None


@dataclass
class VideoModel:
    """A caption-to-clip generator: this project's text2video GAN or a diffusers text-to-video pipeline."""

    info: ModelInfo
    kind: str  # "text2video" or "hub"
    net: Any  # VideoGenerator or a diffusers pipeline
    config: dict[str, Any]
    device: Any
    vocabulary: Any = None  # the Vocabulary of a built-in model


@dataclass
class AudioModel:
    """A sound generator: this project's spectrogram diffusion or WaveNet models, or a Hub text-to-speech,
    text-to-audio or diffusers audio pipeline."""

    info: ModelInfo
    kind: str  # "mel-diffusion", "wavenet" or "hub"
    net: Any  # MelUNet, WaveNet, a transformers pipeline or a diffusers pipeline
    config: dict[str, Any]
    device: Any

    @property
    def labels(self) -> list[str] | None:
        return self.config.get("class_names")


@dataclass
class FillModel:
    """A masked language model (this project's `shakespeare-bert`, or any Hub fill-mask model) as
    transformers' fill-mask pipeline, which holds the model and its tokenizer."""

    info: ModelInfo
    pipe: Any  # a transformers FillMaskPipeline
    device: Any

    @property
    def tokenizer(self):
        return self.pipe.tokenizer

    @property
    def mask(self) -> str:
        return self.pipe.tokenizer.mask_token


@dataclass
class EditModel:
    """A picture editor (the Edit image tab): this project's `restorer` or `upscaler`, or a library model
    (kind "hub"): a super-resolution model (Swin2SR through transformers, Stable Diffusion's x4 upscaler or
    latent diffusion super-resolution through diffusers) or InstructPix2Pix, which changes a picture as an
    instruction says ("make it snowy")."""

    info: ModelInfo
    kind: str  # "restorer" or "upscaler" (this project's), or "hub": a library model, whether a Hub id or a folder
    net: Any  # this project's network, a diffusers pipeline or transformers' Swin2SRForImageSuperResolution
    config: dict[str, Any]  # this project's config.json, or a library model's "library" and "class"
    device: Any
    what: str  # "restore", "upscale" or "instruct"
    scale: int = 1  # an upscaler's answer is this many times wider and taller than its picture
    processor: Any = None  # Swin2SR's image processor


# --- what every loader shares --------------------------------------------------------------------

LIBRARY_KINDS = ("hub", "diffusers", "transformers")


def kind_of(info: ModelInfo) -> tuple[str | None, dict[str, Any]]:
    """(kind, config.json) of a model: see the module's docstring; (None, {}) for a folder that is
    neither a pipeline nor a model."""
    if info.source == "hub":
        return "hub", {}
    folder = Path(info.location)
    if (folder / "model_index.json").is_file():
        return "diffusers", json.loads((folder / "model_index.json").read_text())
    if not (folder / "config.json").is_file():
        return None, {}
    config = json.loads((folder / "config.json").read_text())
    return config.get("kind") or ("transformers" if config.get("model_type") else None), config


def _pretrained_kwargs(info: ModelInfo) -> dict[str, Any]:
    """from_pretrained's keyword arguments: safetensors only, and only the local cache for a Hub
    id that cannot be fetched now (so that it fails at once)."""
    from . import hub

    kwargs: dict[str, Any] = {"use_safetensors": True}
    if info.source == "hub" and hub.files_only(info.location):
        kwargs["local_files_only"] = True
    return kwargs


def _quiet_libraries(task: str) -> None:
    """No loading bars from transformers, nor from diffusers but for text (which never imports it):
    a server's log is not a terminal. Diffusers pipelines load their text encoders through transformers."""
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()
    if task != "text":
        from diffusers.utils import logging as diffusers_logging

        diffusers_logging.disable_progress_bar()


def _quiet(pipe):
    """A diffusers pipeline that draws no bar while it denoises (progress is told where it is called)."""
    pipe.set_progress_bar_config(disable=True)
    return pipe


# --- the loaders: (info, config.json, device) -> a loaded model -----------------------------------


def _text(info: ModelInfo, config: dict, device) -> TextModel:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from .device import inference_dtype

    kwargs = _pretrained_kwargs(info)
    tokenizer = AutoTokenizer.from_pretrained(info.location, local_files_only=kwargs.get("local_files_only", False))
    model = AutoModelForCausalLM.from_pretrained(info.location, dtype=inference_dtype(device), **kwargs)
    return TextModel(info, model.to(device).eval(), tokenizer, device)


def _lstm(info: ModelInfo, config: dict, device) -> TextModel:
    from transformers import AutoTokenizer

    from .models.lstm import CharLSTM

    settings = {k: config[k] for k in ("vocab_size", "n_embd", "hidden", "layers", "dropout", "block_size")}
    net = _weights(info, CharLSTM(**settings), "model.safetensors").float()
    return TextModel(info, net.to(device), AutoTokenizer.from_pretrained(info.location), device)


def _fill_mask(info: ModelInfo, config: dict, device) -> FillModel:
    from transformers import AutoModelForMaskedLM, AutoTokenizer, pipeline

    kwargs = _pretrained_kwargs(info)
    tokenizer = AutoTokenizer.from_pretrained(info.location, local_files_only=kwargs.get("local_files_only", False))
    if tokenizer.mask_token is None:
        raise AigcError(f"'{info.name}' has no mask token, so it is not a masked language model: choose one such as "
                        "bert-base-uncased.")
    model = AutoModelForMaskedLM.from_pretrained(info.location, dtype="float32", **kwargs)
    return FillModel(info, pipeline("fill-mask", model=model.to(device).eval(), tokenizer=tokenizer, device=device), device)


def _weights(info: ModelInfo, net, file: str):
    """`net` with the weights of `file` in the model's folder (safetensors), in evaluation mode."""
    from safetensors.torch import load_file

    net.load_state_dict(load_file(Path(info.location) / file))
    return net.eval()


def _dcgan(info: ModelInfo, config: dict, device) -> ImageModel:
    from .models.dcgan import Generator

    net = _weights(info, Generator(config["z_dim"], config["channels"], config["width"]), "generator.safetensors")
    return ImageModel(info, "dcgan", net.to(device), config, device)


def _vae(info: ModelInfo, config: dict, device) -> ImageModel:
    from .models.vae import VAE

    net = _weights(info, VAE(config["channels"], config["latent"], config["width"]), "vae.safetensors")
    return ImageModel(info, "vae", net.to(device), config, device)


def _restorer(info: ModelInfo, config: dict, device) -> EditModel:
    from .models.restorer import Restorer

    net = _weights(info, Restorer(config["width"]), "model.safetensors")
    return EditModel(info, "restorer", _channels_last(net.to(device)), config, device, "restore")


def _upscaler(info: ModelInfo, config: dict, device) -> EditModel:
    from .models.upscaler import Upscaler

    net = _weights(info, Upscaler(config["scale"], config["width"], config["layers"]), "model.safetensors")
    return EditModel(info, "upscaler", _channels_last(net.to(device)), config, device, "upscale", config["scale"])


def _channels_last(net):
    """Convolutions over whole photos run faster on a CPU with channels last (measured on the upscaler)."""
    import torch

    return net.to(memory_format=torch.channels_last)


def _unconditional_pipeline(info: ModelInfo, config: dict, device) -> ImageModel:
    import torch
    from diffusers import DiffusionPipeline

    from .device import inference_dtype

    # this project's small pipelines are trained and measured in float32
    dtype = inference_dtype(device) if info.source == "hub" else torch.float32
    pipe = DiffusionPipeline.from_pretrained(info.location, dtype=dtype, **_pretrained_kwargs(info))
    if "prompt" in inspect.signature(pipe.__call__).parameters or not hasattr(pipe, "unet"):
        raise AigcError(f"'{info.name}' is a {type(pipe).__name__}, not an unconditional image pipeline; "
                        "text-to-image models belong in the Conditional image tab.")
    unet = pipe.unet.config
    shape = {"size": unet.sample_size, "channels": unet.in_channels}
    return ImageModel(info, "diffusion", _quiet(pipe.to(device)), shape, device)


def _conditional_gan(info: ModelInfo, config: dict, device) -> ConditionalModel:
    from .models.cgan import Vocabulary, conditional_generator

    net = _weights(info, conditional_generator(config), "generator.safetensors")
    kind = config["kind"]
    vocabulary = Vocabulary(config["vocabulary"], config.get("filler", ())) if kind == "text2img" else None
    return ConditionalModel(info, kind, net.to(device), config, device, vocabulary=vocabulary)


def _guided_diffusion(info: ModelInfo, config: dict, device) -> ConditionalModel:
    from diffusers import DDPMScheduler, UNet2DModel

    folder = Path(info.location)
    unet = UNet2DModel.from_pretrained(folder / "unet", use_safetensors=True)
    scheduler = DDPMScheduler.from_pretrained(folder / "scheduler")
    return ConditionalModel(info, "guided-diffusion", unet.to(device).eval(), config, device, scheduler=scheduler)


def _text_to_image(info: ModelInfo, config: dict, device) -> ConditionalModel:
    from diffusers import AutoPipelineForText2Image, DiffusionPipeline

    from .device import inference_dtype

    kwargs = _pretrained_kwargs(info)
    location = info.location
    if info.source == "hub":
        # Given a Hub id, AutoPipeline reads model_index.json through diffusers' ConfigMixin.load_config, which
        # (diffusers 0.42) still passes huggingface_hub the deprecated `local_dir_use_symlinks` and fills the log
        # with its warning; DiffusionPipeline.download fetches the same files with the current API, and a folder
        # loads without any download call.
        location = DiffusionPipeline.download(info.location, **kwargs)
    try:
        pipe = AutoPipelineForText2Image.from_pretrained(location, dtype=inference_dtype(device), **kwargs)
    except ValueError as exc:  # AutoPipeline knows no text-to-image twin of this pipeline class
        if "AutoPipeline" not in str(exc):
            raise
        raise AigcError(f"'{info.name}' is not a text-to-image pipeline; the Conditional image tab needs one "
                        "(for example stabilityai/sd-turbo).") from exc
    return ConditionalModel(info, "hub", _quiet(pipe.to(device)), {}, device)


def _video_gan(info: ModelInfo, config: dict, device) -> VideoModel:
    from .models.cgan import Vocabulary
    from .models.video import video_generator

    net = _weights(info, video_generator(config), "generator.safetensors")
    vocabulary = Vocabulary(config["vocabulary"], config.get("filler", ()))
    return VideoModel(info, "text2video", net.to(device), config, device, vocabulary=vocabulary)


# Pipelines that take `num_frames` but animate a picture or edit a video: they need more than a prompt.
_NOT_TEXT_TO_VIDEO = re.compile(r"ImageToVideo|VideoToVideo|I2V|Image2Video|Video2Video|Upsample")


def _text_to_video(info: ModelInfo, config: dict, device) -> VideoModel:
    from diffusers import DiffusionPipeline

    from .device import inference_dtype

    pipe = DiffusionPipeline.from_pretrained(info.location, dtype=inference_dtype(device), **_pretrained_kwargs(info))
    params = inspect.signature(pipe.__call__).parameters
    # A required image or video input, or a class named for one, means it does not start from text alone.
    needs_more = any(p.default is inspect.Parameter.empty for name, p in params.items() if name in ("image", "video"))
    named = type(pipe).__name__
    if "num_frames" not in params or "prompt" not in params or needs_more or _NOT_TEXT_TO_VIDEO.search(named):
        raise AigcError(f"'{info.name}' is a {named}, not a text-to-video pipeline; the Video tab needs one "
                        "such as Wan-AI/Wan2.1-T2V-1.3B-Diffusers.")
    return VideoModel(info, "hub", _quiet(pipe.to(device)), {}, device)


def _mel_diffusion(info: ModelInfo, config: dict, device) -> AudioModel:
    from .models.mel_diffusion import mel_unet

    net = mel_unet(config)
    return AudioModel(info, "mel-diffusion", _weights(info, net, "model.safetensors").to(device), config, device)


def _wavenet(info: ModelInfo, config: dict, device) -> AudioModel:
    from .models.wavenet import WaveNet

    # sizes a config leaves out keep the network's defaults, except local conditioning: none unless named
    names = ("residual", "skip", "layers", "stacks", "classes", "mel_width", "hop")
    sizes = {k: config[k] for k in names if k in config}
    net = WaveNet(**sizes, mels=config.get("mels") or None)
    return AudioModel(info, "wavenet", _weights(info, net, "model.safetensors").to(device), config, device)


# transformers text-to-waveform models of these types make music (or any sound) from a description for as
# long as asked (MusicGen, Copet et al. 2023); the rest of that family reads the text aloud.
MUSIC_MODEL_TYPES = ("musicgen", "musicgen_melody")
# What a transformers audio model needs from the Hub: configs, tokenizers and safetensors weights.
_TRANSFORMERS_FILES = ["*.json", "*.safetensors", "*.model", "*.txt", "*.tiktoken"]
# Diffusers audio pipelines that change or extend a sound they are given: they need more than a prompt.
_NOT_TEXT_TO_AUDIO = re.compile(r"AudioToAudio|Audio2Audio|Inpaint")
# Where diffusers audio pipelines take the length of the sound, in seconds.
AUDIO_LENGTH_ARGS = ("audio_end_in_s", "audio_length_in_s", "audio_duration_s", "audio_duration", "duration")


def _hub_library_file(info: ModelInfo, makes: str) -> tuple[str, dict]:
    """("diffusers", model_index.json) or ("transformers", config.json) of a Hub id. Only those two files are
    fetched before deciding, so that a model that is not `makes` is refused unfetched."""
    from huggingface_hub import snapshot_download

    local = _pretrained_kwargs(info).get("local_files_only", False)
    folder = Path(snapshot_download(info.location, allow_patterns=["model_index.json", "config.json"],
                                   local_files_only=local))
    for name, library in (("model_index.json", "diffusers"), ("config.json", "transformers")):
        if (folder / name).is_file():
            return library, json.loads((folder / name).read_text())
    raise AigcError(f"'{info.name}' has neither a model_index.json (diffusers) nor a config.json (transformers), "
                    f"so it is not {makes}.")


def _hub_audio(info: ModelInfo, config: dict, device) -> AudioModel:
    """A Hub id: a diffusers pipeline when it has a model_index.json, else a transformers model."""
    library, config = _hub_library_file(info, "a sound generator")
    return (_diffusers_audio if library == "diffusers" else _transformers_audio)(info, config, device)


def _transformers_audio(info: ModelInfo, config: dict, device) -> AudioModel:
    """A text-to-speech or text-to-music model (VITS, MusicGen, ...) in transformers' "text-to-speech" /
    "text-to-audio" pipeline. config: the library, the task, the sampling rate and, for music, the codec's
    frame rate and codebooks (`speak` turns seconds into tokens with them)."""
    import torch
    from transformers import CONFIG_MAPPING, MODEL_FOR_TEXT_TO_WAVEFORM_MAPPING, pipeline

    from .device import inference_dtype

    model_type = config.get("model_type")
    # Text-to-spectrogram models (SpeechT5) need a vocoder fetched from elsewhere and a speaker: left out.
    if model_type not in CONFIG_MAPPING or CONFIG_MAPPING[model_type] not in MODEL_FOR_TEXT_TO_WAVEFORM_MAPPING:
        raise AigcError(f"'{info.name}' is a {model_type or 'transformers'} model, not a sound generator.")
    location = info.location
    if info.source == "hub":
        from huggingface_hub import snapshot_download

        # The text-to-audio pipeline refuses `local_files_only` (transformers 5), so the files are found (or
        # fetched) first and loaded from their folder, which asks the Hub nothing more.
        location = snapshot_download(info.location, allow_patterns=_TRANSFORMERS_FILES,
                                     local_files_only=_pretrained_kwargs(info).get("local_files_only", False))
    music = model_type in MUSIC_MODEL_TYPES
    # VITS is small and its flows invert a spline: it keeps float32 everywhere.
    dtype = torch.float32 if model_type == "vits" else inference_dtype(device)
    pipe = pipeline("text-to-audio" if music else "text-to-speech", model=location, device=device, dtype=dtype,
                    model_kwargs={"use_safetensors": True})
    about = {"library": "transformers", "task": pipe.task, "model_type": model_type, "rate": int(pipe.sampling_rate)}
    if music:
        about.update(frame_rate=pipe.model.config.audio_encoder.frame_rate,
                     codebooks=pipe.model.config.decoder.num_codebooks)
    return AudioModel(info, "hub", pipe, about, device)


def _makes_sound(pipeline_class) -> bool:
    """Whether a diffusers pipeline class answers with `.audios`: the module that defines it holds an output
    type with that field (diffusers' AudioPipelineOutput or one of its own)."""
    import dataclasses

    from diffusers import DiffusionPipeline

    module = inspect.getmodule(pipeline_class)
    outputs = [v for v in vars(module).values() if isinstance(v, type) and dataclasses.is_dataclass(v)]
    return pipeline_class is not DiffusionPipeline and any("audios" in {f.name for f in dataclasses.fields(v)}
                                                           for v in outputs)


def _diffusers_audio(info: ModelInfo, config: dict, device) -> AudioModel:
    """A diffusers audio pipeline (StableAudio, AudioLDM 2, AudioLDM, MusicLDM, ...), refused by its class
    before any weights load when it is not one that makes sound from a prompt alone."""
    import diffusers
    from diffusers import DiffusionPipeline

    from .device import inference_dtype

    named = config.get("_class_name") or "diffusers pipeline"
    pipeline_class = getattr(diffusers, named, None) if named.isidentifier() else None
    if not isinstance(pipeline_class, type) or not _makes_sound(pipeline_class):
        raise AigcError(f"'{info.name}' is a {named}, not a sound generator.")
    params = inspect.signature(pipeline_class.__call__).parameters
    needs_more = any(p.default is inspect.Parameter.empty for name, p in params.items() if name in ("audio", "image"))
    if "prompt" not in params or needs_more or _NOT_TEXT_TO_AUDIO.search(named):
        raise AigcError(f"'{info.name}' is a {named}, not a text-to-audio pipeline; the Audio tab needs one such as "
                        "cvssp/audioldm2.")
    pipe = DiffusionPipeline.from_pretrained(info.location, dtype=inference_dtype(device), **_pretrained_kwargs(info))
    length = next((name for name in AUDIO_LENGTH_ARGS if name in params), None)
    about = {"library": "diffusers", "rate": _sampling_rate(info, pipe), "length": length,
             "steps": params["num_inference_steps"].default if "num_inference_steps" in params else None}
    transformer, vae = getattr(pipe, "transformer", None), getattr(pipe, "vae", None)
    projection = getattr(pipe, "projection_model", None)
    if length == "audio_end_in_s" and transformer is not None and hasattr(vae, "hop_length"):
        # StableAudio's transformer has a fixed number of latent frames, and its projection model a largest
        # number of seconds it was told: the longest sound it makes is the shorter of the two
        frames = transformer.config.sample_size * vae.hop_length / vae.config.sampling_rate
        about["most_seconds"] = min(frames, getattr(projection.config, "max_value", frames) if projection else frames)
    return AudioModel(info, "hub", _quiet(pipe.to(device)), about, device)


def _sampling_rate(info: ModelInfo, pipe) -> int:
    """The sampling rate of a diffusers audio pipeline's sound: its own attribute, or its VAE's, vocoder's or
    UNet's config (each family keeps it somewhere else)."""
    found = getattr(pipe, "sample_rate", None)
    for part, key in (("vae", "sampling_rate"), ("vae", "sample_rate"), ("vocoder", "sampling_rate"),
                      ("unet", "sample_rate")):
        part_config = getattr(getattr(pipe, part, None), "config", None)
        found = found or getattr(part_config, key, None)
    if not found:
        raise AigcError(f"'{info.name}' does not say its sampling rate, so its sound cannot be played.")
    return int(found)


# --- the Edit image tab's library models ------------------------------------------------------------

# The diffusers pipelines that edit a picture, and what each does with it.
EDIT_PIPELINES = {"StableDiffusionUpscalePipeline": "upscale", "LDMSuperResolutionPipeline": "upscale",
                  "StableDiffusionInstructPix2PixPipeline": "instruct"}


def _hub_edit(info: ModelInfo, config: dict, device) -> EditModel:
    """A Hub id: a diffusers pipeline when it has a model_index.json, else a transformers model."""
    library, config = _hub_library_file(info, "a picture editor")
    return (_diffusers_edit if library == "diffusers" else _transformers_edit)(info, config, device)


def _diffusers_edit(info: ModelInfo, config: dict, device) -> EditModel:
    """One of EDIT_PIPELINES, refused by its class before any weights load when it is another pipeline."""
    from diffusers import DiffusionPipeline

    from .device import inference_dtype

    named = config.get("_class_name") or "diffusers pipeline"
    what = EDIT_PIPELINES.get(named)
    if what is None:
        raise AigcError(f"'{info.name}' is a {named}, not a picture editor; the Edit image tab runs "
                        f"{', '.join(EDIT_PIPELINES)} (for example timbrooks/instruct-pix2pix).")
    pipe = DiffusionPipeline.from_pretrained(info.location, dtype=inference_dtype(device), **_pretrained_kwargs(info))
    scale = 1
    if named == "LDMSuperResolutionPipeline":  # its latents have the picture's size; the VQ-VAE decodes them larger
        scale = 2 ** (len(pipe.vqvae.config.block_out_channels) - 1)
    elif what == "upscale":  # the same for the x4 upscaler's VAE
        scale = pipe.vae_scale_factor
    return EditModel(info, "hub", _quiet(pipe.to(device)), {"library": "diffusers", "class": named}, device, what,
                     scale)


def _transformers_edit(info: ModelInfo, config: dict, device) -> EditModel:
    """Swin2SR (Conde et al. 2022) with its image processor; `scale` is its config's `upscale` (1 for the models
    that remove JPEG artefacts at the same size)."""
    import torch
    from transformers import AutoImageProcessor, Swin2SRForImageSuperResolution

    model_type = config.get("model_type")
    head = "Swin2SRForImageSuperResolution"
    if model_type != "swin2sr" or head not in (config.get("architectures") or [head]):
        raise AigcError(f"'{info.name}' is a {model_type or 'transformers'} model, not a picture editor; the Edit "
                        "image tab runs Swin2SR super-resolution models (such as caidas/swin2SR-classical-sr-x2-64) "
                        "through transformers.")
    kwargs = _pretrained_kwargs(info)
    processor = AutoImageProcessor.from_pretrained(info.location,
                                                   local_files_only=kwargs.get("local_files_only", False))
    # Small (12M parameters) and its output is the picture itself: half precision would save little and cost detail.
    net = Swin2SRForImageSuperResolution.from_pretrained(info.location, dtype=torch.float32, **kwargs)
    return EditModel(info, "hub", net.to(device).eval(), {"library": "transformers", "class": head}, device,
                     "upscale", int(net.config.upscale), processor)


Loader = Callable[[ModelInfo, dict, Any], Any]
LOADERS: dict[tuple[str, str], Loader] = {
    ("text", "hub"): _text, ("text", "transformers"): _text, ("text", "lstm"): _lstm,
    ("fill", "hub"): _fill_mask, ("fill", "transformers"): _fill_mask,
    ("image", "hub"): _unconditional_pipeline, ("image", "diffusers"): _unconditional_pipeline,
    ("image", "dcgan"): _dcgan, ("image", "vae"): _vae,
    ("conditional", "hub"): _text_to_image, ("conditional", "diffusers"): _text_to_image,
    ("conditional", "cgan"): _conditional_gan, ("conditional", "text2img"): _conditional_gan,
    ("conditional", "guided-diffusion"): _guided_diffusion,
    ("video", "hub"): _text_to_video, ("video", "diffusers"): _text_to_video, ("video", "text2video"): _video_gan,
    ("audio", "mel-diffusion"): _mel_diffusion, ("audio", "wavenet"): _wavenet,
    ("audio", "hub"): _hub_audio, ("audio", "transformers"): _transformers_audio,
    ("audio", "diffusers"): _diffusers_audio,
    ("edit", "hub"): _hub_edit, ("edit", "diffusers"): _diffusers_edit, ("edit", "transformers"): _transformers_edit,
    ("edit", "restorer"): _restorer, ("edit", "upscaler"): _upscaler,
}

# What each task's loaders make, for the sentence that refuses a model of another task.
MAKES = {"text": "a text generator", "fill": "a masked language model", "image": "an unconditional image generator",
         "conditional": "a conditional image generator", "video": "a text-to-video generator",
         "audio": "a sound generator", "edit": "a picture editor"}
_NON = {"text": "non-text", "fill": "non-text", "image": "non-image", "conditional": "non-image", "video": "non-video", "audio": "non-audio",
        "edit": "non-editing"}


def load_model(info: ModelInfo) -> Any:
    """`info` loaded by the loader of its task and kind (not cached: `aigc.registry.load` caches).
    Whatever fails becomes one `AigcError` sentence."""
    try:
        return _load(info)
    except AigcError:
        raise
    except Exception as exc:  # the hub, the file system and the weights all fail differently
        raise load_error(info, exc) from exc


def _load(info: ModelInfo) -> Any:
    from .device import best_device

    kind, config = kind_of(info)
    loader = LOADERS.get((info.task, kind)) if kind is not None else None
    if loader is None:
        if kind is None and info.task != "text":
            raise AigcError(f"'{info.name}' is neither a diffusers pipeline (model_index.json) nor a model of this app "
                            "(config.json).")
        raise AigcError(f"'{info.name}' is {_what(kind, config, info.task)}, not {MAKES[info.task]}.")
    if kind in LIBRARY_KINDS:
        _quiet_libraries(info.task)
    return loader(info, config, best_device())


def _what(kind: str | None, config: dict, task: str) -> str:
    if kind == "diffusers":
        return f"a {config.get('_class_name', 'diffusers pipeline')}"
    if kind == "transformers":
        return f"a {config['model_type']} model"
    return f"a '{kind}' model" if kind else f"a {_NON[task]} model"


PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle")


def load_error(info: ModelInfo, exc: BaseException) -> AigcError:
    """The one sentence for a model that failed to load: pickle-only weights (never loaded, the
    likely cause), what the Hub said, or the first line of what went wrong in a folder."""
    from . import hub

    if info.source == "hub":
        files = hub.repo_files(info.location)
    else:
        folder = Path(info.location)
        files = [str(p.relative_to(folder)) for p in folder.rglob("*")] if folder.is_dir() else []
    pickles = [Path(f).name for f in files if Path(f).suffix in PICKLE_SUFFIXES]
    if pickles and not any(f.endswith(".safetensors") for f in files):
        if info.source == "hub":
            return AigcError(f"'{info.name}' has no safetensors weights, and this app never loads pickle files.")
        return AigcError(f"'{info.name}' has only pickle weights ({pickles[0]}), and this app never loads pickle "
                         "files: save the model with safetensors.")
    if info.source == "hub":
        return hub.load_error(info.name, exc)
    first = (str(exc).splitlines() or [type(exc).__name__])[0][:200]
    return AigcError(f"Could not load '{info.name}' from {info.location}: {first}")
