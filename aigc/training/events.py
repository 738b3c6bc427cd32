"""What a training run reports, and the listeners that receive it."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

# start | step | eval | sample | checkpoint | end | error
Listener = Callable[["Event"], None]


@dataclass
class Event:
    type: str
    step: int
    data: dict[str, Any] = field(default_factory=dict)
    time: float = field(default_factory=time.time)

    def to_json(self) -> str:
        # Samples (images, long texts) stay in the run folder, not in the metrics file; lists of
        # sentences (a start's notes) go in.
        data = {k: v for k, v in self.data.items() if isinstance(v, (int, float, str, bool, type(None)))
                or isinstance(v, list) and all(isinstance(x, str) for x in v)}
        return json.dumps({**asdict(self), "data": data})

    @classmethod
    def from_json(cls, line: str) -> "Event":
        return cls(**json.loads(line))


class MetricsFile:
    """Appends every event to `metrics.jsonl`, one JSON object a line, flushed at once."""

    def __init__(self, path: Path):
        self.path = path
        self._file = open(path, "a", encoding="utf-8")

    def __call__(self, event: Event) -> None:
        self._file.write(event.to_json() + "\n")
        self._file.flush()
        if event.type in ("end", "error"):
            self._file.close()


def read_metrics(path: Path) -> list[Event]:
    if not path.exists():
        return []
    return parse_events(path.read_text(encoding="utf-8", errors="replace"))


def parse_events(text: str) -> list[Event]:
    """The events of metrics lines; a line that is no event (cut short when a process died
    while writing it) is skipped."""
    events = []
    for line in text.splitlines():
        try:
            events.append(Event.from_json(line))
        except (ValueError, TypeError):
            continue
    return events


def truncate_metrics(path: Path, last_step: int) -> None:
    """Forget what was logged after `last_step`, so a resumed run draws one continuous curve."""
    kept = [e for e in read_metrics(path) if e.step <= last_step and e.type not in ("end", "error")]
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("".join(e.to_json() + "\n" for e in kept), encoding="utf-8")
    tmp.replace(path)  # a new file, so a reader that follows the old one by offset notices


class ProgressBar:
    """A tqdm bar over steps, with the latest losses and throughput in its postfix."""

    def __init__(self, total: int, initial: int = 0):
        from tqdm.auto import tqdm  # only a command-line run draws a bar

        self.bar = tqdm(total=total, initial=initial, unit="step", dynamic_ncols=True)

    def __call__(self, event: Event) -> None:
        if event.type == "start":
            for note in event.data.get("notes", ()):
                self.bar.write(f"Note: {note}")
        elif event.type == "step":
            self.bar.update(event.step - self.bar.n)
            shown = {k: v for k, v in event.data.items() if "loss" in k or k == "samples_per_s"}
            self.bar.set_postfix({k: f"{v:.3g}" for k, v in shown.items()}, refresh=False)
        elif event.type == "eval":
            self.bar.write(f"step {event.step}: " + ", ".join(f"{k} {v:.4f}" for k, v in event.data.items() if isinstance(v, float)))
        elif event.type == "sample" and "text" in event.data:
            self.bar.write(f"--- sample at step {event.step} ---\n{event.data['text']}\n---")
        elif event.type in ("end", "error"):
            self.bar.close()
            if event.data.get("message"):
                print(event.data["message"])
