"""What a training run's card shows beside the figures its trainer measured, so that it reads
like a built-in model's card: the same figures for real data, and the saved model's speed.

The real-data figures depend on the judge and the data only, never on the model, and
`python -m aigc eval` has measured them for every built-in model: a run copies them from a
built-in card trained on the same data instead of judging the real data again at every best
step, which would cost more than judging its own samples. The speed is measured on the folder
the run has just saved, loaded as the app loads it, by the code that measures built-in models.
"""

from __future__ import annotations

from pathlib import Path

SPEED_RUNS = 3  # timed calls after a warm-up one (`python -m aigc eval` times 5): training waits for them


def real_baselines(dataset: str, metrics: dict[str, float]) -> dict[str, float]:
    """`real_<figure>` for each figure of `metrics` that a built-in card trained on `dataset` gives."""
    from ..catalog import builtin_models

    found: dict[str, float] = {}
    for model in builtin_models():
        if model.card.get("dataset") != dataset:
            continue
        for key, value in (model.card.get("metrics") or {}).items():
            if key.startswith("real_") and key.removeprefix("real_") in metrics:
                found.setdefault(key, value)
    return found


def speed(folder: str | Path, task: str, name: str, runs: int = SPEED_RUNS) -> dict[str, float]:
    """The speed figure of a built-in card of `task`, measured on the model saved in `folder`.
    The model is loaded apart from the app's cache: the folder's next best is another model."""
    import torch

    # Building the model draws its first weights from the global generator, which training draws
    # its noise from: the run goes on as if nothing had been measured.
    with torch.random.fork_rng():
        return _speed(folder, task, name, runs)


def _speed(folder: str | Path, task: str, name: str, runs: int) -> dict[str, float]:
    from ..catalog import ModelInfo
    from ..loaders import load_model

    model = load_model(ModelInfo(name, task, "local", str(folder)))
    if task == "image":
        from .images import images_per_second

        return {"images_per_s": images_per_second(model, runs)}
    if task == "conditional":
        from .conditional import images_per_second

        return {"conditional_images_per_s": images_per_second(model, runs)}
    if task == "video":
        from .video import clip_seconds_of

        return {"clip_seconds": clip_seconds_of(model, runs)}
    if task == "edit":
        from .edit import picture_ms

        return {"ms_512": picture_ms(model, runs)}
    from .text import streaming_speed_of

    return {"tokens_per_s": streaming_speed_of(model, runs)["tokens_per_s"]}
