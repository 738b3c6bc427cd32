"""python -m aigc bench: speed on this machine, as medians of several runs."""

from __future__ import annotations

import platform
import statistics
import time

import torch

from .device import best_device
from .timing import median_seconds


def machine() -> str:
    from .training.trainer import hardware

    device = best_device()
    return f"{hardware(device)}; device {device}; torch {torch.__version__}; Python {platform.python_version()}"


def _present(name: str, task: str) -> bool:
    """A built-in of `task` called `name`, or a folder: what the bench measures without a download."""
    from pathlib import Path

    from .catalog import builtin_models

    return Path(name).is_dir() or any(m.name == name and m.task == task for m in builtin_models())


def bench_text(runs: int, model: str = "shakespeare-gpt", tokens: int = 200, lstm: str = "shakespeare-lstm",
               bert: str = "shakespeare-bert") -> list[tuple[str, str]]:
    """Streamed tokens/s and time to first token of the GPT and the LSTM, and one [MASK] filled by the BERT.
    A model that is not there (a built-in still training) gets a row that says so."""
    from .evaluation.fill import SPEED_PASSAGE, fill_ms
    from .evaluation.text import streaming_speed

    rows = []
    for name in (model, lstm):
        if not _present(name, "text"):
            rows.append((f"text {name}: not measured, no such built-in in checkpoints/text", "-"))
            continue
        speed = streaming_speed(name, runs=runs, tokens=tokens)
        rows += [(f"text {name}: streamed tokens/s (batch 1, {tokens} tokens)", f"{speed['tokens_per_s']:.0f}"),
                 (f"text {name}: time to first token", f"{speed['first_token_ms']:.0f} ms")]
    if _present(bert, "fill"):
        rows.append((f"fill {bert}: one [MASK] filled (batch 1, '{SPEED_PASSAGE}')", f"{fill_ms(bert, runs):.1f} ms"))
    else:
        rows.append((f"fill {bert}: not measured, no such built-in in checkpoints/fill", "-"))
    return rows


def _pages(task: str, runs: int, page) -> list[tuple[str, str]]:
    """A row per built-in model of `task`: `page(info)` gives the row's label, the number of images
    drawn and the call that draws them, timed as a median of `runs` calls."""
    from .catalog import list_models

    rows = []
    for info in list_models(task):
        if info.source != "builtin":
            continue
        label, n, draw = page(info)
        seconds = median_seconds(draw, runs)
        rows.append((label, f"{seconds * 1000:.0f} ms ({n / seconds:.0f} images/s)"))
    return rows


def bench_image(runs: int) -> list[tuple[str, str]]:
    """64 images per built-in GAN or VAE, 16 images in 25 DDIM steps per diffusion model."""
    from .pipelines.image import generate_images

    def page(info):
        diffusion = info.card.get("kind") == "diffusion"
        n, steps = (16, 25) if diffusion else (64, None)
        label = f"image {info.name}: {n} images" + (f", {steps} DDIM steps" if diffusion else "")
        return label, n, lambda: generate_images(info.name, num_images=n, seed=0, steps=steps)

    return _pages("image", runs, page)


def bench_conditional(runs: int) -> list[tuple[str, str]]:
    """16 images of one condition per built-in model (guided diffusion: 25 steps, guidance on)."""
    from .pipelines.conditional import generate_conditional

    def page(info):
        kind = info.card.get("kind")
        condition = "a large red star in the top right" if kind == "text2img" else "7"
        steps = 25 if kind == "guided-diffusion" else None
        label = f"conditional {info.name}: 16 images" + (f", {steps} DDIM steps with guidance" if steps else "")
        return label, 16, lambda: generate_conditional(condition, info.name, num_images=16, seed=0, steps=steps)

    return _pages("conditional", runs, page)


def bench_video(runs: int) -> list[tuple[str, str]]:
    """A 16-frame clip drawn and encoded to MP4, per built-in video model."""
    from .pipelines.video import generate_video
    from .catalog import list_models

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


def bench_audio(runs: int) -> list[tuple[str, str]]:
    """Per built-in audio model: spectrogram diffusion, 16 one-second clips (Griffin-Lim included); a WaveNet,
    samples written a second for one clip and for eight at once; a sound-effect model, 16 clips of a caption."""
    from .cards import SOLVER_NAMES
    from .catalog import list_models
    from .pipelines.audio import generate_audio

    rows = []
    for info in list_models("audio"):
        if info.source != "builtin":
            continue
        kind = info.card.get("kind")
        if kind == "wavenet":
            for clips in (1, 8):
                seconds = median_seconds(lambda n=clips, name=info.name: generate_audio("7" * n, name, seed=0),
                                         max(1, runs // 2))
                rows.append((f"audio {info.name}: {clips} clip(s) of 1 s written sample by sample",
                             f"{seconds * 1000:.0f} ms ({clips * 8000 / seconds:,.0f} samples/s)"))
            continue
        what = "a long high rising chirp" if info.name.startswith("sfx") else "3"
        seconds = median_seconds(lambda what=what, name=info.name: generate_audio(what, name, num_clips=16, seed=0), runs)
        steps, sampler = info.card.get("sample_steps", ""), SOLVER_NAMES[info.card.get("sampler", "ddim")]
        rows.append((f"audio {info.name}: 16 one-second clips ({steps} {sampler} steps, Griffin-Lim)",
                     f"{seconds * 1000:.0f} ms ({16 / seconds:.1f} clips/s)"))
    if not rows:
        rows.append(("audio: no built-in audio model in checkpoints/audio", "-"))
    return rows


def bench_edit(runs: int) -> list[tuple[str, str]]:
    """The Edit image tab's tools through `edit_image`, as a user calls them: a 512x512 photo restored
    and upscaled x2 (and x4), and a 256x256 one restyled (its default steps, fewer runs: it takes seconds)."""
    from .data.photos import load_photo
    from .pipelines.edit import UPSCALERS, edit_image
    from .pipelines.restyle import STEPS

    photo = load_photo("coffee").crop((44, 0, 444, 400)).resize((512, 512))
    rows = []
    if _present("restorer-photos", "edit"):
        seconds = median_seconds(lambda: edit_image(photo, "restore"), runs)
        rows.append(("edit restorer-photos: a 512x512 photo restored", f"{seconds * 1000:.0f} ms"))
    for scale, name in UPSCALERS.items():
        if _present(name, "edit"):
            seconds = median_seconds(lambda s=scale: edit_image(photo, "upscale", scale=s), runs)
            rows.append((f"edit {name}: a 512x512 photo upscaled x{scale}", f"{seconds * 1000:.0f} ms"))
    small = photo.resize((256, 256))
    seconds = median_seconds(lambda: edit_image(small, "restyle", style="brick"), max(1, runs // 3))
    rows.append((f"edit restyle: a 256x256 photo, {STEPS} steps", f"{seconds:.1f} s"))
    return rows


def _bare_dcgan_loop(batch_size: int, device: torch.device, seed: int = 0):
    """DCGAN on `digits` as a plain PyTorch loop: the trainer's models, data order, Adam, loss,
    augmentation and EMA, with nothing around them (no events, no evaluation, no files).
    Returns `step()`, which trains one step (its models are `step.G`, `step.D`, `step.ema`)."""
    import torch.nn.functional as F
    from torch.optim.swa_utils import AveragedModel

    from .data.images import load_images, split
    from .models.dcgan import Discriminator, Generator
    from .training.configs import DCGANConfig
    from .training.dcgan import diff_augment
    from .training.images import ema_average

    config = DCGANConfig()
    sizes = config.model
    train_set = split(load_images("digits"))[0]
    torch.manual_seed(seed)
    G = Generator(sizes.z_dim, train_set.channels, sizes.width).to(device)
    D = Discriminator(train_set.channels, sizes.width, sizes.d_norm).to(device)
    ema = AveragedModel(G, avg_fn=ema_average(sizes.ema_decay), use_buffers=True).to(device)
    g_opt = torch.optim.Adam(G.parameters(), lr=config.lr, betas=(0.5, 0.999))  # the task's constant rate
    d_opt = torch.optim.Adam(D.parameters(), lr=config.lr, betas=(0.5, 0.999))
    aug = torch.Generator().manual_seed(seed + 17)
    p = sizes.augment_p
    per_epoch = len(train_set) // batch_size
    count = 0

    def step() -> None:
        nonlocal count
        epoch, i = divmod(count, per_epoch)
        count += 1
        order = torch.randperm(len(train_set), generator=torch.Generator().manual_seed(seed * 7919 + epoch))
        real = train_set.batch(order[i * batch_size : (i + 1) * batch_size])["image"].to(device)
        G.train()
        fake = G(torch.randn(len(real), sizes.z_dim, device=device))
        d_real = D(diff_augment(real, aug, p))
        d_fake = D(diff_augment(fake.detach(), aug, p))
        d_loss = F.softplus(-d_real).mean() + F.softplus(d_fake).mean()
        d_opt.zero_grad(set_to_none=True)
        d_loss.backward()
        d_opt.step()
        g_loss = F.softplus(-D(diff_augment(fake, aug, p))).mean()
        g_opt.zero_grad(set_to_none=True)
        g_loss.backward()
        g_opt.step()
        ema.update_parameters(G)

    step.G, step.D, step.ema = G, D, ema  # for the test that checks the work is the trainer's
    return step


def bench_train(runs: int, batch_size: int = 128, steps: int = 30, warmup: int = 10) -> list[tuple[str, str]]:
    """DCGAN on `digits`: the trainer (as `aigc.train` runs it, with its metrics file and a
    listener consuming every event) against a bare PyTorch loop doing the same work per step.
    Each of `runs` repetitions times `steps` steps after `warmup` steps, trainer and bare loop
    alternating (which goes first alternates too); the rows are medians."""
    import tempfile
    import threading

    import aigc

    device = best_device()
    no_extras = dict(eval_every=10**9, sample_every=10**9, checkpoint_every=10**9, log_every=warmup)
    if steps % warmup:
        raise ValueError("steps must be a multiple of warmup (the step events come every `warmup` steps)")

    def trainer_rate(folder: str) -> float:
        marks: dict[int, float] = {}
        done = threading.Event()
        run = None

        def listener(event) -> None:  # runs in the training thread, as the app's listeners do
            if event.type == "step":
                marks[event.step] = time.perf_counter()
                if event.step >= warmup + steps:
                    run.stop()  # the next loop turn saves a checkpoint and ends: outside the window
            elif event.type in ("end", "error"):
                done.set()

        run = aigc.train("dcgan", "digits", steps=10**6, batch_size=batch_size, seed=0, out=folder,
                         device=str(device), precision="no", listeners=[listener], **no_extras)
        consumed = sum(1 for _ in run)  # the caller drains the event queue, as the UI does
        if run.last is None or run.last.type == "error" or consumed < 2:
            raise RuntimeError(f"the benchmark run failed: {run.last and run.last.data.get('message')}")
        return steps * batch_size / (marks[warmup + steps] - marks[warmup])

    def bare_rate() -> float:
        step = _bare_dcgan_loop(batch_size, device)
        for _ in range(warmup):
            step()
        sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
        sync()
        start = time.perf_counter()
        for _ in range(steps):
            step()
        sync()
        return steps * batch_size / (time.perf_counter() - start)

    trainer, bare = [], []
    with tempfile.TemporaryDirectory(prefix="aigc-bench-") as tmp:
        for rep in range(runs):
            order = ("trainer", "bare") if rep % 2 == 0 else ("bare", "trainer")
            for which in order:
                if which == "trainer":
                    trainer.append(trainer_rate(f"{tmp}/run-{rep}"))
                else:
                    bare.append(bare_rate())
        # One epoch as a user runs it: start, the epoch's steps, then the end-of-run evaluation
        # (500 samples judged), sample grid and checkpoint.
        start = time.perf_counter()
        run = aigc.train("dcgan", "digits", epochs=1, batch_size=batch_size, seed=0, out=f"{tmp}/epoch",
                         device=str(device), precision="no")
        events = list(run)
        total = time.perf_counter() - start
    steps_end = next(e.time for e in events if e.type == "step" and e.step == run.config.steps)
    train_part = steps_end - events[0].time
    # Each repetition's pair ran back to back, so its ratio is the least troubled by drift
    # in what else the machine is doing; the row gives their median and range.
    ratios = sorted(t / b for t, b in zip(trainer, bare))
    window = f"batch {batch_size}, {steps} steps; neither evaluates, samples or saves in the window"
    return [
        (f"train dcgan-digits: trainer (aigc.train, metrics.jsonl, a listener), {window}",
         f"{statistics.median(trainer):.0f} samples/s ({min(trainer):.0f}-{max(trainer):.0f})"),
        ("train dcgan-digits: bare PyTorch loop, same models, data, Adam, loss, augmentation, EMA",
         f"{statistics.median(bare):.0f} samples/s ({min(bare):.0f}-{max(bare):.0f})"),
        ("train dcgan-digits: trainer / bare loop, median of the back-to-back pairs (target >= 0.95)",
         f"{statistics.median(ratios):.3f} ({ratios[0]:.3f}-{ratios[-1]:.3f})"),
        (f"train dcgan-digits: one epoch ({run.config.steps} steps of {batch_size}) through the trainer, "
         "its steps", f"{train_part:.1f} s"),
        ("train dcgan-digits: the same epoch from aigc.train to its end (start-up, final eval of 500 samples, "
         "grid, checkpoint)", f"{total:.1f} s"),
    ]


def bench_app(runs: int = 3) -> list[tuple[str, str]]:
    """`python app.py` until its page answers, the memory of a process holding every built-in model,
    and the CPU one request costs the server."""
    import os
    import subprocess
    import sys

    from .net import app_process
    from .paths import ROOT

    def start_seconds() -> float:
        with app_process() as (server, _):
            return server.started_in

    def cpu_per_request(requests: int = 30) -> list[tuple[str, str]]:
        """CPU the server process, and its worker processes, spend on one request of each kind,
        asked one after another by a gradio_client on this machine."""
        import ssl

        import psutil
        from gradio_client import Client

        with app_process() as (server, url):
            def cpu() -> tuple[float, float]:
                process = psutil.Process(server.pid)
                workers = sum(sum(c.cpu_times()[:2]) for c in process.children(recursive=True))
                return sum(process.cpu_times()[:2]), workers

            # one TLS context, not one per call
            client = Client(url + "/", verbose=False, download_files=False, ssl_verify=ssl.create_default_context())
            asks = {"16 DCGAN images": lambda seed: client.predict("dcgan-digits", 16, seed, 25, "ddim", api_name="/generate_images"),
                    "32 tokens of text": lambda seed: client.predict("ROMEO.\n", "shakespeare-gpt", 32, 0.8, 50, 0.95, seed,
                                                                       api_name="/generate_text")}
            for ask in asks.values():
                for seed in range(3):
                    ask(seed)  # each model loads once, and both workers have started
            rows = []
            for what, ask in asks.items():
                (s0, w0), start = cpu(), time.perf_counter()
                for seed in range(requests):
                    ask(100 + seed)
                (s1, w1), wall = cpu(), time.perf_counter() - start
                rows.append((f"app: CPU of one request for {what}: the server's (+ its workers'), one client, "
                             f"{wall / requests * 1000:.0f} ms each", f"{(s1 - s0) / requests * 1000:.0f} ms (+{(w1 - w0) / requests * 1000:.0f})"))
            return rows

    seconds = statistics.median(start_seconds() for _ in range(runs))
    costs = cpu_per_request()
    holding = subprocess.run([sys.executable, "-c", _LOAD_ALL], cwd=ROOT, capture_output=True, text=True,
                             env={**os.environ, "HF_HUB_OFFLINE": "1"}, check=True).stdout.split()
    return [
        ("app: python app.py until its page answers (models load lazily, on first use)", f"{seconds:.1f} s"),
        ("app: resident memory of the app's imports (torch, transformers, diffusers, gradio)", f"{int(holding[0])} MB"),
        (f"app: resident memory with all {holding[2]} built-in models loaded", f"{int(holding[1])} MB"),
        ("app: memory the text worker process adds (its unique set size: torch's own copy, the model)", f"{int(holding[3])} MB"),
        ("app: memory the picture worker process adds (the same, with DCGAN loaded)", f"{int(holding[4])} MB"),
        *costs,
    ]


# Run in a fresh process, so the figure is that of an app, not of this benchmark.
_LOAD_ALL = """
import psutil
import aigc.ui
from aigc.catalog import builtin_models
from aigc.registry import load
before = psutil.Process().memory_info().rss
models = builtin_models()
for m in models:
    load(m.name, m.task)
loaded = psutil.Process().memory_info().rss
from aigc.pipelines import image, text
from aigc.serving import LocalEngine

def unique():  # what the workers add: their resident size counts torch's libraries shared with the app
    return sum(c.memory_full_info().uss for c in psutil.Process().children(recursive=True))

engine = LocalEngine()  # as the app does
list(engine.stream("write", text.write, "A", max_new_tokens=1, seed=0))
writer = unique()
engine.call("draw", image.draw, image.generate_images, "bench", model="dcgan-digits", num_images=1)
print(before // 2**20, loaded // 2**20, len(models), writer // 2**20, (unique() - writer) // 2**20)
"""

BENCHES = {"text": bench_text, "image": bench_image, "conditional": bench_conditional, "video": bench_video,
           "audio": bench_audio, "edit": bench_edit, "train": bench_train, "app": bench_app}
RUNS = {"train": 5, "app": 3}  # each repetition of these takes seconds, not milliseconds


def run_bench(what: str = "all", runs: int | None = None, **serve_options) -> list[tuple[str, str]]:
    """One table: the machine at the top, then each bench's rows (`what`: one of BENCHES, or all; or
    "serve", which is not in all: it starts the app once per engine, Ray among them; see aigc.serving.benchmark)."""
    if what == "serve":
        from .serving.benchmark import bench_serve, describe

        rows = bench_serve(**serve_options)
        print(f"Machine: {machine()}")
        print(describe(**serve_options) + "\n")
        return _table(rows)
    chosen = list(BENCHES) if what == "all" else [what]
    rows = []
    for name in chosen:
        rows += BENCHES[name](runs or RUNS.get(name, 7))
    print(f"Machine: {machine()}")
    print(f"Medians of {runs} runs.\n" if runs else "Medians of 7 runs (train: 5, app: 3).\n")
    return _table(rows)


def _table(rows: list[tuple[str, str]]) -> list[tuple[str, str]]:
    width = max(len(r[0]) for r in rows)
    value_width = max(5, *(len(r[1]) for r in rows))
    print(f"| {'measure':<{width}} | {'value':<{value_width}} |\n|{'-' * (width + 2)}|{'-' * (value_width + 2)}|")
    for name, value in rows:
        print(f"| {name:<{width}} | {value:<{value_width}} |")
    return rows
