"""The runs an app process trains, and what a watcher sees of any run folder.

`JOBS` starts runs for the app (one at a time unless AIGC_MAX_RUNS says more), refuses a
second Start with a sentence, and remembers the newest run so that a reloaded page finds
it again. `RunView` reads a run folder's `metrics.jsonl` as it grows: the curves, the
newest sample, progress and a log, the same whether the run is live, stopped or finished.
"""

from __future__ import annotations

import json
import math
import shutil
import threading
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import AigcError
from ..paths import CHECKPOINTS, OUTPUTS, RUNS
from .configs import max_runs_setting
from .events import Event, parse_events

# Step-event fields that are bookkeeping, not curves.
NOT_CURVES = {"lr", "steps_per_s", "samples_per_s", "eta_s"}
LOGGED = ("start", "eval", "checkpoint", "end", "error")


class Jobs:
    def __init__(self, max_running: int | None = None):
        self._max_running = max_running
        self._runs: dict[str, Any] = {}  # name -> Run, in start order
        self._owners: dict[str, str | None] = {}  # name -> who started or resumed it (a browser session)
        self._lock = threading.Lock()

    def start(self, kind: str, dataset: str, name: str | None = None, upload: str | Path | None = None,
              owner: str | None = None, **options: Any):
        """A new run named `name` (default: kind-dataset, numbered if taken). `upload` is a .zip
        of images for image kinds: it is checked, then copied into the run folder."""
        from . import make_config, run_folder, start

        make_config(kind, "upload.zip" if upload else dataset, **options)  # refuse bad settings before any folder exists
        with self._lock:
            self._check_capacity()
            folder = run_folder(name) if name else self._fresh_folder(f"{kind}-{Path(upload).stem if upload else dataset}")
            if _taken(folder):
                raise AigcError(f"A run named '{folder.name}' exists already: Resume it, or choose another name.")
            if upload:
                from ..data.uploads import load_zip

                # a bad archive gets its sentence now, under the user's own file name, not later from
                # the training thread under the copy's
                load_zip(upload)
                folder.mkdir(parents=True, exist_ok=True)
                dataset = str(folder / "dataset.zip")
                shutil.copyfile(upload, dataset)
            run = start(kind, dataset, out=folder, **options)
            self._runs[folder.name], self._owners[folder.name] = run, owner
            return run

    def resume(self, name: str, steps: int | None = None, owner: str | None = None):
        from . import resume, run_folder

        with self._lock:
            self._check_capacity()
            run = resume(run_folder(name), steps)
            self._runs.pop(run.out.name, None)
            self._runs[run.out.name], self._owners[run.out.name] = run, owner
            return run

    def stop(self, name: str | None = None, by: str | None = None, own_only: bool = False) -> str:
        """Stop run `name` (default: the one training). With `own_only`, only for `by`, its owner."""
        run = self._runs.get(name) if name else self.active()
        if run is None or not run.running:
            return "No run is training."
        if own_only and self._owners.get(run.out.name) != by:
            return f"'{run.out.name}' was started in another browser; only that browser can stop it."
        run.stop()
        return f"Stopping '{run.out.name}': it saves a checkpoint, then ends."

    def active(self):
        """The newest run still training, if any."""
        live = [r for r in self._runs.values() if r.running]
        return live[-1] if live else None

    def newest(self) -> str | None:
        """The name of the run to show a page that just opened: the live one, else the last started."""
        run = self.active() or (list(self._runs.values())[-1] if self._runs else None)
        return run.out.name if run else None

    def full(self) -> str | None:
        """The newest run training, when no other may start now (else None)."""
        live = [r.out.name for r in self._runs.values() if r.running]
        return live[-1] if len(live) >= self.max_running else None

    def owner(self, name: str) -> str | None:
        """Who started or last resumed run `name` (a browser session), if this app did."""
        return self._owners.get(name)

    def is_running(self, name: str) -> bool:
        run = self._runs.get(name)
        return bool(run and run.running)

    @property
    def max_running(self) -> int:
        return self._max_running or max_runs_setting() or 1

    def _check_capacity(self) -> None:
        busy = self.full()
        if busy is not None:
            raise AigcError(f"'{busy}' is training now; stop it or let it finish first "
                            f"(this app trains {self.max_running} run{'s' if self.max_running > 1 else ''} at a time).")

    @staticmethod
    def _fresh_folder(base: str) -> Path:
        from . import run_folder

        folder, n = run_folder(base), 1
        # a run named like a built-in model ("dcgan-digits") would be hidden behind it in every list
        while _taken(folder) or any(CHECKPOINTS.glob(f"*/{folder.name}/README.md")):
            n += 1
            folder = run_folder(f"{base}-{n}")
        return folder


JOBS = Jobs()


def _taken(folder: Path) -> bool:
    """A run folder that holds something already (an empty one may be used)."""
    return folder.exists() and any(folder.iterdir())


def past_runs() -> list[str]:
    """Run folders that can be shown or resumed, newest first."""
    if not RUNS.is_dir():
        return []
    folders = [f for f in RUNS.iterdir() if (f / "metrics.jsonl").is_file()]
    return [f.name for f in sorted(folders, key=lambda f: (f / "metrics.jsonl").stat().st_mtime, reverse=True)]


def export_zip(name: str) -> Path:
    """The run's best model (else its latest checkpoint's model) as a .zip to download, with the
    run's curves (`metrics.jsonl`) and settings (`training-config.json`) beside the weights."""
    from . import run_folder

    folder = run_folder(name)
    model = folder / "best" if (folder / "best").is_dir() else folder / "checkpoint" / "model"
    if not model.is_dir():
        raise AigcError(f"Run '{name}' has no saved model yet.")
    target = OUTPUTS / "runs" / f"{name}.zip"
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(model.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(model).as_posix())
        for path, arcname in ((folder / "metrics.jsonl", "metrics.jsonl"), (folder / "config.json", "training-config.json")):
            if path.is_file():
                archive.write(path, arcname)
    tmp.replace(target)
    return target


@dataclass
class RunView:
    """A run folder's metrics, read incrementally (only the new lines on each `refresh`)."""

    folder: Path
    config: dict[str, Any] = field(default_factory=dict)
    start: Event | None = None
    steps: list[Event] = field(default_factory=list)
    evals: list[Event] = field(default_factory=list)
    sample: Event | None = None
    end: Event | None = None
    log: list[Event] = field(default_factory=list)  # the events a log shows, in order (the app words them)
    _offset: int = 0
    _inode: int = 0

    def refresh(self) -> "RunView":
        path = self.folder / "metrics.jsonl"
        if not self.config and (self.folder / "config.json").is_file():
            self.config = json.loads((self.folder / "config.json").read_text())
        if not path.is_file():
            return self
        stat = path.stat()
        if stat.st_ino != self._inode or stat.st_size < self._offset:  # new, or rewritten by a resume
            config = self.config
            self.__init__(self.folder)
            self.config, self._inode = config, stat.st_ino
        with open(path, "rb") as f:
            f.seek(self._offset)
            chunk = f.read()
        complete = chunk[: chunk.rfind(b"\n") + 1]  # a line still being written waits for the next look
        self._offset += len(complete)
        for event in parse_events(complete.decode("utf-8", errors="replace")):
            self._take(event)
        return self

    def _take(self, event: Event) -> None:
        kind = event.type
        if kind == "start":
            self.start, self.end = event, None
        elif kind == "step":
            self.steps.append(event)
        elif kind == "eval":
            self.evals.append(event)
        elif kind == "sample":
            self.sample = event
        elif kind in ("end", "error"):
            self.end = event
        if kind in LOGGED:
            self.log.append(event)

    @property
    def step(self) -> int:
        events = [e for e in (self.end, self.steps[-1] if self.steps else None, self.start) if e is not None]
        return max((e.step for e in events), default=0)

    @property
    def total(self) -> int:
        return int(self.config.get("steps") or (self.start.data.get("total_steps", 0) if self.start else 0))

    @property
    def best(self) -> Event | None:
        marked = [e for e in self.evals if e.data.get("best")]
        return marked[-1] if marked else None

    def curves(self) -> list[dict[str, Any]]:
        """Rows (step, series, value, kind): every loss of the step events (raw and smoothed),
        the evaluation's losses, and D(x) / D(G(z)) for GANs, ready for a line plot."""
        rows = []
        names = [k for k in (self.steps[-1].data if self.steps else {}) if k not in NOT_CURVES]
        for name in names:
            points = [(e.step, e.data[name]) for e in self.steps if isinstance(e.data.get(name), (int, float))]
            for (step, value), smooth in zip(points, smoothed([v for _, v in points])):
                group = "discriminator" if name.startswith("d_") and "loss" not in name else "loss"
                rows.append({"step": step, "series": name, "value": value, "group": group, "kind": "raw"})
                rows.append({"step": step, "series": f"{name} (smoothed)", "value": smooth, "group": group, "kind": "smoothed"})
        for e in self.evals:
            for name, value in e.data.items():
                if name.startswith("val_") and isinstance(value, (int, float)) and math.isfinite(value):
                    rows.append({"step": e.step, "series": name, "value": value, "group": "loss", "kind": "validation"})
        return rows

    def lr_curve(self) -> list[dict[str, Any]]:
        return [{"step": e.step, "series": "learning rate", "value": e.data["lr"]} for e in self.steps if "lr" in e.data]


def smoothed(values: list[float], weight: float = 0.9) -> list[float]:
    """TensorBoard's smoothing: an exponential moving average, debiased so the start is not pulled to 0."""
    out, average = [], 0.0
    for i, value in enumerate(values, 1):
        average = weight * average + (1 - weight) * value
        out.append(average / (1 - weight**i))
    return out
