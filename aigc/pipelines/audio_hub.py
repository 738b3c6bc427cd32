"""Speech, music and sound from library models: transformers' text-to-speech / text-to-audio pipeline (VITS,
Kim et al. 2021, as in Meta's MMS, Pratap et al. 2023; MusicGen, Copet et al. 2023) and diffusers audio
pipelines (StableAudio, Evans et al. 2024; AudioLDM 2, Liu et al. 2023; ...), as `aigc.loaders` loads them.

Clip i of seed s is drawn from seed s + i, alone, so that a seed gives the same clip however many clips are
asked for. A speech model talks for as long as its text takes; music and sound models make the length asked.
"""

from __future__ import annotations

import math
import threading

import numpy as np
import torch

from .. import limits
from ..errors import AigcError
from ..loaders import AudioModel
from ..progress import Steps, step_callback
from . import validate

MIN_SECONDS = 0.5
DEFAULT_SECONDS = 5.0
LENGTH_NOT_USED = "This model makes sound as long as the text needs, so the length setting is not used."

# transformers' audio models draw from torch's global generator (they take none of their own): one request
# at a time seeds it and draws, so that two requests served at once cannot take each other's numbers.
_GLOBAL_DRAWS = threading.Lock()


def speak(m: AudioModel, what, seed: int, seconds, num_clips) -> tuple[np.ndarray, int, list[str], list[str]]:
    """`num_clips` clips of `what` by the library model `m`: (clips (N, samples) float32 in [-1, 1], padded
    with silence to the longest; the sampling rate; the text of each clip; notes for the page)."""
    text = validate.text("text", what, limits.current().caption_chars).strip()
    if not text:
        raise AigcError("Type what the model should say, or describe the sound or music to make.")
    num_clips = validate.number("number of clips", num_clips, 1, limits.current().max_clips, integer=True,
                                default=1)
    most = min(limits.current().max_audio_seconds, m.config.get("most_seconds") or math.inf)
    asked = seconds is not None
    seconds = validate.number("length in seconds", seconds, MIN_SECONDS, most, default=DEFAULT_SECONDS)
    if m.config["library"] == "diffusers":
        clips, uses_length = _diffusers_clips(m, text, seed, seconds, num_clips)
    else:
        clips, uses_length = _transformers_clips(m, text, seed, seconds, num_clips)
    notes = [LENGTH_NOT_USED] if asked and not uses_length else []
    return _stacked(clips), m.config["rate"], [text] * num_clips, notes


def _transformers_clips(m: AudioModel, text: str, seed: int, seconds: float, n: int) -> tuple[list[np.ndarray], bool]:
    pipe = m.net
    tokenizer = getattr(pipe, "tokenizer", None)
    if tokenizer is not None:
        # VITS drops characters its alphabet lacks; with none left there is nothing to say.
        ids = tokenizer(text)["input_ids"]
        if not set(ids) - set(tokenizer.all_special_ids):
            raise AigcError(f"'{m.info.name}' knows none of the characters in this text; type it in the model's "
                            "own language.")
    options, samples = {}, None
    if m.config["model_type"] in ("musicgen", "musicgen_melody"):
        # One token per codec frame and codebook; the codebooks are delayed one frame each (Copet et al. 2023,
        # "delay pattern"), so the last codebook's frames arrive codebooks - 1 tokens late.
        frames = math.ceil(seconds * m.config["frame_rate"])
        options["generate_kwargs"] = {"max_new_tokens": frames + m.config["codebooks"] - 1}
        samples = round(seconds * m.config["rate"])
    clips = []
    for i in Steps(range(n)):
        with _GLOBAL_DRAWS:
            torch.manual_seed(seed + i)  # VITS's noise and durations, MusicGen's sampling
            out = pipe(text, **options)
        clips.append(_mono(out["audio"])[:samples])
    return clips, samples is not None


def _diffusers_clips(m: AudioModel, text: str, seed: int, seconds: float, n: int) -> tuple[list[np.ndarray], bool]:
    pipe, length = m.net, m.config.get("length")
    # One prompt per clip, each with its own generator: a batch of n whose clip i is seed + i's clip.
    # (num_waveforms_per_prompt would let AudioLDM 2 reorder the clips by its own score.)
    options = {"generator": [torch.Generator().manual_seed(seed + i) for i in range(n)]}
    if length is not None:
        options[length] = seconds
    options.update(step_callback(pipe, m.config.get("steps") or 1))
    audios = pipe([text] * n, **options).audios
    audios = audios.float().cpu().numpy() if isinstance(audios, torch.Tensor) else np.asarray(audios, np.float32)
    return [_mono(a) for a in audios], length is not None


def _mono(audio) -> np.ndarray:
    """One channel: (samples,) as it is, (channels, samples) averaged."""
    audio = np.asarray(audio, np.float32)
    return audio.mean(axis=0) if audio.ndim > 1 else audio


def _stacked(clips: list[np.ndarray]) -> np.ndarray:
    """The clips as one (N, samples) array padded with silence to the longest; a clip louder than full scale
    is scaled down to it (never up: a quiet clip stays quiet)."""
    out = np.zeros((len(clips), max(len(c) for c in clips)), np.float32)
    for row, clip in zip(out, clips):
        peak = float(np.abs(clip).max()) if len(clip) else 0.0
        row[:len(clip)] = clip / peak if peak > 1 else clip
    return out
