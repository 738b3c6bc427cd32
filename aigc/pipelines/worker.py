"""Pictures drawn in a process of its own, beside the web server rather than in its threads.

The server's threads share one interpreter lock with Gradio's own work for every request
(routing, the queue, files). A model's Python glue among them slows every other request, and
theirs slow it: with eight clients at once the server ran at one full core while the machine's
second core sat partly idle. A worker process has a lock of its own; the server only waits
for the result and moves the progress bar. Text has its own worker (`text_worker`), which
batches requests token by token.

`run(fn, ...)` calls `fn` in the worker when the app turned it on (`serve_in_process`), else
in the caller's thread. Either way the call runs as a web request: model names are built-in
names or Hub ids (`names_from_the_web`) and the server's size limits apply. `fn` must be a
module-level function (it travels by name) and its result must pickle: paths, numbers, text.
"""

from __future__ import annotations

import itertools
import multiprocessing
import pickle
import queue
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

from .. import limits, registry
from ..errors import AigcError
from ..progress import reporting

# Calls at once in the worker: as many as the picture endpoints let in together (their concurrency
# limits; a test keeps count), so that Gradio's queue decides who waits, not a full worker. An idle
# thread costs nothing, and each endpoint's own limit still bounds how many of its calls share the cores.
THREADS = 16
ENDED = "The process that draws pictures ended before it answered; please try again."


def _serve(conn, threads: int) -> None:
    """The worker: run each call it is sent in one of `threads` threads until the pipe closes."""
    lock = threading.Lock()

    def send(message) -> None:
        with lock:
            conn.send(message)

    def run(call_id: int, payload: bytes) -> None:
        try:
            current, fn, args, kwargs = pickle.loads(payload)
            limits.current = current  # every call brings the server's limits, which are the same for all
            with registry.names_from_the_web(), reporting(lambda done, total: send(("progress", call_id, done, total))):
                message = ("done", call_id, fn(*args, **kwargs))
        except AigcError as exc:
            message = ("error", call_id, AigcError(str(exc)))
        except BaseException as exc:  # noqa: BLE001 - told to the server, which tells the user
            message = ("error", call_id, RuntimeError(f"{type(exc).__name__}: {exc}"))
        try:
            send(message)
        except Exception as exc:  # noqa: BLE001 - a result that does not pickle
            send(("error", call_id, RuntimeError(f"the result could not be sent back ({exc})")))

    with ThreadPoolExecutor(threads, thread_name_prefix="draw") as pool:
        while True:
            try:
                call_id, payload = conn.recv()
            except (EOFError, OSError):  # the server ended
                break
            pool.submit(run, call_id, payload)


class Worker:
    """In the server: calls answered by a worker process, started on first use and again if it ends."""

    def __init__(self, threads: int = THREADS):
        self.threads = threads
        self.lock = threading.Lock()
        self.conn = None
        self.process = None
        self.calls: dict[int, tuple[Any, queue.SimpleQueue]] = {}  # call id: (its pipe, its messages)
        self.ids = itertools.count()

    def start(self) -> None:
        with self.lock:
            self._start()

    def _start(self) -> None:
        if self.conn is not None:
            return
        context = multiprocessing.get_context("spawn")  # a fork of a threaded server is not safe
        self.conn, theirs = context.Pipe()
        self.process = context.Process(target=_serve, args=(theirs, self.threads), daemon=True, name="aigc-draw")
        self.process.start()
        theirs.close()
        threading.Thread(target=self._read, args=(self.conn,), daemon=True, name="aigc-draw-relay").start()

    def call(self, fn: Callable, *args, progress: Callable[[int, int], None] | None = None, **kwargs):
        payload = pickle.dumps((limits.current, fn, args, kwargs))
        box: queue.SimpleQueue = queue.SimpleQueue()
        with self.lock:
            self._start()
            call_id, conn = next(self.ids), self.conn
            self.calls[call_id] = (conn, box)
            try:
                conn.send((call_id, payload))
            except OSError:
                box.put(("error", AigcError(ENDED)))
        try:
            while True:
                kind, *rest = box.get()
                if kind == "progress":
                    if progress is not None:
                        progress(*rest)
                elif kind == "done":
                    return rest[0]
                else:
                    raise rest[0]
        finally:
            with self.lock:
                self.calls.pop(call_id, None)

    def _read(self, conn) -> None:
        while True:
            try:
                kind, call_id, *rest = conn.recv()
            except (EOFError, OSError):
                break
            with self.lock:
                _, box = self.calls.get(call_id, (None, None))
            if box is not None:
                box.put((kind, *rest))
        with self.lock:  # the worker ended: its calls fail, and the next call starts a new one
            if self.conn is conn:
                self.conn = None
            orphans = [box for pipe, box in self.calls.values() if pipe is conn]
        conn.close()
        for box in orphans:
            box.put(("error", AigcError(ENDED)))


_worker: Worker | None = None


def serve_in_process(on: bool = True, warm: tuple[tuple[str, str], ...] = ()) -> None:
    """Draw in a worker process from now on (the app turns this on; the library draws in
    threads). `warm`: (model, task) pairs that the process loads at once, in the background,
    so that the first request finds it started and its model loaded."""
    global _worker
    _worker = Worker() if on else None
    if _worker is not None:
        _worker.start()
        for name, task in warm:
            threading.Thread(target=_quietly, args=(_worker, name, task), daemon=True).start()


def _load(name: str, task: str) -> None:
    registry.load(name, task)


def _quietly(worker: Worker, name: str, task: str) -> None:
    try:
        worker.call(_load, name, task)
    except Exception:  # noqa: BLE001 - a model missing from this copy: the first request says so
        pass


def run(fn: Callable, *args, progress: Callable[[int, int], None] | None = None, **kwargs):
    """`fn(*args, **kwargs)` as a web request, in the worker process if there is one; each step
    of a step-by-step generation calls `progress(done, total)` in the caller's thread."""
    if _worker is not None:
        return _worker.call(fn, *args, progress=progress, **kwargs)
    with registry.names_from_the_web(), reporting(progress):
        return fn(*args, **kwargs)
