"""`python -m aigc eval` for audio models: clips drawn through the app's own pipeline, judged, beside the
same judge's figures on real clips; and what the card shows and plays (samples.png, samples.wav).

Digit models ask for each digit in turn (seeds 0, 1, 2, ...), heard by the spoken-digit judge; sound-effect
models take captions as users write them (aigc.training.audio.Captions.asked), measured by the
sound-effect judge.
"""

from __future__ import annotations

import numpy as np
import torch

from ..data.audio import DIGIT_WORDS, RATE, spoken_digits, write_wav
from ..errors import AigcError
from ..pipelines.audio import Audio, generate_audio, spectrogram_picture
from ..registry import load
from ..timing import median_seconds

DIGIT_CLIPS = 500
CAPTION_CLIPS = 200


def _is_captions(model) -> bool:
    return "vocabulary" in model.config


def evaluate_audio_model(name: str, seed: int = 0) -> dict[str, float]:
    from . import sound_effects, spoken_digits as digit_judge

    model = load(name, "audio")
    if model.kind == "hub":
        raise AigcError(f"'{model.info.name}' is a Hub model; only this project's sound models have a judge.")
    if _is_captions(model):
        from ..data import sound_effects as sfx

        wanted = _captions()
        clips = np.concatenate([generate_audio(sfx.caption(a), name, seed=seed + i).clips for i, a in enumerate(wanted)])
        metrics = {"samples": float(len(wanted)), **sound_effects.judge(torch.from_numpy(clips), wanted)}
        real = _real_effects(wanted)
        metrics.update({f"real_{k}": v for k, v in sound_effects.judge(real, wanted).items() if k.endswith("_agreement")})
        what = "a long high rising chirp"
    else:
        everything = " ".join(DIGIT_WORDS)
        clips = np.concatenate([generate_audio(everything, name, seed=seed + 10 * i).clips
                                for i in range(DIGIT_CLIPS // 10)])
        digits = torch.arange(len(clips)) % 10
        metrics = {"samples": float(len(clips)), **digit_judge.judge(torch.from_numpy(clips), digits)}
        real = spoken_digits("train")
        metrics.update({f"real_{k}": v for k, v in digit_judge.judge(real.audio, real.digit).items()})
        what = "3"
    seconds = median_seconds(lambda: generate_audio(what, name, num_clips=16, seed=0), 5)
    metrics["clips_per_s"] = 16 / seconds
    return metrics


def _captions() -> list[dict[str, str]]:
    from .sound_effects import eval_captions

    return eval_captions(CAPTION_CLIPS)


def _real_effects(wanted: list[dict[str, str]]) -> torch.Tensor:
    import random

    from ..data import sound_effects as sfx

    rng = random.Random(11)
    return torch.stack([sfx.render(sfx.complete(a, rng), rng) for a in wanted])


def card_samples(name: str, folder) -> None:
    """samples.png (each clip's spectrogram, side by side) and samples.wav (the same clips, a pause between
    them) in `folder`: every digit once, or one caption of each kind of sound."""
    model = load(name, "audio")
    if _is_captions(model):
        from ..data import sound_effects as sfx

        captions = [f"a long high {k}" if k != "chirp" else "a long high rising chirp" for k in sfx.KINDS]
        parts = [generate_audio(c, name, seed=i) for i, c in enumerate(captions)]
        audio = Audio(np.concatenate([p.clips for p in parts]), RATE, captions, 0.0)
    else:
        audio = generate_audio(" ".join(DIGIT_WORDS), name, seed=0)
    joined = audio.joined()
    spectrogram_picture(joined, audio.rate, height=200).save(folder / "samples.png")
    write_wav(folder / "samples.wav", joined, audio.rate)
