"""Quality and speed of an unconditional image model, with real data as the baseline.

For models trained on `digits`, the samples are judged by the digit classifier (share of
confident digits, classes covered, the rarest class's share) and compared with real
held-out digits by a Frechet distance in the classifier's feature space. The same figures
for real training digits are the baseline: a perfect generator would score like them.
A VAE also gets the PSNR and SSIM of its reconstructions of held-out digits.
"""

from __future__ import annotations

import torch

from ..data.images import digits, split
from ..errors import AigcError
from ..pipelines.image import sample_batch
from ..registry import load
from .digits import frechet_distance, judge

SAMPLES = 1000
SPEED_BATCH = {"dcgan": 64, "vae": 64, "diffusion": 16}


def real_baseline() -> dict[str, float]:
    """The judge and the distance applied to real training digits (never the held-out ones,
    which are the distance's reference)."""
    train = split(digits())[0]
    real = train.batch(torch.arange(len(train)))["image"]
    scores = judge(real)
    return {"real_confident_digits": scores["confident_digits"], "real_classes_covered": scores["classes_covered"],
            "real_frechet_distance": frechet_distance(real)}


@torch.inference_mode()
def reconstruction_quality(vae) -> dict[str, float]:
    """PSNR and SSIM (torchmetrics) of the posterior-mean reconstructions of every held-out digit."""
    from torchmetrics.functional.image import peak_signal_noise_ratio, structural_similarity_index_measure

    test = split(digits())[1]
    x = test.batch(torch.arange(len(test)))["image"]
    device = next(vae.parameters()).device
    mean, _ = vae.encode(x.to(device))
    recon = vae.decode(mean).float().cpu().clamp(-1, 1)
    a, b = (recon + 1) / 2, (x + 1) / 2
    return {"recon_psnr": float(peak_signal_noise_ratio(a, b, data_range=1.0)),
            "recon_ssim": float(structural_similarity_index_measure(a, b, data_range=1.0))}


def images_per_second(model, runs: int = 5) -> float:
    """Median throughput at the batch the benchmark uses (64 for GAN/VAE, 16 for diffusion at 25 steps)."""
    from ..timing import median_seconds

    n = SPEED_BATCH[model.kind]
    return n / median_seconds(lambda: sample_batch(model, n, 0, None, None), runs)


def evaluate_image_model(name: str, samples: int = SAMPLES, seed: int = 0) -> dict[str, float]:
    model = load(name, "image")
    if model.config.get("channels", 1) != 1 or model.config.get("size", 32) != 32:
        raise AigcError(f"'{model.info.name}' was not trained on digits; the digit judge cannot score it.")
    images = sample_batch(model, samples, seed, None, None)
    scores = judge(images)
    metrics = {"samples": float(samples), "confident_digits": scores["confident_digits"],
               "classes_covered": scores["classes_covered"], "smallest_class_share": scores["smallest_class_share"],
               "frechet_distance": frechet_distance(images)}
    if model.kind == "vae":
        metrics.update(reconstruction_quality(model.net))
    metrics.update(real_baseline())
    metrics["images_per_s"] = images_per_second(model)
    return metrics
