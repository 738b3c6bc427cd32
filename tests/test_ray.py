"""Ray Serve as the engine (aigc.serving.ray) on a local Ray instance that this module starts: the
app's endpoints answer through it, streams stop when their reader says so, and a replica killed
under load is replaced while the calls it held, and only those, fail."""

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from aigc import limits
from aigc.errors import AigcError
from aigc.pipelines import image, text
from aigc.progress import Steps

import test_serving
from test_serving import _count, _listening  # the same two streams the local engine is tested with

import ray  # an optional extra (pip install -e .[scale]) that requirements-dev.txt installs


def _held(seconds: float, steps: int = 10) -> int:
    """A call that takes `seconds`, reporting `steps` steps, and says which process ran it."""
    for _ in Steps(range(steps)):
        threading.Event().wait(seconds / steps)
    return os.getpid()


def _held_noting(seconds: float, note: str) -> int:
    """_held, having first written down (in the file `note`) which process runs it."""
    Path(note).write_text(str(os.getpid()))
    return _held(seconds)


def _refuse():
    raise AigcError("Choose a run first.")


@pytest.fixture(scope="module")
def engine():
    """Two replicas of each role on a Ray instance of the engine's own: four logical CPUs (one per replica)
    on whatever cores there are, and a small object store (what travels is paths and text)."""
    from aigc.serving.ray import RayEngine

    # The replicas cannot import the test modules: their functions travel by value.
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    ray.cloudpickle.register_pickle_by_value(test_serving)
    engine = RayEngine(None, replicas=2, ray_init={"num_cpus": 4, "object_store_memory": 100 * 2**20,
                                                  "log_to_driver": False})
    assert engine.connection == "started" and ray.is_initialized()
    try:
        yield engine
    finally:
        engine.close()
    assert not ray.is_initialized()  # close() ended the Ray instance it started


@pytest.mark.slow
def test_calls_run_in_replicas_under_the_engines_limits_and_their_steps_reach_the_caller(engine):
    seen = []
    assert engine.call("draw", _held, 0.1, 3, progress=lambda done, total: seen.append((done, total))) != os.getpid()
    assert seen == [(1, 3), (2, 3), (3, 3)]
    assert engine.call("write", limits.current) == engine.limits == limits.PRIVATE
    with pytest.raises(AigcError, match="Choose a run first"):  # a user's sentence arrives as it was said
        engine.call("draw", _refuse)
    with pytest.raises(AigcError, match="not folders on the server"):  # names are read as the web's
        engine.call("draw", image.generate_images, str(image.load("dcgan-digits", "image").info.location))
    samples, grid, seconds = engine.call("draw", image.draw, image.generate_images, "ray", model="dcgan-digits",
                                         num_images=3, seed=5)
    assert len(samples) == 3 and Path(grid).stat().st_size > 0 and seconds > 0

    async def from_a_coroutine():  # Ray's blocking reads refuse a thread whose asyncio loop runs
        return engine.call("draw", _held, 0.05, 1), list(engine.stream("write", _count, 3))

    with ThreadPoolExecutor(1) as pool:
        pid, counted = pool.submit(asyncio.run, from_a_coroutine()).result()
    assert pid != os.getpid() and counted == [0, 1, 2]


@pytest.mark.slow
def test_a_stream_stops_in_its_own_replica_and_still_says_how_it_ended(engine):
    assert list(engine.stream("write", _count, 5)) == [0, 1, 2, 3, 4]
    for _ in range(4):  # each reader reaches the replica that runs its stream, whichever of the two
        told = engine.stream("write", _listening, 100_000)
        assert next(told) == 0
        told.close()
        rest = list(told)
        assert rest[-1] == "stopped" and len(rest) < 1000
    events = list(engine.stream("write", text.write, "ROMEO.\n", model="shakespeare-gpt", max_new_tokens=12, seed=3))
    assert isinstance(events[0], text.Prompt) and events[0].shown == "ROMEO.\n"
    assert isinstance(events[-1], text.Finish) and events[-1].tokens == 12 and events[-1].reason == "length"
    chunks = events[1:-1]
    assert chunks and all(isinstance(c, str) for c in chunks) and len("".join(chunks)) > 0
    with pytest.raises(AigcError, match="Unknown model"):
        list(engine.stream("write", text.write, "A", model="no-such-model/../../etc"))


@pytest.mark.slow
def test_every_endpoint_of_the_app_answers_through_ray_serve(engine):
    from gradio_client import Client

    from aigc.net import free_port
    from aigc.ui import build_demo

    demo = build_demo(engine)
    demo.queue(default_concurrency_limit=2)
    port = free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    try:
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        job = client.submit("ROMEO.\n", "shakespeare-gpt", 60, 0.8, 50, 0.95, 11, api_name="/generate_text")
        updates = [written for written, _ in job]
        written, notes = job.result()
        assert len(updates) >= 2 and written.startswith("ROMEO.\n") and len(written) > len("ROMEO.\n") and "11" in notes
        gallery, grid, _ = client.predict("dcgan-digits", 4, 5, 25, "ddim", api_name="/generate_images")
        assert len(gallery) == 4 and Path(grid).stat().st_size > 0
        job, seen = client.submit("ddpm-digits", 2, 0, 8, "ddim", api_name="/generate_images"), set()
        while not job.done():  # the replica's denoising steps reach the page's progress bar
            seen |= {(p.index, p.length) for p in job.status().progress_data or []}
            time.sleep(0.01)
        assert len(job.result()[0]) == 2 and {n for _, n in seen} == {8}, seen
        assert Path(client.predict("dcgan-digits", 0, 1, 4, api_name="/latent_walk")).stat().st_size > 0
        assert all(Path(p).stat().st_size > 0 for p in client.predict("vae-digits", api_name="/reconstruct"))
        gallery, _, _ = client.predict("7", "cgan-digits", 2, 3.0, 1, 25, "", 512, 512,
                                       api_name="/generate_conditional")
        assert len(gallery) == 2
        gallery, _, _ = client.predict("cgan-digits", 3.0, 1, 25, api_name="/show_all_labels")
        assert len(gallery) >= 10
        video, gif, strip, notes = client.predict("a large red star in the top right moving left", "text2video-shapes",
                                                  4, 8, 5, 25, 9.0, api_name="/generate_video")
        assert Path(video["video"] if isinstance(video, dict) else video).stat().st_size > 0 and "4 frames" in notes
        with pytest.raises(Exception, match="not in the local cache"):  # an error in a replica is the page's sentence
            client.predict("no-such-model", 2, 1, 25, "ddim", api_name="/generate_images")
    finally:
        demo.close()


@pytest.mark.slow
def test_a_replica_killed_under_load_is_replaced_and_only_the_calls_it_held_fail(engine, tmp_path):
    from ray import serve

    from aigc.serving import ended

    app = engine.app("draw")

    def running() -> int:
        return serve.status().applications[app].deployments["draw"].replica_states.get("RUNNING", 0)

    def replica_actors() -> list[str]:
        return sorted(a["name"] for a in ray.util.list_named_actors(all_namespaces=True)
                      if a["name"].startswith(f"SERVE_REPLICA::{app}#draw#"))

    answers: dict[int, object] = {}

    def ask(index: int, seconds: float) -> None:
        try:
            answers[index] = engine.call("draw", _held_noting, seconds, str(tmp_path / str(index)))
        except AigcError as exc:
            answers[index] = exc

    before = replica_actors()
    assert len(before) == 2 and running() == 2
    held = [threading.Thread(target=ask, args=(i, 6.0)) for i in range(8)]
    for thread in held:
        thread.start()
    time.sleep(2.0)  # every one is running now (16 calls at once fit in a replica)
    ran_in = {i: int((tmp_path / str(i)).read_text()) for i in range(8)}
    victim = ran_in[0]  # Serve spreads calls as it sees fit: the victim is whichever replica runs the first
    os.kill(victim, signal.SIGKILL)
    later = [threading.Thread(target=ask, args=(100 + i, 0.3)) for i in range(8)]
    for thread in later:  # calls keep coming while the replica is gone
        thread.start()
        time.sleep(0.2)
    for thread in held + later:
        thread.join(120)
    failed = {i for i, answer in answers.items() if isinstance(answer, AigcError)}
    assert all(str(answers[i]) == ended("draw") for i in failed)
    assert failed == {i for i, pid in ran_in.items() if pid == victim}, (ran_in, answers)  # those it held, only
    survivors = {answer for answer in answers.values() if not isinstance(answer, AigcError)}
    assert victim not in survivors and len(survivors) == 1, answers  # later calls went to the other replica
    deadline = time.monotonic() + 180
    while (running() < 2 or len(replica_actors()) < 2) and time.monotonic() < deadline:
        time.sleep(1)
    after = replica_actors()
    assert running() == 2 and len(set(after) - set(before)) == 1 and len(set(before) - set(after)) == 1
    pids = set()
    for _ in range(3):  # the new replica takes calls too
        threads = [threading.Thread(target=ask, args=(200 + i, 0.5)) for i in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        pids = {answers[200 + i] for i in range(6)}
        if len(pids - survivors) == 1:
            break
    assert len(pids - survivors) == 1 and not any(isinstance(p, AigcError) for p in pids), pids


def test_files_a_replica_wrote_on_another_machine_reach_the_servers_outputs(tmp_path):
    from aigc.serving.ray import _pack, _unpack

    there, here = tmp_path / "worker-outputs", tmp_path / "server-outputs"
    (there / "images").mkdir(parents=True)
    picture, grid = there / "images" / "a-01.png", there / "images" / "a-grid.png"
    picture.write_bytes(b"one")
    grid.write_bytes(b"grid")
    result = ([str(picture)], grid, 0.5, "not a path")
    same, files = _pack(result, caller_node="server", outputs=there, here="server")
    assert same is result and files == {}  # same machine: the server reads the worker's files as they are
    packed, files = _pack(result, caller_node="server", outputs=there, here="worker")
    moved = _unpack(packed, files, outputs=here)
    assert moved == ([str(here / "images" / "a-01.png")], here / "images" / "a-grid.png", 0.5, "not a path")
    assert (here / "images" / "a-01.png").read_bytes() == b"one" and moved[1].read_bytes() == b"grid"


@pytest.mark.slow  # importing the app (gradio, torch) takes seconds of CPU
def test_without_ray_nothing_imports_it():
    check = ("import app, aigc.serving, aigc.ui, sys; from aigc import limits; "
             "[app.build_engine(app.parse_args(flags), limits.PRIVATE) for flags in ([], ['--one-process'])]; "
             "assert 'ray' not in sys.modules, 'ray imported'")
    done = subprocess.run([sys.executable, "-c", check], cwd=Path(__file__).resolve().parent.parent,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
