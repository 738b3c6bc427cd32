"""A text model written in a process of its own.

The web server's threads share one interpreter lock. A small model's `generate` loop is
mostly Python, so under load it waits for that lock while other requests hold it, and a
round that takes 0.1 s alone took 0.7 s. In its own process the same loop runs at its own
pace; the server only relays tokens. The process holds one model, batches its requests
(`text._Batcher`), and ends when asked to or when the server does (its pipe closes).
"""

from __future__ import annotations

import itertools
import math
import multiprocessing
import threading
import time

from .. import registry
from .text import _Batcher, _Job

SEND_SECONDS = 0.02


class _Relay:
    """In the worker: a request's token queue that sends what is put in it to the server, in
    batches at most SEND_SECONDS apart rather than token by token: the server wakes a thread
    for each message, and the page is redrawn only 25 times a second anyway."""

    def __init__(self, send, job_id: int, job: _Job, ended):
        self.send, self.job_id, self.job, self.ended = send, job_id, job, ended
        self.held: list[int] = []
        self.sent_at = -math.inf

    def put(self, ids: list[int] | None) -> None:
        if ids is not None:
            self.held += ids
            if time.monotonic() - self.sent_at < SEND_SECONDS:
                return
        if self.held:
            self.send(("tokens", self.job_id, self.held))
            self.held, self.sent_at = [], time.monotonic()
        if ids is None:
            error = self.job.error
            self.send(("end", self.job_id, self.job.finish_reason, None if error is None else str(error)))
            self.ended(self.job_id)


def _serve(model: str, conn) -> None:
    """The worker: load `model`, then write each request the server sends until asked to quit or the pipe closes."""
    import torch

    torch.set_num_threads(1)  # a small model's steps are too short to share among threads
    try:
        lm = registry.load(model, "text")
    except BaseException as exc:  # noqa: BLE001 - told to the server, which tells the user
        conn.send(("failed", str(exc)))
        return
    batcher, jobs, lock = _Batcher(lm), {}, threading.Lock()

    def send(message) -> None:
        with lock:
            conn.send(message)

    def ended(job_id: int) -> None:
        with lock:
            jobs.pop(job_id, None)

    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):  # the server ended
            break
        if message[0] == "start":
            _, job_id, context, remaining, settings = message
            job = _Job(lm, context, remaining, *settings)
            job.out = _Relay(send, job_id, job, ended)
            with lock:
                jobs[job_id] = job
            batcher.submit(job)
        elif message[0] == "quit":
            break
        elif message[0] == "stop":
            with lock:
                job = jobs.get(message[1])
            if job is not None:
                job.stop.set()
    with lock:
        for job in jobs.values():
            job.stop.set()


class RemoteBatcher:
    """In the server: the `_Batcher` interface, answered by a worker process."""

    def __init__(self, lm: registry.TextModel, spec: str):
        self.lm, self.dead, self.retired = lm, False, False
        context = multiprocessing.get_context("spawn")  # a fork of a threaded server is not safe
        self.conn, theirs = context.Pipe()
        self.process = context.Process(target=_serve, args=(spec, theirs), daemon=True, name=f"text-{lm.info.name}")
        self.process.start()
        theirs.close()
        self.jobs: dict[int, _Job] = {}
        self.lock = threading.Lock()
        self.ids = itertools.count()
        threading.Thread(target=self._read, daemon=True, name=f"text-{lm.info.name}-relay").start()

    @property
    def idle(self) -> bool:
        return not self.jobs

    def retire(self) -> None:
        """End the worker once it has no request left (at once if it has none)."""
        with self.lock:
            self.retired = True
            if self.jobs:
                return
        # Asked, not hung up on: closing a pipe that `_read` is blocked on would not wake either side.
        self._send(("quit",))

    def submit(self, job: _Job) -> None:
        job_id = next(self.ids)
        with self.lock:
            if self.dead:
                job.finish(error=RuntimeError("the model's process has ended"))
                return
            self.jobs[job_id] = job
        job.on_stop = lambda: self._send(("stop", job_id))
        self._send(("start", job_id, job.context, job.remaining, job.settings))

    def _send(self, message) -> None:
        try:
            with self.lock:
                self.conn.send(message)
        except OSError:
            pass  # the worker has ended; `_read` finishes its requests

    def _read(self) -> None:
        reason = "the model's process has ended"
        while True:
            try:
                message = self.conn.recv()
            except (EOFError, OSError):
                break
            if message[0] == "tokens":
                self.jobs[message[1]].out.put(message[2])
            elif message[0] == "end":
                with self.lock:
                    job = self.jobs.pop(message[1])
                    last = self.retired and not self.jobs
                job.finish(message[2], None if message[3] is None else RuntimeError(message[3]))
                if last:
                    self._send(("quit",))
            elif message[0] == "failed":
                reason = message[1]
                break
        with self.lock:
            self.dead = True
            ended, self.jobs = list(self.jobs.values()), {}
            self.conn.close()
        for job in ended:
            job.finish(error=RuntimeError(reason))
