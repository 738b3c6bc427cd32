"""Does a conditional model draw what it is asked for? Measured against judges that never
saw a generated image, with the same judges applied to real data as the baseline.

Label models (`digits`): the digit classifier's agreement with the requested label, for
every label in turn, plus the unconditional figures of `images.py`. Caption models
(`shapes`): the shape judge's color, shape and position accuracy over captions that name
every attribute and over partial ones that name about half of them.
"""

from __future__ import annotations

import random

import torch
from PIL import Image

from ..data import shapes
from ..data.images import digits, split
from ..loaders import ConditionalModel
from ..registry import load

SAMPLES = 1000
SPEED_BATCH = 16


def eval_captions(count: int, seed: int = 4321) -> list[dict[str, str]]:
    """Even rows: full captions; odd rows: each attribute kept with probability 1/2, and at
    least one (a caption that names nothing is refused by the app, and would measure nothing)."""
    rng = random.Random(seed)
    out = []
    for i in range(count):
        attrs = shapes.sample_attributes(rng)
        if i % 2:
            kept = {k: v for k, v in attrs.items() if rng.random() < 0.5}
            key = rng.choice(sorted(attrs))
            attrs = kept or {key: attrs[key]}
        out.append(attrs)
    return out


@torch.inference_mode()
def sample_images(model: ConditionalModel, conditions: list, seed: int) -> torch.Tensor:
    from ..pipelines.conditional import draw
    from torchvision.transforms.functional import pil_to_tensor

    out = []
    for start in range(0, len(conditions), 250):
        chunk = draw(model, conditions[start:start + 250], seed + start, None, None)
        out += [pil_to_tensor(im).float() / 127.5 - 1 for im in chunk]
    return torch.stack(out)


def label_scores(model: ConditionalModel, samples: int, seed: int) -> dict[str, float]:
    from .digits import frechet_distance, judge

    labels = torch.arange(samples) % len(model.labels)
    images = sample_images(model, [model.labels[i] for i in labels], seed)
    scores = judge(images, labels)
    train = split(digits())[0]
    real = train.batch(torch.arange(len(train)))
    return {"samples": float(samples), "label_accuracy": scores["label_accuracy"],
            "worst_label_accuracy": scores["worst_label_accuracy"], "confident_digits": scores["confident_digits"],
            "classes_covered": scores["classes_covered"], "frechet_distance": frechet_distance(images),
            "real_label_accuracy": judge(real["image"], real["label"])["label_accuracy"],
            "real_frechet_distance": frechet_distance(real["image"])}


def caption_scores(model: ConditionalModel, samples: int, seed: int) -> dict[str, float]:
    from ..models.sampling import conditioned
    from ..pipelines.conditional import completed_captions
    from .shapes import judge

    attrs = eval_captions(samples)
    images = sample_images(model, [shapes.caption(a) for a in attrs], seed)
    out = {"samples": float(samples)}
    # The generator alone on the partial captions, without the pipeline's completion of them.
    partial = [shapes.caption(a) for a in attrs[1::2]]
    raw = conditioned(model.net, model.config["z_dim"], completed_captions(model, partial, seed, complete=False), seed)
    scores = judge(raw, attrs[1::2])
    out.update({f"partial_raw_{k}": v for k, v in scores.items() if k.endswith("accuracy")})
    for part, rows in (("full", slice(0, None, 2)), ("partial", slice(1, None, 2))):
        scores = judge(images[rows], attrs[rows])
        out.update({f"{part}_{k}": v for k, v in scores.items() if k.endswith("accuracy")})
    scores = judge(images, attrs)
    out.update({k: scores[k] for k in ("color_accuracy", "shape_accuracy", "position_accuracy", "no_shape")})
    real, real_attrs = shapes.render(samples, size=model.config.get("size", 32), seed=102)
    baseline = judge(real.float() / 127.5 - 1, real_attrs)
    out.update({f"real_{k}": v for k, v in baseline.items() if k.endswith("accuracy")})
    return out


def images_per_second(model: ConditionalModel, runs: int = 5) -> float:
    """Median throughput for 16 images of one condition (guided diffusion: its default steps)."""
    from ..timing import median_seconds
    from ..pipelines.conditional import draw

    condition = "a large red star in the top right" if model.kind == "text2img" else model.labels[7 % len(model.labels)]
    return SPEED_BATCH / median_seconds(lambda: draw(model, [condition] * SPEED_BATCH, 0, None, None), runs)


def evaluate_conditional_model(name: str, samples: int = SAMPLES, seed: int = 0) -> dict[str, float]:
    model = load(name, "conditional")
    if model.kind == "hub":
        from ..errors import AigcError

        raise AigcError(f"'{model.info.name}' is a Hub pipeline; only this project's label and caption models have judges.")
    metrics = caption_scores(model, samples, seed) if model.kind == "text2img" else label_scores(model, samples, seed)
    metrics["conditional_images_per_s"] = images_per_second(model)
    return metrics


def sample_sheet(name: str, per_row: int = 8) -> Image.Image:
    """The picture on a model card: one row per label, or one row per example caption."""
    from ..pipelines.conditional import generate_conditional, label_rows
    from ..pipelines.image import image_grid

    model = load(name, "conditional")
    if model.labels:
        return image_grid(label_rows(name, per_label=per_row, seed=0)[1], nrow=per_row, scale=2)
    images = []
    for caption in CARD_CAPTIONS:
        images += generate_conditional(caption, name, num_images=per_row, seed=0)
    return image_grid(images, nrow=per_row, scale=2)


# One row each on the card of a caption model: full captions, then partial ones.
CARD_CAPTIONS = ["a large red circle in the center", "a small blue square in the top left",
                 "a large yellow star at the bottom", "a small green triangle on the right",
                 "purple", "star", "orange circle", "white in the top right"]
