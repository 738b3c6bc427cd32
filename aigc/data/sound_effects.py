"""`sound-effects`: procedural one-second clips of one sound with a caption, the `shapes` of audio.

Five kinds of sound, each a few lines of synthesis:

- **pluck**: a plucked string by Karplus-Strong (Karplus and Strong 1983), its decay set per note with the
  decay-stretching factor of Jaffe and Smith (1983), so that a high note can ring as long as a low one;
- **drum**: a pitched membrane: a sine that drops to its pitch within tens of milliseconds, a weaker
  inharmonic second mode (1.59 times the first, the (1,1) mode of an ideal membrane) and a noise click;
- **chirp**: a sine sweeping exponentially up or down by 1.2 to 1.6 octaves;
- **siren**: a tone rich in harmonics whose pitch swings up and down by 0.4 to 0.7 octaves, slowly or fast;
- **noise**: a burst of filtered noise.

The caption words are a contract the judge (aigc/evaluation/sound_effects.py) measures and the generators
learn; each is a range a measurement can check:

- pitch: **low** = a fundamental of 110-220 Hz, **high** = 440-880 Hz (for a chirp or siren, the geometric
  centre of its pitch track). For a noise burst, low = noise low-passed at 200-500 Hz and high = noise
  high-passed at 1.5-2.5 kHz (two biquads each, 24 dB an octave); the judge reads its spectral centroid.
- length: **short** = the sound lasts 0.12-0.25 s, **long** = 0.6-0.9 s; silence follows. A plucked string
  or drum decays by 12 dB over its length and then fades out within 20 ms.
- direction, chirps only: **rising** / **falling** = the pitch ends 1.2-1.6 octaves above / below its start.
- speed, sirens only: **slow** = 0.6-1.4 swings a second, **fast** = 5-8.

A caption is "a [length] [pitch] [direction or speed] kind", e.g. "a long high rising chirp"; any subset
of the words makes a caption ("a high sound", "a fast siren"). Every clip starts within 40 ms, is
peak-normalised to 0.9, and is a pure function of (seed, index), so the source is unbounded and
reproducible. Generators learn from seed 0 (any seed but the judge's 101 and 102).
"""

from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass

import torch
import torchaudio.functional as AF

from .audio import RATE, SECONDS

KINDS = ("pluck", "drum", "chirp", "siren", "noise")
PITCHES = {"low": (110.0, 220.0), "high": (440.0, 880.0)}  # Hz: fundamental, or centre of the pitch track
NOISE_CUTOFFS = {"low": (200.0, 500.0), "high": (1500.0, 2500.0)}  # Hz: low-pass / high-pass corner
LENGTHS = {"short": (0.12, 0.25), "long": (0.6, 0.9)}  # seconds of sound, then silence
DIRECTIONS = ("rising", "falling")
SWEEP_OCTAVES = (1.2, 1.6)
SPEEDS = {"slow": (0.6, 1.4), "fast": (5.0, 8.0)}  # swings (up and down) a second
SWING_OCTAVES = (0.4, 0.7)  # a siren's pitch, lowest to highest
ATTRIBUTES = ("kind", "pitch", "length", "direction", "speed")
VOCABULARY = {"kind": KINDS, "pitch": tuple(PITCHES), "length": tuple(LENGTHS), "direction": DIRECTIONS,
              "speed": tuple(SPEEDS)}
ONLY_FOR = {"direction": "chirp", "speed": "siren"}  # words that describe one kind of sound only
PEAK = 0.9
DECAYED = 0.25  # a pluck or drum is at -12 dB of its start when its length is over
SAMPLES = RATE * SECONDS
HOP_PEAK = RATE // 100  # 10 ms blocks, as the judge measures length


def applies(attribute: str, kind: str | None) -> bool:
    return attribute not in ONLY_FOR or kind is None or ONLY_FOR[attribute] == kind


def caption(attrs: dict[str, str]) -> str:
    """'a long high rising chirp'; any attribute may be missing ('a high sound')."""
    words = [attrs[k] for k in ("length", "pitch", "direction", "speed") if attrs.get(k)]
    words.append(attrs.get("kind") or "sound")
    return "a " + " ".join(words)


def parse_caption(text: str) -> dict[str, str]:
    """The attributes a caption names (the first word of each kind wins; unknown words are ignored).
    A word that does not fit the named kind ('a rising drum') is dropped: only chirps rise or fall
    and only sirens are slow or fast."""
    words = re.findall(r"[a-z]+", text.lower())
    attrs = {}
    for key, values in VOCABULARY.items():
        found = [w for w in words if w in values]
        if found:
            attrs[key] = found[0]
    return {k: v for k, v in attrs.items() if applies(k, attrs.get("kind"))}


def implied_kind(attrs: dict[str, str]) -> str | None:
    """The kind a caption names, or the one its words imply: 'a rising sound' is a chirp."""
    if attrs.get("kind"):
        return attrs["kind"]
    if attrs.get("direction"):
        return "chirp"
    if attrs.get("speed"):
        return "siren"
    return None


def sample_attributes(rng: random.Random) -> dict[str, str]:
    """A full attribute set: the kind, then the words that describe it."""
    return complete({}, rng)


def complete(attrs: dict[str, str], rng: random.Random) -> dict[str, str]:
    """`attrs` with every attribute it does not name drawn at random, as the data draws them; the kind
    comes first (named, implied by a direction or speed word, or drawn), then only the words it takes."""
    kind = implied_kind(attrs) or rng.choice(KINDS)
    out = {"kind": kind}
    for key in ATTRIBUTES[1:]:
        if applies(key, kind):
            out[key] = attrs.get(key) or rng.choice(VOCABULARY[key])
    return out


def _uniform_log(rng: random.Random, low: float, high: float) -> float:
    return math.exp(rng.uniform(math.log(low), math.log(high)))


def _envelope(samples: int, attack: float, release: float) -> torch.Tensor:
    """A sustained sound: a linear attack and a raised-cosine release, both in seconds."""
    t = torch.arange(samples) / RATE
    rise = (t / attack).clamp(max=1)
    fall = ((samples / RATE - t) / release).clamp(0, 1)
    return rise * (0.5 - 0.5 * torch.cos(math.pi * fall))


def _tone(freq: torch.Tensor, harmonics: list[float]) -> torch.Tensor:
    """A tone following the frequency track `freq` (Hz per sample), with harmonic amplitudes 1, h2, h3..."""
    phase = 2 * math.pi * torch.cumsum(freq.double(), 0) / RATE
    out = torch.zeros_like(phase)
    for k, amp in enumerate([1.0, *harmonics], start=1):
        if amp and k * float(freq.max()) < RATE / 2:  # no harmonic above Nyquist (it would alias)
            out += amp * torch.sin(k * phase)
    return out.float()


def _pluck(f0: float, length: float, rng: random.Random, gen: torch.Generator) -> torch.Tensor:
    """Karplus-Strong: y[n] = x[n] + rho ((1 - S) y[n - N] + S y[n - N - 1]). The two-tap average loses
    sqrt(1 - 2S(1-S)(1 - cos w)) of the fundamental each period; S (decay stretching, Jaffe and Smith 1983)
    and rho are chosen so the note is at DECAYED of its start after `length` seconds."""
    samples = int(length * RATE)
    w = 2 * math.pi * f0 / RATE
    per_period = DECAYED ** (1 / (length * f0))
    c = (1 - per_period ** 2) / (2 * (1 - math.cos(w)))
    if c >= 0.25:
        stretch, rho = 0.5, per_period / math.cos(w / 2)
    else:
        stretch, rho = (1 - math.sqrt(1 - 4 * c)) / 2, 1.0
    delay = max(2, round(RATE / f0 - stretch))
    burst = torch.rand(delay + 1, generator=gen) * 2 - 1
    # fewer high harmonics in the excitation (a softer pluck): they die fast, and would leave the note's
    # start far louder than the rest of it
    burst = AF.lowpass_biquad(burst, RATE, min(RATE * 0.45, f0 * rng.uniform(3, 8)))
    x = torch.zeros(samples)
    x[: delay + 1] = burst - burst.mean()
    a = torch.zeros(delay + 2)
    a[0], a[delay], a[delay + 1] = 1.0, -rho * (1 - stretch), -rho * stretch
    b = torch.zeros(delay + 2)
    b[0] = 1.0
    y = AF.lfilter(x.double(), a.double(), b.double(), clamp=False).float()
    # the excitation's upper harmonics die first, so the note's start stands far above its tail: even the
    # decay out (an exponential ramp) so that it ends at DECAYED of its peak, as the drum does
    peaks = y.abs().unfold(0, HOP_PEAK, HOP_PEAK).amax(-1)
    end = float(peaks[-3:].max() / peaks.max().clamp_min(1e-9))
    if end < DECAYED:
        y = y * (DECAYED / max(end, 1e-4)) ** (torch.arange(samples) / samples)
    return y * _envelope(samples, 0.001, 0.02)


def _drum(f0: float, length: float, rng: random.Random, gen: torch.Generator) -> torch.Tensor:
    samples = int(length * RATE)
    t = torch.arange(samples) / RATE
    drop, glide = rng.uniform(1.25, 1.6), rng.uniform(0.01, 0.025)
    freq = f0 * (1 + (drop - 1) * torch.exp(-t / glide))
    decay = math.log(1 / DECAYED) / length
    body = _tone(freq, []) * torch.exp(-decay * t)
    mode = _tone(freq * 1.59, []) * torch.exp(-1.5 * decay * t) * rng.uniform(0.15, 0.35)
    click_len = int(rng.uniform(0.003, 0.01) * RATE)
    click = AF.highpass_biquad(torch.randn(click_len, generator=gen), RATE, rng.uniform(800, 2000))
    click = click / click.abs().max().clamp_min(1e-6) * rng.uniform(0.3, 0.6) * torch.linspace(1, 0, click_len)
    out = body + mode
    out[:click_len] += click
    return out * _envelope(samples, 0.001, 0.02)


def _chirp(f0: float, length: float, direction: str, rng: random.Random) -> torch.Tensor:
    samples = int(length * RATE)
    span = rng.uniform(*SWEEP_OCTAVES) * (1 if direction == "rising" else -1)
    s = torch.arange(samples) / samples
    freq = f0 * 2 ** (span * (s - 0.5))  # exponential sweep about its centre f0
    tone = _tone(freq, [rng.uniform(0, 0.3)])
    return tone * _envelope(samples, rng.uniform(0.005, 0.015), rng.uniform(0.01, 0.03))


def _siren(f0: float, length: float, speed: str, rng: random.Random) -> torch.Tensor:
    samples = int(length * RATE)
    t = torch.arange(samples) / RATE
    swing, rate = rng.uniform(*SWING_OCTAVES), rng.uniform(*SPEEDS[speed])
    freq = f0 * 2 ** (swing / 2 * torch.sin(2 * math.pi * rate * t + rng.uniform(0, 2 * math.pi)))
    # rich in harmonics, as a mechanical siren is: a short slow siren is otherwise a chirp of a pure tone
    brightness = rng.uniform(0.5, 0.9)
    tone = _tone(freq, [brightness / k for k in range(2, 7)])
    return tone * _envelope(samples, rng.uniform(0.005, 0.02), rng.uniform(0.01, 0.03))


def _noise(pitch: str, length: float, rng: random.Random, gen: torch.Generator) -> torch.Tensor:
    samples = int(length * RATE)
    noise = torch.randn(samples + 400, generator=gen)  # 50 ms more, for the filters to settle
    corner = _uniform_log(rng, *NOISE_CUTOFFS[pitch])
    biquad = AF.lowpass_biquad if pitch == "low" else AF.highpass_biquad
    for _ in range(2):
        noise = biquad(noise, RATE, corner)
    return noise[400:] * _envelope(samples, rng.uniform(0.002, 0.02), rng.uniform(0.01, 0.04))


def render(attrs: dict[str, str], rng: random.Random) -> torch.Tensor:
    """One clip (SAMPLES,) in [-1, 1] of a full attribute set (see `complete`), its details drawn from `rng`."""
    gen = torch.Generator().manual_seed(rng.getrandbits(62))
    length = rng.uniform(*LENGTHS[attrs["length"]])
    kind, pitch = attrs["kind"], attrs["pitch"]
    f0 = _uniform_log(rng, *PITCHES[pitch])
    if kind == "pluck":
        sound = _pluck(f0, length, rng, gen)
    elif kind == "drum":
        sound = _drum(f0, length, rng, gen)
    elif kind == "chirp":
        sound = _chirp(f0, length, attrs["direction"], rng)
    elif kind == "siren":
        sound = _siren(f0, length, attrs["speed"], rng)
    elif kind == "noise":
        sound = _noise(pitch, length, rng, gen)
    else:
        raise ValueError(f"unknown kind of sound {kind!r}; known: {', '.join(KINDS)}")
    start = int(rng.uniform(0, 0.04) * RATE)
    clip = torch.zeros(SAMPLES)
    clip[start: start + len(sound)] = sound[: SAMPLES - start]
    return PEAK * clip / clip.abs().max().clamp_min(1e-6)


@dataclass(frozen=True)
class SoundEffects:
    """`audio` (N, SAMPLES) float32 in [-1, 1], each clip's `captions` and full `attributes`."""

    audio: torch.Tensor
    captions: tuple[str, ...]
    attributes: tuple[dict[str, str], ...]

    def __len__(self) -> int:
        return len(self.captions)


def clip_rng(seed: int, index: int) -> random.Random:
    return random.Random(seed * 1_000_003 + index)


def sound_effect(seed: int, index: int) -> tuple[torch.Tensor, dict[str, str]]:
    """Clip `index` of source `seed` and its attributes: a pure function of the two."""
    rng = clip_rng(seed, index)
    attrs = sample_attributes(rng)
    return render(attrs, rng), attrs


def sound_effects(count: int, seed: int = 0, start: int = 0) -> SoundEffects:
    """Clips `start` ... `start + count - 1` of source `seed`, with full captions."""
    audio = torch.empty(count, SAMPLES)
    attributes = []
    for i in range(count):
        audio[i], attrs = sound_effect(seed, start + i)
        attributes.append(attrs)
    return SoundEffects(audio, tuple(caption(a) for a in attributes), tuple(attributes))
