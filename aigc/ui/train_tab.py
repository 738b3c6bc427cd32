"""Train tab: train any built-in model kind while its curves, samples and progress stream in.

Runs train in a background thread of the app (`aigc.training.jobs.JOBS`); this tab only
starts, stops and resumes them and watches their folder, so a reloaded page, or a second
visitor, sees the same run.
"""

from __future__ import annotations

import html
import time
from pathlib import Path

import gradio as gr
import pandas as pd

from .. import limits
from ..errors import AigcError
from ..training import KINDS, TRAIN_ON_UPLOADS, run_folder
from ..training.jobs import JOBS, RunView, export_zip, past_runs
from .i18n import i18n

KIND_LABELS = {
    "gpt": i18n("train.kind.gpt"),
    "dcgan": i18n("train.kind.dcgan"),
    "vae": i18n("train.kind.vae"),
    "diffusion": i18n("train.kind.diffusion"),
    "cgan": i18n("train.kind.cgan"),
    "guided-diffusion": i18n("train.kind.guided-diffusion"),
    "text2img": i18n("train.kind.text2img"),
    "text2video": i18n("train.kind.text2video"),
}
# Steps a first run takes in the tab: enough to see it learn in a few minutes on a CPU
# (the shipped models trained longer; their cards say how long).
FIRST_RUN_STEPS = {"gpt": 1000, "dcgan": 1000, "vae": 2000, "diffusion": 1000, "cgan": 1000,
                   "guided-diffusion": 1000, "text2img": 1000, "text2video": 500}
UPLOAD = "upload"
GAN_OUTPUTS = {"d_real": "D(x)", "d_fake": "D(G(z))", "d_wrong": "D(x, wrong condition)",
               "d_frame_real": "D(frame of x)", "d_frame_fake": "D(frame of G(z))"}
# (raw, smoothed) shades of one hue per curve: the smoothed line reads over its noisy raw one
SHADES = [("#a5b4fc", "#3730a3"), ("#fca5a5", "#b91c1c"), ("#86efac", "#15803d"), ("#fcd34d", "#b45309"),
          ("#d8b4fe", "#7e22ce"), ("#67e8f9", "#0e7490"), ("#f9a8d4", "#be185d"), ("#cbd5e1", "#334155")]
POLL_SECONDS = 1.0
# The plots' words are in their titles. Gradio translates a title whenever it changes, but a plot's
# axis and legend titles only when the plot is drawn, not after an update that reaches a plot not yet
# drawn (a run streamed to a page before the Train tab is opened); so those stay blank (" "; an empty
# one would show the column's name). The discriminator's plot, which only GANs have, is hidden by the
# page's CSS while it has no value, rather than by `visible`, which would draw it again.
BLANK = dict(x_title=" ", y_title=" ", color_title=" ")
LOSS_WORDS = dict(title=i18n("train.loss_plot"), **BLANK)
D_WORDS = dict(title=i18n("train.d_plot"), **BLANK)
LR_WORDS = dict(title=i18n("train.lr_plot"), **BLANK)
MAX_POINTS = 400  # per curve; longer curves are thinned so each update stays small


def _datasets(kind: str) -> list[tuple[str, str]]:
    choices = [(d, d) for d in KINDS[kind][3]]
    if kind in TRAIN_ON_UPLOADS:
        choices.append((i18n("train.your_images"), UPLOAD))
    return choices


def _defaults(kind: str):
    """The settings boxes filled with this kind's defaults."""
    defaults = KINDS[kind][1]
    steps = FIRST_RUN_STEPS[kind]
    return (gr.update(choices=_datasets(kind), value=KINDS[kind][3][0]), gr.update(visible=False), steps,
            defaults["batch_size"], defaults["lr"], max(10, steps // 10))


# Runs that show one idea each in a few minutes on a laptop's CPU: (kind, run name, steps, batch, lr, sample every).
EXAMPLES = [
    ["dcgan", "gan-digits-quick", 300, 64, 2e-4, 25],
    ["vae", "vae-digits", 1000, 64, 2e-3, 100],
    ["gpt", "gpt-shakespeare", 500, 32, 2e-3, 50],
    ["diffusion", "ddpm-digits", 1000, 64, 1e-3, 100],
    ["cgan", "cgan-digits", 1000, 64, 2e-4, 100],
]


def _example_data(kind: str, *settings):
    """An example's data: its kind's built-in set, in the box that lists that kind's sets."""
    return gr.update(choices=_datasets(kind), value=KINDS[kind][3][0]), gr.update(visible=False)


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
        return gr.update(), gr.update(value=None), gr.update()
    return (gr.update(value=loss[["step", "series", "value"]], color_map=_colors(loss)),
            gr.update(value=None) if disc.empty else
            gr.update(value=_thin(disc)[["step", "series", "value"]], color_map=_colors(disc)),
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
        return "<div class='aigc-train-status'>" + str(i18n("train.waiting")) + "</div>"
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
            + (f"<div>{html.escape(message)}</div>" if message else "") + "</div>")  # messages may quote files


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
    # the run list is read from disk once a watch, not at every poll
    runs = gr.update(choices=past_runs() or [name], value=name)
    while True:
        live = JOBS.is_running(name)
        view.refresh()
        sample = view.sample
        new_sample = sample is not None and sample is not shown_sample
        plots = _plots(view) if len(view.steps) != shown_steps else (gr.update(),) * 3
        yield (
            runs, _status(view, live), *plots,
            *(_sample_outputs(sample) if new_sample else (gr.update(), gr.update())),
            "\n".join(view.log[-200:]) if len(view.log) != shown_log else gr.update(),
        )
        shown_steps, shown_log = len(view.steps), len(view.log)
        shown_sample, runs = sample, gr.update()
        if not live:
            return
        time.sleep(POLL_SECONDS)


def _sample_outputs(sample):
    """(picture, text): the newest sample in the one that fits it, the other hidden."""
    path, text = sample.data.get("image"), sample.data.get("text")
    step = f" {sample.step:,}"  # after the label's key: one key per string
    if text:
        return gr.update(visible=False), gr.update(value=text, visible=True, label=str(i18n("train.sample_at")) + step)
    if path and Path(path).is_file():
        return gr.update(value=path, visible=True, label=str(i18n("train.samples_at")) + step), gr.update(visible=False)
    return gr.update(), gr.update(value=sample.data.get("error", ""), visible=bool(sample.data.get("error")))


NO_RUN = "<div class='aigc-train-status'>" + str(i18n("train.no_run")) + "</div>"


def _empty():
    return (gr.update(choices=past_runs()), NO_RUN,
            gr.update(value=None), gr.update(value=None), gr.update(value=None), gr.update(), gr.update(), "")


def start_training(kind: str, dataset: str, upload, name: str, steps: float, batch_size: float, lr: float, seed: float,
                   sample_every: float, request: gr.Request = None):
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
        run = JOBS.start(kind, dataset, name=(name or "").strip() or None, upload=upload_path, owner=_session(request), steps=int(steps),
                         batch_size=int(batch_size), lr=float(lr), seed=int(seed), sample_every=int(sample_every))
    except AigcError as exc:
        raise gr.Error(str(exc), print_exception=False) from None
    yield from watch(run.out.name)


def resume_training(name: str, steps: float, request: gr.Request = None):
    """Endpoint `resume_training`: continues a stopped run (or a finished one, up to more steps)."""
    try:
        _check_allowed(steps, None)
        if not name:
            raise AigcError("Choose a run to resume.")
        view = RunView(run_folder(name)).refresh()
        more = int(steps) if steps and steps == steps and steps > view.step else None
        if more is None and view.end is not None and view.end.data.get("reason") == "finished":
            raise AigcError(f"Run '{name}' finished at step {view.step:,}; raise Steps above that to train it further.")
        run = JOBS.resume(name, more, owner=_session(request))
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


def _session(request: gr.Request | None) -> str | None:
    return getattr(request, "session_hash", None)


def stop_training(name: str | None, request: gr.Request = None):
    gr.Info(JOBS.stop(name or None, by=_session(request), own_only=limits.current.stop_own_runs_only))


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
        gr.Markdown(i18n("train.off"))
    with gr.Row(equal_height=False):
        with gr.Column(scale=2, min_width=300):
            kind = gr.Dropdown([(label, k) for k, label in KIND_LABELS.items()], value=kind0, label=i18n("train.kind"),
                               elem_id="train-kind", allow_custom_value=True)
            dataset = gr.Dropdown(_datasets(kind0), value=KINDS[kind0][3][0], label=i18n("train.data"), elem_id="train-dataset",
                              allow_custom_value=True)  # the API may name any kind's data; start_training checks it
            upload = gr.File(label=i18n("train.upload"), file_types=[".zip"], visible=False,
                             elem_id="train-upload")
            name = gr.Textbox(label=i18n("train.run_name"), placeholder=i18n("train.run_name_placeholder"), max_length=64, elem_id="train-name")
            with gr.Row():
                steps = gr.Number(FIRST_RUN_STEPS[kind0], label=i18n("train.steps"), precision=0, minimum=1, maximum=cap.max_train_steps,
                                  elem_id="train-steps")
                batch = gr.Number(defaults["batch_size"], label=i18n("train.batch"), precision=0, minimum=1, elem_id="train-batch")
            with gr.Row():
                lr = gr.Number(defaults["lr"], label=i18n("train.lr"), minimum=0, elem_id="train-lr")
                seed = gr.Number(0, label=i18n("common.seed"), precision=0, minimum=0)
            sample_every = gr.Number(FIRST_RUN_STEPS[kind0] // 10, label=i18n("train.sample_every"), precision=0, minimum=1,
                                     elem_id="train-sample-every")
            with gr.Row():
                start = gr.Button(i18n("train.start"), variant="primary", elem_id="train-start", interactive=cap.training)
                stop = gr.Button(i18n("common.stop"), variant="stop", elem_id="train-stop")
            with gr.Row():
                runs = gr.Dropdown(past_runs(), value=None, label=i18n("train.run"), elem_id="train-run", allow_custom_value=True,
                                   info=i18n("train.run_info"))
            with gr.Row():
                resume = gr.Button(i18n("train.resume"), elem_id="train-resume", interactive=cap.training)
                fetch = gr.Button(i18n("train.download"), elem_id="train-download")
            model_zip = gr.File(label=i18n("train.model_zip"), height=90, elem_id="train-zip")
        with gr.Column(scale=4):
            status = gr.HTML(NO_RUN, elem_id="train-status")
            loss_plot = gr.LinePlot(x="step", y="value", color="series", height=260, elem_id="train-loss", **LOSS_WORDS)
            with gr.Row():
                d_plot = gr.LinePlot(x="step", y="value", color="series", height=220, elem_id="train-d",
                                     **D_WORDS)  # hidden while empty (CSS in aigc.ui)
                lr_plot = gr.LinePlot(x="step", y="value", color="series", height=220, elem_id="train-lr-plot", **LR_WORDS)
            sample_image = gr.Image(label=i18n("common.samples"), type="filepath", height=360, elem_id="train-sample", buttons=["download"])
            sample_text = gr.Textbox(label=i18n("train.sample_text"), lines=8, visible=False, elem_id="train-sample-text")
            log = gr.Textbox(label=i18n("train.log"), lines=6, max_lines=12, autoscroll=True, elem_id="train-log")

    gr.Examples(EXAMPLES, [kind, name, steps, batch, lr, sample_every], [dataset, upload], fn=_example_data,
                run_on_click=True, label=i18n("train.examples"), example_labels=[row[1] for row in EXAMPLES])
    streamed = [runs, status, loss_plot, d_plot, lr_plot, sample_image, sample_text, log]
    watching = dict(concurrency_id="train-watch", concurrency_limit=16, show_progress="hidden")
    # .input, not .change: the user's choice of kind fills its defaults, an example's keeps the example's settings
    kind.input(_defaults, kind, [dataset, upload, steps, batch, lr, sample_every], queue=False, api_visibility="private")
    dataset.change(lambda d: gr.update(visible=d == UPLOAD), dataset, upload, queue=False, api_visibility="private")
    start.click(start_training, [kind, dataset, upload, name, steps, batch, lr, seed, sample_every], streamed,
                api_name="start_training", **watching)
    resume.click(resume_training, [runs, steps], streamed, api_name="resume_training", **watching)
    stop.click(stop_training, runs, None, api_name="stop_training", queue=False)
    runs.input(watch, runs, streamed, api_name="watch_training", **watching)
    fetch.click(download, runs, model_zip, api_name="download_run")
    if demo is not None:
        demo.load(attach, None, streamed, api_visibility="private", **watching)
