"""The worker process that draws pictures for the app (aigc.pipelines.worker)."""

import os
import signal
import threading

import pytest

from aigc import limits
from aigc.errors import AigcError
from aigc.pipelines import image, worker
from aigc.progress import Steps


def _where_and_steps(n: int):
    for _ in Steps(range(n)):
        pass
    return os.getpid()


def _hang(seconds: float):
    threading.Event().wait(seconds)


@pytest.fixture
def drawer():
    w = worker.Worker(threads=2)
    yield w
    if w.process is not None:
        w.process.kill()


def test_a_call_runs_in_another_process_and_its_steps_reach_the_caller(drawer):
    seen = []
    assert drawer.call(_where_and_steps, 3, progress=lambda done, total: seen.append((done, total))) != os.getpid()
    assert seen == [(1, 3), (2, 3), (3, 3)]


def test_the_worker_keeps_the_servers_limits_and_reads_names_as_the_web_does(drawer, tmp_path):
    limits.set_public(True)
    try:
        with pytest.raises(AigcError, match="number of images"):
            drawer.call(image.generate_images, "dcgan-digits", num_images=limits.PUBLIC.max_images + 1)
    finally:
        limits.set_public(False)
    assert len(drawer.call(image.generate_images, "dcgan-digits", num_images=limits.PUBLIC.max_images + 1)) == 17
    # a folder on the server is a name a stranger typed, not a model to load
    with pytest.raises(AigcError, match="not folders on the server"):
        drawer.call(image.generate_images, image.load("dcgan-digits", "image").info.location)


def test_draw_writes_each_sample_and_a_grid_under_names_nobody_can_guess(drawer):
    samples, grid, seconds = drawer.call(image.draw, image.generate_images, "../../dcgan-seed5", model="dcgan-digits",
                                         num_images=3, seed=5)
    from PIL import Image

    from aigc.paths import OUTPUTS

    assert len(samples) == 3 and seconds > 0
    for path in [*samples, grid]:
        assert os.path.dirname(path) == str(OUTPUTS / "images")  # "../" stays in the name's letters, never the path
        assert len(os.path.basename(path).rsplit("-", 1)[1]) == len("0123456789abcdef.png")
    assert Image.open(samples[0]).size == (32 * image.DISPLAY_SCALE,) * 2
    assert len(set(samples)) == 3


def test_a_worker_that_dies_fails_its_calls_with_a_sentence_and_the_next_call_starts_another(drawer):
    failed = []

    def wait():
        try:
            drawer.call(_hang, 60)
        except AigcError as exc:
            failed.append(str(exc))

    waiting = threading.Thread(target=wait)
    waiting.start()
    while not drawer.calls:
        threading.Event().wait(0.05)
    first = drawer.process
    os.kill(first.pid, signal.SIGKILL)
    waiting.join(30)
    assert failed == [worker.ENDED]
    assert drawer.call(_where_and_steps, 1) not in (os.getpid(), first.pid)


def test_without_a_worker_a_call_runs_here_as_a_web_request():
    assert worker._worker is None  # the library draws in the caller's thread; the app turns the worker on
    seen = []
    assert worker.run(_where_and_steps, 2, progress=lambda done, total: seen.append(done)) == os.getpid()
    assert seen == [1, 2]
    folder = image.load("dcgan-digits", "image").info.location
    assert len(image.generate_images(folder, num_images=1)) == 1  # the library loads folders
    with pytest.raises(AigcError, match="not folders on the server"):
        worker.run(image.generate_images, folder)


def test_every_picture_endpoint_draws_in_the_worker(monkeypatch, tmp_path):
    """The server's own copies of the drawing functions are broken here: the endpoints still
    answer, because the worker process draws (a latent walk, a reconstruction, all labels, a
    clip; a Hub image-to-image or inpainting, whose sentences come back from there)."""
    import gradio as gr
    from PIL import Image

    from aigc.pipelines import conditional, video
    from aigc.ui import conditional_tab, image_tab, video_tab

    def broken(*args, **kwargs):
        raise AssertionError("drawn in the server's thread")

    for module, name in [(image, "latent_walk"), (image, "reconstruct"), (conditional, "label_rows"), (video, "make_clip"),
                         (conditional, "open_image")]:
        monkeypatch.setattr(module, name, broken)
    fake = tmp_path / "photo.png"
    fake.write_text("not a picture")
    worker.serve_in_process(True)
    try:
        walk = image_tab.walk("dcgan-digits", 1, 2, 4)
        original, copy = image_tab.reconstruct("vae-digits")
        bar = lambda *args, **kwargs: None  # noqa: E731 - no page here
        shown, grid, notes = conditional_tab.show_all_labels("cgan-digits", 0.0, 3, 1, progress=bar)
        mp4, gif, strip, clip_notes = video_tab.generate_video("red circle moving left", "text2video-shapes", 8, 4, 1, 1, 0.0,
                                                               progress=bar)
        with pytest.raises(gr.Error, match="not a picture this app can read"):
            conditional_tab.image_to_image(str(fake), "a cat", "stabilityai/sd-turbo", 0.6, 0.0, 1, 2, "", progress=bar)
        with pytest.raises(gr.Error, match="Upload an image"):
            conditional_tab.inpaint(None, "a cat", "stabilityai/sd-turbo", 0.6, 0.0, 1, 2, "", progress=bar)
    finally:
        drawer, worker._worker = worker._worker, None
        drawer.process.kill()
    assert Image.open(walk).n_frames == 4 + 2  # there, and back without repeating the ends
    assert Image.open(original).size == Image.open(copy).size == (32 * image.DISPLAY_SCALE,) * 2
    assert [label for _, label in shown] == [str(d) for d in range(10) for _ in range(conditional_tab.PER_LABEL)]
    assert Image.open(shown[0][0]).size == (32 * image.DISPLAY_SCALE,) * 2 and os.path.isfile(grid)
    assert "one row per label (0, 1, 2" in notes
    assert os.path.getsize(mp4) > 0 and Image.open(gif).n_frames == 8
    assert Image.open(strip).size == ((8 * (32 + 2) + 2) * image.DISPLAY_SCALE, (32 + 2 + 2) * image.DISPLAY_SCALE)  # one row of 8
    assert clip_notes.startswith("Seed 1 · 8 frames") and "2.0 s of video at 4 fps" in clip_notes


def test_the_worker_runs_every_call_the_picture_endpoints_let_in_at_once():
    from aigc.ui import build_demo

    drawn_there = {"generate_images", "walk", "reconstruct", "generate_conditional", "show_all_labels", "image_to_image",
                   "inpaint", "generate_video"}
    try:
        for public in (True, False):
            events = [f for f in build_demo(public=public).fns.values() if getattr(f.fn, "__name__", None) in drawn_there]
            assert {f.fn.__name__ for f in events} == drawn_there
            limits_by_group = {f.concurrency_id: f.concurrency_limit for f in events}  # a click and its Enter key share one
            assert all(isinstance(n, int) for n in limits_by_group.values()), limits_by_group
            assert sum(limits_by_group.values()) <= worker.THREADS
    finally:
        limits.set_public(False)  # build_demo set the process's limits
