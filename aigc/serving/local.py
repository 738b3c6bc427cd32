"""The local engine: one worker process per role, beside the web server rather than in its threads.

The server's threads share one interpreter lock with Gradio's own work for every request
(routing, the queue, files). A model's Python glue among them slows every other request, and
theirs slow it; a text model's `generate` loop, mostly Python, waits for that lock while other
requests hold it. A worker process has a lock of its own: the server only relays results,
progress and tokens. See docs/architecture.md.

`WorkerProcess` is the one worker abstraction: it starts the process (multiprocessing "spawn":
a fork of a threaded server is not safe), numbers calls, relays what they report (progress,
streamed items, the result or the error) and has one restart policy: when the process ends,
the calls it held fail with one sentence (`aigc.serving.ended`) and the next call starts a new
process. In the worker, each call runs in a thread of a pool, as a web request.
"""

from __future__ import annotations

import itertools
import multiprocessing
import pickle
import queue
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

from .. import limits as limits_
from ..errors import AigcError
from ..limits import Limits
from ..progress import Stop
from . import calls
from .engine import ROLES, check_role, ended

# Calls at once in a worker: as many as the endpoints of a role let in together (their concurrency
# limits; a test keeps count), so that Gradio's queue decides who waits, not a full worker. An idle
# thread costs nothing, and each endpoint's own limit still bounds how many of its calls share the cores.
THREADS = 16


def _serve(conn, role: str, threads: int) -> None:
    """The worker: run each call it is sent in one of `threads` threads until the pipe closes."""
    calls.set_up(role)
    lock = threading.Lock()
    stops: dict[int, Stop] = {}  # the streams running, by call id

    def send(message) -> None:
        try:
            with lock:
                conn.send(message)
        except OSError:
            pass  # the server ended
        except Exception as exc:  # noqa: BLE001 - an item or result that does not pickle
            with lock:
                conn.send(("error", message[1], RuntimeError(f"the answer could not be sent back ({exc})")))

    def answer(call_id: int, call: tuple) -> None:
        try:
            progress = lambda done, total: send(("progress", call_id, done, total))  # noqa: E731
            kind, value = calls.answer(*call, progress)
        except BaseException as exc:  # noqa: BLE001 - told to the caller
            kind, value = "error", calls.error(exc)
        send((kind, call_id, value))

    def relay(call_id: int, call: tuple, stop: Stop) -> None:
        try:
            kind, value = calls.relay(*call, stop, lambda item: send(("item", call_id, item)))
        except BaseException as exc:  # noqa: BLE001 - told to the caller
            kind, value = "error", calls.error(exc)
        finally:
            with lock:
                stops.pop(call_id, None)
        send((kind, call_id, value))

    with ThreadPoolExecutor(threads, thread_name_prefix=role) as pool:
        while True:
            try:
                kind, call_id, payload = conn.recv()
            except (EOFError, OSError):  # the server ended
                break
            if kind in ("call", "stream", "warm"):
                # Unpickled here, one call at a time: unpickling a function imports its module, and the
                # libraries' lazy modules (transformers, diffusers) fail when two threads import them at once.
                try:
                    call = pickle.loads(payload)  # (limits, fn, args, kwargs)
                except BaseException as exc:  # noqa: BLE001 - a function this process cannot import
                    send(("error", call_id, calls.error(exc)))
                    continue
            if kind == "warm":
                # Here too, before the next message is read, for the same reason: loading a model imports
                # much of its library, and the calls that arrive meanwhile would unpickle beside it.
                calls.answer(*call)  # its errors too are the first request's to say
            elif kind == "call":
                pool.submit(answer, call_id, call)
            elif kind == "stream":
                with lock:
                    stops[call_id] = stop = Stop()
                pool.submit(relay, call_id, call, stop)
            elif kind == "stop":
                with lock:
                    stop = stops.get(call_id)
                if stop is not None:
                    stop()
        with lock:
            running = list(stops.values())
        for stop in running:  # nobody reads them any more
            stop()


class WorkerProcess:
    """In the server: one role's worker process, started on first use and again after it ends."""

    def __init__(self, role: str, threads: int = THREADS):
        self.role, self.threads = check_role(role), threads
        self.lock = threading.Lock()
        self.conn = None
        self.process = None
        self.pending: dict[int, tuple[Any, queue.SimpleQueue]] = {}  # call id: (its pipe, its messages)
        self.ids = itertools.count()

    def start(self) -> None:
        with self.lock:
            self._start()

    def _start(self) -> None:
        if self.conn is not None:
            return
        context = multiprocessing.get_context("spawn")
        self.conn, theirs = context.Pipe()
        self.process = context.Process(target=_serve, args=(theirs, self.role, self.threads), daemon=True,
                                       name=f"aigc-{self.role}")
        self.process.start()
        theirs.close()
        threading.Thread(target=self._read, args=(self.conn,), daemon=True, name=f"aigc-{self.role}-relay").start()

    def _send(self, kind: str, limits: Limits, fn: Callable, args: tuple,
              kwargs: dict) -> tuple[int, queue.SimpleQueue]:
        payload = pickle.dumps((limits, fn, args, kwargs))  # here, so that what does not pickle fails in the caller
        box: queue.SimpleQueue = queue.SimpleQueue()
        with self.lock:
            self._start()
            call_id, conn = next(self.ids), self.conn
            self.pending[call_id] = (conn, box)
            try:
                conn.send((kind, call_id, payload))
            except OSError:
                box.put(("error", AigcError(ended(self.role))))
        return call_id, box

    def call(self, limits: Limits, fn: Callable, args: tuple, kwargs: dict,
             progress: Callable[[int, int], None] | None = None):
        call_id, box = self._send("call", limits, fn, args, kwargs)
        try:
            while True:
                kind, *rest = box.get()
                if kind == "progress":
                    if progress is not None:
                        progress(*rest)
                elif kind == "done":
                    return rest[0]
                elif kind == "error":
                    raise rest[0]
        finally:
            self._forget(call_id)

    def stream(self, limits: Limits, fn: Callable, args: tuple, kwargs: dict) -> "RemoteStream":
        return RemoteStream(self, *self._send("stream", limits, fn, args, kwargs))

    def warm(self, limits: Limits, fn: Callable, args: tuple, kwargs: dict) -> None:
        """Start the process and have it run `fn` before any later call; nobody waits for its answer."""
        call_id, _ = self._send("warm", limits, fn, args, kwargs)
        self._forget(call_id)

    def stop(self, call_id: int) -> None:
        """Tell the worker that the reader of stream `call_id` stopped it."""
        with self.lock:
            conn = self.pending.get(call_id, (None,))[0]
            if conn is not None:
                try:
                    conn.send(("stop", call_id, None))
                except OSError:
                    pass  # the worker ended: `_read` fails the stream

    def _forget(self, call_id: int) -> None:
        with self.lock:
            self.pending.pop(call_id, None)

    def _read(self, conn) -> None:
        while True:
            try:
                kind, call_id, *rest = conn.recv()
            except (EOFError, OSError):
                break
            with self.lock:
                _, box = (self.pending.pop if kind in ("done", "error") else self.pending.get)(call_id, (None, None))
            if box is not None:
                box.put((kind, *rest))
        with self.lock:  # the worker ended: its calls fail, and the next call starts a new one
            if self.conn is conn:
                self.conn = None
            orphans = [call_id for call_id, (pipe, _) in self.pending.items() if pipe is conn]
            boxes = [self.pending.pop(call_id)[1] for call_id in orphans]
        conn.close()
        for box in boxes:
            box.put(("error", AigcError(ended(self.role))))

    def close(self) -> None:
        """End the process (its calls fail as when it dies); a later call starts another."""
        with self.lock:
            process = self.process
        if process is not None and process.is_alive():
            process.terminate()
            process.join(10)


class RemoteStream:
    """A Stream (aigc.serving.Stream) whose generator runs in a worker process."""

    def __init__(self, worker: WorkerProcess, call_id: int, box: queue.SimpleQueue):
        self.worker, self.call_id, self.box = worker, call_id, box
        self.finished = False

    def __iter__(self):
        return self

    def __next__(self):
        if self.finished:
            raise StopIteration
        kind, *rest = self.box.get()
        if kind == "item":
            return rest[0]
        self.finished = True
        if kind == "done":
            raise StopIteration
        raise rest[0]

    def close(self) -> None:
        if not self.finished:
            self.worker.stop(self.call_id)


class LocalEngine:
    """An engine with one worker process per role (aigc.serving.ROLES), each started on first use."""

    def __init__(self, limits: Limits = limits_.PRIVATE, threads: int = THREADS):
        self.limits = limits
        self.workers = {role: WorkerProcess(role, threads) for role in ROLES}

    def call(self, role: str, fn: Callable, /, *args, progress: Callable[[int, int], None] | None = None, **kwargs):
        return self.workers[check_role(role)].call(self.limits, fn, args, kwargs, progress)

    def stream(self, role: str, fn: Callable, /, *args, **kwargs) -> RemoteStream:
        return self.workers[check_role(role)].stream(self.limits, fn, args, kwargs)

    def warm(self, role: str, fn: Callable, /, *args, **kwargs) -> None:
        self.workers[check_role(role)].warm(self.limits, fn, args, kwargs)

    def close(self) -> None:
        for worker in self.workers.values():
            worker.close()
