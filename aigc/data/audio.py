"""`spoken-digits`: the ten digit words said by offline speech synthesizers (made by
scripts/make_spoken_digits.py, shipped as 8-bit mu-law), and the shared facts of this project's audio:
its rate, clip length, mu-law coding, log-mel features, and WAV files written with the standard library.
"""

from __future__ import annotations

import wave
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
import torchaudio.functional as AF

from ..paths import ASSETS

RATE = 8000  # samples a second: telephone speech, enough for a digit word to be understood
SECONDS = 1
QUANTA = 256  # 8-bit mu-law: WaveNet's 256-way output (van den Oord et al. 2016)
DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
SPOKEN_DIGITS = ASSETS / "audio" / "spoken_digits.npz"

# Voices, never clips, are split: a judge must not have heard the voices it judges a generator by.
_ESPEAK = "espeak:"
SPLITS = {
    "train": (*(_ESPEAK + v for v in ("m1", "m2", "m3", "m4", "f1", "f2", "f3", "klatt", "klatt2", "croak",
                                      "Andy", "Annie", "boris", "edward", "steph")),
              "flite:kal", "flite:awb", "flite:rms"),
    "judge": (*(_ESPEAK + v for v in ("m5", "m6", "m8", "f4", "klatt3", "klatt5", "john", "linda", "paul", "aunty",
                                      "Alicia", "Diogo", "adam", "anika", "benjamin", "caleb", "david", "ed",
                                      "grandpa", "iven", "michel", "norbert", "rob", "shelby", "travis", "zac")),
              "flite:slt"),
    "test": (*(_ESPEAK + v for v in ("m7", "f5", "klatt4", "klatt6", "max", "quincy", "Gene", "Hugo", "belinda",
                                     "gustave", "pablo", "victor")), "flite:kal16"),
}

# Log-mel features: what the fast model draws, the judge hears, and Griffin-Lim turns back into sound.
N_FFT, HOP, MELS = 256, 128, 64
FRAMES = 64  # a clip's 63 frames and one of silence: a length that halves twice
LOG_FLOOR, LOG_TOP = -11.5, 2.5  # log-mel values of these clips (peak-normalised) lie within


def mu_law(samples: torch.Tensor) -> torch.Tensor:
    """Samples in [-1, 1] -> integers in [0, 255]."""
    return AF.mu_law_encoding(samples.clamp(-1, 1), QUANTA)


def from_mu_law(codes: torch.Tensor) -> torch.Tensor:
    return AF.mu_law_decoding(codes.long(), QUANTA)


@dataclass(frozen=True)
class Clips:
    """Clips of one split: `audio` (N, RATE * SECONDS) floats in [-1, 1], `digit` (N,), `voice` (N,) names."""

    audio: torch.Tensor
    digit: torch.Tensor
    voice: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.digit)


@lru_cache(maxsize=4)
def spoken_digits(split: str = "train") -> Clips:
    if split not in SPLITS:
        raise ValueError(f"split is one of {', '.join(SPLITS)}, not {split!r}")
    data = np.load(SPOKEN_DIGITS)
    names = [str(v) for v in data["voices"]]
    keep = np.isin(data["voice"], [names.index(v) for v in SPLITS[split]])
    audio = from_mu_law(torch.from_numpy(data["audio"][keep]))
    return Clips(audio, torch.from_numpy(data["digit"][keep]).long(), tuple(names[i] for i in data["voice"][keep]))


@lru_cache(maxsize=2)
def _mel_scale(device: str) -> tuple[torch.Tensor, torch.Tensor]:
    fb = AF.melscale_fbanks(N_FFT // 2 + 1, 0.0, RATE / 2, MELS, RATE, norm="slaney", mel_scale="slaney")
    return fb.to(device), torch.hann_window(N_FFT, device=device)


def log_mel(audio: torch.Tensor) -> torch.Tensor:
    """(..., samples) -> (..., MELS, frames): log of the mel power spectrogram, floored at 1e-5."""
    fb, window = _mel_scale(str(audio.device))
    spec = torch.stft(audio.reshape(-1, audio.shape[-1]), N_FFT, HOP, window=window, return_complex=True)
    mel = (spec.abs() ** 2).transpose(1, 2) @ fb
    return torch.log(mel.clamp_min(1e-5)).transpose(1, 2).reshape(*audio.shape[:-1], MELS, -1)


def to_model_scale(audio: torch.Tensor) -> torch.Tensor:
    """Clips (N, RATE * SECONDS) -> log-mel spectrograms in [-1, 1], (N, MELS, FRAMES)."""
    mel = log_mel(audio).clamp(LOG_FLOOR, LOG_TOP)
    mel = torch.nn.functional.pad(mel, (0, FRAMES - mel.shape[-1]), value=LOG_FLOOR)
    return (mel - LOG_FLOOR) / (LOG_TOP - LOG_FLOOR) * 2 - 1


def from_model_scale(x: torch.Tensor) -> torch.Tensor:
    """The inverse of to_model_scale: log-mel spectrograms of a clip's length."""
    frames = RATE * SECONDS // HOP + 1
    return (x[..., :frames].clamp(-1, 1) + 1) / 2 * (LOG_TOP - LOG_FLOOR) + LOG_FLOOR


def write_wav(path: Path, samples: torch.Tensor | np.ndarray, rate: int = RATE) -> Path:
    """One mono clip as 16-bit PCM."""
    pcm = (np.clip(np.asarray(samples, np.float32), -1, 1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(rate)
        f.writeframes(pcm.tobytes())
    return path


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    """A WAV file's samples as floats in [-1, 1], its channels averaged, and its rate."""
    with wave.open(str(path)) as f:
        width, channels, rate = f.getsampwidth(), f.getnchannels(), f.getframerate()
        frames = f.readframes(f.getnframes())
    if width == 1:
        samples = (np.frombuffer(frames, np.uint8).astype(np.float32) - 128) / 128
    elif width in (2, 4):
        dtype = "<i2" if width == 2 else "<i4"
        samples = np.frombuffer(frames, dtype).astype(np.float32) / float(2 ** (8 * width - 1))
    else:
        raise ValueError(f"{width * 8}-bit WAV")
    return samples.reshape(-1, channels).mean(axis=1), rate


@lru_cache(maxsize=2)
def _inverse(device: str, iterations: int):
    import torchaudio.transforms as T

    to_linear = T.InverseMelScale(N_FFT // 2 + 1, MELS, RATE, 0.0, RATE / 2, norm="slaney", mel_scale="slaney")
    phase = T.GriffinLim(N_FFT, iterations, hop_length=HOP, power=2.0, length=RATE * SECONDS, rand_init=False)
    return to_linear.to(device), phase.to(device)


def mel_to_audio(mel: torch.Tensor, iterations: int = 32) -> torch.Tensor:
    """(..., MELS, frames) log-mel -> (..., samples): the power spectrum by least squares through the mel
    filters, its phase by Griffin-Lim (Griffin and Lim, 1984); peak-normalised to 0.9."""
    to_linear, phase = _inverse(str(mel.device), iterations)
    flat = mel.reshape(-1, *mel.shape[-2:]).float()
    power = to_linear(flat.exp()).clamp_min(0)
    audio = phase(power)
    audio = 0.9 * audio / audio.abs().amax(dim=-1, keepdim=True).clamp_min(1e-4)
    return audio.reshape(*mel.shape[:-2], -1)
