"""Command line: python -m aigc {list,generate,fill,rewrite,eval,train,bench}."""

from __future__ import annotations

import argparse
import re
import shlex
import shutil
import sys
from dataclasses import fields
from importlib import import_module
from pathlib import Path

from .errors import AigcError


def cmd_train(args: argparse.Namespace) -> int:
    import aigc
    from .training import KINDS
    from .training.configs import COMMAND_LINE
    from .training.events import ProgressBar

    # the flags of this kind's sizes (the parser has every kind's) and of the settings, where given
    names = [*COMMAND_LINE, *(f.name for f in fields(KINDS[args.kind].sizes_class()))] if args.kind in KINDS else []
    options = {name: getattr(args, name) for name in names if getattr(args, name, None) is not None}
    command = "python -m aigc " + shlex.join(sys.argv[1:])
    run = aigc.train(args.kind, args.dataset, epochs=args.epochs, steps=args.steps, seed=args.seed, out=args.out,
                     command=command, **options)
    if run.trainer.is_main:  # under `accelerate launch`, one progress bar for all processes
        run.trainer.listeners.append(ProgressBar(run.config.steps, run.trainer.state["step"]))
    try:
        last = run.wait()
    except KeyboardInterrupt:
        print("\nStopping: saving a checkpoint (run the same command again to resume)...")
        run.stop()
        last = run.wait()
    if last is None or last.type == "error":
        return 1
    if args.export and run.best.is_dir() and run.trainer.is_main:  # under `accelerate launch`: one copy
        shutil.rmtree(args.export, ignore_errors=True)
        shutil.copytree(run.best, args.export)
        print(f"Best model copied to {args.export}")
    return 0


def plain(markdown: str) -> str:
    """A line of Markdown (a model card's title) as plain text: links keep their words, code and
    emphasis lose their marks; underscores inside words (huggingface_hub) stay."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", markdown)
    text = re.sub(r"`([^`]*)`", r"\1", text)
    text = re.sub(r"(?<!\w)(\*\*|__|\*|_)(\S(?:.*?\S)?)\1(?!\w)", r"\2", text)
    return " ".join(text.split())


def cmd_list(args: argparse.Namespace) -> int:
    from .catalog import list_models

    rows = [("NAME", "TASK", "SOURCE", "DESCRIPTION")]
    for m in list_models(args.task):
        description = plain(m.description)
        if description.startswith(m.name + ":"):  # a card's title repeats the name the first column shows
            description = description[len(m.name) + 1:].strip()
        rows.append((m.name, m.task, m.source, description))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for *columns, description in rows:
        print("  ".join(c.ljust(w) for c, w in zip(columns, widths)) + "  " + description)
    return 0


def save_images(images: list, out: Path, stem: str, seed: int) -> None:
    """Each picture as STEM-NN.png and all of them as STEM-grid.png in `out`, and one line that says so."""
    from .pipelines.image import image_grid

    out.mkdir(parents=True, exist_ok=True)
    for i, im in enumerate(images):
        im.save(out / f"{stem}-{i:02d}.png")
    image_grid(images, nrow=min(8, len(images))).save(out / f"{stem}-grid.png")
    print(f"Wrote {len(images)} images and {stem}-grid.png to {out} (seed {seed}).")


def cmd_generate_image(args: argparse.Namespace) -> int:
    from .device import random_seed
    from .pipelines.image import generate_images

    seed = random_seed() if args.seed is None else args.seed
    images = generate_images(args.model, num_images=args.num_images, seed=seed, steps=args.steps, scheduler=args.scheduler)
    save_images(images, args.out, f"{Path(args.model).name}-seed{seed}", seed)
    return 0


def cmd_generate_conditional(args: argparse.Namespace) -> int:
    from .device import random_seed
    from .pipelines.conditional import generate_conditional

    seed = random_seed() if args.seed is None else args.seed
    images = generate_conditional(args.condition, model=args.model, num_images=args.num_images, seed=seed,
                                  guidance_scale=args.guidance_scale, steps=args.steps,
                                  negative_prompt=args.negative_prompt, width=args.width, height=args.height)
    words = re.sub(r"[^a-z0-9]+", "-", args.condition.lower()).strip("-")[:40] or "image"
    save_images(images, args.out, f"{Path(args.model).name}-{words}-seed{seed}", seed)
    return 0


def cmd_generate_video(args: argparse.Namespace) -> int:
    from .device import random_seed
    from .pipelines.video import make_clip

    seed = random_seed() if args.seed is None else args.seed
    clip = make_clip(args.prompt, model=args.model, num_frames=args.frames, fps=args.fps, seed=seed, steps=args.steps,
                     guidance_scale=args.guidance_scale, width=args.width, height=args.height)
    path = clip.save(args.format, folder=args.out)
    print(f"Wrote {path} ({len(clip.frames)} frames at {clip.fps} fps, seed {seed}).")
    return 0


def cmd_generate_audio(args: argparse.Namespace) -> int:
    from .device import random_seed
    from .pipelines.audio import generate_audio, save

    seed = random_seed() if args.seed is None else args.seed
    audio = generate_audio(args.what, model=args.model, num_clips=args.num_clips, seed=seed, steps=args.steps,
                           guidance=args.guidance_scale, temperature=args.temperature, seconds=args.seconds)
    wav, wave, spectrogram = save(audio, f"{Path(args.model).name}-seed{seed}", folder=args.out)
    print(f"Wrote {wav} ({len(audio.clips)} clips: {', '.join(audio.said)}; seed {seed}), "
          f"its waveform {wave} and spectrogram {spectrogram}.")
    for note in audio.notes:
        print(f"note: {note}", file=sys.stderr)
    return 0


def cmd_generate(args: argparse.Namespace) -> int:
    import aigc

    stream = aigc.generate_text(args.prompt, model=args.model, max_new_tokens=args.max_new_tokens,
                                temperature=args.temperature, top_k=args.top_k, top_p=args.top_p,
                                seed=args.seed, stream=True)
    for notice in stream.notices:
        print(f"note: {notice}", file=sys.stderr)
    sys.stdout.write(stream.prompt)
    for chunk in stream:
        sys.stdout.write(chunk)
        sys.stdout.flush()
    sys.stdout.write("\n")
    return 0


def cmd_fill(args: argparse.Namespace) -> int:
    from .pipelines.fill import DEFAULT_MODEL, fill_mask

    blanks, notes = fill_mask(args.text, model=args.model or DEFAULT_MODEL, top_k=args.top_k)
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    for i, blank in enumerate(blanks, 1):
        print(f"blank {i}: " + ", ".join(f"{word} {p:.3f}" for word, p in blank.candidates))
    return 0


def cmd_rewrite(args: argparse.Namespace) -> int:
    from .device import random_seed
    from .pipelines.fill import DEFAULT_MODEL, WORD, kept_words, rewrite

    seed = random_seed() if args.seed is None else args.seed
    done = rewrite(args.text, model=args.model or DEFAULT_MODEL, temperature=args.temperature,
                   keep=args.keep, seed=seed)
    absent = sorted(kept_words(args.keep) - {w.casefold() for w in WORD.findall(args.text)})
    if absent:  # most likely a typo: the user meant to keep a word that is there
        print(f"note: --keep names words the passage does not have: {', '.join(absent)}.", file=sys.stderr)
    for note in done.notes:
        print(f"note: {note}", file=sys.stderr)
    print(done.text)
    changes = ", ".join(f"{before} -> {after}" for before, after in done.changed)
    print(f"\nchanged {len(done.changed)} word(s) (seed {seed})" + (f": {changes}" if changes else ""))
    return 0


def cmd_edit(args: argparse.Namespace) -> int:
    import shutil

    from .pipelines.edit import edit_image

    done = edit_image(args.image, args.tool, model=args.model, scale=args.scale, mask=args.mask, damage=args.damage,
                      amount=args.amount, seed=args.seed, style=args.style, steps=args.steps, strength=args.strength)
    for note in done["notes"]:
        print(f"note: {note}", file=sys.stderr)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(done["after"], args.out)
    print(f"wrote {args.out} ({done['figures']['seconds']:.2f} s)")
    figures = done["figures"]
    if "psnr_after" in figures:
        print(f"against the undamaged picture: PSNR {figures['psnr_before']:.2f} dB -> {figures['psnr_after']:.2f} dB, "
              f"SSIM {figures['ssim_before']:.3f} -> {figures['ssim_after']:.3f}")
    return 0


def task_of(name: str) -> str:
    """The task of a model named on the command line: a built-in's, a run's or a suggested Hub id's; a
    folder's from its config.json or card (transformers' masked LMs do `fill`); otherwise `text`."""
    import json

    from .cards import read_card
    from .catalog import list_models, run_model

    known = next((m.task for m in list_models() if m.name == name), None)
    if known or not Path(name).is_dir():
        return known or "text"
    folder = run_model(Path(name))
    config = json.loads((folder / "config.json").read_text()) if (folder / "config.json").is_file() else {}
    task = config.get("task") or read_card(folder).get("task")
    if task:
        return task
    masked = config.get("kind") == "bert" or any("MaskedLM" in a for a in config.get("architectures") or ())
    return "fill" if masked else "text"


SAMPLE_PROMPT = "ROMEO.\n"


def _eval_one(name: str, write_card: bool, task: str | None = None) -> None:
    from .cards import METRIC_NAMES, update_metrics
    from .catalog import resolve

    task = task or task_of(name)
    if task == "image":
        from .evaluation.images import evaluate_image_model as evaluate
    elif task == "conditional":
        from .evaluation.conditional import evaluate_conditional_model as evaluate
    elif task == "video":
        from .evaluation.video import evaluate_video_model as evaluate
    elif task == "audio":
        from .evaluation.audio import evaluate_audio_model as evaluate
    elif task == "fill":
        from .evaluation.fill import evaluate_fill_model as evaluate
    elif task == "edit":
        from .evaluation.edit import evaluate_edit_model as evaluate
    else:
        from .evaluation.text import evaluate_text_model as evaluate
    metrics = evaluate(name)
    print(f"\n{name}\n| metric | value |\n| --- | --- |")
    for key, value in metrics.items():
        print(f"| {METRIC_NAMES.get(key, key)} | {value:.4f} |" if value < 1e5 else f"| {METRIC_NAMES.get(key, key)} | {value:,.0f} |")
    info = resolve(name, task)
    if info.source == "builtin" and write_card:
        if task == "text":  # the sample the GPT's and the LSTM's cards show side by side (aigc.cards)
            from .pipelines.text import generate_text

            sample = SAMPLE_PROMPT + generate_text(SAMPLE_PROMPT, model=name, max_new_tokens=160, temperature=0.8, seed=0)
            (Path(info.location) / "sample.txt").write_text(sample, encoding="utf-8")
        update_metrics(info.location, metrics)
        samples = Path(info.location) / "samples.png"  # the card shows what the numbers describe
        if task == "image":
            from .pipelines.image import generate_images, image_grid

            image_grid(generate_images(name, num_images=64, seed=0), nrow=8, scale=2).save(samples)
        elif task in ("conditional", "video"):  # evaluation.conditional and .video draw a sheet of labelled samples
            import_module(f".evaluation.{task}", __package__).sample_sheet(name).save(samples)
        elif task == "edit":  # the tool on a held-out photo: damaged, restored (or bicubic, upscaled), the original
            from .evaluation.edit import card_samples

            card_samples(name).save(samples)
        elif task == "audio":  # a picture of the spectrograms and the clips to hear
            from .evaluation.audio import card_samples

            card_samples(name, Path(info.location))
        print(f"Updated {Path(info.location) / 'README.md'}")


def cmd_eval(args: argparse.Namespace) -> int:
    from .catalog import builtin_models

    if not args.all and not args.model:
        raise AigcError("Name a model to evaluate, or pass --all for every built-in model.")
    names = [m.name for m in builtin_models()] if args.all else [args.model]
    for name in names:
        _eval_one(name, not args.no_card, None if args.all else args.task)
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from .bench import run_bench

    serve = {"seconds": args.seconds, "engines": tuple(args.engines.split(",")), "work": tuple(args.work.split(","))}
    run_bench(args.what, runs=args.runs, **(serve if args.what == "serve" else {}))
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The command line (`train`'s flags come from the training configurations, which import no trainer)."""
    parser = argparse.ArgumentParser(prog="python -m aigc", description="AIGC Studio from the command line.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("list", help="list models")
    p.add_argument("task", nargs="?", choices=["text", "fill", "image", "conditional", "video", "audio", "edit"])
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("generate", help="generate with a model")
    gen = p.add_subparsers(dest="task", required=True)
    t = gen.add_parser("text", help="continue a prompt; the text streams to stdout")
    t.add_argument("prompt", nargs="?", default="")
    t.add_argument("--model", default="shakespeare-gpt")
    t.add_argument("--max-new-tokens", type=int, default=200)
    t.add_argument("--temperature", type=float, default=0.8)
    t.add_argument("--top-k", type=int, default=50)
    t.add_argument("--top-p", type=float, default=0.95)
    t.add_argument("--seed", type=int)
    t.set_defaults(func=cmd_generate)
    i = gen.add_parser("image", help="sample an unconditional image model; writes PNGs and a grid")
    i.add_argument("--model", default="dcgan-digits")
    i.add_argument("--num-images", "-n", type=int, default=16)
    i.add_argument("--seed", type=int)
    i.add_argument("--steps", type=int, help="denoising steps (diffusion)")
    i.add_argument("--scheduler", choices=["dpm++", "ddim", "ddpm"], help="sampler (diffusion; default ddim)")
    i.add_argument("--out", type=Path, default=Path("outputs/images"), help="folder for the PNGs")
    i.set_defaults(func=cmd_generate_image)
    c = gen.add_parser("conditional", help="pictures of a label ('7') or a caption; writes PNGs and a grid")
    c.add_argument("condition", help="a label name, or a caption ('a large red star in the top right')")
    c.add_argument("--model", default="cgan-digits")
    c.add_argument("--num-images", "-n", type=int, default=16)
    c.add_argument("--guidance-scale", type=float, help="classifier-free guidance (diffusion; default: the model's)")
    c.add_argument("--steps", type=int, help="denoising steps (diffusion)")
    c.add_argument("--negative-prompt", help="what to avoid (Hub pipelines)")
    c.add_argument("--width", type=int, help="(Hub pipelines)")
    c.add_argument("--height", type=int, help="(Hub pipelines)")
    c.add_argument("--seed", type=int)
    c.add_argument("--out", type=Path, default=Path("outputs/conditional"), help="folder for the PNGs")
    c.set_defaults(func=cmd_generate_conditional)
    v = gen.add_parser("video", help="a clip of a caption; writes an MP4 (H.264) or a looping GIF")
    v.add_argument("prompt", help="a caption ('a red circle moving left'), or any prompt for a Hub pipeline")
    v.add_argument("--model", default="text2video-shapes")
    v.add_argument("--frames", type=int, default=16, help="frames in the clip (built-in: up to the 16 it draws)")
    v.add_argument("--fps", type=int, default=8, help="frames per second, 1-30")
    v.add_argument("--format", choices=["mp4", "gif"], default="mp4")
    v.add_argument("--steps", type=int, help="denoising steps (Hub pipelines; default 25)")
    v.add_argument("--guidance-scale", type=float, help="(Hub pipelines; default: the pipeline's)")
    v.add_argument("--width", type=int, help="(Hub pipelines; default: the pipeline's, 832 for Wan)")
    v.add_argument("--height", type=int, help="(Hub pipelines; default: the pipeline's, 480 for Wan)")
    v.add_argument("--seed", type=int)
    v.add_argument("--out", type=Path, default=Path("outputs/videos"), help="folder for the clip")
    v.set_defaults(func=cmd_generate_video)
    a = gen.add_parser("audio", help="spoken digits, a sound effect, or Hub speech/music; writes a WAV and pictures")
    a.add_argument("what", help="digits to say ('3 1 4'), a caption ('a long high rising chirp'), or text (Hub)")
    a.add_argument("--model", default="mel-digits")
    a.add_argument("--num-clips", type=int, default=1, help="clips of each digit (built-in), or clips (Hub)")
    a.add_argument("--steps", type=int, help="denoising steps (spectrogram diffusion)")
    a.add_argument("--guidance-scale", type=float, help="(spectrogram diffusion)")
    a.add_argument("--temperature", type=float, help="(WaveNet; default 1)")
    a.add_argument("--seconds", type=float, help="length of a Hub model's sound")
    a.add_argument("--seed", type=int)
    a.add_argument("--out", type=Path, default=Path("outputs/audio"), help="folder for the WAV and pictures")
    a.set_defaults(func=cmd_generate_audio)

    p = sub.add_parser("fill", help="fill in each [MASK] of a passage with a masked language model")
    p.add_argument("text", help="a passage with [MASK] where a word goes ('Good [MASK], sweet prince.')")
    p.add_argument("--model", help="a masked language model (default: the built-in shakespeare-bert)")
    p.add_argument("--top-k", type=int, default=5, help="candidates per blank, 1-20")
    p.set_defaults(func=cmd_fill)

    p = sub.add_parser("rewrite", help="rewrite a passage word by word with a masked language model")
    p.add_argument("text", help="the passage")
    p.add_argument("--model", help="a masked language model (default: the built-in shakespeare-bert)")
    p.add_argument("--temperature", type=float, default=1.0, help="0-2; 0 keeps each word's most likely replacement")
    p.add_argument("--keep", default="", help="words that stay wherever they occur, any case ('sweet prince' or 'sweet,prince')")
    p.add_argument("--seed", type=int)
    p.set_defaults(func=cmd_rewrite)

    p = sub.add_parser("edit", help="restore, upscale or restyle a picture; writes a PNG")
    p.add_argument("image", help="a picture file, or the name of a sample photo (coffee, cat, flower)")
    p.add_argument("--tool", choices=["restore", "upscale", "restyle"], default="restore")
    p.add_argument("--model", help="upscale: a Hub id (Swin2SR, a diffusion upscaler) instead of the built-in upscaler")
    p.add_argument("--scale", type=int, default=2, choices=[2, 4], help="upscale: 2 or 4")
    p.add_argument("--mask", help="restore: a picture, white where a hole is to be filled")
    p.add_argument("--damage", choices=["noise", "salt-and-pepper", "jpeg", "hole", "shrink"],
                   help="damage the picture first (upscale: shrink), and compare the result with the undamaged one")
    p.add_argument("--amount", type=float, help="noise sigma, share of pixels, JPEG quality or share of a hole")
    p.add_argument("--style", default="brick", help="restyle: a style picture's file or name (brick, gravel, grass, hubble, cells, retina)")
    p.add_argument("--steps", type=int, help="restyle: optimisation steps")
    p.add_argument("--strength", type=float, help="restyle: how much style")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=Path("outputs/edited.png"))
    p.set_defaults(func=cmd_edit)

    p = sub.add_parser("eval", help="measure a model's quality (text: held-out loss; fill: held-out blanks)")
    p.add_argument("model", nargs="?")
    p.add_argument("--all", action="store_true", help="every built-in model")
    p.add_argument("--task", choices=["text", "fill", "image", "conditional", "video", "audio", "edit"],
                   help="the model's task, where its name does not tell (a Hub id is taken for text)")
    p.add_argument("--no-card", action="store_true", help="print only; leave the model card as it is")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("bench", help="measure speed on this machine (median of several runs)")
    p.add_argument("what", nargs="?", default="all",
                   choices=["all", "text", "image", "conditional", "video", "audio", "edit", "train", "app", "serve"],
                   help="train: the trainer's throughput against a bare PyTorch loop (DCGAN on digits); "
                        "app: start time and memory; serve: requests/s and latency of the app per engine "
                        "(local, Ray Serve with 1 and 2 replicas; pip install -e .[scale]); "
                        "all (the default): every one but serve, in one table")
    p.add_argument("--runs", type=int, help="repetitions (default 7; train: 5, each about 30 steps per side; app: 3)")
    p.add_argument("--seconds", type=float, default=10.0, help="serve: each measuring phase's length (default 10)")
    p.add_argument("--engines", default="local,ray-1,ray-2", help="serve: engines to measure (default local,ray-1,ray-2)")
    p.add_argument("--work", default="dcgan,diffusion,text", help="serve: requests to measure (default dcgan,diffusion,text)")
    p.set_defaults(func=cmd_bench)

    p = sub.add_parser("train", help="train a model kind on a dataset (resumes from --out)")
    p.add_argument("kind")
    p.add_argument("--dataset", required=True)
    p.add_argument("--epochs", type=float)
    p.add_argument("--steps", type=int)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--lr", type=float)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, help="run folder (default runs/KIND-DATASET)")
    p.add_argument("--device", help="cpu, cuda, mps (default: the best available)")
    p.add_argument("--precision", choices=["auto", "no", "bf16", "fp16"],
                   help="auto: bf16 where the hardware has it (default for most kinds)")
    for name in ("warmup", "eval_every", "sample_every", "checkpoint_every"):
        p.add_argument("--" + name.replace("_", "-"), dest=name, type=int)
    p.add_argument("--log-with", choices=["tensorboard"],
                   help="also log the step and eval scalars with an accelerate tracker, into RUN/tensorboard")
    p.add_argument("--export", type=Path, help="copy the best model here at the end")
    from .training.configs import size_options

    for name, kind in sorted(size_options().items()):  # model sizes; each kind uses its own
        p.add_argument("--" + name.replace("_", "-"), dest=name, type=kind)
    p.set_defaults(func=cmd_train)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    try:
        return args.func(args)
    except AigcError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
