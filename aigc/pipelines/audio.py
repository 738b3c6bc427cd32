"""Audio generation: spoken digits and sound effects from this project's models, speech and music from
the Hub.

`what` is what to say or make: digit words or numerals for a digit model ("seven", "3 1 4": one clip per
digit, in order), a caption for a sound-effect model ("a long high rising chirp"), any text for a Hub
model. Every argument is checked here, whatever the caller; a bad one is answered with one sentence.
`draw` writes the clips as one WAV (with a short pause between clips) plus a waveform and a spectrogram
picture, for the page.
"""

from __future__ import annotations

import contextvars
import queue
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from PIL import Image, ImageDraw

from .. import limits
from ..data.audio import DIGIT_WORDS, FRAMES, RATE, SECONDS, from_model_scale, log_mel, mel_to_audio, write_wav
from ..errors import AigcError
from ..loaders import AudioModel
from ..paths import OUTPUTS, new_output
from ..progress import Steps
from ..registry import load
from . import validate
from .controls import MAX_GUIDANCE, Controls, own_model
from .image import _seed

DEFAULT_MODEL = "mel-digits"
PAUSE = 0.25  # seconds of silence between clips in the page's player
NUMERALS = {str(i): i for i in range(10)} | {"oh": 0}
# The options of each kind, and what its text box holds.
OPTIONS = {"mel-diffusion": frozenset({"steps", "guidance"}), "wavenet": frozenset({"temperature"}),
           "hub": frozenset({"seconds"})}
CONDITION = {"mel-diffusion": "digits", "wavenet": "digits", "hub": "prompt"}
DEFAULTS = {"mel-diffusion": {"steps": 16, "guidance": 2.0}, "wavenet": {"temperature": 1.0}, "hub": {"seconds": 5.0}}


def controls(model: str) -> Controls:
    """What the audio model `model` takes (see `aigc.pipelines.controls`), without loading it."""
    own = own_model(model, "audio")
    kind = own[1]["kind"] if own else "hub"
    defaults = dict(DEFAULTS.get(kind, {}))
    if own and "sample_steps" in own[1]:
        defaults.update(steps=own[1]["sample_steps"], guidance=own[1].get("guidance", defaults.get("guidance")))
    labels = tuple(own[1]["class_names"]) if own and own[1].get("class_names") else None
    condition = "caption" if own and "vocabulary" in own[1] else CONDITION.get(kind, "caption")
    return Controls(kind, OPTIONS.get(kind, frozenset()), defaults, condition, labels)


@dataclass
class Audio:
    """Clips (N, samples) in [-1, 1] at `rate`, what each says or sounds like, and how long they took."""

    clips: np.ndarray
    rate: int
    said: list[str]
    seconds: float
    notes: list[str] = field(default_factory=list)

    def joined(self) -> np.ndarray:
        """The clips one after another, a short pause between them."""
        pause = np.zeros(int(PAUSE * self.rate), np.float32)
        parts = [part for clip in self.clips for part in (clip, pause)][:-1]
        return np.concatenate(parts).astype(np.float32)


def digits_in(what) -> list[int]:
    """The digits that `what` names, in order: words ("seven"), numerals ("7", "314") or both."""
    text = validate.text("text", what, limits.current().caption_chars).lower()
    found = []
    for word in re.findall(r"[a-z]+|\d", text):
        if word in DIGIT_WORDS:
            found.append(DIGIT_WORDS.index(word))
        elif word in NUMERALS:
            found.append(NUMERALS[word])
    if not text.strip():
        raise AigcError("Type the digits to say, as words or numerals: 'seven', '3 1 4'.")
    if not found:
        raise AigcError(f"This model says the digits zero to nine; '{text.strip()[:40]}' names none of them. "
                        "Type digit words or numerals, for example 'seven' or '3 1 4'.")
    return found


def caption_words(model: AudioModel, what) -> tuple[dict[str, str], list[str]]:
    """The attributes a sound-effect caption names, and the words it holds that the model does not know.
    A caption with no known word gets one sentence that lists them."""
    from ..data.sound_effects import caption, parse_caption

    text = validate.text("caption", what, limits.current().caption_chars)
    attrs = parse_caption(text)
    known = {w for values in model.config["vocabulary"].values() for w in values}
    unknown = [w for w in re.findall(r"[a-z]+", text.lower()) if w not in known and w not in FILLER]
    if not attrs:
        words = "; ".join(f"{k}: {', '.join(v)}" for k, v in model.config["vocabulary"].items())
        shown = f"'{text.strip()[:40]}'" if text.strip() else "An empty caption"
        raise AigcError(f"{shown} names no sound this model knows. Use its words ({words}), "
                        f"for example '{caption(EXAMPLE_EFFECT)}'.")
    return attrs, unknown


FILLER = frozenset({"a", "an", "the", "sound", "of", "and", "with", "sounding"})
EXAMPLE_EFFECT = {"length": "long", "pitch": "high", "direction": "rising", "kind": "chirp"}


def _count(digits: list[int], takes: int) -> list[int]:
    most = limits.current().max_clips
    takes = validate.number("number of clips", takes, 1, most, integer=True)
    if len(digits) * takes > most:
        raise AigcError(f"That is {len(digits) * takes} clips ({len(digits)} digits, {takes} of each); "
                        f"the limit is {most}.")
    return [d for d in digits for _ in range(takes)]


def generate_audio(what, model: str = DEFAULT_MODEL, *, num_clips: int = 1, seed: int | None = 0,
                   steps: int | None = None, guidance: float | None = None, temperature: float | None = None,
                   seconds: float | None = None, on_partial: Callable[[np.ndarray], None] | None = None) -> Audio:
    """`aigc.generate_audio`: clips of `what` by `model` (see the module). Clip i of seed s is drawn from
    seed s + i. `on_partial(clips so far)` is called as a WaveNet writes."""
    m: AudioModel = load(model, "audio")
    seed = _seed(seed)
    start = time.perf_counter()
    if m.kind == "hub":
        from .audio_hub import speak

        clips, rate, said, notes = speak(m, what, seed, seconds, num_clips)
        return Audio(clips, rate, said, time.perf_counter() - start, notes)
    if m.kind == "mel-diffusion" and "vocabulary" in m.config:
        return _effects(m, what, num_clips, seed, steps, guidance, start)
    digits = _count(digits_in(what), num_clips)
    labels = torch.tensor(digits)
    if m.kind == "mel-diffusion":
        clips = _mel_clips(m, labels, seed, *_denoising(m, steps, guidance))
    elif m.kind == "wavenet":
        temperature = validate.number("temperature", temperature, 0.05, 2.0, default=1.0)
        clips = _wavenet_clips(m, labels, seed, temperature, on_partial)
    else:
        raise AigcError(f"'{model}' is a '{m.kind}' model, which this tab cannot play.")
    return Audio(clips, RATE, [DIGIT_WORDS[d] for d in digits], time.perf_counter() - start)


def _denoising(m: AudioModel, steps, guidance) -> tuple[int, float]:
    steps = validate.number("steps", steps, 1, limits.current().max_diffusion_steps, integer=True,
                            default=m.config.get("sample_steps", 16))
    guidance = validate.number("guidance scale", guidance, 0, MAX_GUIDANCE, default=m.config.get("guidance", 2.0))
    return steps, guidance


def _effects(m: AudioModel, what, takes, seed: int, steps, guidance, start: float) -> Audio:
    """`takes` clips of one sound-effect caption; words it leaves out are left to the model."""
    from ..data.sound_effects import caption

    attrs, unknown = caption_words(m, what)
    takes = validate.number("number of clips", takes, 1, limits.current().max_clips, integer=True)
    steps, guidance = _denoising(m, steps, guidance)
    row = [m.config["vocabulary"][a].index(attrs[a]) if attrs.get(a) else len(m.config["vocabulary"][a])
           for a in m.config["vocabulary"]]
    clips = _mel_clips(m, torch.tensor([row] * takes), seed, steps, guidance)
    notes = [f"Words it does not know were left out: {', '.join(unknown[:10])}."] if unknown else []
    return Audio(clips, RATE, [caption(attrs)] * takes, time.perf_counter() - start, notes)


def _mel_clips(m: AudioModel, labels: torch.Tensor, seed: int, steps: int, guidance: float) -> np.ndarray:
    from ..models.mel_diffusion import sample

    # One generator for the batch: clip i's noise is a function of the seed alone, drawn in one go.
    generator = torch.Generator().manual_seed(seed)
    mels = sample(m.net, labels, m.config.get("frames", FRAMES), steps, guidance, generator=generator,
                  on_step=_reporter(steps), scheduler=m.config.get("sampler", "ddim"))
    return mel_to_audio(from_model_scale(mels.float().cpu())).numpy()


def _reporter(total: int):
    steps = iter(Steps(range(total)))
    return lambda i, x: next(steps, None)


def _wavenet_clips(m: AudioModel, labels: torch.Tensor, seed: int, temperature: float, on_partial) -> np.ndarray:
    """A WaveNet vocoder writes each clip sample by sample from a spectrogram that the spectrogram model
    named in its config draws for the digit (a WaveNet without local conditioning, from the digit alone)."""
    from ..data.audio import from_mu_law

    samples = RATE * int(m.config.get("seconds", 1))
    generator = torch.Generator().manual_seed(seed)  # draws the spectrograms, then the WaveNet's samples
    mels = None
    if m.config.get("mels"):
        from ..models.mel_diffusion import sample

        name = m.config.get("mel_model") or DEFAULT_MODEL
        mel_model: AudioModel = load(name, "audio")  # a name from the model's own config, not the request's
        if mel_model.kind != "mel-diffusion" or mel_model.labels != m.labels:
            raise AigcError(f"'{m.info.name}' writes sound from the spectrograms of '{name}', which is not a "
                            "spectrogram model of the same digits.")
        steps = mel_model.config.get("sample_steps", 16)
        with torch.inference_mode():
            mels = sample(mel_model.net, labels, mel_model.config.get("frames", FRAMES), steps,
                          mel_model.config.get("guidance", 2.0), generator=generator, on_step=_reporter(steps),
                          scheduler=mel_model.config.get("sampler", "ddim"))

    def partial(done: int, codes: torch.Tensor) -> None:
        if on_partial is not None:
            on_partial(from_mu_law(codes[:, :done].cpu()).numpy())

    codes = m.net.generate(labels.to(m.device), None if mels is None else mels.to(m.device), samples,
                           temperature=temperature, generator=generator, on_chunk=partial)
    return from_mu_law(codes.cpu()).numpy()


# -- for the page ------------------------------------------------------------------------------------


def draw(what, model: str = DEFAULT_MODEL, *, num_clips: int = 1, seed: int | None = 0, steps=None, guidance=None,
         temperature=None, seconds=None) -> tuple[str, str, str, dict]:
    """The page's answer: (WAV path, waveform PNG, spectrogram PNG, what the notes say: `summary`)."""
    audio = generate_audio(what, model, num_clips=num_clips, seed=seed, steps=steps, guidance=guidance,
                           temperature=temperature, seconds=seconds)
    return (*save(audio, model), summary(audio))


def write(what, model: str = DEFAULT_MODEL, *, num_clips: int = 1, seed: int | None = 0, temperature=None,
          every: float = 0.5) -> Iterator[tuple[str, object]]:
    """`draw` for a model that writes its clips sample by sample (a WaveNet), as a stream: ("partial",
    a waveform PNG of what is written so far) at most every `every` seconds, then ("done", draw's answer).
    The model writes in a thread of its own, under this call's limits and progress."""
    events: queue.Queue = queue.Queue()
    shown = [0.0]

    def partial(clips: np.ndarray) -> None:
        if time.perf_counter() - shown[0] >= every:
            shown[0] = time.perf_counter()
            events.put(("partial", clips))

    def run() -> None:
        try:
            audio = generate_audio(what, model, num_clips=num_clips, seed=seed, temperature=temperature,
                                   on_partial=partial)
            events.put(("done", (*save(audio, model), summary(audio))))
        except BaseException as exc:  # raised again in the caller's thread
            events.put(("error", exc))

    context = contextvars.copy_context()
    threading.Thread(target=context.run, args=(run,), daemon=True, name="audio-writer").start()
    while True:
        kind, value = events.get()
        if kind == "error":
            raise value
        if kind == "done":
            yield kind, value
            return
        length = RATE * SECONDS
        joined = np.concatenate([np.pad(clip, (0, length - len(clip))) for clip in value])  # the unwritten rest silent
        picture = new_output(OUTPUTS / "audio", f"{model}-writing", ".png")
        waveform_picture(joined, RATE).save(picture)
        yield kind, str(picture)


def save(audio: Audio, stem: str, folder: Path | None = None) -> tuple[str, str, str]:
    """The clips as one WAV, with its waveform and spectrogram pictures, in `folder` (outputs/audio)."""
    joined = audio.joined()
    folder = Path(folder) if folder is not None else OUTPUTS / "audio"
    wav = write_wav(new_output(folder, stem, ".wav"), joined, audio.rate)
    wave_png = new_output(folder, stem + "-waveform", ".png")
    waveform_picture(joined, audio.rate).save(wave_png)
    spec_png = new_output(folder, stem + "-spectrogram", ".png")
    spectrogram_picture(joined, audio.rate).save(spec_png)
    return str(wav), str(wave_png), str(spec_png)


def summary(audio: Audio) -> dict:
    """How many clips, how long each, at what rate, what they say, how long they took, and any notices."""
    said = ", ".join(audio.said[:16]) + (" ..." if len(audio.said) > 16 else "")
    return {"n": len(audio.clips), "length": audio.clips.shape[-1] / audio.rate, "rate": audio.rate, "said": said,
            "s": audio.seconds, "notes": list(audio.notes)}


BACKGROUND, INK = (24, 26, 33), (96, 180, 255)


def waveform_picture(samples: np.ndarray, rate: int, width: int = 640, height: int = 120) -> Image.Image:
    """The waveform as a band between each column's lowest and highest sample."""
    image = Image.new("RGB", (width, height), BACKGROUND)
    pen = ImageDraw.Draw(image)
    pen.line([(0, height // 2), (width, height // 2)], fill=(60, 64, 76))
    if len(samples):
        columns = np.array_split(np.asarray(samples, np.float32), min(width, len(samples)))
        for x, column in enumerate(columns):
            low, high = float(column.min()), float(column.max())
            pen.line([(x, (1 - high) * height / 2), (x, (1 - low) * height / 2)], fill=INK)
    return image


def _palette() -> np.ndarray:
    """A dark-to-bright colour ramp (black, purple, orange, pale yellow) for spectrograms."""
    stops = np.array([[0, 0, 4], [80, 18, 123], [182, 54, 121], [251, 136, 97], [252, 253, 191]], np.float32)
    at = np.linspace(0, len(stops) - 1, 256)
    low = np.floor(at).astype(int).clip(0, len(stops) - 2)
    frac = (at - low)[:, None]
    return (stops[low] * (1 - frac) + stops[low + 1] * frac).astype(np.uint8)


PALETTE = _palette()


def spectrogram_picture(samples: np.ndarray, rate: int, height: int = 160) -> Image.Image:
    """The log-mel spectrogram (low frequencies at the bottom), coloured, 80 dB of range."""
    audio = torch.as_tensor(np.asarray(samples, np.float32))
    if rate != RATE:
        import torchaudio.functional as AF

        audio = AF.resample(audio, rate, RATE)
    mel = log_mel(audio).flip(0).numpy()
    top = mel.max()
    level = ((mel - (top - 18.4)) / 18.4).clip(0, 1)  # 18.4 nats of power: 80 dB
    image = Image.fromarray(PALETTE[(level * 255).astype(np.uint8)])
    return image.resize((max(image.width * 4, 320), height), Image.BILINEAR)
