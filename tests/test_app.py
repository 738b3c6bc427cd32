"""The app as its users reach it: over HTTP with gradio_client, and from the command line."""

import subprocess
import sys

import pytest
from gradio_client import Client

import app


@pytest.fixture(scope="module")
def client(app_url):
    return Client(app_url, verbose=False)


@pytest.mark.slow  # several seconds on 2 cores: worker processes, an app or a training run
def test_generate_text_streams_through_gradio_client(client):
    job = client.submit("ROMEO.\n", "shakespeare-gpt", 200, 0.8, 50, 0.95, 11, api_name="/generate_text")
    updates = [text for text, _ in job]
    assert len(updates) >= 5
    assert all(updates[i + 1].startswith(updates[i]) for i in range(len(updates) - 1))  # text only grows
    final_text, notes = job.result()
    assert final_text.startswith("ROMEO.\n") and len(final_text) > len("ROMEO.\n") + 20
    assert "Seed 11" in notes


def test_the_endpoint_is_reproducible_and_matches_the_python_api(client):
    import aigc

    first = client.predict("KING.", "shakespeare-gpt", 40, 0.8, 50, 0.95, 3, api_name="/generate_text")[0]
    second = client.predict("KING.", "shakespeare-gpt", 40, 0.8, 50, 0.95, 3, api_name="/generate_text")[0]
    assert first == second == "KING." + aigc.generate_text("KING.", max_new_tokens=40, seed=3)


@pytest.mark.parametrize("args, words", [
    (("A", "no/such-model", 10, 0.8, 50, 0.95, 1), "not in the local cache"),
    (("A", "shakespeare-gpt", 100000, 0.8, 50, 0.95, 1), "max_new_tokens|maximum value 1000"),
    (("A", "shakespeare-gpt", 10, 9.0, 50, 0.95, 1), "temperature|maximum value 2"),
    (("A", "../../etc/passwd", 10, 0.8, 50, 0.95, 1), "Unknown model"),
])
def test_bad_input_gets_one_sentence_and_the_server_keeps_serving(client, args, words):
    with pytest.raises(Exception, match=words):
        client.predict(*args, api_name="/generate_text")
    text, _ = client.predict("A", "shakespeare-gpt", 5, 0.8, 50, 0.95, 1, api_name="/generate_text")
    assert text.startswith("A")


def test_app_flags():
    args = app.parse_args(["--host", "0.0.0.0", "--port", "9000", "--share", "--auth", "u:p", "--public"])
    assert (args.host, args.port, args.share, args.auth, args.public) == ("0.0.0.0", 9000, True, "u:p", True)


@pytest.mark.slow  # three Python processes, each importing torch
def test_cli_lists_and_generates():
    listed = subprocess.run([sys.executable, "-m", "aigc", "list", "text"], capture_output=True, text=True, timeout=120)
    assert listed.returncode == 0 and "shakespeare-gpt" in listed.stdout
    gen = subprocess.run([sys.executable, "-m", "aigc", "generate", "text", "HAMLET.", "--max-new-tokens", "30", "--seed", "1"],
                         capture_output=True, text=True, timeout=120)
    assert gen.returncode == 0 and gen.stdout.startswith("HAMLET.") and len(gen.stdout) > 20
    bad = subprocess.run([sys.executable, "-m", "aigc", "generate", "text", "x", "--temperature", "-2"],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and bad.stderr.strip().startswith("error: temperature")
    assert "Traceback" not in bad.stderr


def _gallery_pixels(gallery):
    import numpy as np
    from PIL import Image

    return [np.asarray(Image.open(item["image"] if isinstance(item, dict) else item[0])) for item in gallery]


def test_generate_images_through_gradio_client(client):
    import numpy as np
    from PIL import Image

    gallery, grid, notes = client.predict("dcgan-digits", 8, 5, 25, "dpm++", api_name="/generate_images")
    assert len(gallery) == 8 and "Seed 5" in notes
    with Image.open(grid) as picture:  # 8 enlarged samples in one row, with padding
        assert picture.width > 8 * 32 * 4 and picture.height > 32 * 4
    again, _, _ = client.predict("dcgan-digits", 8, 5, 25, "dpm++", api_name="/generate_images")
    first, second = _gallery_pixels(gallery), _gallery_pixels(again)
    assert all(np.array_equal(a, b) for a, b in zip(first, second))
    assert not np.array_equal(first[0], first[1])


@pytest.mark.parametrize("args, words", [
    (("dcgan-digits", 0, 1, 25, "dpm++"), "number of images must be between 1|less than minimum value 1"),
    (("dcgan-digits", 8, 1, 25, "euler-magic"), "Unknown scheduler|not in the list of choices"),
    (("../../etc", 8, 1, 25, "dpm++"), "Unknown model"),
    (("ddpm-digits", 4, 1, 100000, "dpm++"), "steps must be between 1|greater than maximum value"),
])
def test_bad_image_requests_get_one_sentence(client, args, words):
    with pytest.raises(Exception, match=words):
        client.predict(*args, api_name="/generate_images")
    gallery, _, _ = client.predict("vae-digits", 2, 1, 25, "dpm++", api_name="/generate_images")
    assert len(gallery) == 2


@pytest.mark.parametrize("name", ["checkpoints/image/dcgan-digits", "../main/checkpoints/text/shakespeare-gpt", "/tmp"])
def test_the_app_never_loads_a_folder_named_by_the_caller(client, name):
    with pytest.raises(Exception, match="not folders on the server|Unknown model"):
        client.predict(name, 2, 1, 25, "ddim", api_name="/generate_images")
    with pytest.raises(Exception, match="not folders on the server|Unknown model"):
        client.predict("A", name, 5, 0.8, 50, 0.95, 1, api_name="/generate_text")


@pytest.mark.slow  # several seconds on 2 cores: worker processes, an app or a training run
def test_generate_conditional_through_gradio_client(client):
    gallery, grid, notes = client.predict("7", "cgan-digits", 16, 3.0, 5, 25, "", 512, 512, api_name="/generate_conditional")
    assert len(gallery) == 16 and "Seed 5" in notes and grid.endswith(".png")
    gallery, _, _ = client.predict("a large red star in the top right", "text2img-shapes", 4, 3.0, 5, 25, "", 512, 512,
                                   api_name="/generate_conditional")
    assert len(gallery) == 4 and _gallery_pixels(gallery)[0].shape[-1] == 3  # RGB
    gallery, _, notes = client.predict("cgan-digits", 3.0, 2, 25, api_name="/show_all_labels")
    assert len(gallery) == 60 and "one row per label" in notes  # six per label, one gallery row each


@pytest.mark.parametrize("args, words", [
    (("a red dragon", "text2img-shapes"), "does not know 'dragon'; it knows: red"),
    (("", "text2img-shapes"), "Type a caption"),
    (("red " * 2500, "text2img-shapes"), "10,000 characters long"),
    (("11", "cgan-digits"), "'11' is not a label of 'cgan-digits'"),
    (("7", "../../etc"), "Unknown model"),
    (("7", "checkpoints/conditional/cgan-digits"), "not folders on the server|Unknown model"),
    (("a cat", "someone/uncached-text-to-image"), "not in the local cache"),
])
def test_bad_conditional_requests_get_one_sentence(client, args, words):
    with pytest.raises(Exception, match=words):
        client.predict(*args, 4, 3.0, 1, 25, "", 512, 512, api_name="/generate_conditional")
    gallery, _, _ = client.predict("3", "cgan-digits", 2, 3.0, 1, 25, "", 512, 512, api_name="/generate_conditional")
    assert len(gallery) == 2


@pytest.mark.parametrize("guidance, steps", [(-1, 25), (31, 25), (3.0, 0), (3.0, 100_000)])
def test_conditional_numbers_out_of_range_are_refused(client, guidance, steps):
    with pytest.raises(Exception, match="guidance scale|steps must be|less than minimum|greater than maximum"):
        client.predict("3", "cddpm-digits", 2, guidance, 1, steps, "", 512, 512, api_name="/generate_conditional")


def test_uploads_that_are_not_images_or_are_huge_are_one_sentence(client, tmp_path):
    from gradio_client import handle_file
    from PIL import Image

    fake = tmp_path / "photo.png"
    fake.write_text("not a picture at all")
    huge = tmp_path / "huge.png"
    Image.new("RGB", (6000, 5000)).save(huge)
    for upload, words in ((fake, "not a picture this app can read"), (huge, "6000x5000 pixels; the limit")):
        with pytest.raises(Exception, match=words):
            client.predict(handle_file(str(upload)), "a cat", "stabilityai/sd-turbo", 0.6, 0.0, 1, 2, "",
                           api_name="/image_to_image")
    gallery, _, _ = client.predict("3", "cgan-digits", 2, 3.0, 1, 25, "", 512, 512, api_name="/generate_conditional")
    assert len(gallery) == 2


# -- Video: these use the shipped text2video-shapes --------------------------------------------------

VIDEO_ARGS = ("a large red star in the top right moving left", "text2video-shapes", 16, 8, 5, 25, 9.0)


def _video_path(value) -> str:
    return value["video"] if isinstance(value, dict) else value  # gr.Video answers {"video": path, "subtitles": ...}


def test_generate_video_through_gradio_client(client):
    from PIL import Image

    from conftest import probe_video

    video, gif, strip, notes = client.predict(*VIDEO_ARGS, api_name="/generate_video")
    info = probe_video(_video_path(video))
    assert (info["codec"], info["pix_fmt"], info["frames"], info["fps"]) == ("h264", "yuv420p", 16, 8.0)
    assert info["width"] >= 256 and "Seed 5 · 16 frames" in notes
    with Image.open(gif) as clip:
        assert clip.n_frames == 16 and clip.info["loop"] == 0
    with Image.open(strip) as picture:  # two rows of eight enlarged frames
        assert picture.width > 8 * 32 * 4 and picture.height > 2 * 32 * 4
    again = client.predict(*VIDEO_ARGS[:2], 6, 4, 5, 25, 9.0, api_name="/generate_video")[0]
    assert probe_video(_video_path(again))["frames"] == 6


@pytest.mark.parametrize("changes, words", [
    ({0: "a red dragon"}, "does not know 'dragon'; it knows: red"),
    ({0: ""}, "Type a caption"),
    ({0: "red " * 2500}, "10,000 characters long"),
    ({2: 1}, "number of frames must be|less than minimum"),
    ({2: 17}, "number of frames must be between 2 and 16"),
    ({3: 0}, "fps must be|less than minimum"),
    ({3: 31}, "fps must be|greater than maximum"),
    ({1: "../../etc"}, "Unknown model"),
    ({1: "checkpoints/video/text2video-shapes"}, "not folders on the server|Unknown model"),
    ({1: "someone/uncached-text-to-video"}, "not in the local cache"),
])
def test_bad_video_requests_get_one_sentence(client, changes, words):
    args = [changes.get(i, value) for i, value in enumerate(VIDEO_ARGS)]
    with pytest.raises(Exception, match=words):
        client.predict(*args, api_name="/generate_video")
    notes = client.predict("blue circle", "text2video-shapes", 2, 8, 1, 25, 9.0, api_name="/generate_video")[-1]
    assert "Seed 1 · 2 frames" in notes
