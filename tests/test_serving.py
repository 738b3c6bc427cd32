"""The serving seam (aigc.serving): engines that run the app's calls in its threads or in a worker
process per role, as web requests under the server's limits."""

import inspect
import os
import signal
import threading

import pytest

from aigc import limits
from aigc.errors import AigcError
from aigc.pipelines import image, text
from aigc.progress import Steps, on_stop
from aigc.serving import ROLES, InThreads, LocalEngine, ended
from aigc.serving.local import THREADS


def _where_and_steps(n: int):
    for _ in Steps(range(n)):
        pass
    return os.getpid()


def _hang(seconds: float):
    threading.Event().wait(seconds)


def _limits_here():
    return limits.current()


def _count(n: int):
    """A stream that does not listen for a stop: it is closed at its next yield."""
    for i in range(n):
        threading.Event().wait(0.01)
        yield i


def _listening(n: int):
    """A stream that listens for a stop: it ends by itself and says so."""
    stopped = threading.Event()
    on_stop(stopped.set)
    for i in range(n):
        if stopped.is_set():
            break
        threading.Event().wait(0.01)
        yield i
    yield "stopped" if stopped.is_set() else "ended"


_WARMED = []


def _warm_slowly(seconds: float):
    threading.Event().wait(seconds)
    _WARMED.append(seconds)


def _warmed():
    return list(_WARMED)


def _no_run(request=None):
    raise AigcError("Choose a run first.")


@pytest.fixture
def local():
    engine = LocalEngine(threads=2)
    yield engine
    engine.close()


@pytest.mark.slow  # several seconds on 2 cores: worker processes, an app or a training run
def test_a_call_runs_in_another_process_and_its_steps_reach_the_caller(local):
    seen = []
    steps = lambda done, total: seen.append((done, total))  # noqa: E731
    assert local.call("draw", _where_and_steps, 3, progress=steps) != os.getpid()
    assert seen == [(1, 3), (2, 3), (3, 3)]
    assert local.call("write", _where_and_steps, 1) not in (os.getpid(), local.workers["draw"].process.pid)


@pytest.mark.slow  # several seconds on 2 cores: worker processes, an app or a training run
def test_the_worker_keeps_the_servers_limits_and_reads_names_as_the_web_does():
    public = LocalEngine(limits.PUBLIC, threads=2)
    try:
        assert public.call("draw", _limits_here) == limits.PUBLIC
        with pytest.raises(AigcError, match="number of images"):
            public.call("draw", image.generate_images, "dcgan-digits", num_images=limits.PUBLIC.max_images + 1)
    finally:
        public.close()
    private = LocalEngine(threads=2)
    try:
        assert len(private.call("draw", image.generate_images, "dcgan-digits",
                                num_images=limits.PUBLIC.max_images + 1)) == limits.PUBLIC.max_images + 1
        # a folder on the server is a name a stranger typed, not a model to load
        with pytest.raises(AigcError, match="not folders on the server"):
            private.call("draw", image.generate_images, image.load("dcgan-digits", "image").info.location)
    finally:
        private.close()
    assert limits.current() == limits.PRIVATE  # the caller's own limits never changed


def test_limits_hold_for_one_call_only_never_for_the_process():
    public = InThreads(limits.for_server(True, training=False))
    assert public.call("draw", _limits_here) == limits.for_server(True, training=False)
    assert limits.current() == limits.PRIVATE and InThreads().call("write", _limits_here) == limits.PRIVATE
    seen = {}

    def ask(name, engine):
        seen[name] = [engine.call("draw", _limits_here) for _ in range(200)]

    threads = [threading.Thread(target=ask, args=(name, engine)) for name, engine in
               (("public", public), ("private", InThreads()))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert set(seen["public"]) == {public.limits} and set(seen["private"]) == {limits.PRIVATE}


@pytest.mark.slow  # several seconds on 2 cores: worker processes, an app or a training run
def test_draw_writes_each_sample_and_a_grid_under_names_nobody_can_guess(local):
    samples, grid, seconds = local.call("draw", image.draw, image.generate_images, "../../dcgan-seed5",
                                        model="dcgan-digits", num_images=3, seed=5)
    from PIL import Image

    from aigc.paths import OUTPUTS

    assert len(samples) == 3 and seconds > 0
    for path in [*samples, grid]:
        assert os.path.dirname(path) == str(OUTPUTS / "images")  # "../" stays in the name's letters, never the path
        assert len(os.path.basename(path).rsplit("-", 1)[1]) == len("0123456789abcdef.png")
    assert Image.open(samples[0]).size == (32 * image.DISPLAY_SCALE,) * 2
    assert len(set(samples)) == 3


@pytest.mark.slow  # several seconds on 2 cores: worker processes, an app or a training run
@pytest.mark.parametrize("role", list(ROLES))
def test_a_worker_that_dies_fails_its_calls_with_a_sentence_and_the_next_call_starts_another(local, role):
    failed = []

    def wait_for_call():
        try:
            local.call(role, _hang, 60)
        except AigcError as exc:
            failed.append(str(exc))

    def wait_for_stream():
        try:
            list(local.stream(role, _count, 100_000))
        except AigcError as exc:
            failed.append(str(exc))

    worker = local.workers[role]
    waiting = [threading.Thread(target=wait_for_call), threading.Thread(target=wait_for_stream)]
    for thread in waiting:
        thread.start()
    while len(worker.pending) < 2:
        threading.Event().wait(0.05)
    first = worker.process
    os.kill(first.pid, signal.SIGKILL)
    for thread in waiting:
        thread.join(30)
    assert failed == [ended(role)] * 2 and ended(role).endswith("ended before it answered; please try again.")
    assert local.call(role, _where_and_steps, 1) not in (os.getpid(), first.pid)
    assert list(local.stream(role, _count, 3)) == [0, 1, 2]


def test_a_warm_up_ends_before_any_later_call_starts(local):
    """The app warms each worker (loads its model) as the page opens, and the first request may come
    at once. Run beside it, that request's imports met the warm-up's inside the same libraries."""
    local.warm("draw", _warm_slowly, 1.0)
    assert local.call("draw", _warmed) == [1.0]
    local.warm("draw", _no_run)  # a warm-up that fails says nothing, and the worker serves on
    assert local.call("draw", _warmed) == [1.0]


@pytest.mark.parametrize("engine", [InThreads, LocalEngine])
def test_a_stream_yields_in_order_and_stops_early_when_closed(engine):
    engine = engine()
    try:
        assert list(engine.stream("write", _count, 5)) == [0, 1, 2, 3, 4]
        deaf = engine.stream("write", _count, 100_000)
        assert next(iter(deaf)) == 0
        deaf.close()  # it does not listen: it is closed at its next yield (what was already sent still arrives)
        assert len(list(deaf)) < 1000  # of 100,000, at 10 ms each
        told = engine.stream("write", _listening, 100_000)
        assert next(iter(told)) == 0
        told.close()  # it listens: it ends by itself and still says how it ended
        assert list(told)[-1] == "stopped"
        with pytest.raises(AigcError, match="Unknown model"):
            list(engine.stream("write", text.write, "A", model="no-such-model/../../etc"))
    finally:
        engine.close()


def test_without_a_worker_a_call_runs_here_as_a_web_request():
    engine = InThreads()
    seen = []
    assert engine.call("draw", _where_and_steps, 2, progress=lambda done, total: seen.append(done)) == os.getpid()
    assert seen == [1, 2]
    folder = image.load("dcgan-digits", "image").info.location
    assert len(image.generate_images(folder, num_images=1)) == 1  # the library loads folders
    with pytest.raises(AigcError, match="not folders on the server"):
        engine.call("draw", image.generate_images, folder)
    with pytest.raises(ValueError, match="unknown role"):
        engine.call("sing", _where_and_steps, 1)


@pytest.mark.slow  # several seconds on 2 cores: worker processes, an app or a training run
def test_every_picture_endpoint_draws_in_the_worker(monkeypatch, tmp_path, local):
    """The server's own copies of the drawing functions are broken here: the endpoints still
    answer, because the worker process draws (a latent walk, a reconstruction, all labels, a
    clip; a Hub image-to-image or inpainting, whose sentences come back from there)."""
    import gradio as gr
    from PIL import Image

    from aigc.pipelines import conditional, video
    from aigc.ui import conditional_tab, image_tab, video_tab
    from aigc.ui.endpoint import endpoint

    def broken(*args, **kwargs):
        raise AssertionError("drawn in the server's thread")

    for module, name in [(image, "latent_walk"), (image, "reconstruct"), (conditional, "label_rows"), (video, "make_clip"),
                         (conditional, "open_image")]:
        monkeypatch.setattr(module, name, broken)
    fake = tmp_path / "photo.png"
    fake.write_text("not a picture")
    walk = endpoint(local, image_tab.walk)("dcgan-digits", 1, 2, 4)
    original, copy = endpoint(local, image_tab.reconstruct)("vae-digits")
    bar = lambda *args, **kwargs: None  # noqa: E731 - no page here
    shown, grid, notes = endpoint(local, conditional_tab.show_all_labels, seeds=("seed",))("cgan-digits", 0.0, 3, 1,
                                                                                            progress=bar)
    mp4, gif, strip, clip_notes = endpoint(local, video_tab.generate_video, seeds=("seed",))(
        "red circle moving left", "text2video-shapes", 8, 4, 1, 1, 0.0, progress=bar)
    with pytest.raises(gr.Error, match="not a picture this app can read"):
        endpoint(local, conditional_tab.image_to_image)(str(fake), "a cat", "stabilityai/sd-turbo", 0.6, 0.0, 1, 2, "",
                                                        progress=bar)
    with pytest.raises(gr.Error, match="Upload an image"):
        endpoint(local, conditional_tab.inpaint)(None, "a cat", "stabilityai/sd-turbo", 0.6, 0.0, 1, 2, "",
                                                 progress=bar)
    assert Image.open(walk).n_frames == 4 + 2  # there, and back without repeating the ends
    assert Image.open(original).size == Image.open(copy).size == (32 * image.DISPLAY_SCALE,) * 2
    assert [label for _, label in shown] == [str(d) for d in range(10) for _ in range(conditional_tab.PER_LABEL)]
    assert Image.open(shown[0][0]).size == (32 * image.DISPLAY_SCALE,) * 2 and os.path.isfile(grid)
    assert "one row per label (0, 1, 2" in notes
    assert os.path.getsize(mp4) > 0 and Image.open(gif).n_frames == 8
    assert Image.open(strip).size == ((8 * (32 + 2) + 2) * image.DISPLAY_SCALE, (32 + 2 + 2) * image.DISPLAY_SCALE)  # one row of 8
    assert clip_notes.startswith("Seed 1 · 8 frames") and "2.0 s of video at 4 fps" in clip_notes


def test_the_endpoint_wrapper_resolves_seeds_and_says_errors_in_the_pages_language():
    import gradio as gr

    from aigc.ui.endpoint import endpoint, seed_or_random

    def echo(seed, request=None, *, engine):
        return seed, engine.limits.max_images, limits.current().max_images

    public = InThreads(limits.PUBLIC)
    wrapped = endpoint(public, echo, seeds=("seed",))
    assert list(inspect.signature(wrapped).parameters) == ["seed", "request"] and wrapped.__name__ == "echo"
    assert wrapped(7) == (7, limits.PUBLIC.max_images, limits.PUBLIC.max_images)
    drawn = {wrapped(-1)[0] for _ in range(5)} | {wrapped(None)[0] for _ in range(5)}
    assert len(drawn) > 1 and all(isinstance(s, int) and s >= 0 for s in drawn)
    assert seed_or_random(3.0) == 3
    zh = type("Page", (), {"cookies": {"aigc-lang": "zh-CN"}})()
    with pytest.raises(gr.Error, match="seed must be -1"):
        wrapped(-5)
    with pytest.raises(gr.Error, match="请先选择一个训练任务"):
        endpoint(public, _no_run)(zh)
    from aigc.ui.i18n import translate

    assert all("请再试一次" in translate(ended(role), "zh") for role in ROLES)  # a worker that ended, said in Chinese


def test_the_worker_runs_every_call_the_picture_endpoints_let_in_at_once():
    from aigc.ui import build_demo

    drawn_there = {"generate_images", "walk", "reconstruct", "generate_conditional", "show_all_labels", "image_to_image",
                   "inpaint", "generate_video"}
    for public in (True, False):
        events = [f for f in build_demo(public=public).fns.values() if getattr(f.fn, "__name__", None) in drawn_there]
        assert {f.fn.__name__ for f in events} == drawn_there
        limits_by_group = {f.concurrency_id: f.concurrency_limit for f in events}  # a click and its Enter key share one
        assert all(isinstance(n, int) for n in limits_by_group.values()), limits_by_group
        assert sum(limits_by_group.values()) <= THREADS
    assert limits.current() == limits.PRIVATE  # building a public page changed no one's limits
