"""python -m aigc bench: speed on this machine, as medians of several runs."""

from __future__ import annotations

import platform
import statistics
import time

import torch

from .device import best_device


def machine() -> str:
    from .training.trainer import hardware

    device = best_device()
    return f"{hardware(device)}; device {device}; torch {torch.__version__}; Python {platform.python_version()}"


def bench_text(runs: int, model: str = "shakespeare-gpt", tokens: int = 200) -> list[tuple[str, str]]:
    from .pipelines.text import generate_text

    generate_text("ROMEO.\n", model=model, max_new_tokens=20, seed=0)  # load and warm up
    rates, firsts = [], []
    for i in range(runs):
        stream = generate_text("ROMEO.\n", model=model, max_new_tokens=tokens, seed=i, stream=True)
        for _ in stream:
            pass
        rates.append(stream.tokens_per_s)
        firsts.append(stream.first_token_s)
    return [
        (f"text {model}: streamed tokens/s (batch 1, {tokens} tokens)", f"{statistics.median(rates):.0f}"),
        (f"text {model}: time to first token", f"{statistics.median(firsts) * 1000:.0f} ms"),
    ]


def median_seconds(fn, runs: int) -> float:
    """Median wall time of `fn()` over `runs` calls, after one call to load and warm up."""
    fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bench_image(runs: int) -> list[tuple[str, str]]:
    from .pipelines.image import generate_images
    from .registry import list_models

    rows = []
    for info in list_models("image"):
        if info.source != "builtin":
            continue
        diffusion = info.card.get("kind") == "diffusion"
        n, steps = (16, 25) if diffusion else (64, None)
        seconds = median_seconds(lambda: generate_images(info.name, num_images=n, seed=0, steps=steps), runs)
        label = f"image {info.name}: {n} images" + (f", {steps} DDIM steps" if diffusion else "")
        rows.append((label, f"{seconds * 1000:.0f} ms ({n / seconds:.0f} images/s)"))
    return rows


def bench_conditional(runs: int) -> list[tuple[str, str]]:
    """16 images of one condition per built-in model (guided diffusion: 25 steps, guidance on)."""
    from .pipelines.conditional import generate_conditional
    from .registry import list_models

    rows = []
    for info in list_models("conditional"):
        if info.source != "builtin":
            continue
        kind = info.card.get("kind")
        condition = "a large red star in the top right" if kind == "text2img" else "7"
        steps = 25 if kind == "guided-diffusion" else None
        seconds = median_seconds(lambda: generate_conditional(condition, info.name, num_images=16, seed=0, steps=steps), runs)
        label = f"conditional {info.name}: 16 images" + (f", {steps} DDIM steps with guidance" if steps else "")
        rows.append((label, f"{seconds * 1000:.0f} ms ({16 / seconds:.0f} images/s)"))
    return rows


def bench_video(runs: int) -> list[tuple[str, str]]:
    """A 16-frame clip drawn and encoded to MP4, per built-in video model."""
    from .pipelines.video import generate_video
    from .registry import list_models

    rows = []
    for info in list_models("video"):
        if info.source != "builtin":
            continue
        caption = "a large red star in the top right moving left"
        # the file is part of the work measured; deleting it keeps outputs/ from filling up
        seconds = median_seconds(lambda: generate_video(caption, info.name, num_frames=16, fps=8, seed=0).unlink(), runs)
        rows.append((f"video {info.name}: a 16-frame clip generated and encoded to MP4", f"{seconds * 1000:.0f} ms"))
    if not rows:
        rows.append(("video: no built-in video model in checkpoints/video", "-"))
    return rows


BENCHES = {"text": bench_text, "image": bench_image, "conditional": bench_conditional, "video": bench_video}


def run_bench(what: str, runs: int = 7) -> list[tuple[str, str]]:
    rows = BENCHES[what](runs)
    print(f"Machine: {machine()}")
    print(f"Median of {runs} runs.\n")
    width = max(len(r[0]) for r in rows)
    value_width = max(5, *(len(r[1]) for r in rows))
    print(f"| {'measure':<{width}} | {'value':<{value_width}} |\n|{'-' * (width + 2)}|{'-' * (value_width + 2)}|")
    for name, value in rows:
        print(f"| {name:<{width}} | {value:<{value_width}} |")
    return rows
