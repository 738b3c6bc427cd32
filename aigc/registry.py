"""The model zoo: built-in checkpoints, finished training runs and Hub ids.

Loading is lazy (nothing loads until a model is first used), cached, and safe to
call from many threads at once: each model loads once, under its own lock.
"""

from __future__ import annotations

import contextvars
import json
import os
import re
import socket
import threading
import time
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator
from urllib.parse import urlparse

import yaml

from .cards import card_title, read_card
from .errors import AigcError
from .paths import CHECKPOINTS, RUNS
from .progress import report_steps

TASKS = ("text", "image", "conditional", "video")
# Shown as choices in the app; any other Hub id can be typed.
HUB_DEFAULTS: dict[str, list[tuple[str, str]]] = {
    "text": [("gpt2", "OpenAI's GPT-2 (124M), English web text")],
    "image": [("google/ddpm-cifar10-32", "Ho et al.'s DDPM on CIFAR-10, 32x32 (36M parameters)")],
    "conditional": [("stabilityai/sd-turbo", "Stability AI's SD-Turbo: text to 512x512 image in one step")],
    "video": [("Wan-AI/Wan2.1-T2V-1.3B-Diffusers", "Wan-AI's Wan 2.1 text-to-video (1.3B), 480x832 clips")],
}
HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]{0,95}(/[\w.-]{1,96})?")
MAX_HUB_MODELS_IN_MEMORY = 2


@dataclass(frozen=True)
class ModelInfo:
    name: str
    task: str
    source: str  # "builtin", "run" (the best model of a training run), "local" (a folder) or "hub"
    location: str  # a folder, or a Hub id
    description: str = ""
    card: dict[str, Any] = field(default_factory=dict, compare=False, hash=False, repr=False)
    version: int = 0  # a run's best model changes as it trains: the cache keys on this too

    @property
    def own(self) -> bool:
        """Trained by this project (a card and a config.json that name its kind)."""
        return self.source in ("builtin", "run")


def builtin_models() -> list[ModelInfo]:
    found = []
    for task in TASKS:
        for folder in sorted((CHECKPOINTS / task).glob("*/")):
            if (folder / "README.md").is_file():
                found.append(_builtin(folder, task))
    return found


def _builtin(folder: Path, task: str) -> ModelInfo:
    return ModelInfo(folder.name, task, "builtin", str(folder), card_title(folder), read_card(folder))


def _builtin_named(name: str, task: str) -> ModelInfo | None:
    """The built-in `task` model called `name`, looked up alone: every request resolves its
    model, and reading all the cards for one costs more than the rest of the lookup."""
    try:
        names = os.listdir(CHECKPOINTS / task)  # a name with a slash or `..` is never among them
    except OSError:
        return None
    folder = CHECKPOINTS / task / name
    known = name in names and not name.startswith(".") and (folder / "README.md").is_file()
    return _builtin(folder, task) if known else None


def run_models() -> list[ModelInfo]:
    """The best model of every training run (finished or still going), newest run first."""
    found = []
    folders = sorted(RUNS.glob("*/best/"), key=lambda f: f.stat().st_mtime, reverse=True) if RUNS.is_dir() else []
    for folder in folders:
        readme = folder / "README.md"
        try:
            card, version = read_card(folder), readme.stat().st_mtime_ns
        except (OSError, ValueError, yaml.YAMLError):  # a run saving its best right now: seen at the next look
            continue
        if card.get("task") in TASKS:
            found.append(ModelInfo(folder.parent.name, card["task"], "run", str(folder), card_title(folder), card, version))
    return found


# Where a training run keeps a model, best first; a `.old` twin stands in while an atomic save swaps it.
RUN_MODELS = ("best", "best.old", "checkpoint/model", "checkpoint.old/model")


def run_model(folder: Path) -> Path:
    """The model a folder stands for: a training run's best model (before its first evaluation,
    the model of its last checkpoint), wherever the run lives; any other folder is a model itself."""
    for sub in RUN_MODELS:
        if (folder / sub).is_dir():
            return folder / sub
    if (folder / "metrics.jsonl").is_file():  # a run that has only just started
        raise AigcError(f"The training run '{folder.name}' has not saved a model yet; use it after its first checkpoint.")
    return folder


def list_models(task: str | None = None) -> list[ModelInfo]:
    """Built-in models first, then finished training runs, then the suggested Hub ids (usable when online)."""
    if task is not None and task not in TASKS:
        raise AigcError(f"Unknown task '{task}'; tasks are {', '.join(TASKS)}.")
    builtin = [m for m in builtin_models() if task in (None, m.task)]
    names = {m.name for m in builtin}
    models = builtin + [m for m in run_models() if task in (None, m.task) and m.name not in names]
    for t, ids in HUB_DEFAULTS.items():
        if task in (None, t):
            models += [ModelInfo(i, t, "hub", i, d) for i, d in ids]
    return models


def resolve(name: str, task: str) -> ModelInfo:
    """A built-in name, a local folder saved with `save_pretrained`, or a Hub id."""
    if not isinstance(name, str) or not name.strip():
        raise AigcError("Choose a model: a built-in name or a Hugging Face Hub id.")
    name = name.strip()
    builtin = _builtin_named(name, task)
    if builtin is not None:
        return builtin
    runs = {m.name: m for m in run_models() if m.task == task}
    if name in runs:
        return runs[name]
    if _web_request.get() and os.path.exists(name):  # transformers and diffusers would load it as a folder
        raise AigcError(f"Unknown model '{name[:80]}': the app loads built-in models and Hub ids, not folders on the server.")
    if os.path.isdir(name):
        folder = Path(name).resolve()
        model = run_model(folder)
        version = model.stat().st_mtime_ns if model != folder else 0  # a run's best changes as it trains
        return ModelInfo(folder.name, task, "local", str(model), version=version)
    if HUB_ID.fullmatch(name) and ".." not in name:
        return ModelInfo(name, task, "hub", name)
    known = ", ".join(m.name for m in builtin_models() if m.task == task) or "none"
    raise AigcError(f"Unknown model '{name[:80]}': use a built-in {task} model ({known}) or a Hub id such as 'gpt2'.")


_web_request: contextvars.ContextVar[bool] = contextvars.ContextVar("aigc_web_request", default=False)


@contextmanager
def names_from_the_web() -> Iterator[None]:
    """Inside this block a model name is a built-in name or a Hub id, never a folder on this
    machine: names typed by strangers (`../../somewhere`) must not choose what the server loads."""
    token = _web_request.set(True)
    try:
        yield
    finally:
        _web_request.reset(token)


_reachable: tuple[float, bool] = (0.0, False)


def hub_offline() -> bool:
    """True when HF_HUB_OFFLINE is set or the Hub did not answer a quick probe (cached 60 s),
    so that an uncached id fails at once instead of after the Hub client's retries."""
    global _reachable
    if os.environ.get("HF_HUB_OFFLINE", "0").lower() in ("1", "true", "yes", "on"):
        return True
    checked_at, ok = _reachable
    if time.monotonic() - checked_at > 60:
        host = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co"))
        try:
            socket.create_connection((host.hostname, host.port or 443), timeout=3).close()
            ok = True
        except OSError:
            ok = False
        _reachable = (time.monotonic(), ok)
    return not ok


PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle")


def friendly_load_error(info: ModelInfo, exc: Exception) -> AigcError:
    text = str(exc)
    if info.source != "hub":
        folder = Path(info.location)
        pickles = [p.name for p in folder.rglob("*") if p.suffix in PICKLE_SUFFIXES] if folder.is_dir() else []
        if pickles and not any(folder.rglob("*.safetensors")):
            return AigcError(f"'{info.name}' has only pickle weights ({pickles[0]}), and this app never loads pickle "
                             "files: save the model with safetensors.")
        return AigcError(f"Could not load '{info.name}' from {info.location}: {text.splitlines()[0][:200]}")
    if "safetensors" in text.lower() and "not found" not in text.lower():
        return AigcError(f"'{info.name}' has no safetensors weights, and this app never loads pickle files.")
    if hub_offline() or any(s in text for s in ("offline", "Connection", "connect", "resolve", "cached", "Max retries", "Network")):
        return AigcError(f"'{info.name}' is not in the local cache and the Hugging Face Hub cannot be reached; pick a built-in model or connect to the internet.")
    return AigcError(f"Could not load '{info.name}' from the Hugging Face Hub: {text.splitlines()[0][:200]}")


class ModelCache:
    """Loaded models by (task, location). Built-ins stay; Hub models are evicted oldest first."""

    def __init__(self) -> None:
        self._models: OrderedDict[tuple[str, str], Any] = OrderedDict()
        self._locks: dict[tuple[str, str], threading.Lock] = {}
        self._guard = threading.Lock()

    def get(self, info: ModelInfo, loader: Callable[[ModelInfo], Any]) -> Any:
        key = (info.task, info.location, info.version)
        with self._guard:
            if key in self._models:
                self._models.move_to_end(key)
                return self._models[key]
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            with self._guard:
                if key in self._models:
                    return self._models[key]
            try:
                model = loader(info)
            except AigcError:
                raise
            except Exception as exc:  # the hub, the file system and the weights all fail differently
                raise friendly_load_error(info, exc) from exc
            with self._guard:
                for stale in [k for k in self._models if k[:2] == key[:2]]:  # an older best of the same run
                    del self._models[stale]
                self._models[key] = model
                hub_keys = [k for k, m in self._models.items() if getattr(m, "info", None) and m.info.source == "hub"]
                for old in hub_keys[:-MAX_HUB_MODELS_IN_MEMORY]:
                    del self._models[old]
            return model

    def clear(self) -> None:
        with self._guard:
            self._models.clear()


CACHE = ModelCache()


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


def _load_text(info: ModelInfo) -> TextModel:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from .device import best_device, inference_dtype
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    device = best_device()
    kwargs: dict[str, Any] = {"use_safetensors": True}
    if info.source == "hub" and hub_offline():
        kwargs["local_files_only"] = True
    tokenizer = AutoTokenizer.from_pretrained(info.location, **{k: v for k, v in kwargs.items() if k != "use_safetensors"})
    model = AutoModelForCausalLM.from_pretrained(info.location, dtype=inference_dtype(device), **kwargs)
    return TextModel(info, model.to(device).eval(), tokenizer, device)


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


def _load_image(info: ModelInfo) -> ImageModel:
    from .device import best_device

    device = best_device()
    folder = Path(info.location)
    if info.source == "hub" or (folder / "model_index.json").is_file():
        return _load_diffusion(info, device)
    config_file = folder / "config.json"
    if not config_file.is_file():
        raise AigcError(f"'{info.name}' is neither a diffusers pipeline (model_index.json) nor a model of this app (config.json).")
    config = json.loads(config_file.read_text())
    kind = config.get("kind")
    from safetensors.torch import load_file

    if kind == "dcgan":
        from .models.dcgan import Generator

        net = Generator(config["z_dim"], config["channels"], config["width"])
        net.load_state_dict(load_file(folder / "generator.safetensors"))
    elif kind == "vae":
        from .models.vae import VAE

        net = VAE(config["channels"], config["latent"], config["width"])
        net.load_state_dict(load_file(folder / "vae.safetensors"))
    else:
        what = f"a '{kind}' model" if kind else f"a {config.get('model_type', 'non-image')} model"
        raise AigcError(f"'{info.name}' is {what}, not an unconditional image generator.")
    return ImageModel(info, kind, net.to(device).eval(), config, device)


def _load_diffusion(info: ModelInfo, device) -> ImageModel:
    import inspect

    import torch
    from diffusers import DiffusionPipeline
    from diffusers.utils import logging as diffusers_logging

    from .device import inference_dtype

    diffusers_logging.disable_progress_bar()
    kwargs: dict[str, Any] = {"use_safetensors": True}
    if info.source == "hub" and hub_offline():
        kwargs["local_files_only"] = True
    # this project's small pipelines are trained and measured in float32
    dtype = inference_dtype(device) if info.source == "hub" else torch.float32
    pipe = DiffusionPipeline.from_pretrained(info.location, dtype=dtype, **kwargs)
    if "prompt" in inspect.signature(pipe.__call__).parameters or not hasattr(pipe, "unet"):
        raise AigcError(f"'{info.name}' is a {type(pipe).__name__}, not an unconditional image pipeline; "
                        "text-to-image models belong in the Conditional image tab.")
    report_steps(pipe)
    return ImageModel(info, "diffusion", pipe.to(device), {"size": pipe.unet.config.sample_size, "channels": pipe.unet.config.in_channels}, device)


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


def _load_conditional(info: ModelInfo) -> ConditionalModel:
    from .device import best_device

    device = best_device()
    folder = Path(info.location)
    if info.source == "hub" or (folder / "model_index.json").is_file():
        return _load_text_to_image(info, device)
    config_file = folder / "config.json"
    if not config_file.is_file():
        raise AigcError(f"'{info.name}' is neither a diffusers pipeline (model_index.json) nor a model of this app (config.json).")
    config = json.loads(config_file.read_text())
    kind = config.get("kind")
    if kind in ("cgan", "text2img"):
        from safetensors.torch import load_file

        from .models.cgan import Vocabulary, conditional_generator

        net = conditional_generator(config)
        net.load_state_dict(load_file(folder / "generator.safetensors"))
        vocab = Vocabulary(config["vocabulary"], config.get("filler", ())) if kind == "text2img" else None
        return ConditionalModel(info, kind, net.to(device).eval(), config, device, vocabulary=vocab)
    if kind == "guided-diffusion":
        from diffusers import DDPMScheduler, UNet2DModel

        unet = UNet2DModel.from_pretrained(folder / "unet", use_safetensors=True)
        scheduler = DDPMScheduler.from_pretrained(folder / "scheduler")
        return ConditionalModel(info, kind, unet.to(device).eval(), config, device, scheduler=scheduler)
    what = f"a '{kind}' model" if kind else f"a {config.get('model_type', 'non-image')} model"
    raise AigcError(f"'{info.name}' is {what}, not a conditional image generator.")


def _load_text_to_image(info: ModelInfo, device) -> ConditionalModel:
    from diffusers import AutoPipelineForText2Image, DiffusionPipeline
    from diffusers.utils import logging as diffusers_logging

    from .device import inference_dtype

    diffusers_logging.disable_progress_bar()
    kwargs: dict[str, Any] = {"use_safetensors": True}
    location = info.location
    if info.source == "hub":
        if hub_offline():
            kwargs["local_files_only"] = True
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
    report_steps(pipe)
    return ConditionalModel(info, "hub", pipe.to(device), {}, device)


@dataclass
class VideoModel:
    """A caption-to-clip generator: this project's text2video GAN or a diffusers text-to-video pipeline."""

    info: ModelInfo
    kind: str  # "text2video" or "hub"
    net: Any  # VideoGenerator or a diffusers pipeline
    config: dict[str, Any]
    device: Any
    vocabulary: Any = None  # the Vocabulary of a built-in model


# Pipelines that take `num_frames` but animate a picture or edit a video: they need more than a prompt.
_NOT_TEXT_TO_VIDEO = re.compile(r"ImageToVideo|VideoToVideo|I2V|Image2Video|Video2Video|Upsample")


def _load_video(info: ModelInfo) -> VideoModel:
    from .device import best_device

    device = best_device()
    folder = Path(info.location)
    if info.source == "hub" or (folder / "model_index.json").is_file():
        return _load_text_to_video(info, device)
    config_file = folder / "config.json"
    if not config_file.is_file():
        raise AigcError(f"'{info.name}' is neither a diffusers pipeline (model_index.json) nor a model of this app (config.json).")
    config = json.loads(config_file.read_text())
    kind = config.get("kind")
    if kind != "text2video":
        what = f"a '{kind}' model" if kind else f"a {config.get('model_type', 'non-video')} model"
        raise AigcError(f"'{info.name}' is {what}, not a text-to-video generator.")
    from safetensors.torch import load_file

    from .models.cgan import Vocabulary
    from .models.video import video_generator

    net = video_generator(config)
    net.load_state_dict(load_file(folder / "generator.safetensors"))
    vocab = Vocabulary(config["vocabulary"], config.get("filler", ()))
    return VideoModel(info, kind, net.to(device).eval(), config, device, vocabulary=vocab)


def _load_text_to_video(info: ModelInfo, device) -> VideoModel:
    import inspect

    from diffusers import DiffusionPipeline
    from diffusers.utils import logging as diffusers_logging
    from transformers.utils import logging as hf_logging

    from .device import inference_dtype

    diffusers_logging.disable_progress_bar()
    hf_logging.disable_progress_bar()  # the pipeline's text encoder loads through transformers
    kwargs: dict[str, Any] = {"use_safetensors": True}
    if info.source == "hub" and hub_offline():
        kwargs["local_files_only"] = True
    pipe = DiffusionPipeline.from_pretrained(info.location, dtype=inference_dtype(device), **kwargs)
    params = inspect.signature(pipe.__call__).parameters
    # A required image or video input, or a class named for one, means it does not start from text alone.
    needs_more = any(p.default is inspect.Parameter.empty for name, p in params.items() if name in ("image", "video"))
    if "num_frames" not in params or "prompt" not in params or needs_more or _NOT_TEXT_TO_VIDEO.search(type(pipe).__name__):
        raise AigcError(f"'{info.name}' is a {type(pipe).__name__}, not a text-to-video pipeline; the Video tab needs one "
                        "such as Wan-AI/Wan2.1-T2V-1.3B-Diffusers.")
    report_steps(pipe)
    return VideoModel(info, "hub", pipe.to(device), {}, device)


LOADERS: dict[str, Callable[[ModelInfo], Any]] = {"text": _load_text, "image": _load_image, "conditional": _load_conditional,
                                                  "video": _load_video}


def load(name: str, task: str) -> Any:
    """The loaded model for `name` (see `resolve`), loading it on first use."""
    info = resolve(name, task)
    return CACHE.get(info, LOADERS[task])
