"""Train tab: train any built-in model kind while its curves, samples and progress stream in.

Runs train in a background thread of the app (`aigc.training.jobs.JOBS`); this tab only
starts, stops and resumes them and watches their folder, so a reloaded page, or a second
visitor, sees the same run.
"""

from __future__ import annotations

import html
import itertools
import threading
import time
from pathlib import Path

import gradio as gr
import pandas as pd

from .. import limits
from ..data.uploads import load_zip
from ..errors import AigcError
from ..pipelines import validate
from ..training import KINDS, run_folder
from ..training.jobs import JOBS, RunView, export_zip, past_runs
from ..serving import Engine
from .endpoint import endpoint
from .i18n import SAID, error, i18n, language, refuse_upload, say, translate

# Every kind that trains (one configuration each, aigc.training.configs), named in the page's language
# by its words "train.kind.<kind>" in aigc/ui/i18n.py.
KIND_LABELS = {kind: i18n(f"train.kind.{kind}") for kind in KINDS}
UPLOAD = "upload"
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
LOSS_TITLE, LOSS_TITLE_VAL = i18n("train.loss_plot"), i18n("train.loss_plot_val")  # the second once a validation curve exists
LOSS_WORDS = dict(title=LOSS_TITLE, **BLANK)
D_WORDS = dict(title=i18n("train.d_plot"), **BLANK)
LR_WORDS = dict(title=i18n("train.lr_plot"), **BLANK)
MAX_POINTS = 400  # per curve; longer curves are thinned so each update stays small
SERIES_KEYS = {key for key in SAID if key.startswith("series.")}


def _datasets(kind: str) -> list[tuple[str, str]]:
    choices = [(d, d) for d in KINDS[kind].datasets]
    if KINDS[kind].uploads:
        choices.append((i18n("train.your_images"), UPLOAD))
    return choices


def _defaults(kind: str):
    """The settings boxes filled with this kind's defaults."""
    defaults = KINDS[kind]()
    steps = defaults.first_run_steps
    return (gr.update(choices=_datasets(kind), value=defaults.dataset), gr.update(visible=False), steps,
            defaults.batch_size, defaults.lr, max(10, steps // 10))


# Runs that show one idea each in a few minutes on a laptop's CPU: (kind, run name, steps, batch, lr, sample every).
EXAMPLES = [
    ["dcgan", "gan-digits-quick", 300, 64, 2e-4, 25],
    ["vae", "vae-digits", 1000, 64, 2e-3, 100],
    ["gpt", "gpt-shakespeare", 500, 32, 2e-3, 50],
    ["lstm", "lstm-shakespeare", 500, 32, 2e-3, 50],
    ["diffusion", "ddpm-digits", 1000, 64, 1e-3, 100],
    ["cgan", "cgan-digits", 1000, 64, 2e-4, 100],
]


def _example_data(kind: str, *settings):
    """An example's data: its kind's built-in set, in the box that lists that kind's sets."""
    return gr.update(choices=_datasets(kind), value=KINDS[kind]().dataset), gr.update(visible=False)


def _thin(frame: pd.DataFrame) -> pd.DataFrame:
    if frame.empty:
        return frame
    parts = []
    for _, part in frame.groupby("series", sort=False):
        stride = max(1, len(part) // MAX_POINTS)
        parts.append(part.iloc[::-1].iloc[::stride].iloc[::-1])  # thin from the end: keep the newest point
    return pd.concat(parts, ignore_index=True)


def _plots(view: RunView, lang: str = "en"):
    """(loss, discriminator, learning rate) plot updates, their legends in `lang`. Columns are typed
    even when empty: a plot first drawn with text columns would keep categorical axes."""
    rows = pd.DataFrame(view.curves(), columns=["step", "series", "value", "group", "kind"])
    rows = rows.astype({"step": "int64", "value": "float64"})
    rows["series"] = [_series_name(name, kind, lang) for name, kind in zip(rows["series"], rows["kind"])]
    loss = _thin(rows[rows["group"] == "loss"])
    disc = rows[rows["group"] == "discriminator"]
    lr = _thin(pd.DataFrame([{**row, "series": say(lang, "series.learning_rate")} for row in view.lr_curve()],
                            columns=["step", "series", "value"]).astype({"step": "int64", "value": "float64"}))
    if loss.empty:
        return gr.update(), gr.update(value=None), gr.update()
    title = LOSS_TITLE_VAL if (loss["kind"] == "validation").any() else LOSS_TITLE
    return (gr.update(value=loss[["step", "series", "value"]], color_map=_colors(loss), title=title,
                      colors_in_legend=_legend(loss)),
            gr.update(value=None) if disc.empty else
            gr.update(value=_thin(disc)[["step", "series", "value"]], color_map=_colors(disc), colors_in_legend=_legend(disc)),
            gr.update(value=lr))


def _legend(rows: pd.DataFrame) -> list[str]:
    return list(rows[rows["kind"] != "raw"]["series"].unique())


def _series_name(name: str, kind: str, lang: str) -> str:
    """A curve's name: the quantity in words for its smoothed line (the one the legend lists, so
    that the legend fits), '(raw)' after it for the noisy line under it."""
    base = name.removesuffix(" (smoothed)")
    key = f"series.{base}"
    shown = say(lang, key) if key in SERIES_KEYS else base
    return say(lang, "series.raw", name=shown) if kind == "raw" else shown


def _colors(rows: pd.DataFrame) -> dict[str, str]:
    """A light raw line and a dark smoothed line of one hue per quantity; validation curves dark."""
    colors, hues = {}, iter(SHADES * 4)
    raw = rows[rows["kind"] == "raw"]["series"].unique()
    smooth = rows[rows["kind"] == "smoothed"]["series"].unique()
    for name, smoothed_name in zip(raw, smooth):  # curves() gives each raw series before its smoothed one
        colors[name], colors[smoothed_name] = next(hues)
    for extra, (_, dark) in zip(rows[rows["kind"] == "validation"]["series"].unique(), SHADES[::-1] * 4):
        colors[extra] = dark
    return colors


def _status(view: RunView, live: bool, lang: str = "en", busy: str | None = None) -> str:
    """The status line: a progress bar, the run's state, speed, ETA and best step; `busy` names the
    run that keeps Start from being used now."""
    total, step = view.total, view.step
    note = _busy_note(busy, lang)
    if not view.start:
        return "<div class='aigc-train-status'>" + str(i18n("train.waiting")) + "</div>" + note
    fraction = step / total if total else 0.0
    last = view.steps[-1].data if view.steps else {}
    parts = [say(lang, "status.step", step=step, total=total)]
    if live and last.get("steps_per_s"):
        parts.append(say(lang, "status.speed", steps_per_s=last["steps_per_s"], samples_per_s=last["samples_per_s"]))
        if last.get("eta_s") is not None:
            parts.append(say(lang, "status.eta", eta=_duration(last["eta_s"], lang)))
    best = view.best
    if best is not None:
        metric = best.data.get("selected_by")  # the figure that chose it, named for the reader
        if isinstance(best.data.get(metric), (int, float)):
            name = say(lang, f"metric.{metric}") if f"metric.{metric}" in SAID else metric
            parts.append(say(lang, "status.best_metric", step=best.step, metric=name, value=best.data[metric]))
        else:
            parts.append(say(lang, "status.best" if _figures(best) else "status.kept", step=best.step))
    reason = "training" if live else (view.end.data.get("reason", view.end.type) if view.end else "idle")
    state = say(lang, f"state.{reason}") if f"state.{reason}" in SAID else reason
    message = _end_line(view.end, lang) if view.end and not live else ""
    return (f"<div class='aigc-train-status'><progress max='1' value='{fraction:.4f}' style='width:100%'></progress>"
            f"<div><b>{html.escape(view.folder.name)}</b> · {state} · {' · '.join(parts)}</div>"
            + (f"<div>{html.escape(message)}</div>" if message else "") + "</div>" + note)  # messages may quote files


def _busy_note(busy: str | None, lang: str) -> str:
    """Why Start cannot be used now, under the status line."""
    return f"<div class='aigc-train-busy'>{html.escape(say(lang, 'state.busy', run=busy))}</div>" if busy else ""


def _duration(seconds: float, lang: str = "en") -> str:
    seconds = int(seconds)
    if seconds < 60:
        return say(lang, "duration.s", s=seconds)
    if seconds < 3600:
        return say(lang, "duration.min", m=seconds // 60, s=seconds % 60)
    return say(lang, "duration.h", h=seconds // 3600, m=seconds % 3600 // 60)


def _end_line(event, lang: str) -> str:
    reason, data = event.data.get("reason", event.type), event.data
    if reason == "finished" and "best_step" in data:
        key = "end.finished" if "best" in data else "end.finished_newest"  # no best without a judge of the data
        return say(lang, key, step=event.step, best_step=data["best_step"])
    if reason in ("stopped", "nan"):
        return say(lang, f"end.{reason}", step=event.step, message=data.get("message", ""))
    return say(lang, "end.other", step=event.step, message=translate(data.get("message", reason), lang))


def _log_line(event, lang: str) -> str:
    """One line of the run's log, in `lang`."""
    data = event.data
    if event.type == "start":
        line = say(lang, "log.resumed" if data.get("resumed") else "log.started", step=event.step,
                   hardware=data.get("hardware", "?"))
        return line + "".join(f"\n{say(lang, 'log.note', note=translate(note, lang))}" for note in data.get("notes", ()))
    if event.type == "eval":
        figures = ", ".join(f"{k} {v:.4g}" for k, v in _figures(event).items())
        best = "" if not data.get("best") else say(lang, "log.best" if figures else "log.kept")
        return say(lang, "log.eval", step=event.step, figures=figures or "—") + best
    if event.type == "checkpoint":
        return say(lang, "log.checkpoint", step=event.step)
    return _end_line(event, lang)


def _figures(event) -> dict[str, float]:
    """An evaluation's measured figures (none where nothing judges the data)."""
    return {k: v for k, v in event.data.items() if isinstance(v, float) and k != "best"}


# The newest watch of each browser session: a Start, Resume or pick of a run replaces the
# stream that filled the tab before, instead of two streams taking turns at the same outputs.
_watching: dict[str, int] = {}
_watch_ids = itertools.count(1)
_watch_lock = threading.Lock()


def _newest_watch(session: str | None) -> int:
    """A ticket for a new watch of `session`'s page (API calls, with no session, replace nothing)."""
    with _watch_lock:
        _watching[session] = ticket = next(_watch_ids)
        return ticket


def _buttons(view: RunView | None, live: bool, session: str | None):
    """(Start, Stop, Resume) as they can be used now: Start when the app may train one more run;
    Stop while the shown run trains (in public mode, for the browser that started it); Resume when
    the shown run has a checkpoint and is not training."""
    cap, busy = limits.current(), JOBS.full()
    can_stop = live and not (cap.stop_own_runs_only and JOBS.owner(view.folder.name) != session)
    resumable = view is not None and not live and (view.folder / "checkpoint").is_dir()
    return (gr.update(interactive=cap.training and busy is None), gr.update(interactive=bool(can_stop)),
            gr.update(interactive=cap.training and busy is None and resumable))


def watch(name: str | None, request: gr.Request = None):
    """Endpoint `watch_training`: the run's curves, sample, status and log, again every second
    while it trains; once when it does not."""
    lang, session = language(request), getattr(request, "session_hash", None)
    ticket = _newest_watch(session)
    try:
        yield from _watch(name, lang, session, ticket, request)
    finally:
        with _watch_lock:
            if _watching.get(session) == ticket:
                del _watching[session]


def _watch(name: str | None, lang: str, session: str | None, ticket: int, request):
    if not name:
        yield _empty(lang, session)
        return
    folder = run_folder(name)
    if not folder.is_dir():
        raise error(f"There is no run named '{name[:64]}'.", request)
    view, shown_steps, shown_sample, shown_log, shown_buttons = RunView(folder), -1, None, -1, None
    # the run list is read from disk once a watch, not at every poll
    runs = gr.update(choices=past_runs() or [name], value=name)
    while True:
        if session is not None and _watching.get(session) != ticket:
            return  # a newer watch fills this page now; one more update from here would overwrite it
        live = JOBS.is_running(name)
        view.refresh()
        sample = view.sample
        new_sample = sample is not None and sample is not shown_sample
        plots = _plots(view, lang) if len(view.steps) != shown_steps else (gr.update(),) * 3
        buttons = _buttons(view, live, session)
        yield (
            runs, _status(view, live, lang, JOBS.full()), *plots,
            *(_sample_outputs(sample) if new_sample else (gr.update(), gr.update(), gr.update())),
            "\n".join(_log_line(e, lang) for e in view.log[-200:]) if len(view.log) != shown_log else gr.update(),
            *(buttons if buttons != shown_buttons else (gr.update(),) * 3),
        )
        shown_steps, shown_log, shown_buttons = len(view.steps), len(view.log), buttons
        shown_sample, runs = sample, gr.update()
        if not live:
            return
        time.sleep(POLL_SECONDS)


def _sample_outputs(sample):
    """(picture, text, sound): the newest sample in the ones that fit it, the others hidden. A sound
    model's sample is a clip to play beside the picture of its spectrograms."""
    path, text, sound = sample.data.get("image"), sample.data.get("text"), sample.data.get("audio")
    step = f" {sample.step:,}"  # after the label's key: one key per string
    heard = (gr.update(value=sound, visible=True, label=str(i18n("train.sample_at")) + step)
             if sound and Path(sound).is_file() else gr.update(visible=False))
    if text:
        return gr.update(visible=False), gr.update(value=text, visible=True, label=str(i18n("train.sample_at")) + step), heard
    if path and Path(path).is_file():
        return (gr.update(value=path, visible=True, label=str(i18n("train.samples_at")) + step), gr.update(visible=False),
                heard)
    return gr.update(), gr.update(value=sample.data.get("error", ""), visible=bool(sample.data.get("error"))), heard


NO_RUN = "<div class='aigc-train-status'>" + str(i18n("train.no_run")) + "</div>"


def _empty(lang: str = "en", session: str | None = None):
    return (gr.update(choices=past_runs()), NO_RUN + _busy_note(JOBS.full(), lang), gr.update(value=None),
            gr.update(value=None), gr.update(value=None), gr.update(), gr.update(), gr.update(value=None, visible=False),
            "", *_buttons(None, False, session))


def start_training(kind: str, dataset: str, upload, name: str, steps: float, batch_size: float, lr: float, seed: float,
                   sample_every: float, request: gr.Request = None):
    """Endpoint `start_training`: starts a run and streams it as `watch_training` does."""
    _check_allowed(steps, batch_size)
    if kind not in KINDS:
        raise AigcError(f"Unknown model kind '{kind}'; kinds that train: {', '.join(KINDS)}.")
    steps, batch_size = validate.count("Steps", steps), validate.count("Batch size", batch_size)
    sample_every, seed = validate.count("Sample every", sample_every), validate.count("Seed", seed, low=0)
    lr = validate.above_zero("learning rate", lr, 1.0)
    upload_path = None
    if dataset == UPLOAD:
        upload_path = upload.get("path") if isinstance(upload, dict) else upload
        if not upload_path:
            raise AigcError("Upload a .zip of images to train on, or choose a built-in dataset.")
    run = JOBS.start(kind, dataset, name=(name or "").strip() or None, upload=upload_path, owner=_session(request), steps=steps,
                     batch_size=batch_size, lr=lr, seed=seed, sample_every=sample_every)
    yield from watch(run.out.name, request)


def resume_training(name: str, steps: float, request: gr.Request = None):
    """Endpoint `resume_training`: continues a stopped run (or a finished one, up to more steps)."""
    _check_allowed(steps, None)
    if not name:
        raise AigcError("Choose a run to resume.")
    view = RunView(run_folder(name)).refresh()
    more = int(steps) if steps and steps == steps and steps > view.step else None
    if more is None and view.end is not None and view.end.data.get("reason") == "finished":
        raise AigcError(f"Run '{name}' finished at step {view.step:,}; raise Steps above that to train it further.")
    run = JOBS.resume(name, more, owner=_session(request))
    yield from watch(run.out.name, request)


def _check_allowed(steps, batch_size) -> None:
    cap = limits.current()
    if not cap.training:
        raise AigcError("Training is turned off on this server; run the app on your own machine to train.")
    if isinstance(steps, (int, float)) and steps > cap.max_train_steps:
        raise AigcError(f"This server trains at most {cap.max_train_steps:,} steps a run.")
    if isinstance(batch_size, (int, float)) and batch_size > cap.max_train_batch:
        raise AigcError(f"This server trains with batches of at most {cap.max_train_batch:,}.")


def _session(request: gr.Request | None) -> str | None:
    return getattr(request, "session_hash", None)


def stop_training(name: str | None, request: gr.Request = None) -> None:
    """Endpoint `stop_training`: asks the run to save a checkpoint and end; says so in the page."""
    said = JOBS.stop(name or None, by=_session(request), own_only=limits.current().stop_own_runs_only)
    (gr.Info if said.startswith("Stopping") else gr.Warning)(translate(said, language(request)))


def check_upload(path: str | None, request: gr.Request = None):
    """As soon as a .zip arrives, what it holds, or why it cannot be trained on (then it is removed)."""
    if not path:
        return gr.update()
    lang, name = language(request), Path(path).name  # Gradio keeps the user's file name in its cache path
    try:
        found = load_zip(path)
    except AigcError as exc:
        refuse_upload(name, exc, request)
        return None
    size = dict(n=len(found), w=found.images.shape[-1], h=found.images.shape[-2], name=name)
    if found.class_names:
        gr.Info(say(lang, "upload.ok_labels", k=len(found.class_names), labels=", ".join(found.class_names[:8]), **size))
    else:
        gr.Info(say(lang, "upload.ok", **size))
    return gr.update()


def download(name: str | None, request: gr.Request = None):
    if not name:
        raise AigcError("Choose a run first.")
    return str(export_zip(name))


def attach(request: gr.Request = None):
    """On page load: show the run that is training now, or the newest one of this app."""
    yield from watch(JOBS.newest(), request)


def build(engine: Engine, demo: gr.Blocks | None = None) -> None:
    """The tab's layout and events; `demo`, when given, shows the newest run when a page loads. Runs train
    in this process, not through the engine: the engine only lends its limits."""
    kind0 = "dcgan"
    defaults = KINDS[kind0]()
    cap = limits.current()
    if not cap.training:
        gr.Markdown(i18n("train.off"))
    with gr.Row(equal_height=False):
        with gr.Column(scale=2, min_width=300):
            kind = gr.Dropdown([(label, k) for k, label in KIND_LABELS.items()], value=kind0, label=i18n("train.kind"),
                               elem_id="train-kind", allow_custom_value=True)
            dataset = gr.Dropdown(_datasets(kind0), value=defaults.dataset, label=i18n("train.data"), elem_id="train-dataset",
                              allow_custom_value=True)  # the API may name any kind's data; start_training checks it
            upload = gr.File(label=i18n("train.upload"), file_types=[".zip"], visible=False,
                             elem_id="train-upload")
            name = gr.Textbox(label=i18n("train.run_name"), placeholder=i18n("train.run_name_placeholder"), max_length=64, elem_id="train-name")
            with gr.Row():
                steps = gr.Number(defaults.first_run_steps, label=i18n("train.steps"), precision=0, minimum=1, maximum=cap.max_train_steps,
                                  elem_id="train-steps")
                batch = gr.Number(defaults.batch_size, label=i18n("train.batch"), precision=0, minimum=1, elem_id="train-batch")
            with gr.Row():
                lr = gr.Number(defaults.lr, label=i18n("train.lr"), minimum=0, elem_id="train-lr")
                seed = gr.Number(0, label=i18n("common.seed"), precision=0, minimum=0)
            sample_every = gr.Number(defaults.first_run_steps // 10, label=i18n("train.sample_every"), precision=0, minimum=1,
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
            sample_audio = gr.Audio(label=i18n("train.sample_text"), type="filepath", interactive=False, visible=False,
                                    elem_id="train-sample-audio")
            log = gr.Textbox(label=i18n("train.log"), lines=6, max_lines=12, autoscroll=True, elem_id="train-log")

    gr.Examples(EXAMPLES, [kind, name, steps, batch, lr, sample_every], [dataset, upload], fn=_example_data,
                run_on_click=True, label=i18n("train.examples"), example_labels=[row[1] for row in EXAMPLES])
    streamed = [runs, status, loss_plot, d_plot, lr_plot, sample_image, sample_text, sample_audio, log, start, stop, resume]
    # trigger_mode="multiple": a click while the tab still streams an earlier run is answered (with a
    # sentence when it cannot start), not dropped; the newer watch then replaces the older one.
    watching = dict(concurrency_id="train-watch", concurrency_limit=16, show_progress="hidden", trigger_mode="multiple")
    # .input, not .change: the user's choice of kind fills its defaults, an example's keeps the example's settings
    kind.input(_defaults, kind, [dataset, upload, steps, batch, lr, sample_every], queue=False, api_visibility="private")
    dataset.change(lambda d: gr.update(visible=d == UPLOAD), dataset, upload, queue=False, api_visibility="private")
    upload.upload(endpoint(engine, check_upload), upload, upload, api_visibility="private", show_progress="minimal")
    start.click(endpoint(engine, start_training), [kind, dataset, upload, name, steps, batch, lr, seed, sample_every], streamed,
                api_name="start_training", **watching)
    resume.click(endpoint(engine, resume_training), [runs, steps], streamed, api_name="resume_training", **watching)
    stop.click(endpoint(engine, stop_training), runs, None, api_name="stop_training", concurrency_limit=None, show_progress="hidden")
    runs.input(endpoint(engine, watch), runs, streamed, api_name="watch_training", **watching)
    fetch.click(endpoint(engine, download), runs, model_zip, api_name="download_run")
    if demo is not None:
        demo.load(endpoint(engine, attach), None, streamed, api_visibility="private", **watching)
