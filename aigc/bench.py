"""python -m aigc bench: speed on this machine, as medians of several runs."""

from __future__ import annotations

import platform
import statistics

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


def run_bench(what: str, runs: int = 7) -> list[tuple[str, str]]:
    rows = {"text": bench_text}[what](runs)
    print(f"Machine: {machine()}")
    print(f"Median of {runs} runs.\n")
    width = max(len(r[0]) for r in rows)
    print(f"| {'measure':<{width}} | value |\n|{'-' * (width + 2)}|-------|")
    for name, value in rows:
        print(f"| {name:<{width}} | {value} |")
    return rows
