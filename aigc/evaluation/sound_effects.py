"""Judging generated `sound-effects`: does the clip sound like its caption says?

Measured where the caption allows (aigc/data/sound_effects.py says what each word means):

- **pitch** of a tone by its fundamental: a YIN pitch track (de Cheveigne and Kawahara 2002: the cumulative
  mean normalised difference of the clip with itself delayed, its first dip under 0.15, refined by a
  parabola) over 10 ms frames; its median over the loud frames with a clear pitch. Low below LOW_HIGH_HZ
  (the geometric middle of 220 and 440 Hz), high above. For a noise burst, the spectral centroid instead:
  low below CENTROID_HZ.
- **length**: from the first to the last 10 ms block whose peak is within 26 dB of the clip's peak;
  short below SHORT_LONG_S (sounds last 0.12-0.25 s or 0.6-0.9 s).
- **direction** (chirps) and **speed** (sirens) from a frequency track: the power-weighted mean frequency
  (50 Hz-2 kHz) of each 10 ms frame, which follows a tone's pitch through a log-mel spectrogram and
  Griffin-Lim (YIN's track does not: Griffin-Lim scrambles the phase of low tones). Rising if the Theil-Sen
  slope of its logarithm times its span climbs at least TURN_OCTAVES, falling if it drops as much, neither
  otherwise; fast if the smoothed log track moves more than FAST_OCTAVES_PER_S octaves a second.

The pitch word is read as a tone's or a noise's after the kind the caption names (or implies), else the
kind heard. The **kind** is named by `sfx-classifier` (checkpoints/evaluation/): `ConvClassifier` on
log-mel features, with a sixth class, *no sound effect*, learned from near misses (near silence, broadband
noise filling the clip, tonal clips cut in pieces and shuffled, two kinds at once). It learns from clips
of source seed JUDGE_SEED and is measured on seed HELDOUT_SEED; generators learn from other seeds (0).
Its training clips are also played 0.8-1.25x as fast, filtered, echoed, noised, mu-law coded or passed
through a log-mel spectrogram and Griffin-Lim, so that it does not rely on one renderer's habits.
"""

from __future__ import annotations

import json
import math
import time
from functools import lru_cache
from pathlib import Path

import torch
import torch.nn.functional as F
import torchaudio.functional as AF
from safetensors.torch import load_file, save_file

from ..data.audio import RATE, SECONDS, from_model_scale, from_mu_law, log_mel, mel_to_audio, mu_law, to_model_scale
from ..data.sound_effects import KINDS, ONLY_FOR, VOCABULARY, implied_kind, parse_caption, sound_effects
from ..models.classifier import ConvClassifier
from ..paths import CHECKPOINTS

FOLDER = CHECKPOINTS / "evaluation" / "sfx-classifier"
JUDGE_SEED, HELDOUT_SEED = 101, 102  # the judge's sources; every generator learns from others
NONE = len(KINDS)  # the sixth class: no sound effect
SWEEPING = ("chirp", "siren")  # their pitch word names the centre of a moving pitch

HOP = 80  # 10 ms frames
WINDOW = 160  # YIN's integration window, 20 ms
MIN_LAG, MAX_LAG = 4, 160  # 2 kHz down to 50 Hz
DIP = 0.15  # YIN's absolute threshold
CLEAR = 0.35  # a frame whose best dip is deeper than this has a pitch
LOUD = 0.01  # frames within 20 dB (of energy) of the clip's loudest count
SOUNDING = 0.05  # blocks within 26 dB of the clip's peak count as sound
LOW_HIGH_HZ = math.sqrt(220 * 440)
CENTROID_HZ = 1000.0
SHORT_LONG_S = 0.42
TURN_OCTAVES = 0.5
FAST_OCTAVES_PER_S = 3.0
MEL_CENTER, MEL_SCALE = -6.0, 4.0
TRACK_FFT = 512


def pitch_track(audio: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(N, samples) -> (frequency in Hz, usable) each (N, frames): YIN per 10 ms frame; a frame is usable
    when it is loud and its pitch clear."""
    x = F.pad(audio.float(), (0, WINDOW + MAX_LAG))
    frames = x.unfold(-1, WINDOW + MAX_LAG, HOP)[:, : audio.shape[-1] // HOP]  # (N, T, W + L)
    n_fft = 512
    head = torch.fft.rfft(frames[..., :WINDOW], n_fft)
    r = torch.fft.irfft(head.conj() * torch.fft.rfft(frames, n_fft), n_fft)[..., : MAX_LAG + 1]
    energy = F.pad(frames.square().cumsum(-1), (1, 0))
    lags = torch.arange(MAX_LAG + 1)
    e_lag = energy[..., lags + WINDOW] - energy[..., lags]
    d = (energy[..., WINDOW:WINDOW + 1] + e_lag - 2 * r).clamp_min(0)
    cmnd = d * lags / d.cumsum(-1).clamp_min(1e-9)
    cmnd[..., 0] = 1.0
    cmnd[..., :MIN_LAG] = 2.0
    below = cmnd < DIP
    # the first dip under the threshold, followed down to its floor; else the deepest dip
    first = torch.where(below.any(-1), below.float().argmax(-1), cmnd.argmin(-1))
    rising = F.pad(cmnd[..., 1:] > cmnd[..., :-1], (0, 1), value=True)
    floor = (rising & (lags >= first.unsqueeze(-1))).float().argmax(-1)
    lag = floor.clamp(MIN_LAG, MAX_LAG - 1)
    y0, y1, y2 = (cmnd.gather(-1, (lag + k).unsqueeze(-1)).squeeze(-1) for k in (-1, 0, 1))
    shift = (0.5 * (y0 - y2) / (y0 - 2 * y1 + y2).where((y0 - 2 * y1 + y2).abs() > 1e-9, 1e9)).clamp(-1, 1)
    frequency = RATE / (lag + shift)
    loudness = energy[..., WINDOW]
    loud = loudness >= LOUD * loudness.amax(-1, keepdim=True).clamp_min(1e-12)
    return frequency, loud & (y1 < CLEAR)


def sounding(audio: torch.Tensor) -> torch.Tensor:
    """(N, samples) -> (N, blocks) whether each 10 ms block is within 26 dB of the clip's peak."""
    peaks = audio.abs().float().unfold(-1, HOP, HOP).amax(-1)
    return peaks >= SOUNDING * peaks.amax(-1, keepdim=True).clamp_min(1e-6)


def lengths(audio: torch.Tensor) -> torch.Tensor:
    """Seconds from the first to the last sounding block."""
    on = sounding(audio)
    index = torch.arange(on.shape[-1])
    first = torch.where(on, index, on.shape[-1]).amin(-1)
    last = torch.where(on, index, -1).amax(-1)
    return ((last - first + 1).clamp_min(0) * HOP / RATE).float()


def centroids(audio: torch.Tensor) -> torch.Tensor:
    """The spectral centroid (Hz) of each clip's power spectrum."""
    spec = torch.stft(audio.float(), 256, 128, window=torch.hann_window(256), return_complex=True).abs().square()
    power = spec.sum(-1)  # (N, bins)
    freqs = torch.linspace(0, RATE / 2, power.shape[-1])
    return (power * freqs).sum(-1) / power.sum(-1).clamp_min(1e-12)


def frequency_track(audio: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(N, samples) -> (Hz, loud) each (N, frames): the power-weighted mean frequency between 50 Hz and
    2 kHz of each 10 ms frame (64 ms windows). It follows a tone's pitch as the spectrum shows it, so it
    survives a log-mel spectrogram and Griffin-Lim, which scramble the waveform that YIN reads."""
    spec = torch.stft(audio.float(), TRACK_FFT, HOP, window=torch.hann_window(TRACK_FFT), return_complex=True)
    power = spec.abs().square()[:, :, : audio.shape[-1] // HOP]  # (N, bins, frames)
    freqs = torch.arange(power.shape[1]) * RATE / TRACK_FFT
    band = power[:, (freqs >= 50) & (freqs <= 2000)]
    freqs = freqs[(freqs >= 50) & (freqs <= 2000)]
    total = band.sum(1)
    weight = band.square()  # the strongest partial (a tone's fundamental) leads
    mean = (weight * freqs[:, None]).sum(1) / weight.sum(1).clamp_min(1e-24)
    return mean, total >= LOUD * total.amax(-1, keepdim=True).clamp_min(1e-12)


def _theil_sen(t: torch.Tensor, y: torch.Tensor) -> float:
    """The median of the slopes between every two points (robust to a few octave errors)."""
    i, j = torch.triu_indices(len(t), len(t), 1)
    return (y[j] - y[i]).div(t[j] - t[i]).median().item()


def measure(audio: torch.Tensor) -> list[dict[str, float | None]]:
    """Per clip: pitch_hz (the median of YIN's usable frames; None without 3), centroid_hz, length_s, and
    from the frequency track of its loud frames: octaves (its climb over its span, by Theil-Sen) and
    octaves_per_s (how fast it moves, smoothed over 50 ms)."""
    audio = audio.float()
    frequency, usable = pitch_track(audio)
    track, loud = frequency_track(audio)
    out = []
    for f, ok, g, on, length, centroid in zip(frequency, usable, track, loud, lengths(audio).tolist(),
                                              centroids(audio).tolist()):
        row = {"pitch_hz": None, "centroid_hz": centroid, "length_s": length, "track_hz": None, "octaves": None,
               "octaves_per_s": None}
        index = ok.nonzero().squeeze(-1)
        if len(index) >= 3:
            row["pitch_hz"] = float(2 ** torch.log2(f[index]).median())
        index = on.nonzero().squeeze(-1)
        if len(index) >= 3:
            t = index.float() * HOP / RATE
            octave = torch.log2(g[index].clamp_min(1.0))
            row["track_hz"] = float(2 ** octave.median())
            row["octaves"] = _theil_sen(t, octave) * float(t[-1] - t[0])
            smooth = F.avg_pool1d(octave.view(1, 1, -1), min(5, len(index)), 1).view(-1)
            steps = (smooth[1:] - smooth[:-1]).abs() / (t[1:len(smooth)] - t[: len(smooth) - 1])
            row["octaves_per_s"] = float(steps.mean()) if len(steps) else 0.0
        out.append(row)
    return out


def words_heard(row: dict[str, float | None], kind: str | None) -> dict[str, str | None]:
    """The words a clip's measurements say, the pitch read as the given kind's: a noise's by its centroid,
    a chirp's or siren's by the median of its frequency track, a pluck's or drum's by YIN."""
    if kind == "noise":
        pitch = "low" if row["centroid_hz"] < CENTROID_HZ else "high"
    else:
        hz = row["track_hz"] if kind in SWEEPING else row["pitch_hz"]
        pitch = None if hz is None else ("low" if hz < LOW_HIGH_HZ else "high")
    octaves = row["octaves"]
    direction = None if octaves is None or abs(octaves) < TURN_OCTAVES else ("rising" if octaves > 0 else "falling")
    speed = None if row["octaves_per_s"] is None else ("fast" if row["octaves_per_s"] > FAST_OCTAVES_PER_S else "slow")
    length = "short" if row["length_s"] < SHORT_LONG_S else "long"
    if row["length_s"] == 0:
        length = None
    return {"pitch": pitch, "length": length, "direction": direction, "speed": speed}


def features(audio: torch.Tensor) -> torch.Tensor:
    """(N, samples) -> (N, 1, 32, 31): log-mel, halved in both axes, roughly centred and scaled; each clip
    brought to a peak of 1 unless it is nearly silent."""
    audio = audio.float()
    audio = audio / audio.abs().amax(-1, keepdim=True).clamp_min(0.05)
    mel = (log_mel(audio) - MEL_CENTER) / MEL_SCALE
    return F.avg_pool2d(mel.unsqueeze(1), 2)


@lru_cache(maxsize=1)
def classifier() -> ConvClassifier:
    model = ConvClassifier(classes=NONE + 1)
    model.load_state_dict(load_file(FOLDER / "model.safetensors"))
    return model.eval()


@torch.no_grad()
def kinds_of(audio: torch.Tensor, model: ConvClassifier | None = None) -> list[str | None]:
    model = model or classifier()
    heard = torch.cat([model(features(chunk)).argmax(1) for chunk in audio.split(500)])
    return [None if k == NONE else KINDS[k] for k in heard.tolist()]


def _requested(item: str | dict[str, str]) -> dict[str, str]:
    attrs = parse_caption(item) if isinstance(item, str) else {k: v for k, v in item.items() if v}
    kind = implied_kind(attrs)
    return {k: v for k, v in attrs.items() if k not in ONLY_FOR or ONLY_FOR[k] == kind}


def _fit(audio: torch.Tensor) -> torch.Tensor:
    audio = audio.float().reshape(-1, audio.shape[-1])
    samples = RATE * SECONDS
    return F.pad(audio, (0, max(0, samples - audio.shape[-1])))[:, :samples]


def eval_captions(count: int = 200, seed: int = 7) -> list[dict[str, str]]:
    """Captions as users write them, for judging a generator: a full caption's kind always, each of its
    other words with probability 0.7."""
    import random

    from ..data.sound_effects import sample_attributes

    rng = random.Random(seed)
    wanted = []
    for _ in range(count):
        full = sample_attributes(rng)
        wanted.append({k: v for k, v in full.items() if k == "kind" or rng.random() < 0.7})
    return wanted


def judge(audio: torch.Tensor, requested: list, model: ConvClassifier | None = None) -> dict[str, float]:
    """Clips (N, samples) at this project's rate and their captions (or attribute dicts) -> for each word
    kind, the share of clips that sound as asked among those whose caption names it ({attr}_agreement), how
    many clips named it ({attr}_clips), and the share heard as no sound effect at all."""
    audio = _fit(audio)
    if len(requested) != len(audio):
        raise ValueError(f"{len(audio)} clips but {len(requested)} captions")
    heard_kinds = kinds_of(audio, model)
    tally: dict[str, list[bool]] = {k: [] for k in VOCABULARY}
    for row, heard, item in zip(measure(audio), heard_kinds, requested):
        want = _requested(item)
        heard_words = {"kind": heard, **words_heard(row, implied_kind(want) or heard)}
        for attr, value in want.items():
            tally[attr].append(heard_words[attr] == value)
    out = {}
    for attr, hits in tally.items():
        if hits:
            out[f"{attr}_agreement"] = sum(hits) / len(hits)
            out[f"{attr}_clips"] = len(hits)
    out["no_sound_effect"] = sum(k is None for k in heard_kinds) / max(1, len(audio))
    return out


# --- training the kind classifier ---------------------------------------------------------------------


def near_misses(real: torch.Tensor, kinds: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Clips that are no sound effect but share these clips' statistics: near silence, broadband noise
    filling the clip, tonal clips cut in 25 ms pieces and shuffled, and two clips of different kinds at once."""
    n, length = real.shape
    choice = torch.randint(0, 4, (n,), generator=gen)
    silence = torch.randn(real.shape, generator=gen) * 10 ** (-3 - torch.rand(n, 1, generator=gen))
    noise = torch.randn(real.shape, generator=gen) * (0.05 + 0.3 * torch.rand(n, 1, generator=gen))
    tonal = real[kinds != KINDS.index("noise")]
    tonal = tonal[torch.randint(0, len(tonal), (n,), generator=gen)]
    pieces = tonal.view(n, -1, 200)
    shuffled = pieces[:, torch.randperm(pieces.shape[1], generator=gen)].reshape(n, length)
    other = torch.randint(0, n, (n,), generator=gen)
    other = torch.where(kinds[other] == kinds, (other + 1) % n, other)  # usually another kind
    mixed = real + real[other] * (0.5 + 0.5 * torch.rand(n, 1, generator=gen))
    return torch.stack([silence, noise, shuffled, mixed])[choice, torch.arange(n)]


def augment(audio: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Other renderers' habits: another speed (pitch and length move with it), a filter, an echo, a little
    noise, mu-law coding, and another level."""
    n, length = audio.shape
    rate = 0.8 + 0.45 * torch.rand((), generator=gen).item()  # one speed per batch
    out = F.interpolate(audio.view(n, 1, -1), scale_factor=1 / rate, mode="linear").view(n, -1)
    out = F.pad(out, (0, max(0, length - out.shape[-1])))[:, :length]
    third = n // 3
    cutoff = float(1000 + 2500 * torch.rand((), generator=gen))
    out[:third] = AF.lowpass_biquad(out[:third], RATE, cutoff)
    out[third: 2 * third] = AF.highpass_biquad(out[third: 2 * third], RATE, cutoff / 20)
    delay = int(160 + 480 * torch.rand((), generator=gen))
    echo = torch.rand(n, 1, generator=gen) < 0.3
    out = out + echo * 0.3 * F.pad(out, (delay, 0))[:, :length]
    out = out + torch.randn(out.shape, generator=gen) * 10 ** (-3.5 + 1.5 * torch.rand(n, 1, generator=gen))
    coded = torch.rand(n, 1, generator=gen) < 0.2
    out = torch.where(coded, from_mu_law(mu_law(out / out.abs().amax(-1, keepdim=True).clamp_min(1e-6))), out)
    return out * (0.2 + 0.8 * torch.rand(n, 1, generator=gen))


def griffin_lim_round_trip(audio: torch.Tensor, iterations: int = 32) -> torch.Tensor:
    """Clips as a log-mel generator would give them back: to the model's scale and through Griffin-Lim."""
    return torch.cat([mel_to_audio(from_model_scale(to_model_scale(chunk)), iterations) for chunk in audio.split(256)])


def train_classifier(clips: int = 3000, epochs: int = 6, seed: int = 0, out: Path = FOLDER,
                     heldout: int = 1000) -> dict[str, float]:
    """Train on clips of seed JUDGE_SEED (a quarter of them through Griffin-Lim); write weights and the
    judge's figures on clips of seed HELDOUT_SEED: as rendered, through Griffin-Lim, and mu-law coded."""
    began = time.perf_counter()
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    data = sound_effects(clips, JUDGE_SEED)
    x = data.audio.clone()
    quarter = clips // 4
    x[:quarter] = griffin_lim_round_trip(x[:quarter])
    y = torch.tensor([KINDS.index(a["kind"]) for a in data.attributes])
    model = ConvClassifier(classes=NONE + 1)
    batch = 64
    steps = epochs * (clips // batch)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=steps)
    model.train()
    for _ in range(epochs):
        order = torch.randperm(clips, generator=gen)
        for start in range(0, clips - batch + 1, batch):
            index = order[start:start + batch]
            audio, labels = x[index], y[index]
            misses = near_misses(audio[:16], labels[:16], gen)
            audio = augment(torch.cat([audio, misses]), gen)
            labels = torch.cat([labels, torch.full((len(misses),), NONE)])
            feats = features(audio)
            band = int(torch.randint(0, 28, (), generator=gen))
            feats[..., band: band + 4, :] = feats.min()  # hide a band of mels (SpecAugment, Park et al. 2019)
            loss = F.cross_entropy(model(feats), labels, label_smoothing=0.05)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
    model.eval()
    seconds = time.perf_counter() - began
    out.mkdir(parents=True, exist_ok=True)
    save_file(model.state_dict(), out / "model.safetensors")
    classifier.cache_clear()
    metrics = {"train_clips": clips, "train_seed": JUDGE_SEED, "heldout_clips": heldout, "heldout_seed": HELDOUT_SEED,
               "train_seconds": round(seconds, 1), **heldout_figures(heldout, model)}
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    return metrics


def heldout_figures(count: int = 1000, model: ConvClassifier | None = None) -> dict[str, float]:
    """The judge on real clips of seed HELDOUT_SEED: as rendered, as a log-mel model at its best would give
    them back (Griffin-Lim), mu-law coded (as WaveNet writes them), and with each clip's caption swapped for
    another clip's (what a generator that ignores its caption would score)."""
    real = sound_effects(count, HELDOUT_SEED)
    swapped = list(real.attributes[1:]) + [real.attributes[0]]
    figures = {"real": judge(real.audio, list(real.attributes), model),
               "griffin_lim": judge(griffin_lim_round_trip(real.audio), list(real.attributes), model),
               "mu_law": judge(from_mu_law(mu_law(real.audio)), list(real.attributes), model),
               "shuffled_captions": judge(real.audio, swapped, model)}
    return {f"{name}_{k}": round(v, 4) for name, scores in figures.items() for k, v in scores.items()
            if not k.endswith("_clips") or name == "real"}

