"""The Ray Serve engine: each role a deployment of `replicas` replicas, on this machine or a cluster.

Only `python app.py --ray` (and the tests and bench that ask for it) imports this module, and
with it Ray: the other engines never do. A replica is what a local worker process is
(aigc.serving.local): it sets its role up once and runs each call in a thread of its own pool,
as a web request, with the same worker-side functions (aigc.serving.calls). What differs is
the way there and back: a call travels through a Serve handle, and everything a call sends
back - its progress, a stream's items, then its result or error - comes as one streamed
response (`handle.options(stream=True)`), read in the caller's thread.

- Replicas: Serve routes each call to a replica of its role with few calls running. One that
  dies fails the calls it held (`aigc.serving.ended`, as the local engine does) and Serve
  starts another; calls routed elsewhere do not notice.
- GPUs: where the cluster has them, each replica asks for one (a fair share when there are
  fewer GPUs than replicas, so that every replica starts); Ray then shows it only its own.
- Stopping a stream: its reader's `close()` must reach the very replica that runs it, and the
  stream must go on to its last events (a text's finish reason), so cancelling the Serve
  request will not do. A small actor (`_Stops`) holds a flag per stream that the replica waits on.
- Files: a result names files written in the worker's outputs folder (pictures, clips). A
  replica on another machine than the server sends their bytes with the result, and the
  server writes them into its own outputs folder (`_pack`, `_unpack`).
- Batching: no `@serve.batch`. Text is already batched inside the writer, token by token
  (aigc.pipelines.text.Batcher): a request joins a running batch at its next step and leaves
  it when done, where a Serve batch is fixed once formed: a request that arrives meanwhile
  waits for the whole batch to end. A page of pictures is one call with its own model, size, seed and steps: pages do not
  stack into one batch without the pipeline's help, and waiting to gather them only delays each.

See docs/architecture.md.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import os
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, Iterator

import ray
from ray import serve
from ray.exceptions import RayActorError

from .. import limits as limits_
from ..errors import AigcError
from ..limits import Limits
from ..paths import OUTPUTS
from ..progress import Stop
from .engine import ROLES, check_role, ended, quietly
from .calls import answer, error, relay, set_up
from .local import THREADS

START_ATTEMPTS = 3
QUIET = {"log_level": "WARNING"}  # Serve's own INFO lines (every replica's start, every request) would fill the log


class Replica:
    """One replica of a role (a Serve deployment's class). Each method is an async generator that Serve
    streams back: the call runs in a thread of the replica's pool, and its events cross to the event loop."""

    def __init__(self, role: str, threads: int):
        set_up(check_role(role))
        self.pool = ThreadPoolExecutor(threads, thread_name_prefix=role)

    async def call(self, limits: Limits, fn: Callable, args: tuple, kwargs: dict, caller_node: str):
        """("progress", done, total) at each step, then ("done", result, files) or ("error", exception)."""
        events = _Events()

        def run() -> None:
            kind, value = answer(limits, fn, args, kwargs, lambda done, total: events.put(("progress", done, total)))
            if kind == "done":
                try:
                    events.put(("done", *_pack(value, caller_node)))
                except OSError as exc:  # a file it named went missing: the caller must not wait forever
                    events.put(("error", error(exc)))
            else:
                events.put((kind, value))

        self.pool.submit(run)
        async for event in events:
            yield event

    async def stream(self, limits: Limits, fn: Callable, args: tuple, kwargs: dict, stops, stream_id: str):
        """("item", item) for each item the generator yields, then ("done", None) or ("error", exception).
        The generator is stopped when its reader says so (`stops`) or the response is dropped."""
        events, stop = _Events(), Stop()

        def run() -> None:
            events.put(relay(limits, fn, args, kwargs, stop, lambda item: events.put(("item", item))))

        async def stop_when_asked() -> None:
            if await stops.wait.remote(stream_id):
                stop()

        watch = asyncio.ensure_future(stop_when_asked())
        self.pool.submit(run)
        try:
            async for event in events:
                yield event
        finally:
            stop()  # the reader is gone (Serve cancelled the response), or the generator has ended anyway
            stops.forget.remote(stream_id)  # ends the wait above
            watch.cancel()


class _Events:
    """The events of one call, put by the thread that runs it and read on the replica's event loop,
    up to the last one ("done" or "error")."""

    def __init__(self):
        self.loop = asyncio.get_running_loop()
        self.queue: asyncio.Queue = asyncio.Queue()

    def put(self, event: tuple) -> None:
        self.loop.call_soon_threadsafe(self.queue.put_nowait, event)

    async def __aiter__(self):
        while True:
            event = await self.queue.get()
            yield event
            if event[0] in ("done", "error"):
                return


@ray.remote(num_cpus=0, max_concurrency=10_000)
class _Stops:
    """A flag per running stream: its replica waits on it, its reader raises it (`RayStream.close`)."""

    def __init__(self):
        self.flags: dict[str, tuple[asyncio.Event, list[bool]]] = {}

    def _flag(self, stream_id: str) -> tuple[asyncio.Event, list[bool]]:
        return self.flags.setdefault(stream_id, (asyncio.Event(), [False]))

    async def wait(self, stream_id: str) -> bool:
        """Until the stream is stopped (True) or forgotten (False)."""
        event, stopped = self._flag(stream_id)
        await event.wait()
        self.flags.pop(stream_id, None)
        return stopped[0]

    async def stop(self, stream_id: str) -> None:
        event, stopped = self._flag(stream_id)
        stopped[0] = True
        event.set()

    async def forget(self, stream_id: str) -> None:
        event, _ = self.flags.get(stream_id, (None, None))
        if event is not None:
            event.set()


def _read(fn: Callable, *args):
    """`fn(*args)`, which blocks on a Serve response: in this thread unless an asyncio loop runs in it."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return fn(*args)
    with ThreadPoolExecutor(1, thread_name_prefix="ray-read") as pool:
        return pool.submit(fn, *args).result()


def _node() -> str:
    return ray.get_runtime_context().get_node_id()


def _paths(value: Any) -> Iterator[str | Path]:
    """Every str or Path in a result made of tuples, lists and dicts."""
    if isinstance(value, (str, Path)):
        yield value
    elif isinstance(value, (tuple, list)):
        for item in value:
            yield from _paths(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _paths(item)


def _pack(result: Any, caller_node: str, outputs: Path = OUTPUTS, here: str | None = None) -> tuple[Any, dict]:
    """In a replica: `result`, and when the caller is on another machine the files it names in this
    worker's outputs folder, as {path here: (path under outputs, bytes)}."""
    if (here or _node()) == caller_node:
        return result, {}
    files = {}
    for value in _paths(result):
        path = Path(value)
        if path.is_absolute() and path.is_relative_to(outputs) and path.is_file():
            files[str(value)] = (path.relative_to(outputs).as_posix(), path.read_bytes())
    return result, files


def _unpack(result: Any, files: dict, outputs: Path = OUTPUTS) -> Any:
    """In the caller: the files a replica sent written under this server's outputs folder, and `result`
    naming them there."""
    if not files:
        return result
    moved = {}
    for there, (relative, data) in files.items():
        path = outputs / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        moved[there] = path

    def rename(value: Any) -> Any:
        if isinstance(value, (str, Path)) and str(value) in moved:
            return type(value)(moved[str(value)])
        if isinstance(value, (tuple, list)):
            return type(value)(rename(item) for item in value)
        if isinstance(value, dict):
            return {key: rename(item) for key, item in value.items()}
        return value

    return rename(result)


def _connect(address: str | None, replicas: int, options: dict) -> str | None:
    """Join or start Ray: "started" (a Ray instance of this engine's own, here), "joined" (a running one)
    or None (this process was connected already: whoever connected it ends it). `address`: None or "local",
    a new Ray instance here; "auto", the one running on this machine if any, else a new one; "HOST:PORT",
    a cluster's head. `options`: more of ray.init's, for a new instance."""
    if ray.is_initialized():
        return None
    if address == "auto":
        try:
            ray.init(address="auto", logging_level="WARNING")
            return "joined"
        except ConnectionError:
            address = None
    if address not in (None, "local"):
        ray.init(address=address, logging_level="WARNING")
        return "joined"
    # Logical CPUs: each replica asks for one, and every role's replicas must start even on a small machine.
    options = {"include_dashboard": False, "num_cpus": max(os.cpu_count() or 1, len(ROLES) * replicas), **options}
    for attempt in range(1, START_ATTEMPTS + 1):
        try:
            ray.init(address="local", logging_level="WARNING", **options)
            break
        except Exception:  # a busy machine can miss Ray's own deadline for a new node to register: start again
            ray.shutdown()
            if attempt == START_ATTEMPTS:
                raise
    return "started"


class RayStream:
    """A Stream (aigc.serving.Stream) whose generator runs in a replica."""

    def __init__(self, role: str, response, stops, stream_id: str):
        self.role, self.response, self.stops, self.stream_id = role, response, stops, stream_id
        self.finished = False

    def __iter__(self):
        return self

    def __next__(self):
        if self.finished:
            raise StopIteration
        try:
            kind, value = _read(next, self.response)
        except RayActorError:
            self.finished = True
            raise AigcError(ended(self.role)) from None
        except StopIteration:
            self.finished = True
            raise
        if kind == "item":
            return value
        self.finished = True
        if kind == "done":
            raise StopIteration
        raise value

    def close(self) -> None:
        if not self.finished:
            self.stops.stop.remote(self.stream_id)


class RayEngine:
    """An engine whose roles (aigc.serving.ROLES) are Ray Serve deployments of `replicas` replicas each.

    `address`: None or "local" starts a Ray instance here; "auto" joins the one running on this machine,
    else starts one; "HOST:PORT" joins a cluster (every machine of it needs this project installed, with its
    checkpoints). `ray_init`: more options for ray.init when the engine starts Ray here (num_cpus,
    object_store_memory). `close()` removes the deployments and ends what this engine started."""

    def __init__(self, address: str | None = None, replicas: int = 1, limits: Limits = limits_.PRIVATE,
                 threads: int = THREADS, ray_init: dict | None = None):
        if replicas < 1:
            raise ValueError("replicas must be at least 1")
        self.limits, self.replicas = limits, replicas
        logging.getLogger("ray.serve").setLevel(logging.WARNING)  # here too: each deploy and delete is logged
        self.connection = _connect(address, replicas, ray_init or {})
        self.node = _node()
        self.prefix = f"aigc-{uuid.uuid4().hex[:8]}"  # two servers on one cluster keep to their own apps
        self.stops = _Stops.remote()
        serve.start(proxy_location="Disabled", logging_config=QUIET)  # the web app is Gradio's: no Serve HTTP
        gpus = ray.cluster_resources().get("GPU", 0)
        share = min(1.0, gpus / (len(ROLES) * replicas)) if gpus else 0
        options = {"num_cpus": 1, **({"num_gpus": share} if share else {})}
        self.handles: dict[str, Any] = {}
        for role in ROLES:
            deployment = serve.deployment(Replica).options(
                name=role, num_replicas=replicas, max_ongoing_requests=threads, ray_actor_options=options)
            handle = serve.run(deployment.bind(role, threads), name=self.app(role), route_prefix=None,
                               logging_config=QUIET)
            self.handles[role] = handle
        # Serve's applications outlive the process that deployed them: a server that ends without closing
        # its engine would leave its replicas, and their GPUs, taken on the cluster.
        atexit.register(self.close)

    def app(self, role: str) -> str:
        return f"{self.prefix}-{role}"

    def call(self, role: str, fn: Callable, /, *args, progress: Callable[[int, int], None] | None = None, **kwargs):
        handle = self.handles[check_role(role)].options(stream=True, method_name="call")
        response = handle.remote(self.limits, fn, args, kwargs, self.node)
        return _read(self._answer, role, response, progress)

    @staticmethod
    def _answer(role: str, response, progress: Callable[[int, int], None] | None):
        try:
            for kind, *rest in response:
                if kind == "progress":
                    if progress is not None:
                        progress(*rest)
                elif kind == "done":
                    return _unpack(*rest)
                else:
                    raise rest[0]
        except RayActorError:  # the replica died: Serve starts another for the next calls
            raise AigcError(ended(role)) from None
        raise AigcError(ended(role))  # the response ended without an answer

    def stream(self, role: str, fn: Callable, /, *args, **kwargs) -> RayStream:
        stream_id = uuid.uuid4().hex
        handle = self.handles[check_role(role)].options(stream=True, method_name="stream")
        response = handle.remote(self.limits, fn, args, kwargs, self.stops, stream_id)
        return RayStream(role, response, self.stops, stream_id)

    def warm(self, role: str, fn: Callable, /, *args, **kwargs) -> None:
        """`fn` once per replica, at once: Serve sends calls to the replicas with the fewest running, so
        each replica gets one (a model loads in each)."""
        check_role(role)
        for _ in range(self.replicas):
            threading.Thread(target=quietly, args=(self.call, role, fn, args, kwargs), daemon=True,
                             name=f"warm-{role}").start()

    def close(self) -> None:
        if not self.handles:
            return
        self.handles = {}
        atexit.unregister(self.close)
        for role in ROLES:
            serve.delete(self.app(role))
        ray.kill(self.stops)
        if self.connection == "started":
            serve.shutdown()
        if self.connection is not None:  # a cluster's own Serve stays, for its other applications
            ray.shutdown()
