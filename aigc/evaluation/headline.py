"""The figure that says most about each kind of model, with the real-data figure beside it.

The evaluation of a kind decides what is measured, so it also names which of its figures heads a
model's summary (the Models tab's table). Each kind lists candidates in order and a card shows the
first one it has: a run's trainer measures a GPT's perplexity on a sample of held-out windows only,
`python -m aigc eval` on every window. Nothing here imports torch or a model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Headline:
    metric: str  # its key among a card's metrics
    label: str  # what it is, in words
    baseline: str | None = None  # the key of the same figure measured on real data, where there is one


_FRECHET = (Headline("frechet_distance", "Frechet distance", "real_frechet_distance"),)
_LABELS = (Headline("label_accuracy", "label accuracy", "real_label_accuracy"),)
_PERPLEXITY = (Headline("heldout_perplexity", "held-out perplexity"),
               Headline("val_perplexity_sampled", "held-out perplexity (sampled windows)"))
HEADLINES: dict[str, tuple[Headline, ...]] = {
    "gpt": _PERPLEXITY,
    "lstm": _PERPLEXITY,
    # its baselines are other models, not real data: the card sets them beside it
    "bert": (Headline("top1", "held-out words filled first time"),),
    "dcgan": _FRECHET,
    "vae": _FRECHET,
    "diffusion": _FRECHET,
    "cgan": _LABELS,
    "guided-diffusion": _LABELS,
    "text2img": (Headline("color_accuracy", "color accuracy", "real_color_accuracy"),),
    "text2video": (Headline("motion_accuracy", "motion accuracy", "real_motion_accuracy"),),
    # a spectrogram model of digits or of sound effects, and a WaveNet vocoding digits
    "mel-diffusion": (Headline("digit_accuracy", "digit heard as asked", "real_digit_accuracy"),
                      Headline("kind_agreement", "kind heard as asked", "real_kind_agreement")),
    "wavenet": (Headline("drawn_digit_accuracy", "digit heard as asked", "real_digit_accuracy"),
                Headline("digit_accuracy", "digit heard as asked (real spectrograms)", "real_digit_accuracy")),
    # held-out photos; the classical answers (median filter, bicubic) are on the card beside them
    "restorer": (Headline("noise25_psnr", "PSNR after noise of sigma 25 (dB)"),),
    "upscaler": (Headline("x2_psnr", "PSNR of x2 upscaling (dB)"), Headline("x4_psnr", "PSNR of x4 upscaling (dB)")),
}


def headline(card: dict[str, Any]) -> tuple[Headline, float, float | None] | None:
    """(what, its value, the real-data value or None) of a model card, or None where the card has none of
    its kind's headline figures (not measured yet, or pictures no judge knows)."""
    metrics = card.get("metrics") or {}
    for head in HEADLINES.get(card.get("kind"), ()):
        if head.metric in metrics:
            return head, metrics[head.metric], metrics.get(head.baseline) if head.baseline else None
    return None
