"""Make `spoken-digits`: the words "zero" ... "nine" said by two offline speech synthesizers, shipped as
`assets/audio/spoken_digits.npz` so that a fresh clone needs neither.

    apt-get install -y espeak-ng flite
    python scripts/make_spoken_digits.py            # about a minute on two cores

Each clip is 8 kHz, one second at most (the word starts near the beginning, silence after), stored as
8-bit mu-law. A voice is an espeak-ng voice variant (its accent drawn per clip from the English
dialects) or a flite voice; speed and pitch vary per clip. Voices, never single clips, are split three
ways (aigc.data.audio.SPLITS): the generators learn from "train", the digit judge from "judge", and
"test" is heard by neither, for the judge's accuracy on real clips. Both engines are in every split:
a classifier trained on one engine alone does not recognise the other's voices.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch
import torchaudio.functional as AF

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aigc.data.audio import DIGIT_WORDS, RATE, SECONDS, SPLITS, SPOKEN_DIGITS, mu_law, read_wav

ACCENTS = ("en", "en-us", "en-gb-scotland", "en-gb-x-rp", "en-gb-x-gbclan", "en-gb-x-gbcwmd", "en-029",
           "en-us-nyc")


def speak(voice: str, word: str, rng: random.Random, folder: Path) -> np.ndarray:
    engine, name = voice.split(":")
    out = folder / f"{rng.getrandbits(48):012x}.wav"
    if engine == "espeak":
        accent = rng.choice(ACCENTS)
        command = ["espeak-ng", "-v", f"{accent}+{name}", "-s", str(rng.randint(120, 210)),
                   "-p", str(rng.randint(25, 75)), "-w", str(out), word]
    else:
        command = ["flite", "-voice", name, "-t", word, "-o", str(out),
                   "--setf", f"duration_stretch={rng.uniform(0.8, 1.25):.2f}",
                   "--setf", f"int_f0_target_mean={rng.uniform(85, 190) if name != 'slt' else rng.uniform(140, 230):.0f}"]
    subprocess.run(command, check=True, capture_output=True)
    samples, rate = read_wav(out)
    out.unlink()
    return AF.resample(torch.from_numpy(samples), rate, RATE).numpy()


def fit(samples: np.ndarray, rng: random.Random) -> np.ndarray | None:
    """The word, trimmed of silence, peak-normalised, starting 20-80 ms into a one-second clip; None when
    it does not fit."""
    loud = np.flatnonzero(np.abs(samples) > 0.02 * np.abs(samples).max())
    if loud.size == 0:
        return None
    word = samples[max(0, loud[0] - 40): loud[-1] + 80]
    lead = rng.randint(160, 640)
    if lead + len(word) > RATE * SECONDS:
        return None
    clip = np.zeros(RATE * SECONDS, np.float32)
    clip[lead:lead + len(word)] = word * (rng.uniform(0.6, 0.95) / np.abs(word).max())
    return clip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-voice", type=int, nargs=3, default=(10, 8, 4), metavar=("TRAIN", "JUDGE", "TEST"),
                        help="clips of each digit per voice in each split")
    parser.add_argument("--out", type=Path, default=SPOKEN_DIGITS)
    args = parser.parse_args()
    jobs = []  # (split, voice, digit, seed)
    for (split, voices), per_voice in zip(SPLITS.items(), args.per_voice):
        for voice in voices:
            for digit in range(10):
                for k in range(per_voice):
                    jobs.append((split, voice, digit, zlib.crc32(f"{voice} {digit} {k}".encode())))
    with tempfile.TemporaryDirectory() as tmp:
        def make(job):
            _, voice, digit, seed = job
            rng = random.Random(seed)
            for _ in range(5):  # a clip too long for one second is said again, at another speed
                clip = fit(speak(voice, DIGIT_WORDS[digit], rng, Path(tmp)), rng)
                if clip is not None:
                    return clip
            raise RuntimeError(f"{voice} says {DIGIT_WORDS[digit]} in over a second")

        with ThreadPoolExecutor(4) as pool:
            clips = list(pool.map(make, jobs))
    voices = [voice for split_voices in SPLITS.values() for voice in split_voices]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        args.out,
        audio=mu_law(torch.from_numpy(np.stack(clips))).numpy().astype(np.uint8),
        digit=np.array([j[2] for j in jobs], np.uint8),
        voice=np.array([voices.index(j[1]) for j in jobs], np.uint8),
        voices=np.array(voices),
    )
    print(f"{len(clips)} clips, {args.out.stat().st_size / 2**20:.1f} MiB -> {args.out}")


if __name__ == "__main__":
    main()
