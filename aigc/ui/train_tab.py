"""Train tab: train any built-in model kind while its curves, samples and progress stream in.

Runs train in a background thread of the app (`aigc.training.jobs.JOBS`); this tab only
starts, stops and resumes them and watches their folder, so a reloaded page, or a second
visitor, sees the same run.
"""

from __future__ import annotations

import time
from pathlib import Path

import gradio as gr
import pandas as pd

from .. import limits
from ..errors import AigcError
from ..training import KINDS, TRAIN_ON_UPLOADS, run_folder
from ..training.jobs import JOBS, RunView, export_zip, past_runs

KIND_LABELS = {
    "gpt": "GPT: text, one character at a time",
    "dcgan": "DCGAN: images",
    "vae": "VAE: images",
    "diffusion": "Diffusion (DDPM): images",
    "cgan": "Conditional GAN: a digit for each label",
    "guided-diffusion": "Conditional diffusion: labels, classifier-free guidance",
    "text2img": "Text to image: captions of shapes",
    "text2video": "Text to video: captions of moving shapes",
}
# Steps a first run takes in the tab: enough to see it learn in a few minutes on a CPU
# (the shipped models trained longer; their cards say how long).
FIRST_RUN_STEPS = {"gpt": 1000, "dcgan": 1000, "vae": 2000, "diffusion": 1000, "cgan": 1000,
                   "guided-diffusion": 1000, "text2img": 1000, "text2video": 500}
UPLOAD = "upload"
GAN_OUTPUTS = {"d_real": "D(x)", "d_fake": "D(G(z))", "d_wrong": "D(x, wrong condition)"}
# (raw, smoothed) shades of one hue per curve: the smoothed line reads over its noisy raw one
SHADES = [("#a5b4fc", "#3730a3"), ("#fca5a5", "#b91c1c"), ("#86efac", "#15803d"), ("#fcd34d", "#b45309"),
          ("#d8b4fe", "#7e22ce"), ("#67e8f9", "#0e7490"), ("#f9a8d4", "#be185d"), ("#cbd5e1", "#334155")]
POLL_SECONDS = 1.0
MAX_POINTS = 400  # per curve; longer curves are thinned so each update stays small


def _datasets(kind: str) -> list[tuple[str, str]]:
    choices = [(d, d) for d in KINDS[kind][3]]
    if kind in TRAIN_ON_UPLOADS:
        choices.append(("Your images (.zip)", UPLOAD))
    return choices


def _defaults(kind: str):
    """The settings boxes filled with this kind's defaults."""
    defaults = KINDS[kind][1]
    steps = FIRST_RUN_STEPS[kind]
    return (gr.update(choices=_datasets(kind), value=KINDS[kind][3][0]), gr.update(visible=False), steps,
            defaults["batch_size"], defaults["lr"], max(10, steps // 10))


def _thin(frame: pd.DataFrame) -> pd.DataFrame:
    if frame.empty:
        return frame
    parts = []
    for _, part in frame.groupby("series", sort=False):
        stride = max(1, len(part) // MAX_POINTS)
        parts.append(part.iloc[::-1].iloc[::stride].iloc[::-1])  # thin from the end: keep the newest point
    return pd.concat(parts, ignore_index=True)


def _plots(view: RunView):
    """(loss, discriminator, learning rate) plot updates. Columns are typed even when empty:
    a plot first drawn with text columns would keep categorical axes."""
    rows = pd.DataFrame(view.curves(), columns=["step", "series", "value", "group", "kind"])
    rows = rows.astype({"step": "int64", "value": "float64"})
    loss = _thin(rows[rows["group"] == "loss"])
    disc = rows[rows["group"] == "discriminator"].copy()
    disc["series"] = disc["series"].map(_gan_name)
    lr = _thin(pd.DataFrame(view.lr_curve(), columns=["step", "series", "value"]).astype({"step": "int64", "value": "float64"}))
    if loss.empty:
        return gr.update(), gr.update(visible=False), gr.update()
    return (gr.update(value=loss[["step", "series", "value"]], color_map=_colors(loss)),
            gr.update(value=_thin(disc)[["step", "series", "value"]], color_map=_colors(disc), visible=not disc.empty),
            gr.update(value=lr))


def _colors(rows: pd.DataFrame) -> dict[str, str]:
    """A light raw line and a dark smoothed line of one hue per quantity; validation curves dark."""
    colors = {}
    bases = list(dict.fromkeys(s.removesuffix(" (smoothed)") for s in rows["series"] if not s.startswith("val_")))
    for base, (light, dark) in zip(bases, SHADES * 4):
        colors[base], colors[f"{base} (smoothed)"] = light, dark
    for extra, (_, dark) in zip(sorted({s for s in rows["series"] if s.startswith("val_")}), SHADES[::-1] * 4):
        colors[extra] = dark
    return colors


def _gan_name(series: str) -> str:
    name, _, rest = series.partition(" ")
    return f"{GAN_OUTPUTS.get(name, name)} {rest}".strip()


def _status(view: RunView, live: bool) -> str:
    total, step = view.total, view.step
    if not view.start:
        return "<div class='aigc-train-status'>Waiting for the run to start…</div>"
    fraction = step / total if total else 0.0
    last = view.steps[-1].data if view.steps else {}
    parts = [f"step {step:,} / {total:,}"]
    if live and last.get("steps_per_s"):
        parts.append(f"{last['steps_per_s']:.1f} steps/s · {last['samples_per_s']:,.0f} samples/s")
        if last.get("eta_s") is not None:
            parts.append(f"ETA {_duration(last['eta_s'])}")
    best = view.best
    if best is not None:
        metric = next((k for k in ("score", "val_loss") if k in best.data), None)
        parts.append(f"★ best checkpoint: step {best.step:,}" + (f" ({metric} {best.data[metric]:.4g})" if metric else ""))
    state = "training" if live else (view.end.data.get("reason", view.end.type) if view.end else "not running")
    message = view.end.data.get("message", "") if view.end and not live else ""
    return (f"<div class='aigc-train-status'><progress max='1' value='{fraction:.4f}' style='width:100%'></progress>"
            f"<div><b>{view.folder.name}</b> · {state} · {' · '.join(parts)}</div>"
            + (f"<div>{message}</div>" if message else "") + "</div>")


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def watch(name: str | None):
    """Endpoint `watch_training`: the run's curves, sample, status and log, again every second
    while it trains; once when it does not."""
    if not name:
        yield _empty()
        return
    try:
        folder = run_folder(name)
    except AigcError as exc:
        raise gr.Error(str(exc), print_exception=False) from None
    if not folder.is_dir():
        raise gr.Error(f"There is no run named '{name[:64]}'.", print_exception=False)
    view, shown_steps, shown_sample, shown_log = RunView(folder), -1, None, -1
    while True:
        live = JOBS.is_running(name)
        view.refresh()
        sample = view.sample
        new_sample = sample is not None and sample is not shown_sample
        plots = _plots(view) if len(view.steps) != shown_steps else (gr.update(),) * 3
        yield (
            gr.update(choices=past_runs() or [name], value=name), _status(view, live), *plots,
            *(_sample_outputs(sample) if new_sample else (gr.update(), gr.update())),
            "\n".join(view.log[-200:]) if len(view.log) != shown_log else gr.update(),
        )
        shown_steps, shown_log = len(view.steps), len(view.log)
        shown_sample = sample
        if not live:
            return
        time.sleep(POLL_SECONDS)


def _sample_outputs(sample):
    """(picture, text): the newest sample in the one that fits it, the other hidden."""
    path, text = sample.data.get("image"), sample.data.get("text")
    if text:
        return gr.update(visible=False), gr.update(value=text, visible=True, label=f"Sample at step {sample.step:,}")
    if path and Path(path).is_file():
        return gr.update(value=path, visible=True, label=f"Samples at step {sample.step:,}"), gr.update(visible=False)
    return gr.update(), gr.update(value=sample.data.get("error", ""), visible=bool(sample.data.get("error")))


def _empty():
    return (gr.update(choices=past_runs()), "<div class='aigc-train-status'>No run yet: choose a kind and press Start.</div>",
            gr.update(value=None), gr.update(value=None, visible=False), gr.update(value=None), gr.update(), gr.update(), "")


def start_training(kind: str, dataset: str, upload, name: str, steps: float, batch_size: float, lr: float, seed: float,
                   sample_every: float):
    """Endpoint `start_training`: starts a run and streams it as `watch_training` does."""
    try:
        _check_allowed(steps, batch_size)
        if kind not in KINDS:
            raise AigcError(f"Unknown model kind '{kind}'; kinds that train: {', '.join(KINDS)}.")
        numbers = {"steps": steps, "batch_size": batch_size, "sample_every": sample_every, "seed": seed}
        for label, value in numbers.items():
            if value is None or value != value or value < (0 if label == "seed" else 1) or value != int(value):
                raise AigcError(f"{label.replace('_', ' ').capitalize()} must be a whole number"
                                f"{' of 0 or more' if label == 'seed' else ' of 1 or more'}.")
        if lr is None or not (0 < lr <= 1):
            raise AigcError("The learning rate must be a number above 0 and at most 1.")
        upload_path = None
        if dataset == UPLOAD:
            upload_path = upload.get("path") if isinstance(upload, dict) else upload
            if not upload_path:
                raise AigcError("Upload a .zip of images to train on, or choose a built-in dataset.")
        run = JOBS.start(kind, dataset, name=(name or "").strip() or None, upload=upload_path, steps=int(steps),
                         batch_size=int(batch_size), lr=float(lr), seed=int(seed), sample_every=int(sample_every))
    except AigcError as exc:
        raise gr.Error(str(exc), print_exception=False) from None
    yield from watch(run.out.name)


def resume_training(name: str, steps: float):
    """Endpoint `resume_training`: continues a stopped run (or a finished one, up to more steps)."""
    try:
        _check_allowed(steps, None)
        if not name:
            raise AigcError("Choose a run to resume.")
        view = RunView(run_folder(name)).refresh()
        more = int(steps) if steps and steps == steps and steps > view.step else None
        if more is None and view.end is not None and view.end.data.get("reason") == "finished":
            raise AigcError(f"Run '{name}' finished at step {view.step:,}; raise Steps above that to train it further.")
        run = JOBS.resume(name, more)
    except AigcError as exc:
        raise gr.Error(str(exc), print_exception=False) from None
    yield from watch(run.out.name)


def _check_allowed(steps, batch_size) -> None:
    cap = limits.current
    if not cap.training:
        raise AigcError("Training is turned off on this server; run the app on your own machine to train.")
    if isinstance(steps, (int, float)) and steps > cap.max_train_steps:
        raise AigcError(f"This server trains at most {cap.max_train_steps:,} steps a run.")
    if isinstance(batch_size, (int, float)) and batch_size > cap.max_train_batch:
        raise AigcError(f"This server trains with batches of at most {cap.max_train_batch:,}.")


def stop_training(name: str | None):
    gr.Info(JOBS.stop(name or None))


def download(name: str | None):
    try:
        if not name:
            raise AigcError("Choose a run first.")
        return str(export_zip(name))
    except AigcError as exc:
        raise gr.Error(str(exc), print_exception=False) from None


def attach():
    """On page load: show the run that is training now, or the newest one of this app."""
    yield from watch(JOBS.newest())


def build(demo: gr.Blocks | None = None) -> None:
    kind0 = "dcgan"
    defaults = KINDS[kind0][1]
    cap = limits.current
    if not cap.training:
        gr.Markdown("Training is turned off on this server: you can watch runs and download their models.")
    with gr.Row(equal_height=False):
        with gr.Column(scale=2, min_width=300):
            kind = gr.Dropdown([(label, k) for k, label in KIND_LABELS.items()], value=kind0, label="Model kind",
                               elem_id="train-kind", allow_custom_value=True)
            dataset = gr.Dropdown(_datasets(kind0), value=KINDS[kind0][3][0], label="Data", elem_id="train-dataset",
                              allow_custom_value=True)  # the API may name any kind's data; start_training checks it
            upload = gr.File(label="Images (.zip; folders inside name the labels)", file_types=[".zip"], visible=False,
                             elem_id="train-upload")
            name = gr.Textbox(label="Run name", placeholder="kind-data (numbered if taken)", max_length=64, elem_id="train-name")
            with gr.Row():
                steps = gr.Number(FIRST_RUN_STEPS[kind0], label="Steps", precision=0, minimum=1, maximum=cap.max_train_steps,
                                  elem_id="train-steps")
                batch = gr.Number(defaults["batch_size"], label="Batch size", precision=0, minimum=1, elem_id="train-batch")
            with gr.Row():
                lr = gr.Number(defaults["lr"], label="Learning rate", minimum=0, elem_id="train-lr")
                seed = gr.Number(0, label="Seed", precision=0, minimum=0)
            sample_every = gr.Number(FIRST_RUN_STEPS[kind0] // 10, label="Sample every N steps", precision=0, minimum=1,
                                     elem_id="train-sample-every")
            with gr.Row():
                start = gr.Button("Start", variant="primary", elem_id="train-start", interactive=cap.training)
                stop = gr.Button("Stop", variant="stop", elem_id="train-stop")
            with gr.Row():
                runs = gr.Dropdown(past_runs(), value=None, label="Run", elem_id="train-run", allow_custom_value=True,
                                   info="Pick a past run to see its curves, resume it or download its model.")
            with gr.Row():
                resume = gr.Button("Resume", elem_id="train-resume", interactive=cap.training)
                fetch = gr.Button("Download model (.zip)", elem_id="train-download")
            model_zip = gr.File(label="Model (.zip): the best checkpoint, with its card", height=90, elem_id="train-zip")
        with gr.Column(scale=4):
            status = gr.HTML("<div class='aigc-train-status'>No run yet: choose a kind and press Start.</div>",
                             elem_id="train-status")
            loss_plot = gr.LinePlot(x="step", y="value", color="series", title="Loss (raw and smoothed; validation)",
                                    height=260, elem_id="train-loss", x_title="step", y_title="loss")
            with gr.Row():
                d_plot = gr.LinePlot(x="step", y="value", color="series", title="Discriminator's outputs", height=220,
                                     visible=False, elem_id="train-d", x_title="step", y_title="probability real")
                lr_plot = gr.LinePlot(x="step", y="value", color="series", title="Learning rate", height=220,
                                      elem_id="train-lr-plot", x_title="step", y_title="lr")
            sample_image = gr.Image(label="Samples", type="filepath", height=360, elem_id="train-sample", buttons=["download"])
            sample_text = gr.Textbox(label="Sample", lines=8, visible=False, elem_id="train-sample-text")
            log = gr.Textbox(label="Log", lines=6, max_lines=12, autoscroll=True, elem_id="train-log")

    streamed = [runs, status, loss_plot, d_plot, lr_plot, sample_image, sample_text, log]
    watching = dict(concurrency_id="train-watch", concurrency_limit=16, show_progress="hidden")
    kind.change(_defaults, kind, [dataset, upload, steps, batch, lr, sample_every], queue=False, api_visibility="private")
    dataset.change(lambda d: gr.update(visible=d == UPLOAD), dataset, upload, queue=False, api_visibility="private")
    start.click(start_training, [kind, dataset, upload, name, steps, batch, lr, seed, sample_every], streamed,
                api_name="start_training", **watching)
    resume.click(resume_training, [runs, steps], streamed, api_name="resume_training", **watching)
    stop.click(stop_training, runs, None, api_name="stop_training", queue=False)
    runs.input(watch, runs, streamed, api_name="watch_training", **watching)
    fetch.click(download, runs, model_zip, api_name="download_run")
    if demo is not None:
        demo.load(attach, None, streamed, api_visibility="private", **watching)
